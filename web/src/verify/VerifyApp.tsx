/** @jsxImportSource preact */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Locale } from '../api';
import { browserLocale, storedLocale, storeLocale } from '../i18n/locale';
import {
  isOfdReport,
  lookUpDocument,
  MAX_BYTES,
  verifyFile,
  VerifyProblem,
  type AnyVerification,
  type PublicLookup,
} from './api';
import { OfdReport } from './OfdReport';
import { Report } from './Report';
import { makeText, TextContext, useText, type Text } from './text';

/** Where relying parties fetch the root certificate (the public PKI route); the answers name it too. */
const ROOT_CERTIFICATE = '/pki/root/certificate';
const SHA256 = /^[0-9a-f]{64}$/;

type Upload =
  | { status: 'idle' }
  | { status: 'checking'; name: string }
  | { status: 'done'; name: string; report: AnyVerification }
  | { status: 'failed'; name: string; problem: VerifyProblem };

type Lookup =
  | { status: 'idle' }
  | { status: 'checking' }
  | { status: 'found'; result: PublicLookup }
  | { status: 'not-found' }
  | { status: 'failed'; problem: VerifyProblem };

const asProblem = (error: unknown) =>
  error instanceof VerifyProblem ? error : new VerifyProblem('unknown_error', String(error));

/** A problem in the reader's language: the codes a visitor meets are worded here, others quote the server. */
function problemText(text: Text, problem: VerifyProblem): string {
  const { t } = text;
  switch (problem.code) {
    case 'rate_limited':
      return t('problem.rate_limited', { seconds: problem.retryAfterSeconds ?? 60 });
    case 'payload_too_large':
    case 'pdf_too_large':
      return t('problem.too_large');
    case 'pdf_malformed':
      return t('problem.not_pdf');
    case 'ofd_malformed':
      return t('problem.not_ofd');
    case 'pdf_encrypted':
      return t('problem.encrypted');
    case 'network_error':
      return t('problem.network');
    default:
      return t('problem.other', { detail: problem.detail });
  }
}

function ProblemLine({ problem }: { problem: VerifyProblem }) {
  const text = useText();
  return (
    <p className="problem" role="alert" data-testid="verify-problem" data-code={problem.code}>
      {problemText(text, problem)}
    </p>
  );
}

function LanguageSwitch({ locale, onChange }: { locale: Locale; onChange: (locale: Locale) => void }) {
  const { t } = useText();
  const choices: Array<[Locale, string, string]> = [
    ['zh-CN', '中文', 'zh-CN'],
    ['en', 'English', 'en'],
  ];
  return (
    <div className="languages" role="group" aria-label={t('lang.label')}>
      {choices.map(([value, label, lang]) => (
        <button
          key={value}
          type="button"
          lang={lang}
          aria-pressed={locale === value}
          data-testid={`verify-lang-${value}`}
          onClick={() => onChange(value)}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

function UploadCard({ upload, onFile }: { upload: Upload; onFile: (file: File) => void }) {
  const { t } = useText();
  const [dragging, setDragging] = useState(false);
  const checking = upload.status === 'checking';
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer?.files[0];
    if (file && !checking) onFile(file);
  };
  return (
    <section className="card upload">
      <label
        className={`dropzone${dragging ? ' dropzone-active' : ''}${checking ? ' dropzone-busy' : ''}`}
        data-testid="verify-drop"
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={drop}
      >
        <span className="button button-primary">
          {checking ? t('upload.checking') : upload.status === 'idle' ? t('upload.choose') : t('upload.other')}
        </span>
        <span className="muted">{t('upload.drop')}</span>
        <span className="muted small">{t('upload.hint')}</span>
        <input
          type="file"
          accept="application/pdf,.pdf,application/ofd,.ofd"
          className="visually-hidden"
          disabled={checking}
          data-testid="verify-file-input"
          onChange={(event) => {
            const input = event.currentTarget;
            const file = input.files?.[0];
            input.value = '';
            if (file) onFile(file);
          }}
        />
      </label>
      {checking && (
        <p className="checking" aria-busy="true">
          <span className="spinner" aria-hidden="true" />
          {t('upload.checking')} {upload.name}
        </p>
      )}
      {upload.status === 'failed' && <ProblemLine problem={upload.problem} />}
    </section>
  );
}

function LookupCard({ initial }: { initial: string }) {
  const text = useText();
  const { t } = text;
  const [value, setValue] = useState(initial);
  const [invalid, setInvalid] = useState(false);
  const [lookup, setLookup] = useState<Lookup>({ status: 'idle' });

  const run = async (sha256: string) => {
    setLookup({ status: 'checking' });
    try {
      const result = await lookUpDocument(sha256);
      setLookup(result ? { status: 'found', result } : { status: 'not-found' });
    } catch (error) {
      setLookup({ status: 'failed', problem: asProblem(error) });
    }
  };

  // A link may carry the hash (`/verify?sha256=…`): it is looked up as the page opens.
  useEffect(() => {
    if (SHA256.test(initial)) void run(initial);
  }, [initial]);

  const submit = (event: Event) => {
    event.preventDefault();
    const sha256 = value.trim().toLowerCase();
    const ok = SHA256.test(sha256);
    setInvalid(!ok);
    if (ok) void run(sha256);
  };

  return (
    <section className="card lookup">
      <h2>{t('lookup.title')}</h2>
      <p className="muted">{t('lookup.hint')}</p>
      <form className="lookup-form" onSubmit={submit} noValidate>
        <label className="visually-hidden" for="verify-sha256">
          {t('lookup.label')}
        </label>
        <input
          id="verify-sha256"
          className="mono"
          value={value}
          onInput={(event) => setValue(event.currentTarget.value)}
          placeholder="SHA-256"
          autocomplete="off"
          spellcheck={false}
          aria-invalid={invalid}
          data-testid="verify-hash-input"
        />
        <button
          type="submit"
          className="button"
          disabled={lookup.status === 'checking'}
          data-testid="verify-hash-submit"
        >
          {t('lookup.submit')}
        </button>
      </form>
      {invalid && (
        <p className="problem" role="alert" data-testid="verify-hash-invalid">
          {t('lookup.invalid')}
        </p>
      )}
      {lookup.status === 'found' && (
        <div className="lookup-result lookup-found" data-testid="verify-lookup" data-found="true">
          <p>{t('lookup.found', { date: text.date(lookup.result.signedAt) })}</p>
          <p className="muted">{t('lookup.count', { n: lookup.result.signatures.length })}</p>
          <ol>
            {lookup.result.signatures.map((s, i) => (
              <li key={i}>
                {s.subject} <span className="muted">· {text.date(s.signedAt)}</span>
              </li>
            ))}
          </ol>
        </div>
      )}
      {lookup.status === 'not-found' && (
        <p className="lookup-result" data-testid="verify-lookup" data-found="false">
          {t('lookup.notFound')}
        </p>
      )}
      {lookup.status === 'failed' && <ProblemLine problem={lookup.problem} />}
    </section>
  );
}

function RootCard({ fingerprint }: { fingerprint: string | null }) {
  const { t } = useText();
  return (
    <section className="card root">
      <h2>{t('root.title')}</h2>
      <p className="muted">{t('root.text')}</p>
      <a className="button" href={ROOT_CERTIFICATE} download="sigil-root.cer" data-testid="verify-root-link">
        {t('root.download')}
      </a>
      {fingerprint && (
        <p className="small">
          {t('root.fingerprint')}: <span className="mono">{fingerprint}</span>
        </p>
      )}
    </section>
  );
}

/**
 * 文件验证: anyone, with no account, uploads a PDF (picker or drag and drop) and reads the
 * verifier's report, looks a document up by its SHA-256, and fetches the platform's root
 * certificate to trust its seals in a PDF reader.
 */
export function VerifyApp() {
  const [locale, setLocale] = useState<Locale>(() => storedLocale() ?? browserLocale());
  const text = useMemo(() => makeText(locale), [locale]);
  const [upload, setUpload] = useState<Upload>({ status: 'idle' });
  const initialHash = useMemo(() => new URLSearchParams(window.location.search).get('sha256') ?? '', []);

  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = `${text.t('page.title')} · Sigil`;
  }, [locale, text]);

  const choose = (next: Locale) => {
    setLocale(next);
    storeLocale(next);
  };

  const check = async (file: File) => {
    if (file.size > MAX_BYTES) {
      setUpload({ status: 'failed', name: file.name, problem: new VerifyProblem('payload_too_large', '') });
      return;
    }
    setUpload({ status: 'checking', name: file.name });
    try {
      setUpload({ status: 'done', name: file.name, report: await verifyFile(file) });
    } catch (error) {
      setUpload({ status: 'failed', name: file.name, problem: asProblem(error) });
    }
  };

  const { t } = text;
  return (
    <TextContext.Provider value={text}>
      <header className="topbar">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Sigil
        </span>
        <LanguageSwitch locale={locale} onChange={choose} />
      </header>
      <main className="page">
        <h1 data-testid="verify-title">{t('page.title')}</h1>
        <p className="muted lead">{t('page.subtitle')}</p>
        <UploadCard upload={upload} onFile={(file) => void check(file)} />
        {upload.status === 'done' &&
          (isOfdReport(upload.report) ? (
            <OfdReport report={upload.report} fileName={upload.name} />
          ) : (
            <Report report={upload.report} fileName={upload.name} />
          ))}
        <LookupCard initial={initialHash} />
        <RootCard
          fingerprint={
            upload.status === 'done' && !isOfdReport(upload.report) ? upload.report.rootCertificate.sha256 : null
          }
        />
      </main>
    </TextContext.Provider>
  );
}
