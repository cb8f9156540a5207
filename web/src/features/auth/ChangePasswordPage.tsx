import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../../api';
import { Field } from '../../ui/Field';
import { SealMark } from '../../ui/Icons';
import { LanguageSwitcher } from '../../ui/LanguageSwitcher';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useI18n } from '../../i18n';

/**
 * The one thing an account whose password someone else chose may do (a new group's first
 * administrator, whose password was printed): choose its own. The server answers nothing else
 * until then (`password_change_required`); signing out stays possible.
 */
export function ChangePasswordPage({ onChanged, onSignOut }: { onChanged: () => void; onSignOut: () => void }) {
  const { t } = useI18n();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [attempted, setAttempted] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const mismatch = attempted && next !== repeat ? t('password.mismatch') : undefined;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    if (next !== repeat) return;
    setBusy(true);
    setError(null);
    try {
      await api.changePassword({ currentPassword: current, newPassword: next });
      onChanged();
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

  const fields = error?.fieldErrors() ?? {};
  return (
    <div className="signin">
      <div className="signin-lang">
        <LanguageSwitcher />
      </div>
      <form className="signin-card" onSubmit={(e) => void submit(e)} noValidate data-testid="password-change-form">
        <div className="signin-brand">
          <SealMark size={44} />
          <div>
            <div className="signin-name">{t('app.title')}</div>
            <div className="muted">{t('signIn.subtitle')}</div>
          </div>
        </div>
        <h1>{t('password.title')}</h1>
        <p className="muted">{t('password.hint')}</p>
        <ProblemMessage
          error={error && !fields.newPassword && !fields.currentPassword ? error : null}
          testId="password-error"
        />
        <Field label={t('password.current')} error={fields.currentPassword}>
          {(p) => (
            <input
              {...p}
              className="input"
              type="password"
              autoComplete="current-password"
              value={current}
              onChange={(e) => setCurrent(e.target.value)}
              data-testid="password-current"
            />
          )}
        </Field>
        <Field label={t('password.new')} hint={t('password.newHint')} error={fields.newPassword}>
          {(p) => (
            <input
              {...p}
              className="input"
              type="password"
              autoComplete="new-password"
              value={next}
              onChange={(e) => setNext(e.target.value)}
              data-testid="password-new"
            />
          )}
        </Field>
        <Field label={t('password.repeat')} error={mismatch}>
          {(p) => (
            <input
              {...p}
              className="input"
              type="password"
              autoComplete="new-password"
              value={repeat}
              onChange={(e) => setRepeat(e.target.value)}
              data-testid="password-repeat"
            />
          )}
        </Field>
        <button
          type="submit"
          className="button button-primary button-block"
          disabled={busy || !current || !next || !repeat}
          data-testid="password-submit"
        >
          {busy ? t('common.saving') : t('password.submit')}
        </button>
        <button type="button" className="button button-ghost button-block" onClick={onSignOut}>
          {t('password.signOut')}
        </button>
      </form>
    </div>
  );
}
