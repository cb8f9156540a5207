// Glyph outlines for drawing OFD text as paths: from the font embedded in the document when it
// has the character, else from the bundled Noto Sans SC (never from the machine's fonts, so a
// page looks the same on every server, and the SVG needs no font to show). fontkit parses the
// fonts; it is the font engine PDFKit already brings.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cjkFontPath } from '../seal-image/font.js';

/** The part of fontkit's Font used here. */
interface FontkitFont {
  unitsPerEm: number;
  ascent: number;
  postscriptName: string;
  familyName: string;
  glyphForCodePoint(codePoint: number): { id: number; advanceWidth: number; path: { toSVG(): string } };
}
type Fontkit = { create(buffer: Buffer): FontkitFont | { fonts: FontkitFont[] } };

let fontkit: Fontkit | undefined;
function loadFontkit(): Fontkit {
  fontkit ??= createRequire(import.meta.url)('fontkit') as Fontkit;
  return fontkit;
}

export interface Glyph {
  /** Outline in font units, y up; '' for a glyph that draws nothing (a space). */
  d: string;
  unitsPerEm: number;
  /** Advance width in font units. */
  advance: number;
  /** A key unique to the font and the glyph, usable as an SVG id. */
  key: string;
}

export interface GlyphSource {
  glyph(char: string): Glyph | undefined;
  /** hhea ascent in em: how far below a line's top PDFKit puts the baseline. */
  ascent: number;
  postscriptName: string;
  familyName: string;
}

/** At most this many outlines kept per font (a few hundred bytes each). */
const CACHE = 20_000;

function sourceOf(font: FontkitFont, prefix: string): GlyphSource {
  const cache = new Map<string, Glyph | undefined>();
  return {
    ascent: font.ascent / font.unitsPerEm,
    postscriptName: font.postscriptName,
    familyName: font.familyName,
    glyph(char) {
      if (cache.has(char)) return cache.get(char);
      const g = font.glyphForCodePoint(char.codePointAt(0)!);
      const found =
        g.id === 0
          ? undefined
          : { d: g.path.toSVG(), unitsPerEm: font.unitsPerEm, advance: g.advanceWidth, key: `${prefix}-${g.id}` };
      if (cache.size < CACHE) cache.set(char, found);
      return found;
    },
  };
}

/** A font file embedded in a document, or undefined when fontkit cannot read it (it is then drawn in the bundled font). */
export function embeddedGlyphs(bytes: Uint8Array, prefix: string): GlyphSource | undefined {
  try {
    const made = loadFontkit().create(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const font = 'fonts' in made ? made.fonts[0] : made;
    return font ? sourceOf(font, prefix) : undefined;
  } catch {
    return undefined;
  }
}

const bundled = new Map<'Regular' | 'Bold', GlyphSource>();

/** Noto Sans SC Regular or Bold from `@embedpdf/fonts-sc`, read once per process. */
export function bundledGlyphs(weight: 'Regular' | 'Bold'): GlyphSource {
  let source = bundled.get(weight);
  if (!source) {
    const made = loadFontkit().create(readFileSync(cjkFontPath(weight)));
    source = sourceOf('fonts' in made ? made.fonts[0]! : made, `noto${weight[0]}`);
    bundled.set(weight, source);
  }
  return source;
}
