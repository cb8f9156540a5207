import { useRef, useState } from 'react';
import {
  api,
  ApiError,
  LIFECYCLE_FROM,
  LIFECYCLE_STEPS,
  newIdempotencyKey,
  type LifecycleDraft,
  type LifecycleStep,
  type Person,
  type Seal,
} from '../../api';
import { useMutation } from '../../hooks';
import { useI18n } from '../../i18n';
import { navigate } from '../../router';
import { useCan } from '../../session';
import { CompanySelect } from '../companies/CompanySelect';
import { Field } from '../../ui/Field';
import { Modal } from '../../ui/Modal';
import { PeopleField, useSealAdminsOver } from '../../ui/PeopleField';
import { PlanPreview, usePlanPreview } from '../approvals/PlanView';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { designFor, isDrawable, SealDesigner, storeDesign, type SealDesign } from '../seals/SealDesigner';
import { SealImage, SealImageFrame } from '../seals/SealImage';
import { useToast } from '../../ui/Toast';

/** The lifecycle steps a seal in its present state can take, as buttons that open the application. */
export function LifecycleActions({ seal }: { seal: Seal }) {
  const { t } = useI18n();
  const [step, setStep] = useState<LifecycleStep | null>(null);
  const steps = LIFECYCLE_STEPS.filter((s) => LIFECYCLE_FROM[s].includes(seal.status));
  if (steps.length === 0) return null;
  return (
    <section className="card" data-testid="lifecycle-actions">
      <h2>{t('lifecycle.title')}</h2>
      <p className="muted small">{t('lifecycle.subtitle')}</p>
      <div className="button-row">
        {steps.map((s) => (
          <button
            key={s}
            type="button"
            className={`button button-small${s === 'destroy' || s === 'report_loss' ? ' button-danger-outline' : ''}`}
            onClick={() => setStep(s)}
            data-testid={`lifecycle-${s}`}
          >
            {t(`lifecycle.step.${s}`)}
          </button>
        ))}
      </div>
      {step && <LifecycleDialog seal={seal} step={step} onClose={() => setStep(null)} />}
    </section>
  );
}

/**
 * Applies for one step of a seal's life: change (name, description, custodians, impression),
 * transfer (to another company or other custodians), suspension, resumption, loss report or
 * destruction. Who approves is shown before sending; nothing happens to the seal until the
 * application is approved.
 */
function LifecycleDialog({ seal, step, onClose }: { seal: Seal; step: LifecycleStep; onClose: () => void }) {
  const { t } = useI18n();
  const can = useCan();
  const notify = useToast();
  const [reason, setReason] = useState('');
  const [name, setName] = useState(seal.name);
  const [description, setDescription] = useState(seal.description ?? '');
  const initialCustodians: Person[] = seal.custodians.map((c) => ({ id: c.userId, name: c.name }));
  const [custodians, setCustodians] = useState<Person[]>(step === 'change' ? initialCustodians : []);
  const [companyId, setCompanyId] = useState('');
  // A new impression, designed or uploaded as for a new seal; stored only when the application is sent.
  const [replaceImage, setReplaceImage] = useState(false);
  const [design, setDesign] = useState<SealDesign>(() => designFor(seal.type, seal.companyName, seal.customType ?? ''));
  const [imageError, setImageError] = useState<ApiError | null>(null);
  const [attempted, setAttempted] = useState(false);
  const idempotencyKey = useRef(newIdempotencyKey());
  const sealAdmins = useSealAdminsOver(companyId || seal.companyId);

  const sameCustodians =
    custodians.length === initialCustodians.length &&
    custodians.every((c) => initialCustodians.some((i) => i.id === c.id));
  const draft = (): LifecycleDraft => {
    const d: LifecycleDraft = { action: step, reason: reason.trim() };
    if (step === 'change') {
      if (name.trim() !== seal.name) d.name = name.trim();
      if (description.trim() !== (seal.description ?? '')) d.description = description.trim();
      if (!sameCustodians) d.custodianIds = custodians.map((c) => c.id);
    }
    if (step === 'transfer') {
      if (companyId && companyId !== seal.companyId) d.companyId = companyId;
      if (custodians.length > 0) d.custodianIds = custodians.map((c) => c.id);
    }
    return d;
  };

  const problems: Record<string, string> = {};
  if (!reason.trim()) problems.reason = t('field.notEmpty');
  if (step === 'change') {
    if (!name.trim()) problems.name = t('field.notEmpty');
    if (custodians.length === 0) problems.custodianIds = t('field.chooseCustodian');
    const d = draft();
    if (replaceImage && design.source === 'upload' && !design.uploaded) problems.image = t('field.chooseImage');
    if (replaceImage && design.source === 'design' && !isDrawable(design))
      problems.image = t(design.shape === 'square' ? 'designer.needName' : 'designer.needCompany');
    if (
      !problems.name &&
      !problems.custodianIds &&
      !replaceImage &&
      d.name === undefined &&
      d.description === undefined &&
      d.custodianIds === undefined
    )
      problems.change = t('lifecycle.nothingChanged');
  }
  if (step === 'transfer' && !(companyId && companyId !== seal.companyId) && custodians.length === 0)
    problems.transfer = t('lifecycle.transferWhere');

  // The approvers do not depend on what the form says, only on the seal and who asks.
  const preview = usePlanPreview(`lifecycle:${seal.id}`, step, (action, signal) =>
    api.previewLifecycleStep(seal.id, { action: action as LifecycleStep }, signal),
  );

  const submit = useMutation(
    async () => {
      setImageError(null);
      const d = draft();
      if (step === 'change' && replaceImage) {
        try {
          const imageSha256 = await storeDesign(design);
          if (imageSha256) d.imageSha256 = imageSha256;
        } catch (error) {
          setImageError(
            error instanceof ApiError
              ? error
              : new ApiError({ status: 0, code: 'network_error', detail: String(error) }),
          );
          throw error;
        }
      }
      return api.applyForLifecycleStep(seal.id, d, idempotencyKey.current);
    },
    (application) => {
      notify(t('lifecycle.submitted'));
      navigate(`/applications/${application.id}`);
    },
  );
  const server = submit.error && !imageError ? submit.error.fieldErrors() : {};
  const errorOf = (field: string): string | undefined => (attempted ? problems[field] : undefined) ?? server[field];
  const formProblem = attempted ? (problems.change ?? problems.transfer) : undefined;

  const send = () => {
    setAttempted(true);
    if (Object.keys(problems).length === 0) void submit.run();
  };

  return (
    <Modal
      title={`${t(`lifecycle.step.${step}`)} · ${seal.name}`}
      onClose={onClose}
      testId="lifecycle-dialog"
      focusFirstField={step === 'change'}
      wide={replaceImage}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="button"
            className={`button ${step === 'destroy' || step === 'report_loss' ? 'button-danger' : 'button-primary'}`}
            disabled={submit.busy}
            onClick={send}
            data-testid="lifecycle-submit"
          >
            {submit.busy ? t('apply.submitting') : t('lifecycle.submit')}
          </button>
        </>
      }
    >
      <p className="muted small">{t(`lifecycle.explain.${step}`)}</p>
      <ProblemMessage
        error={submit.error && !imageError && Object.keys(server).length === 0 ? submit.error : null}
        testId="lifecycle-problem"
      />
      {formProblem && (
        <p className="alert alert-error" role="alert" data-testid="lifecycle-form-problem">
          {formProblem}
        </p>
      )}
      {step === 'change' && (
        <>
          <Field label={t('production.name')} error={errorOf('name')}>
            {(p) => (
              <input
                {...p}
                className="input"
                value={name}
                onChange={(e) => setName(e.target.value)}
                maxLength={100}
                data-testid="lifecycle-name"
              />
            )}
          </Field>
          <Field label={t('seal.description')} optional error={errorOf('description')}>
            {(p) => (
              <textarea
                {...p}
                className="input"
                rows={2}
                maxLength={500}
                value={description}
                onChange={(e) => setDescription(e.target.value)}
                data-testid="lifecycle-description"
              />
            )}
          </Field>
          <div className="lifecycle-image">
            {seal.imageSha256 ? (
              <SealImage
                sha256={seal.imageSha256}
                alt={t('sealImage.alt', { name: seal.name })}
                size="small"
                testId="lifecycle-current-image"
              />
            ) : (
              <SealImageFrame src={null} alt="" size="small" placeholder={t('sealImage.none')} />
            )}
            <label className="toolbar-check">
              <input
                type="checkbox"
                checked={replaceImage}
                onChange={(e) => setReplaceImage(e.target.checked)}
                data-testid="lifecycle-replace-image"
              />
              {t('lifecycle.replaceImage')}
            </label>
          </div>
          {replaceImage && <SealDesigner value={design} onChange={setDesign} problem={imageError} />}
          {(errorOf('image') ?? errorOf('imageSha256')) && (
            <p className="field-error" data-testid="field-error">
              {errorOf('image') ?? errorOf('imageSha256')}
            </p>
          )}
        </>
      )}
      {step === 'transfer' && (
        <Field label={t('lifecycle.toCompany')} optional error={errorOf('companyId')}>
          {(p) => (
            <CompanySelect
              {...p}
              value={companyId}
              allowEmpty
              emptyLabel={t('lifecycle.sameCompany')}
              onChange={(id) => {
                setCompanyId(id);
                setCustodians([]);
              }}
              filter={(id) => id !== seal.companyId && can('seals.manage', id)}
              data-testid="lifecycle-company"
            />
          )}
        </Field>
      )}
      {(step === 'change' || step === 'transfer') && (
        <PeopleField
          label={step === 'transfer' ? t('lifecycle.newCustodians') : t('seal.custodians')}
          hint={t('production.custodiansHint')}
          error={errorOf('custodianIds')}
          value={custodians}
          onChange={setCustodians}
          known={sealAdmins}
          knownLabel={t('production.sealAdmins')}
          testId="lifecycle-people"
        />
      )}
      <Field label={t('apply.reason')} error={errorOf('reason')}>
        {(p) => (
          <textarea
            {...p}
            className="input"
            rows={3}
            maxLength={1000}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            data-testid="lifecycle-reason"
          />
        )}
      </Field>
      <h3 className="lifecycle-preview-title">{t('apply.preview')}</h3>
      <PlanPreview state={preview} testId="lifecycle-preview" />
    </Modal>
  );
}
