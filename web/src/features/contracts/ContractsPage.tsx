import { useEffect, useState } from 'react';
import { api, CONTRACT_STATUSES, type ContractStatus, type ContractSummary } from '../../api';
import { useIsPhone, useQuery } from '../../hooks';
import { categoryName, useI18n } from '../../i18n';
import { href, Link, navigate, useLocation } from '../../router';
import { Icon } from '../../ui/Icons';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { ContractStatusBadge } from './ContractBadges';

/**
 * 合同: the contracts I sent or take part in (and, with contracts.read, all of my companies'),
 * newest first; filtered by status and searched by title, number or a party's name, both kept in
 * the URL. A table on a desk, cards on a phone.
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

  // Back and forward change the URL's search: the box follows it.
  useEffect(() => setText((current) => (current.trim() === q ? current : q)), [q]);
  // The search follows typing after a pause, replacing the URL rather than piling up history.
  useEffect(() => {
    const timer = setTimeout(() => {
      if (text.trim() !== q) navigate(href(path, { status, q: text.trim() }), { replace: true });
    }, 300);
    return () => clearTimeout(timer);
  }, [text, q, path, status]);

  const list = useQuery(['ContractsPage.list', status, q], (signal) =>
    api.contracts({ status, q: q || undefined, limit: 200 }, signal),
  );
  const items = list.data?.items ?? [];

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
          to={href('/contracts', { q })}
          className={!status ? 'active' : undefined}
          aria-current={!status ? 'page' : undefined}
          data-testid="contracts-tab-all"
        >
          {t('common.all')}
        </Link>
        {CONTRACT_STATUSES.map((s) => (
          <Link
            key={s}
            to={href('/contracts', { status: s, q })}
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
      </div>
      <section className="card card-flush">
        <LoadState
          loading={list.loading && !list.data}
          error={list.error}
          empty={items.length === 0}
          onRetry={list.reload}
          emptyText={q || status ? t('common.noResults') : t('contract.empty')}
        />
        {items.length > 0 &&
          (isPhone ? (
            <ul className="entry-list" data-testid="contract-list">
              {items.map((c) => (
                <li key={c.id}>
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
                </li>
              ))}
            </ul>
          ) : (
            <ContractTable items={items} />
          ))}
      </section>
    </>
  );
}

function ContractTable({ items }: { items: ContractSummary[] }) {
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
          <th>{t('contract.deadline')}</th>
          <th>{t('common.createdAt')}</th>
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
            <td className="nowrap">{c.deadline ? i18n.formatDate(c.deadline) : '—'}</td>
            <td className="nowrap">{i18n.formatDate(c.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
