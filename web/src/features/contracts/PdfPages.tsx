import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { DocumentPages, PageBox } from '../../api';
import { useI18n } from '../../i18n';
import { shownSize } from './geometry';
import type { OpenPdf } from './pdf-render';

/** A page's box: the first ones are listed one by one, the rest share the last page's (DocumentPages). */
export function boxOf(pages: DocumentPages, page: number): PageBox {
  return pages.pages[page - 1] ?? pages.last;
}

/**
 * Opens a PDF with PDF.js, fetched the first time a page needs it. Until it arrives (or if it
 * cannot), pages show as blank sheets of the right shape, so fields can still be placed.
 */
export function useOpenPdf(file: Blob | null | undefined): { pdf: OpenPdf | null; failed: boolean } {
  const [state, setState] = useState<{ pdf: OpenPdf | null; failed: boolean }>({ pdf: null, failed: false });
  useEffect(() => {
    setState({ pdf: null, failed: false });
    if (!file) return;
    let current = true;
    let opened: OpenPdf | null = null;
    void (async () => {
      try {
        const [{ openPdf }, buffer] = await Promise.all([import('./pdf-render'), file.arrayBuffer()]);
        const pdf = await openPdf(new Uint8Array(buffer));
        if (!current) return pdf.close();
        opened = pdf;
        setState({ pdf, failed: false });
      } catch {
        if (current) setState({ pdf: null, failed: true });
      }
    })();
    return () => {
      current = false;
      opened?.close();
    };
  }, [file]);
  return state;
}

/** One page: a sheet of the page's shape, drawn by PDF.js once it comes into view, with what lies on it. */
function PdfPage({
  pdf,
  number,
  box,
  children,
}: {
  pdf: OpenPdf | null;
  number: number;
  box: PageBox;
  children?: ReactNode;
}) {
  const { t } = useI18n();
  const sheet = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [near, setNear] = useState(false);
  const [drawn, setDrawn] = useState(false);
  const shown = shownSize(box);

  useEffect(() => {
    const element = sheet.current;
    if (!element || near) return;
    // A long contract draws only the pages one scrolls to (and those just beyond).
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setNear(true), {
      rootMargin: '600px 0px',
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [near]);

  useEffect(() => {
    if (!pdf || !near || !canvas.current || !sheet.current) return;
    const job = pdf.render(number, canvas.current, sheet.current.clientWidth);
    job.done.then(
      () => setDrawn(true),
      () => undefined,
    );
    return () => job.cancel();
  }, [pdf, near, number]);

  return (
    <div
      ref={sheet}
      className={`pdf-page${drawn ? ' drawn' : ''}`}
      style={{ aspectRatio: `${shown.width} / ${shown.height}` }}
      data-pdf-page={number}
      data-testid="pdf-page"
      data-drawn={drawn ? 'true' : 'false'}
      aria-label={t('contract.pageOf', { n: number })}
    >
      <canvas ref={canvas} className="pdf-canvas" aria-hidden="true" />
      {children}
      <span className="pdf-page-number" aria-hidden="true">
        {number}
      </span>
    </div>
  );
}

/** The pages of a PDF (all, or those listed in `only`), each with `overlay` laid over it. */
export function PdfPages({
  pdf,
  failed,
  pages,
  only,
  overlay,
  testId = 'pdf-pages',
}: {
  pdf: OpenPdf | null;
  failed: boolean;
  pages: DocumentPages;
  only?: number[];
  overlay?: (page: number, box: PageBox) => ReactNode;
  testId?: string;
}) {
  const { t } = useI18n();
  const numbers = only ?? Array.from({ length: pages.count }, (_, i) => i + 1);
  return (
    <div className="pdf-pages" data-testid={testId} data-ready={pdf ? 'true' : 'false'}>
      {failed && <p className="muted small">{t('contract.pagesUnavailable')}</p>}
      {numbers.map((n) => (
        <PdfPage key={n} pdf={pdf} number={n} box={boxOf(pages, n)}>
          {overlay?.(n, boxOf(pages, n))}
        </PdfPage>
      ))}
    </div>
  );
}
