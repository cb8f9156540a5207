import { useState } from 'react';
import {
  api,
  REPORT_FLAGS,
  type Person,
  type PermissionReportQuery,
  type PermissionReportRow,
  type ReportFlag,
} from '../../api';
import { CompanySelect } from '../companies/CompanySelect';
import { saveBlob } from '../../ui/download';
import { Icon } from '../../ui/Icons';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { PersonPicker } from '../../ui/PersonPicker';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { SealPicker, type SealChoice } from './SealPicker';
import { useMutation, useQuery } from '../../hooks';
import { categoryName, listOf, roleName, sealTypeName, statusName, useI18n, type I18n } from '../../i18n';
import { href, Link, navigate, useLocation } from '../../router';
import { usePermissionSet } from '../../session';

type By = 'company' | 'seal' | 'person';
const BYS: readonly By[] = ['company', 'seal', 'person'];
const PAGE = 200;

/** How loud each flag is: what must be acted on now, what deserves a look, what is only worth knowing. */
export const flagTone: Record<ReportFlag, 'danger' | 'warn' | 'info'> = {
  expired: 'danger',
  inactive_grantee: 'danger',
  custodian_user: 'danger',
  overlapping: 'warn',
  beyond_company: 'warn',
  beyond_function: 'warn',
  single_user: 'info',
};

export function FlagBadge({ flag }: { flag: ReportFlag }) {
  const { t } = useI18n();
  return (
    <span
      className={`badge badge-${flagTone[flag]}`}
      data-testid="report-flag"
      data-flag={flag}
      title={t(`flag.${flag}.hint`)}
    >
      {t(`flag.${flag}`)}
    </span>
  );
}

/** A role grantee arrives as `role@company`; people read it as "Employee · 华夏科技". */
function granteeOf(i18n: I18n, row: PermissionReportRow): string {
  if (!row.granteeName) return '—';
  if (row.granteeType === 'role') {
    const at = row.granteeName.indexOf('@');
    if (at > 0) return `${roleName(i18n, row.granteeName.slice(0, at))} · ${row.granteeName.slice(at + 1)}`;
  }
  return row.granteeName;
}

/**
 * 用印权限报表: who may use which seal through which grant, per company (subtree), per seal or
 * per person, with the seven flags as badges and a filter on one of them; the same rows as
 * CSV. The choices live in the URL, so a report can be shared as a link.
 */
export function PermissionReportPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const { query } = useLocation();
  const canSearchPeople = usePermissionSet().has('org.read');
  const by: By = (BYS as readonly string[]).includes(query.get('by') ?? '') ? (query.get('by') as By) : 'company';
  const companyId = query.get('company') ?? '';
  const sealId = query.get('seal') ?? '';
  const userId = query.get('user') ?? '';
  const rawFlag = query.get('flag') ?? '';
  const flag = (REPORT_FLAGS as readonly string[]).includes(rawFlag) ? (rawFlag as ReportFlag) : undefined;
  const [picked, setPicked] = useState<{ seal: SealChoice | null; person: Person | null }>({
    seal: null,
    person: null,
  });
  const [limit, setLimit] = useState(PAGE);

  const go = (patch: Record<string, string | undefined>) => {
    setLimit(PAGE);
    navigate(
      href('/reports/seal-permissions', { by, company: companyId, seal: sealId, user: userId, flag, ...patch }),
      { replace: true },
    );
  };

  const reportQuery: PermissionReportQuery | null =
    by === 'company'
      ? { ...(companyId ? { under: companyId } : {}), ...(flag ? { flag } : {}) }
      : by === 'seal'
        ? sealId
          ? { sealId, ...(flag ? { flag } : {}) }
          : null
        : userId
          ? { userId, ...(flag ? { flag } : {}) }
          : null;
  const key = JSON.stringify(reportQuery);
  const report = useQuery(['PermissionReportPage.report', key], (signal) =>
    reportQuery ? api.permissionReport(reportQuery, signal) : Promise.resolve(null),
  );
  const rows = report.data?.rows ?? [];

  const download = useMutation(async () => {
    saveBlob(await api.permissionReportCsv(reportQuery ?? {}), 'seal-permissions.csv');
    return true;
  });

  const sealName = picked.seal?.id === sealId ? picked.seal.name : rows.find((r) => r.sealId === sealId)?.sealName;
  const personName =
    picked.person?.id === userId ? picked.person.name : rows.find((r) => r.personId === userId)?.personName;

  return (
    <>
      <PageHeader
        title={t('report.title')}
        subtitle={t('report.subtitle')}
        actions={
          <button
            type="button"
            className="button"
            onClick={() => void download.run()}
            disabled={!reportQuery || download.busy}
            data-testid="report-csv"
          >
            <Icon name="download" size={16} />
            {download.busy ? t('report.downloading') : t('report.csv')}
          </button>
        }
      />
      <nav className="tabs" aria-label={t('report.by')}>
        {BYS.map((b) => (
          <Link
            key={b}
            to={href('/reports/seal-permissions', { by: b, company: companyId, seal: sealId, user: userId, flag })}
            className={by === b ? 'active' : undefined}
            aria-current={by === b ? 'page' : undefined}
            data-testid={`report-by-${b}`}
          >
            {t(`report.by.${b}`)}
          </Link>
        ))}
      </nav>
      <section className="card report-scope">
        {by === 'company' && (
          <label className="toolbar-field">
            <span>{t('seal.company')}</span>
            <CompanySelect
              value={companyId}
              allowEmpty
              emptyLabel={t('company.all')}
              onChange={(id) => go({ company: id || undefined })}
              data-testid="report-company"
            />
          </label>
        )}
        {by === 'seal' && (
          <>
            {sealId && (
              <p className="report-chosen" data-testid="report-chosen">
                <Icon name="seal" size={16} className="seal-line-icon" />
                <Link to={`/seals/${sealId}`}>{sealName ?? t('common.loading')}</Link>
              </p>
            )}
            <SealPicker
              value={picked.seal}
              onChange={(seal) => {
                setPicked((p) => ({ ...p, seal }));
                go({ seal: seal?.id });
              }}
              testId="report-seal-picker"
            />
            {!sealId && <p className="muted small">{t('report.chooseSeal')}</p>}
          </>
        )}
        {by === 'person' && (
          <>
            {userId && (
              <p className="report-chosen" data-testid="report-chosen">
                <Icon name="user" size={16} className="seal-line-icon" />
                {personName ?? t('common.loading')}
              </p>
            )}
            <PersonPicker
              value={picked.person}
              onChange={(person) => {
                setPicked((p) => ({ ...p, person }));
                go({ user: person?.id });
              }}
              canSearch={canSearchPeople}
              testId="report-person-picker"
            />
            {!userId && <p className="muted small">{t('report.choosePerson')}</p>}
          </>
        )}
      </section>

      {report.data && (
        <div
          className="chip-row report-flags"
          role="group"
          aria-label={t('report.flagFilter')}
          data-testid="report-flag-filter"
        >
          <button
            type="button"
            className={`chip-choice${!flag ? ' on' : ''}`}
            aria-pressed={!flag}
            onClick={() => go({ flag: undefined })}
            data-testid="report-flag-all"
          >
            {t('report.allRows')}
          </button>
          {REPORT_FLAGS.map((f) => (
            <button
              key={f}
              type="button"
              className={`chip-choice${flag === f ? ' on' : ''}`}
              aria-pressed={flag === f}
              onClick={() => go({ flag: flag === f ? undefined : f })}
              data-testid={`report-flag-${f}`}
              title={t(`flag.${f}.hint`)}
            >
              {t(`flag.${f}`)}
              <span className="chip-count">{report.data?.summary[f] ?? 0}</span>
            </button>
          ))}
        </div>
      )}
      <ProblemMessage error={download.error} testId="report-csv-problem" />

      <section className="card card-flush">
        {reportQuery ? (
          <LoadState
            loading={report.loading && !report.data}
            error={report.error}
            empty={rows.length === 0}
            onRetry={report.reload}
            emptyText={flag ? t('report.noneFlagged') : t('report.empty')}
          />
        ) : (
          <p className="empty">{by === 'seal' ? t('report.chooseSeal') : t('report.choosePerson')}</p>
        )}
        {rows.length > 0 && (
          <>
            <p className="muted small report-count" data-testid="report-count">
              {t('report.count', { n: rows.length })} ·{' '}
              {t('report.generatedAt', { at: i18n.formatDate(report.data!.generatedAt) })}
            </p>
            <div className="table-scroll">
              <table className="table responsive report-table" data-testid="report-table">
                <thead>
                  <tr>
                    <th>{t('seal.name')}</th>
                    <th>{t('report.grant')}</th>
                    <th>{t('report.person')}</th>
                    <th>{t('seal.categories')}</th>
                    <th>{t('seal.validUntil')}</th>
                    <th>{t('grant.usesLeft')}</th>
                    <th>{t('report.flags')}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.slice(0, limit).map((r, index) => (
                    <ReportRow key={`${r.sealId}|${r.grantId ?? ''}|${r.personId ?? ''}|${index}`} row={r} />
                  ))}
                </tbody>
              </table>
            </div>
            {rows.length > limit && (
              <div className="pager">
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => setLimit((n) => n + PAGE)}
                  data-testid="report-more"
                >
                  {t('report.more', { n: Math.min(PAGE, rows.length - limit) })}
                </button>
              </div>
            )}
          </>
        )}
      </section>
    </>
  );
}

function ReportRow({ row: r }: { row: PermissionReportRow }) {
  const i18n = useI18n();
  const { t } = i18n;
  return (
    <tr data-testid="report-row" data-seal={r.sealId} data-grant={r.grantId ?? ''} data-flags={r.flags.join(' ')}>
      <td data-label={t('seal.name')} className="cell-title">
        <Link to={`/seals/${r.sealId}`}>{r.sealName}</Link>
        <span className="report-sub muted small">
          <span className="mono">{r.sealCode}</span> · {sealTypeName(i18n, r.sealType)} · {r.companyName}
          {r.sealStatus !== 'active' && <> · {i18n.tx(`sealStatus.${r.sealStatus}`, r.sealStatus)}</>}
        </span>
      </td>
      {/* One element per cell: on a phone each cell is a two-column grid (label, value). */}
      <td data-label={t('report.grant')}>
        {r.grantId ? (
          <span>
            {granteeOf(i18n, r)}
            {r.granteeType && (
              <span className="muted small"> {i18n.tx(`grant.type.${r.granteeType}`, r.granteeType)}</span>
            )}
          </span>
        ) : (
          <span className="muted">{t('report.noGrant')}</span>
        )}
      </td>
      <td data-label={t('report.person')}>
        <span>
          {r.personName ?? '—'}
          {r.personStatus && r.personStatus !== 'active' && (
            <span className="badge badge-muted person-status">{statusName(i18n, r.personStatus)}</span>
          )}
        </span>
      </td>
      <td data-label={t('seal.categories')}>
        {r.categories.length > 0
          ? listOf(
              i18n,
              r.categories.map((c) => categoryName(i18n, c)),
            )
          : '—'}
      </td>
      <td data-label={t('seal.validUntil')}>
        {r.grantId ? (r.validUntil ? i18n.formatDate(r.validUntil, false) : t('seal.forever')) : '—'}
      </td>
      <td data-label={t('grant.usesLeft')}>
        {r.grantId ? (r.remainingUses === null ? t('seal.unlimited') : r.remainingUses) : '—'}
      </td>
      <td data-label={t('report.flags')}>
        {r.flags.length > 0 ? (
          <span className="flag-list">
            {r.flags.map((f) => (
              <FlagBadge key={f} flag={f} />
            ))}
          </span>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}
