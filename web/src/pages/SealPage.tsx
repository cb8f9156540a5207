import { api } from '../api';
import { Icon } from '../components/Icons';
import { LoadState } from '../components/PageHeader';
import { useQuery } from '../hooks';
import { actionName, categoryName, listOf, roleName, sealKindName, sealTypeName, useI18n } from '../i18n';
import { Link } from '../router';
import { sealStatusBadge } from './SealsPage';

/** The seal's file card (档案卡): what it is, who keeps it, who may use it, what happened to it. */
export function SealPage({ sealId }: { sealId: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const card = useQuery((signal) => api.sealCard(sealId, signal), [sealId]);
  const back = (
    <Link to="/seals" className="back-link">
      <Icon name="chevron" size={14} className="flip" />
      {t('seal.back')}
    </Link>
  );
  if (!card.data) {
    return (
      <>
        {back}
        <LoadState loading={card.loading} error={card.error} empty={false} onRetry={card.reload} />
      </>
    );
  }
  const { seal, grants, history } = card.data;
  const live = grants.filter((g) => !g.revokedAt);
  return (
    <>
      {back}
      <div className="page-header">
        <div className="page-heading">
          <h1 data-testid="page-title">{seal.name}</h1>
          <div className="detail-sub">
            {sealStatusBadge(i18n, seal.status)}
            <span className="mono muted">{seal.code}</span>
            <span className="muted">{t('seal.card')}</span>
          </div>
        </div>
      </div>
      {seal.needsCustodian && <p className="alert alert-info">{t('seal.needsCustodian')}</p>}
      <section className="card">
        <dl className="facts facts-wide">
          <div>
            <dt>{t('seal.company')}</dt>
            <dd>{seal.companyName}</dd>
          </div>
          <div>
            <dt>{t('seal.type')}</dt>
            <dd>{seal.type === 'custom' && seal.customType ? seal.customType : sealTypeName(i18n, seal.type)}</dd>
          </div>
          <div>
            <dt>{t('seal.kind')}</dt>
            <dd>{sealKindName(i18n, seal.kind)}</dd>
          </div>
          <div>
            <dt>{t('seal.custodians')}</dt>
            <dd>
              {seal.custodians.length > 0
                ? listOf(
                    i18n,
                    seal.custodians.map((c) => c.name),
                  )
                : '—'}
            </dd>
          </div>
          {seal.producedAt && (
            <div>
              <dt>{t('seal.producedAt')}</dt>
              <dd>{i18n.formatDate(seal.producedAt, false)}</dd>
            </div>
          )}
          <div>
            <dt>{t('common.createdAt')}</dt>
            <dd>{i18n.formatDate(seal.createdAt, false)}</dd>
          </div>
          {seal.description && (
            <div className="fact-full">
              <dt>{t('seal.description')}</dt>
              <dd className="prewrap">{seal.description}</dd>
            </div>
          )}
        </dl>
      </section>
      <section className="card card-flush">
        <h2 className="card-title">{t('seal.grants')}</h2>
        {live.length === 0 ? (
          <p className="empty">{t('seal.noGrants')}</p>
        ) : (
          <table className="table responsive" data-testid="grant-table">
            <thead>
              <tr>
                <th>{t('seal.grantee')}</th>
                <th>{t('seal.categories')}</th>
                <th>{t('seal.validUntil')}</th>
                <th>{t('seal.used')}</th>
              </tr>
            </thead>
            <tbody>
              {live.map((g) => (
                <tr key={g.id}>
                  <td data-label={t('seal.grantee')} className="cell-title">
                    {g.granteeType === 'role' && g.granteeRole ? `${roleName(i18n, g.granteeRole)}${g.granteeName ? ` · ${g.granteeName}` : ''}` : (g.granteeName ?? '—')}
                  </td>
                  <td data-label={t('seal.categories')}>
                    {listOf(
                      i18n,
                      g.categories.map((c) => categoryName(i18n, c)),
                    )}
                  </td>
                  <td data-label={t('seal.validUntil')}>{g.validUntil ? i18n.formatDate(g.validUntil, false) : t('seal.forever')}</td>
                  <td data-label={t('seal.used')}>
                    {g.usedCount} / {g.maxUses ?? t('seal.unlimited')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {history.length > 0 && (
        <section className="card">
          <h2>{t('seal.history')}</h2>
          <ul className="item-list">
            {history.map((h) => (
              <li key={h.seq}>
                <span>
                  <strong>{actionName(i18n, h.action)}</strong>
                  {h.actorName && <span className="muted"> · {h.actorName}</span>}
                </span>
                <span className="muted small nowrap">{i18n.formatDate(h.occurredAt)}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
