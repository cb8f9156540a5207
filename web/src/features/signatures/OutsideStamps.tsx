import { api } from '../../api';
import { useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icons';

/**
 * What was stamped on an application's documents outside it: directly under a standing grant,
 * under another application, or signed personally. An approver deciding a pending application
 * sees that the document already bears a seal, and who put it there, when and with which seal.
 */
export function OutsideStamps({ applicationId, pending }: { applicationId: string; pending: boolean }) {
  const i18n = useI18n();
  const { t } = i18n;
  const found = useQuery(['OutsideStamps.list', applicationId], (signal) =>
    api.applicationDocumentSignatures(applicationId, signal),
  );
  const items = found.data?.items ?? [];
  if (items.length === 0) return null;
  return (
    <section className="card" data-testid="outside-stamps">
      <h2>{t('outside.title')}</h2>
      <div className={`alert ${pending ? 'alert-warning' : 'alert-info'}`} role="note">
        <Icon name="alert" size={20} className="alert-icon" />
        <p>{pending ? t('outside.pendingNote') : t('outside.note')}</p>
      </div>
      <ul className="item-list">
        {items.map((s) => (
          <li key={s.id} data-testid="outside-stamp" data-signature={s.id} data-sha256={s.originalSha256}>
            <div>
              <div className="role-line">
                <strong>{s.sealName ?? t('outside.personal')}</strong>
                <span className="badge badge-muted">{t(`outside.basis.${s.basis}`)}</span>
              </div>
              <div className="muted small">
                {t('outside.line', {
                  name: s.userName,
                  time: i18n.formatDate(s.signedAt),
                  document: s.documentName ?? s.originalSha256.slice(0, 12),
                })}
              </div>
            </div>
          </li>
        ))}
      </ul>
      {found.data?.more && <p className="muted small">{t('outside.more')}</p>}
    </section>
  );
}
