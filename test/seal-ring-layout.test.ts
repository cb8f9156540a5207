// Long company names along the ring of a round or oval seal, and names in a square seal: no two
// neighbouring characters may touch. Measured on what is drawn — the outlines in the SVG that
// render.ts writes — twice over: by the outlines' own bounding boxes, transformed here with this
// file's own matrix arithmetic, and by rasterising the characters with resvg, the odd ones apart
// from the even ones, and looking for pixels both ink.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSealPng, renderSealSvg } from '../src/seal-image/render.js';
import { resvg } from '../src/seal-image/resvg.js';
import { ARC_LIMITS, TEXT_LIMITS, layoutSeal, textWidth, type SealImageSpec } from '../src/seal-image/seal-svg.js';
import { checkSealImageSpec } from '../src/seal-image/spec.js';

type Point = [number, number];
type Matrix = [number, number, number, number, number, number];

/**
 * A character as drawn: its outline's bounding box carried onto the page (a quadrilateral, mm);
 * `column`, the same as wide as the ink and as high as the em, for comparing the air beside
 * characters of different heights (一 and 疆); `em`; and its path element.
 */
interface DrawnChar {
  corners: Point[];
  column: Point[];
  /** An ideograph's em box (it advances by one em). */
  em: Point[];
  element: string;
}

const multiply = (m: Matrix, n: Matrix): Matrix => [
  m[0] * n[0] + m[2] * n[1],
  m[1] * n[0] + m[3] * n[1],
  m[0] * n[2] + m[2] * n[3],
  m[1] * n[2] + m[3] * n[3],
  m[0] * n[4] + m[2] * n[5] + m[4],
  m[1] * n[4] + m[3] * n[5] + m[5],
];

/** An SVG transform list of translate, rotate and scale, as one matrix. */
function parseTransform(text: string): Matrix {
  let m: Matrix = [1, 0, 0, 1, 0, 0];
  for (const [, op, args] of text.matchAll(/(\w+)\(([^)]*)\)/g)) {
    const v = args!
      .trim()
      .split(/[\s,]+/)
      .map(Number);
    if (op === 'translate') m = multiply(m, [1, 0, 0, 1, v[0]!, v[1] ?? 0]);
    else if (op === 'scale') m = multiply(m, [v[0]!, 0, 0, v[1] ?? v[0]!, 0, 0]);
    else if (op === 'rotate') {
      const r = (v[0]! * Math.PI) / 180;
      m = multiply(m, [Math.cos(r), Math.sin(r), -Math.sin(r), Math.cos(r), 0, 0]);
    } else throw new Error(`unexpected transform ${op}`);
  }
  return m;
}

/** The characters of one text of a rendered seal SVG, in reading order. */
function drawnChars(svg: string, id: string): DrawnChar[] {
  const group = svg.match(new RegExp(`<g id="${id}">([\\s\\S]*?)</g>`));
  if (!group) return [];
  return [...group[1]!.matchAll(/<path transform="([^"]+)" d="([^"]+)"\/>/g)].map(([element, transform, d]) => {
    // resvg writes outlines with absolute M, L, C, Q and Z only: every number pair is a point.
    expect(d).toMatch(/^[MLCQZ\d\s.-]+$/);
    const numbers = d!.match(/-?\d+(\.\d+)?/g)!.map(Number);
    const xs = numbers.filter((_, i) => i % 2 === 0);
    const ys = numbers.filter((_, i) => i % 2 === 1);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const m = parseTransform(transform!);
    const onPage = (left: number, right: number, top: number, bottom: number) =>
      (
        [
          [left, top],
          [right, top],
          [right, bottom],
          [left, bottom],
        ] as Point[]
      ).map(([x, y]): Point => [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]]);
    // Outline units are hundredths of an em, the baseline at 0 and the em box from −88 to 12.
    return {
      corners: onPage(x0, x1, y0, y1),
      column: onPage(x0, x1, -88, 12),
      em: onPage(-50, 50, -88, 12),
      element: element!,
    };
  });
}

function segmentDistance(p: Point, a: Point, b: Point): number {
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

function inside(p: Point, poly: Point[]): boolean {
  let sign = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i]!;
    const b = poly[(i + 1) % poly.length]!;
    const cross = Math.sign((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]));
    if (cross !== 0 && sign !== 0 && cross !== sign) return false;
    if (cross !== 0) sign = cross;
  }
  return true;
}

function edgesCross(a1: Point, a2: Point, b1: Point, b2: Point): boolean {
  const side = (p: Point, q: Point, r: Point) =>
    Math.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
  return side(a1, a2, b1) * side(a1, a2, b2) < 0 && side(b1, b2, a1) * side(b1, b2, a2) < 0;
}

/** Distance between two convex quadrilaterals in mm; negative when they overlap. */
function quadGap(a: Point[], b: Point[]): number {
  const edges = (q: Point[]) => q.map((p, i): [Point, Point] => [p, q[(i + 1) % q.length]!]);
  const overlap =
    a.some((p) => inside(p, b)) ||
    b.some((p) => inside(p, a)) ||
    edges(a).some(([p, q]) => edges(b).some(([r, s]) => edgesCross(p, q, r, s)));
  if (overlap) return -1;
  return Math.min(
    ...a.flatMap((p) => edges(b).map(([r, s]) => segmentDistance(p, r, s))),
    ...b.flatMap((p) => edges(a).map(([r, s]) => segmentDistance(p, r, s))),
  );
}

/** The alpha channel of an SVG made of the given path elements, rasterised by resvg at `pxPerMm`. */
function inkMask(elements: string[], widthMm: number, heightMm: number, pxPerMm: number) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${widthMm}mm" height="${heightMm}mm" viewBox="0 0 ${widthMm} ${heightMm}"><g fill="#000">${elements.join('')}</g></svg>`;
  const image = new (resvg().Resvg)(svg, {
    fitTo: { mode: 'width', value: Math.round(widthMm * pxPerMm) },
    font: { loadSystemFonts: false },
    logLevel: 'off',
  }).render();
  // `pixels` is a getter that copies the whole bitmap: read it once.
  const pixels = image.pixels;
  const mask = new Uint8Array(image.width * image.height);
  for (let i = 0; i < mask.length; i++) mask[i] = pixels[i * 4 + 3]! > 0 ? 1 : 0;
  return { mask, width: image.width, height: image.height };
}

/** The mask grown by `radius` pixels in every direction (a square brush). */
function dilate(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const across = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (mask[y * width + x])
        for (let d = Math.max(0, x - radius); d <= Math.min(width - 1, x + radius); d++) across[y * width + d] = 1;
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (across[y * width + x])
        for (let d = Math.max(0, y - radius); d <= Math.min(height - 1, y + radius); d++) out[d * width + x] = 1;
  return out;
}

const PX_PER_MM = 12;

/** Pixels inked by both groups of characters once the first is grown by `radius` px: 0 means at least that much air between them. */
function sharedInk(first: string[], second: string[], widthMm: number, heightMm: number, radius = 1): number {
  const a = inkMask(first, widthMm, heightMm, PX_PER_MM);
  const b = inkMask(second, widthMm, heightMm, PX_PER_MM);
  const grown = dilate(a.mask, a.width, a.height, radius);
  let shared = 0;
  for (let i = 0; i < grown.length; i++) shared += grown[i]! & b.mask[i]!;
  return shared;
}

/** Gaps between the outline boxes of neighbouring characters, in mm, and pixels inked by neighbours (the even characters against the odd ones). */
function measureNeighbours(spec: SealImageSpec) {
  const { svg, widthMm, heightMm } = renderSealSvg(spec);
  const chars = drawnChars(svg, spec.shape === 'square' ? 'name' : 'company');
  const gaps = chars.slice(1).map((c, i) => quadGap(chars[i]!.corners, c.corners));
  const columnGaps = chars.slice(1).map((c, i) => quadGap(chars[i]!.column, c.column));
  const emGaps = chars.slice(1).map((c, i) => quadGap(chars[i]!.em, c.em));
  const even = chars.filter((_, i) => i % 2 === 0).map((c) => c.element);
  const odd = chars.filter((_, i) => i % 2 === 1).map((c) => c.element);
  return { chars, gaps, columnGaps, emGaps, touching: sharedInk(even, odd, widthMm, heightMm), svg, widthMm, heightMm };
}

// Real names, cut to every length: plain, with a far-flung court's name, and the densest characters.
const POOLS = {
  company: '北京华夏国际贸易发展控股集团股份有限公司上海分公司',
  court: '新疆维吾尔自治区乌鲁木齐市中级人民法院第一执行局',
  dense: '鑫赣疆镶馨藏麟豫霸黔滇鄂鹏翼骥赢馥蘑囊馕懿鬻爨攮',
} as const;
const MIXED = [
  '3M中国有限公司',
  'IBM（中国）有限公司',
  '北京1号店网络科技有限公司',
  'ABB（中国）投资有限公司上海第2分公司',
  'SIGIL数字签章技术（深圳）股份有限公司2024',
  'ABCDEFGHJKLMNPQRSTUV科技有限公司',
];
const LENGTHS = Array.from({ length: 21 }, (_, i) => i + 4);
const name = (pool: keyof typeof POOLS, n: number) => [...POOLS[pool]].slice(0, n).join('');

const SHAPES: Array<{ label: string; spec: Omit<SealImageSpec, 'company'> }> = [
  { label: 'round contract seal', spec: { shape: 'round', type: '合同专用章', code: '1101080012345' } },
  { label: 'round seal with a code only', spec: { shape: 'round', code: '1101080012345' } },
  { label: 'round seal with nothing below the star', spec: { shape: 'round' } },
  { label: 'oval invoice seal', spec: { shape: 'oval', type: '发票专用章', code: '91310000MA1K12345X' } },
];

/** Degrees clockwise from 12 o'clock of a place around the centre of a seal. */
const bearing = (x: number, y: number, cx: number, cy: number) => (Math.atan2(x - cx, cy - y) * 180) / Math.PI;

describe('names along the ring', () => {
  it('keeps every pool within TEXT_LIMITS and the font', () => {
    for (const pool of Object.keys(POOLS) as Array<keyof typeof POOLS>)
      expect(checkSealImageSpec({ shape: 'round', company: name(pool, 24) }).company).toHaveLength(24);
    for (const company of MIXED) {
      expect(textWidth(company)).toBeLessThanOrEqual(TEXT_LIMITS.company);
      expect(checkSealImageSpec({ shape: 'oval', company }).company).toBe(company);
    }
  });

  for (const { label, spec } of SHAPES) {
    it(`sets names of 4 to 24 characters apart on a ${label}, the same air between every pair`, () => {
      const companies = [
        ...LENGTHS.map((n) => name('company', n)),
        ...LENGTHS.map((n) => name(spec.shape === 'round' && !spec.type ? 'court' : 'dense', n)),
        ...MIXED,
      ];
      for (const company of companies) {
        const seal = { ...spec, company };
        const measured = measureNeighbours(seal);
        const { chars, gaps, touching } = measured;
        expect(chars).toHaveLength([...company].length);
        // Outline boxes apart by at least 0.1 mm, and no pixel inked by two neighbours even
        // after one of them is grown by a pixel (1/12 mm).
        expect(Math.min(...gaps), company).toBeGreaterThan(0.1);
        expect(touching, company).toBe(0);
        // The same air between every pair of ideographs: exactly, between their em boxes, once
        // a name is fitted (the spacing of the old layout, kept for short names, varies a
        // little with an ellipse's curve); and between columns as wide as each character's
        // ink and as high as the em, within what the shapes of the characters allow (自 is
        // narrower than 国). A Latin letter's ink is much narrower than its advance: not compared.
        if (/^\p{Script=Han}+$/u.test(company)) {
          const em = measured.emGaps;
          expect(Math.max(...em) / Math.min(...em), company).toBeLessThan(chars.length > 8 ? 1.02 : 1.5);
          const beside = measured.columnGaps;
          expect(Math.max(...beside) / Math.min(...beside), company).toBeLessThan(2.5);
        }
      }
    });
  }

  it('widens the arc with the name, then narrows the characters, then makes them a little smaller', () => {
    for (const spec of SHAPES.filter((s) => s.spec.shape === 'round').map((s) => s.spec)) {
      const fitted = LENGTHS.map((n) => {
        const chars = layoutSeal({ ...spec, company: name('company', n) }).texts[0]!.chars;
        const span = bearing(chars.at(-1)!.x, chars.at(-1)!.y, 20, 20) - bearing(chars[0]!.x, chars[0]!.y, 20, 20);
        return { n, span, scaleX: chars[0]!.scaleX, size: chars[0]!.size };
      });
      for (let i = 1; i < fitted.length; i++) {
        const [before, now] = [fitted[i - 1]!, fitted[i]!];
        expect(now.span).toBeGreaterThanOrEqual(before.span - 1e-6);
        expect(now.scaleX).toBeLessThanOrEqual(before.scaleX + 1e-9);
        expect(now.size).toBeLessThanOrEqual(before.size + 1e-9);
        // Smaller only once as narrow as allowed.
        if (now.size < 5.6) expect(now.scaleX).toBe(ARC_LIMITS.minScaleX);
      }
      // A four-character name keeps the full size and width over a short arc at the top, as before.
      expect(fitted[0]).toMatchObject({ scaleX: 1, size: 5.6 });
      expect(fitted[0]!.span).toBeGreaterThan(60);
      expect(fitted[0]!.span).toBeLessThan(100);
      // The longest name takes the whole arc the shape allows: 220° above a type, 240° above a code, 280° alone.
      const longest = fitted.at(-1)!;
      expect(longest.span).toBeCloseTo(spec.type ? 220 : spec.code ? 240 : 280, 6);
      expect(longest.scaleX).toBe(ARC_LIMITS.minScaleX);
      expect(longest.size).toBeGreaterThanOrEqual(5.6 * ARC_LIMITS.minSizeRatio);
      // Every length up to eight characters (the common ones) is drawn at full size and width, between 60° and 220°.
      for (const short of fitted.filter((f) => f.n <= 8)) {
        expect(short).toMatchObject({ scaleX: 1, size: 5.6 });
        expect(short.span).toBeLessThanOrEqual(220);
      }
    }
  });

  it('keeps the name clear of the type, the code and the border', () => {
    for (const { spec } of SHAPES) {
      for (const n of [4, 9, 14, 19, 24]) {
        const { svg, widthMm, heightMm } = renderSealSvg({ ...spec, company: name('dense', n) });
        const company = drawnChars(svg, 'company').map((c) => c.element);
        const below = [...drawnChars(svg, 'type'), ...drawnChars(svg, 'code')].map((c) => c.element);
        expect(sharedInk(company, below, widthMm, heightMm, 2), `${spec.shape} ${n}`).toBe(0);
        const border = svg.match(/<(circle|ellipse) id="border"[^>]*\/>/)![0];
        expect(sharedInk(company, [border], widthMm, heightMm, 2), `${spec.shape} ${n}`).toBe(0);
      }
    }
  });

  it('sets a name in a square seal apart, in a row or 2×2', () => {
    for (const personal of ['王', '欧阳', '欧阳娜', '张三之印', '司马相如印', '鑫赣疆', '鬻爨攮馕', 'Li 娜']) {
      const { svg, widthMm, heightMm } = renderSealSvg({ shape: 'square', name: personal });
      const chars = drawnChars(svg, 'name');
      // In a 2×2 every character borders every other, so each is checked against all the rest.
      for (let i = 0; i < chars.length; i++) {
        const rest = chars.filter((_, j) => j !== i);
        expect(
          sharedInk(
            [chars[i]!.element],
            rest.map((c) => c.element),
            widthMm,
            heightMm,
          ),
          personal,
        ).toBe(0);
        for (const other of rest) expect(quadGap(chars[i]!.corners, other.corners), personal).toBeGreaterThan(0.1);
      }
    }
  });

  it('is deterministic: the same seal gives the same bytes, whatever was drawn before', async () => {
    const spec: SealImageSpec = { shape: 'round', company: name('company', 18), type: '合同专用章' };
    const first = await renderSealPng(spec);
    await renderSealPng({ shape: 'oval', company: name('dense', 23) });
    const second = await renderSealPng(spec);
    expect(second.png.equals(first.png)).toBe(true);
    expect(renderSealSvg(spec).svg).toBe(renderSealSvg(spec).svg);
  });

  it('lays out names past TEXT_LIMITS, one character, or none without failing', () => {
    // What the API refuses can still reach layoutSeal directly: it must finish and give finite places.
    for (const company of ['', '国', '国'.repeat(25), '国'.repeat(60), 'W'.repeat(200)]) {
      for (const shape of ['round', 'oval'] as const) {
        const chars = layoutSeal({ shape, company }).texts[0]!.chars;
        expect(chars).toHaveLength([...company].length);
        for (const c of chars)
          expect([c.x, c.y, c.rotate, c.size, c.scaleX].every(Number.isFinite), `${shape} ${company.length}`).toBe(
            true,
          );
      }
    }
    const one = layoutSeal({ shape: 'round', company: '国' }).texts[0]!.chars[0]!;
    expect([one.x, one.rotate, one.scaleX]).toEqual([20, 0, 1]);
  });

  it('saves seals of 4, 12, 18 and 24 characters under test-output/ to look at', async () => {
    const dir = join('test-output', 'seal-ring');
    mkdirSync(dir, { recursive: true });
    const seals: Array<[string, SealImageSpec]> = [
      ['court-13', { shape: 'round', company: '中华人民共和国最高人民法院', type: '' }],
      ...[4, 12, 18, 24].flatMap((n): Array<[string, SealImageSpec]> => [
        [`contract-${n}`, { shape: 'round', company: name('company', n), type: '合同专用章', code: '1101080012345' }],
        [`court-${n}`, { shape: 'round', company: name('court', n) }],
        [`oval-${n}`, { shape: 'oval', company: name('company', n), type: '发票专用章', code: '91310000MA1K12345X' }],
      ]),
      ['mixed-round', { shape: 'round', company: MIXED[4], type: '财务专用章' }],
      ['mixed-oval', { shape: 'oval', company: MIXED[3], type: '发票专用章' }],
    ];
    for (const [file, spec] of seals) {
      const { png, width, widthMm } = await renderSealPng(spec, 12);
      expect(width).toBe(widthMm * 12);
      writeFileSync(join(dir, `${file}.png`), png);
    }
  });
});
