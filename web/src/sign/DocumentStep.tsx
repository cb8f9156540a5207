/** @jsxImportSource preact */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  asProblem,
  getDocument,
  getSignerView,
  rejectDocument,
  signDocument,
  type SignerField,
  type SignerView,
  type SignProblem,
} from './api';
import type { PdfFile, PdfPage, PdfRect } from './pdf';
import { isClosing, problemText } from './problems';
import { SignaturePad, type DrawnSignature } from './SignaturePad';
import { IdentityStep } from './IdentityStep';
import { useText, type Text } from './text';

/**
 * How wide the server draws a signature anchored on a keyword, centred on it (SEAL_WIDTH in
 * src/signing/pades.ts: 42 mm); its height follows the image's proportions.
 */
const KEYWORD_SIGNATURE_WIDTH = (42 / 25.4) * 72;
/** A4 in points: the shape of a page whose size is not known yet. */
const A4: [number, number] = [595.28, 841.89];

/** Where a field is on its page, in PDF user space: its rectangle, or the keyword it is anchored on. */
interface Mark {
  field: SignerField;
  page: number;
  box: PdfRect;
  anchoredOn: 'rect' | 'keyword';
}

type Load =
  | { status: 'loading' }
  | { status: 'failed'; problem: SignProblem }
  | { status: 'ready'; view: SignerView; pdf: PdfFile; marks: Mark[] };

const pct = (fraction: number) => `${(fraction * 100).toFixed(3)}%`;

/** The fields placed by a rectangle: where they are is known at once. */
const rectMarks = (fields: SignerField[]): Mark[] =>
  fields.flatMap((field) =>
    field.rect ? [{ field, page: field.page ?? 1, box: field.rect, anchoredOn: 'rect' as const }] : [],
  );

/**
 * The fields anchored on a keyword, found in the pages' text as the server finds them when it
 * signs (on their page, or the first page that has it). Read after the pages are on screen: a
 * long contract's text takes a while. A keyword not found here is only listed, not marked.
 */
async function keywordMarks(pdf: PdfFile, fields: SignerField[]): Promise<Mark[]> {
  const marks: Mark[] = [];
  for (const field of fields) {
    if (field.rect || !field.keyword) continue;
    const keyword = field.keyword;
    const pages = field.page ? [field.page] : Array.from({ length: pdf.pageCount }, (_, i) => i + 1);
    for (const number of pages) {
      const box = await pdf
        .page(number)
        .then((page) => page.findText(keyword))
        .catch(() => null);
      if (box) {
        marks.push({ field, page: number, box, anchoredOn: 'keyword' });
        break;
      }
    }
  }
  return marks;
}

/** The signature as the server will place it over a keyword: centred on it, 42 mm wide, upright as shown. */
function keywordPlacement(box: PdfRect, signature: DrawnSignature, rotate: number): PdfRect {
  const width = KEYWORD_SIGNATURE_WIDTH;
  const height = (width * signature.height) / signature.width;
  const [w, h] = rotate % 180 ? [height, width] : [width, height];
  return [box[0] + box[2] / 2 - w / 2, box[1] + box[3] / 2 - h / 2, w, h];
}

const fieldName = ({ t }: Text, field: SignerField) =>
  field.label ??
  (field.type === 'date' || field.type === 'text' || field.type === 'checkbox' ? t(`field.${field.type}`) : field.type);

/** One page: drawn when near the screen (and let go when far, so a long contract fits a phone's memory), with the fields over it. */
function PageView({
  pdf,
  number,
  shape,
  marks,
  signature,
}: {
  pdf: PdfFile;
  number: number;
  shape: [number, number];
  marks: Mark[];
  signature: DrawnSignature | null;
}) {
  const text = useText();
  const { t } = text;
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [page, setPage] = useState<PdfPage | null>(null);
  const [near, setNear] = useState(false);
  const [width, setWidth] = useState(0);
  const [drawn, setDrawn] = useState<'no' | 'yes' | 'failed'>('no');

  useEffect(() => {
    let live = true;
    pdf.page(number).then(
      (loaded) => live && setPage(loaded),
      () => live && setDrawn('failed'),
    );
    return () => {
      live = false;
    };
  }, [pdf, number]);

  useEffect(() => {
    const element = wrap.current;
    if (!element) return;
    const seen = new IntersectionObserver(([entry]) => setNear(entry?.isIntersecting ?? false), {
      rootMargin: '1000px 0px',
    });
    const sized = new ResizeObserver(([entry]) => setWidth(Math.round(entry?.contentRect.width ?? 0)));
    seen.observe(element);
    sized.observe(element);
    return () => {
      seen.disconnect();
      sized.disconnect();
    };
  }, []);

  useEffect(() => {
    const element = canvas.current;
    if (!page || !element || width === 0) return;
    if (!near) {
      element.width = 0;
      element.height = 0;
      setDrawn('no');
      return;
    }
    let live = true;
    const rendering = page.render(element, width);
    rendering.done.then(
      () => live && setDrawn('yes'),
      () => live && setDrawn('failed'),
    );
    return () => {
      live = false;
      rendering.cancel();
    };
  }, [page, near, width]);

  const [w, h] = page ? [page.width, page.height] : shape;
  return (
    <figure className="sheet" data-testid="sign-page" data-page={number} data-rendered={drawn === 'yes'}>
      <div
        ref={wrap}
        className="sheet-paper"
        style={{ aspectRatio: `${w} / ${h}` }}
        role="img"
        aria-label={t('doc.page', { n: number, count: pdf.pageCount })}
      >
        <canvas ref={canvas} className="sheet-canvas" data-testid="sign-page-canvas" />
        {drawn === 'failed' && <span className="sheet-failed">{t('doc.pageFailed', { n: number })}</span>}
        {page &&
          marks.map((mark) => {
            const isSignature = mark.field.type === 'signature';
            const preview = isSignature && signature !== null;
            const box =
              preview && mark.anchoredOn === 'keyword' ? keywordPlacement(mark.box, signature, page.rotate) : mark.box;
            const [left, top, width, height] = page.place(box);
            return (
              <div
                key={mark.field.id}
                id={`field-${mark.field.id}`}
                className={`mark ${isSignature ? 'mark-signature' : 'mark-value'}${preview ? ' mark-preview' : ''}`}
                style={{ left: pct(left), top: pct(top), width: pct(width), height: pct(height) }}
                data-testid="sign-field"
                data-field={mark.field.id}
                data-type={mark.field.type}
                data-preview={preview}
              >
                {preview ? <img src={signature.dataUrl} alt={t('pad.previewAlt')} data-testid="sign-preview" /> : null}
                <span className="mark-label">
                  {preview ? t('fields.preview') : isSignature ? t('fields.here') : fieldName(text, mark.field)}
                </span>
              </div>
            );
          })}
      </div>
      <figcaption className="sheet-number">{t('doc.page', { n: number, count: pdf.pageCount })}</figcaption>
    </figure>
  );
}

const scrollTo = (id: string) => document.getElementById(id)?.scrollIntoView({ behavior: 'smooth', block: 'center' });

/** The fields the signer fills besides the signature: dates (today by default), text, ticks. */
function ValueFields({
  fields,
  values,
  onChange,
}: {
  fields: SignerField[];
  values: Record<string, string>;
  onChange: (id: string, value: string) => void;
}) {
  const text = useText();
  const { t } = text;
  if (fields.length === 0) return null;
  return (
    <div className="values" data-testid="sign-values">
      <h3>{t('fields.values')}</h3>
      {fields.map((field) => {
        const id = `value-${field.id}`;
        const label = (
          <>
            {fieldName(text, field)}
            {field.required && <span className="muted"> {t('field.required')}</span>}
          </>
        );
        if (field.type === 'checkbox')
          return (
            <label key={field.id} className="consent" data-testid="sign-value">
              <input
                type="checkbox"
                checked={values[field.id] === 'true'}
                onChange={(event) => onChange(field.id, event.currentTarget.checked ? 'true' : '')}
              />
              <span>{label}</span>
            </label>
          );
        return (
          <div key={field.id} className="value">
            <label className="field-label" for={id}>
              {label}
            </label>
            {field.type === 'date' ? (
              <input
                id={id}
                className="text-input"
                type="date"
                value={values[field.id] ?? ''}
                onInput={(event) => onChange(field.id, event.currentTarget.value)}
                data-testid="sign-value"
              />
            ) : (
              <input
                id={id}
                className="text-input"
                type="text"
                maxLength={500}
                value={values[field.id] ?? ''}
                onInput={(event) => onChange(field.id, event.currentTarget.value)}
                data-testid="sign-value"
              />
            )}
          </div>
        );
      })}
    </div>
  );
}

function today(): string {
  const now = new Date();
  const two = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`;
}

/**
 * Steps 3 and 4: the contract read page by page (pdf.js, loaded now), the signer's fields marked
 * on it, the signature drawn and shown where it will go before anything is signed; then sign, or
 * refuse with a reason.
 */
export function DocumentStep({
  session,
  onView,
  onSessionEnded,
  onClosed,
  onSigned,
  onRejected,
}: {
  session: string;
  onView: (view: SignerView) => void;
  onSessionEnded: () => void;
  onClosed: (problem: SignProblem) => void;
  onSigned: () => void;
  onRejected: () => void;
}) {
  const text = useText();
  const { t } = text;
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [changed, setChanged] = useState(false);
  const [signature, setSignature] = useState<DrawnSignature | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<'sign' | 'reject' | null>(null);
  const [problem, setProblem] = useState<{ say: (text: Text) => string } | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [reasonMissing, setReasonMissing] = useState(false);
  const reasonInput = useRef<HTMLTextAreaElement>(null);

  /** What every call does with a problem that ends the session or the visit; true when handled. */
  const ends = (found: SignProblem): boolean => {
    if (found.code === 'signing_session_invalid') onSessionEnded();
    else if (isClosing(found)) onClosed(found);
    else return false;
    return true;
  };

  useEffect(() => {
    let live = true;
    let opened: PdfFile | null = null;
    setLoad({ status: 'loading' });
    void (async () => {
      try {
        // pdf.js comes now, beside the document, not with the first screen.
        const [view, bytes, reader] = await Promise.all([
          getSignerView(session),
          getDocument(session),
          import('./pdf'),
        ]);
        if (!live) return;
        onView(view);
        const pdf = await reader.openPdf(bytes);
        opened = pdf;
        if (!live) return;
        setValues((current) => {
          const next = { ...current };
          for (const field of view.fields)
            if (field.type === 'date' && next[field.id] === undefined) next[field.id] = field.value ?? today();
          return next;
        });
        setLoad({ status: 'ready', view, pdf, marks: rectMarks(view.fields) });
        const found = await keywordMarks(pdf, view.fields);
        if (live && found.length > 0)
          setLoad((current) =>
            current.status === 'ready' && current.pdf === pdf
              ? { ...current, marks: [...current.marks, ...found] }
              : current,
          );
      } catch (error) {
        const found = asProblem(error);
        if (live && !ends(found)) setLoad({ status: 'failed', problem: found });
      }
    })();
    return () => {
      live = false;
      opened?.close();
    };
  }, [session, attempt]);

  const ready = load.status === 'ready' ? load : null;
  const signatureFields = useMemo(() => ready?.view.fields.filter((f) => f.type === 'signature') ?? [], [ready]);
  const valueFields = useMemo(() => ready?.view.fields.filter((f) => f.type !== 'signature') ?? [], [ready]);
  const marksOn = (page: number) => ready?.marks.filter((m) => m.page === page) ?? [];

  const adopt = (drawn: DrawnSignature) => {
    setSignature(drawn);
    setProblem(null);
    const first = ready?.marks.find((m) => m.field.type === 'signature');
    // Show the signature where it will go; the page draws the preview on the next frame.
    if (first) requestAnimationFrame(() => scrollTo(`field-${first.field.id}`));
  };

  const submit = async () => {
    if (!ready) return;
    if (!signature) {
      setProblem({ say: ({ t }) => t('sign.needSignature') });
      scrollTo('signature-pad');
      return;
    }
    const filled: Array<{ id: string; value: string }> = [];
    for (const field of valueFields) {
      const value = (values[field.id] ?? '').trim();
      if (value) filled.push({ id: field.id, value });
      else if (field.required) {
        setProblem({ say: (text) => text.t('field.missing', { label: fieldName(text, field) }) });
        document.getElementById(`value-${field.id}`)?.focus();
        return;
      }
    }
    setBusy('sign');
    setProblem(null);
    try {
      await signDocument(session, { signatureImage: signature.base64, fields: filled });
      onSigned();
    } catch (error) {
      const found = asProblem(error);
      if (ends(found)) return;
      if (found.code === 'contract_changed') {
        // Someone signed in between: read the new version before signing it.
        setChanged(true);
        setAttempt((n) => n + 1);
      } else setProblem({ say: (text) => problemText(text, found) });
    } finally {
      setBusy(null);
    }
  };

  const reject = async (event: Event) => {
    event.preventDefault();
    const given = reason.trim();
    if (!given) {
      setReasonMissing(true);
      reasonInput.current?.focus();
      return;
    }
    setBusy('reject');
    setProblem(null);
    try {
      await rejectDocument(session, given);
      onRejected();
    } catch (error) {
      const found = asProblem(error);
      if (!ends(found)) setProblem({ say: (text) => problemText(text, found) });
    } finally {
      setBusy(null);
    }
  };

  if (load.status === 'loading')
    return (
      <section className="card" aria-busy="true" data-testid="sign-doc-loading">
        <p className="checking">
          <span className="spinner" aria-hidden="true" />
          {t('doc.loading')}
        </p>
      </section>
    );
  if (load.status === 'failed')
    return (
      <section className="card">
        <p className="problem" role="alert" data-testid="sign-doc-problem">
          {t('doc.failed', { detail: problemText(text, load.problem) })}
        </p>
        <button type="button" className="button" onClick={() => setAttempt((n) => n + 1)}>
          {t('doc.retry')}
        </button>
      </section>
    );

  const { view, pdf } = load;
  const name = view.participant.name;
  return (
    <>
      {changed && (
        <p className="note" role="status" data-testid="sign-doc-changed">
          {t('doc.changed')}
        </p>
      )}
      <section className="card" aria-labelledby="fields-title" data-testid="sign-fields">
        <h2 id="fields-title">{t('fields.title')}</h2>
        <ul className="places">
          {signatureFields.map((field) => {
            const mark = load.marks.find((m) => m.field.id === field.id);
            const where = field.keyword
              ? mark
                ? t('fields.keywordPage', { keyword: field.keyword, page: mark.page })
                : t('fields.keyword', { keyword: field.keyword })
              : t('fields.onPage', { page: field.page ?? 1 });
            return (
              <li key={field.id} data-testid="sign-place">
                <span>{where}</span>
                {mark && (
                  <button type="button" className="link-button" onClick={() => scrollTo(`field-${field.id}`)}>
                    {t('fields.goTo')}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
        <ValueFields
          fields={valueFields}
          values={values}
          onChange={(id, value) => setValues((current) => ({ ...current, [id]: value }))}
        />
      </section>

      <section className="pages" aria-label={t('doc.pages', { count: pdf.pageCount })} data-testid="sign-pages">
        {Array.from({ length: pdf.pageCount }, (_, i) => {
          const listed = view.pages[i];
          const shape: [number, number] = listed
            ? listed.rotate % 180
              ? [listed.height, listed.width]
              : [listed.width, listed.height]
            : A4;
          return (
            <PageView key={i + 1} pdf={pdf} number={i + 1} shape={shape} marks={marksOn(i + 1)} signature={signature} />
          );
        })}
      </section>

      {(view as SignerView & { identityCheck?: string | null }).identityCheck && (
        <IdentityStep session={session} onProblem={(found) => void ends(found)} />
      )}
      <SignaturePad name={name} onChange={() => setSignature(null)} onUse={adopt} />
      {signature && (
        <p className="note" role="status" data-testid="sign-adopted">
          {t('pad.adopted')}
        </p>
      )}

      {rejecting && (
        <form
          className="card reject"
          onSubmit={(event) => void reject(event)}
          noValidate
          data-testid="sign-reject-form"
        >
          <h2>{t('reject.title')}</h2>
          <p className="muted">{t('reject.hint')}</p>
          <label className="field-label" for="sign-reason">
            {t('reject.reason')}
          </label>
          <textarea
            id="sign-reason"
            ref={reasonInput}
            className="text-input"
            rows={3}
            maxLength={500}
            value={reason}
            onInput={(event) => {
              setReason(event.currentTarget.value);
              setReasonMissing(false);
            }}
            aria-invalid={reasonMissing}
            data-testid="sign-reject-reason"
          />
          {reasonMissing && (
            <p className="problem" role="alert">
              {t('reject.empty')}
            </p>
          )}
          <div className="pad-actions">
            <button type="button" className="button" onClick={() => setRejecting(false)}>
              {t('reject.cancel')}
            </button>
            <button
              type="submit"
              className="button button-danger"
              disabled={busy !== null}
              data-testid="sign-reject-confirm"
            >
              {busy === 'reject' ? t('reject.sending') : t('reject.confirm')}
            </button>
          </div>
        </form>
      )}

      {problem && (
        <p className="problem" role="alert" data-testid="sign-problem">
          {problem.say(text)}
        </p>
      )}

      <div className="action-bar">
        <button
          type="button"
          className="button"
          disabled={busy !== null}
          onClick={() => {
            setRejecting(true);
            requestAnimationFrame(() => reasonInput.current?.focus());
          }}
          data-testid="sign-reject"
        >
          {t('reject.open')}
        </button>
        {signature ? (
          <button
            type="button"
            className="button button-primary"
            disabled={busy !== null}
            onClick={() => void submit()}
            data-testid="sign-submit"
          >
            {busy === 'sign' ? t('sign.submitting') : t('sign.submit')}
          </button>
        ) : (
          <button
            type="button"
            className="button button-primary"
            onClick={() => scrollTo('signature-pad')}
            data-testid="sign-go-to-pad"
          >
            {t('sign.goToPad')}
          </button>
        )}
      </div>
    </>
  );
}
