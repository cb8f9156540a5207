// A contract template as OFD, from the same layout as its PDF: src/templates lays the lines out
// once (line breaking, justification, pagination, tables, the page footer) and hands them to a
// surface; the PDF's surface is PDFKit, this one records the runs and rules and writes them as
// OFD pages. Positions are converted from points to millimetres; each glyph's advance is the
// bundled font's own (the one PDFKit measured with), plus the justification spacing.
import { readFile } from 'node:fs/promises';
import { cjkFontPath, SEAL_FONT } from '../seal-image/font.js';
import {
  composeTemplate,
  type FontName,
  type TemplateSource,
  type TemplateSurface,
  type TemplateValues,
} from '../templates/index.js';
import { bundledGlyphs } from './glyphs.js';
import type { Color } from './model.js';
import { writeOfd, type OfdFontInput, type OfdPageInput } from './writer.js';

export interface TemplateOfdOptions {
  now?: Date;
  /**
   * Embed the two Noto Sans SC weights (about 17 MB) instead of naming them. Named fonts keep an
   * OFD small; a reader without them substitutes its own, still at each glyph's exact place.
   */
  embedFonts?: boolean;
}

const MM_PER_PT = 25.4 / 72;
const WEIGHT: Record<FontName, 'Regular' | 'Bold'> = { regular: 'Regular', bold: 'Bold' };

function parseHex(color: string): Color {
  const hex = color.replace('#', '');
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
  return { rgb: [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as [number, number, number], alpha: 255 };
}

/** Renders `source` filled with `values` as an OFD document of A4 pages. Throws TemplateError as renderTemplate does. */
export async function renderTemplateOfd(
  source: TemplateSource,
  values: TemplateValues,
  options: TemplateOfdOptions = {},
): Promise<{ ofd: Uint8Array; pages: number }> {
  const pages: OfdPageInput[] = [{ texts: [], rects: [] }];
  const current = () => pages[pages.length - 1]!;
  const surface: TemplateSurface = {
    addPage: () => pages.push({ texts: [], rects: [] }),
    text: ({ text, x, top, font, size, spacing }) => {
      const glyphs = bundledGlyphs(WEIGHT[font]);
      const chars = Array.from(text);
      const advances = chars.map((c) => {
        const g = glyphs.glyph(c);
        return ((g ? g.advance / g.unitsPerEm : 1) * size + spacing) * MM_PER_PT;
      });
      current().texts.push({
        text,
        x: x * MM_PER_PT,
        top: top * MM_PER_PT,
        // PDFKit puts the baseline the font's ascent below the top it is given.
        baseline: (top + glyphs.ascent * size) * MM_PER_PT,
        height: size * 1.2 * MM_PER_PT,
        size: size * MM_PER_PT,
        font,
        deltaX: advances.slice(0, -1),
        width: advances.reduce((s, a) => s + a, 0),
      });
    },
    rect: ({ x, y, width, height }, paint) => {
      const box: [number, number, number, number] = [
        x * MM_PER_PT,
        y * MM_PER_PT,
        width * MM_PER_PT,
        height * MM_PER_PT,
      ];
      current().rects.push(
        'fill' in paint
          ? { box, fill: parseHex(paint.fill) }
          : { box, stroke: { color: parseHex(paint.stroke), width: paint.lineWidth * MM_PER_PT } },
      );
    },
  };
  const { pages: count } = await composeTemplate(source, values, surface);
  const fonts: OfdFontInput[] = [];
  for (const key of ['regular', 'bold'] as const) {
    const glyphs = bundledGlyphs(WEIGHT[key]);
    const fileName = `${glyphs.postscriptName}.otf`;
    fonts.push({
      key,
      fontName: glyphs.postscriptName,
      // The typographic family (name ID 16) both weights share; fontkit's familyName is name ID 1, which names the weight too.
      familyName: SEAL_FONT.family,
      ...(key === 'bold' ? { bold: true } : {}),
      ...(options.embedFonts ? { file: { name: fileName, bytes: await readFile(cjkFontPath(WEIGHT[key])) } } : {}),
    });
  }
  const ofd = writeOfd({ title: source.title, ...(options.now ? { now: options.now } : {}), fonts, pages });
  return { ofd, pages: count };
}
