/** @jsxImportSource preact */
import type { ComponentChildren } from 'preact';
import type { OfdSignatureCheck, OfdVerification } from './api';
import { Check, FileCard, Verdict, type Look } from './Report';
import { useText, type Text } from './text';

const SM2_ROOT_CERTIFICATE = '/pki/sm2/root/certificate';

const isAltered = (s: OfdSignatureCheck) =>
  s.unprotected.length > 0 || s.references.some((r) => r.status !== 'intact') || s.checks.dataHash === 'mismatch';

/**
 * As for a PDF: green only when the server says valid and every seal signature, checked again
 * here, holds in every check and chains to the SM2 root; a file changed or added after sealing is
 * red and named; an intact signature the root does not vouch for is amber.
 */
export function ofdLookOf(report: OfdVerification): Look {
  const { signatures } = report;
  if (signatures.length === 0) return 'unsigned';
  if (signatures.some(isAltered)) return 'altered';
  const holds = (s: OfdSignatureCheck) =>
    s.checks.signatureValue && s.checks.signerListed && s.checks.sealValid && s.checks.dataHash === 'match';
  if (report.verdict === 'valid' && signatures.every((s) => s.status === 'valid' && holds(s) && s.chainTrusted))
    return 'valid';
  if (report.verdict === 'invalid' || signatures.some((s) => s.status === 'invalid')) return 'invalid';
  return 'unknown-signer';
}

function nameOf(text: Text, s: OfdSignatureCheck, n: number): string {
  return s.seal?.name ?? s.signer?.commonName ?? text.t('ofd.seal', { n });
}

function Reasons({ report, look }: { report: OfdVerification; look: Look }) {
  const text = useText();
  const { t } = text;
  if (look !== 'altered' && look !== 'invalid') return null;
  const items: ComponentChildren[] = [];
  const unprotected = new Set<string>();
  report.signatures.forEach((s, i) => {
    const vars = { n: i + 1, name: nameOf(text, s, i + 1) };
    for (const r of s.references) {
      if (r.status === 'changed')
        items.push(<li key={`c${i}${r.path}`}>{t('ofd.changed', { ...vars, path: r.path })}</li>);
      if (r.status === 'missing')
        items.push(<li key={`m${i}${r.path}`}>{t('ofd.missing', { ...vars, path: r.path })}</li>);
    }
    for (const path of s.unprotected) unprotected.add(path);
    if (look === 'invalid' && s.status === 'invalid') items.push(<li key={`i${i}`}>{t('ofd.invalid', vars)}</li>);
  });
  for (const path of unprotected) items.push(<li key={`u${path}`}>{t('ofd.unprotected', { path })}</li>);
  return (
    <div className="changes" data-testid="verify-changes">
      <strong>{t('changes.title')}</strong>
      <ul>{items}</ul>
    </div>
  );
}

function SealCard({ signature: s, n }: { signature: OfdSignatureCheck; n: number }) {
  const text = useText();
  const { t } = text;
  const badge = s.status === 'valid' ? 'badge-ok' : s.status === 'unknown-signer' ? 'badge-warn' : 'badge-bad';
  const pages = [...new Set(s.stamps.flatMap((stamp) => (stamp.page === null ? [] : [stamp.page + 1])))];
  const changed = s.references.filter((r) => r.status !== 'intact');
  return (
    <article className="card signature" data-testid="verify-signature" data-status={s.status} data-format="ofd">
      <header className="signature-head">
        <h2 data-testid="verify-signer">{nameOf(text, s, n)}</h2>
        <span className={`badge ${badge}`}>{t(`status.${s.status}`)}</span>
        {s.seal && <span className="badge">GB/T 38540 v{s.seal.version}</span>}
      </header>
      <dl className="facts">
        {s.signer?.organization && (
          <div className="wide">
            <dt>{t('sig.company')}</dt>
            <dd data-testid="verify-company">{s.signer.organization}</dd>
          </div>
        )}
        <div className="wide">
          <dt>{t('sig.signedAt')}</dt>
          <dd>
            {s.signedAt ? text.date(s.signedAt) : '—'}
            <span className="muted">
              {' '}
              · {s.checks.timeStamp === 'valid' ? t('time.tsa', { tsa: 'TSA' }) : t('time.claimed')}
            </span>
            {pages.length > 0 && <span className="muted"> · {t('ofd.stampPage', { page: pages.join(', ') })}</span>}
          </dd>
        </div>
        <div className="wide">
          <dt>{t('sig.content')}</dt>
          <dd data-testid="verify-ofd-checks">
            <ul className="checks">
              <li>
                <Check ok={s.checks.signatureValue}>{t('ofd.check.signatureValue')}</Check>
              </li>
              <li>
                <Check ok={s.checks.signerListed}>{t('ofd.check.signerListed')}</Check>
              </li>
              <li>
                <Check ok={s.checks.sealValid}>{t('ofd.check.sealValid')}</Check>
              </li>
              <li>
                <Check ok={s.checks.dataHash === 'match' ? true : s.checks.dataHash === 'mismatch' ? false : null}>
                  {t('ofd.check.dataHash')}
                </Check>
              </li>
            </ul>
          </dd>
        </div>
        <div className="wide">
          <dt>{t('sig.trust')}</dt>
          <dd data-testid="verify-trust" data-trusted={String(s.chainTrusted)}>
            <Check ok={s.chainTrusted}>{s.chainTrusted ? t('trust.ok') : t('trust.bad')}</Check>
          </dd>
        </div>
        <div className="wide">
          <dt>{t('ofd.files', { n: s.references.length })}</dt>
          <dd data-testid="verify-ofd-files" data-changed={String(changed.length)}>
            <Check ok={changed.length === 0 && s.unprotected.length === 0}>
              {changed.length === 0
                ? t('ofd.file.intact')
                : changed.map((r) => `${r.path} (${t(`ofd.file.${r.status}`)})`).join(', ')}
            </Check>
          </dd>
        </div>
        {s.unprotected.length > 0 && (
          <div className="wide">
            <dt>{t('ofd.unprotectedTitle')}</dt>
            <dd data-testid="verify-ofd-unprotected">
              <ul className="mono">
                {s.unprotected.map((path) => (
                  <li key={path}>{path}</li>
                ))}
              </ul>
            </dd>
          </div>
        )}
      </dl>
      <details className="more">
        <summary>{t('sig.details')}</summary>
        <dl className="facts">
          {s.seal && (
            <>
              <div className="wide">
                <dt>{t('ofd.sealId')}</dt>
                <dd className="mono">{s.seal.esId}</dd>
              </div>
              <div className="wide">
                <dt>{t('ofd.maker')}</dt>
                <dd>{s.seal.maker}</dd>
              </div>
              <div className="wide">
                <dt>{t('ofd.validity')}</dt>
                <dd>
                  {text.date(s.seal.validStart)} – {text.date(s.seal.validEnd)}
                </dd>
              </div>
            </>
          )}
          {s.signer && (
            <>
              <div className="wide">
                <dt>{t('ofd.signer')}</dt>
                <dd>{s.signer.subject}</dd>
              </div>
              <div className="wide">
                <dt>{t('sig.issuer')}</dt>
                <dd>{s.signer.issuer}</dd>
              </div>
              <div className="wide">
                <dt>{t('sig.serial')}</dt>
                <dd className="mono">{s.signer.serialNumber}</dd>
              </div>
            </>
          )}
        </dl>
      </details>
      {s.problems.length > 0 && (
        <details className="more" data-testid="verify-problems">
          <summary>{t('sig.problems')}</summary>
          <ul lang="en">
            {s.problems.map((p, i) => (
              <li key={i}>{p}</li>
            ))}
          </ul>
        </details>
      )}
    </article>
  );
}

/** The report on an OFD: its GB/T 38540 seal signatures, the files each protects, and what no seal protects. */
export function OfdReport({ report, fileName }: { report: OfdVerification; fileName: string }) {
  const text = useText();
  const { t } = text;
  const look = ofdLookOf(report);
  return (
    <section className="report" data-testid="verify-report" data-format="ofd" aria-live="polite">
      <Verdict look={look} says={t(`ofd.verdict.${look}`)}>
        <Reasons report={report} look={look} />
      </Verdict>

      <FileCard fileName={fileName} report={report} kind={t('ofd.kind', { pages: report.pages })} />

      {report.signatures.map((s, i) => (
        <SealCard key={s.id} signature={s} n={i + 1} />
      ))}

      <section className="card root">
        <h2>{t('ofd.root.title')}</h2>
        <p className="muted">{t('ofd.root.text')}</p>
        <a
          className="button"
          href={SM2_ROOT_CERTIFICATE}
          download="sigil-sm2-root.cer"
          data-testid="verify-sm2-root-link"
        >
          {t('ofd.root.download')}
        </a>
        {report.sm2RootCertificate.sha256 && (
          <p className="small">
            {t('root.fingerprint')}: <span className="mono">{report.sm2RootCertificate.sha256}</span>
          </p>
        )}
      </section>
    </section>
  );
}
