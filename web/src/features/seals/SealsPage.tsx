import { useEffect, useState } from 'react';
import { api, SEAL_KINDS, SEAL_STATUSES, SEAL_TYPES, type SealKind, type SealStatus, type SealType } from '../../api';
import { CompanySelect } from '../companies/CompanySelect';
import { Icon } from '../../ui/Icons';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { useQuery } from '../../hooks';
import { listOf, sealKindName, sealTypeName, useI18n, type I18n } from '../../i18n';
import { href, Link, navigate, useLocation } from '../../router';
import { usePermissionSet } from '../../session';

const PAGE_SIZE = 50;

export function sealStatusBadge(i18n: I18n, status: SealStatus) {
  const tone = status === 'active' ? 'ok' : status === 'pending' ? 'info' : status === 'suspended' ? 'warn' : 'danger';
  return (
    <span className={`badge badge-${tone}`} data-status={status}>
      {i18n.tx(`sealStatus.${status}`, status)}
    </span>
  );
}

/** The seal library (印章库): every seal of the companies in my charge, filtered in the URL. */
export function SealsPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const canApply = usePermissionSet().has('seals.manage');
  const { query } = useLocation();
  const companyId = query.get('company') ?? '';
  const pick = <T extends string>(key: string, allowed: readonly T[]): T | undefined =>
    (allowed as readonly string[]).includes(query.get(key) ?? '') ? (query.get(key) as T) : undefined;
  const kind = pick<SealKind>('kind', SEAL_KINDS);
  const type = pick<SealType>('type', SEAL_TYPES);
  const status = pick<SealStatus>('status', SEAL_STATUSES);
  const q = query.get('q') ?? '';
  const [searchText, setSearchText] = useState(q);
  const [paging, setPaging] = useState<{ key: string; cursors: Array<string | undefined> }>({
    key: '',
    cursors: [undefined],
  });

  const setFilter = (patch: Record<string, string | undefined>) =>
    navigate(href('/seals', { company: companyId, kind, type, status, q, ...patch }), { replace: true });

  useEffect(() => {
    const timer = setTimeout(() => {
      if (searchText.trim() !== q) setFilter({ q: searchText.trim() || undefined });
    }, 300);
    return () => clearTimeout(timer);
    // Only typing starts a new search; the URL is the source of truth otherwise.
  }, [searchText]);

  const filterKey = [companyId, kind, type, status, q].join('|');
  const cursors = paging.key === filterKey ? paging.cursors : [undefined];
  const cursor = cursors[cursors.length - 1];
  const page = useQuery(['SealsPage.page', filterKey, cursor], (signal) =>
    api.seals(
      { ...(companyId ? { under: companyId } : {}), kind, type, status, q: q || undefined, limit: PAGE_SIZE, cursor },
      signal,
    ),
  );
  const items = page.data?.items ?? [];

  return (
    <>
      <PageHeader
        title={t('seal.title')}
        subtitle={t('seal.subtitle')}
        actions={
          canApply && (
            <Link to="/seals/new" className="button button-primary" data-testid="seal-new">
              <Icon name="plus" size={16} />
              {t('production.title')}
            </Link>
          )
        }
      />
      <div className="toolbar">
        <label className="toolbar-field toolbar-grow">
          <span>{t('common.search')}</span>
          <input
            type="search"
            className="input"
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
            placeholder={t('seal.searchPlaceholder')}
            data-testid="seal-search"
          />
        </label>
        <label className="toolbar-field">
          <span>{t('seal.company')}</span>
          <CompanySelect
            value={companyId}
            allowEmpty
            emptyLabel={t('company.all')}
            onChange={(id) => setFilter({ company: id || undefined })}
          />
        </label>
        <label className="toolbar-field">
          <span>{t('seal.kind')}</span>
          <select
            className="input"
            value={kind ?? ''}
            onChange={(e) => setFilter({ kind: e.target.value || undefined })}
          >
            <option value="">{t('seal.anyKind')}</option>
            {SEAL_KINDS.map((k) => (
              <option key={k} value={k}>
                {sealKindName(i18n, k)}
              </option>
            ))}
          </select>
        </label>
        <label className="toolbar-field">
          <span>{t('seal.type')}</span>
          <select
            className="input"
            value={type ?? ''}
            onChange={(e) => setFilter({ type: e.target.value || undefined })}
          >
            <option value="">{t('seal.anyType')}</option>
            {SEAL_TYPES.map((k) => (
              <option key={k} value={k}>
                {sealTypeName(i18n, k)}
              </option>
            ))}
          </select>
        </label>
        <label className="toolbar-field">
          <span>{t('seal.status')}</span>
          <select
            className="input"
            value={status ?? ''}
            onChange={(e) => setFilter({ status: e.target.value || undefined })}
          >
            <option value="">{t('seal.anyStatus')}</option>
            {SEAL_STATUSES.map((k) => (
              <option key={k} value={k}>
                {i18n.tx(`sealStatus.${k}`, k)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <section className="card card-flush">
        <LoadState
          loading={page.loading && !page.data}
          error={page.error}
          empty={items.length === 0}
          onRetry={page.reload}
          emptyText={t('common.noResults')}
        />
        {items.length > 0 && (
          <table className="table responsive" data-testid="seal-table">
            <thead>
              <tr>
                <th>{t('seal.name')}</th>
                <th>{t('seal.code')}</th>
                <th>{t('seal.type')}</th>
                <th>{t('seal.kind')}</th>
                <th>{t('seal.company')}</th>
                <th>{t('seal.custodians')}</th>
                <th className="num">{t('seal.activeGrants')}</th>
                <th>{t('seal.status')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id} data-testid="seal-row">
                  <td data-label={t('seal.name')} className="cell-title">
                    <Link to={`/seals/${s.id}`} data-testid="seal-link">
                      {s.name}
                    </Link>
                  </td>
                  <td data-label={t('seal.code')} className="mono">
                    {s.code}
                  </td>
                  <td data-label={t('seal.type')}>
                    {s.type === 'custom' && s.customType ? s.customType : sealTypeName(i18n, s.type)}
                  </td>
                  <td data-label={t('seal.kind')}>{sealKindName(i18n, s.kind)}</td>
                  <td data-label={t('seal.company')}>{s.companyName}</td>
                  <td data-label={t('seal.custodians')}>
                    {s.custodians.length > 0 ? (
                      listOf(
                        i18n,
                        s.custodians.map((c) => c.name),
                      )
                    ) : (
                      <span className={s.needsCustodian ? 'text-warn' : 'muted'}>{t('seal.noCustodian')}</span>
                    )}
                  </td>
                  <td data-label={t('seal.activeGrants')} className="num">
                    {s.activeGrants}
                  </td>
                  <td data-label={t('seal.status')}>{sealStatusBadge(i18n, s.status)}</td>
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
              onClick={() => setPaging({ key: filterKey, cursors: cursors.slice(0, -1) })}
            >
              {t('common.previous')}
            </button>
            <span className="muted small">{t('common.page', { n: cursors.length })}</span>
            <button
              type="button"
              className="button button-small"
              disabled={!page.data?.nextCursor || page.loading}
              onClick={() =>
                page.data?.nextCursor && setPaging({ key: filterKey, cursors: [...cursors, page.data.nextCursor] })
              }
            >
              {t('common.next')}
            </button>
          </div>
        )}
      </section>
    </>
  );
}
