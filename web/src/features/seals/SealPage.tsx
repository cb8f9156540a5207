import { api, type Seal } from '../../api';
import { Icon } from '../../ui/Icons';
import { LifecycleActions } from '../seal-lifecycle/LifecycleDialog';
import { LoadState } from '../../ui/PageHeader';
import { SealCertificate } from './SealCertificate';
import { SealEsl } from './SealEsl';
import { SealGrants } from './SealGrants';
import { SealHistory } from './SealHistory';
import { SealImage } from './SealImage';
import { useQuery } from '../../hooks';
import { listOf, sealKindName, sealTypeName, useI18n } from '../../i18n';
import { href, Link } from '../../router';
import { useCan } from '../../session';
import { sealStatusBadge } from './SealsPage';

function LifecycleActionsIfAllowed({ seal }: { seal: Seal }) {
  const can = useCan();
  return can('seals.manage', seal.companyId) ? <LifecycleActions seal={seal} /> : null;
}

/** The seal's file card (档案卡): what it is, who keeps it, who may use it, what happened to it. */
export function SealPage({ sealId }: { sealId: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const can = useCan();
  const card = useQuery(['SealPage.card', sealId], (signal) => api.sealCard(sealId, signal));
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
        <div className="page-actions">
          <Link
            to={href('/reports/seal-permissions', { by: 'seal', seal: seal.id })}
            className="button"
            data-testid="seal-report-link"
          >
            <Icon name="report" size={16} />
            {t('report.forSeal')}
          </Link>
        </div>
      </div>
      {seal.needsCustodian && <p className="alert alert-info">{t('seal.needsCustodian')}</p>}
      <section className="card seal-card">
        <div className="seal-card-image">
          {seal.imageSha256 ? (
            <SealImage
              sha256={seal.imageSha256}
              alt={t('sealImage.alt', { name: seal.name })}
              size="medium"
              testId="seal-card-image"
            />
          ) : (
            <span className="muted small">{t('sealImage.none')}</span>
          )}
        </div>
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
      {seal.kind === 'electronic' && (
        <SealCertificate seal={seal} canIssue={can('seals.manage', seal.companyId)} onIssued={card.reload} />
      )}
      {seal.kind === 'electronic' && can('seals.manage', seal.companyId) && <SealEsl seal={seal} />}
      <LifecycleActionsIfAllowed seal={seal} />
      <SealGrants seal={seal} grants={grants} canGrant={can('seals.grant', seal.companyId)} onChanged={card.reload} />
      <SealHistory history={history} />
    </>
  );
}
