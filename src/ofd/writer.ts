// Writing an OFD package (GB/T 33190-2016) from laid-out pages: OFD.xml, Doc_0/Document.xml,
// Doc_0/PublicRes.xml (the fonts) and one Content.xml per page. Text is written as one
// TextObject per run with a TextCode whose DeltaX gives every glyph's place, so a reader puts each
// glyph where the layout put it whatever font it has. All IDs come from one counter and
// MaxUnitID is the last one given (§7.5: IDs are unique in the document).
import { createHash } from 'node:crypto';
import { OfdError } from './errors.js';
import type { Box, Color } from './model.js';
import { writePackage } from './package.js';
import { el, t, xmlFile } from './xml.js';

export interface OfdFontInput {
  /** The name pages use for it (e.g. 'regular'). */
  key: string;
  fontName: string;
  familyName: string;
  bold?: boolean;
  /** The font file, embedded as Doc_0/Res/<fileName> when given; else readers use their own font of that name. */
  file?: { name: string; bytes: Uint8Array };
}

export interface OfdTextRun {
  text: string;
  /** Left of the first glyph and the baseline, mm from the page's top left. */
  x: number;
  baseline: number;
  /** Top of the run's box and its height (mm), for the Boundary. */
  top: number;
  height: number;
  /** Em size in mm. */
  size: number;
  font: string;
  /** Distance from each glyph to the next (mm), one fewer than the glyphs. */
  deltaX: number[];
  /** The run's width (mm). */
  width: number;
  color?: Color;
}

export interface OfdRectInput {
  box: Box;
  fill?: Color;
  stroke?: { color: Color; width: number };
}

export interface OfdPageInput {
  texts: OfdTextRun[];
  rects: OfdRectInput[];
}

export interface WriteOfdOptions {
  title: string;
  /** CreationDate; the default is now. */
  now?: Date;
  /** Page size in mm; A4 by default. */
  pageSize?: [number, number];
  fonts: OfdFontInput[];
  pages: OfdPageInput[];
  /** DocInfo/Creator. */
  creator?: string;
}

/** Numbers as OFD writes them: at most 3 decimals (a micrometre), no exponent. */
const n = (v: number) => {
  const rounded = Math.round(v * 1000) / 1000;
  return Object.is(rounded, -0) ? '0' : String(rounded);
};
const box = (b: Box) => b.map(n).join(' ');
const rgb = (c: Color) => c.rgb.map((v) => String(Math.round(v))).join(' ');

/** DeltaX with runs of the same gap written `g N v` (§11.3), which keeps a Chinese line short. */
export function encodeDeltas(deltas: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < deltas.length;) {
    let j = i;
    while (j < deltas.length && n(deltas[j]!) === n(deltas[i]!)) j++;
    const count = j - i;
    parts.push(count >= 3 ? `g ${count} ${n(deltas[i]!)}` : Array(count).fill(n(deltas[i]!)).join(' '));
    i = j;
  }
  return parts.join(' ');
}

/** The OFD package of `options.pages`, the same bytes for the same input. */
export function writeOfd(options: WriteOfdOptions): Uint8Array {
  const [width, height] = options.pageSize ?? [210, 297];
  if (options.pages.length === 0) throw new OfdError('ofd_malformed', 'a document needs at least one page');
  let nextId = 0;
  const id = () => String(++nextId);
  const files: Array<[string, Uint8Array]> = [];

  const fontIds = new Map<string, string>();
  const fontElements = options.fonts.map((font) => {
    const fontId = id();
    fontIds.set(font.key, fontId);
    return el(
      'Font',
      { ID: fontId, FontName: font.fontName, FamilyName: font.familyName, Bold: font.bold ? 'true' : undefined },
      font.file ? el('FontFile', {}, t(font.file.name)) : undefined,
    );
  });

  const pageEntries = options.pages.map((page, index) => {
    const pageId = id();
    const layerId = id();
    const objects: string[] = [];
    for (const rect of page.rects) {
      const [, , w, h] = rect.box;
      objects.push(
        el(
          'PathObject',
          {
            ID: id(),
            Boundary: box(rect.box),
            LineWidth: rect.stroke ? n(rect.stroke.width) : undefined,
            Stroke: rect.stroke ? 'true' : 'false',
            Fill: rect.fill ? 'true' : 'false',
          },
          rect.fill ? el('FillColor', { Value: rgb(rect.fill) }) : undefined,
          rect.stroke ? el('StrokeColor', { Value: rgb(rect.stroke.color) }) : undefined,
          el('AbbreviatedData', {}, `M 0 0 L ${n(w)} 0 L ${n(w)} ${n(h)} L 0 ${n(h)} C`),
        ),
      );
    }
    for (const run of page.texts) {
      const fontId = fontIds.get(run.font);
      if (!fontId) throw new OfdError('ofd_malformed', `text uses the font ${run.font}, which is not declared`);
      objects.push(
        el(
          'TextObject',
          { ID: id(), Boundary: box([run.x, run.top, run.width, run.height]), Font: fontId, Size: n(run.size) },
          run.color ? el('FillColor', { Value: rgb(run.color) }) : undefined,
          el(
            'TextCode',
            { X: '0', Y: n(run.baseline - run.top), DeltaX: run.deltaX.length ? encodeDeltas(run.deltaX) : undefined },
            t(run.text),
          ),
        ),
      );
    }
    const path = `Pages/Page_${index}/Content.xml`;
    files.push([
      `Doc_0/${path}`,
      xmlFile(el('Page', {}, el('Content', {}, el('Layer', { ID: layerId, Type: 'Body' }, ...objects)))),
    ]);
    return el('Page', { ID: pageId, BaseLoc: path });
  });

  const fontFiles = options.fonts.flatMap((f) =>
    f.file ? [[`Doc_0/Res/${f.file.name}`, f.file.bytes] as [string, Uint8Array]] : [],
  );
  const now = options.now ?? new Date();
  const docId = createHash('md5')
    .update(
      `${options.title}\u0000${now.toISOString()}\u0000${files.map(([, b]) => createHash('sha256').update(b).digest('hex')).join()}`,
    )
    .digest('hex');
  const ofdXml = xmlFile(
    el(
      'OFD',
      { Version: '1.0', DocType: 'OFD' },
      el(
        'DocBody',
        {},
        el(
          'DocInfo',
          {},
          el('DocID', {}, docId),
          el('Title', {}, t(options.title)),
          el('CreationDate', {}, now.toISOString().slice(0, 10)),
          el('Creator', {}, t(options.creator ?? 'Sigil')),
        ),
        el('DocRoot', {}, 'Doc_0/Document.xml'),
      ),
    ),
  );
  const documentXml = xmlFile(
    el(
      'Document',
      {},
      el(
        'CommonData',
        {},
        el('MaxUnitID', {}, String(nextId)),
        el(
          'PageArea',
          {},
          el('PhysicalBox', {}, box([0, 0, width, height])),
          el('ApplicationBox', {}, box([0, 0, width, height])),
        ),
        el('PublicRes', {}, 'PublicRes.xml'),
      ),
      el('Pages', {}, ...pageEntries),
    ),
  );
  const publicRes = xmlFile(el('Res', { BaseLoc: 'Res' }, el('Fonts', {}, ...fontElements)));
  return writePackage([
    ['OFD.xml', ofdXml],
    ['Doc_0/Document.xml', documentXml],
    ['Doc_0/PublicRes.xml', publicRes],
    ...files,
    ...fontFiles,
  ]);
}
