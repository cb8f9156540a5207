import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../../api';
import { Field } from '../../ui/Field';
import { SealMark } from '../../ui/Icons';
import { LanguageSwitcher } from '../../ui/LanguageSwitcher';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useI18n } from '../../i18n';

/** E-mail and password, then (when the account has it) the authenticator code. */
export function SignInPage({ onSignedIn, notice }: { onSignedIn: (token: string) => void; notice?: string | null }) {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [challenge, setChallenge] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = challenge
        ? await api.totp({ challengeToken: challenge, code: code.trim() })
        : await api.signIn({ email: email.trim(), password });
      if (result.status === 'signed_in') onSignedIn(result.token);
      else setChallenge(result.challengeToken);
    } catch (failure) {
      setError(
        failure instanceof ApiError
          ? failure
          : new ApiError({ status: 0, code: 'internal_error', detail: String(failure) }),
      );
    } finally {
      setBusy(false);
    }
  };

  const startOver = () => {
    setChallenge(null);
    setCode('');
    setPassword('');
    setError(null);
  };

  const fields = error?.fieldErrors() ?? {};

  return (
    <div className="signin">
      <div className="signin-lang">
        <LanguageSwitcher />
      </div>
      <form className="signin-card" onSubmit={(e) => void submit(e)} noValidate data-testid="signin-form">
        <div className="signin-brand">
          <SealMark size={44} />
          <div>
            <div className="signin-name">{t('app.title')}</div>
            <div className="muted">{t('signIn.subtitle')}</div>
          </div>
        </div>
        <h1>{challenge ? t('signIn.totpTitle') : t('signIn.title')}</h1>
        {notice && !error && <p className="alert alert-info">{notice}</p>}
        <ProblemMessage error={error} testId="signin-error" />
        {challenge ? (
          <>
            <p className="muted">{t('signIn.totpHint')}</p>
            <Field label={t('signIn.totpCode')} error={fields.code}>
              {(p) => (
                <input
                  {...p}
                  className="input input-code"
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  pattern="[0-9]*"
                  maxLength={6}
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                  data-testid="signin-totp"
                />
              )}
            </Field>
            <button
              type="submit"
              className="button button-primary button-block"
              disabled={busy || code.trim().length !== 6}
              data-testid="signin-submit"
            >
              {busy ? t('signIn.submitting') : t('signIn.verify')}
            </button>
            <button type="button" className="button button-ghost button-block" onClick={startOver}>
              {t('signIn.startOver')}
            </button>
          </>
        ) : (
          <>
            <Field label={t('signIn.email')} error={fields.email}>
              {(p) => (
                <input
                  {...p}
                  className="input"
                  type="email"
                  autoComplete="username"
                  value={email}
                  onChange={(e) => setEmail(e.target.value)}
                  required
                  data-testid="signin-email"
                />
              )}
            </Field>
            <Field label={t('signIn.password')} error={fields.password}>
              {(p) => (
                <input
                  {...p}
                  className="input"
                  type="password"
                  autoComplete="current-password"
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                  required
                  data-testid="signin-password"
                />
              )}
            </Field>
            <button
              type="submit"
              className="button button-primary button-block"
              disabled={busy || !email || !password}
              data-testid="signin-submit"
            >
              {busy ? t('signIn.submitting') : t('signIn.submit')}
            </button>
          </>
        )}
      </form>
    </div>
  );
}
