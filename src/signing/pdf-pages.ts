// What a caller needs to place a seal by page and corner: each page's box and rotation.
import { SigningError } from './errors.js';
import { PdfDocument, type PdfLimits } from './pdf/parser.js';

export interface PageBox {
  /** [x, y, width, height] in points, the page's crop box (else its media box). */
  box: [number, number, number, number];
  /** /Rotate, normalised to 0, 90, 180 or 270. */
  rotate: number;
}

/** The page count, the first `listed` pages' boxes and the last page's. */
export function describePages(
  pdf: Buffer,
  listed: number,
  limits?: Partial<PdfLimits>,
): { count: number; pages: PageBox[]; last: PageBox } {
  const doc = PdfDocument.load(pdf, limits);
  const all = doc.pages();
  const describe = (page: (typeof all)[number]): PageBox => {
    const [x0, y0, x1, y1] = doc.pageBox(page.dict);
    const rotate = doc.inherited(page.dict, 'Rotate');
    return {
      box: [x0, y0, x1 - x0, y1 - y0],
      rotate: typeof rotate === 'number' ? ((rotate % 360) + 360) % 360 : 0,
    };
  };
  const last = all.at(-1);
  if (!last) throw new SigningError('pdf_malformed', 'The PDF cannot be read: it has no pages.');
  return { count: all.length, pages: all.slice(0, listed).map(describe), last: describe(last) };
}
