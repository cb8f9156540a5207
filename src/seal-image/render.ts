// Seal images drawn with the project's own font through resvg, never with the machine's fonts:
// the same seal comes out byte for byte on every server.
//
// Characters become outlines once per process: each new character is shaped by resvg a single
// time and its outline kept, so a seal is drawn from paths only. That keeps a live preview
// fast (shaping with a 9 MB CJK font costs tens of milliseconds, drawing paths almost nothing)
// and makes the SVG output look the same in a viewer that has no CJK font.
import type { ResvgRenderOptions } from '@resvg/resvg-js';
import { AppError } from '../server/errors.js';
import { SEAL_FONT, sealFontMetrics, sealFontPath } from './font.js';
import { resvg } from './resvg.js';
import {
  CENTRE_TO_BASELINE,
  charTransform,
  layoutSeal,
  sealSvg,
  type Measure,
  type PlacedChar,
  type SealImageSpec,
} from './seal-svg.js';

/** Pixels per millimetre of a generated PNG unless asked otherwise: 12 px/mm ≈ 305 dpi, a 40 mm seal is 480 px. */
export const DEFAULT_PX_PER_MM = 12;
export const PX_PER_MM_LIMITS = { min: 2, max: 40 } as const;
/** No generated or rasterised image is wider or taller than this. */
export const MAX_RENDER_PX = 4096;

/** Outlines are taken at this font size, so a path's units are hundredths of an em. */
const OUTLINE_EM = 100;
/** Distinct characters whose outlines are kept (a few kB each). */
const OUTLINE_CACHE_SIZE = 8000;
const outlines = new Map<string, string>();

function fontOptions(withFont: boolean): ResvgRenderOptions['font'] {
  // Without text to shape, loading no font at all is faster still.
  return withFont
    ? { fontFiles: [sealFontPath()], loadSystemFonts: false, defaultFontFamily: SEAL_FONT.family }
    : { loadSystemFonts: false };
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;
const shortenNumbers = (d: string) => d.replace(/-?\d+\.\d+/g, (n) => String(Math.round(Number(n) * 100) / 100));

/**
 * The outline (SVG path data, em = 100 units, centred horizontally on 0, baseline at 0) of
 * each character; '' for one that draws nothing (a space). Shapes the missing ones in one pass.
 */
export function charOutlines(text: Iterable<string>): Map<string, string> {
  const wanted = [...new Set(text)];
  const missing = wanted.filter((c) => !outlines.has(c));
  if (missing.length) {
    const escape = (c: string) => `&#${c.codePointAt(0)};`;
    const svg = [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${OUTLINE_EM}" height="${OUTLINE_EM}" viewBox="0 0 ${OUTLINE_EM} ${OUTLINE_EM}">`,
      `<g font-family="${SEAL_FONT.family}" font-weight="${SEAL_FONT.weight}" font-size="${OUTLINE_EM}" text-anchor="middle">`,
      ...missing.map((c, i) => `<text id="c${i}">${escape(c)}</text>`),
      '</g></svg>',
    ].join('');
    const { Resvg } = resvg();
    const tree = new Resvg(svg, { font: fontOptions(true), logLevel: 'off' }).toString();
    // resvg keeps each <text>'s id on the group that holds its outline: <g id="cN"><path … d="…"/>…</g>.
    const found = new Map<number, string[]>();
    for (const group of tree.matchAll(/<g id="c(\d+)">([\s\S]*?)<\/g>/g)) {
      found.set(
        Number(group[1]),
        [...group[2]!.matchAll(/ d="([^"]*)"/g)].map((m) => shortenNumbers(m[1]!)),
      );
    }
    missing.forEach((c, i) => {
      const d = (found.get(i) ?? []).join(' ');
      // A character the font has must come back as an outline: a seal with a silently missing character is worse than an error.
      if (!d && !/\s/.test(c) && sealFontMetrics().glyphOf(c.codePointAt(0)!) !== 0)
        throw new Error(`resvg returned no outline for ${JSON.stringify(c)}; has its SVG output changed?`);
      if (outlines.size >= OUTLINE_CACHE_SIZE) outlines.delete(outlines.keys().next().value!);
      outlines.set(c, d);
    });
  }
  return new Map(wanted.map((c) => [c, outlines.get(c) ?? '']));
}

/** Advance widths from the seal font itself, so Latin letters and digits are spaced as designed. */
const fontAdvance: Measure = (char) => sealFontMetrics().advanceOf(char.codePointAt(0)!) ?? 1;

/** The seal as a self-contained SVG: every character an outline, so it needs no font to show; size in millimetres. */
export function renderSealSvg(spec: SealImageSpec): { svg: string; widthMm: number; heightMm: number } {
  const layout = layoutSeal(spec, fontAdvance);
  const paths = charOutlines(layout.texts.flatMap((t) => t.chars.map((c) => c.char)));
  const drawChar = (c: PlacedChar) => {
    const d = paths.get(c.char);
    if (!d) return '';
    const scale = c.size / OUTLINE_EM;
    // Outline units → the character's own frame: scaled to its size, baseline below its centre.
    return `<path transform="${charTransform(c)} scale(${round6(scale)}) translate(0 ${CENTRE_TO_BASELINE * OUTLINE_EM})" d="${d}"/>`;
  };
  return {
    svg: `<?xml version="1.0" encoding="UTF-8"?>\n${sealSvg(layout, drawChar)}\n`,
    widthMm: layout.widthMm,
    heightMm: layout.heightMm,
  };
}

export interface RenderedImage {
  png: Buffer;
  width: number;
  height: number;
}

function pixelWidth(widthMm: number, heightMm: number, pxPerMm: number): number {
  const px = Math.round(Math.max(widthMm, heightMm) * pxPerMm);
  if (px > MAX_RENDER_PX) {
    throw new AppError(
      'validation_failed',
      `The image would be ${px} px across; at most ${MAX_RENDER_PX} px are made. Lower the size or the pixels per millimetre.`,
      {
        errors: [{ field: 'pxPerMm', message: `gives more than ${MAX_RENDER_PX} px` }],
      },
    );
  }
  return Math.max(Math.round(widthMm * pxPerMm), 1);
}

/** The seal as a PNG with a transparent background, `pxPerMm` pixels per millimetre, rendered off the event loop. */
export async function renderSealPng(
  spec: SealImageSpec,
  pxPerMm = DEFAULT_PX_PER_MM,
): Promise<RenderedImage & { widthMm: number; heightMm: number }> {
  const { svg, widthMm, heightMm } = renderSealSvg(spec);
  const image = await resvg().renderAsync(svg, {
    fitTo: { mode: 'width', value: pixelWidth(widthMm, heightMm, pxPerMm) },
    font: fontOptions(false),
    shapeRendering: 2,
    logLevel: 'off',
  });
  return { png: image.asPng(), width: image.width, height: image.height, widthMm, heightMm };
}

/**
 * Any SVG (an uploaded seal image, say) as a PNG `widthPx` wide, with the seal font and no
 * system fonts, off the event loop: what signing needs when a seal's image is an SVG.
 */
export async function rasterizeSvg(svg: string | Buffer, widthPx: number): Promise<RenderedImage> {
  if (!Number.isInteger(widthPx) || widthPx < 1 || widthPx > MAX_RENDER_PX)
    throw new RangeError(`widthPx must be 1…${MAX_RENDER_PX}`);
  const image = await resvg().renderAsync(svg, {
    fitTo: { mode: 'width', value: widthPx },
    font: fontOptions(true),
    shapeRendering: 2,
    logLevel: 'off',
  });
  return { png: image.asPng(), width: image.width, height: image.height };
}
