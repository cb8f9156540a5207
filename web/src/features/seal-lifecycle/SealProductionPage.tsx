import { useEffect, useRef, useState, type FormEvent } from 'react';
import {
  api,
  ApiError,
  newIdempotencyKey,
  SEAL_KINDS,
  SEAL_TYPES,
  type Person,
  type ProductionDraft,
  type SealKind,
  type SealType,
} from '../../api';
import { CompanySelect } from '../companies/CompanySelect';
import { Field } from '../../ui/Field';
import { Icon } from '../../ui/Icons';
import { PageHeader } from '../../ui/PageHeader';
import { PeopleField, useSealAdminsOver } from '../../ui/PeopleField';
import { PlanPreview, usePlanPreview } from '../approvals/PlanView';
import { ProblemMessage } from '../../ui/ProblemMessage';
import {
  newDesign,
  SEAL_TYPE_SHAPE,
  SEAL_TYPE_TEXT,
  SealDesigner,
  storeDesign,
  type SealDesign,
} from '../seals/SealDesigner';
import { useToast } from '../../ui/Toast';
import { useDirectory } from '../users/directory';
import { useMutation } from '../../hooks';
import { sealKindName, sealTypeName, useI18n } from '../../i18n';
import { Link, navigate } from '../../router';
import { useCan, useSession } from '../../session';

const typeText = SEAL_TYPE_TEXT;
const typeShape = SEAL_TYPE_SHAPE;

const CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;

/**
 * 印章制作申请: the seal's particulars, its impression (designed with a live preview, or
 * uploaded), its custodians and the reason. The seal exists only once the application is
 * approved; the designed impression is stored when the application is sent.
 */
export function SealProductionPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const { me } = useSession();
  const can = useCan();
  const directory = useDirectory();
  const notify = useToast();
  const canManage = (id: string) => can('seals.manage', id);
  const firstCompany = canManage(me.company.id)
    ? me.company.id
    : (directory.ordered.find((c) => canManage(c.id))?.id ?? '');

  const [companyId, setCompanyId] = useState(firstCompany);
  const [name, setName] = useState('');
  const [code, setCode] = useState('');
  const [kind, setKind] = useState<SealKind>('electronic');
  const [type, setType] = useState<SealType>('contract');
  const [customType, setCustomType] = useState('');
  const [description, setDescription] = useState('');
  const [custodians, setCustodians] = useState<Person[]>([]);
  const [reason, setReason] = useState('');
  const companyName = (id: string) => directory.byId.get(id)?.name ?? '';
  const [design, setDesign] = useState<SealDesign>(() =>
    newDesign('round', companyName(firstCompany), typeText.contract),
  );
  const [attempted, setAttempted] = useState(false);
  const idempotencyKey = useRef(newIdempotencyKey());
  const sealAdmins = useSealAdminsOver(companyId);

  // The company list may arrive after the page: then the first company, and its name on the seal.
  useEffect(() => {
    if (!companyId && firstCompany) setCompanyId(firstCompany);
  }, [companyId, firstCompany]);
  const loadedName = companyName(companyId);
  useEffect(() => {
    if (loadedName) setDesign((d) => (d.company ? d : { ...d, company: loadedName }));
  }, [loadedName]);

  // The designer follows the company and the type until its texts are edited by hand.
  const follow = (next: { companyId?: string; type?: SealType; customType?: string }) => {
    const before = {
      company: companyName(companyId),
      text: type === 'custom' ? customType : typeText[type],
      shape: typeShape[type],
    };
    const nextType = next.type ?? type;
    const after = {
      company: companyName(next.companyId ?? companyId),
      text: nextType === 'custom' ? (next.customType ?? customType) : typeText[nextType],
      shape: typeShape[nextType],
    };
    setDesign((d) => ({
      ...d,
      company: d.company === before.company || !d.company ? after.company : d.company,
      type: d.type === before.text || !d.type ? after.text : d.type,
      shape: d.shape === before.shape ? after.shape : d.shape,
    }));
  };

  // Who approves follows the company and the custodians (they stand for the seal's custodians), shown before sending.
  const previewKey =
    companyId && custodians.length > 0 ? JSON.stringify([companyId, custodians.map((c) => c.id).sort()]) : '';
  const preview = usePlanPreview('production', previewKey, (key, signal) => {
    const [company, custodianIds] = JSON.parse(key) as [string, string[]];
    return api.previewProduction({ companyId: company, custodianIds }, signal);
  });

  // The impression is stored first (drawn at full resolution, or the upload already stored), then the application names it.
  const [imageError, setImageError] = useState<ApiError | null>(null);
  const submit = useMutation(
    async () => {
      setImageError(null);
      let imageSha256: string | undefined;
      try {
        imageSha256 = await storeDesign(design);
      } catch (error) {
        setImageError(
          error instanceof ApiError ? error : new ApiError({ status: 0, code: 'network_error', detail: String(error) }),
        );
        throw error;
      }
      const draft: ProductionDraft = {
        companyId,
        name: name.trim(),
        code: code.trim(),
        kind,
        type,
        ...(type === 'custom' ? { customType: customType.trim() } : {}),
        ...(description.trim() ? { description: description.trim() } : {}),
        custodianIds: custodians.map((c) => c.id),
        ...(imageSha256 ? { imageSha256 } : {}),
        reason: reason.trim(),
      };
      return api.applyForProduction(draft, idempotencyKey.current);
    },
    (application) => {
      notify(t('production.submitted'));
      navigate(`/applications/${application.id}`);
    },
  );

  const server = submit.error && !imageError ? submit.error.fieldErrors() : {};
  const problems: Record<string, string> = {};
  if (!companyId) problems.companyId = t('field.required');
  if (!name.trim()) problems.name = t('field.notEmpty');
  if (!CODE_PATTERN.test(code.trim())) problems.code = t('field.sealCode');
  if (type === 'custom' && !customType.trim()) problems.customType = t('field.notEmpty');
  if (custodians.length === 0) problems.custodianIds = t('field.chooseCustodian');
  if (!reason.trim()) problems.reason = t('field.notEmpty');
  if (design.source === 'upload' && !design.uploaded) problems.image = t('field.chooseImage');
  const errorOf = (field: string): string | undefined => (attempted ? problems[field] : undefined) ?? server[field];

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    if (Object.keys(problems).length > 0) {
      requestAnimationFrame(() =>
        document.querySelector('.field-invalid')?.scrollIntoView({ block: 'center', behavior: 'smooth' }),
      );
      return;
    }
    void submit.run();
  };

  return (
    <>
      <Link to="/seals" className="back-link">
        <Icon name="chevron" size={14} className="flip" />
        {t('seal.back')}
      </Link>
      <PageHeader title={t('production.title')} subtitle={t('production.subtitle')} />
      <form className="production" onSubmit={onSubmit} noValidate data-testid="production-form">
        <section className="card">
          <h2>{t('production.particulars')}</h2>
          <div className="form-grid">
            <Field label={t('seal.company')} error={errorOf('companyId')} className="span-2">
              {(p) => (
                <CompanySelect
                  {...p}
                  value={companyId}
                  onChange={(id) => {
                    follow({ companyId: id });
                    setCompanyId(id);
                    setCustodians([]);
                  }}
                  filter={canManage}
                  data-testid="production-company"
                />
              )}
            </Field>
            <Field label={t('seal.type')} error={errorOf('type')}>
              {(p) => (
                <select
                  {...p}
                  className="input"
                  value={type}
                  onChange={(e) => {
                    const next = e.target.value as SealType;
                    follow({ type: next });
                    setType(next);
                  }}
                  data-testid="production-type"
                >
                  {SEAL_TYPES.map((k) => (
                    <option key={k} value={k}>
                      {sealTypeName(i18n, k)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label={t('seal.kind')} error={errorOf('kind')}>
              {(p) => (
                <select
                  {...p}
                  className="input"
                  value={kind}
                  onChange={(e) => setKind(e.target.value as SealKind)}
                  data-testid="production-kind"
                >
                  {SEAL_KINDS.map((k) => (
                    <option key={k} value={k}>
                      {sealKindName(i18n, k)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {type === 'custom' && (
              <Field label={t('production.customType')} error={errorOf('customType')} className="span-2">
                {(p) => (
                  <input
                    {...p}
                    className="input"
                    value={customType}
                    onChange={(e) => {
                      follow({ customType: e.target.value });
                      setCustomType(e.target.value);
                    }}
                    maxLength={40}
                    data-testid="production-custom-type"
                  />
                )}
              </Field>
            )}
            <Field label={t('production.name')} hint={t('production.nameHint')} error={errorOf('name')}>
              {(p) => (
                <input
                  {...p}
                  className="input"
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                  maxLength={100}
                  data-testid="production-name"
                />
              )}
            </Field>
            <Field label={t('seal.code')} hint={t('production.codeHint')} error={errorOf('code')}>
              {(p) => (
                <input
                  {...p}
                  className="input input-mono"
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                  maxLength={40}
                  autoCapitalize="characters"
                  data-testid="production-code"
                />
              )}
            </Field>
            <Field label={t('seal.description')} optional error={errorOf('description')} className="span-2">
              {(p) => (
                <textarea
                  {...p}
                  className="input"
                  rows={2}
                  maxLength={500}
                  value={description}
                  onChange={(e) => setDescription(e.target.value)}
                  data-testid="production-description"
                />
              )}
            </Field>
          </div>
        </section>

        <SealDesigner value={design} onChange={setDesign} problem={imageError} />
        {errorOf('image') && (
          <p className="field-error production-image-error" data-testid="field-error">
            {errorOf('image')}
          </p>
        )}

        <section className="card">
          <PeopleField
            label={t('seal.custodians')}
            hint={t('production.custodiansHint')}
            error={errorOf('custodianIds')}
            value={custodians}
            onChange={setCustodians}
            known={sealAdmins}
            knownLabel={t('production.sealAdmins')}
            testId="production-custodians"
          />
          <Field label={t('apply.reason')} error={errorOf('reason')}>
            {(p) => (
              <textarea
                {...p}
                className="input"
                rows={3}
                maxLength={1000}
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                placeholder={t('production.reasonPlaceholder')}
                data-testid="production-reason"
              />
            )}
          </Field>
        </section>

        <section className="card preview-card">
          <h2>{t('apply.preview')}</h2>
          <PlanPreview state={preview} hint={t('production.previewHint')} testId="production-preview" />
        </section>

        <div className="sticky-actions">
          <ProblemMessage
            error={submit.error && !imageError && Object.keys(server).length === 0 ? submit.error : null}
            testId="production-problem"
          />
          <button
            type="submit"
            className="button button-primary button-block button-large"
            disabled={submit.busy}
            data-testid="production-submit"
          >
            <Icon name="send" size={17} />
            {submit.busy ? t('apply.submitting') : t('production.submit')}
          </button>
        </div>
      </form>
    </>
  );
}
