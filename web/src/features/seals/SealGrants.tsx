import { useState } from 'react';
import { api, type Seal, type SealGrant } from '../../api';
import { useMutation } from '../../hooks';
import { categoryName, listOf, roleName, useI18n, type I18n } from '../../i18n';
import { Field } from '../../ui/Field';
import { GrantDialog } from './GrantDialog';
import { Icon } from '../../ui/Icons';
import { ConfirmDialog } from '../../ui/Modal';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useToast } from '../../ui/Toast';

export type GrantState = 'active' | 'scheduled' | 'expired' | 'used_up' | 'revoked';

export function grantState(grant: SealGrant, now = Date.now()): GrantState {
  if (grant.revokedAt) return 'revoked';
  if (grant.validUntil && new Date(grant.validUntil).getTime() <= now) return 'expired';
  if (grant.maxUses !== null && grant.usedCount >= grant.maxUses) return 'used_up';
  if (new Date(grant.validFrom).getTime() > now) return 'scheduled';
  return 'active';
}

const stateTone: Record<GrantState, string> = {
  active: 'ok',
  scheduled: 'info',
  expired: 'muted',
  used_up: 'muted',
  revoked: 'danger',
};

export function granteeText(i18n: I18n, grant: Pick<SealGrant, 'granteeType' | 'granteeRole' | 'granteeName'>): string {
  if (grant.granteeType === 'role' && grant.granteeRole)
    return `${roleName(i18n, grant.granteeRole)}${grant.granteeName ? ` · ${grant.granteeName}` : ''}`;
  return grant.granteeName ?? '—';
}

/**
 * 使用授权 on the file card: who may use the seal (a person, a department, a role over a
 * company), for which categories, in which window, with how many uses left; granting and
 * revoking for those who hold seals.grant over the seal's company.
 */
export function SealGrants({
  seal,
  grants,
  canGrant,
  onChanged,
}: {
  seal: Seal;
  grants: SealGrant[];
  canGrant: boolean;
  onChanged: () => void;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const notify = useToast();
  const [showAll, setShowAll] = useState(false);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<SealGrant | null>(null);
  const [revokeReason, setRevokeReason] = useState('');
  const now = Date.now();
  const shown = grants.filter((g) => showAll || grantState(g, now) === 'active' || grantState(g, now) === 'scheduled');
  const grantable = seal.status === 'active' || seal.status === 'pending';

  const revoke = useMutation(
    (g: SealGrant) => api.revokeGrant(seal.id, g.id, revokeReason.trim() ? { reason: revokeReason.trim() } : {}),
    () => {
      notify(t('grant.revoked'));
      setRevoking(null);
      setRevokeReason('');
      onChanged();
    },
  );

  return (
    <section className="card card-flush" data-testid="grant-section">
      <div className="card-head card-title grant-head">
        <h2>{t('seal.grants')}</h2>
        <div className="button-row">
          <label className="toolbar-check small">
            <input
              type="checkbox"
              checked={showAll}
              onChange={(e) => setShowAll(e.target.checked)}
              data-testid="grant-show-all"
            />
            {t('grant.showEnded')}
          </label>
          {canGrant && grantable && (
            <button
              type="button"
              className="button button-small button-primary"
              onClick={() => setCreating(true)}
              data-testid="grant-new"
            >
              <Icon name="plus" size={15} />
              {t('grant.new')}
            </button>
          )}
        </div>
      </div>
      {shown.length === 0 ? (
        <p className="empty">{t('seal.noGrants')}</p>
      ) : (
        <table className="table responsive" data-testid="grant-table">
          <thead>
            <tr>
              <th>{t('seal.grantee')}</th>
              <th>{t('seal.categories')}</th>
              <th>{t('grant.window')}</th>
              <th>{t('grant.usesLeft')}</th>
              <th>{t('seal.status')}</th>
              {canGrant && <th className="actions-col">{t('common.actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {shown.map((g) => {
              const state = grantState(g, now);
              return (
                <tr key={g.id} data-testid="grant-row" data-grant={g.id} data-state={state}>
                  <td data-label={t('seal.grantee')} className="cell-title">
                    {granteeText(i18n, g)}
                    <span className="muted small grantee-type"> {t(`grant.type.${g.granteeType}`)}</span>
                  </td>
                  <td data-label={t('seal.categories')}>
                    {listOf(
                      i18n,
                      g.categories.map((c) => categoryName(i18n, c)),
                    )}
                  </td>
                  <td data-label={t('grant.window')}>
                    {i18n.formatDate(g.validFrom, false)} –{' '}
                    {g.validUntil ? i18n.formatDate(g.validUntil, false) : t('seal.forever')}
                  </td>
                  <td data-label={t('grant.usesLeft')}>
                    {g.maxUses === null
                      ? t('seal.unlimited')
                      : t('grant.usesOf', { left: Math.max(0, g.maxUses - g.usedCount), total: g.maxUses })}
                  </td>
                  <td data-label={t('seal.status')}>
                    <span className={`badge badge-${stateTone[state]}`} data-testid="grant-state">
                      {t(`grant.state.${state}`)}
                    </span>
                  </td>
                  {canGrant && (
                    <td className="actions-col">
                      {state !== 'revoked' && (
                        <button
                          type="button"
                          className="button button-small button-danger-outline"
                          onClick={() => setRevoking(g)}
                          data-testid="grant-revoke"
                        >
                          {t('grant.revoke')}
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {creating && (
        <GrantDialog
          seal={seal}
          onClose={() => setCreating(false)}
          onCreated={(g) => {
            setCreating(false);
            notify(t('grant.created', { name: granteeText(i18n, g) }));
            onChanged();
          }}
        />
      )}
      {revoking && (
        <ConfirmDialog
          title={t('grant.revoke')}
          message={t('grant.revokeConfirm', { name: granteeText(i18n, revoking) })}
          confirmLabel={t('grant.revoke')}
          danger
          busy={revoke.busy}
          error={<ProblemMessage error={revoke.error} testId="grant-revoke-problem" />}
          onConfirm={() => void revoke.run(revoking)}
          onCancel={() => {
            setRevoking(null);
            revoke.reset();
          }}
        >
          <Field label={t('user.reason')} optional>
            {(p) => (
              <textarea
                {...p}
                className="input"
                rows={2}
                maxLength={500}
                value={revokeReason}
                onChange={(e) => setRevokeReason(e.target.value)}
                data-testid="grant-revoke-reason"
              />
            )}
          </Field>
        </ConfirmDialog>
      )}
    </section>
  );
}
