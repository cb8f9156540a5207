import { PERMISSIONS } from '../api';
import { Icon } from '../components/Icons';
import { useVisibleNav } from '../components/Layout';
import { PageHeader } from '../components/PageHeader';
import { RoleBadge } from '../components/StatusBadge';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { usePermissionSet, useSession } from '../session';

/** Who I am, what I hold, and the way to each page I may use. */
export function OverviewPage() {
  const { t, tx } = useI18n();
  const { me } = useSession();
  const permissions = usePermissionSet();
  const shortcuts = useVisibleNav().filter((item) => item.to !== '/');
  const adminRoles = me.roles.filter((r) => r.role !== 'employee');

  return (
    <>
      <PageHeader title={t('overview.welcome', { name: me.user.name })} subtitle={`${me.group.name} · ${me.company.name}`} />
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
