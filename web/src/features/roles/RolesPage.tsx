import { useState } from 'react';
import { api, ROLES, type Role, type RoleAssignment } from '../../api';
import { CompanySelect } from '../companies/CompanySelect';
import { ConfirmDialog } from '../../ui/Modal';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { SodMatrix } from '../sod-changes/SodMatrix';
import { RoleBadge } from '../../ui/StatusBadge';
import { useToast } from '../../ui/Toast';
import { useMutation, useQuery } from '../../hooks';
import { roleName, useI18n } from '../../i18n';
import { href, Link, navigate, useLocation } from '../../router';
import { useCan, usePermissionSet, useSession } from '../../session';

/** Two tabs: who holds which role (filter, revoke), and the separation-of-duties matrix. */
export function RolesPage() {
  const { t } = useI18n();
  const permissions = usePermissionSet();
  const { query } = useLocation();
  const role = (ROLES as readonly string[]).includes(query.get('role') ?? '') ? (query.get('role') as Role) : undefined;
  const companyId = query.get('company') ?? '';
  const tab = query.get('tab') === 'sod' ? 'sod' : 'assignments';

  return (
    <>
      <PageHeader title={t('role.title')} subtitle={t('role.subtitle')} />
      <nav className="tabs" aria-label={t('role.title')}>
        <Link
          to={href('/roles', { role, company: companyId })}
          className={tab === 'assignments' ? 'active' : undefined}
          aria-current={tab === 'assignments' ? 'page' : undefined}
          data-testid="roles-tab-assignments"
        >
          {t('role.assignments')}
        </Link>
        <Link
          to={href('/roles', { tab: 'sod' })}
          className={tab === 'sod' ? 'active' : undefined}
          aria-current={tab === 'sod' ? 'page' : undefined}
          data-testid="roles-tab-sod"
        >
          {t('sod.title')}
        </Link>
      </nav>
      {tab === 'sod' ? (
        <SodMatrix editable={permissions.has('settings.write')} />
      ) : (
        <Assignments role={role} companyId={companyId} />
      )}
    </>
  );
}

function Assignments({ role, companyId }: { role: Role | undefined; companyId: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { me } = useSession();
  const can = useCan();
  const notify = useToast();
  const [revoking, setRevoking] = useState<RoleAssignment | null>(null);
  const list = useQuery(['RolesPage.list', role, companyId], (signal) =>
    api.roleAssignments({ role, companyId: companyId || undefined }, signal),
  );
  const items = list.data?.items ?? [];
  const revoke = useMutation(
    (a: RoleAssignment) => api.revokeRole(a.id),
    () => {
      setRevoking(null);
      notify(t('role.revoked'));
      list.reload();
    },
  );
  const setFilter = (patch: Record<string, string | undefined>) =>
    navigate(href('/roles', { role, company: companyId, ...patch }), { replace: true });

  return (
    <>
      <div className="toolbar">
        <label className="toolbar-field">
          <span>{t('role.role')}</span>
          <select
            className="input"
            value={role ?? ''}
            onChange={(e) => setFilter({ role: e.target.value || undefined })}
            data-testid="roles-filter-role"
          >
            <option value="">{t('role.anyRole')}</option>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {roleName(i18n, r)}
              </option>
            ))}
          </select>
        </label>
        <label className="toolbar-field">
          <span>{t('role.scope')}</span>
          <CompanySelect
            value={companyId}
            allowEmpty
            emptyLabel={t('company.all')}
            onChange={(id) => setFilter({ company: id || undefined })}
            data-testid="roles-filter-company"
          />
        </label>
      </div>
      <section className="card card-flush">
        <LoadState
          loading={list.loading}
          error={list.error}
          empty={items.length === 0}
          onRetry={list.reload}
          emptyText={t('common.noResults')}
        />
        {!list.loading && items.length > 0 && (
          <table className="table responsive" data-testid="assignment-table">
            <thead>
              <tr>
                <th>{t('role.user')}</th>
                <th>{t('role.role')}</th>
                <th>{t('role.scope')}</th>
                <th>{t('role.since')}</th>
                <th className="actions-col">
                  <span className="sr-only">{t('common.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.id} data-testid="assignment-row">
                  <td data-label={t('role.user')} className="cell-title">
                    <Link to={`/users/${a.userId}`}>{a.userName}</Link>
                  </td>
                  <td data-label={t('role.role')}>
                    <RoleBadge role={a.role} />
                  </td>
                  <td data-label={t('role.scope')}>{a.companyName}</td>
                  <td data-label={t('role.since')}>{i18n.formatDate(a.createdAt, false)}</td>
                  <td className="actions-col">
                    {a.userId !== me.user.id && can('roles.assign', a.companyId) && (
                      <button
                        type="button"
                        className="button button-small"
                        onClick={() => setRevoking(a)}
                        data-testid="assignment-revoke"
                      >
                        {t('role.revoke')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {revoking && (
        <ConfirmDialog
          title={t('role.revoke')}
          message={t('role.revokeConfirm', {
            role: roleName(i18n, revoking.role),
            user: revoking.userName,
            company: revoking.companyName,
          })}
          confirmLabel={t('role.revoke')}
          danger
          busy={revoke.busy}
          error={<ProblemMessage error={revoke.error} />}
          onConfirm={() => void revoke.run(revoking)}
          onCancel={() => setRevoking(null)}
        />
      )}
    </>
  );
}
