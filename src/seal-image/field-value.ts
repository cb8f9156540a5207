// What a signer filled in (a date, a text, a tick) as a picture for the page: drawn from the
// seal font's outlines, like a seal's characters, so it looks the same on every server and in
// every reader. The picture goes beside the signature, which covers it (`stamps` in signPdf).
import { AppError } from '../server/errors.js';
import { sealFontMetrics } from './font.js';
import { MAX_RENDER_PX, charOutlines } from './render.js';
import { resvg } from './resvg.js';

/** Pixels per point of a drawn value: 4 px/pt ≈ 288 dpi, sharp when printed. */
const PX_PER_PT = 4;
/** The longest text a field takes. */
export const MAX_FIELD_TEXT = 200;
const INK = '#1a1a1a';

export type FieldValue = { type: 'text' | 'date'; text: string } | { type: 'checkbox'; checked: boolean };

/**
 * The value as a transparent PNG for a `widthPt` × `heightPt` box: text on one line, left
 * aligned and vertically centred, as large as fits (at most 70 % of the box's height); a
 * checkbox as a box, ticked or not.
 */
export async function renderFieldValuePng(value: FieldValue, widthPt: number, heightPt: number): Promise<Buffer> {
  if (!(widthPt > 0 && heightPt > 0)) throw new RangeError('a field needs a positive width and height');
  const scale = Math.min(PX_PER_PT, MAX_RENDER_PX / Math.max(widthPt, heightPt));
  const [w, h] = [Math.max(1, Math.round(widthPt * scale)), Math.max(1, Math.round(heightPt * scale))];
  const body = value.type === 'checkbox' ? checkbox(value.checked, w, h) : text(value.text, w, h);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${body}</svg>`;
  const image = await resvg().renderAsync(svg, {
    font: { loadSystemFonts: false },
    shapeRendering: 2,
    logLevel: 'off',
  });
  return image.asPng();
}

function text(value: string, w: number, h: number): string {
  const chars = [...value];
  if (chars.length === 0 || chars.length > MAX_FIELD_TEXT)
    throw new AppError('validation_failed', `A field's text must be 1 to ${MAX_FIELD_TEXT} characters.`);
  const metrics = sealFontMetrics();
  const space = metrics.advanceOf(32) ?? 0.25;
  const advances = chars.map((c) => (/\s/.test(c) ? space : metrics.advanceOf(c.codePointAt(0)!)));
  const missing = chars.filter((_, i) => advances[i] === undefined);
  if (missing.length)
    throw new AppError('validation_failed', `The font has no glyph for ${[...new Set(missing)].join(' ')}.`, {
      errors: [{ field: 'body.fields', message: `uses characters the font lacks: ${[...new Set(missing)].join(' ')}` }],
    });
  const total = advances.reduce<number>((a, b) => a + b!, 0);
  const size = Math.min(h * 0.7, total > 0 ? (w * 0.98) / total : h);
  const baseline = h / 2 + size * 0.35;
  const outlines = charOutlines(chars);
  let x = 0;
  const parts: string[] = [];
  chars.forEach((c, i) => {
    const advance = advances[i]! * size;
    const d = outlines.get(c);
    if (d) {
      const k = size / 100;
      parts.push(
        `<path transform="translate(${(x + advance / 2).toFixed(2)} ${baseline.toFixed(2)}) scale(${k.toFixed(4)})" d="${d}"/>`,
      );
    }
    x += advance;
  });
  return `<g fill="${INK}">${parts.join('')}</g>`;
}

function checkbox(checked: boolean, w: number, h: number): string {
  const side = Math.min(w, h) * 0.8;
  const [x, y] = [(w - side) / 2, (h - side) / 2];
  const stroke = Math.max(1, side * 0.08);
  const box = `<rect x="${x}" y="${y}" width="${side}" height="${side}" fill="none" stroke="${INK}" stroke-width="${stroke}"/>`;
  if (!checked) return box;
  const p = (fx: number, fy: number) => `${(x + side * fx).toFixed(2)} ${(y + side * fy).toFixed(2)}`;
  return `${box}<path d="M ${p(0.2, 0.52)} L ${p(0.42, 0.75)} L ${p(0.82, 0.25)}" fill="none" stroke="${INK}" stroke-width="${stroke * 1.6}" stroke-linecap="round" stroke-linejoin="round"/>`;
}
