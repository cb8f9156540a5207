// The standard seal impressions as SVG, in millimetres, from pure geometry: no I/O, no fonts
// loaded here (render.ts draws the characters with the project's own font and makes the PNG).
//
// Proportions follow the usual layout of Chinese company seals (印章): a round company seal of
// 40–42 mm with a border of about 1.2 mm, the company name along the upper arc with the tops of
// its characters outwards, a five-pointed star of about 14 mm in the centre, the seal type
// (合同专用章…) horizontally below the star, and an optional code (防伪码 / 下弦文) along the
// lower arc, read left to right. Every length below scales with the seal's size.
import { SEAL_FONT } from './font.js';

export const SEAL_SHAPES = ['round', 'oval', 'square'] as const;
export type SealShape = (typeof SEAL_SHAPES)[number];

export interface SealImageSpec {
  shape: SealShape;
  /** Round and oval: the company name, along the upper arc. */
  company?: string | undefined;
  /** Round and oval: the seal type (合同专用章, 财务专用章…), written horizontally. Optional (a 公章 often has none). */
  type?: string | undefined;
  /** Round: along the lower arc (下弦文, e.g. the 13-digit 防伪码). Oval: the middle line (e.g. a taxpayer number). */
  code?: string | undefined;
  /** Square: the person's name (法定代表人章 / personal seal); four characters are set 2×2, others in one row. */
  name?: string | undefined;
  /** Ink colour, `#rrggbb`. */
  color?: string | undefined;
  /** Round: diameter; oval: width (the height is two thirds of it); square: side. Millimetres. */
  sizeMm?: number | undefined;
  /** The five-pointed star: drawn on round seals unless false; never on oval or square ones. */
  star?: boolean | undefined;
}

export const DEFAULT_SEAL_COLOR = '#d32f2f';
export const DEFAULT_SIZE_MM: Record<SealShape, number> = { round: 40, oval: 45, square: 20 };
export const SIZE_LIMITS_MM = { min: 10, max: 80 } as const;

/** Text widths (in ideographs; see textWidth) that still fit at a readable size; the API and the CLI refuse wider. */
export const TEXT_LIMITS = { company: 24, type: 10, code: 20, name: 5 } as const;

/** A character placed in the seal: centre, rotation (degrees clockwise), glyph height and horizontal squeeze. */
export interface PlacedChar {
  char: string;
  x: number;
  y: number;
  rotate: number;
  size: number;
  scaleX: number;
}

// CJK glyphs sit in an em box from 0.88 em above the baseline to 0.12 em below it, so a
// glyph's visual centre is 0.38 em above its baseline.
export const CENTRE_TO_BASELINE = 0.38;
/** Digits and Latin letters are about half as wide as ideographs. */
const isNarrow = (char: string) => char.codePointAt(0)! < 0x2e80;
/** Air between characters along an arc, in em. */
const GAP = 0.06;

/** A character's advance width in em. render.ts measures with the font; without it, this guess. */
export type Measure = (char: string) => number;
export const approximateAdvance: Measure = (char) => (isNarrow(char) ? 0.56 : 1);

/** How wide a text is in ideograph widths: what TEXT_LIMITS bounds (a letter or digit counts 0.6). */
export function textWidth(text: string): number {
  let width = 0;
  for (const char of text) width += isNarrow(char) ? 0.6 : 1;
  return Math.round(width * 10) / 10;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
const chars = (text: string | undefined) => [...(text ?? '')];

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Characters spread over an arc of a circle centred at (cx, cy), `radius` to their centres,
 * angles in degrees clockwise from 12 o'clock. `upper`: tops outwards, reading clockwise;
 * lower: tops towards the centre, reading left to right (counter-clockwise).
 */
export function placeOnArc(options: {
  text: string[];
  cx: number;
  cy: number;
  radius: number;
  size: number;
  maxSpanDeg: number;
  spread: number;
  upper: boolean;
  measure?: Measure;
}): PlacedChar[] {
  const { text, cx, cy, radius, size } = options;
  const n = text.length;
  if (n === 0) return [];
  const measure = options.measure ?? approximateAdvance;
  const widths = text.map((c) => (measure(c) + GAP) * size);
  // Angle each character needs at its natural width, and the span between the first and last centres.
  const natural = widths.map((w) => (w / radius) * (180 / Math.PI));
  const naturalSpan = natural.reduce((a, b) => a + b, 0) - (natural[0]! + natural[n - 1]!) / 2;
  let span = Math.min(options.maxSpanDeg, naturalSpan * options.spread);
  let scaleX = 1;
  if (naturalSpan > options.maxSpanDeg) {
    // Too long for the arc: squeeze each glyph horizontally, as seal engravers do.
    scaleX = options.maxSpanDeg / naturalSpan;
    span = options.maxSpanDeg;
  }
  const step = naturalSpan > 0 ? span / naturalSpan : 0;
  const out: PlacedChar[] = [];
  let offset = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0) offset += ((natural[i - 1]! + natural[i]!) / 2) * step;
    const along = -span / 2 + offset;
    const angle = options.upper ? along : 180 - along;
    const rad = (angle * Math.PI) / 180;
    out.push({
      char: text[i]!,
      x: cx + radius * Math.sin(rad),
      y: cy - radius * Math.cos(rad),
      rotate: options.upper ? angle : angle - 180,
      size,
      scaleX,
    });
  }
  return out;
}

/** A horizontal line of text centred at (cx, cy), squeezed horizontally when wider than `maxWidth`. */
export function placeInLine(options: {
  text: string[];
  cx: number;
  cy: number;
  size: number;
  maxWidth: number;
  spacing?: number;
  measure?: Measure;
}): PlacedChar[] {
  const { text, size } = options;
  const measure = options.measure ?? approximateAdvance;
  const widths = text.map((c) => measure(c) * size * (options.spacing ?? 1.02));
  const total = widths.reduce((a, b) => a + b, 0);
  const scaleX = total > options.maxWidth ? options.maxWidth / total : 1;
  let x = options.cx - (total * scaleX) / 2;
  return text.map((char, i) => {
    const w = widths[i]! * scaleX;
    const placed = { char, x: x + w / 2, y: options.cy, rotate: 0, size, scaleX };
    x += w;
    return placed;
  });
}

/** A five-pointed star centred at (cx, cy), one point up; `r` to the outer points. */
export function starPath(cx: number, cy: number, r: number): string {
  // Inner radius of a regular pentagram: r · sin 18° / sin 126°.
  const inner = (r * Math.sin(Math.PI / 10)) / Math.sin((7 * Math.PI) / 10);
  const points: string[] = [];
  for (let i = 0; i < 10; i++) {
    const radius = i % 2 === 0 ? r : inner;
    const angle = (i * Math.PI) / 5;
    points.push(`${round3(cx + radius * Math.sin(angle))} ${round3(cy - radius * Math.cos(angle))}`);
  }
  return `M ${points.join(' L ')} Z`;
}

/** Characters along the upper half of an ellipse, spaced by arc length, tops along the outward normal. */
export function placeOnEllipse(options: {
  text: string[];
  cx: number;
  cy: number;
  a: number;
  b: number;
  size: number;
  maxSpanDeg: number;
  spread: number;
  measure?: Measure;
}): PlacedChar[] {
  const { text, cx, cy, a, b, size } = options;
  const n = text.length;
  if (n === 0) return [];
  // Arc length from the top, sampled by the angle θ (clockwise from 12 o'clock) of x = a sin θ, y = −b cos θ.
  const samples = 720;
  const limit = (options.maxSpanDeg / 2) * (Math.PI / 180);
  const lengthAt: number[] = [0];
  for (let i = 1; i <= samples; i++) {
    const t0 = ((i - 1) / samples) * limit;
    const t1 = (i / samples) * limit;
    lengthAt.push(lengthAt[i - 1]! + Math.hypot(a * (Math.sin(t1) - Math.sin(t0)), b * (Math.cos(t1) - Math.cos(t0))));
  }
  const halfMax = lengthAt[samples]!;
  const thetaAt = (s: number) => {
    const target = Math.min(Math.abs(s), halfMax);
    let lo = 0;
    let hi = samples;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (lengthAt[mid]! < target) lo = mid;
      else hi = mid;
    }
    const f = (target - lengthAt[lo]!) / Math.max(lengthAt[hi]! - lengthAt[lo]!, 1e-9);
    return Math.sign(s) * ((lo + f) / samples) * limit;
  };
  const measure = options.measure ?? approximateAdvance;
  const widths = text.map((c) => (measure(c) + GAP) * size);
  const naturalSpan = widths.reduce((x, y) => x + y, 0) - (widths[0]! + widths[n - 1]!) / 2;
  let span = Math.min(2 * halfMax, naturalSpan * options.spread);
  let scaleX = 1;
  if (naturalSpan > 2 * halfMax) {
    scaleX = (2 * halfMax) / naturalSpan;
    span = 2 * halfMax;
  }
  const step = naturalSpan > 0 ? span / naturalSpan : 0;
  const out: PlacedChar[] = [];
  let s = -span / 2;
  for (let i = 0; i < n; i++) {
    if (i > 0) s += ((widths[i - 1]! + widths[i]!) / 2) * step;
    const theta = thetaAt(s);
    const x = a * Math.sin(theta);
    const y = -b * Math.cos(theta);
    // The outward normal is the gradient of x²/a² + y²/b²; rotate "up" onto it.
    const rotate = (Math.atan2(x / (a * a), -y / (b * b)) * 180) / Math.PI;
    out.push({ char: text[i]!, x: cx + x, y: cy + y, rotate, size, scaleX });
  }
  return out;
}

/**
 * A seal laid out: its size, ink, the drawn shapes (border, star) as SVG elements, and every
 * character with its place. `sealSvg` writes it out; how a character is drawn (as `<text>`
 * here, as an outline in render.ts) is the caller's choice.
 */
export interface SealLayout {
  widthMm: number;
  heightMm: number;
  color: string;
  title: string;
  shapes: string[];
  texts: Array<{ id: 'company' | 'type' | 'code' | 'name'; chars: PlacedChar[] }>;
}

function roundSeal(spec: SealImageSpec, d: number, color: string, measure: Measure): SealLayout {
  const k = d / 40;
  const c = d / 2;
  const border = 1.2 * k;
  const rim = c - border - 0.15 * k;
  const shapes = [
    `<circle id="border" cx="${round3(c)}" cy="${round3(c)}" r="${round3(c - border / 2 - 0.15 * k)}" fill="none" stroke="${color}" stroke-width="${round3(border)}"/>`,
  ];
  if (spec.star !== false) shapes.push(`<path id="star" d="${starPath(c, c, 7 * k)}"/>`);
  const code = chars(spec.code);
  const type = chars(spec.type);
  const nameSize = 5.6 * k;
  // The name may reach further down when nothing sits below the star to run into.
  const nameSpan = type.length ? 220 : code.length ? 232 : 250;
  return {
    widthMm: d,
    heightMm: d,
    color,
    title: [spec.company, spec.type].filter(Boolean).join(' '),
    shapes,
    texts: [
      {
        id: 'company',
        chars: placeOnArc({
          text: chars(spec.company),
          cx: c,
          cy: c,
          radius: rim - 0.75 * k - nameSize / 2,
          size: nameSize,
          maxSpanDeg: nameSpan,
          spread: 1.25,
          upper: true,
          measure,
        }),
      },
      {
        id: 'type',
        chars: placeInLine({ text: type, cx: c, cy: c + 9.6 * k, size: 4.4 * k, maxWidth: 21 * k, measure }),
      },
      {
        id: 'code',
        chars: placeOnArc({
          text: code,
          cx: c,
          cy: c,
          radius: rim - 0.55 * k - 1.15 * k,
          size: 2.3 * k,
          maxSpanDeg: 84,
          spread: 1.15,
          upper: false,
          measure,
        }),
      },
    ],
  };
}

function ovalSeal(spec: SealImageSpec, w: number, color: string, measure: Measure): SealLayout {
  const h = round3((w * 2) / 3);
  const k = h / 30;
  const border = 1.0 * k;
  const cx = w / 2;
  const cy = h / 2;
  const nameSize = 4.6 * k;
  const inset = border + 0.15 * k + 0.7 * k + nameSize / 2;
  return {
    widthMm: w,
    heightMm: h,
    color,
    title: [spec.company, spec.type].filter(Boolean).join(' '),
    shapes: [
      `<ellipse id="border" cx="${round3(cx)}" cy="${round3(cy)}" rx="${round3(cx - border / 2 - 0.15 * k)}" ry="${round3(cy - border / 2 - 0.15 * k)}" fill="none" stroke="${color}" stroke-width="${round3(border)}"/>`,
    ],
    texts: [
      {
        id: 'company',
        chars: placeOnEllipse({
          text: chars(spec.company),
          cx,
          cy,
          a: cx - inset,
          b: cy - inset,
          size: nameSize,
          maxSpanDeg: 200,
          spread: 1.15,
          measure,
        }),
      },
      {
        id: 'code',
        chars: placeInLine({
          text: chars(spec.code),
          cx,
          cy: cy + 2.4 * k,
          size: 3.0 * k,
          maxWidth: 0.62 * w,
          spacing: 1.05,
          measure,
        }),
      },
      {
        id: 'type',
        chars: placeInLine({
          text: chars(spec.type),
          cx,
          cy: cy + 8.3 * k,
          size: 4.2 * k,
          maxWidth: 0.46 * w,
          measure,
        }),
      },
    ],
  };
}

function squareSeal(spec: SealImageSpec, s: number, color: string): SealLayout {
  const k = s / 20;
  const border = 1.1 * k;
  const edge = border / 2 + 0.15 * k;
  const text = chars(spec.name);
  const inner = s - 2 * (border + 0.15 * k) - 1.4 * k;
  const origin = (s - inner) / 2;
  const placed: PlacedChar[] = [];
  if (text.length === 4) {
    // 2×2, read the traditional way: the right column top to bottom, then the left one (张三之印).
    const cell = inner / 2;
    const order: Array<[number, number]> = [
      [1, 0],
      [1, 1],
      [0, 0],
      [0, 1],
    ];
    text.forEach((char, i) => {
      const [col, row] = order[i]!;
      placed.push({
        char,
        x: origin + cell * (col + 0.5),
        y: origin + cell * (row + 0.5),
        rotate: 0,
        size: cell * 0.98,
        scaleX: 1,
      });
    });
  } else {
    // One row: each character keeps the full height and is squeezed to its share of the width.
    const cell = inner / Math.max(text.length, 1);
    const size = Math.min(inner * 0.96, cell * 2.2);
    text.forEach((char, i) =>
      placed.push({
        char,
        x: origin + cell * (i + 0.5),
        y: s / 2,
        rotate: 0,
        size,
        scaleX: Math.min(1, (cell * 0.98) / size),
      }),
    );
  }
  return {
    widthMm: s,
    heightMm: s,
    color,
    title: spec.name ?? '',
    shapes: [
      `<rect id="border" x="${round3(edge)}" y="${round3(edge)}" width="${round3(s - 2 * edge)}" height="${round3(s - 2 * edge)}" rx="${round3(0.6 * k)}" fill="none" stroke="${color}" stroke-width="${round3(border)}"/>`,
    ],
    texts: [{ id: 'name', chars: placed }],
  };
}

/** Where everything of the seal goes, in millimetres; `measure` gives advance widths (the font's, in render.ts). */
export function layoutSeal(spec: SealImageSpec, measure: Measure = approximateAdvance): SealLayout {
  const color = (spec.color ?? DEFAULT_SEAL_COLOR).toLowerCase();
  const size = spec.sizeMm ?? DEFAULT_SIZE_MM[spec.shape];
  switch (spec.shape) {
    case 'round':
      return roundSeal(spec, size, color, measure);
    case 'oval':
      return ovalSeal(spec, size, color, measure);
    case 'square':
      return squareSeal(spec, size, color);
  }
}

/** The transform that puts a character's centre at its place, turned and squeezed. */
export function charTransform(c: PlacedChar): string {
  return [
    `translate(${round3(c.x)} ${round3(c.y)})`,
    c.rotate ? `rotate(${round3(c.rotate)})` : '',
    c.scaleX !== 1 ? `scale(${round3(c.scaleX)} 1)` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** A character as SVG text in the seal font, its visual centre on its place. */
export function charAsText(c: PlacedChar): string {
  return `<text transform="${charTransform(c)}" y="${round3(c.size * CENTRE_TO_BASELINE)}" font-size="${round3(c.size)}">${escapeXml(c.char)}</text>`;
}

/** Writes a layout out as an SVG document sized in millimetres, one colour on a transparent background. */
export function sealSvg(layout: SealLayout, drawChar: (c: PlacedChar) => string = charAsText): string {
  const { widthMm: w, heightMm: h, color } = layout;
  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}mm" height="${h}mm" viewBox="0 0 ${w} ${h}">`,
    `<title>${escapeXml(layout.title)}</title>`,
    `<g fill="${color}" stroke="none" font-family="${SEAL_FONT.family}" font-weight="${SEAL_FONT.weight}" text-anchor="middle">`,
    ...layout.shapes,
  ];
  for (const text of layout.texts)
    if (text.chars.length) lines.push(`<g id="${text.id}">`, ...text.chars.map(drawChar), '</g>');
  lines.push('</g>', '</svg>');
  return lines.join('\n');
}

/**
 * The SVG of a seal impression with its characters as `<text>` in the seal font: pure, for
 * anything that has the font. `renderSealSvg` (render.ts) gives the same with outlines.
 */
export function buildSealSvg(
  spec: SealImageSpec,
  measure: Measure = approximateAdvance,
): { svg: string; widthMm: number; heightMm: number } {
  const layout = layoutSeal(spec, measure);
  return { svg: sealSvg(layout), widthMm: layout.widthMm, heightMm: layout.heightMm };
}
