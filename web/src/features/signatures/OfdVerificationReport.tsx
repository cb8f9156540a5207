import type { ReactNode } from 'react';
import type { OfdSignatureCheck, OfdVerificationReport } from '../../api';
import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icons';

type Look = 'valid' | 'unknown-signer' | 'invalid' | 'unsigned';

const isAltered = (s: OfdSignatureCheck) =>
  s.unprotected.length > 0 || s.references.some((r) => r.status !== 'intact') || s.checks.dataHash === 'mismatch';

/**
 * As the public page (web/src/verify/OfdReport.tsx) judges an OFD: green only when the server says
 * valid and every seal signature holds in every check and chains to the SM2 root; a file changed
 * or added after sealing is red and named; an intact signature the root does not vouch for is amber.
 */
export function ofdLookOf(report: OfdVerificationReport): Look {
  const { signatures } = report;
  if (signatures.length === 0) return 'unsigned';
  if (signatures.some(isAltered)) return 'invalid';
  const holds = (s: OfdSignatureCheck) =>
    s.checks.signatureValue && s.checks.signerListed && s.checks.sealValid && s.checks.dataHash === 'match';
  if (report.verdict === 'valid' && signatures.every((s) => s.status === 'valid' && holds(s) && s.chainTrusted))
    return 'valid';
  if (report.verdict === 'invalid' || signatures.some((s) => s.status === 'invalid')) return 'invalid';
  return 'unknown-signer';
}

function Check({ ok, children }: { ok: boolean; children: ReactNode }) {
  return (
    <li>
      <span className={`check-line ${ok ? 'check-ok' : 'check-bad'}`} data-ok={ok ? 'true' : 'false'}>
        <Icon name={ok ? 'ok' : 'cross'} size={16} />
        <span>{children}</span>
      </span>
    </li>
  );
}

function SealSignatureCard({ signature: s, n }: { signature: OfdSignatureCheck; n: number }) {
  const i18n = useI18n();
  const { t } = i18n;
  const problems = [
    ...s.references
      .filter((r) => r.status !== 'intact')
      .map((r) => t(r.status === 'changed' ? 'ofd.report.changed' : 'ofd.report.missing', { path: r.path })),
    ...s.unprotected.map((path) => t('ofd.report.unprotected', { path })),
  ];
  return (
    <section className="card" data-testid="ofd-signature" data-status={s.status}>
      <div className="card-head">
        <h2>{t('ofd.report.seal', { n })}</h2>
      </div>
      <dl className="facts facts-wide">
        {s.seal && (
          <>
            <div className="fact-full">
              <dt>{t('ofd.report.sealName')}</dt>
              <dd className="cell-break" data-testid="ofd-seal-name">
                {s.seal.name}
              </dd>
            </div>
            <div className="fact-full">
              <dt>{t('ofd.report.esId')}</dt>
              <dd className="mono hash">{s.seal.esId}</dd>
            </div>
            <div className="fact-full">
              <dt>{t('ofd.report.maker')}</dt>
              <dd className="cell-break">{s.seal.maker}</dd>
            </div>
            <div className="fact-full">
              <dt>{t('ofd.report.sealValidity')}</dt>
              <dd>
                {t('cert.validRange', {
                  from: i18n.formatDate(s.seal.validStart, false),
                  to: i18n.formatDate(s.seal.validEnd, false),
                })}
              </dd>
            </div>
          </>
        )}
        {s.signer && (
          <div className="fact-full">
            <dt>{t('ofd.report.signer')}</dt>
            <dd className="cell-break" data-testid="ofd-signer">
              {[s.signer.commonName, s.signer.organization].filter(Boolean).join(' · ') || s.signer.subject}
            </dd>
          </div>
        )}
        {s.signedAt && (
          <div className="fact-full">
            <dt>{t('ofd.report.signedAt')}</dt>
            <dd>{i18n.formatDate(s.signedAt)}</dd>
          </div>
        )}
      </dl>
      <ul className="plain-list ofd-checks" data-testid="ofd-checks">
        <Check ok={s.checks.signatureValue}>{t('ofd.report.checkValue')}</Check>
        <Check ok={s.checks.signerListed}>{t('ofd.report.checkListed')}</Check>
        <Check ok={s.checks.sealValid}>{t('ofd.report.checkSealValid')}</Check>
        <Check ok={s.checks.dataHash === 'match' && s.references.every((r) => r.status === 'intact')}>
          {t('ofd.report.checkHash')}
        </Check>
        <Check ok={s.chainTrusted}>{t('ofd.report.checkChain')}</Check>
      </ul>
      {problems.length > 0 && (
        <ul className="alert alert-error" data-testid="ofd-changes">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The verifier's report on an OFD (format 'ofd'): one verdict, then each GB/T 38540 seal signature. */
export function OfdVerificationReportView({
  report,
  fileName,
  testId = 'verify-report',
}: {
  report: OfdVerificationReport;
  fileName?: string;
  testId?: string;
}) {
  const { t } = useI18n();
  const look = ofdLookOf(report);
  const shown = {
    valid: { alert: 'alert-success', icon: 'ok', text: t('ofd.report.valid') },
    'unknown-signer': { alert: 'alert-warning', icon: 'alert', text: t('ofd.report.unknownSigner') },
    invalid: { alert: 'alert-error', icon: 'cross', text: t('ofd.report.invalid') },
    unsigned: { alert: 'alert-info', icon: 'alert', text: t('ofd.report.unsigned') },
  }[look];
  return (
    <div
      className="verify-report"
      data-testid={testId}
      data-format="ofd"
      data-intact={look === 'valid' ? 'true' : 'false'}
    >
      <div
        className={`alert ${shown.alert} verify-verdict`}
        role="status"
        data-testid="verify-verdict"
        data-verdict={look}
      >
        <Icon name={shown.icon as 'ok' | 'cross' | 'alert'} size={22} className="alert-icon" />
        <p>{shown.text}</p>
      </div>
      <section className="card">
        <dl className="facts facts-wide">
          {fileName && (
            <div className="fact-full">
              <dt>{t('verify.file')}</dt>
              <dd className="cell-break" data-testid="verify-file">
                {fileName}
              </dd>
            </div>
          )}
          <div className="fact-full">
            <dt>SHA-256</dt>
            <dd className="mono hash small">{report.sha256}</dd>
          </div>
          <div>
            <dt>{t('ofd.report.pages')}</dt>
            <dd>{report.pages}</dd>
          </div>
        </dl>
        <p className="muted small" data-testid="verify-archive" data-found={report.archive.found ? 'true' : 'false'}>
          {t(report.archive.found ? 'ofd.report.archived' : 'ofd.report.notArchived')}
        </p>
      </section>
      {report.signatures.map((s, i) => (
        <SealSignatureCard key={s.id} signature={s} n={i + 1} />
      ))}
    </div>
  );
}
