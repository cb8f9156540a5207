import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api, ApiError, PADES_LEVELS, type BatchItem, type PadesLevel } from '../../api';
import { useMutation, useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { Link, navigate } from '../../router';
import { Field } from '../../ui/Field';
import { Icon } from '../../ui/Icons';
import { ConfirmDialog } from '../../ui/Modal';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { CategoryOptions } from '../approvals/ApprovalBadges';
import { signedFileName } from './StampResult';
import './batch.css';

/**
 * 批量盖章: one person signs many PDFs with one seal under their grant, after one confirmation
 * (a month of invoices, a day of notices). /stamp/batch uploads the files and starts the batch;
 * /stamp/batches/:id follows it while the server signs each document with its own signature,
 * and lists which failed and why.
 */

/** The API's own bound on a batch. */
const MAX_DOCUMENTS = 500;
/** How often a running batch is asked about again. */
const POLL_MS = 1000;

interface Upload {
  key: number;
  name: string;
  state: 'uploading' | 'ready' | 'failed';
  sha256?: string;
  error?: ApiError;
}

/**
 * What the server knows only by hash or does not repeat per document: the files' names by SHA-256
 * and the keyword asked for (a failure's reason is worded with it), kept in this tab for the
 * progress page. Another tab shows hashes and the server's own sentence instead.
 */
interface Kept {
  names: Record<string, string>;
  keyword?: string;
}
const keptKey = (batchId: string) => `sigil.batch.${batchId}`;
function keep(batchId: string, kept: Kept) {
  try {
    sessionStorage.setItem(keptKey(batchId), JSON.stringify(kept));
  } catch {
    // Storage full or refused: the progress page shows hashes instead.
  }
}
function kept(batchId: string): Kept {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(keptKey(batchId)) ?? '{}') as Partial<Kept> | null;
    return {
      names: parsed && typeof parsed.names === 'object' && parsed.names ? parsed.names : {},
      ...(typeof parsed?.keyword === 'string' ? { keyword: parsed.keyword } : {}),
    };
  } catch {
    return { names: {} };
  }
}

export function NewBatchPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const seals = useQuery(['BatchPage.seals'], (signal) => api.mySeals({}, signal));
  const electronic = useMemo(() => (seals.data?.items ?? []).filter((s) => s.kind === 'electronic'), [seals.data]);
  const [sealId, setSealId] = useState('');
  const [category, setCategory] = useState('');
  const [mode, setMode] = useState<'keyword' | 'crossPage'>('keyword');
  const [keyword, setKeyword] = useState('');
  const [level, setLevel] = useState<PadesLevel>('B-T');
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [tooMany, setTooMany] = useState(false);
  const [attempted, setAttempted] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const seal = electronic.find((s) => s.id === sealId) ?? (electronic.length === 1 ? electronic[0] : undefined);
  const categories = seal?.grant.categories ?? [];
  const chosenCategory = categories.includes(category) ? category : categories.length === 1 ? categories[0]! : '';
  const ready = uploads.filter((u) => u.state === 'ready');
  const uploading = uploads.some((u) => u.state === 'uploading');
  const documents = [...new Set(ready.map((u) => u.sha256!))];

  const start = useMutation(
    () =>
      api.startBatch({
        documents,
        sealId: seal!.id,
        category: chosenCategory,
        level,
        ...(mode === 'keyword' ? { appearance: { type: 'keyword', keyword: keyword.trim() } } : { crossPage: {} }),
      }),
    (batch) => {
      keep(batch.id, {
        names: Object.fromEntries(ready.map((u) => [u.sha256!, u.name])),
        ...(mode === 'keyword' ? { keyword: keyword.trim() } : {}),
      });
      navigate(`/stamp/batches/${batch.id}`);
    },
  );

  // One file at a time: a hundred uploads at once would starve the page and the server alike.
  const add = async (files: FileList | null) => {
    const chosen = Array.from(files ?? []);
    const room = MAX_DOCUMENTS - uploads.length;
    setTooMany(chosen.length > room);
    let key = Date.now();
    const added = chosen.slice(0, Math.max(0, room)).map((file) => ({ file, key: key++ }));
    setUploads((list) => [
      ...list,
      ...added.map(({ file, key }) => ({ key, name: file.name, state: 'uploading' as const })),
    ]);
    for (const { file, key } of added) {
      let next: Partial<Upload>;
      try {
        next = { state: 'ready', sha256: (await api.uploadDocument(file)).sha256 };
      } catch (error) {
        next = {
          state: 'failed',
          error:
            error instanceof ApiError
              ? error
              : new ApiError({ status: 0, code: 'network_error', detail: String(error) }),
        };
      }
      setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...next } : u)));
    }
  };
  const remove = (key: number) => setUploads((list) => list.filter((u) => u.key !== key));

  const header = (
    <PageHeader
      title={t('batch.title')}
      subtitle={t('batch.subtitle')}
      actions={
        <Link to="/stamp" className="button">
          {t('batch.single')}
        </Link>
      }
    />
  );
  if (!seals.data)
    return (
      <>
        {header}
        <LoadState loading={seals.loading} error={seals.error} empty={false} onRetry={seals.reload} />
      </>
    );
  if (electronic.length === 0)
    return (
      <>
        {header}
        <div className="alert alert-info" data-testid="batch-no-grants">
          <Icon name="alert" size={20} className="alert-icon" />
          <p>{t('stamp.noGrantSeals')}</p>
        </div>
      </>
    );

  const problems = {
    seal: !seal ? t('field.chooseSeal') : undefined,
    category: seal && !chosenCategory ? t('field.chooseCategory') : undefined,
    keyword: mode === 'keyword' && !keyword.trim() ? t('field.notEmpty') : undefined,
    documents: documents.length === 0 ? t('batch.needDocuments') : uploading ? t('batch.stillUploading') : undefined,
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    start.reset();
    if (Object.values(problems).some(Boolean)) return;
    setConfirming(true);
  };
  const shown = (problem: string | undefined) => (attempted ? problem : undefined);

  return (
    <>
      {header}
      <form className="stamp-form batch-form" onSubmit={submit} noValidate data-testid="batch-form">
        <section className="card">
          <Field label={t('stamp.seal')} error={shown(problems.seal)}>
            {(p) => (
              <select
                {...p}
                className="input"
                value={seal?.id ?? ''}
                onChange={(e) => setSealId(e.target.value)}
                data-testid="batch-seal"
              >
                <option value="">{t('batch.chooseSeal')}</option>
                {electronic.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name} · {s.companyName}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {seal && (
            <Field label={t('category.label')} error={shown(problems.category)}>
              {(p) => (
                <select
                  {...p}
                  className="input"
                  value={chosenCategory}
                  onChange={(e) => setCategory(e.target.value)}
                  data-testid="batch-category"
                >
                  <CategoryOptions categories={categories} />
                </select>
              )}
            </Field>
          )}
          {seal && seal.grant.remainingUses !== null && (
            <p className="muted small" data-testid="batch-uses-left">
              {t('apply.usesLeft', { n: seal.grant.remainingUses })}
            </p>
          )}
        </section>

        <section className="card" data-testid="batch-documents">
          <div className="card-head">
            <h2>{t('batch.documents', { n: uploads.length })}</h2>
            <label className="button button-small file-button">
              <Icon name="upload" size={16} />
              {t('batch.addPdfs')}
              <input
                type="file"
                accept="application/pdf"
                multiple
                hidden
                data-testid="batch-file-input"
                onChange={(e) => void add(e.target.files).then(() => (e.target.value = ''))}
              />
            </label>
          </div>
          <p className="muted small">{t('batch.documentsHint', { n: MAX_DOCUMENTS })}</p>
          {tooMany && (
            <p className="field-error" data-testid="batch-too-many">
              {t('batch.tooMany', { n: MAX_DOCUMENTS })}
            </p>
          )}
          {uploads.length > 0 && (
            <ul className="batch-uploads" data-testid="batch-upload-list">
              {uploads.map((u) => (
                <li key={u.key} data-testid="batch-upload" data-state={u.state}>
                  <span className="batch-name">{u.name}</span>
                  <span className={`tag batch-state-${u.state}`}>{t(`batch.upload.${u.state}`)}</span>
                  <button
                    type="button"
                    className="icon-button"
                    onClick={() => remove(u.key)}
                    aria-label={t('batch.remove', { name: u.name })}
                    disabled={u.state === 'uploading'}
                  >
                    <Icon name="close" size={16} />
                  </button>
                  {u.error && <ProblemMessage error={u.error} testId="batch-upload-problem" />}
                </li>
              ))}
            </ul>
          )}
          {shown(problems.documents) && (
            <p className="field-error" data-testid="field-error">
              {problems.documents}
            </p>
          )}
        </section>

        <section className="card">
          <fieldset className="checks">
            <legend>{t('stamp.placement')}</legend>
            <label className="check">
              <input
                type="radio"
                name="batch-mode"
                checked={mode === 'keyword'}
                onChange={() => setMode('keyword')}
                data-testid="batch-mode-keyword"
              />
              <span>{t('stamp.byKeyword')}</span>
            </label>
            <label className="check">
              <input
                type="radio"
                name="batch-mode"
                checked={mode === 'crossPage'}
                onChange={() => setMode('crossPage')}
                data-testid="batch-mode-cross-page"
              />
              <span>{t('stamp.crossPage')}</span>
            </label>
          </fieldset>
          {mode === 'keyword' && (
            <Field label={t('stamp.keyword')} hint={t('batch.keywordHint')} error={shown(problems.keyword)}>
              {(p) => (
                <input
                  {...p}
                  className="input"
                  value={keyword}
                  onChange={(e) => setKeyword(e.target.value)}
                  placeholder={t('stamp.keywordPlaceholder')}
                  maxLength={100}
                  data-testid="batch-keyword"
                />
              )}
            </Field>
          )}
          <Field label={t('stamp.level')}>
            {(p) => (
              <select
                {...p}
                className="input"
                value={level}
                onChange={(e) => setLevel(e.target.value as PadesLevel)}
                data-testid="batch-level"
              >
                {PADES_LEVELS.map((l) => (
                  <option key={l} value={l}>
                    {l}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </section>

        <div className="sticky-actions stamp-actions">
          <ProblemMessage error={start.error} testId="batch-problem" />
          <button
            type="submit"
            className="button button-primary button-block button-large"
            disabled={start.busy}
            data-testid="batch-submit"
          >
            <Icon name="pen" size={18} />
            {t('batch.submit', { n: documents.length })}
          </button>
        </div>
      </form>
      {confirming && seal && (
        <ConfirmDialog
          title={t('batch.confirmTitle')}
          message={t('batch.confirm', { n: documents.length, seal: seal.name })}
          confirmLabel={t('batch.confirmOk', { n: documents.length })}
          busy={start.busy}
          error={<ProblemMessage error={start.error} testId="batch-confirm-problem" />}
          onConfirm={() => void start.run()}
          onCancel={() => setConfirming(false)}
        />
      )}
    </>
  );
}

/** A batch while the server signs it, then what became of each document. */
export function BatchPage({ batchId }: { batchId: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const batch = useQuery(['BatchPage.batch', batchId], (signal) => api.batch(batchId, signal));
  const { names, keyword } = useMemo(() => kept(batchId), [batchId]);
  const data = batch.data;
  const running = data?.status === 'running';
  const { reload } = batch;

  // Asked again a second after each answer while it runs (never two requests at once).
  useEffect(() => {
    if (!running || batch.loading) return;
    const timer = setTimeout(reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [running, batch.loading, data, reload]);

  const header = (
    <PageHeader
      title={t('batch.progressTitle')}
      subtitle={t('batch.progressSubtitle')}
      actions={
        <Link to="/stamp/batch" className="button" data-testid="batch-new">
          {t('batch.another')}
        </Link>
      }
    />
  );
  if (!data)
    return (
      <>
        {header}
        <LoadState loading={batch.loading} error={batch.error} empty={false} onRetry={batch.reload} />
      </>
    );
  const done = data.signed + data.failed;
  const percent = data.total === 0 ? 100 : Math.round((done / data.total) * 100);
  const failed = data.items.filter((i) => i.status === 'failed');
  return (
    <>
      {header}
      <section className="card batch-progress" data-testid="batch-progress" data-status={data.status}>
        <div className="batch-summary">
          <strong data-testid="batch-status">
            {running ? t('batch.running', { done, total: data.total }) : t('batch.finished')}
          </strong>
          <span className="muted small" data-testid="batch-counts">
            {t('batch.counts', { signed: data.signed, failed: data.failed, total: data.total })}
          </span>
        </div>
        <div
          className="batch-bar"
          role="progressbar"
          aria-valuemin={0}
          aria-valuemax={data.total}
          aria-valuenow={done}
          aria-label={t('batch.progressTitle')}
        >
          <span className="batch-bar-signed" style={{ width: `${(data.signed / Math.max(1, data.total)) * 100}%` }} />
          <span className="batch-bar-failed" style={{ width: `${(data.failed / Math.max(1, data.total)) * 100}%` }} />
        </div>
        <p className="muted small">
          {percent}% · {t('batch.startedAt', { time: i18n.formatDate(data.createdAt) })}
          {data.finishedAt && <> · {t('batch.finishedAt', { time: i18n.formatDate(data.finishedAt) })}</>}
        </p>
        {!running && failed.length > 0 && (
          <div className="alert alert-error" role="alert" data-testid="batch-failed-summary">
            <Icon name="alert" size={20} className="alert-icon" />
            <p>{t('batch.someFailed', { n: failed.length })}</p>
          </div>
        )}
        <ProblemMessage error={batch.error} testId="batch-load-problem" />
      </section>
      <section className="card card-flush">
        <ul className="entry-list batch-items" data-testid="batch-items">
          {[...failed, ...data.items.filter((i) => i.status !== 'failed')].map((item) => (
            <BatchRow key={item.position} item={item} name={names[item.documentSha256]} keyword={keyword} />
          ))}
        </ul>
      </section>
    </>
  );
}

function BatchRow({
  item,
  name,
  keyword,
}: {
  item: BatchItem;
  name: string | undefined;
  keyword?: string | undefined;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const [error, setError] = useState<ApiError | null>(null);
  const label = name ?? `${item.documentSha256.slice(0, 12)}…`;
  const download = async () => {
    if (!item.signatureId) return;
    setError(null);
    try {
      const file = await api.signedDocument(item.signatureId);
      const url = URL.createObjectURL(file);
      const link = window.document.createElement('a');
      link.href = url;
      link.download = signedFileName(i18n, name ?? `${item.documentSha256.slice(0, 12)}.pdf`);
      window.document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (failure) {
      setError(
        failure instanceof ApiError
          ? failure
          : new ApiError({ status: 0, code: 'network_error', detail: String(failure) }),
      );
    }
  };
  return (
    <li className="batch-item" data-testid="batch-item" data-status={item.status} data-sha256={item.documentSha256}>
      <div className="batch-item-head">
        <span className="batch-name" title={item.documentSha256}>
          {label}
        </span>
        <span className={`tag batch-state-${item.status}`}>{t(`batch.item.${item.status}`)}</span>
      </div>
      {item.status === 'failed' && (
        <p className="batch-reason" data-testid="batch-reason" data-code={item.errorCode ?? ''}>
          {failureText(i18n, item, keyword)}
        </p>
      )}
      {item.status === 'signed' && item.signatureId && (
        <button
          type="button"
          className="button button-small"
          onClick={() => void download()}
          data-testid="batch-download"
        >
          <Icon name="download" size={16} />
          {t('stamp.download')}
        </button>
      )}
      <ProblemMessage error={error} testId="batch-download-problem" />
    </li>
  );
}

/** Why a document failed, in the reader's language where its code has words, else the server's own sentence. */
function failureText(i18n: ReturnType<typeof useI18n>, item: BatchItem, keyword: string | undefined): string {
  const detail = item.errorDetail ?? '';
  if (!item.errorCode) return detail;
  // The item keeps only its code and sentence; the one parameter a batch shares is its keyword.
  return i18n.problemText({
    status: 0,
    code: item.errorCode as ApiError['problem']['code'],
    detail,
    ...(keyword ? { keyword } : {}),
  });
}
