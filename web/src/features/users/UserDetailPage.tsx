import { useState } from 'react';
import { api, type UserDetail, type UserRole, type UserStatus } from '../../api';
import { Icon } from '../../ui/Icons';
import { ConfirmDialog } from '../../ui/Modal';
import { LoadState } from '../../ui/PageHeader';
import { PostsSection } from './PostsSection';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { RoleAssignForm } from '../roles/RoleAssignForm';
import { RoleBadge, StatusBadge } from '../../ui/StatusBadge';
import { useToast } from '../../ui/Toast';
import { PasswordDialog, ProfileDialog, StatusDialog } from './UserDialogs';
import { useDepartmentNames } from './departments';
import { useDirectory } from './directory';
import { useMutation, useQuery } from '../../hooks';
import { roleName, statusName, useI18n } from '../../i18n';
import { Link } from '../../router';
import { useCan } from '../../session';

type Dialog =
  | { kind: 'status'; status: UserStatus }
  | { kind: 'password' }
  | { kind: 'profile' }
  | { kind: 'revoke'; role: UserRole }
  | null;

export function UserDetailPage({ userId }: { userId: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const can = useCan();
  const notify = useToast();
  const detail = useQuery(['UserDetailPage.detail', userId], (signal) => api.user(userId, signal));
  const [dialog, setDialog] = useState<Dialog>(null);
  const user = detail.data;

  const updated = (u: UserDetail, message?: string) => {
    detail.setData(u);
    setDialog(null);
    if (message) notify(message);
  };

  if (!user) {
    return (
      <>
        <BackLink />
        <LoadState loading={detail.loading} error={detail.error} empty={false} onRetry={detail.reload} />
      </>
    );
  }

  const canWrite = can('org.write', user.companyId);
  const canAssign = can('roles.assign');

  return (
    <>
      <BackLink />
      <div className="page-header">
        <div className="page-heading">
          <h1 data-testid="user-detail-name">{user.name}</h1>
          <div className="detail-sub">
            <StatusBadge status={user.status} />
            {user.locked && <span className="badge badge-warn">{t('user.locked')}</span>}
            <span className="muted cell-break">{user.email}</span>
          </div>
        </div>
        {canWrite && user.status !== 'resigned' && (
          <div className="page-actions">
            <button
              type="button"
              className="button"
              onClick={() => setDialog({ kind: 'profile' })}
              data-testid="user-edit"
            >
              {t('user.editProfile')}
            </button>
            <button
              type="button"
              className="button"
              onClick={() => setDialog({ kind: 'password' })}
              data-testid="user-password-reset"
            >
              {t('user.resetPassword')}
            </button>
          </div>
        )}
      </div>

      {user.status === 'resigned' && <p className="alert alert-info">{t('user.resignedFinal')}</p>}

      <div className="grid-2">
        <Profile user={user} />
        <section className="card">
          <h2>{t('user.status')}</h2>
          <p>
            <StatusBadge status={user.status} />
            {user.statusChangedAt && <span className="muted small"> · {i18n.formatDate(user.statusChangedAt)}</span>}
          </p>
          {user.locked && <p className="muted small">{t('user.lockedHint')}</p>}
          {canWrite && user.status !== 'resigned' && (
            <div className="button-row">
              {user.status === 'active' ? (
                <button
                  type="button"
                  className="button button-danger-outline"
                  onClick={() => setDialog({ kind: 'status', status: 'suspended' })}
                  data-testid="user-suspend"
                >
                  {t('user.suspend')}
                </button>
              ) : (
                <button
                  type="button"
                  className="button button-primary"
                  onClick={() => setDialog({ kind: 'status', status: 'active' })}
                  data-testid="user-reactivate"
                >
                  {t('user.reactivate')}
                </button>
              )}
              <button
                type="button"
                className="button button-danger-outline"
                onClick={() => setDialog({ kind: 'status', status: 'resigned' })}
                data-testid="user-resign"
              >
                {t('user.resign')}
              </button>
              {user.locked && <UnlockButton userId={user.id} onDone={(u) => updated(u, t('user.unlocked'))} />}
            </div>
          )}
        </section>
      </div>

      <section className="card" data-testid="user-roles">
        <h2>{t('role.assignTitle')}</h2>
        {user.roles.length === 0 ? (
          <p className="empty">{t('role.none')}</p>
        ) : (
          <ul className="item-list" data-testid="role-list">
            {user.roles.map((r) => (
              <li key={r.id} data-testid="role-item" data-role={r.role}>
                <div className="role-line">
                  <RoleBadge role={r.role} />
                  <span>{r.companyName}</span>
                  <span className="muted small">{i18n.formatDate(r.createdAt, false)}</span>
                </div>
                {can('roles.assign', r.companyId) && (
                  <button
                    type="button"
                    className="button button-small"
                    onClick={() => setDialog({ kind: 'revoke', role: r })}
                  >
                    {t('role.revoke')}
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
        {canAssign && user.status === 'active' && (
          <RoleAssignForm
            userId={user.id}
            defaultCompanyId={user.companyId}
            onAssigned={(a) => {
              notify(t('role.assigned', { role: roleName(i18n, a.role), company: a.companyName }));
              detail.reload();
            }}
          />
        )}
      </section>

      <PostsSection user={user} canWrite={canWrite} onChange={(u) => updated(u)} />

      {dialog?.kind === 'status' && (
        <StatusDialog
          user={user}
          status={dialog.status}
          onClose={() => setDialog(null)}
          onDone={(u) => updated(u, t('user.statusChanged', { status: statusName(i18n, u.status) }))}
        />
      )}
      {dialog?.kind === 'password' && (
        <PasswordDialog
          user={user}
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            notify(t('user.passwordSet'));
          }}
        />
      )}
      {dialog?.kind === 'profile' && (
        <ProfileDialog user={user} onClose={() => setDialog(null)} onDone={(u) => updated(u, t('user.saved'))} />
      )}
      {dialog?.kind === 'revoke' && (
        <RevokeDialog
          user={user}
          role={dialog.role}
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            notify(t('role.revoked'));
            detail.reload();
          }}
        />
      )}
    </>
  );
}

function BackLink() {
  const { t } = useI18n();
  return (
    <Link to="/users" className="back-link">
      <Icon name="chevron" size={14} className="flip" />
      {t('user.backToList')}
    </Link>
  );
}

function Profile({ user }: { user: UserDetail }) {
  const i18n = useI18n();
  const { t } = i18n;
  const directory = useDirectory();
  const departments = useDepartmentNames(user.departmentId ? [user.companyId] : []);
  return (
    <section className="card">
      <h2>{t('user.profile')}</h2>
      <dl className="facts">
        <div>
          <dt>{t('user.email')}</dt>
          <dd className="cell-break">{user.email}</dd>
        </div>
        <div>
          <dt>{t('user.phone')}</dt>
          <dd>{user.phone ?? '—'}</dd>
        </div>
        <div>
          <dt>{t('user.company')}</dt>
          <dd>{directory.nameOf(user.companyId)}</dd>
        </div>
        <div>
          <dt>{t('user.department')}</dt>
          <dd>{user.departmentId ? (departments.get(user.departmentId) ?? '…') : '—'}</dd>
        </div>
        <div>
          <dt>{t('user.locale')}</dt>
          <dd>{user.locale === 'en' ? t('lang.en') : t('lang.zh')}</dd>
        </div>
        <div>
          <dt>{t('user.totp')}</dt>
          <dd>{user.totpEnabled ? t('user.totpOn') : t('user.totpOff')}</dd>
        </div>
        <div>
          <dt>{t('common.createdAt')}</dt>
          <dd>{i18n.formatDate(user.createdAt, false)}</dd>
        </div>
      </dl>
    </section>
  );
}

function UnlockButton({ userId, onDone }: { userId: string; onDone: (u: UserDetail) => void }) {
  const { t } = useI18n();
  const unlock = useMutation(() => api.unlockUser(userId), onDone);
  return (
    <>
      <button type="button" className="button" onClick={() => void unlock.run()} disabled={unlock.busy}>
        {t('user.unlock')}
      </button>
      <ProblemMessage error={unlock.error} />
    </>
  );
}

function RevokeDialog({
  user,
  role,
  onDone,
  onClose,
}: {
  user: UserDetail;
  role: UserRole;
  onDone: () => void;
  onClose: () => void;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const revoke = useMutation(() => api.revokeRole(role.id), onDone);
  return (
    <ConfirmDialog
      title={t('role.revoke')}
      message={t('role.revokeConfirm', { role: roleName(i18n, role.role), user: user.name, company: role.companyName })}
      confirmLabel={t('role.revoke')}
      danger
      busy={revoke.busy}
      error={<ProblemMessage error={revoke.error} />}
      onConfirm={() => void revoke.run()}
      onCancel={onClose}
    />
  );
}
