/** @jsxImportSource preact */
import type { ComponentChildren } from 'preact';
import type { PublicSignatureCheck, PublicVerification } from './api';
import { useText, type Text } from './text';

/** How the page shows a report: one colour, one sentence. */
export type Look = 'valid' | 'unknown-signer' | 'altered' | 'invalid' | 'unsigned';

const isAltered = (s: PublicSignatureCheck) => !s.intact || s.modifiedAfter === 'altered';

/**
 * Green only when the server's verdict is valid and every signature, checked again here, is
 * intact, valid and chains to the platform's root; an intact signature by a signer the root does
 * not vouch for is amber, never green; a change after signing is red and says what changed.
 */
export function lookOf(report: PublicVerification): Look {
  const { signatures } = report;
  if (signatures.length === 0) return 'unsigned';
  if (signatures.some(isAltered)) return 'altered';
  const trusted = signatures.every((s) => s.status === 'valid' && s.intact && s.chainTrusted);
  if (report.verdict === 'valid' && trusted) return 'valid';
  if (report.verdict === 'invalid' || signatures.some((s) => s.status === 'invalid')) return 'invalid';
  return 'unknown-signer';
}

function nameOf(text: Text, s: PublicSignatureCheck): string {
  if (s.kind === 'document-timestamp') return text.t('sig.timestamp');
  return s.signer?.commonName ?? text.t('sig.signature', { n: s.index + 1 });
}

/** Why the report is red, signature by signature, in the reader's language (the verifier's own words for each change). */
function Reasons({ report, look }: { report: PublicVerification; look: Look }) {
  const text = useText();
  const { t } = text;
  if (look !== 'altered' && look !== 'invalid') return null;
  const items: ComponentChildren[] = [];
  for (const s of report.signatures) {
    const vars = { n: s.index + 1, name: nameOf(text, s) };
    if (!s.intact) items.push(<li key={`c${s.index}`}>{t('changes.content', vars)}</li>);
    if (s.modifiedAfter === 'altered')
      items.push(
        <li key={`a${s.index}`}>
          {t('changes.after', vars)}
          {s.changesAfter.length > 0 && (
            <ul lang="en">
              {s.changesAfter.map((change, i) => (
                <li key={i}>{change}</li>
              ))}
            </ul>
          )}
        </li>,
      );
    if (look === 'invalid' && s.status === 'invalid')
      items.push(
        <li key={`i${s.index}`}>
          {s.revocation === 'revoked'
            ? t('invalid.revoked', vars)
            : !s.certificateValidAtSigningTime
              ? t('invalid.expired', vars)
              : t('invalid.other', vars)}
        </li>,
      );
  }
  return (
    <div className="changes" data-testid="verify-changes">
      <strong>{t('changes.title')}</strong>
      <ul>{items}</ul>
    </div>
  );
}

/** The verdict banner: its mark, what it says, and the reasons under it. */
export function Verdict({ look, says, children }: { look: Look; says: string; children: ComponentChildren }) {
  return (
    <div className={`verdict verdict-${look}`} role="status" data-testid="verify-verdict" data-verdict={look}>
      <span className="verdict-mark" aria-hidden="true">
        {look === 'valid' ? '✓' : look === 'unsigned' ? 'i' : '!'}
      </span>
      <div>
        <p className="verdict-text">{says}</p>
        {children}
      </div>
    </div>
  );
}

/** The file: its name, its kind, whether the platform made it, its hash and signature count, and `children` (more facts). */
export function FileCard({
  fileName,
  report,
  kind,
  children,
}: {
  fileName: string;
  report: { sha256: string; signatures: unknown[]; platformOutput: { signedAt: string } | null };
  kind?: string;
  children?: ComponentChildren;
}) {
  const text = useText();
  const { t } = text;
  return (
    <div className="card">
      <p className="file-name" data-testid="verify-file-name">
        {fileName}
      </p>
      {kind && <p className="muted">{kind}</p>}
      {(report.platformOutput || report.signatures.length > 0) && (
        <p className={report.platformOutput ? 'platform platform-yes' : 'platform'} data-testid="verify-platform">
          {report.platformOutput
            ? t('platform.yes', { date: text.date(report.platformOutput.signedAt) })
            : t('platform.no')}
        </p>
      )}
      <dl className="facts">
        <div className="wide">
          <dt>{t('facts.sha256')}</dt>
          <dd className="mono">{report.sha256}</dd>
        </div>
        <div>
          <dt>{t('facts.signatures')}</dt>
          <dd data-testid="verify-count">{report.signatures.length}</dd>
        </div>
        {children}
      </dl>
    </div>
  );
}

export function Report({ report, fileName }: { report: PublicVerification; fileName: string }) {
  const text = useText();
  const { t } = text;
  const look = lookOf(report);
  return (
    <section className="report" data-testid="verify-report" aria-live="polite">
      <Verdict look={look} says={t(`verdict.${look}`)}>
        <Reasons report={report} look={look} />
      </Verdict>

      <FileCard fileName={fileName} report={report}>
        <div>
          <dt>{t('facts.revisions')}</dt>
          <dd>{report.revisions}</dd>
        </div>
      </FileCard>

      {report.signatures.map((s) => (
        <SignatureCard key={s.index} signature={s} />
      ))}
    </section>
  );
}

/** One check of a signature: passed, failed, or not known. */
export function Check({ ok, children }: { ok: boolean | null; children: ComponentChildren }) {
  return (
    <span className={`check ${ok === null ? 'check-unknown' : ok ? 'check-ok' : 'check-bad'}`}>
      <span aria-hidden="true">{ok === null ? '?' : ok ? '✓' : '✗'}</span> {children}
    </span>
  );
}

function timeSource(text: Text, s: PublicSignatureCheck): string {
  const { t } = text;
  if (!s.timestamp) return t('time.claimed');
  if (!s.timestamp.valid) return t('time.tsaBad');
  const tsa = s.timestamp.authority ?? '—';
  return s.timestamp.trusted ? t('time.tsa', { tsa }) : t('time.tsaUntrusted', { tsa });
}

function SignatureCard({ signature: s }: { signature: PublicSignatureCheck }) {
  const text = useText();
  const { t } = text;
  const picture = s.impressions.find((i) => i.png);
  const badge = s.status === 'valid' ? 'badge-ok' : s.status === 'unknown-signer' ? 'badge-warn' : 'badge-bad';
  return (
    <article className="card signature" data-testid="verify-signature" data-status={s.status}>
      <header className="signature-head">
        <h2 data-testid="verify-signer">{nameOf(text, s)}</h2>
        <span className={`badge ${badge}`}>{t(`status.${s.status}`)}</span>
        {s.level && <span className="badge">{s.level}</span>}
      </header>
      <div className="signature-body">
        {picture && (
          <figure className="impression" data-testid="verify-impression">
            <img src={`data:image/png;base64,${picture.png}`} alt={t('sig.impression', { n: s.index + 1 })} />
            <figcaption>{t('sig.page', { page: picture.page })}</figcaption>
          </figure>
        )}
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
              <span className="muted"> · {timeSource(text, s)}</span>
            </dd>
          </div>
          <div className="wide">
            <dt>{t('sig.content')}</dt>
            <dd>
              <Check ok={s.intact}>{s.intact ? t('content.ok') : t('content.bad')}</Check>
            </dd>
          </div>
          <div className="wide">
            <dt>{t('sig.trust')}</dt>
            <dd data-testid="verify-trust" data-trusted={String(s.chainTrusted)}>
              <Check ok={s.chainTrusted}>{s.chainTrusted ? t('trust.ok') : t('trust.bad')}</Check>
            </dd>
          </div>
          <div className="wide">
            <dt>{t('sig.after')}</dt>
            <dd>
              <Check ok={s.modifiedAfter !== 'altered'}>{t(`after.${s.modifiedAfter}`)}</Check>
            </dd>
          </div>
          {s.kind === 'signature' && (
            <div className="wide">
              <dt>{t('sig.certificate')}</dt>
              <dd>
                <Check ok={s.certificateValidAtSigningTime}>
                  {s.certificateValidAtSigningTime ? t('certificate.ok') : t('certificate.bad')}
                </Check>
              </dd>
            </div>
          )}
          {s.kind === 'signature' && (
            <div className="wide">
              <dt>{t('sig.revocation')}</dt>
              <dd>
                <Check ok={s.revocation === 'good' ? true : s.revocation === 'revoked' ? false : null}>
                  {t(`revocation.${s.revocation}`)}
                </Check>
              </dd>
            </div>
          )}
        </dl>
      </div>
      {s.signer && (
        <details className="more">
          <summary>{t('sig.details')}</summary>
          <dl className="facts">
            <div className="wide">
              <dt>{t('sig.subject')}</dt>
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
            {s.chain.length > 0 && (
              <div className="wide">
                <dt>{t('sig.chain')}</dt>
                <dd>
                  <ol className="chain">
                    {s.chain.map((subject, i) => (
                      <li key={i}>{subject}</li>
                    ))}
                  </ol>
                </dd>
              </div>
            )}
          </dl>
        </details>
      )}
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
