import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, type AuditEvent, type ChainVerification } from '../../api';
import { AuditChanges } from './AuditChanges';
import { Icon } from '../../ui/Icons';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useDirectory } from '../users/directory';
import { useMutation } from '../../hooks';
import { actionName, useI18n, type MessageKey } from '../../i18n';
import { href, Link, navigate, useLocation } from '../../router';

const PAGE_SIZE = 50;
const categories = [
  'group',
  'company',
  'department',
  'user',
  'role',
  'auth',
  'session',
  'api_key',
  'pki',
  'document',
] as const;

/** A date input's day as an instant: the start of `from`, the end of `to`, in local time. */
function dayBound(day: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const date = new Date(`${day}T${end ? '23:59:59.999' : '00:00:00'}`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function AuditPage() {
  const { t } = useI18n();
  const { query } = useLocation();
  const applied = { prefix: query.get('category') ?? '', from: query.get('from') ?? '', to: query.get('to') ?? '' };
  const [form, setForm] = useState(applied);
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [nextBeforeSeq, setNextBeforeSeq] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const filterKey = `${applied.prefix}|${applied.from}|${applied.to}`;
  const [verification, setVerification] = useState<ChainVerification | null>(null);
  const verify = useMutation(() => api.verifyAudit(), setVerification);

  const fetchPage = (beforeSeq?: number, signal?: AbortSignal) =>
    api.auditEvents(
      {
        actionPrefix: applied.prefix ? `${applied.prefix}.` : undefined,
        from: dayBound(applied.from, false),
        to: dayBound(applied.to, true),
        beforeSeq,
        limit: PAGE_SIZE,
      },
      signal,
    );

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    fetchPage(undefined, controller.signal).then(
      (page) => {
        if (controller.signal.aborted) return;
        setEvents(page.items);
        setNextBeforeSeq(page.nextBeforeSeq);
        setLoading(false);
      },
      (failure: unknown) => {
        if (controller.signal.aborted) return;
        setError(failure instanceof ApiError ? failure : null);
        setLoading(false);
      },
    );
    return () => controller.abort();
    // The filters in the URL are the only input.
  }, [filterKey]);

  const loadMore = async () => {
    if (nextBeforeSeq === null) return;
    setLoadingMore(true);
    try {
      const page = await fetchPage(nextBeforeSeq);
      setEvents((list) => [...list, ...page.items]);
      setNextBeforeSeq(page.nextBeforeSeq);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure : null);
    } finally {
      setLoadingMore(false);
    }
  };

  const apply = (event: FormEvent) => {
    event.preventDefault();
    navigate(href('/audit', { category: form.prefix, from: form.from, to: form.to }), { replace: true });
  };
  const reset = () => {
    setForm({ prefix: '', from: '', to: '' });
    navigate('/audit', { replace: true });
  };

  return (
    <>
      <PageHeader
        title={t('audit.title')}
        subtitle={t('audit.subtitle')}
        actions={
          <button
            type="button"
            className="button button-primary"
            onClick={() => void verify.run()}
            disabled={verify.busy}
            data-testid="audit-verify"
          >
            <Icon name="shield" size={16} />
            {verify.busy ? t('audit.verifying') : t('audit.verify')}
          </button>
        }
      />
      <VerifyResult result={verification} error={verify.error} />
      <form className="toolbar" onSubmit={apply} data-testid="audit-filters">
        <label className="toolbar-field">
          <span>{t('audit.category')}</span>
          <select
            className="input"
            value={form.prefix}
            onChange={(e) => setForm({ ...form, prefix: e.target.value })}
            data-testid="audit-category"
          >
            <option value="">{t('common.all')}</option>
            {categories.map((c) => (
              <option key={c} value={c}>
                {t(`audit.cat.${c}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        <label className="toolbar-field">
          <span>{t('audit.from')}</span>
          <input
            type="date"
            className="input"
            value={form.from}
            max={form.to || undefined}
            onChange={(e) => setForm({ ...form, from: e.target.value })}
            data-testid="audit-from"
          />
        </label>
        <label className="toolbar-field">
          <span>{t('audit.to')}</span>
          <input
            type="date"
            className="input"
            value={form.to}
            min={form.from || undefined}
            onChange={(e) => setForm({ ...form, to: e.target.value })}
            data-testid="audit-to"
          />
        </label>
        <div className="toolbar-buttons">
          <button type="submit" className="button button-primary" data-testid="audit-apply">
            {t('audit.apply')}
          </button>
          <button type="button" className="button" onClick={reset}>
            {t('audit.reset')}
          </button>
        </div>
      </form>
      <section className="card card-flush">
        <LoadState loading={loading} error={error} empty={events.length === 0} emptyText={t('audit.none')} />
        {!loading && events.length > 0 && <AuditTable events={events} />}
        {!loading && events.length > 0 && (
          <div className="pager">
            {nextBeforeSeq !== null ? (
              <button
                type="button"
                className="button"
                onClick={() => void loadMore()}
                disabled={loadingMore}
                data-testid="audit-more"
              >
                {loadingMore ? t('common.loading') : t('common.loadMore')}
              </button>
            ) : (
              <span className="muted small">{t('audit.end')}</span>
            )}
          </div>
        )}
      </section>
    </>
  );
}

function AuditTable({ events }: { events: AuditEvent[] }) {
  const i18n = useI18n();
  const { t } = i18n;
  const directory = useDirectory();
  const actorLabel = (e: AuditEvent) => {
    if (e.actor.type === 'system') return `${t('audit.system')}${e.actor.name ? ` · ${e.actor.name}` : ''}`;
    if (e.actor.type === 'api_key') return `${t('audit.apiKey')} · ${e.actor.name ?? ''}`;
    if (!e.actor.id) return e.actor.name ?? t('audit.anonymous');
    return e.actor.name ?? e.actor.id.slice(0, 8);
  };
  const target = (e: AuditEvent) => {
    const kind = i18n.tx(`target.${e.target.type}`, e.target.type);
    if (!e.target.id) return <span className="muted">{kind}</span>;
    const short = <span className="mono">{e.target.id.slice(0, 8)}</span>;
    // A person acting on their own account (signing in, changing a password) is named.
    const who = e.target.type === 'user' && e.actor.id === e.target.id && e.actor.name ? e.actor.name : null;
    if (e.target.type === 'user')
      return (
        <Link to={`/users/${e.target.id}`}>
          {kind} · {who ?? short}
        </Link>
      );
    if (e.target.type === 'company')
      return <Link to={href('/companies', { company: e.target.id })}>{directory.nameOf(e.target.id)}</Link>;
    return (
      <span>
        {kind} · {short}
      </span>
    );
  };
  return (
    <table className="table responsive audit-table" data-testid="audit-table">
      <thead>
        <tr>
          <th className="num">{t('audit.seq')}</th>
          <th>{t('audit.time')}</th>
          <th>{t('audit.actor')}</th>
          <th>{t('audit.action')}</th>
          <th>{t('audit.target')}</th>
          <th>{t('audit.changes')}</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.id} data-testid="audit-row" data-action={e.action} className={e.valid ? undefined : 'row-invalid'}>
            <td data-label={t('audit.seq')} className="num mono">
              {e.seq}
            </td>
            <td data-label={t('audit.time')} className="nowrap">
              {i18n.formatDate(e.occurredAt)}
            </td>
            <td data-label={t('audit.actor')}>
              <div>
                {actorLabel(e)}
                {e.ip && <div className="muted small mono">{e.ip}</div>}
              </div>
            </td>
            <td data-label={t('audit.action')} className="cell-title">
              <span className={`action action-${e.action.split('.')[0]}`}>{actionName(i18n, e.action)}</span>
              {!e.valid && (
                <span className="badge badge-danger" title={t('audit.invalidRow')}>
                  <Icon name="alert" size={12} /> {t('audit.invalidRow')}
                </span>
              )}
            </td>
            <td data-label={t('audit.target')}>
              <div>
                {target(e)}
                {e.companyId && e.target.type !== 'company' && (
                  <div className="muted small">{directory.nameOf(e.companyId)}</div>
                )}
              </div>
            </td>
            <td data-label={t('audit.changes')}>
              <AuditChanges event={e} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Whether the hash chain holds and matches its signed checkpoints, or where it first breaks. */
function VerifyResult({ result, error }: { result: ChainVerification | null; error: ApiError | null }) {
  const { t, formatDate } = useI18n();
  if (error) return <ProblemMessage error={error} testId="audit-verify-result" />;
  if (!result) return null;
  if (result.intact)
    return (
      <div className="alert alert-success" role="status" data-testid="audit-verify-result" data-intact="true">
        <Icon name="check" size={20} className="alert-icon" />
        <p>
          {t('audit.intact', { checked: result.checked, head: result.headSeq })}{' '}
          <span data-testid="audit-checkpoint">
            {result.checkpoint
              ? t('audit.checkpoint', {
                  size: result.checkpoint.treeSize,
                  time: formatDate(result.checkpoint.signedAt),
                })
              : t('audit.noCheckpoint')}
          </span>
        </p>
      </div>
    );
  const problem = result.firstProblem;
  return (
    <div className="alert alert-error" role="alert" data-testid="audit-verify-result" data-intact="false">
      <Icon name="alert" size={20} className="alert-icon" />
      <p>
        {problem
          ? t('audit.broken', {
              seq: problem.seq,
              kind: t(`audit.problem.${problem.kind}` as MessageKey),
              detail: problem.detail,
            })
          : t('audit.broken', { seq: '?', kind: '', detail: '' })}
      </p>
    </div>
  );
}
