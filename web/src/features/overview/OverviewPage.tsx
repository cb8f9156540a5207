import { api, PERMISSIONS } from '../../api';
import { Icon } from '../../ui/Icons';
import { useVisibleNav } from '../../ui/Layout';
import { PageHeader } from '../../ui/PageHeader';
import { RoleBadge } from '../../ui/StatusBadge';
import { useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { Link } from '../../router';
import { usePermissionSet, useSession } from '../../session';

/** Who I am, what I hold, and the way to each page I may use. */
export function OverviewPage() {
  const { t, tx } = useI18n();
  const { me } = useSession();
  const permissions = usePermissionSet();
  const shortcuts = useVisibleNav().filter((item) => item.to !== '/');
  const adminRoles = me.roles.filter((r) => r.role !== 'employee');
  const waiting = useQuery(['OverviewPage.waiting'], (signal) => api.tasks({ status: 'pending', limit: 200 }, signal));
  const pending = useQuery(['OverviewPage.pending'], (signal) =>
    api.applications({ status: 'pending', limit: 200 }, signal),
  );
  // The seals I may use now: an employee holds no platform permission, but grants to stamp.
  const seals = useQuery(['OverviewPage.mySeals'], (signal) => api.mySeals({}, signal));
  const count = (n: number | undefined) => (n === undefined ? '…' : n >= 200 ? '200+' : String(n));

  return (
    <>
      <PageHeader
        title={t('overview.welcome', { name: me.user.name })}
        subtitle={`${me.group.name} · ${me.company.name}`}
      />
      <h2 className="section-title">{t('overview.todo')}</h2>
      <div className="todo-grid">
        <Link to="/inbox" className="card todo" data-testid="todo-inbox">
          <Icon name="inbox" size={22} />
          <span className="todo-count">{count(waiting.data?.items.length)}</span>
          <span className="todo-label">{t('overview.waitingForMe')}</span>
        </Link>
        <Link to="/applications?status=pending" className="card todo" data-testid="todo-applications">
          <Icon name="file" size={22} />
          <span className="todo-count">{count(pending.data?.items.length)}</span>
          <span className="todo-label">{t('overview.myPending')}</span>
        </Link>
      </div>
      <div className="grid-2">
        <section className="card">
          <h2>{t('overview.roles')}</h2>
          {me.roles.length === 0 ? (
            <p className="muted">{t('role.none')}</p>
          ) : (
            <ul className="plain-list">
              {me.roles.map((r) => (
                <li key={r.id} className="role-line">
                  <RoleBadge role={r.role} />
                  <span className="muted">{r.companyName}</span>
                </li>
              ))}
            </ul>
          )}
          {adminRoles.length === 0 && <p className="muted">{t('overview.noRoles')}</p>}
        </section>
        <section className="card">
          <h2>{t('overview.permissions')}</h2>
          {permissions.size === 0 ? (
            <p className="muted">{t('common.none')}</p>
          ) : (
            <ul className="check-list">
              {PERMISSIONS.filter((p) => permissions.has(p)).map((p) => (
                <li key={p}>
                  <Icon name="check" size={16} />
                  {tx(`perm.${p}`, p)}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card" data-testid="overview-my-seals">
          <h2>{t('overview.mySeals')}</h2>
          {seals.data && seals.data.items.length === 0 ? (
            <p className="muted">{t('overview.noSeals')}</p>
          ) : (
            <ul className="plain-list">
              {(seals.data?.items ?? []).map((seal) => (
                <li key={`${seal.id}-${seal.grant.id}`} className="role-line">
                  <strong>{seal.name}</strong>
                  <span className="muted">
                    {seal.companyName} · {seal.grant.categories.map((c) => tx(`category.${c}`, c)).join('、')}
                    {seal.grant.remainingUses !== null
                      ? ` · ${t('overview.usesLeft', { n: seal.grant.remainingUses })}`
                      : ''}
                  </span>
                </li>
              ))}
            </ul>
          )}
          {seals.data && seals.data.items.some((s) => s.kind === 'electronic') && (
            <Link to="/stamp" className="button button-primary" data-testid="overview-stamp">
              {t('overview.goStamp')}
            </Link>
          )}
        </section>
      </div>
      {shortcuts.length > 0 && (
        <section className="shortcuts">
          <h2 className="section-title">{t('overview.shortcuts')}</h2>
          <div className="shortcut-grid">
            {shortcuts.map((item) => (
              <Link key={item.to} to={item.to} className="shortcut card">
                <Icon name={item.icon} size={22} />
                <span>{t(item.label)}</span>
                <Icon name="chevron" size={16} className="shortcut-arrow" />
              </Link>
            ))}
          </div>
        </section>
      )}
    </>
  );
}
