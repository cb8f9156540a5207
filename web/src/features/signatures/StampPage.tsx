import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError, type DocumentPages, type DocumentRef, type SignatureRecord, type SignDraft } from '../../api';
import { Field } from '../../ui/Field';
import { Icon } from '../../ui/Icons';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import {
  initialStampOptions,
  serverStampProblems,
  StampOptions,
  stampDraft,
  type StampOptionsValue,
} from './StampOptions';
import { StampResult } from './StampResult';
import { useToast } from '../../ui/Toast';
import { useMutation, useQuery } from '../../hooks';
import { sealKindName, sealTypeName, useI18n } from '../../i18n';
import { CategoryOptions } from '../approvals/ApprovalBadges';
import { Link } from '../../router';
import { useSession } from '../../session';

/**
 * 盖章: applying an electronic seal to a PDF. From an approved application (each use counted on
 * its authorization) at /applications/:id/stamp/:sha256, or directly under a grant at /stamp.
 * After stamping: the signed PDF to download and the verifier's report on it.
 */

/** The newest end of a chain of signatures (its output was not signed again), and how many signatures it carries. */
export function latestCopy(items: SignatureRecord[]): { signature: SignatureRecord; count: number } | null {
  const inputs = new Set(items.map((s) => s.inputSha256));
  const tip = items.filter((s) => !inputs.has(s.outputSha256)).sort((a, b) => b.signedAt.localeCompare(a.signedAt))[0];
  if (!tip) return null;
  const byOutput = new Map(items.map((s) => [s.outputSha256, s]));
  let count = 0;
  for (let at: SignatureRecord | undefined = tip; at && count <= items.length; at = byOutput.get(at.inputSha256))
    count++;
  return { signature: tip, count };
}

type Onto = 'signed' | 'original';

/** Whether the next seal goes on the newest signed copy (incrementally) or on the original as a copy of its own. */
function OntoChoice({ copy, onto, onChange }: { copy: { count: number }; onto: Onto; onChange: (onto: Onto) => void }) {
  const { t } = useI18n();
  return (
    <fieldset className="checks stamp-onto" data-testid="stamp-onto">
      <legend>{t('stamp.onto')}</legend>
      <label className="check">
        <input
          type="radio"
          name="stamp-onto"
          checked={onto === 'signed'}
          onChange={() => onChange('signed')}
          data-testid="stamp-onto-signed"
        />
        <span>
          {t('stamp.ontoSigned', { n: copy.count })}
          <span className="field-hint stamp-onto-hint">{t('stamp.ontoSignedHint')}</span>
        </span>
      </label>
      <label className="check">
        <input
          type="radio"
          name="stamp-onto"
          checked={onto === 'original'}
          onChange={() => onChange('original')}
          data-testid="stamp-onto-original"
        />
        <span>
          {t('stamp.ontoOriginal')}
          <span className="field-hint stamp-onto-hint">{t('stamp.ontoOriginalHint')}</span>
        </span>
      </label>
    </fieldset>
  );
}

/** The placement, level and reason, validated on submit; the server's refusals shown in place. */
function useStampForm(pages: DocumentPages | undefined, onEdit: () => void) {
  const i18n = useI18n();
  const [options, setOptionsState] = useState<StampOptionsValue>(initialStampOptions);
  // A refusal (keyword not found …) answered the old choice: it goes once the choice changes.
  const setOptions = (next: StampOptionsValue) => {
    setOptionsState(next);
    onEdit();
  };
  const [attempted, setAttempted] = useState(false);
  const { draft, problems } = stampDraft(i18n, options, pages);
  return { options, setOptions, attempted, setAttempted, draft, clientProblems: problems };
}

/** Stamp the document once more (onto the copy just signed). */
function StampAgain({ onAgain }: { onAgain: () => void }) {
  const { t } = useI18n();
  return (
    <button type="button" className="button" onClick={onAgain} data-testid="stamp-again">
      <Icon name="pen" size={16} />
      {t('stamp.again')}
    </button>
  );
}

function StampActions({ busy, error, label }: { busy: boolean; error: ApiError | null; label?: ReactNode }) {
  const { t } = useI18n();
  return (
    <div className="sticky-actions stamp-actions">
      <ProblemMessage error={error} testId="stamp-problem" />
      <button
        type="submit"
        className="button button-primary button-block button-large"
        disabled={busy}
        data-testid="stamp-submit"
      >
        <Icon name="pen" size={18} />
        {busy ? t('stamp.submitting') : (label ?? t('stamp.submit'))}
      </button>
    </div>
  );
}

/** The first problem in view: on a phone it may be a screen above the button. */
function revealProblem() {
  requestAnimationFrame(() =>
    document
      .querySelector('.stamp-form .field-invalid, .stamp-form .field-error')
      ?.scrollIntoView({ block: 'center', behavior: 'smooth' }),
  );
}

export function StampFromApplicationPage({ applicationId, sha256 }: { applicationId: string; sha256: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { me } = useSession();
  const notify = useToast();
  const detail = useQuery(['StampPage.detail', applicationId], (signal) => api.application(applicationId, signal));
  const copies = useQuery(['StampPage.copies', sha256], (signal) => api.signatures(sha256, signal));
  const pages = useQuery(['StampPage.pages', sha256], (signal) => api.documentPages(sha256, signal));
  const [chosen, setChosen] = useState('');
  const [onto, setOnto] = useState<Onto>('signed');
  const [result, setResult] = useState<SignatureRecord | null>(null);
  const application = detail.data;
  const latest = useMemo(() => latestCopy(copies.data?.items ?? []), [copies.data]);

  const sign = useMutation(
    (body: SignDraft) => api.sign(body),
    (signature) => {
      setResult(signature);
      notify(t('stamp.done', { seal: signature.sealName ?? '' }));
      detail.reload();
      copies.reload();
      window.scrollTo({ top: 0 });
    },
  );
  const form = useStampForm(pages.data, sign.reset);

  const back = (
    <Link to={`/applications/${applicationId}`} className="back-link" data-testid="back-link">
      <Icon name="chevron" size={14} className="flip" />
      {t('stamp.back')}
    </Link>
  );
  if (!application) {
    return (
      <>
        {back}
        <LoadState loading={detail.loading} error={detail.error} empty={false} onRetry={detail.reload} />
      </>
    );
  }

  const document = application.documents.find((d) => d.sha256 === sha256);
  const mine = application.authorizations.filter(
    (a) => a.kind === 'documents' && a.holderId === me.user.id && !a.revokedAt,
  );
  const usable = mine.filter((a) => a.usesConsumed < a.usesTotal);
  const authorization = usable.find((a) => a.id === chosen) ?? usable[0];
  const sealOf = (sealId: string) => application.seals.find((s) => s.id === sealId);
  const title = <PageHeader title={t('stamp.title')} />;

  if (result) {
    const again = usable.length > 0;
    return (
      <>
        {back}
        {title}
        <StampResult
          signature={result}
          details={mine.map((a) => (
            <p key={a.id} className="muted small" data-testid="stamp-uses-left">
              {sealOf(a.sealId)?.name}:{' '}
              {t('stamp.usesLeft', { left: a.usesTotal - a.usesConsumed, total: a.usesTotal })}
            </p>
          ))}
          actions={
            <>
              {again && (
                <StampAgain
                  onAgain={() => {
                    setResult(null);
                    setOnto('signed');
                    sign.reset();
                  }}
                />
              )}
              <Link to={`/applications/${applicationId}`} className="button" data-testid="stamp-back">
                {t('stamp.back')}
              </Link>
            </>
          }
        />
      </>
    );
  }

  if (!document || application.status !== 'approved' || mine.length === 0) {
    return (
      <>
        {back}
        {title}
        <p className="alert alert-info" data-testid="stamp-unavailable">
          {t('stamp.notStampable')}
        </p>
      </>
    );
  }

  const target = onto === 'signed' && latest ? latest.signature.outputSha256 : sha256;
  const problems = { ...(form.attempted ? form.clientProblems : {}), ...serverStampProblems(sign.error) };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    form.setAttempted(true);
    if (!authorization) return;
    if (Object.keys(form.clientProblems).length > 0 || (form.options.mode === 'position' && !form.draft.appearance)) {
      revealProblem();
      return;
    }
    void sign.run({ documentSha256: target, authorizationId: authorization.id, ...form.draft });
  };

  return (
    <>
      {back}
      {title}
      <form className="stamp-form" onSubmit={onSubmit} noValidate data-testid="stamp-form">
        <section className="card" data-testid="stamp-what">
          <dl className="facts facts-wide">
            <div className="fact-full">
              <dt>{t('stamp.document')}</dt>
              <dd className="cell-break" data-testid="stamp-document">
                {document.name}
              </dd>
            </div>
          </dl>
          {usable.length === 0 ? (
            <p className="alert alert-info" data-testid="stamp-exhausted">
              {t('stamp.noUsesLeft')}
            </p>
          ) : usable.length === 1 ? (
            <p className="stamp-seal-line" data-testid="stamp-seal">
              <Icon name="seal" size={18} className="seal-line-icon" />
              <strong>{sealOf(authorization!.sealId)?.name}</strong>
              <span className="muted small" data-testid="stamp-uses">
                {t('stamp.usesLeft', {
                  left: authorization!.usesTotal - authorization!.usesConsumed,
                  total: authorization!.usesTotal,
                })}
              </span>
            </p>
          ) : (
            <Field label={t('stamp.seal')}>
              {(p) => (
                <select
                  {...p}
                  className="input"
                  value={authorization?.id ?? ''}
                  onChange={(e) => setChosen(e.target.value)}
                  data-testid="stamp-seal-select"
                >
                  {usable.map((a) => (
                    <option key={a.id} value={a.id}>
                      {sealOf(a.sealId)?.name} ·{' '}
                      {t('stamp.usesLeft', { left: a.usesTotal - a.usesConsumed, total: a.usesTotal })}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}
          {latest && <OntoChoice copy={latest} onto={onto} onChange={setOnto} />}
          <ProblemMessage error={pages.error} testId="stamp-pages-problem" />
        </section>
        {usable.length > 0 && (
          <>
            <StampOptions
              value={form.options}
              onChange={form.setOptions}
              pages={pages.data}
              problems={problems}
              documentSha256={sha256}
            />
            <StampActions busy={sign.busy} error={sign.error} />
          </>
        )}
      </form>
    </>
  );
}

/** Stamping under a grant: choose one of my electronic seals and the category, upload the PDF or OFD, place the seal. */
export function StampWithGrantPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const notify = useToast();
  const seals = useQuery(['StampPage.seals'], (signal) => api.mySeals({}, signal));
  const electronic = useMemo(() => (seals.data?.items ?? []).filter((s) => s.kind === 'electronic'), [seals.data]);
  const [sealId, setSealId] = useState('');
  const [category, setCategory] = useState('');
  const [document, setDocument] = useState<DocumentRef | null>(null);
  const [uploading, setUploading] = useState(false);
  const [uploadError, setUploadError] = useState<ApiError | null>(null);
  const [chain, setChain] = useState<SignatureRecord[]>([]);
  const [onto, setOnto] = useState<Onto>('signed');
  const [result, setResult] = useState<SignatureRecord | null>(null);
  const pages = useQuery(['StampPage.pages', document?.sha256], (signal) =>
    document ? api.documentPages(document.sha256, signal) : Promise.resolve(undefined),
  );
  const seal = electronic.find((s) => s.id === sealId) ?? (electronic.length === 1 ? electronic[0] : undefined);
  const categories = seal?.grant.categories ?? [];
  const chosenCategory = categories.includes(category) ? category : categories.length === 1 ? categories[0]! : '';
  const latest = latestCopy(chain);

  const sign = useMutation(
    (body: SignDraft) => api.sign(body),
    (signature) => {
      setResult(signature);
      setChain((list) => [...list, signature]);
      notify(t('stamp.done', { seal: signature.sealName ?? '' }));
      seals.reload();
      window.scrollTo({ top: 0 });
    },
  );
  const form = useStampForm(pages.data, sign.reset);

  const upload = async (files: FileList | null) => {
    const file = files?.[0];
    if (!file) return;
    setUploading(true);
    setUploadError(null);
    sign.reset();
    try {
      setDocument(await api.uploadDocument(file));
      setChain([]);
      setOnto('signed');
    } catch (error) {
      setUploadError(
        error instanceof ApiError ? error : new ApiError({ status: 0, code: 'network_error', detail: String(error) }),
      );
    } finally {
      setUploading(false);
    }
  };

  const header = (
    <PageHeader
      title={t('stamp.title')}
      subtitle={t('stamp.subtitle')}
      actions={
        <Link to="/stamp/batch" className="button" data-testid="stamp-batch">
          <Icon name="layers" size={16} />
          {t('batch.open')}
        </Link>
      }
    />
  );
  if (!seals.data) {
    return (
      <>
        {header}
        <LoadState loading={seals.loading} error={seals.error} empty={false} onRetry={seals.reload} />
      </>
    );
  }
  if (result) {
    return (
      <>
        {header}
        <StampResult
          signature={result}
          actions={
            <StampAgain
              onAgain={() => {
                setResult(null);
                setOnto('signed');
                sign.reset();
              }}
            />
          }
        />
      </>
    );
  }
  if (electronic.length === 0) {
    return (
      <>
        {header}
        <div className="alert alert-info" data-testid="stamp-no-grants">
          <Icon name="alert" size={20} className="alert-icon" />
          <div>
            <p>{t('stamp.noGrantSeals')}</p>
            <p>
              <Link to="/apply">{t('stamp.toApply')}</Link>
            </p>
          </div>
        </div>
      </>
    );
  }

  const missingSeal = !seal;
  const missingCategory = Boolean(seal) && !chosenCategory;
  const missingDocument = !document;
  const problems = { ...(form.attempted ? form.clientProblems : {}), ...serverStampProblems(sign.error) };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    form.setAttempted(true);
    if (
      missingSeal ||
      missingCategory ||
      missingDocument ||
      Object.keys(form.clientProblems).length > 0 ||
      (form.options.mode === 'position' && !form.draft.appearance)
    ) {
      revealProblem();
      return;
    }
    const target = onto === 'signed' && latest ? latest.signature.outputSha256 : document.sha256;
    void sign.run({ documentSha256: target, sealId: seal.id, category: chosenCategory, ...form.draft });
  };

  return (
    <>
      {header}
      <form className="stamp-form" onSubmit={onSubmit} noValidate data-testid="stamp-form">
        <section className="card" data-testid="stamp-what">
          <fieldset className={`seal-choices${form.attempted && missingSeal ? ' invalid' : ''}`}>
            <legend>{t('stamp.grantSeals')}</legend>
            <p className="muted small">{t('stamp.grantHint')}</p>
            <ul className="seal-choice-list">
              {electronic.map((s) => {
                const selected = seal?.id === s.id;
                return (
                  <li key={s.id}>
                    <label
                      className={`seal-choice${selected ? ' selected' : ''}`}
                      data-testid="stamp-seal-option"
                      data-seal-code={s.code}
                    >
                      <input
                        type="radio"
                        name="stamp-seal"
                        checked={selected}
                        onChange={() => {
                          setSealId(s.id);
                          sign.reset();
                        }}
                      />
                      <span className="seal-choice-body">
                        <span className="seal-choice-name">{s.name}</span>
                        <span className="seal-choice-meta">
                          <span className="mono">{s.code}</span> · {sealTypeName(i18n, s.type)} ·{' '}
                          {sealKindName(i18n, s.kind)}
                        </span>
                        <span className="seal-choice-meta">
                          {s.companyName}
                          {s.grant.remainingUses !== null && (
                            <> · {t('apply.usesLeft', { n: s.grant.remainingUses })}</>
                          )}
                        </span>
                      </span>
                      <Icon name="check" size={20} className="seal-choice-check" />
                    </label>
                  </li>
                );
              })}
            </ul>
            {form.attempted && missingSeal && (
              <p className="field-error" data-testid="field-error">
                {t('field.chooseSeal')}
              </p>
            )}
          </fieldset>
          {seal && (
            <Field
              label={t('category.label')}
              error={form.attempted && missingCategory ? t('field.chooseCategory') : sign.error?.fieldErrors().category}
            >
              {(p) => (
                <select
                  {...p}
                  className="input"
                  value={chosenCategory}
                  onChange={(e) => setCategory(e.target.value)}
                  data-testid="stamp-category"
                >
                  <CategoryOptions categories={categories} />
                </select>
              )}
            </Field>
          )}
          <div
            className={`field${form.attempted && missingDocument ? ' field-invalid' : ''}`}
            data-testid="stamp-upload"
          >
            <span className="field-label">{t('stamp.upload')}</span>
            {document ? (
              <ul className="document-list">
                <li className="document-item">
                  <span className="document-name" data-testid="stamp-document">
                    {document.name}
                  </span>
                  <span className="muted small">{Math.max(1, Math.round(document.size / 1024))} KB</span>
                </li>
              </ul>
            ) : (
              <span className="field-hint">{t('stamp.uploadHint')}</span>
            )}
            <label className="button button-small file-button">
              <Icon name="upload" size={16} />
              {uploading ? t('stamp.uploading') : document ? t('stamp.chooseOther') : t('stamp.choosePdf')}
              <input
                type="file"
                accept="application/pdf,.pdf,application/ofd,.ofd"
                hidden
                disabled={uploading}
                data-testid="stamp-file-input"
                onChange={(e) => void upload(e.target.files).then(() => (e.target.value = ''))}
              />
            </label>
            {form.attempted && missingDocument && (
              <p className="field-error" data-testid="field-error">
                {t('field.choosePdf')}
              </p>
            )}
            <ProblemMessage error={uploadError ?? pages.error} testId="stamp-upload-problem" />
          </div>
          {latest && <OntoChoice copy={latest} onto={onto} onChange={setOnto} />}
        </section>
        <StampOptions
          value={form.options}
          onChange={form.setOptions}
          pages={pages.data}
          problems={problems}
          documentSha256={document?.sha256}
        />
        <StampActions busy={sign.busy} error={sign.error} />
      </form>
    </>
  );
}
