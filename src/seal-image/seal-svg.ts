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

// ——— Fitting a name along an arc ———
//
// Each character is a box as wide as its advance (times its horizontal squeeze) and one em
// high, centred on its place and turned with it. Along a curve the boxes fan out, so two
// neighbours come closest at their inner corners: the spacing of the centres says little, the
// distance between the boxes everything. A name is laid out the old way (spacing in proportion
// to the advances, spread, capped) whenever that keeps every pair of neighbours apart; a name
// too long for that gets, in this order, what seal engravers do: a wider arc (up to the
// shape's maximum), narrower characters (字体压扁, down to ARC_LIMITS.minScaleX), then slightly
// smaller ones (down to ARC_LIMITS.minSizeRatio), with the same air between every pair.

/** The least air between two neighbouring characters' boxes along an arc, in em. */
const MIN_GAP = 0.06;
/** How far characters along an arc are narrowed before they are made smaller, and how much smaller at most. */
export const ARC_LIMITS = { minScaleX: 0.5, minSizeRatio: 0.7 } as const;
/** Narrowest squeeze ever used, for names beyond TEXT_LIMITS that reach the layout directly. */
const LAST_RESORT_SCALE_X = 0.05;
/** Millimetres (or fractions of a squeeze) to which the searches below settle. */
const TOLERANCE = 1e-7;

type Point = readonly [number, number];

/** A character's place: centre and rotation (degrees clockwise), as in PlacedChar. */
interface Pose {
  x: number;
  y: number;
  rotate: number;
}

/**
 * A line characters are set along (the centre line of the name's band), by arc length `s` in
 * millimetres from its middle, negative before it; `half` is how far from the middle a
 * character's centre may go. On a `circle` every step between two widths is the same anywhere.
 */
interface Track {
  at(s: number): Pose;
  half: number;
  circle: boolean;
}

/** The corners of a character's box, `width` × `height` centred on its place and turned with it (SVG rotate: clockwise, y down). */
function boxCorners(pose: Pose, width: number, height: number): Point[] {
  const rad = (pose.rotate * Math.PI) / 180;
  const ux = (Math.cos(rad) * width) / 2;
  const uy = (Math.sin(rad) * width) / 2;
  const vx = (-Math.sin(rad) * height) / 2;
  const vy = (Math.cos(rad) * height) / 2;
  const { x, y } = pose;
  return [
    [x - ux - vx, y - uy - vy],
    [x + ux - vx, y + uy - vy],
    [x + ux + vx, y + uy + vy],
    [x - ux + vx, y - uy + vy],
  ];
}

/**
 * How far apart two boxes are along the edge normal that separates them most, in millimetres:
 * positive when some edge separates them (a lower bound of their distance), otherwise zero or
 * minus the least overlap (separating axis theorem; a box's four edges give two axes).
 */
function separation(a: readonly Point[], b: readonly Point[]): number {
  let best = -Infinity;
  for (const box of [a, b]) {
    for (let i = 0; i < 2; i++) {
      const p = box[i]!;
      const q = box[i + 1]!;
      const length = Math.sqrt((q[0] - p[0]) ** 2 + (q[1] - p[1]) ** 2);
      if (length === 0) continue;
      const nx = (q[1] - p[1]) / length;
      const ny = (p[0] - q[0]) / length;
      let minA = Infinity;
      let maxA = -Infinity;
      let minB = Infinity;
      let maxB = -Infinity;
      for (let j = 0; j < 4; j++) {
        const da = a[j]![0] * nx + a[j]![1] * ny;
        const db = b[j]![0] * nx + b[j]![1] * ny;
        if (da < minA) minA = da;
        if (da > maxA) maxA = da;
        if (db < minB) minB = db;
        if (db > maxB) maxB = db;
      }
      best = Math.max(best, minB - maxA, minA - maxB);
    }
  }
  return best;
}

/** The squared distance from p to the segment a–b. */
function pointToSegment2(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const length2 = dx * dx + dy * dy;
  const t = length2 > 0 ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2)) : 0;
  const ex = p[0] - a[0] - t * dx;
  const ey = p[1] - a[1] - t * dy;
  return ex * ex + ey * ey;
}

/**
 * The shortest distance between two boxes (as from boxCorners) when they are apart; when they
 * overlap, minus how far they overlap along the best separating axis. Continuous, and zero as
 * they touch, so a search can home in on a wanted gap from either side.
 */
function boxGap(a: readonly Point[], b: readonly Point[]): number {
  const apart = separation(a, b);
  if (apart <= 0) return apart;
  // Apart, the closest points of two convex polygons include a corner of one of them.
  let best = Infinity;
  for (let i = 0; i < 4; i++) {
    const a1 = a[i]!;
    const a2 = a[(i + 1) % 4]!;
    const b1 = b[i]!;
    const b2 = b[(i + 1) % 4]!;
    for (let j = 0; j < 4; j++) best = Math.min(best, pointToSegment2(b[j]!, a1, a2), pointToSegment2(a[j]!, b1, b2));
  }
  return Math.sqrt(best);
}

/**
 * Where `f` changes sign between a and b (one of f(a), f(b) is ≥ 0, the other not), to within
 * TOLERANCE: the end of the last bracket where f ≥ 0. Regula falsi in its Illinois form,
 * halving where it would stall; a non-finite value (no arrangement at all) counts as negative.
 */
function boundary(f: (x: number) => number, a: number, b: number, known?: { fa: number; fb: number }): number {
  const value = (x: number) => {
    const y = f(x);
    return Number.isFinite(y) ? y : -Infinity;
  };
  let fa = known?.fa ?? value(a);
  let fb = known?.fb ?? value(b);
  let kept = 0;
  for (let k = 0; k < 200 && Math.abs(b - a) > TOLERANCE; k++) {
    let c = Number.isFinite(fa) && Number.isFinite(fb) ? b - (fb * (b - a)) / (fb - fa) : (a + b) / 2;
    if (!(c > Math.min(a, b) && c < Math.max(a, b))) c = (a + b) / 2;
    const fc = value(c);
    if (fc >= 0 === fb >= 0) {
      b = c;
      fb = fc;
      if (kept === -1) fa /= 2;
      kept = -1;
    } else {
      a = c;
      fa = fc;
      if (kept === 1) fb /= 2;
      kept = 1;
    }
  }
  return fa >= 0 ? a : b;
}

/**
 * Centres along the track, the first at `start`, each next one as near to the one before as
 * `gap` millimetres of air between their boxes allow; undefined when one cannot be placed.
 */
function arrange(track: Track, widths: number[], height: number, gap: number, start: number): number[] | undefined {
  const out = [start];
  const steps = new Map<string, number>();
  for (let i = 1; i < widths.length; i++) {
    const from = out[i - 1]!;
    const key = `${widths[i - 1]}:${widths[i]}`;
    let step = track.circle ? steps.get(key) : undefined;
    if (step === undefined) {
      const previous = boxCorners(track.at(from), widths[i - 1]!, height);
      const air = (d: number) => boxGap(previous, boxCorners(track.at(from + d), widths[i]!, height)) - gap;
      // Neighbours along a smooth curve need about the step before; else what a straight line needs.
      const guess = i > 1 ? out[i - 1]! - out[i - 2]! : (widths[i - 1]! + widths[i]!) / 2 + gap;
      let near = guess * 0.98;
      let nearAir = air(near);
      if (nearAir >= 0) [near, nearAir] = [0, air(0)];
      let far = guess * 1.02;
      let farAir = air(far);
      for (let grown = 0; farAir < 0; grown++) {
        if (grown === 12) return undefined;
        far *= 1.5;
        farAir = air(far);
      }
      step = boundary(air, near, far, { fa: nearAir, fb: farAir });
      steps.set(key, step);
    }
    out.push(from + step);
  }
  return out;
}

/** Whether every pair of neighbouring characters keeps at least MIN_GAP em of air between their boxes. */
function neighboursApart(placed: PlacedChar[], measure: Measure): boolean {
  const box = (c: PlacedChar) => boxCorners(c, measure(c.char) * c.size * c.scaleX, c.size);
  for (let i = 1; i < placed.length; i++) {
    const a = placed[i - 1]!;
    const b = placed[i]!;
    if (boxGap(box(a), box(b)) < MIN_GAP * Math.min(a.size, b.size) * (1 - 1e-9)) return false;
  }
  return true;
}

/**
 * Sets a text along the track `trackFor(size)` with the same air between every pair of
 * neighbours: over `preferredSpan` millimetres of arc (or the least span that keeps MIN_GAP,
 * if more) when it fits at full width, else over the whole track, narrowed and then made
 * smaller as far as needed (see ARC_LIMITS).
 */
function fitAlong(options: {
  text: string[];
  size: number;
  preferredSpan: number;
  trackFor: (size: number) => Track;
  measure: Measure;
}): PlacedChar[] {
  const { text, measure, trackFor } = options;
  const advances = text.map((c) => measure(c));
  const attempt = (span: number, scaleX: number, size: number, gap = MIN_GAP * size) =>
    arrange(
      trackFor(size),
      advances.map((a) => a * size * scaleX),
      size,
      gap,
      -span / 2,
    );
  /** How much of the span is left over after the last centre: ≥ 0 when the text fits. */
  const room = (span: number, scaleX: number, size: number, gap?: number) =>
    span / 2 - (attempt(span, scaleX, size, gap)?.at(-1) ?? Infinity);
  const whole = (size: number) => 2 * trackFor(size).half;

  let size = options.size;
  let scaleX = 1;
  let gap = MIN_GAP * size;
  let span = whole(size);
  if (text.length === 1) span = 0;
  else if (room(span, 1, size) >= 0) {
    // Room at full width: the spread span, or as much more as the air between characters needs.
    const full = span;
    const preferred = Math.min(full, options.preferredSpan);
    span = room(preferred, 1, size) >= 0 ? preferred : boundary((s) => room(s, 1, size), preferred, full);
    const least = gap;
    gap = boundary((g) => room(span, 1, size, g), least, span);
  } else {
    const { minScaleX, minSizeRatio } = ARC_LIMITS;
    const least = options.size * minSizeRatio;
    if (room(span, minScaleX, size) >= 0) scaleX = boundary((x) => room(span, x, size), minScaleX, 1);
    else if (room(whole(least), minScaleX, least) >= 0) {
      scaleX = minScaleX;
      size = boundary((z) => room(whole(z), minScaleX, z), least, size);
    } else {
      size = least;
      scaleX = boundary((x) => room(whole(least), x, least), LAST_RESORT_SCALE_X, minScaleX);
    }
    gap = MIN_GAP * size;
    span = whole(size);
  }
  const track = trackFor(size);
  let at = attempt(span, scaleX, size, gap);
  if (at && at.length > 1) {
    // Stretched by far less than a micrometre so that the name sits exactly in the middle of its span.
    const first = at[0]!;
    const stretch = span / (at.at(-1)! - first);
    at = at.map((s) => -span / 2 + (s - first) * stretch);
  }
  // Only a text far beyond TEXT_LIMITS gets here without places: it is spread evenly, overlapping.
  at ??= text.map((_, i) => (text.length > 1 ? -span / 2 + (span * i) / (text.length - 1) : 0));
  return at.map((s, i) => ({ char: text[i]!, ...track.at(s), size, scaleX }));
}

/**
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
  if (neighboursApart(out, measure)) return out;
  const toMm = (deg: number, r: number) => (deg * Math.PI * r) / 180;
  return fitAlong({
    text,
    size,
    preferredSpan: toMm(naturalSpan * options.spread, radius),
    measure,
    trackFor: (smaller) => {
      // A smaller character keeps its outer edge where it was, next to the border.
      const r = radius + (size - smaller) / 2;
      return {
        circle: true,
        half: toMm(options.maxSpanDeg / 2, r),
        at: (s) => {
          const along = (s / r) * (180 / Math.PI);
          const angle = options.upper ? along : 180 - along;
          const rad = (angle * Math.PI) / 180;
          return {
            x: cx + r * Math.sin(rad),
            y: cy - r * Math.cos(rad),
            rotate: options.upper ? angle : angle - 180,
          };
        },
      };
    },
  });
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
  if (neighboursApart(out, measure)) return out;
  // The fitting asks for the same few sizes again and again; an ellipse's arc-length table is worth keeping.
  const tracks = new Map<number, Track>();
  return fitAlong({
    text,
    size,
    preferredSpan: naturalSpan * options.spread,
    measure,
    trackFor: (smaller) => {
      let track = tracks.get(smaller);
      if (!track) {
        // A smaller character keeps its outer edge where it was, next to the border.
        const grow = (size - smaller) / 2;
        track = ellipseTrack({ cx, cy, a: a + grow, b: b + grow, maxSpanDeg: options.maxSpanDeg });
        tracks.set(smaller, track);
      }
      return track;
    },
  });
}

/** The upper half of an ellipse as a track: centres by arc length from the top, each turned to the outward normal. */
function ellipseTrack(options: { cx: number; cy: number; a: number; b: number; maxSpanDeg: number }): Track {
  const { cx, cy, a, b } = options;
  // Arc length from the top, sampled by the angle θ (clockwise from 12 o'clock) of x = a sin θ, y = −b cos θ, over a whole side.
  const samples = 1440;
  const lengthAt: number[] = [0];
  for (let i = 1; i <= samples; i++) {
    const t0 = ((i - 1) / samples) * Math.PI;
    const t1 = (i / samples) * Math.PI;
    lengthAt.push(lengthAt[i - 1]! + Math.hypot(a * (Math.sin(t1) - Math.sin(t0)), b * (Math.cos(t1) - Math.cos(t0))));
  }
  const thetaAt = (s: number) => {
    const target = Math.min(Math.abs(s), lengthAt[samples]!);
    let lo = 0;
    let hi = samples;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (lengthAt[mid]! < target) lo = mid;
      else hi = mid;
    }
    const f = (target - lengthAt[lo]!) / Math.max(lengthAt[hi]! - lengthAt[lo]!, 1e-12);
    return Math.sign(s) * ((lo + f) / samples) * Math.PI;
  };
  const limit = (options.maxSpanDeg / 360) * samples;
  const below = Math.floor(limit);
  const half = lengthAt[below]! + (limit - below) * ((lengthAt[Math.min(below + 1, samples)] ?? 0) - lengthAt[below]!);
  return {
    circle: false,
    half,
    at: (s) => {
      const theta = thetaAt(s);
      const x = a * Math.sin(theta);
      const y = -b * Math.cos(theta);
      return { x: cx + x, y: cy + y, rotate: (Math.atan2(x / (a * a), -y / (b * b)) * 180) / Math.PI };
    },
  };
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
  // The name may reach further down when nothing sits below the star to run into: a long name
  // then takes up to 280°, as on court seals, leaving the bottom open.
  const nameSpan = type.length ? 220 : code.length ? 240 : 280;
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
