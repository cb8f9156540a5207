/** @jsxImportSource preact */
import { useEffect, useRef, useState } from 'preact/hooks';
import { asProblem, openSession, sendCode, type Channel, type Invitation, type Session, type SignProblem } from './api';
import type { MessageKey } from './messages';
import { isClosing, problemText } from './problems';
import { useText, type Text } from './text';

/** The server sends at most one code a minute per link. */
const RESEND_SECONDS = 60;
/** A wait longer than this is no interval between codes: the link's last code was sent. */
const LONGEST_INTERVAL_SECONDS = 120;

/** A line under the form, worded when shown: switching the language rewords it. */
type Note = { tone: 'info' | 'problem'; say: (text: Text) => string } | null;

/**
 * Step 2: a one-time code to the invited phone or e-mail, the six digits entered (the phone's
 * number pad, and the code offered from the SMS where the phone can), and consent to sign
 * electronically. A right code opens the signing session; a wrong one says how many tries remain.
 */
export function CodeStep({
  token,
  invitation,
  ended,
  onSession,
  onClosed,
}: {
  token: string;
  invitation: Invitation;
  /** The previous signing session ran out: say so above the form. */
  ended: boolean;
  onSession: (session: Session) => void;
  onClosed: (problem: SignProblem) => void;
}) {
  const text = useText();
  const { t } = text;
  const [channel, setChannel] = useState<Channel>(invitation.channels[0] ?? 'sms');
  const [code, setCode] = useState('');
  const [consent, setConsent] = useState(false);
  const [busy, setBusy] = useState<'send' | 'verify' | null>(null);
  const [waitUntil, setWaitUntil] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  const [sendNote, setSendNote] = useState<Note>(
    ended ? { tone: 'problem', say: ({ t }) => t('session.ended') } : null,
  );
  const [codeNote, setCodeNote] = useState<Note>(null);
  const [sentOnce, setSentOnce] = useState(false);
  const codeInput = useRef<HTMLInputElement>(null);

  const waiting = Math.max(0, Math.ceil((waitUntil - now) / 1000));
  useEffect(() => {
    if (waitUntil <= Date.now()) return;
    const timer = setInterval(() => {
      setNow(Date.now());
      if (Date.now() >= waitUntil) clearInterval(timer);
    }, 250);
    return () => clearInterval(timer);
  }, [waitUntil]);

  const address = channel === 'sms' ? invitation.participant.phone : invitation.participant.email;

  const wait = (seconds: number) => {
    setNow(Date.now());
    setWaitUntil(Date.now() + seconds * 1000);
  };

  const send = async () => {
    setBusy('send');
    setSendNote(null);
    try {
      const sent = await sendCode(token, channel);
      setSentOnce(true);
      wait(RESEND_SECONDS);
      const to = sent.sentTo ?? address ?? '';
      const minutes = Math.round(sent.expiresInSeconds / 60);
      setSendNote({ tone: 'info', say: ({ t }) => t('code.sent', { to, minutes }) });
      codeInput.current?.focus();
    } catch (error) {
      const problem = asProblem(error);
      if (isClosing(problem)) return onClosed(problem);
      if (problem.code === 'rate_limited') {
        const seconds = problem.number('retryAfterSeconds') ?? RESEND_SECONDS;
        if (seconds <= LONGEST_INTERVAL_SECONDS) {
          wait(seconds);
          setSendNote({ tone: 'problem', say: ({ t }) => t('code.tooOften', { seconds }) });
        } else setSendNote({ tone: 'problem', say: ({ t }) => t('code.noMore') });
      } else setSendNote({ tone: 'problem', say: (text) => problemText(text, problem) });
    } finally {
      setBusy(null);
    }
  };

  const verify = async (event: Event) => {
    event.preventDefault();
    const digits = code.trim();
    if (!/^[0-9]{6}$/.test(digits)) {
      setCodeNote({ tone: 'problem', say: ({ t }) => t('code.format') });
      codeInput.current?.focus();
      return;
    }
    if (!consent) {
      setCodeNote({ tone: 'problem', say: ({ t }) => t('consent.required') });
      return;
    }
    setBusy('verify');
    setCodeNote(null);
    try {
      onSession(await openSession(token, { code: digits, channel, consent }));
    } catch (error) {
      const problem = asProblem(error);
      if (isClosing(problem)) return onClosed(problem);
      if (problem.code === 'signing_code_invalid') {
        const remaining = problem.number('remainingAttempts');
        setCode('');
        codeInput.current?.focus();
        setCodeNote({
          tone: 'problem',
          say: ({ t }) => (remaining === 1 ? t('code.wrongLast') : t('code.wrong', { n: remaining ?? '?' })),
        });
        return;
      }
      let key: MessageKey | null = null;
      if (problem.code === 'signing_code_expired') key = 'code.expired';
      else if (problem.code === 'consent_required') key = 'consent.required';
      else if (problem.code === 'validation_failed') key = 'code.format';
      setCodeNote({ tone: 'problem', say: (text) => (key ? text.t(key) : problemText(text, problem)) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="card" aria-labelledby="code-title" data-testid="sign-code-step">
      <h2 id="code-title">{t('code.title')}</h2>
      {invitation.channels.length > 1 && (
        <fieldset className="choices">
          <legend>{t('code.channel')}</legend>
          {invitation.channels.map((option) => (
            <label key={option} className="choice">
              <input
                type="radio"
                name="channel"
                value={option}
                checked={channel === option}
                onChange={() => setChannel(option)}
                data-testid={`sign-channel-${option}`}
              />
              {t(`code.channel.${option}`)}
            </label>
          ))}
        </fieldset>
      )}
      <p className="muted" data-testid="sign-code-to">
        {t(channel === 'sms' ? 'code.to.sms' : 'code.to.email', { to: address ?? '—' })}
      </p>
      <button
        type="button"
        className="button button-wide"
        onClick={() => void send()}
        disabled={busy !== null || waiting > 0}
        data-testid="sign-send-code"
      >
        {waiting > 0 ? t('code.wait', { seconds: waiting }) : sentOnce ? t('code.resend') : t('code.send')}
      </button>
      {sendNote && (
        <p
          className={sendNote.tone === 'problem' ? 'problem' : 'note'}
          role={sendNote.tone === 'problem' ? 'alert' : 'status'}
          data-testid="sign-send-note"
        >
          {sendNote.say(text)}
        </p>
      )}

      <form className="code-form" onSubmit={(event) => void verify(event)} noValidate>
        <label className="field-label" for="sign-code">
          {t('code.label')}
        </label>
        <input
          id="sign-code"
          ref={codeInput}
          className="code-input"
          type="text"
          inputMode="numeric"
          autocomplete="one-time-code"
          pattern="[0-9]*"
          maxLength={6}
          placeholder={t('code.placeholder')}
          value={code}
          onInput={(event) => setCode(event.currentTarget.value.replace(/\D/g, '').slice(0, 6))}
          aria-invalid={codeNote?.tone === 'problem'}
          aria-describedby={codeNote ? 'sign-code-note' : undefined}
          data-testid="sign-code-input"
        />
        <label className="consent">
          <input
            type="checkbox"
            checked={consent}
            onChange={(event) => setConsent(event.currentTarget.checked)}
            data-testid="sign-consent"
          />
          <span>{t('consent.label')}</span>
        </label>
        {codeNote && (
          <p id="sign-code-note" className="problem" role="alert" data-testid="sign-code-note">
            {codeNote.say(text)}
          </p>
        )}
        <button
          type="submit"
          className="button button-primary button-wide"
          disabled={busy !== null}
          data-testid="sign-verify"
        >
          {busy === 'verify' ? t('code.checking') : t('code.submit')}
        </button>
      </form>
    </section>
  );
}
