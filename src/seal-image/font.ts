// The one font seal images are drawn with. It comes from an npm dependency, never from the
// machine: a seal must look the same on every server, and a server without CJK fonts must
// not silently draw empty boxes where a company name should be.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Noto Sans Hans Bold (Noto Sans CJK, Simplified Chinese subset; SIL Open Font License 1.1),
 * shipped by `@embedpdf/fonts-sc`. Its typographic family name (name ID 16) is the one below.
 */
export const SEAL_FONT = {
  family: 'Noto Sans S Chinese',
  weight: 700,
  package: '@embedpdf/fonts-sc',
  file: 'NotoSansHans-Bold.otf',
  licence: 'OFL-1.1',
} as const;

let fontPath: string | undefined;

/** Absolute path of the font file inside node_modules (the package exports no subpaths, so it is found beside its entry). */
export function sealFontPath(): string {
  if (!fontPath) {
    const entry = createRequire(import.meta.url).resolve(SEAL_FONT.package);
    fontPath = join(dirname(entry), '..', 'fonts', SEAL_FONT.file);
  }
  return fontPath;
}

/**
 * Another weight of the same Noto Sans SC family from the same package (OFL-1.1): the seal font is
 * its Bold; documents Sigil writes (the seal file card) set their text in Regular and Bold.
 */
export function cjkFontPath(weight: 'Regular' | 'Bold'): string {
  return join(dirname(sealFontPath()), `NotoSansHans-${weight}.otf`);
}

let documentFonts: Promise<{ regular: Buffer; bold: Buffer }> | undefined;

/**
 * Noto Sans SC Regular and Bold for the documents Sigil writes (contracts from templates, the seal
 * file card, usage reports): read once per process (about 16 MB), when the first is drawn; a read
 * that failed is tried again next time.
 */
export function loadDocumentFonts(): Promise<{ regular: Buffer; bold: Buffer }> {
  documentFonts ??= Promise.all([readFile(cjkFontPath('Regular')), readFile(cjkFontPath('Bold'))]).then(
    ([regular, bold]) => ({ regular, bold }),
    (error: unknown) => {
      documentFonts = undefined;
      throw error;
    },
  );
  return documentFonts;
}

/** Runs of code points [first, last] mapped to consecutive glyphs from `glyph`, sorted and disjoint. */
type CmapRun = [first: number, last: number, glyph: number];

export interface FontMetrics {
  /** The glyph of a code point, 0 (.notdef) when the font has none. */
  glyphOf(codePoint: number): number;
  /** Advance width of a code point's glyph in em (OpenType `hmtx`), undefined when the font has no glyph for it. */
  advanceOf(codePoint: number): number | undefined;
}

function tables(font: Buffer): Map<string, number> {
  const tag = font.toString('latin1', 0, 4);
  if (tag !== 'OTTO' && font.readUInt32BE(0) !== 0x00010000) throw new Error('not an OpenType/TrueType font');
  const out = new Map<string, number>();
  for (let i = 0; i < font.readUInt16BE(4); i++) {
    const record = 12 + i * 16;
    out.set(font.toString('latin1', record, record + 4), font.readUInt32BE(record + 8));
  }
  return out;
}

/**
 * Reads the font's `cmap` (OpenType spec, "cmap — Character to Glyph Index Mapping Table"):
 * a format 12 subtable (full Unicode) when present, else format 4 (BMP).
 */
function readCmap(font: Buffer, cmap: number): CmapRun[] {
  const subtables = new Map<string, number>();
  for (let i = 0; i < font.readUInt16BE(cmap + 2); i++) {
    const record = cmap + 4 + i * 8;
    const offset = cmap + font.readUInt32BE(record + 4);
    subtables.set(`${font.readUInt16BE(record)}/${font.readUInt16BE(record + 2)}/${font.readUInt16BE(offset)}`, offset);
  }
  const format12 = subtables.get('3/10/12') ?? subtables.get('0/4/12');
  if (format12 !== undefined) return readFormat12(font, format12);
  const format4 = subtables.get('3/1/4') ?? subtables.get('0/3/4');
  if (format4 !== undefined) return readFormat4(font, format4);
  throw new Error('the font has no Unicode cmap subtable of format 4 or 12');
}

function readFormat12(font: Buffer, at: number): CmapRun[] {
  const out: CmapRun[] = [];
  for (let i = 0; i < font.readUInt32BE(at + 12); i++) {
    const g = at + 16 + i * 12;
    out.push([font.readUInt32BE(g), font.readUInt32BE(g + 4), font.readUInt32BE(g + 8)]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function readFormat4(font: Buffer, at: number): CmapRun[] {
  const segments = font.readUInt16BE(at + 6) / 2;
  const ends = at + 14;
  const starts = ends + segments * 2 + 2;
  const deltas = starts + segments * 2;
  const rangeOffsets = deltas + segments * 2;
  const out: CmapRun[] = [];
  for (let s = 0; s < segments; s++) {
    const end = font.readUInt16BE(ends + s * 2);
    const start = font.readUInt16BE(starts + s * 2);
    const delta = font.readUInt16BE(deltas + s * 2);
    const rangeOffsetAt = rangeOffsets + s * 2;
    const rangeOffset = font.readUInt16BE(rangeOffsetAt);
    for (let c = start; c <= end && c !== 0xffff; c++) {
      let glyph = (c + delta) & 0xffff;
      if (rangeOffset !== 0) {
        const index = rangeOffsetAt + rangeOffset + (c - start) * 2;
        const raw = index + 2 <= font.length ? font.readUInt16BE(index) : 0;
        glyph = raw === 0 ? 0 : (raw + delta) & 0xffff;
      }
      const previous = out.at(-1);
      if (previous && previous[1] === c - 1 && previous[2] + (c - previous[0]) === glyph) previous[1] = c;
      else out.push([c, c, glyph]);
    }
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** The font's character map and advance widths (`cmap`, `head.unitsPerEm`, `hhea`, `hmtx`). */
export function readFontMetrics(font: Buffer): FontMetrics {
  const at = tables(font);
  const [cmap, head, hhea, hmtx] = ['cmap', 'head', 'hhea', 'hmtx'].map((t) => at.get(t));
  if (cmap === undefined || head === undefined || hhea === undefined || hmtx === undefined)
    throw new Error('the font lacks cmap, head, hhea or hmtx');
  const runs = readCmap(font, cmap);
  const unitsPerEm = font.readUInt16BE(head + 18);
  const advances = new Uint16Array(font.readUInt16BE(hhea + 34));
  for (let i = 0; i < advances.length; i++) advances[i] = font.readUInt16BE(hmtx + i * 4);
  const glyphOf = (codePoint: number): number => {
    let lo = 0;
    let hi = runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [first, last, glyph] = runs[mid]!;
      if (codePoint < first) hi = mid - 1;
      else if (codePoint > last) lo = mid + 1;
      else return glyph + (codePoint - first);
    }
    return 0;
  };
  return {
    glyphOf,
    advanceOf(codePoint) {
      const glyph = glyphOf(codePoint);
      if (glyph === 0) return undefined;
      // Glyphs past the last long metric share its advance (hmtx spec).
      return advances[Math.min(glyph, advances.length - 1)]! / unitsPerEm;
    },
  };
}

let metrics: FontMetrics | undefined;

/** The seal font's metrics, read once per process (the file is about 9 MB; what is kept is small). */
export function sealFontMetrics(): FontMetrics {
  metrics ??= readFontMetrics(readFileSync(sealFontPath()));
  return metrics;
}

/** The characters of `text` the seal font cannot draw, each once, in order of appearance. */
export function missingGlyphs(text: string): string[] {
  const missing = new Set<string>();
  for (const char of text) {
    if (/\s/.test(char)) continue;
    if (sealFontMetrics().glyphOf(char.codePointAt(0)!) === 0) missing.add(char);
  }
  return [...missing];
}
