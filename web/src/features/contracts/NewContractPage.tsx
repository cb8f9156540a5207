import { useMemo, useState, type DragEvent, type FormEvent } from 'react';
import { api, ApiError, STANDARD_CATEGORIES, type DocumentRef } from '../../api';
import { useMutation, useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { Link, navigate } from '../../router';
import { usePermissionSet, useSession } from '../../session';
import { Field } from '../../ui/Field';
import { Icon } from '../../ui/Icons';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useToast } from '../../ui/Toast';
import { CategoryOptions } from '../approvals/ApprovalBadges';
import { useDirectory } from '../users/directory';
import {
  fieldsStillValid,
  newParticipant,
  participantProblems,
  toContractBody,
  type ContractForm,
  type FieldDraft,
  type ParticipantDraft,
} from './draft';
import { FieldPlacer } from './FieldPlacer';
import { ParticipantsEditor, type SealOption } from './ParticipantsEditor';
import { useOpenPdf } from './PdfPages';
import './contracts.css';

const emptyForm: ContractForm = {
  title: '',
  category: '',
  number: '',
  effectiveOn: '',
  expiresOn: '',
  deadline: '',
  remindEveryDays: '',
  documentSha256: '',
};

/** The electronic seals one may name for a company: those granted to me, and the library's when I may read it. */
function useSealOptions(): SealOption[] {
  const canReadSeals = usePermissionSet().has('seals.read');
  const mine = useQuery(['NewContractPage.mySeals'], (signal) => api.mySeals({}, signal));
  const library = useQuery(['NewContractPage.library', canReadSeals], (signal) =>
    canReadSeals ? api.seals({ kind: 'electronic', status: 'active', limit: 500 }, signal) : Promise.resolve(null),
  );
  return useMemo(() => {
    const byId = new Map<string, SealOption>();
    for (const s of [...(mine.data?.items ?? []), ...(library.data?.items ?? [])])
      if (s.kind === 'electronic')
        byId.set(s.id, { id: s.id, name: s.name, code: s.code, companyId: s.companyId, companyName: s.companyName });
    return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
  }, [mine.data, library.data]);
}

/**
 * 发起合同: the PDF, what the contract is, who takes part and in which order, and where each
 * signer's seal or signature goes. It is created as a draft; sending it (on its own page) opens
 * the first step and hands out the outside signers' links.
 */
export function NewContractPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const { me } = useSession();
  const notify = useToast();
  const directory = useDirectory();
  const self = { id: me.user.id, name: me.user.name };
  const seals = useSealOptions();
  const [form, setForm] = useState<ContractForm>(emptyForm);
  const [file, setFile] = useState<File | null>(null);
  const [document, setDocument] = useState<DocumentRef | null>(null);
  const [uploading, setUploading] = useState(false);
  const [uploadError, setUploadError] = useState<ApiError | null>(null);
  const [dropping, setDropping] = useState(false);
  const [participants, setParticipants] = useState<ParticipantDraft[]>(() => [
    newParticipant({ kind: 'company', companyId: me.company.id, person: self }),
  ]);
  const [fields, setFields] = useState<FieldDraft[]>([]);
  const [attempted, setAttempted] = useState(false);
  const pages = useQuery(['NewContractPage.pages', document?.sha256], (signal) =>
    document ? api.documentPages(document.sha256, signal) : Promise.resolve(undefined),
  );
  const { pdf, failed } = useOpenPdf(file);

  const companies = useMemo(() => {
    const list = new Map<string, string>([[me.company.id, me.company.name]]);
    for (const s of seals) list.set(s.companyId, s.companyName);
    return [...list].map(([id, name]) => ({ id, name }));
  }, [seals, me.company]);

  const create = useMutation(
    () => api.createContract(toContractBody(form, participants, fields)),
    (contract) => {
      notify(t('contract.created'));
      navigate(`/contracts/${contract.id}`);
    },
  );

  const set = (patch: Partial<ContractForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    create.reset();
  };
  const changeParticipants = (next: ParticipantDraft[]) => {
    setParticipants(next);
    setFields((list) => fieldsStillValid(list, next));
    create.reset();
  };

  const upload = async (chosen: File | undefined) => {
    if (!chosen) return;
    setUploading(true);
    setUploadError(null);
    create.reset();
    try {
      const stored = await api.uploadDocument(chosen);
      setDocument(stored);
      setFile(chosen);
      setFields([]);
      setForm((f) => ({ ...f, documentSha256: stored.sha256, title: f.title || stored.name.replace(/\.pdf$/i, '') }));
    } catch (error) {
      setUploadError(
        error instanceof ApiError ? error : new ApiError({ status: 0, code: 'network_error', detail: String(error) }),
      );
    } finally {
      setUploading(false);
    }
  };
  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDropping(false);
    void upload(event.dataTransfer.files[0]);
  };

  const nameOf = (p: ParticipantDraft): string => {
    if (p.kind === 'company')
      return (
        directory.byId.get(p.companyId)?.name ??
        companies.find((c) => c.id === p.companyId)?.name ??
        seals.find((s) => s.id === p.sealId)?.companyName ??
        ''
      );
    if (p.kind === 'person') return p.person?.name ?? '';
    return p.kind === 'outside_org' && p.orgName.trim() ? `${p.name}（${p.orgName.trim()}）` : p.name;
  };

  // What the form itself can tell before asking the server, then what the server answered.
  const local: Record<string, string> = {};
  if (!form.title.trim()) local.title = 'is required';
  if (!form.category) local.category = 'must name at least one business category';
  if (!form.documentSha256) local.documentSha256 = 'is required';
  if (form.effectiveOn && form.expiresOn && form.expiresOn < form.effectiveOn)
    local.expiresOn = t('contract.expiresBeforeEffective');
  for (const [key, kind] of Object.entries(participantProblems(participants)))
    local[key] = kind === 'contact' ? t('contract.needContact') : 'is required';
  if (!participants.some((p) => p.role === 'signer')) local.participants = t('contract.needSigner');
  const server = create.error?.fieldErrors() ?? {};
  const problems: Record<string, string> = { ...(attempted ? local : {}), ...server };
  const fieldProblem = Object.entries(server).find(([key]) => key.startsWith('fields'))?.[1];

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    if (Object.keys(local).length > 0) {
      requestAnimationFrame(() =>
        window.document
          .querySelector('.contract-form .field-invalid, .contract-form .field-error')
          ?.scrollIntoView({ block: 'center', behavior: 'smooth' }),
      );
      return;
    }
    void create.run();
  };

  return (
    <>
      <Link to="/contracts" className="back-link" data-testid="back-link">
        <Icon name="chevron" size={14} className="flip" />
        {t('contract.back')}
      </Link>
      <PageHeader title={t('contract.newTitle')} subtitle={t('contract.newSubtitle')} />
      <form className="contract-form" onSubmit={onSubmit} noValidate data-testid="contract-form">
        <section className="card" data-testid="contract-document">
          <h2>{t('contract.document')}</h2>
          <div
            className={`dropzone${dropping ? ' dropping' : ''}${problems.documentSha256 ? ' invalid' : ''}`}
            onDragOver={(e) => {
              e.preventDefault();
              setDropping(true);
            }}
            onDragLeave={() => setDropping(false)}
            onDrop={onDrop}
            data-testid="contract-dropzone"
          >
            {document ? (
              <p className="dropzone-file">
                <Icon name="file" size={20} />
                <span className="document-name" data-testid="contract-document-name">
                  {document.name}
                </span>
                <span className="muted small">
                  {Math.max(1, Math.round(document.size / 1024))} KB
                  {pages.data && <> · {t('contract.pageCount', { n: pages.data.count })}</>}
                </span>
              </p>
            ) : (
              <p className="muted">{t('contract.dropHint')}</p>
            )}
            <label className="button button-small file-button">
              <Icon name="upload" size={16} />
              {uploading ? t('stamp.uploading') : document ? t('stamp.chooseOther') : t('stamp.choosePdf')}
              <input
                type="file"
                accept="application/pdf"
                hidden
                disabled={uploading}
                data-testid="contract-file-input"
                onChange={(e) => void upload(e.target.files?.[0]).then(() => (e.target.value = ''))}
              />
            </label>
          </div>
          {problems.documentSha256 && !document && (
            <p className="field-error" data-testid="field-error">
              {t('field.choosePdf')}
            </p>
          )}
          <ProblemMessage error={uploadError ?? pages.error} testId="contract-upload-problem" />
        </section>

        <section className="card" data-testid="contract-details">
          <h2>{t('contract.details')}</h2>
          <Field label={t('contract.field.title')} error={problems.title}>
            {(p) => (
              <input
                {...p}
                className="input"
                value={form.title}
                maxLength={200}
                onChange={(e) => set({ title: e.target.value })}
                data-testid="contract-title"
              />
            )}
          </Field>
          <div className="form-row">
            <Field label={t('category.label')} hint={t('contract.categoryHint')} error={problems.category}>
              {(p) => (
                <select
                  {...p}
                  className="input"
                  value={form.category}
                  onChange={(e) => set({ category: e.target.value })}
                  data-testid="contract-category"
                >
                  <CategoryOptions categories={STANDARD_CATEGORIES} />
                </select>
              )}
            </Field>
            <Field label={t('contract.field.number')} optional error={problems.number}>
              {(p) => (
                <input
                  {...p}
                  className="input"
                  value={form.number}
                  maxLength={64}
                  onChange={(e) => set({ number: e.target.value })}
                  data-testid="contract-number"
                />
              )}
            </Field>
          </div>
          <div className="form-row">
            <Field label={t('contract.effectiveOn')} optional error={problems.effectiveOn}>
              {(p) => (
                <input
                  {...p}
                  className="input"
                  type="date"
                  value={form.effectiveOn}
                  onChange={(e) => set({ effectiveOn: e.target.value })}
                  data-testid="contract-effective"
                />
              )}
            </Field>
            <Field label={t('contract.expiresOn')} optional error={problems.expiresOn}>
              {(p) => (
                <input
                  {...p}
                  className="input"
                  type="date"
                  value={form.expiresOn}
                  onChange={(e) => set({ expiresOn: e.target.value })}
                  data-testid="contract-expires"
                />
              )}
            </Field>
          </div>
          <div className="form-row">
            <Field label={t('contract.deadline')} optional hint={t('contract.deadlineHint')} error={problems.deadline}>
              {(p) => (
                <input
                  {...p}
                  className="input"
                  type="datetime-local"
                  value={form.deadline}
                  onChange={(e) => set({ deadline: e.target.value })}
                  data-testid="contract-deadline"
                />
              )}
            </Field>
            <Field
              label={t('contract.remindEvery')}
              optional
              hint={t('contract.remindEveryHint')}
              error={problems.remindEveryDays}
            >
              {(p) => (
                <input
                  {...p}
                  className="input"
                  type="number"
                  min={1}
                  max={30}
                  inputMode="numeric"
                  value={form.remindEveryDays}
                  onChange={(e) => set({ remindEveryDays: e.target.value })}
                  data-testid="contract-remind"
                />
              )}
            </Field>
            <Field label={t('contract.identityCheck')} optional hint={t('contract.identityCheckHint')}>
              {(p) => (
                <select
                  {...p}
                  className="input"
                  value={form.identityCheck ?? ''}
                  onChange={(e) => set({ identityCheck: e.target.value as ContractForm['identityCheck'] })}
                  data-testid="contract-identity-check"
                >
                  <option value="">{t('contract.identityCheckNone')}</option>
                  <option value="real_name">{t('contract.identityCheckRealName')}</option>
                  <option value="face">{t('contract.identityCheckFace')}</option>
                </select>
              )}
            </Field>
            <label className="check">
              <input
                type="checkbox"
                checked={form.requireSecondFactor ?? false}
                onChange={(e) => set({ requireSecondFactor: e.target.checked })}
                data-testid="contract-require-totp"
              />
              <span>{t('contract.requireSecondFactor')}</span>
            </label>
          </div>
        </section>

        <section className="card card-plain" data-testid="contract-participants">
          <h2>{t('contract.participants')}</h2>
          <p className="muted small">{t('contract.participantsHint')}</p>
          <ParticipantsEditor
            participants={participants}
            onChange={changeParticipants}
            seals={seals}
            companies={companies}
            me={self}
            problems={problems}
          />
          {problems.participants && (
            <p className="field-error" data-testid="field-error">
              {i18n.fieldText(problems.participants)}
            </p>
          )}
        </section>

        <section className="card" data-testid="contract-fields">
          <h2>{t('contract.placeFields')}</h2>
          {pages.data && document ? (
            <FieldPlacer
              pages={pages.data}
              pdf={pdf}
              failed={failed}
              participants={participants}
              fields={fields}
              onChange={(next) => {
                setFields(next);
                create.reset();
              }}
              nameOf={nameOf}
              problem={fieldProblem}
            />
          ) : (
            <p className="muted">{t('contract.placeAfterUpload')}</p>
          )}
        </section>

        <div className="sticky-actions contract-actions">
          <ProblemMessage error={create.error} testId="contract-create-problem" />
          <button
            type="submit"
            className="button button-primary button-block button-large"
            disabled={create.busy || uploading}
            data-testid="contract-create"
          >
            <Icon name="file" size={18} />
            {create.busy ? t('common.saving') : t('contract.createDraft')}
          </button>
        </div>
      </form>
    </>
  );
}
