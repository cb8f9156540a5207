import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import {
  api,
  ApiError,
  newIdempotencyKey,
  STANDARD_CATEGORIES,
  type DocumentRef,
  type MySeal,
  type SealUseDraft,
} from '../../api';
import { Field } from '../../ui/Field';
import { Icon } from '../../ui/Icons';
import { Loading, PageHeader } from '../../ui/PageHeader';
import { PlanView } from './PlanView';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useToast } from '../../ui/Toast';
import { useMutation, useQuery } from '../../hooks';
import { sealKindName, sealTypeName, useI18n, type MessageKey } from '../../i18n';
import { CategoryOptions } from './ApprovalBadges';
import { navigate } from '../../router';

const MAX_SEALS = 20;

/** A whole number within [min, max] typed into a text field, or null. */
function wholeNumber(text: string, min: number, max: number): number | null {
  if (!/^\d+$/.test(text.trim())) return null;
  const n = Number(text.trim());
  return n >= min && n <= max ? n : null;
}

/**
 * 用印申请: category, seals (only those the applicant holds a grant for in that category),
 * reason, number of uses and, for physical seals, photos per use. The approvers and CC
 * are previewed as the form is filled in; one idempotency key per form makes a double
 * tap or a retry create one application.
 */
export function ApplyPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const notify = useToast();
  const [category, setCategory] = useState('');
  const [sealIds, setSealIds] = useState<string[]>([]);
  const [reason, setReason] = useState('');
  const [usesText, setUsesText] = useState('1');
  const [photosText, setPhotosText] = useState('1');
  const [attempted, setAttempted] = useState(false);
  const [documents, setDocuments] = useState<DocumentRef[]>([]);
  const [uploading, setUploading] = useState(false);
  const [uploadError, setUploadError] = useState<ApiError | null>(null);

  const addDocuments = async (files: FileList | null) => {
    if (!files || files.length === 0) return;
    setUploading(true);
    setUploadError(null);
    try {
      for (const file of Array.from(files)) {
        const stored = await api.uploadDocument(file);
        setDocuments((list) => (list.some((d) => d.sha256 === stored.sha256) ? list : [...list, stored]));
      }
    } catch (error) {
      setUploadError(
        error instanceof ApiError ? error : new ApiError({ status: 0, code: 'network_error', detail: String(error) }),
      );
    } finally {
      setUploading(false);
    }
  };
  const idempotencyKey = useRef(newIdempotencyKey());

  // Every seal I may use (for the custom categories my grants name), then those for the chosen category.
  const allSeals = useQuery(['ApplyPage.allSeals'], (signal) => api.mySeals({}, signal));
  const seals = useQuery(['ApplyPage.seals', category], (signal) =>
    category ? api.mySeals({ category }, signal) : Promise.resolve(null),
  );
  const available = useMemo(() => seals.data?.items ?? [], [seals.data]);

  // A seal that does not serve the new category leaves the selection.
  useEffect(() => {
    if (!seals.data) return;
    const usable = new Set(seals.data.items.map((s) => s.id));
    setSealIds((ids) => (ids.every((id) => usable.has(id)) ? ids : ids.filter((id) => usable.has(id))));
  }, [seals.data]);

  const categories = useMemo(() => {
    const custom = new Set<string>();
    for (const s of allSeals.data?.items ?? [])
      for (const c of s.grant.categories) if (c.startsWith('custom:')) custom.add(c);
    return [...STANDARD_CATEGORIES, ...[...custom].sort()];
  }, [allSeals.data]);

  const chosen = available.filter((s) => sealIds.includes(s.id));
  const companyId = chosen[0]?.companyId ?? null;
  const needsPhotos = chosen.some((s) => s.kind === 'physical');
  const uses = wholeNumber(usesText, 1, 1000);
  const photos = needsPhotos ? wholeNumber(photosText, 0, 20) : 0;

  const draft = (): SealUseDraft => ({
    documents: documents.map((d) => ({ sha256: d.sha256, name: d.name })),
    sealIds,
    category,
    reason: reason.trim(),
    uses: uses ?? 0,
    photosPerUse: photos ?? 0,
  });

  // The preview follows the fields that decide the approvers, a moment after the last change.
  const previewKey =
    category && sealIds.length > 0 && uses !== null ? JSON.stringify([category, [...sealIds].sort(), uses]) : '';
  const [settledKey, setSettledKey] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setSettledKey(previewKey), 300);
    return () => clearTimeout(timer);
  }, [previewKey]);
  const preview = useQuery(['ApplyPage.preview', settledKey], (signal) => {
    if (!settledKey) return Promise.resolve(null);
    const [c, ids, n] = JSON.parse(settledKey) as [string, string[], number];
    // The reason does not change who approves; a placeholder lets the preview come before it is typed.
    return api.previewApplication(
      {
        sealIds: ids,
        category: c,
        reason: reason.trim() || '-',
        uses: n,
        photosPerUse: 0,
      },
      signal,
    );
  });
  const previewCurrent = settledKey === previewKey && Boolean(previewKey);

  const submit = useMutation(
    () => api.submitApplication(draft(), idempotencyKey.current),
    (application) => {
      notify(t('apply.submitted'));
      navigate(`/applications/${application.id}`);
    },
  );

  const server = submit.error?.fieldErrors() ?? {};
  const clientErrors: Partial<Record<keyof SealUseDraft, MessageKey>> = {};
  if (!category) clientErrors.category = 'field.chooseCategory';
  if (sealIds.length === 0) clientErrors.sealIds = 'field.chooseSeal';
  if (!reason.trim()) clientErrors.reason = 'field.notEmpty';
  if (uses === null) clientErrors.uses = 'field.usesRange';
  if (photos === null) clientErrors.photosPerUse = 'field.photosRange';
  const errorOf = (field: keyof SealUseDraft): string | undefined => {
    if (attempted && clientErrors[field]) return t(clientErrors[field]);
    return server[field];
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    if (Object.keys(clientErrors).length > 0) {
      // Bring the first problem into view: on a phone it may be a screen above the button.
      requestAnimationFrame(() =>
        document
          .querySelector('.field-invalid, .seal-choices.invalid')
          ?.scrollIntoView({ block: 'center', behavior: 'smooth' }),
      );
      return;
    }
    void submit.run();
  };

  const toggleSeal = (seal: MySeal) => {
    submit.reset();
    setSealIds((ids) =>
      ids.includes(seal.id) ? ids.filter((id) => id !== seal.id) : ids.length >= MAX_SEALS ? ids : [...ids, seal.id],
    );
  };

  const sealsError = errorOf('sealIds');

  return (
    <>
      <PageHeader title={t('apply.title')} subtitle={t('apply.subtitle')} />
      {allSeals.data?.items.length === 0 && (
        <p className="alert alert-info" data-testid="apply-no-grants">
          {t('apply.noSealsAtAll')}
        </p>
      )}
      <form className="apply" onSubmit={onSubmit} noValidate data-testid="apply-form">
        <div className="apply-main">
          <section className="card">
            <Field label={t('category.label')} error={errorOf('category')}>
              {(p) => (
                <select
                  {...p}
                  className="input"
                  value={category}
                  onChange={(e) => {
                    submit.reset();
                    setCategory(e.target.value);
                  }}
                  data-testid="apply-category"
                >
                  <CategoryOptions categories={categories} />
                </select>
              )}
            </Field>

            <fieldset
              className={`seal-choices${sealsError ? ' invalid' : ''}`}
              aria-describedby="apply-seals-note"
              data-testid="apply-seals"
            >
              <legend>{t('apply.seals')}</legend>
              {!category ? (
                <p className="muted small" id="apply-seals-note">
                  {t('apply.chooseCategoryFirst')}
                </p>
              ) : seals.loading && !seals.data ? (
                <Loading />
              ) : seals.error ? (
                <ProblemMessage error={seals.error} />
              ) : available.length === 0 ? (
                <p className="alert alert-info" id="apply-seals-note" data-testid="apply-no-seals">
                  {t('apply.noSeals')}
                </p>
              ) : (
                <>
                  <p className="muted small" id="apply-seals-note">
                    {t('apply.sealsHint')}
                  </p>
                  <ul className="seal-choice-list">
                    {available.map((seal) => {
                      const selected = sealIds.includes(seal.id);
                      const elsewhere = !selected && companyId !== null && seal.companyId !== companyId;
                      return (
                        <li key={seal.id}>
                          <label
                            className={`seal-choice${selected ? ' selected' : ''}${elsewhere ? ' disabled' : ''}`}
                            data-testid="seal-option"
                            data-seal-code={seal.code}
                          >
                            <input
                              type="checkbox"
                              checked={selected}
                              disabled={elsewhere}
                              onChange={() => toggleSeal(seal)}
                            />
                            <span className="seal-choice-body">
                              <span className="seal-choice-name">{seal.name}</span>
                              <span className="seal-choice-meta">
                                <span className="mono">{seal.code}</span> · {sealTypeName(i18n, seal.type)} ·{' '}
                                {sealKindName(i18n, seal.kind)}
                              </span>
                              <span className="seal-choice-meta">
                                {seal.companyName}
                                {seal.grant.remainingUses !== null && (
                                  <>
                                    {' '}
                                    ·{' '}
                                    {t('apply.usesLeft', {
                                      n: seal.grant.remainingUses,
                                    })}
                                  </>
                                )}
                                {seal.grant.validUntil && (
                                  <>
                                    {' '}
                                    ·{' '}
                                    {t('apply.validUntil', {
                                      date: i18n.formatDate(seal.grant.validUntil, false),
                                    })}
                                  </>
                                )}
                              </span>
                              {elsewhere && <span className="seal-choice-note">{t('apply.otherCompany')}</span>}
                            </span>
                            <Icon name="check" size={20} className="seal-choice-check" />
                          </label>
                        </li>
                      );
                    })}
                  </ul>
                </>
              )}
              {sealsError && (
                <p className="field-error" data-testid="field-error">
                  {i18n.fieldText(sealsError)}
                </p>
              )}
            </fieldset>

            <Field label={t('apply.reason')} error={errorOf('reason')}>
              {(p) => (
                <textarea
                  {...p}
                  className="input"
                  rows={3}
                  maxLength={1000}
                  value={reason}
                  onChange={(e) => setReason(e.target.value)}
                  placeholder={t('apply.reasonPlaceholder')}
                  data-testid="apply-reason"
                />
              )}
            </Field>

            <div className="form-row form-row-tight">
              <Field label={t('apply.uses')} hint={t('apply.usesHint')} error={errorOf('uses')}>
                {(p) => (
                  <input
                    {...p}
                    className="input"
                    type="number"
                    inputMode="numeric"
                    min={1}
                    max={1000}
                    step={1}
                    value={usesText}
                    onChange={(e) => setUsesText(e.target.value)}
                    data-testid="apply-uses"
                  />
                )}
              </Field>
              {needsPhotos && (
                <Field label={t('apply.photosPerUse')} hint={t('apply.photosHint')} error={errorOf('photosPerUse')}>
                  {(p) => (
                    <input
                      {...p}
                      className="input"
                      type="number"
                      inputMode="numeric"
                      min={0}
                      max={20}
                      step={1}
                      value={photosText}
                      onChange={(e) => setPhotosText(e.target.value)}
                      data-testid="apply-photos"
                    />
                  )}
                </Field>
              )}
            </div>
            <div className="field" data-testid="apply-documents">
              <span className="field-label">{t('apply.documents')}</span>
              <span className="field-hint">{t('apply.documentsHint')}</span>
              {documents.length > 0 && (
                <ul className="document-list">
                  {documents.map((d) => (
                    <li key={d.sha256} className="document-item">
                      <span className="document-name">{d.name}</span>
                      <span className="muted small">{Math.max(1, Math.round(d.size / 1024))} KB</span>
                      <button
                        type="button"
                        className="button button-ghost button-small"
                        onClick={() => setDocuments((list) => list.filter((x) => x.sha256 !== d.sha256))}
                      >
                        {t('apply.removeDocument')}
                      </button>
                    </li>
                  ))}
                </ul>
              )}
              <label className="button button-small file-button">
                {uploading ? t('apply.uploading') : t('apply.addDocuments')}
                <input
                  type="file"
                  accept="application/pdf,.pdf,application/ofd,.ofd"
                  multiple
                  hidden
                  disabled={uploading}
                  data-testid="apply-document-input"
                  onChange={(e) => void addDocuments(e.target.files).then(() => (e.target.value = ''))}
                />
              </label>
              {uploadError && <ProblemMessage error={uploadError} testId="apply-document-problem" />}
            </div>
          </section>
        </div>

        <aside className="apply-side">
          <section
            className="card preview-card"
            data-testid="apply-preview"
            aria-live="polite"
            aria-busy={preview.loading && Boolean(settledKey)}
          >
            <h2>{t('apply.preview')}</h2>
            {!previewKey ? (
              <p className="muted small">{t('apply.previewHint')}</p>
            ) : preview.error && previewCurrent ? (
              <ProblemMessage error={preview.error} testId="apply-preview-problem" />
            ) : preview.data && previewCurrent && !preview.loading ? (
              <PlanView plan={preview.data} testId="apply-plan" />
            ) : (
              <div className="loading">
                <span className="spinner" aria-hidden="true" />
                {t('apply.previewLoading')}
              </div>
            )}
          </section>
        </aside>

        <div className="apply-actions">
          <ProblemMessage
            error={submit.error && Object.keys(server).length === 0 ? submit.error : null}
            testId="apply-problem"
          />
          <button
            type="submit"
            className="button button-primary button-block button-large"
            disabled={submit.busy}
            data-testid="apply-submit"
          >
            <Icon name="send" size={17} />
            {submit.busy ? t('apply.submitting') : t('apply.submit')}
          </button>
        </div>
      </form>
    </>
  );
}
