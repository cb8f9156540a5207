import { api, APPLICATION_STATUSES, type ApplicationStatus } from '../../api';
import { ApplicationStatusBadge, PurposeTag } from './ApprovalBadges';
import { Icon } from '../../ui/Icons';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { href, Link, useLocation } from '../../router';

/** My applications (seal use and seal lifecycle), newest first, filtered by status in the URL. */
export function ApplicationsPage() {
  const i18n = useI18n();
  const { t, tx } = i18n;
  const { query } = useLocation();
  const raw = query.get('status') ?? '';
  const status = (APPLICATION_STATUSES as readonly string[]).includes(raw) ? (raw as ApplicationStatus) : undefined;
  const list = useQuery(['ApplicationsPage.list', status], (signal) =>
    api.applications({ status, limit: 200 }, signal),
  );
  const items = list.data?.items ?? [];

  return (
    <>
      <PageHeader
        title={t('application.title')}
        subtitle={t('application.subtitle')}
        actions={
          <Link to="/apply" className="button button-primary" data-testid="application-new">
            <Icon name="plus" size={16} />
            {t('application.new')}
          </Link>
        }
      />
      <nav className="tabs" aria-label={t('application.title')}>
        <Link to="/applications" className={!status ? 'active' : undefined} aria-current={!status ? 'page' : undefined}>
          {t('common.all')}
        </Link>
        {APPLICATION_STATUSES.map((s) => (
          <Link
            key={s}
            to={href('/applications', { status: s })}
            className={status === s ? 'active' : undefined}
            aria-current={status === s ? 'page' : undefined}
            data-testid={`applications-tab-${s}`}
          >
            {tx(`appStatus.${s}`, s)}
          </Link>
        ))}
      </nav>
      <section className="card card-flush">
        <LoadState
          loading={list.loading && !list.data}
          error={list.error}
          empty={items.length === 0}
          onRetry={list.reload}
          emptyText={t('application.empty')}
        />
        {items.length > 0 && (
          <ul className="entry-list" data-testid="application-list">
            {items.map((a) => (
              <li key={a.id}>
                <Link
                  to={`/applications/${a.id}`}
                  className="entry"
                  data-testid="application-row"
                  data-application={a.id}
                  data-status={a.status}
                >
                  <span className="entry-head">
                    <span className="entry-title">{a.reason}</span>
                    <ApplicationStatusBadge status={a.status} />
                  </span>
                  <span className="entry-meta">
                    <PurposeTag purpose={a.purpose} category={a.category} lifecycleAction={a.lifecycleAction} />
                    {a.sealNames.length > 0 && <span className="entry-seals">{a.sealNames.join(' · ')}</span>}
                    {a.purpose === 'seal_use' && <span>{t('application.usesCount', { n: a.uses })}</span>}
                    <span>{i18n.formatDate(a.createdAt)}</span>
                  </span>
                  <Icon name="chevron" size={16} className="entry-arrow" />
                </Link>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
