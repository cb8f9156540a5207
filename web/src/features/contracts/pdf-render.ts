/**
 * PDF.js, loaded only by the pages that show a contract's pages (PdfPages imports this module
 * lazily): it is larger than the whole first screen, and the list, the sign-in page and the
 * overview never need it. The legacy build runs on the older WebViews many phones in China
 * still have. Under the console's Content-Security-Policy: no WebAssembly (image decoders fall
 * back to JavaScript), no renderer worker, and the worker is a script of our own origin.
 */
import {
  getDocument,
  GlobalWorkerOptions,
  type PDFDocumentProxy,
  type RenderTask,
} from 'pdfjs-dist/legacy/build/pdf.mjs';
import workerUrl from 'pdfjs-dist/legacy/build/pdf.worker.min.mjs?worker&url';

GlobalWorkerOptions.workerSrc = workerUrl;

/** A keyword's box on a page, in PDF points of the unrotated page (like a field's rect). */
export interface FoundText {
  page: number;
  rect: [number, number, number, number];
}

export interface OpenPdf {
  count: number;
  /** Draws a page into the canvas, `cssWidth` CSS pixels wide at the screen's pixel density. */
  render(page: number, canvas: HTMLCanvasElement, cssWidth: number): { done: Promise<void>; cancel(): void };
  /** The first place a keyword appears (on `page` only, when given), as PDF.js reads the text. */
  find(keyword: string, page?: number): Promise<FoundText | null>;
  close(): void;
}

/** PDF.js refuses a canvas still in use by a cancelled render: the next one waits for it to let go. */
const inUse = new WeakMap<HTMLCanvasElement, Promise<void>>();

export async function openPdf(bytes: Uint8Array): Promise<OpenPdf> {
  // PDF.js hands the buffer to its worker (detaching it): it gets a copy.
  const task = getDocument({ data: bytes.slice(), useWasm: false, disableWorkerRendering: true, enableXfa: false });
  const doc: PDFDocumentProxy = await task.promise;
  return {
    count: doc.numPages,
    render(pageNumber, canvas, cssWidth) {
      let task: RenderTask | null = null;
      let cancelled = false;
      const previous = inUse.get(canvas) ?? Promise.resolve();
      const done = (async () => {
        await previous;
        if (cancelled) return;
        const page = await doc.getPage(pageNumber);
        if (cancelled) return;
        const base = page.getViewport({ scale: 1 });
        const density = Math.min(window.devicePixelRatio || 1, 2);
        const viewport = page.getViewport({ scale: (cssWidth * density) / base.width });
        canvas.width = Math.max(1, Math.floor(viewport.width));
        canvas.height = Math.max(1, Math.floor(viewport.height));
        task = page.render({ canvas, viewport });
        await task.promise;
      })();
      inUse.set(
        canvas,
        done.catch(() => undefined),
      );
      return {
        done,
        cancel() {
          cancelled = true;
          task?.cancel();
        },
      };
    },
    async find(keyword, only) {
      const wanted = keyword.replace(/\s+/g, '');
      if (!wanted) return null;
      const from = only ?? 1;
      const to = only ?? doc.numPages;
      for (let n = from; n <= to; n++) {
        const page = await doc.getPage(n);
        const content = await page.getTextContent();
        // The page's text without spaces, each character remembering the text item it came from.
        const chars: Array<{ item: number; index: number }> = [];
        let text = '';
        const items = content.items.filter((i) => 'str' in i);
        items.forEach((item, itemIndex) => {
          [...item.str].forEach((ch, index) => {
            if (/\s/.test(ch)) return;
            text += ch;
            chars.push({ item: itemIndex, index });
          });
        });
        const at = text.indexOf(wanted);
        if (at < 0) continue;
        const first = chars[at]!;
        const last = chars[at + [...wanted].length - 1]!;
        const box = (ref: { item: number; index: number }, end: boolean) => {
          const item = items[ref.item]!;
          const length = Math.max([...item.str].length, 1);
          const [, , c = 0, d = 0, e = 0, f = 0] = item.transform as number[];
          // Horizontal text: the item's matrix scales the font size on its y axis.
          const size = Math.hypot(c, d) || item.height || 10;
          return { x: e + (item.width * (ref.index + (end ? 1 : 0))) / length, y: f, size };
        };
        const start = box(first, false);
        const end = box(last, true);
        return {
          page: n,
          rect: [start.x, start.y - start.size * 0.2, Math.max(end.x - start.x, 1), start.size * 1.2],
        };
      }
      return null;
    },
    close() {
      void task.destroy();
    },
  };
}
