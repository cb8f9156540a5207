import './devices.css';
import { useState, type FormEvent, type MouseEvent } from 'react';
import { api, ApiError, type Person, type SealUsageRecord } from '../../api';
import { useQuery } from '../../hooks';
import { DevicesTextProvider, useDevicesText } from './i18n';
import { useI18n } from '../../i18n';
import { href, Link, navigate, useLocation } from '../../router';
import { usePermissionSet, useSession } from '../../session';
import { CompanySelect } from '../companies/CompanySelect';
import { SealPicker, type SealChoice } from '../seals/SealPicker';
import { saveBlob } from '../../ui/download';
import { Icon } from '../../ui/Icons';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { PersonPicker } from '../../ui/PersonPicker';
import { ProblemMessage } from '../../ui/ProblemMessage';

const PAGE_SIZE = 200;
const FORMATS = ['csv', 'xlsx', 'pdf'] as const;
type Period = 'week' | 'month';

/** A date input's day (local) as the start of that day, ISO 8601; `next` moves to the day after. */
export function dayStart(day: string, next = false): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const date = new Date(`${day}T00:00:00`);
  if (next) date.setDate(date.getDate() + 1);
  return date.toISOString();
}

export const isoDay = (date: Date) =>
  `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;

/** The Monday of this week, or the first of this month: where a report period starts by default. */
function periodStart(period: Period): string {
  const now = new Date();
  if (period === 'month') return isoDay(new Date(now.getFullYear(), now.getMonth(), 1));
  const monday = new Date(now);
  monday.setDate(now.getDate() - ((now.getDay() + 6) % 7));
  return isoDay(monday);
}

/**
 * Usage records (用印记录, issue 16 §8): electronic signatures and physical stamps side by side, per
 * seal, company and person in a time range, filtered in the URL; with the weekly and monthly
 * reports to download as CSV, XLSX or PDF.
 */
export function UsagePage() {
  return (
    <DevicesTextProvider>
      <Usage />
    </DevicesTextProvider>
  );
}

function Usage() {
  const d = useDevicesText();
  const i18n = useI18n();
  const { t } = i18n;
  const { me } = useSession();
  const permissions = usePermissionSet();
  const canSearchPeople = permissions.has('org.read');
  const canCorrect = permissions.has('seals.manage');
  const { query } = useLocation();
  const companyId = query.get('company') ?? '';
  const sealId = query.get('seal') ?? '';
  const userId = query.get('user') ?? '';
  const from = query.get('from') ?? '';
  const to = query.get('to') ?? '';
  const [seal, setSeal] = useState<SealChoice | null>(null);
  const [person, setPerson] = useState<Person | null>(null);
  const setFilter = (patch: Record<string, string | undefined>) =>
    navigate(href('/seal-usage', { company: companyId, seal: sealId, user: userId, from, to, ...patch }), {
      replace: true,
    });

  const fromIso = dayStart(from);
  const toIso = dayStart(to, true);
  const key = [companyId, sealId, userId, fromIso, toIso].join('|');
  const usage = useQuery(['UsagePage.usage', key], (signal) =>
    api.sealUsage(
      {
        companyId: companyId || undefined,
        sealId: sealId || undefined,
        userId: userId || undefined,
        from: fromIso,
        to: toIso,
        limit: PAGE_SIZE,
      },
      signal,
    ),
  );
  const items = usage.data?.items ?? [];
  const electronic = items.filter((r) => r.kind === 'electronic');
  const physical = items.filter((r) => r.kind === 'physical');

  return (
    <>
      <PageHeader
        title={d('usage.title')}
        subtitle={d('usage.subtitle')}
        actions={
          <Link to="/seal-usage/reviews" className="button" data-testid="usage-reviews-link">
            {d('review.link')}
          </Link>
        }
      />
      <section className="card usage-filters" data-testid="usage-filters">
        <div className="usage-filter-grid">
          <label className="toolbar-field">
            <span>{d('usage.company')}</span>
            <CompanySelect
              value={companyId}
              onChange={(id) => setFilter({ company: id || undefined })}
              allowEmpty
              emptyLabel={t('common.all')}
              data-testid="usage-company"
            />
          </label>
          <label className="toolbar-field">
            <span>{d('usage.from')}</span>
            <input
              type="date"
              className="input"
              value={from}
              onChange={(e) => setFilter({ from: e.target.value || undefined })}
              data-testid="usage-from"
            />
          </label>
          <label className="toolbar-field">
            <span>{d('usage.to')}</span>
            <input
              type="date"
              className="input"
              value={to}
              onChange={(e) => setFilter({ to: e.target.value || undefined })}
              data-testid="usage-to"
            />
          </label>
        </div>
        <div className="usage-filter-grid">
          <div className="toolbar-field">
            <span>{d('usage.seal')}</span>
            {sealId ? (
              <span className="filter-chip" data-testid="usage-seal-chip">
                {seal?.name ?? items.find((r) => r.sealId === sealId)?.sealName ?? sealId.slice(0, 8)}
                <button
                  type="button"
                  className="icon-button"
                  aria-label={t('common.remove')}
                  onClick={() => {
                    setSeal(null);
                    setFilter({ seal: undefined });
                  }}
                >
                  <Icon name="close" size={14} />
                </button>
              </span>
            ) : (
              <SealPicker
                value={seal}
                onChange={(s) => {
                  setSeal(s);
                  setFilter({ seal: s?.id });
                }}
                testId="usage-seal"
              />
            )}
          </div>
          <div className="toolbar-field">
            <span>{d('usage.person')}</span>
            {userId ? (
              <span className="filter-chip" data-testid="usage-person-chip">
                {person?.name ?? items.find((r) => r.userId === userId)?.userName ?? userId.slice(0, 8)}
                <button
                  type="button"
                  className="icon-button"
                  aria-label={t('common.remove')}
                  onClick={() => {
                    setPerson(null);
                    setFilter({ user: undefined });
                  }}
                >
                  <Icon name="close" size={14} />
                </button>
              </span>
            ) : (
              <PersonPicker
                value={person}
                onChange={(p) => {
                  setPerson(p);
                  setFilter({ user: p?.id });
                }}
                canSearch={canSearchPeople}
                known={[{ id: me.user.id, name: me.user.name }]}
                testId="usage-person"
              />
            )}
          </div>
        </div>
      </section>

      <Reports companyId={companyId || me.company.id} />

      <LoadState loading={usage.loading && !usage.data} error={usage.error} empty={false} onRetry={usage.reload} />
      {usage.data && (
        <div className="usage-columns" data-testid="usage-columns">
          <UsageColumn kind="electronic" records={electronic} canCorrect={canCorrect} onCorrected={usage.reload} />
          <UsageColumn kind="physical" records={physical} canCorrect={canCorrect} onCorrected={usage.reload} />
        </div>
      )}
    </>
  );
}

function UsageColumn({
  kind,
  records,
  canCorrect,
  onCorrected,
}: {
  kind: SealUsageRecord['kind'];
  records: SealUsageRecord[];
  canCorrect: boolean;
  onCorrected: () => void;
}) {
  const d = useDevicesText();
  const i18n = useI18n();
  return (
    <section className="card usage-column" data-testid={`usage-${kind}`} data-count={records.length}>
      <h2>
        {kind === 'electronic' ? d('usage.electronic') : d('usage.physical')}{' '}
        <span className="muted small">({records.length})</span>
      </h2>
      {records.length === 0 ? (
        <p className="empty">{d('usage.none')}</p>
      ) : (
        <ul className="item-list">
          {records.map((r) => (
            <li key={r.recordId} data-testid="usage-record" data-kind={r.kind} data-record={r.recordId}>
              <div className="role-line">
                <strong>{r.sealName}</strong>
                <span className="muted small">{r.userName}</span>
              </div>
              <span className="muted small cell-break">
                {i18n.formatDate(r.at)}
                {r.location && ` · ${r.location.lat.toFixed(5)}, ${r.location.lon.toFixed(5)}`}
                {' · '}
                <span className="mono">{kind === 'electronic' ? `${r.reference.slice(0, 12)}…` : r.reference}</span>
                {r.applicationId && (
                  <>
                    {' · '}
                    <Link to={`/applications/${r.applicationId}`}>{d('usage.application')}</Link>
                  </>
                )}
              </span>
              <Corrections record={r} canCorrect={canCorrect} onCorrected={onCorrected} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * A record's corrections (appended, oldest first: the record above stays as it was made) and, for
 * whoever holds seals.manage, a form to append one more: what should have been recorded, and why.
 */
function Corrections({
  record,
  canCorrect,
  onCorrected,
}: {
  record: SealUsageRecord;
  canCorrect: boolean;
  onCorrected: () => void;
}) {
  const d = useDevicesText();
  const i18n = useI18n();
  const { t } = i18n;
  const [open, setOpen] = useState(false);
  const [what, setWhat] = useState('');
  const [why, setWhy] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!what.trim() || !why.trim()) return;
    setBusy(true);
    setFailure(null);
    try {
      await api.correctUsageRecord(record.recordId, { what: what.trim(), why: why.trim() });
      setWhat('');
      setWhy('');
      setOpen(false);
      onCorrected();
    } catch (error) {
      setFailure(error instanceof ApiError ? error : null);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {record.corrections.length > 0 && (
        <ol className="usage-corrections" data-testid="usage-corrections">
          {record.corrections.map((c) => (
            <li key={c.id} data-testid="usage-correction">
              <span className="badge badge-warn">{d('correction.label')}</span> <strong>{c.what}</strong>
              <span className="muted small cell-break">
                {' '}
                {d('correction.because', { why: c.why })} · {c.correctedByName} · {i18n.formatDate(c.createdAt)}
              </span>
            </li>
          ))}
        </ol>
      )}
      {canCorrect &&
        (open ? (
          <form className="usage-correct-form" onSubmit={(e) => void submit(e)} data-testid="usage-correct-form">
            <label className="toolbar-field">
              <span>{d('correction.what')}</span>
              <input
                className="input"
                value={what}
                maxLength={500}
                required
                onChange={(e) => setWhat(e.target.value)}
                data-testid="usage-correct-what"
              />
            </label>
            <label className="toolbar-field">
              <span>{d('correction.why')}</span>
              <textarea
                className="input"
                value={why}
                maxLength={1000}
                rows={2}
                required
                onChange={(e) => setWhy(e.target.value)}
                data-testid="usage-correct-why"
              />
            </label>
            <p className="muted small">{d('correction.hint')}</p>
            <div className="form-actions">
              <button
                type="submit"
                className="button button-primary button-small"
                disabled={busy || !what.trim() || !why.trim()}
                data-testid="usage-correct-submit"
              >
                {d('correction.submit')}
              </button>
              <button type="button" className="button button-small" onClick={() => setOpen(false)}>
                {t('common.cancel')}
              </button>
            </div>
            <ProblemMessage error={failure} />
          </form>
        ) : (
          <button
            type="button"
            className="button button-small usage-correct"
            onClick={() => setOpen(true)}
            data-testid="usage-correct"
          >
            {d('correction.open')}
          </button>
        ))}
    </>
  );
}

/**
 * The weekly and monthly reports (GET /seal-usage/reports): real links to the files, opened with the
 * session (the API takes a bearer token, which a plain navigation would not carry).
 */
function Reports({ companyId }: { companyId: string }) {
  const d = useDevicesText();
  const [period, setPeriod] = useState<Period>('week');
  const [from, setFrom] = useState(() => periodStart('week'));
  const [failure, setFailure] = useState<ApiError | null>(null);
  const urlOf = (format: (typeof FORMATS)[number]) =>
    `/api/v1/seal-usage/reports?${new URLSearchParams({ period, from, companyId, format }).toString()}`;
  const open = async (event: MouseEvent<HTMLAnchorElement>, format: (typeof FORMATS)[number]) => {
    event.preventDefault();
    setFailure(null);
    try {
      saveBlob(await api.sealUsageReport(urlOf(format)), `seal-usage-${period}-${from}.${format}`);
    } catch (error) {
      setFailure(error instanceof ApiError ? error : null);
    }
  };
  return (
    <section className="card usage-reports" data-testid="usage-reports">
      <h2>{d('usage.reports')}</h2>
      <div className="usage-filter-grid">
        <label className="toolbar-field">
          <span>{d('usage.period')}</span>
          <select
            className="input"
            value={period}
            onChange={(e) => {
              const next = e.target.value as Period;
              setPeriod(next);
              setFrom(periodStart(next));
            }}
            data-testid="usage-report-period"
          >
            <option value="week">{d('usage.week')}</option>
            <option value="month">{d('usage.month')}</option>
          </select>
        </label>
        <label className="toolbar-field">
          <span>{d('usage.periodFrom')}</span>
          <input
            type="date"
            className="input"
            value={from}
            onChange={(e) => e.target.value && setFrom(e.target.value)}
            data-testid="usage-report-from"
          />
        </label>
      </div>
      <p className="report-links">
        {FORMATS.map((format) => (
          <a
            key={format}
            href={urlOf(format)}
            download={`seal-usage-${period}-${from}.${format}`}
            className="button button-small"
            onClick={(e) => void open(e, format)}
            data-testid={`usage-report-${format}`}
          >
            <Icon name="download" size={15} />
            {format.toUpperCase()}
          </a>
        ))}
      </p>
      <ProblemMessage error={failure} />
    </section>
  );
}
