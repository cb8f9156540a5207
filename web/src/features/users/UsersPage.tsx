import { useEffect, useState } from 'react';
import { api, USER_STATUSES, type UserStatus } from '../../api';
import { CompanySelect } from '../companies/CompanySelect';
import { Icon } from '../../ui/Icons';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { StatusBadge } from '../../ui/StatusBadge';
import { useToast } from '../../ui/Toast';
import { UserCreateDialog } from './UserCreateDialog';
import { useDepartmentNames } from './departments';
import { useDirectory } from './directory';
import { useQuery } from '../../hooks';
import { statusName, useI18n } from '../../i18n';
import { href, Link, navigate, useLocation } from '../../router';
import { usePermissionSet } from '../../session';

const PAGE_SIZE = 50;

/** Filters live in the URL; the cursor of each page seen is kept so Previous works. */
export function UsersPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const directory = useDirectory();
  const permissions = usePermissionSet();
  const notify = useToast();
  const { query } = useLocation();
  const companyId = query.get('company') ?? '';
  const includeSubsidiaries = query.get('sub') !== '0';
  const status = (USER_STATUSES as readonly string[]).includes(query.get('status') ?? '')
    ? (query.get('status') as UserStatus)
    : undefined;
  const q = query.get('q') ?? '';
  const departmentId = query.get('department') ?? '';
  const [searchText, setSearchText] = useState(q);
  const [paging, setPaging] = useState<{ key: string; cursors: Array<string | undefined> }>({
    key: '',
    cursors: [undefined],
  });
  const [creating, setCreating] = useState(false);

  const setFilter = (patch: Record<string, string | undefined>) => {
    const next = {
      company: companyId,
      sub: includeSubsidiaries ? undefined : '0',
      status,
      q,
      department: departmentId,
      ...patch,
    };
    navigate(href('/users', next), { replace: true });
  };

  useEffect(() => {
    const timer = setTimeout(() => {
      if (searchText.trim() !== q) setFilter({ q: searchText.trim() || undefined });
    }, 300);
    return () => clearTimeout(timer);
    // Only typing starts a new search; the URL is the source of truth otherwise.
  }, [searchText]);

  // Pages belong to one set of filters: changing a filter starts again at page 1.
  const filterKey = [companyId, includeSubsidiaries, status, q, departmentId].join('|');
  const cursors = paging.key === filterKey ? paging.cursors : [undefined];
  const setCursors = (update: (c: Array<string | undefined>) => Array<string | undefined>) =>
    setPaging({ key: filterKey, cursors: update(cursors) });
  const cursor = cursors[cursors.length - 1];

  const page = useQuery(['UsersPage.page', filterKey, cursor], (signal) =>
    api.users(
      {
        ...(companyId ? (includeSubsidiaries && !departmentId ? { under: companyId } : { companyId }) : {}),
        departmentId: departmentId || undefined,
        status,
        q: q || undefined,
        limit: PAGE_SIZE,
        cursor,
      },
      signal,
    ),
  );
  const items = page.data?.items ?? [];
  const departmentNames = useDepartmentNames(items.filter((u) => u.departmentId).map((u) => u.companyId));

  return (
    <>
      <PageHeader
        title={t('user.title')}
        subtitle={t('user.subtitle')}
        actions={
          permissions.has('org.write') && (
            <button
              type="button"
              className="button button-primary"
              onClick={() => setCreating(true)}
              data-testid="user-new"
            >
              <Icon name="plus" size={16} />
              {t('user.new')}
            </button>
          )
        }
      />
      <div className="toolbar" data-testid="user-filters">
        <label className="toolbar-field toolbar-grow">
          <span>{t('common.search')}</span>
          <input
            type="search"
            className="input"
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
            placeholder={t('user.searchPlaceholder')}
            data-testid="user-search"
          />
        </label>
        <label className="toolbar-field">
          <span>{t('user.company')}</span>
          <CompanySelect
            value={companyId}
            allowEmpty
            emptyLabel={t('company.all')}
            onChange={(id) => setFilter({ company: id || undefined, department: undefined })}
            data-testid="user-filter-company"
          />
        </label>
        <label className="toolbar-field">
          <span>{t('user.status')}</span>
          <select
            className="input"
            value={status ?? ''}
            onChange={(e) => setFilter({ status: e.target.value || undefined })}
            data-testid="user-filter-status"
          >
            <option value="">{t('user.anyStatus')}</option>
            {USER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusName(i18n, s)}
              </option>
            ))}
          </select>
        </label>
        {companyId && !departmentId && (
          <label className="toolbar-check">
            <input
              type="checkbox"
              checked={includeSubsidiaries}
              onChange={(e) => setFilter({ sub: e.target.checked ? undefined : '0' })}
            />
            <span>{t('user.includeSubsidiaries')}</span>
          </label>
        )}
        {departmentId && (
          <button type="button" className="chip" onClick={() => setFilter({ department: undefined })}>
            {t('user.department')}: {departmentNames.get(departmentId) ?? '…'}
            <Icon name="close" size={14} />
          </button>
        )}
      </div>
      <section className="card card-flush">
        <LoadState
          loading={page.loading}
          error={page.error}
          empty={items.length === 0}
          onRetry={page.reload}
          emptyText={t('common.noResults')}
        />
        {!page.loading && items.length > 0 && (
          <table className="table responsive" data-testid="user-table">
            <thead>
              <tr>
                <th>{t('user.name')}</th>
                <th>{t('user.email')}</th>
                <th>{t('user.company')}</th>
                <th>{t('user.department')}</th>
                <th>{t('user.status')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((u) => (
                <tr key={u.id} data-testid="user-row">
                  <td data-label={t('user.name')} className="cell-title">
                    <Link to={`/users/${u.id}`} data-testid="user-link">
                      {u.name}
                    </Link>
                    {u.locked && <span className="badge badge-warn">{t('user.locked')}</span>}
                  </td>
                  <td data-label={t('user.email')} className="cell-break">
                    {u.email}
                  </td>
                  <td data-label={t('user.company')}>{directory.nameOf(u.companyId)}</td>
                  <td data-label={t('user.department')}>
                    {u.departmentId ? (departmentNames.get(u.departmentId) ?? '…') : <span className="muted">—</span>}
                  </td>
                  <td data-label={t('user.status')}>
                    <StatusBadge status={u.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {(cursors.length > 1 || page.data?.nextCursor) && (
          <div className="pager">
            <button
              type="button"
              className="button button-small"
              disabled={cursors.length <= 1 || page.loading}
              onClick={() => setCursors((c) => c.slice(0, -1))}
              data-testid="user-prev"
            >
              {t('common.previous')}
            </button>
            <span className="muted small">{t('common.page', { n: cursors.length })}</span>
            <button
              type="button"
              className="button button-small"
              disabled={!page.data?.nextCursor || page.loading}
              onClick={() => page.data?.nextCursor && setCursors((c) => [...c, page.data?.nextCursor ?? undefined])}
              data-testid="user-next"
            >
              {t('common.next')}
            </button>
          </div>
        )}
      </section>
      {creating && (
        <UserCreateDialog
          initialCompanyId={companyId}
          onClose={() => setCreating(false)}
          onDone={(user) => {
            notify(t('user.created', { name: user.name }));
            setCreating(false);
            navigate(`/users/${user.id}`);
          }}
        />
      )}
    </>
  );
}
