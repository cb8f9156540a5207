// A checked template and its values as an A4 PDF. PDFKit writes the file and embeds the Noto Sans
// SC font shipped with `@embedpdf/fonts-sc` as a subset with a ToUnicode map, so the text can be
// searched, copied, and found by the keyword search that places seals. The layout is ours: lines
// are broken once (line-break.ts), then the pages are made twice by the same rules: a first pass
// only counts them (for 第 N 页 共 M 页, and to refuse a document over the page limit before drawing
// anything), the second draws, handing each page to the output as soon as it is full rather than
// keeping them all. Every position comes from the input alone, so the same template, values and
// `now` give the same bytes.
import PDFDocument from 'pdfkit';
import { loadDocumentFonts } from '../seal-image/font.js';
import { checkTemplate, checkValues, declaredVariables, type Declared } from './check.js';
import { breakPieces, wrapText, type WrappedLine } from './line-break.js';
import { parseBody, type Inline } from './markup.js';
import { TEMPLATE_LIMITS, TemplateError, type TemplateSource, type TemplateValues } from './template.types.js';
import { readScalar } from './values.js';

export interface RenderOptions {
  /** The document's creation time (PDF Info), so that a rendering can be repeated byte for byte. Default: now. */
  now?: Date;
}

export interface RenderedTemplate {
  pdf: Buffer;
  pages: number;
}

export type FontName = 'regular' | 'bold';
type Measure = (text: string) => number;

/**
 * Where the laid-out pages go: PDFKit for the PDF here, a recorder for the OFD writer (src/ofd),
 * so that both formats get the very same lines at the very same places. Points, from the page's
 * top left; a text run's `top` is the top of its line, as PDFKit takes it.
 */
export interface TemplateSurface {
  addPage(): void;
  text(run: { text: string; x: number; top: number; font: FontName; size: number; spacing: number }): void;
  rect(
    box: { x: number; y: number; width: number; height: number },
    paint: { fill: string } | { stroke: string; lineWidth: number },
  ): void;
}

/** The page the templates are laid out on (A4 in points), the body size and the fonts' files, for other outputs. */
export const TEMPLATE_PAGE = { width: 595.28, height: 841.89 } as const;

/** A4 in points. The text column is 36 characters of 12 pt, the body size of a Chinese contract (小四). */
const PAGE = TEMPLATE_PAGE;
const TEXT_WIDTH = 432;
const MARGIN = { top: 72, bottom: 72, left: (PAGE.width - TEXT_WIDTH) / 2 };
const BOTTOM = PAGE.height - MARGIN.bottom;
const BODY_SIZE = 12;
/** First-line indent of a paragraph, and the hanging indent of a list item: two characters. */
const INDENT = 2 * BODY_SIZE;
const CELL = { size: 10.5, lineHeight: 15, padding: 4 };
const FOOTER_SIZE = 9;
/** The title is centred; a section heading (第一条 …) is set flush left in bold, as clause headings are in Chinese contracts. */
const STYLES = {
  title: { font: 'bold', size: 18, lineHeight: 30, x: MARGIN.left, indent: 0, width: TEXT_WIDTH, align: 'center' },
  heading: { font: 'bold', size: 12, lineHeight: 21, x: MARGIN.left, indent: 0, width: TEXT_WIDTH, align: 'justify' },
  paragraph: {
    font: 'regular',
    size: 12,
    lineHeight: 21,
    x: MARGIN.left,
    indent: INDENT,
    width: TEXT_WIDTH,
    align: 'justify',
  },
  item: {
    font: 'regular',
    size: 12,
    lineHeight: 21,
    x: MARGIN.left + INDENT,
    indent: 0,
    width: TEXT_WIDTH - INDENT,
    align: 'justify',
  },
} as const;
type TextStyle = (typeof STYLES)[keyof typeof STYLES];
const SPACE = { afterTitle: 12, beforeHeading: 8, gap: STYLES.paragraph.lineHeight / 2 };
/**
 * The most a justified line's characters are spread apart, as a fraction of the size. Beyond it a
 * line is left ragged: wide gaps look like spaces to a reader, and to text extraction too.
 */
const MAX_SPREAD = 0.06;
/** What an optional value left empty prints: a blank to fill in by hand. */
const BLANK = '＿＿＿＿＿＿';
/** Lines drawn between yields to the event loop, so that a long document does not hold up other requests. */
const LINES_PER_TURN = 400;

interface CellLines {
  lines: string[];
  align: 'left' | 'right' | 'center';
}

/** The body laid out in lines, before it is cut into pages. */
type Item =
  | { kind: 'title' | 'heading' | 'paragraph' | 'item'; lines: WrappedLine[] }
  | { kind: 'table'; header: CellLines[]; rows: CellLines[][]; widths: number[] }
  | { kind: 'gap' }
  | { kind: 'pageBreak' };

const tooManyPages = () =>
  new TemplateError('values', [
    {
      code: 'too_long',
      field: 'values',
      message: `the filled-in document would run to more than ${TEMPLATE_LIMITS.pages} pages`,
    },
  ]);

/**
 * Cuts the items into pages: counting only (`total` undefined), or drawing onto `doc` with the
 * footer of each page written before the next is started.
 */
class Pager {
  pages = 1;
  private y = MARGIN.top;
  /** Whether anything was drawn on the current page (a page break or gap on an empty page does nothing). */
  private drawn = false;
  private linesSinceTurn = 0;

  constructor(
    private readonly surface: TemplateSurface,
    private readonly measure: (font: FontName, size: number) => Measure,
    private readonly total?: number,
  ) {}

  private get drawing(): boolean {
    return this.total !== undefined;
  }

  get room(): number {
    return BOTTOM - this.y;
  }

  get atPageTop(): boolean {
    return !this.drawn;
  }

  newPage(): void {
    if (this.pages >= TEMPLATE_LIMITS.pages) throw tooManyPages();
    if (this.drawing) {
      this.footer();
      this.surface.addPage();
    }
    this.pages++;
    this.y = MARGIN.top;
    this.drawn = false;
  }

  /** The footer of the last page. */
  finish(): void {
    if (this.drawing) this.footer();
  }

  /** Starts a new page unless `height` fits below, or nothing is on this page yet (it would not fit on the next either). */
  ensure(height: number): void {
    if (height > this.room && this.drawn) this.newPage();
  }

  space(height: number): void {
    if (!this.drawn) return;
    this.y = Math.min(this.y + height, BOTTOM);
  }

  private text(text: string, x: number, top: number, font: FontName, size: number, spacing = 0): void {
    if (!this.drawing || text === '') return;
    this.surface.text({ text, x, top, font, size, spacing });
  }

  /** Yields to the event loop once `LINES_PER_TURN` lines of text were drawn since the last time. */
  private async turn(lines: number): Promise<void> {
    if (!this.drawing) return;
    this.linesSinceTurn += lines;
    if (this.linesSinceTurn < LINES_PER_TURN) return;
    this.linesSinceTurn = 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Character spacing that spreads a wrapped line to its full width, or 0 where that would open visible gaps. */
  private static spread(line: WrappedLine, size: number): number {
    if (line.last) return 0;
    const glyphs = Array.from(line.text).length;
    if (glyphs < 2) return 0;
    const spacing = (line.available - line.width) / (glyphs - 1);
    return spacing > 0 && spacing <= MAX_SPREAD * size ? spacing : 0;
  }

  /**
   * A paragraph's lines. One of up to `keepTogether` lines is never split across pages; a longer
   * one leaves at least two lines at the foot of a page and carries at least two over. A list
   * item's `marker` is drawn beside its first line.
   */
  async paragraph(
    lines: WrappedLine[],
    style: TextStyle,
    options: { keepTogether?: number; marker?: { text: string; x: number } } = {},
  ): Promise<void> {
    const lh = style.lineHeight;
    const keep = options.keepTogether ?? 3;
    const n = lines.length;
    if (n <= keep) this.ensure(n * lh);
    let i = 0;
    while (i < n) {
      const fit = Math.floor((this.room + 0.001) / lh);
      const remaining = n - i;
      let take = Math.min(fit, remaining);
      if (take < remaining && n > keep) {
        if (remaining - take < 2) take = remaining - 2;
        if (i === 0 && take < 2) take = 0;
      }
      if (take <= 0) {
        if (this.drawn) {
          this.newPage();
          continue;
        }
        take = Math.max(1, Math.min(fit, remaining));
      }
      for (let k = i; k < i + take; k++) {
        const line = lines[k]!;
        const top = this.y + (lh - style.size) / 2;
        const x =
          style.align === 'center'
            ? MARGIN.left + (TEXT_WIDTH - line.width) / 2
            : style.x + (k === 0 ? style.indent : 0);
        if (k === 0 && options.marker) this.text(options.marker.text, options.marker.x, top, style.font, style.size);
        const spacing = style.align === 'justify' ? Pager.spread(line, style.size) : 0;
        this.text(line.text, x, top, style.font, style.size, spacing);
        this.y += lh;
        this.drawn = true;
      }
      await this.turn(take);
      i += take;
      if (i < n) this.newPage();
    }
  }

  private drawRow(cells: CellLines[], widths: number[], from: number, count: number, header: boolean): void {
    const height = count * CELL.lineHeight + 2 * CELL.padding;
    const top = this.y;
    if (this.drawing) {
      let x = MARGIN.left;
      for (const w of widths) {
        const box = { x, y: top, width: w, height };
        if (header) this.surface.rect(box, { fill: '#eeeeee' });
        this.surface.rect(box, { stroke: '#000', lineWidth: 0.5 });
        x += w;
      }
      x = MARGIN.left;
      const font: FontName = header ? 'bold' : 'regular';
      const measure = this.measure(font, CELL.size);
      cells.forEach((cell, i) => {
        const w = widths[i]!;
        cell.lines.slice(from, from + count).forEach((text, k) => {
          const left =
            cell.align === 'right'
              ? x + w - CELL.padding - measure(text)
              : cell.align === 'center'
                ? x + (w - measure(text)) / 2
                : x + CELL.padding;
          const lineTop = top + CELL.padding + k * CELL.lineHeight + (CELL.lineHeight - CELL.size) / 2;
          this.text(text, left, lineTop, font, CELL.size);
        });
        x += w;
      });
    }
    this.y = top + height;
    this.drawn = true;
  }

  /** A table over as many pages as it needs, its header row repeated at the top of each. */
  async table(table: Extract<Item, { kind: 'table' }>): Promise<void> {
    const { header, rows, widths } = table;
    const linesOf = (cells: CellLines[]) => Math.max(1, ...cells.map((c) => c.lines.length));
    const headerHeight = linesOf(header) * CELL.lineHeight + 2 * CELL.padding;
    const pageRoom = BOTTOM - MARGIN.top - headerHeight;
    const drawHeader = () => this.drawRow(header, widths, 0, linesOf(header), true);
    // The header and the first row together, or the header and the first lines of a row that will be cut anyway.
    const first = linesOf(rows[0] ?? header) * CELL.lineHeight + 2 * CELL.padding;
    this.ensure(headerHeight + (first <= pageRoom ? first : 2 * CELL.lineHeight + 2 * CELL.padding));
    drawHeader();
    let freshPage = false;
    for (const cells of rows) {
      const total = linesOf(cells);
      let from = 0;
      while (from < total) {
        const needed = (total - from) * CELL.lineHeight + 2 * CELL.padding;
        const fits = Math.floor((this.room - 2 * CELL.padding + 0.001) / CELL.lineHeight);
        // A row moves whole to the next page unless it is taller than a page; then it is cut by lines.
        const take = needed <= this.room ? total - from : !freshPage && needed <= pageRoom ? 0 : fits;
        if (take > 0) {
          this.drawRow(cells, widths, from, take, false);
          await this.turn(take * cells.length);
          from += take;
          freshPage = false;
        }
        if (from < total) {
          this.newPage();
          drawHeader();
          freshPage = true;
        }
      }
    }
  }

  /** 第 N 页 共 M 页 at the foot of the current page, below the bottom margin (PDFKit minds margins only when it wraps). */
  private footer(): void {
    const text = `第 ${this.pages} 页 共 ${this.total} 页`;
    const width = this.measure('regular', FOOTER_SIZE)(text);
    this.text(text, (PAGE.width - width) / 2, BOTTOM + 30, 'regular', FOOTER_SIZE);
  }
}

/** The printed text of a line's pieces, values substituted as segments (never re-read as markup). */
function inlineText(content: Inline[], printed: Map<string, string>): string {
  return content.map((c) => (c.kind === 'text' ? c.text : (printed.get(c.name) ?? BLANK))).join('');
}

/**
 * Column widths filling the text width. A column whose widest cell fits in its fair share of what
 * is left gets that width (so 数量 and 单价 stay on one line); the others share the rest between their
 * narrowest (their longest unbreakable piece) and their natural width (their widest cell on one line).
 */
function columnWidths(header: string[], rows: string[][], measureHeader: Measure, measure: Measure): number[] {
  const pad = 2 * CELL.padding;
  const natural = header.map((h) => measureHeader(h) + pad);
  const narrowest = header.map((h) => Math.max(...breakPieces(h).map((p) => measureHeader(p.trimEnd()))) + pad);
  for (const row of rows)
    row.forEach((text, i) => {
      const widths = breakPieces(text).map((p) => measure(p));
      natural[i] = Math.max(natural[i]!, widths.reduce((sum, w) => sum + w, 0) + pad);
      narrowest[i] = Math.max(narrowest[i]!, ...widths.map((w) => w + pad));
    });
  const sum = (ws: number[]) => ws.reduce((s, w) => s + w, 0);
  const widths = natural.map((w) => Math.min(w, TEXT_WIDTH));
  const total = sum(widths);
  if (total <= TEXT_WIDTH) return widths.map((w) => w + ((TEXT_WIDTH - total) * w) / total);
  let open = widths.map((_, i) => i);
  let left = TEXT_WIDTH;
  for (;;) {
    const share = left / open.length;
    const settled = open.filter((i) => widths[i]! <= share);
    if (settled.length === 0) break;
    for (const i of settled) left -= widths[i]!;
    open = open.filter((i) => widths[i]! > share);
  }
  const least = open.map((i) => Math.min(narrowest[i]!, widths[i]!));
  const floor = sum(least);
  const most = sum(open.map((i) => widths[i]!));
  open.forEach((i, k) => {
    widths[i] =
      floor >= left
        ? (least[k]! * left) / floor
        : least[k]! + ((widths[i]! - least[k]!) * (left - floor)) / (most - floor);
  });
  return widths;
}

function layoutTable(
  variable: Extract<Declared, { type: 'table' }>,
  rows: unknown[],
  measure: (font: FontName, size: number) => Measure,
): Extract<Item, { kind: 'table' }> {
  const cellText = rows.map((row) =>
    variable.columns.map((column) => {
      const cells = row as Record<string, unknown>;
      const value = Object.hasOwn(cells, column.name) ? cells[column.name] : undefined;
      const reading = readScalar(column.type, value, Infinity);
      return reading.ok && !reading.absent ? reading.cell : '';
    }),
  );
  if (cellText.length === 0) cellText.push(variable.columns.map((_, i) => (i === 0 ? '（无）' : '')));
  const headerMeasure = measure('bold', CELL.size);
  const bodyMeasure = measure('regular', CELL.size);
  const labels = variable.columns.map((c) => c.label);
  const widths = columnWidths(labels, cellText, headerMeasure, bodyMeasure);
  const wrap = (text: string, width: number, m: Measure) =>
    text === '' ? [] : wrapText(text, { width: width - 2 * CELL.padding, measure: m }).map((l) => l.text);
  const numeric = variable.columns.map((c) => c.type === 'amount' || c.type === 'number');
  return {
    kind: 'table',
    widths,
    header: labels.map((label, i) => ({ lines: wrap(label, widths[i]!, headerMeasure), align: 'center' })),
    rows: cellText.map((row) =>
      row.map((text, i) => ({ lines: wrap(text, widths[i]!, bodyMeasure), align: numeric[i] ? 'right' : 'left' })),
    ),
  };
}

/** Height of what an item starts with, for keeping a heading on the page of what follows it. */
function leadHeight(item: Item | undefined): number {
  if (!item) return 0;
  switch (item.kind) {
    case 'table':
      return 2 * (CELL.lineHeight + 2 * CELL.padding);
    case 'heading':
      return SPACE.beforeHeading + STYLES.heading.lineHeight;
    case 'title':
    case 'paragraph':
    case 'item':
      return Math.min(2, item.lines.length) * STYLES[item.kind].lineHeight;
    default:
      return 0;
  }
}

async function paginate(pager: Pager, items: Item[]): Promise<void> {
  const isOneLiner = (k: number) => {
    const item = items[k];
    return item?.kind === 'paragraph' && item.lines.length === 1;
  };
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    let next = i + 1;
    while (items[next]?.kind === 'gap') next++;
    const lead = leadHeight(items[next]);
    switch (item.kind) {
      case 'gap':
        pager.space(SPACE.gap);
        break;
      case 'pageBreak':
        if (!pager.atPageTop) pager.newPage();
        break;
      case 'title':
        pager.ensure(item.lines.length * STYLES.title.lineHeight + lead);
        await pager.paragraph(item.lines, STYLES.title, { keepTogether: Infinity });
        pager.space(SPACE.afterTitle);
        break;
      case 'heading':
        pager.ensure(SPACE.beforeHeading + item.lines.length * STYLES.heading.lineHeight + lead);
        pager.space(SPACE.beforeHeading);
        await pager.paragraph(item.lines, STYLES.heading, { keepTogether: Infinity });
        break;
      case 'paragraph':
        // A run of two to five one-line paragraphs (a signature block: 甲方（盖章）：, 法定代表人, 日期：) stays on one page.
        if (isOneLiner(i) && !isOneLiner(i - 1)) {
          let run = 1;
          while (isOneLiner(i + run)) run++;
          if (run <= 5) pager.ensure(run * STYLES.paragraph.lineHeight);
        }
        await pager.paragraph(item.lines, STYLES.paragraph);
        break;
      case 'item':
        await pager.paragraph(item.lines, STYLES.item, { marker: { text: '•', x: MARGIN.left + BODY_SIZE } });
        break;
      case 'table':
        await pager.table(item);
        break;
    }
  }
}

/** PDFKit as the surface of the PDF. */
function pdfSurface(doc: PDFKit.PDFDocument): TemplateSurface {
  return {
    addPage: () => doc.addPage(),
    text: ({ text, x, top, font, size, spacing }) =>
      doc
        .font(font)
        .fontSize(size)
        .fillColor('#000')
        .text(text, x, top, { lineBreak: false, characterSpacing: spacing }),
    rect: ({ x, y, width, height }, paint) => {
      if ('fill' in paint) doc.rect(x, y, width, height).fill(paint.fill);
      else doc.rect(x, y, width, height).lineWidth(paint.lineWidth).strokeColor(paint.stroke).stroke();
    },
  };
}

/**
 * Renders `source` filled with `values` as an A4 PDF. Throws TemplateError with every problem when
 * checkTemplate or checkValues finds any, and when the document would run over the page limit.
 */
export async function renderTemplate(
  source: TemplateSource,
  values: TemplateValues,
  options: RenderOptions = {},
): Promise<RenderedTemplate> {
  const font = await loadDocumentFonts();
  const now = options.now ?? new Date();
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN.top, bottom: MARGIN.bottom, left: MARGIN.left, right: MARGIN.left },
    lang: 'zh-CN',
    displayTitle: true,
    // Lines are measured by piece below; PDFKit's cache would keep a copy of every line drawn.
    fontLayoutCache: false,
    info: { Title: source.title, Creator: 'Sigil', CreationDate: now, ModDate: now },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  doc.registerFont('regular', font.regular);
  doc.registerFont('bold', font.bold);
  const pages = await layOutTemplate(source, values, doc, pdfSurface(doc));
  doc.end();
  await ended;
  return { pdf: Buffer.concat(chunks), pages };
}

/**
 * Lays `source` filled with `values` out on A4 pages and hands every line and rule to `surface`
 * (the OFD writer's way to the same layout as the PDF). PDFKit measures the text, with the same
 * fonts; nothing is written. Throws as `renderTemplate` does.
 */
export async function composeTemplate(
  source: TemplateSource,
  values: TemplateValues,
  surface: TemplateSurface,
): Promise<{ pages: number }> {
  const font = await loadDocumentFonts();
  const doc = new PDFDocument({ size: 'A4', fontLayoutCache: false, autoFirstPage: false });
  doc.registerFont('regular', font.regular);
  doc.registerFont('bold', font.bold);
  return { pages: await layOutTemplate(source, values, doc, surface) };
}

/** The checks, the layout and the two passes; `doc` measures text, `surface` receives the pages. Returns the page count. */
async function layOutTemplate(
  source: TemplateSource,
  values: TemplateValues,
  doc: PDFKit.PDFDocument,
  surface: TemplateSurface,
): Promise<number> {
  const templateProblems = checkTemplate(source);
  if (templateProblems.length) throw new TemplateError('template', templateProblems);
  const valueProblems = checkValues(source, values);
  if (valueProblems.length) throw new TemplateError('values', valueProblems);

  const declared = declaredVariables(source);
  const printed = new Map<string, string>();
  for (const [name, v] of declared) {
    if (v.type === 'table') continue;
    const reading = readScalar(v.type, Object.hasOwn(values, name) ? values[name] : undefined, Infinity);
    if (reading.ok && !reading.absent) printed.set(name, reading.inline);
  }

  const widths = new Map<string, number>();
  /** Width of a text in a font and size, kept for short pieces (single characters and words recur). */
  const measure =
    (name: FontName, size: number): Measure =>
    (text) => {
      const key = `${name}\u0000${size}\u0000${text}`;
      const known = widths.get(key);
      if (known !== undefined) return known;
      const width = doc.font(name).fontSize(size).widthOfString(text);
      if (text.length <= 16) widths.set(key, width);
      return width;
    };

  const items: Item[] = parseBody(source.body).blocks.map((block) => {
    if (block.kind === 'gap' || block.kind === 'pageBreak') return { kind: block.kind };
    if (block.kind === 'table') {
      const variable = declared.get(block.name) as Extract<Declared, { type: 'table' }>;
      const rows = Object.hasOwn(values, block.name) ? values[block.name] : undefined;
      return layoutTable(variable, Array.isArray(rows) ? rows : [], measure);
    }
    const style = STYLES[block.kind];
    const lines = wrapText(inlineText(block.content, printed), {
      width: style.width,
      firstLineIndent: style.indent,
      measure: measure(style.font, style.size),
    });
    return { kind: block.kind, lines };
  });

  const counted = new Pager(surface, measure);
  await paginate(counted, items);
  const pager = new Pager(surface, measure, counted.pages);
  await paginate(pager, items);
  pager.finish();
  // Both passes follow the same rules over the same lines; a difference would print a wrong 共 M 页.
  if (pager.pages !== counted.pages)
    throw new Error(`page count changed between passes: ${counted.pages}, ${pager.pages}`);
  return pager.pages;
}
