// The PDF reader, behind a dynamic import: pdf.js is loaded only once a signing session is open,
// so the first screens (the invitation and the code) stay small. What the page needs of pdf.js is
// said here, in the page's terms; nothing else of the page imports pdf.js. The legacy build, as
// the console's contract pages use (web/src/features/contracts/pdf-render.ts): a signer opens the
// link on whatever phone they have, and older WebViews lack what the modern build assumes.
import {
  getDocument,
  GlobalWorkerOptions,
  version,
  type PDFDocumentProxy,
  type PDFPageProxy,
  type PageViewport,
} from 'pdfjs-dist/legacy/build/pdf.mjs';
// The worker, bundled by Vite and served from this origin as a module (script-src 'self' covers it).
import workerUrl from 'pdfjs-dist/legacy/build/pdf.worker.min.mjs?worker&url';

/** What the page reads of a pdf.js text item (its type is not among the package's exports). */
interface TextItem {
  str: string;
  transform: number[];
  width: number;
  height: number;
}

/** A rectangle in PDF user space: [x, y, width, height] in points from the bottom-left. */
export type PdfRect = [number, number, number, number];
/** A rectangle on the page as shown: [left, top, width, height] as fractions of its width and height. */
export type Box = [number, number, number, number];

export interface Rendering {
  done: Promise<void>;
  cancel(): void;
}

export interface PdfPage {
  /** The page as shown at 100 % (points; its /Rotate applied). */
  width: number;
  height: number;
  rotate: number;
  /** Where a rectangle of PDF user space falls on the page as shown. */
  place(rect: PdfRect): Box;
  /** Draws the page into `canvas`, `cssWidth` pixels wide on screen, sharp on dense screens. */
  render(canvas: HTMLCanvasElement, cssWidth: number): Rendering;
  /** Where `text` is written on the page (spaces ignored), or null. */
  findText(text: string): Promise<PdfRect | null>;
}

export interface PdfFile {
  pageCount: number;
  page(number: number): Promise<PdfPage>;
  close(): void;
}

/**
 * The data pdf.js fetches by name (CMaps for Chinese, Japanese and Korean fonts that are not
 * embedded, the standard fonts, the decoders of JBIG2, CCITT and JPEG 2000 images), copied beside
 * the build at these paths by web/vite.config.ts. WebAssembly is off: the Content-Security-Policy
 * does not allow compiling it, and the decoders' JavaScript editions do the same work.
 */
const DATA = `/pdfjs/${version}/`;

/** A phone's screen may be 3× dense; drawing more than twice the CSS size costs memory for no sharper text. */
const MAX_OUTPUT_SCALE = 2;

function isCancelled(error: unknown): boolean {
  return error instanceof Error && error.name === 'RenderingCancelledException';
}

function pageOf(proxy: PDFPageProxy): PdfPage {
  const viewport: PageViewport = proxy.getViewport({ scale: 1 });
  return {
    width: viewport.width,
    height: viewport.height,
    rotate: proxy.rotate,
    place([x, y, width, height]) {
      const [x1, y1] = viewport.convertToViewportPoint(x, y) as [number, number];
      const [x2, y2] = viewport.convertToViewportPoint(x + width, y + height) as [number, number];
      const left = Math.min(x1, x2);
      const top = Math.min(y1, y2);
      return [
        left / viewport.width,
        top / viewport.height,
        Math.abs(x2 - x1) / viewport.width,
        Math.abs(y2 - y1) / viewport.height,
      ];
    },
    render(canvas, cssWidth) {
      const scale = (cssWidth / viewport.width) * Math.min(window.devicePixelRatio || 1, MAX_OUTPUT_SCALE);
      const scaled = proxy.getViewport({ scale });
      canvas.width = Math.floor(scaled.width);
      canvas.height = Math.floor(scaled.height);
      const task = proxy.render({ canvas, viewport: scaled });
      return {
        done: task.promise.catch((error: unknown) => {
          if (!isCancelled(error)) throw error;
        }),
        cancel: () => task.cancel(),
      };
    },
    async findText(text) {
      const wanted = text.replace(/\s+/g, '');
      if (!wanted) return null;
      const items = (await proxy.getTextContent()).items.filter((item) => 'str' in item) as TextItem[];
      // The page's text without spaces, each character remembering its item and place in it:
      // a label may be split over several items, or spaced out by the producer.
      const chars: Array<{ item: number; at: number }> = [];
      let joined = '';
      items.forEach((item, index) => {
        [...item.str].forEach((ch, at) => {
          if (/\s/.test(ch)) return;
          chars.push({ item: index, at });
          joined += ch;
        });
      });
      const start = joined.indexOf(wanted);
      if (start < 0) return null;
      const first = chars[start]!;
      const last = chars[start + [...wanted].length - 1]!;
      let x0 = Infinity;
      let y0 = Infinity;
      let x1 = -Infinity;
      let y1 = -Infinity;
      for (let index = first.item; index <= last.item; index++) {
        const item = items[index]!;
        const length = Math.max(1, [...item.str].length);
        const from = index === first.item ? first.at / length : 0;
        const to = index === last.item ? (last.at + 1) / length : 1;
        const [, , , , e, f] = item.transform;
        const size = item.height || 10;
        x0 = Math.min(x0, e! + item.width * from);
        x1 = Math.max(x1, e! + item.width * to);
        // The baseline is at f; most of a line's ink is above it.
        y0 = Math.min(y0, f! - size * 0.2);
        y1 = Math.max(y1, f! + size * 0.9);
      }
      return Number.isFinite(x0) ? [x0, y0, x1 - x0, y1 - y0] : null;
    },
  };
}

export async function openPdf(data: Uint8Array): Promise<PdfFile> {
  GlobalWorkerOptions.workerSrc = workerUrl;
  const loading = getDocument({
    data,
    cMapUrl: `${DATA}cmaps/`,
    cMapPacked: true,
    standardFontDataUrl: `${DATA}standard_fonts/`,
    wasmUrl: `${DATA}wasm/`,
    useWorkerFetch: true,
    useWasm: false,
    // Pages are drawn on this thread, into canvases the page keeps (a renderer worker would take them over).
    disableWorkerRendering: true,
    enableXfa: false,
  });
  const doc: PDFDocumentProxy = await loading.promise;
  const pages = new Map<number, Promise<PdfPage>>();
  return {
    pageCount: doc.numPages,
    page(number) {
      let page = pages.get(number);
      if (!page) {
        page = doc.getPage(number).then(pageOf);
        pages.set(number, page);
      }
      return page;
    },
    close() {
      void loading.destroy();
    },
  };
}
