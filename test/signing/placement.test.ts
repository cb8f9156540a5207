// Where seals land on the page as the reader sees it: upright on pages with /Rotate 90, 180 and
// 270 (rotated by qpdf), cross-page strips on the shown right edge, and cross-page seals over
// hundreds of pages split into groups rather than cut into slivers. Checked on pages rendered
// by poppler (pdftoppm) and MuPDF (mutool draw), by the positions of the seal's colours.
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_STRIP_WIDTH, crossPageGroups, signPdf } from '../../src/signing/pades.js';
import { verifyPdf } from '../../src/signing/verify.js';
import { buildPdf } from './pdf-fixtures.js';
import { nssDatabase, pdfsig, requireTool, run, sealPng, tempDir, testPki, type TestPki } from './support.js';

let pki: TestPki;
let tmp: ReturnType<typeof tempDir>;
let nss: string;

beforeAll(async () => {
  for (const tool of ['pdfsig', 'qpdf', 'pdftoppm', 'mutool', 'certutil']) requireTool(tool);
  pki = await testPki();
  tmp = tempDir('sigil-placement-');
  nss = nssDatabase(tmp.dir, pki.root);
});
afterAll(() => tmp?.remove());

const SEAL = (42 / 25.4) * 72;
const THREE_MM = (3 / 25.4) * 72;

/** An image whose top 40 % is red and bottom 20 % blue (the middle transparent): upright when red is above blue. */
function uprightMarker(size = 120): Buffer {
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    const colour = y < size * 0.4 ? [220, 20, 30, 255] : y >= size * 0.8 ? [20, 40, 220, 255] : [0, 0, 0, 0];
    for (let x = 0; x < size; x++) png.data.set(colour, (y * size + x) * 4);
  }
  return PNG.sync.write(png);
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Centre, in pixels from the top-left of the rendered page. */
  cx: number;
  cy: number;
}

interface Rendered {
  width: number;
  height: number;
  red: Box | null;
  blue: Box | null;
}

/** Page `page` rendered at 36 dpi by `tool`; where its red and blue pixels are. */
function render(file: string, page: number, tool: 'pdftoppm' | 'mutool'): Rendered {
  const out = tmp.file(`render-${tool}-${page}-${Math.random().toString(36).slice(2)}`);
  if (tool === 'pdftoppm')
    run('pdftoppm', ['-r', '36', '-f', String(page), '-l', String(page), '-singlefile', '-png', file, out]);
  else run('mutool', ['draw', '-r', '36', '-o', `${out}.png`, file, String(page)]);
  const png = PNG.sync.read(readFileSync(`${out}.png`));
  const boxes = { red: [] as number[][], blue: [] as number[][] };
  for (let y = 0; y < png.height; y++)
    for (let x = 0; x < png.width; x++) {
      const i = (y * png.width + x) * 4;
      const [r, g, b] = [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
      if (r > 150 && g < 110 && b < 110) boxes.red.push([x, y]);
      else if (b > 150 && r < 110 && g < 130) boxes.blue.push([x, y]);
    }
  const box = (points: number[][]): Box | null => {
    if (points.length === 0) return null;
    const xs = points.map((p) => p[0]!);
    const ys = points.map((p) => p[1]!);
    return {
      x0: Math.min(...xs),
      y0: Math.min(...ys),
      x1: Math.max(...xs),
      y1: Math.max(...ys),
      cx: xs.reduce((a, b) => a + b, 0) / xs.length,
      cy: ys.reduce((a, b) => a + b, 0) / ys.length,
    };
  };
  return { width: png.width, height: png.height, red: box(boxes.red), blue: box(boxes.blue) };
}

/** Two A4 pages turned by /Rotate (qpdf sets it), or left as they are. */
function rotatedPdf(rotate: 0 | 90 | 180 | 270, pages = 2): Buffer {
  const plain = buildPdf({ pages });
  if (rotate === 0) return plain;
  const out = tmp.file(`rotated-${rotate}.pdf`);
  run('qpdf', [`--rotate=+${rotate}`, tmp.file(`plain-${rotate}.pdf`, plain), out]);
  expect(readFileSync(out).toString('latin1')).toMatch(new RegExp(`/Rotate ${rotate}\\b`));
  return readFileSync(out);
}

describe('seals on rotated pages', () => {
  for (const rotate of [0, 90, 180, 270] as const) {
    it(`a seal on a /Rotate ${rotate} page reads upright in poppler and MuPDF`, async () => {
      const pdf = await signPdf(rotatedPdf(rotate), {
        signer: pki.sealRsa.signer,
        appearance: { image: uprightMarker(), at: { page: 1, rect: [250, 300, 100, 100] } },
      });
      const file = tmp.file(`seal-rotate-${rotate}.pdf`, pdf);
      expect(pdfsig(file, nss)[0]!.signatureValid).toBe(true);
      expect((await verifyPdf(pdf, { trustAnchors: [pki.root] })).intact).toBe(true);
      for (const tool of ['pdftoppm', 'mutool'] as const) {
        const { red, blue } = render(file, 1, tool);
        expect(red && blue, `${tool}: the seal is drawn`).toBeTruthy();
        // Upright: the red band lies across the seal (wider than tall) and above the blue one.
        expect(red!.x1 - red!.x0, `${tool} rotate ${rotate}`).toBeGreaterThan((red!.y1 - red!.y0) * 1.5);
        expect(red!.cy, `${tool} rotate ${rotate}`).toBeLessThan(blue!.cy);
        expect(Math.abs(red!.cx - blue!.cx)).toBeLessThan(3);
      }
    });

    it(`a cross-page seal on /Rotate ${rotate} pages sits on the right edge as shown, upright`, async () => {
      const pdf = await signPdf(rotatedPdf(rotate), {
        signer: pki.sealRsa.signer,
        crossPage: { image: uprightMarker() },
      });
      const file = tmp.file(`cross-rotate-${rotate}.pdf`, pdf);
      expect(pdfsig(file, nss)[0]!.signatureValid).toBe(true);
      const strip = ((SEAL / 2) * 36) / 72; // half the seal per page, in pixels at 36 dpi
      for (const page of [1, 2])
        for (const tool of ['pdftoppm', 'mutool'] as const) {
          const { width, height, red, blue } = render(file, page, tool);
          const what = `${tool} page ${page} rotate ${rotate}`;
          expect(red && blue, what).toBeTruthy();
          expect(red!.x1, what).toBeGreaterThanOrEqual(width - 2);
          expect(red!.x0, what).toBeGreaterThanOrEqual(width - strip - 2);
          expect(red!.cy, what).toBeLessThan(blue!.cy);
          // Centred vertically as shown: the seal's middle (between the bands) near the page's.
          expect(Math.abs((red!.y0 + blue!.y1) / 2 - height / 2), what).toBeLessThan(3);
        }
    });
  }

  it('places a keyword seal on a rotated page upright, moved right as the reader sees it', async () => {
    const source = rotatedPdf(90, 1);
    const at = { keyword: 'Contract No.', size: [60, 60] as [number, number] };
    const centred = await signPdf(source, { signer: pki.sealRsa.signer, appearance: { image: uprightMarker(), at } });
    const moved = await signPdf(source, {
      signer: pki.sealRsa.signer,
      appearance: { image: uprightMarker(), at: { ...at, offset: [40, 0] } },
    });
    const a = render(tmp.file('keyword-90.pdf', centred), 1, 'pdftoppm');
    const b = render(tmp.file('keyword-90-moved.pdf', moved), 1, 'pdftoppm');
    expect(a.red!.cy).toBeLessThan(a.blue!.cy);
    expect(b.red!.cx - a.red!.cx).toBeCloseTo((40 * 36) / 72, 0);
    expect(Math.abs(b.red!.cy - a.red!.cy)).toBeLessThan(1);
  });
});

describe('cross-page seals over many pages', () => {
  it('splits 300 pages into groups of whole seals, no piece under 3 mm, still one signature', async () => {
    const pdf = await signPdf(buildPdf({ pages: 300 }), {
      signer: pki.sealRsa.signer,
      crossPage: { image: sealPng() },
    });
    const file = tmp.file('cross-300.pdf', pdf);
    const seen = pdfsig(file, nss);
    expect(seen.map((s) => s.signatureValid)).toEqual([true]);
    const report = await verifyPdf(pdf, { trustAnchors: [pki.root] });
    expect(report.intact).toBe(true);
    const seals = report.signatures[0]!.seals;
    expect(seals.map((s) => s.page)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    for (const s of seals) expect(s.rect[2]).toBeGreaterThanOrEqual(THREE_MM - 1e-6);
    expect(MIN_STRIP_WIDTH).toBeCloseTo(THREE_MM, 9);
    // 14 pages of 3 mm share a 42 mm seal: 22 groups of 13 or 14 pages, each a whole seal.
    const groups = crossPageGroups(300, SEAL, true);
    expect(groups.map((g) => g.count)).toEqual([...Array(14).fill(14), ...Array(8).fill(13)]);
    let at = 0;
    for (const g of groups) {
      const widths = seals.slice(at, at + g.count).map((s) => s.rect[2]);
      expect(widths.reduce((a, b) => a + b, 0)).toBeCloseTo(SEAL, 3);
      at += g.count;
    }
    const stamps = run('qpdf', ['--qdf', '--object-streams=disable', file, '-']).out;
    expect(stamps).toContain('part 1 of 14 of group 2 of 22');
  });

  it('refuses, naming the limit, when the caller forbids groups', async () => {
    await expect(
      signPdf(buildPdf({ pages: 20 }), {
        signer: pki.sealRsa.signer,
        crossPage: { image: sealPng(), groups: false },
      }),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(
        /leaves 2\.1 mm on each page, less than the 3\.0 mm .* at most 14 pages can share one seal/,
      ),
    });
    expect(() => crossPageGroups(3, 2 * THREE_MM, true)).toThrow(/make the seal wider/);
    expect(crossPageGroups(14, SEAL, false)).toEqual([{ start: 0, count: 14 }]);
  });
});

/** A solid square of one colour. */
function square(colour: [number, number, number], size = 40): Buffer {
  const png = new PNG({ width: size, height: size });
  for (let i = 0; i < size * size; i++) png.data.set([...colour, 255], i * 4);
  return PNG.sync.write(png);
}

describe('stamps beside a signature', () => {
  it('draws each stamp where it was placed, covered by the signature, accepted by pdfsig and by us', async () => {
    const pdf = await signPdf(buildPdf({ pages: 2 }), {
      signer: pki.sealRsa.signer,
      appearance: { image: uprightMarker(), at: { page: 1, rect: [250, 300, 100, 100] } },
      stamps: [
        { image: square([20, 40, 220]), at: { page: 2, rect: [100, 600, 80, 80] }, label: 'Date filled in' },
        { image: square([20, 40, 220]), at: { page: 2, rect: [400, 100, 40, 40] }, label: 'Tick' },
      ],
    });
    const file = tmp.file('stamps.pdf', pdf);
    const poppler = pdfsig(file, nss);
    expect(poppler).toHaveLength(1);
    expect(poppler[0]!.signatureValid).toBe(true);
    const report = await verifyPdf(pdf, { trustAnchors: [pki.root] });
    expect(report.intact).toBe(true);
    expect(report.verdict).toBe('valid');
    // One image per distinct picture, each with its transparency mask: the two stamps share theirs.
    expect(pdf.toString('latin1').match(/\/Subtype\s*\/Image/g)).toHaveLength(4);
    for (const tool of ['pdftoppm', 'mutool'] as const) {
      const page2 = render(file, 2, tool);
      expect(page2.red, `${tool}: no seal on page 2`).toBeNull();
      // At 36 dpi: the stamps span x 50–220 px and, from the top, y (842-680)/2 = 81 to (842-100)/2 = 371.
      expect(page2.blue!.x0, tool).toBeCloseTo(50, -1);
      expect(page2.blue!.x1, tool).toBeCloseTo(220, -1);
      expect(page2.blue!.y0, tool).toBeCloseTo(81, -1);
      expect(page2.blue!.y1, tool).toBeCloseTo(371, -1);
    }
  });

  it('refuses more stamps than one signature carries, naming the limit', async () => {
    const stamp = {
      image: square([0, 0, 0], 4),
      at: { page: 1, rect: [10, 10, 5, 5] as [number, number, number, number] },
      label: 'x',
    };
    await expect(
      signPdf(buildPdf({ pages: 1 }), { signer: pki.sealRsa.signer, stamps: Array(51).fill(stamp) }),
    ).rejects.toThrow(/At most 50 stamps/);
  });
});
