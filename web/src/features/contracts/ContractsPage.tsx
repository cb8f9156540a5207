import { useEffect, useState, type FormEvent } from 'react';
import { api, CONTRACT_STATUSES, STANDARD_CATEGORIES, type ContractStatus, type ContractSummary } from '../../api';
import { useIsPhone, useQuery } from '../../hooks';
import { categoryName, useI18n } from '../../i18n';
import { href, Link, navigate, useLocation } from '../../router';
import { Icon } from '../../ui/Icons';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { ContractStatusBadge } from './ContractBadges';
import { EvidenceButton, useEvidenceDownload, type EvidenceDownload } from './EvidenceButton';
import './archive.css';

/** Which of a contract's dates the day range applies to. */
const DATE_KINDS = ['effective', 'expires', 'completed'] as const;
type DateKind = (typeof DATE_KINDS)[number];
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The archive's filters beside status and search, as the URL keeps them. */
interface Filters {
  category: string;
  party: string;
  number: string;
  dates: DateKind;
  from: string;
  to: string;
}
const NO_FILTERS: Filters = { category: '', party: '', number: '', dates: 'effective', from: '', to: '' };

function filtersOf(query: URLSearchParams): Filters {
  const dates = query.get('dates') ?? '';
  const day = (name: string) => {
    const value = query.get(name) ?? '';
    return DAY.test(value) ? value : '';
  };
  return {
    category: query.get('category') ?? '',
    party: query.get('party') ?? '',
    number: query.get('number') ?? '',
    dates: (DATE_KINDS as readonly string[]).includes(dates) ? (dates as DateKind) : 'effective',
    from: day('from'),
    to: day('to'),
  };
}

const activeCount = (f: Filters) =>
  [f.category, f.party.trim(), f.number.trim(), f.from || f.to].filter(Boolean).length;

/** A date input's day as an instant: the start of `from`, the end of `to`, in the browser's time zone. */
function dayBound(day: string, end: boolean): string | undefined {
  if (!DAY.test(day)) return undefined;
  const date = new Date(`${day}T${end ? '23:59:59.999' : '00:00:00'}`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The list's query for the API: days for the contract's own dates, instants for its completion. */
function listQuery(f: Filters) {
  const from = f.from || undefined;
  const to = f.to || undefined;
  return {
    category: f.category || undefined,
    party: f.party.trim() || undefined,
    number: f.number.trim() || undefined,
    ...(f.dates === 'effective' ? { effectiveFrom: from, effectiveTo: to } : {}),
    ...(f.dates === 'expires' ? { expiresFrom: from, expiresTo: to } : {}),
    ...(f.dates === 'completed'
      ? { completedFrom: from && dayBound(from, false), completedTo: to && dayBound(to, true) }
      : {}),
  };
}

/**
 * 合同: the archive of the contracts I sent or take part in (and, with contracts.read, all of my
 * companies'), newest first; by status (tabs), searched by title, number or a party's name, and
 * filtered by category, party, number and a range of days on the effective, expiry or completion
 * date, all kept in the URL. Each sent contract's evidence package downloads from its row. A table
 * on a desk, cards on a phone (the filters folded away until asked for).
 */
export function ContractsPage() {
  const i18n = useI18n();
  const { t, tx } = i18n;
  const isPhone = useIsPhone();
  const { path, query } = useLocation();
  const raw = query.get('status') ?? '';
  const status = (CONTRACT_STATUSES as readonly string[]).includes(raw) ? (raw as ContractStatus) : undefined;
  const q = query.get('q') ?? '';
  const [text, setText] = useState(q);
  const applied = filtersOf(query);
  const appliedKey = JSON.stringify(applied);
  const [form, setForm] = useState<Filters>(applied);
  const active = activeCount(applied);
  const [open, setOpen] = useState(active > 0);
  const evidence = useEvidenceDownload();

  /** The URL of this list with its status, search and filters. */
  const target = (over: { status?: ContractStatus | undefined; q?: string; filters?: Filters }) => {
    const f = over.filters ?? applied;
    return href(path, {
      status: 'status' in over ? over.status : status,
      q: over.q ?? q,
      category: f.category,
      party: f.party.trim(),
      number: f.number.trim(),
      dates: f.from || f.to ? f.dates : '',
      from: f.from,
      to: f.to,
    });
  };

  // Back and forward change the URL's search: the box and the form follow it.
  useEffect(() => setText((current) => (current.trim() === q ? current : q)), [q]);
  useEffect(() => setForm(JSON.parse(appliedKey) as Filters), [appliedKey]);
  // The search follows typing after a pause, replacing the URL rather than piling up history.
  useEffect(() => {
    const timer = setTimeout(() => {
      if (text.trim() !== q) navigate(target({ q: text.trim() }), { replace: true });
    }, 300);
    return () => clearTimeout(timer);
  }, [text, q, path, status, appliedKey]);

  const list = useQuery(['ContractsPage.list', status, q, appliedKey], (signal) =>
    api.contracts({ status, q: q || undefined, ...listQuery(applied), limit: 200 }, signal),
  );
  const items = list.data?.items ?? [];
  const reversed = form.from !== '' && form.to !== '' && form.to < form.from;

  const apply = (event: FormEvent) => {
    event.preventDefault();
    if (reversed) return;
    navigate(target({ filters: form }), { replace: true });
  };
  const reset = () => {
    setForm(NO_FILTERS);
    navigate(target({ filters: NO_FILTERS }), { replace: true });
  };

  return (
    <>
      <PageHeader
        title={t('contract.title')}
        subtitle={t('contract.subtitle')}
        actions={
          <Link to="/contracts/new" className="button button-primary" data-testid="contract-new">
            <Icon name="plus" size={16} />
            {t('contract.new')}
          </Link>
        }
      />
      <nav className="tabs" aria-label={t('contract.statusFilter')}>
        <Link
          to={target({ status: undefined })}
          className={!status ? 'active' : undefined}
          aria-current={!status ? 'page' : undefined}
          data-testid="contracts-tab-all"
        >
          {t('common.all')}
        </Link>
        {CONTRACT_STATUSES.map((s) => (
          <Link
            key={s}
            to={target({ status: s })}
            className={status === s ? 'active' : undefined}
            aria-current={status === s ? 'page' : undefined}
            data-testid={`contracts-tab-${s}`}
          >
            {tx(`contractStatus.${s}`, s)}
          </Link>
        ))}
      </nav>
      <div className="toolbar">
        <div className="search-box toolbar-grow">
          <Icon name="search" size={16} />
          <input
            type="search"
            className="input"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder={t('contract.searchPlaceholder')}
            aria-label={t('common.search')}
            maxLength={100}
            data-testid="contracts-search"
          />
        </div>
        <button
          type="button"
          className={`button${active > 0 ? ' button-active' : ''}`}
          onClick={() => setOpen((v) => !v)}
          aria-expanded={open}
          aria-controls="contract-filters"
          data-testid="contracts-filters-toggle"
        >
          <Icon name="layers" size={16} />
          {t('contract.filters')}
          {active > 0 && (
            <span className="filter-count" data-testid="contracts-filter-count">
              {active}
            </span>
          )}
        </button>
      </div>
      {open && (
        <form
          id="contract-filters"
          className="card archive-filters"
          onSubmit={apply}
          data-testid="contract-filters"
          aria-label={t('contract.filters')}
        >
          <div className="toolbar">
            <label className="toolbar-field">
              <span>{t('category.label')}</span>
              <select
                className="input"
                value={form.category}
                onChange={(e) => setForm({ ...form, category: e.target.value })}
                data-testid="contracts-category"
              >
                <option value="">{t('common.all')}</option>
                {[
                  ...STANDARD_CATEGORIES,
                  ...(form.category && !(STANDARD_CATEGORIES as readonly string[]).includes(form.category)
                    ? [form.category]
                    : []),
                ].map((c) => (
                  <option key={c} value={c}>
                    {categoryName(i18n, c)}
                  </option>
                ))}
              </select>
            </label>
            <label className="toolbar-field">
              <span>{t('contract.party')}</span>
              <input
                className="input"
                value={form.party}
                onChange={(e) => setForm({ ...form, party: e.target.value })}
                placeholder={t('contract.partyPlaceholder')}
                maxLength={100}
                data-testid="contracts-party"
              />
            </label>
            <label className="toolbar-field">
              <span>{t('contract.field.number')}</span>
              <input
                className="input mono"
                value={form.number}
                onChange={(e) => setForm({ ...form, number: e.target.value })}
                placeholder={t('contract.numberPlaceholder')}
                maxLength={64}
                data-testid="contracts-number"
              />
            </label>
          </div>
          <div className="toolbar">
            <label className="toolbar-field">
              <span>{t('contract.dateKind')}</span>
              <select
                className="input"
                value={form.dates}
                onChange={(e) => setForm({ ...form, dates: e.target.value as DateKind })}
                data-testid="contracts-dates"
              >
                {DATE_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {t(`contract.dates.${k}`)}
                  </option>
                ))}
              </select>
            </label>
            <label className="toolbar-field">
              <span>{t('contract.dateFrom')}</span>
              <input
                type="date"
                className="input"
                value={form.from}
                max={form.to || undefined}
                onChange={(e) => setForm({ ...form, from: e.target.value })}
                data-testid="contracts-from"
              />
            </label>
            <label className="toolbar-field">
              <span>{t('contract.dateTo')}</span>
              <input
                type="date"
                className="input"
                value={form.to}
                min={form.from || undefined}
                onChange={(e) => setForm({ ...form, to: e.target.value })}
                aria-invalid={reversed || undefined}
                data-testid="contracts-to"
              />
            </label>
            <div className="toolbar-buttons">
              <button type="submit" className="button button-primary" disabled={reversed} data-testid="contracts-apply">
                {t('audit.apply')}
              </button>
              <button type="button" className="button" onClick={reset} data-testid="contracts-reset">
                {t('audit.reset')}
              </button>
            </div>
          </div>
          {reversed && (
            <p className="field-error" role="alert" data-testid="contracts-range-problem">
              {t('contract.rangeReversed')}
            </p>
          )}
        </form>
      )}
      <ProblemMessage error={evidence.error} testId="contract-evidence-problem" />
      <section className="card card-flush">
        <LoadState
          loading={list.loading && !list.data}
          error={list.error}
          empty={items.length === 0}
          onRetry={list.reload}
          emptyText={q || status || active > 0 ? t('common.noResults') : t('contract.empty')}
        />
        {items.length > 0 &&
          (isPhone ? (
            <ul className="entry-list" data-testid="contract-list">
              {items.map((c) => (
                <li key={c.id} className="archive-entry">
                  <Link
                    to={`/contracts/${c.id}`}
                    className="entry"
                    data-testid="contract-row"
                    data-contract={c.id}
                    data-status={c.status}
                  >
                    <span className="entry-head">
                      <span className="entry-title">{c.title}</span>
                      <ContractStatusBadge status={c.status} />
                    </span>
                    <span className="entry-meta">
                      <span className="tag">{categoryName(i18n, c.category)}</span>
                      {c.number && <span className="mono">{c.number}</span>}
                      <span>{c.companyName}</span>
                      <span>{i18n.formatDate(c.createdAt, false)}</span>
                    </span>
                    <Icon name="chevron" size={16} className="entry-arrow" />
                  </Link>
                  <ArchiveDates contract={c} />
                  {c.status !== 'draft' && (
                    <div className="archive-entry-actions">
                      <EvidenceButton contract={c} state={evidence} />
                    </div>
                  )}
                </li>
              ))}
            </ul>
          ) : (
            <ContractTable items={items} evidence={evidence} />
          ))}
      </section>
    </>
  );
}

function ContractTable({ items, evidence }: { items: ContractSummary[]; evidence: EvidenceDownload }) {
  const i18n = useI18n();
  const { t } = i18n;
  return (
    <table className="table" data-testid="contract-list">
      <thead>
        <tr>
          <th>{t('contract.field.title')}</th>
          <th>{t('contract.field.number')}</th>
          <th>{t('contract.company')}</th>
          <th>{t('category.label')}</th>
          <th>{t('contract.status')}</th>
          <th>{t('contract.term')}</th>
          <th>{t('common.createdAt')}</th>
          <th className="actions-col">
            <span className="sr-only">{t('contract.evidence')}</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {items.map((c) => (
          <tr key={c.id} data-testid="contract-row" data-contract={c.id} data-status={c.status}>
            <td className="cell-title">
              <Link to={`/contracts/${c.id}`}>{c.title}</Link>
            </td>
            <td className="mono">{c.number ?? '—'}</td>
            <td>{c.companyName}</td>
            <td>{categoryName(i18n, c.category)}</td>
            <td>
              <ContractStatusBadge status={c.status} />
            </td>
            <td className="nowrap">
              <span data-testid="contract-term">{term(i18n, c)}</span>
              {c.deadline && (c.status === 'sent' || c.status === 'signing') && (
                <span className="archive-deadline muted small">
                  {t('contract.deadline')} {i18n.formatDate(c.deadline, false)}
                </span>
              )}
            </td>
            <td className="nowrap">{i18n.formatDate(c.createdAt, false)}</td>
            <td className="actions-col">
              <EvidenceButton contract={c} state={evidence} compact />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The contract's term, as its own dates say: effective – expiry (either may be open). */
function term(i18n: ReturnType<typeof useI18n>, c: ContractSummary): string {
  if (!c.effectiveOn && !c.expiresOn) return '—';
  return `${c.effectiveOn ? day(c.effectiveOn) : '…'} – ${c.expiresOn ? day(c.expiresOn) : '…'}`;
}

/** A date column as its day (the API answers YYYY-MM-DD), never shifted by the browser's time zone. */
const day = (value: string) => value.slice(0, 10);

/** On a phone card: the contract's term and, once completed, the day it was. */
function ArchiveDates({ contract }: { contract: ContractSummary }) {
  const i18n = useI18n();
  const { t } = i18n;
  const hasTerm = contract.effectiveOn || contract.expiresOn;
  if (!hasTerm && contract.status !== 'completed') return null;
  return (
    <p className="archive-entry-dates muted small">
      {hasTerm && (
        <span data-testid="contract-term">
          {t('contract.term')} {term(i18n, contract)}
        </span>
      )}
      {contract.status === 'completed' && contract.endedAt && (
        <span>
          {t('contract.completedOn')} {i18n.formatDate(contract.endedAt, false)}
        </span>
      )}
    </p>
  );
}
