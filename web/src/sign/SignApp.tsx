/** @jsxImportSource preact */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Locale } from '../api';
import { storedLocale, storeLocale } from '../i18n/locale';
import {
  asProblem,
  openInvitation,
  SignProblem,
  storedSession,
  storeSession,
  type Invitation,
  type Session,
} from './api';
import { CodeStep } from './CodeStep';
import { DocumentStep } from './DocumentStep';
import { isClosing, problemText } from './problems';
import { makeText, TextContext, useText } from './text';

type Stage =
  | { kind: 'opening' }
  | { kind: 'closed'; problem: SignProblem }
  | { kind: 'code'; ended: boolean }
  | { kind: 'document'; session: string }
  | { kind: 'signed' }
  | { kind: 'rejected' };

/** The link's token, from `/sign/<token>`; null when the address holds none that could be one. */
function linkToken(): string | null {
  const match = /^\/sign\/([^/]+)\/?$/.exec(window.location.pathname);
  try {
    const token = match ? decodeURIComponent(match[1]!) : '';
    return token.length >= 20 && token.length <= 100 ? token : null;
  } catch {
    return null;
  }
}

function LanguageSwitch({ locale, onChange }: { locale: Locale; onChange: (locale: Locale) => void }) {
  const { t } = useText();
  const choices: Array<[Locale, string]> = [
    ['zh-CN', '中文'],
    ['en', 'English'],
  ];
  return (
    <div className="languages" role="group" aria-label={t('lang.label')}>
      {choices.map(([value, label]) => (
        <button
          key={value}
          type="button"
          lang={value}
          aria-pressed={locale === value}
          data-testid={`sign-lang-${value}`}
          onClick={() => onChange(value)}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

/** Who asks whom to sign what: the sending company, the title and number, the signer's masked phone or e-mail. */
function ContractCard({ summary, showExpiry }: { summary: Invitation; showExpiry: boolean }) {
  const text = useText();
  const { t } = text;
  const { participant } = summary;
  const contact = [participant.phone, participant.email].filter(Boolean).join(' · ');
  return (
    <section className="card contract" data-testid="sign-contract">
      <p className="muted" data-testid="sign-company">
        {t('invite.from', { company: summary.companyName })}
      </p>
      <h1 data-testid="sign-title">{summary.title}</h1>
      <dl className="facts">
        {summary.number && (
          <div>
            <dt>{t('invite.number')}</dt>
            <dd data-testid="sign-number">{summary.number}</dd>
          </div>
        )}
        <div>
          <dt>{t('invite.signer')}</dt>
          <dd data-testid="sign-signer">
            {participant.name}
            {participant.orgName && <span className="muted"> · {participant.orgName}</span>}
            {contact && <span className="muted"> · {contact}</span>}
          </dd>
        </div>
      </dl>
      {showExpiry && <p className="muted small">{t('invite.expires', { date: text.date(summary.expiresAt) })}</p>}
    </section>
  );
}

function Outcome({ kind, title }: { kind: 'signed' | 'rejected'; title: string }) {
  const { t } = useText();
  const signed = kind === 'signed';
  return (
    <section
      className={`card outcome ${signed ? 'outcome-done' : 'outcome-rejected'}`}
      role="status"
      data-testid={signed ? 'sign-done' : 'sign-rejected'}
    >
      <span className="outcome-mark" aria-hidden="true">
        {signed ? '✓' : '✕'}
      </span>
      <h1>{t(signed ? 'done.title' : 'rejected.title')}</h1>
      <p>{t(signed ? 'done.text' : 'rejected.text', { title })}</p>
    </section>
  );
}

/**
 * 签署合同: the page an outside signer opens from the link sent to them (/sign/<token>), with no
 * account: who invites them to sign what; a one-time code to their phone or e-mail and their
 * consent; the contract to read with their fields marked; a drawn signature shown in place; then
 * signed, or refused with a reason.
 */
export function SignApp() {
  const [locale, setLocale] = useState<Locale>(() => storedLocale() ?? 'zh-CN');
  const text = useMemo(() => makeText(locale), [locale]);
  const token = useMemo(linkToken, []);
  const [stage, setStage] = useState<Stage>({ kind: 'opening' });
  const [summary, setSummary] = useState<Invitation | null>(null);

  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = `${text.t('page.title')} · Sigil`;
  }, [locale, text]);

  const open = async (ended: boolean) => {
    if (!token) return setStage({ kind: 'closed', problem: new SignProblem('signing_link_invalid', '') });
    setStage({ kind: 'opening' });
    try {
      setSummary(await openInvitation(token));
      setStage({ kind: 'code', ended });
    } catch (error) {
      setStage({ kind: 'closed', problem: asProblem(error) });
    }
  };

  useEffect(() => {
    const saved = token ? storedSession(token) : null;
    if (saved) setStage({ kind: 'document', session: saved });
    else void open(false);
  }, []);

  const choose = (next: Locale) => {
    setLocale(next);
    storeLocale(next);
  };

  const started = (session: Session) => {
    storeSession(token!, session);
    setStage({ kind: 'document', session: session.sessionToken });
  };

  const finish = (kind: 'signed' | 'rejected') => {
    storeSession(token!, null);
    setStage({ kind });
  };

  const sessionEnded = () => {
    storeSession(token!, null);
    if (summary) setStage({ kind: 'code', ended: true });
    else void open(true);
  };

  const { t } = text;
  return (
    <TextContext.Provider value={text}>
      <header className="topbar">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true" />
          {t('page.title')}
        </span>
        <LanguageSwitch locale={locale} onChange={choose} />
      </header>
      <main className="page" data-testid="sign-stage" data-stage={stage.kind}>
        {stage.kind === 'opening' && (
          <p className="checking" aria-busy="true">
            <span className="spinner" aria-hidden="true" />
            {t('loading')}
          </p>
        )}
        {stage.kind === 'closed' && (
          <section className="card">
            <p className="problem" role="alert" data-testid="sign-closed" data-code={stage.problem.code}>
              {problemText(text, stage.problem)}
            </p>
            {!isClosing(stage.problem) && (
              <button type="button" className="button" onClick={() => void open(false)}>
                {t('doc.retry')}
              </button>
            )}
          </section>
        )}
        {summary && (stage.kind === 'code' || stage.kind === 'document') && (
          <ContractCard summary={summary} showExpiry={stage.kind === 'code'} />
        )}
        {stage.kind === 'code' && summary && (
          <CodeStep
            token={token!}
            invitation={summary}
            ended={stage.ended}
            onSession={started}
            onClosed={(problem) => setStage({ kind: 'closed', problem })}
          />
        )}
        {stage.kind === 'document' && (
          <DocumentStep
            session={stage.session}
            onView={setSummary}
            onSessionEnded={sessionEnded}
            onClosed={(problem) => {
              storeSession(token!, null);
              setStage({ kind: 'closed', problem });
            }}
            onSigned={() => finish('signed')}
            onRejected={() => finish('rejected')}
          />
        )}
        {(stage.kind === 'signed' || stage.kind === 'rejected') && (
          <Outcome kind={stage.kind} title={summary?.title ?? ''} />
        )}
      </main>
    </TextContext.Provider>
  );
}
