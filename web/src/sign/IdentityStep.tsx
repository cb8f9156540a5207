/** @jsxImportSource preact */
import { useEffect, useState } from 'preact/hooks';
import { asProblem, getIdentityCheck, startIdentityCheck, type IdentityCheck, type SignProblem } from './api';
import { problemText } from './problems';
import { useText } from './text';

/**
 * The identity check (实名认证, 人脸识别) the contract asks for before signing: started with the
 * platform's provider, taken where the provider says (its page or app), its verdict asked for again
 * when the signer comes back. The signature is refused until it has passed.
 */
export function IdentityStep({ session, onProblem }: { session: string; onProblem: (problem: SignProblem) => void }) {
  const { t } = useText();
  const text = useText();
  const [check, setCheck] = useState<IdentityCheck | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<SignProblem | null>(null);

  const run = async (ask: () => Promise<IdentityCheck>) => {
    setBusy(true);
    setProblem(null);
    try {
      setCheck(await ask());
    } catch (error) {
      const found = asProblem(error);
      setProblem(found);
      onProblem(found);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void run(() => getIdentityCheck(session));
    // Asked once when the page opens; the buttons ask again.
  }, [session]);

  const kind = check?.kind === 'face' ? t('idv.face') : t('idv.realName');
  return (
    <section className="card" data-testid="sign-identity">
      <h2>{t('idv.title', { kind })}</h2>
      {check?.status === 'passed' ? (
        <p className="note" role="status" data-testid="sign-identity-passed">
          {t('idv.passed')}
        </p>
      ) : (
        <>
          <p className="muted">
            {check?.status === 'pending'
              ? t('idv.pending')
              : check?.status === 'failed'
                ? t('idv.failed', { reason: check.reason ?? '' })
                : t('idv.hint', { kind })}
          </p>
          {check?.status === 'pending' && check.redirectUrl && (
            <p>
              <a href={check.redirectUrl} target="_blank" rel="noopener noreferrer" data-testid="sign-identity-go">
                {t('idv.go')}
              </a>
            </p>
          )}
          <div className="pad-actions">
            {check?.status === 'pending' ? (
              <button
                type="button"
                className="button"
                disabled={busy}
                onClick={() => void run(() => getIdentityCheck(session))}
                data-testid="sign-identity-refresh"
              >
                {t('idv.refresh')}
              </button>
            ) : (
              <button
                type="button"
                className="button button-primary"
                disabled={busy}
                onClick={() => void run(() => startIdentityCheck(session))}
                data-testid="sign-identity-start"
              >
                {t('idv.start')}
              </button>
            )}
          </div>
        </>
      )}
      {problem && (
        <p className="problem" role="alert">
          {problemText(text, problem)}
        </p>
      )}
    </section>
  );
}
