import { api, type Seal } from '../../api';
import { useMutation, useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icons';
import { Loading } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useToast } from '../../ui/Toast';

/**
 * The electronic seal's certificate on its file card: subject (the company), serial, issuer,
 * validity, key and where it is kept, status. Without one, a seal administrator issues it here
 * (otherwise the seal's first stamp does).
 */
export function SealCertificate({
  seal,
  canIssue,
  onIssued,
}: {
  seal: Seal;
  canIssue: boolean;
  onIssued?: () => void;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const notify = useToast();
  const certificate = useQuery(['SealCertificate.certificate', seal.id], (signal) =>
    api.sealCertificate(seal.id, signal),
  );
  const issue = useMutation(
    () => api.issueSealCertificate(seal.id),
    (issued) => {
      certificate.setData(issued);
      certificate.reload();
      notify(t('cert.issued'));
      onIssued?.();
    },
  );
  const missing = certificate.error?.code === 'certificate_not_found';
  const c = certificate.data;
  const expired = c ? new Date(c.notAfter).getTime() < Date.now() : false;
  const state = !c ? null : c.status === 'revoked' ? 'revoked' : expired ? 'expired' : 'active';

  return (
    <section className="card" data-testid="seal-certificate" data-state={state ?? (missing ? 'none' : 'loading')}>
      <div className="card-head">
        <h2>{t('cert.title')}</h2>
        {state && (
          <span
            className={`badge ${state === 'active' ? 'badge-ok' : 'badge-danger'}`}
            data-testid="certificate-status"
          >
            {t(`cert.${state}`)}
          </span>
        )}
      </div>
      {c ? (
        <dl className="facts facts-wide certificate-facts">
          <div className="fact-full">
            <dt>{t('cert.subject')}</dt>
            <dd className="cell-break" data-testid="certificate-subject">
              {c.subject}
            </dd>
          </div>
          <div className="fact-full">
            <dt>{t('cert.serial')}</dt>
            <dd className="mono hash" data-testid="certificate-serial">
              {c.serialNumber}
            </dd>
          </div>
          <div className="fact-full">
            <dt>{t('cert.issuer')}</dt>
            <dd className="cell-break">{c.issuer}</dd>
          </div>
          <div className="fact-full">
            <dt>{t('cert.validity')}</dt>
            <dd>
              {t('cert.validRange', {
                from: i18n.formatDate(c.notBefore, false),
                to: i18n.formatDate(c.notAfter, false),
              })}
            </dd>
          </div>
          <div>
            <dt>{t('cert.key')}</dt>
            <dd data-testid="certificate-key">
              {c.keySpec}
              <span className="muted small"> · {t(`cert.keyStore.${c.keyStore}`)}</span>
            </dd>
          </div>
          <div>
            <dt>{t('cert.source')}</dt>
            <dd>{t(`cert.source.${c.source}`)}</dd>
          </div>
          {c.status === 'revoked' && (
            <div className="fact-full">
              <dt>{t('cert.status')}</dt>
              <dd data-testid="certificate-revoked">
                {c.revokedAt ? t('cert.revokedAt', { date: i18n.formatDate(c.revokedAt) }) : t('cert.revoked')}
                {c.revocationReason && <span className="muted small"> · {c.revocationReason}</span>}
              </dd>
            </div>
          )}
          <div className="fact-full">
            <dt>{t('cert.fingerprint')}</dt>
            <dd className="mono hash small">{c.fingerprint}</dd>
          </div>
        </dl>
      ) : missing ? (
        <div className="certificate-none">
          <p className="muted" data-testid="certificate-none">
            {t('cert.none')}
          </p>
          {canIssue && (
            <button
              type="button"
              className="button button-primary"
              disabled={issue.busy}
              onClick={() => void issue.run()}
              data-testid="certificate-issue"
            >
              <Icon name="key" size={16} />
              {issue.busy ? t('cert.issuing') : t('cert.issue')}
            </button>
          )}
        </div>
      ) : certificate.error ? (
        <ProblemMessage error={certificate.error} />
      ) : (
        <Loading />
      )}
      <ProblemMessage error={issue.error} testId="certificate-problem" />
    </section>
  );
}
