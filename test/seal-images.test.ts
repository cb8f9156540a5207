import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { getSealImage, sealImagePng } from '../src/modules/seals/seal-image.service.js';
import { SEAL_FONT, missingGlyphs, sealFontMetrics, sealFontPath } from '../src/seal-image/font.js';
import { prepareImage } from '../src/signing/pdf/image.js';
import { renderSealPng, renderSealSvg } from '../src/seal-image/render.js';
import { buildSealSvg, layoutSeal, type SealImageSpec } from '../src/seal-image/seal-svg.js';
import { checkSealImageSpec } from '../src/seal-image/spec.js';
import { AppError } from '../src/server/errors.js';
import {
  buildCompany,
  buildGroup,
  buildSeal,
  buildUser,
  client,
  createWorld,
  type GroupFixture,
  type World,
} from './support/world.js';

const contractSeal: SealImageSpec = {
  shape: 'round',
  company: '华夏国际贸易发展股份有限公司',
  type: '合同专用章',
  code: '1101080012345',
};

function caught(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

/** Attributes of every element of a kind in an SVG string, in order. */
function elements(svg: string, tag: string): Array<Record<string, string>> {
  return [...svg.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, 'g'))].map((m) =>
    Object.fromEntries([...m[1]!.matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])),
  );
}

/** Inked pixels (alpha > 128) of a PNG that satisfy `where(xMm, yMm)`, and how many of them are seal red. */
function ink(png: Buffer, pxPerMm: number, where: (x: number, y: number) => boolean) {
  const image = PNG.sync.read(png);
  let inked = 0;
  let red = 0;
  let area = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if (!where((x + 0.5) / pxPerMm, (y + 0.5) / pxPerMm)) continue;
      area++;
      const i = (y * image.width + x) * 4;
      if (image.data[i + 3]! > 128) {
        inked++;
        if (image.data[i]! > 150 && image.data[i + 1]! < 90 && image.data[i + 2]! < 90) red++;
      }
    }
  }
  return { inked, red, area, image };
}

/** The band of a 40 mm round seal where the company name runs: 12.5–17.5 mm from the centre, above the centre. */
const nameBand = (x: number, y: number) => {
  const r = Math.hypot(x - 20, y - 20);
  return r > 12.5 && r < 17.5 && y < 20;
};

describe('seal image layout (SVG)', () => {
  it('puts the company name along the upper arc, tops outwards, with a star in the centre, the type below it and the code along the lower arc', () => {
    const layout = layoutSeal(contractSeal);
    const [company, type, code] = layout.texts;
    expect(company!.chars.map((c) => c.char).join('')).toBe(contractSeal.company);
    const radii = company!.chars.map((c) => Math.hypot(c.x - 20, c.y - 20));
    for (const r of radii) expect(r).toBeCloseTo(radii[0]!, 6);
    // Clockwise from the left, each character turned so its top points away from the centre.
    const angles = company!.chars.map((c) => (Math.atan2(c.x - 20, 20 - c.y) * 180) / Math.PI);
    expect(angles).toEqual([...angles].sort((a, b) => a - b));
    company!.chars.forEach((c, i) => expect(c.rotate).toBeCloseTo(angles[i]!, 6));
    expect(angles[0]).toBeCloseTo(-angles.at(-1)!, 6);
    expect(type!.chars.every((c) => c.rotate === 0 && c.y > 27)).toBe(true);
    // The code reads left to right along the bottom, tops towards the centre.
    expect(code!.chars.every((c) => c.y > 30)).toBe(true);
    expect(code!.chars.map((c) => c.x)).toEqual(code!.chars.map((c) => c.x).sort((a, b) => a - b));

    const { svg } = buildSealSvg(contractSeal);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="40mm" height="40mm" viewBox="0 0 40 40">/);
    expect(svg).toContain(`font-family="${SEAL_FONT.family}"`);
    expect(elements(svg, 'circle')[0]).toMatchObject({ id: 'border', fill: 'none', stroke: '#d32f2f' });
    const star = elements(svg, 'path').find((p) => p.id === 'star')!;
    expect(star.d!.split(' L ')).toHaveLength(10);
    expect(elements(svg, 'text')).toHaveLength(
      [...contractSeal.company!].length + [...contractSeal.type!].length + [...contractSeal.code!].length,
    );
    expect(svg).toContain('>合</text>');
  });

  it('squeezes a long name into the arc instead of running into the type', () => {
    const long = layoutSeal({
      shape: 'round',
      company: '中国华夏国际贸易发展控股集团股份有限公司北京分公司',
      type: '合同专用章',
    }).texts[0]!.chars;
    const first = (Math.atan2(long[0]!.x - 20, 20 - long[0]!.y) * 180) / Math.PI;
    expect(first).toBeCloseTo(-110, 6);
    expect(long[0]!.scaleX).toBeLessThan(0.6);
  });

  it('sets an oval seal on its ellipse and a four-character name 2×2 from the right', () => {
    const oval = layoutSeal({
      shape: 'oval',
      company: '上海华夏贸易有限公司',
      type: '发票专用章',
      code: '91310000MA1K12345X',
    });
    expect([oval.widthMm, oval.heightMm]).toEqual([45, 30]);
    const [company] = oval.texts;
    const a = company!.chars[0]!;
    const b = company!.chars.at(-1)!;
    expect(a.x).toBeCloseTo(45 - b.x, 6);
    expect(a.y).toBeCloseTo(b.y, 6);
    expect(company!.chars.every((c) => c.y < 17)).toBe(true);

    const square = layoutSeal({ shape: 'square', name: '张三之印' }).texts[0]!.chars;
    const at = Object.fromEntries(
      square.map((c) => [c.char, [c.x > 10 ? 'right' : 'left', c.y < 10 ? 'top' : 'bottom'].join(' ')]),
    );
    expect(at).toEqual({ 张: 'right top', 三: 'right bottom', 之: 'left top', 印: 'left bottom' });
    const row = layoutSeal({ shape: 'square', name: '欧阳娜' }).texts[0]!.chars;
    expect(row.map((c) => c.char)).toEqual(['欧', '阳', '娜']);
    expect(row.every((c) => c.y === 10 && c.scaleX < 1)).toBe(true);
  });

  it('refuses what cannot be drawn, naming each field', () => {
    expect(caught(() => checkSealImageSpec({ shape: 'round', type: '合同专用章' }, 'body.')).details.errors).toEqual([
      { field: 'body.company', message: 'is required for a round seal' },
    ]);
    expect(
      caught(() => checkSealImageSpec({ shape: 'square', name: '张三', company: '华夏' }, 'body.')).details.errors,
    ).toEqual([{ field: 'body.company', message: 'is not used by a square seal (only by round and oval)' }]);
    expect(
      caught(() => checkSealImageSpec({ shape: 'round', company: '华'.repeat(25) }, 'body.')).details.errors,
    ).toEqual([
      {
        field: 'body.company',
        message: 'is too long to fit: at most 24 Chinese characters, a letter or digit counting 0.6 (it has 25)',
      },
    ]);
    expect(caught(() => checkSealImageSpec({ shape: 'round', company: '华夏𠀀贸易😀' }, '--')).details.errors).toEqual([
      { field: '--company', message: 'contains 𠀀 😀, which the seal font cannot draw' },
    ]);
    expect(
      caught(() => checkSealImageSpec({ shape: 'oval', company: '华夏', color: 'red', sizeMm: 100, star: true }, '--'))
        .details.errors,
    ).toEqual([
      { field: '--color', message: 'must be a colour as #rrggbb, e.g. #d32f2f' },
      { field: '--size-mm', message: 'must be a number of millimetres from 10 to 80' },
      { field: '--star', message: 'only a round seal has a star' },
    ]);
    expect(checkSealImageSpec({ shape: 'round', company: '  华夏\u3000 贸易 ', color: '#C62828' })).toEqual({
      shape: 'round',
      company: '华夏 贸易',
      color: '#c62828',
    });
  });
});

describe('seal image rendering (PNG with the shipped CJK font)', () => {
  it('draws the Chinese company name in seal red on a transparent background', async () => {
    const { png, width, height } = await renderSealPng(contractSeal, 12);
    expect([width, height]).toEqual([480, 480]);
    const corners = ink(png, 12, (x, y) => Math.hypot(x - 20, y - 20) > 20.2);
    expect(corners.inked).toBe(0);
    const band = ink(png, 12, nameBand);
    // Fourteen bold characters fill a good part of the band, in the seal's colour.
    expect(band.inked / band.area).toBeGreaterThan(0.2);
    expect(band.red / band.inked).toBeGreaterThan(0.9);
    expect(band.image.data.subarray(0, 4)).toEqual(Buffer.from([0, 0, 0, 0]));
    // The signing engine takes it as it is, its transparency as a soft mask.
    expect(prepareImage(png)).toMatchObject({ width: 480, height: 480, gray: false, alpha: expect.any(Buffer) });
  });

  it('draws each character as its own glyph, not a box for a missing one', async () => {
    const inkOf = async (company: string) =>
      ink((await renderSealPng({ shape: 'round', company, star: false }, 8)).png, 8, nameBand).inked;
    const [one, many, three] = await Promise.all([inkOf('一一一一'), inkOf('疆疆疆疆'), inkOf('国')]);
    expect(many).toBeGreaterThan(one * 2.5);
    expect(three).toBeGreaterThan(0);
  });

  it('uses the font shipped in node_modules, with its own character map and advance widths', () => {
    expect(sealFontPath()).toMatch(/node_modules\/@embedpdf\/fonts-sc\/fonts\/NotoSansHans-Bold\.otf$/);
    const advance = (c: string) => sealFontMetrics().advanceOf(c.codePointAt(0)!);
    expect([advance('国'), advance('（')]).toEqual([1, 1]);
    expect(advance('M')!).toBeGreaterThan(advance('i')! * 2);
    expect(advance('😀')).toBeUndefined();
    // Rare characters of company and person names are covered, beyond GB 2312.
    expect(missingGlyphs('珺喆璟堃昇赟镕龘𠀀')).toEqual(['𠀀']);
  });

  it('writes a self-contained SVG: outlines instead of text, sized in millimetres', () => {
    const { svg } = renderSealSvg({ shape: 'square', name: '张三之印', color: '#1565c0' });
    expect(svg).not.toContain('<text');
    expect(svg).toContain('width="20mm" height="20mm"');
    expect(elements(svg, 'path').filter((p) => p.d)).toHaveLength(4);
    expect(svg).toContain('fill="#1565c0"');
  });
});

describe('sigil seal image', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sigil-seal-image-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function sigil(...args: string[]) {
    let out = '';
    let err = '';
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
    try {
      return { status: await main(['node', 'sigil', ...args]), out, err };
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  }

  it('writes a round contract seal as PNG and a square seal as SVG, exit 0', async () => {
    const png = join(dir, 'contract.png');
    const made = await sigil(
      'seal',
      'image',
      '--shape',
      'round',
      '--company',
      '华夏贸易有限公司',
      '--type',
      '合同专用章',
      '--code',
      '1101080012345',
      '--out',
      png,
    );
    expect(made).toMatchObject({ status: 0, out: `wrote ${png}: round seal, 40×40 mm, 480×480 px PNG\n` });
    const image = PNG.sync.read(readFileSync(png));
    expect([image.width, image.height]).toEqual([480, 480]);
    const svg = join(dir, 'person.svg');
    expect(
      (await sigil('seal', 'image', '--shape', 'square', '--name', '张三之印', '--size-mm', '18', '--out', svg)).status,
    ).toBe(0);
    expect(readFileSync(svg, 'utf8')).toContain('width="18mm"');
  });

  it('exits 2 naming the problem for bad arguments', async () => {
    const out = join(dir, 'x.png');
    expect(await sigil('seal', 'image', '--shape', 'round', '--type', '合同专用章', '--out', out)).toMatchObject({
      status: 2,
      err: 'sigil: The seal image cannot be made: --company is required for a round seal.\n',
    });
    expect((await sigil('seal', 'image', '--shape', 'hexagon', '--company', '华夏', '--out', out)).status).toBe(2);
    expect(
      (await sigil('seal', 'image', '--shape', 'round', '--company', '华夏', '--out', join(dir, 'x.jpg'))).err,
    ).toContain('must end in .png or .svg');
    expect(
      (await sigil('seal', 'image', '--shape', 'round', '--company', '华夏', '--size-mm', '200', '--out', out)).status,
    ).toBe(2);
    expect(
      (await sigil('seal', 'image', '--shape', 'round', '--company', '华夏', '--color', 'red', '--out', out)).err,
    ).toContain('--color must be a colour as #rrggbb');
    expect(
      (await sigil('seal', 'image', '--shape', 'round', '--company', '华夏', '--out', join(dir, 'missing', 'x.png')))
        .err,
    ).toContain('Cannot write');
  });
});

function rgbaPng(
  width: number,
  height: number,
  paint: (x: number, y: number) => [number, number, number, number],
): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) png.data.set(paint(x, y), (y * width + x) * 4);
  return PNG.sync.write(png);
}

const redDisc = (size: number) =>
  rgbaPng(size, size, (x, y) =>
    Math.hypot(x - size / 2, y - size / 2) < size / 3 ? [211, 47, 47, 255] : [0, 0, 0, 0],
  );
const SAFE_SVG =
  '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="40mm" height="40mm" viewBox="0 0 40 40"><circle cx="20" cy="20" r="19" fill="none" stroke="#d32f2f"/></svg>';

describe('seal image API', () => {
  let world: World;
  let group: GroupFixture;
  let sealAdmin: Awaited<ReturnType<typeof buildUser>>;
  let subAdmin: Awaited<ReturnType<typeof buildUser>>;
  let sub: { id: string; path: string };

  beforeAll(async () => {
    world = await createWorld();
    group = await buildGroup(world);
    sub = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易' });
    sealAdmin = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'seal_admin' }],
    });
    subAdmin = await buildUser(world, { groupId: group.groupId, companyId: sub.id, roles: [{ role: 'seal_admin' }] });
  });
  afterAll(() => world.close());

  const upload = (token: string, bytes: Buffer | string, contentType: string) =>
    client(world, token).raw('POST', '/api/v1/seal-images', bytes, { 'content-type': contentType });

  it('previews a seal as PNG or SVG for a seal administrator: 401, 400, 403, 200', async () => {
    const body = { shape: 'round', company: '华夏贸易有限公司', type: '合同专用章' };
    expect((await client(world).post('/api/v1/seal-images/preview', body)).status).toBe(401);
    const bad = await client(world, sealAdmin.token).post('/api/v1/seal-images/preview', {
      shape: 'round',
      company: '华夏',
      colour: '#fff',
      pxPerMm: 100,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      { field: 'body.pxPerMm', message: 'must be at most 40' },
      { field: 'body.colour', message: 'is not a known field' },
    ]);
    const missing = await client(world, sealAdmin.token).post('/api/v1/seal-images/preview', {
      shape: 'oval',
      type: '发票专用章',
    });
    expect(missing.body).toMatchObject({
      status: 400,
      code: 'validation_failed',
      errors: [{ field: 'body.company', message: 'is required for an oval seal' }],
    });
    const employee = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'employee' }],
    });
    expect((await client(world, employee.token).post('/api/v1/seal-images/preview', body)).status).toBe(403);
    expect((await client(world, group.admin.token).post('/api/v1/seal-images/preview', body)).body.code).toBe(
      'forbidden',
    );

    const png = await world.app.inject({
      method: 'POST',
      url: '/api/v1/seal-images/preview',
      headers: { authorization: `Bearer ${sealAdmin.token}` },
      payload: body,
    });
    expect(png.statusCode).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.headers['cache-control']).toBe('no-store');
    const image = PNG.sync.read(png.rawPayload);
    expect([image.width, image.height]).toEqual([320, 320]);
    const svg = await client(world, sealAdmin.token).post('/api/v1/seal-images/preview', { ...body, format: 'svg' });
    expect(svg.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(svg.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(svg.body).toContain('<g id="company">');
  });

  it('generates and stores a seal image, then serves it to its maker with a strong ETag', async () => {
    const made = await client(world, sealAdmin.token).post('/api/v1/seal-images/generate', {
      shape: 'square',
      name: '张三之印',
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ mediaType: 'image/png', width: 240, height: 240 });
    expect(made.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    const got = await world.app.inject({
      method: 'GET',
      url: `/api/v1/seal-images/${made.body.sha256}`,
      headers: { authorization: `Bearer ${sealAdmin.token}` },
    });
    expect(got.statusCode).toBe(200);
    expect(got.headers).toMatchObject({
      'content-type': 'image/png',
      etag: `"${made.body.sha256}"`,
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, no-cache',
    });
    expect(got.rawPayload.length).toBe(made.body.size);
    const again = await world.app.inject({
      method: 'GET',
      url: `/api/v1/seal-images/${made.body.sha256}`,
      headers: { authorization: `Bearer ${sealAdmin.token}`, 'if-none-match': `"${made.body.sha256}"` },
    });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    // What the backend uses to attach it to a seal and to stamp with it.
    expect(await getSealImage(world.db, { groupId: group.groupId, sha256: made.body.sha256 })).toEqual({
      sha256: made.body.sha256,
      mediaType: 'image/png',
      size: made.body.size,
    });
    expect(await sealImagePng(world.ctx, { groupId: group.groupId, sha256: made.body.sha256 })).toEqual(got.rawPayload);
  });

  it('accepts a PNG with transparency and a plain SVG, raw or as base64 JSON', async () => {
    const png = redDisc(200);
    const raw = await upload(sealAdmin.token, png, 'image/png');
    expect(raw.status).toBe(201);
    expect(raw.body).toMatchObject({ mediaType: 'image/png', width: 200, height: 200, size: png.length });
    const json = await client(world, sealAdmin.token).post('/api/v1/seal-images', {
      dataBase64: png.toString('base64'),
      mediaType: 'image/png',
      fileName: 'seal.png',
    });
    expect(json.body).toEqual(raw.body);
    const svg = await upload(sealAdmin.token, SAFE_SVG, 'image/svg+xml');
    expect(svg.status).toBe(201);
    expect(svg.body).toMatchObject({ mediaType: 'image/svg+xml', width: 151, height: 151 });
    const served = await client(world, sealAdmin.token).get(`/api/v1/seal-images/${svg.body.sha256}`);
    expect(served.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(served.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(served.body).toBe(SAFE_SVG);
    const svgPng = PNG.sync.read(
      await sealImagePng(world.ctx, { groupId: group.groupId, sha256: svg.body.sha256, widthPx: 100 }),
    );
    expect(svgPng.width).toBe(100);
  });

  it('refuses files that are not what they claim, too large, of the wrong size, opaque, or active, saying why', async () => {
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]), Buffer.from('JFIF'), Buffer.alloc(200)]);
    const refusals: Array<[Buffer | string, string, number, string, RegExp]> = [
      [jpeg, 'image/png', 422, 'file_type_mismatch', /claims to be image\/png but its content is image\/jpeg/],
      [
        Buffer.from('GIF89a garbage garbage'),
        'image/png',
        422,
        'file_type_mismatch',
        /claims to be image\/png but its content is not a type Sigil recognises/,
      ],
      [
        jpeg,
        'image/jpeg',
        422,
        'file_type_mismatch',
        /Only image\/png, image\/svg\+xml are accepted here; this file is image\/jpeg/,
      ],
      [
        PNG.sync.write(new PNG({ width: 100, height: 100 }), { colorType: 2 }),
        'image/png',
        422,
        'image_invalid',
        /no transparency/,
      ],
      [
        rgbaPng(100, 100, () => [255, 255, 255, 255]),
        'image/png',
        422,
        'image_invalid',
        /Only 0\.0% of the PNG is transparent/,
      ],
      [
        redDisc(32),
        'image/png',
        422,
        'image_invalid',
        /The image is 32×32 px; a seal image must be 64 to 4096 px on each side/,
      ],
      [
        Buffer.concat([
          redDisc(64).subarray(0, 16),
          Buffer.from([0, 0, 0x13, 0x88, 0, 0, 0x13, 0x88]),
          redDisc(64).subarray(24),
        ]),
        'image/png',
        422,
        'image_invalid',
        /5000×5000 px/,
      ],
      [
        Buffer.concat([redDisc(64), Buffer.alloc(2 * 1024 * 1024)]),
        'image/png',
        413,
        'image_too_large',
        /at most 2097152 \(2 MB\)/,
      ],
      [
        SAFE_SVG.replace('</svg>', '<script>alert(1)</script></svg>'),
        'image/svg+xml',
        422,
        'image_unsafe',
        /contains a <script> element/,
      ],
      [
        SAFE_SVG.replace('<circle', '<circle onload="alert(1)"'),
        'image/svg+xml',
        422,
        'image_unsafe',
        /an event-handler attribute/,
      ],
      [
        SAFE_SVG.replace('</svg>', '<image href="https://evil.example/x.png" width="1" height="1"/></svg>'),
        'image/svg+xml',
        422,
        'image_unsafe',
        /a reference to another document/,
      ],
      [SAFE_SVG.replace('</svg>', '<circle></svg>'), 'image/svg+xml', 422, 'image_invalid', /The SVG cannot be read/],
    ];
    for (const [bytes, type, status, code, detail] of refusals) {
      const answer = await upload(sealAdmin.token, bytes, type);
      expect({ status: answer.status, code: answer.body.code }, `${code} ${detail}`).toEqual({ status, code });
      expect(answer.body.detail).toMatch(detail);
    }
    const hazards = await upload(
      sealAdmin.token,
      SAFE_SVG.replace('</svg>', '<script>x</script><a href="//x">y</a></svg>'),
      'image/svg+xml',
    );
    expect(hazards.body.hazards).toEqual(['a <script> element', 'a reference to another document']);
    const huge = await upload(sealAdmin.token, Buffer.alloc(3 * 1024 * 1024), 'image/png');
    expect({ status: huge.status, code: huge.body.code }).toEqual({ status: 413, code: 'payload_too_large' });
    const badJson = await client(world, sealAdmin.token).post('/api/v1/seal-images', {
      dataBase64: '***',
      mediaType: 'image/gif',
    });
    expect(badJson.body.errors).toEqual([
      { field: 'body.dataBase64', message: 'must be the file in base64' },
      { field: 'body.mediaType', message: 'must be image/png or image/svg+xml' },
    ]);
    expect((await upload(subAdmin.token, redDisc(100), 'image/png')).status).toBe(201);
    expect((await upload(group.admin.token, redDisc(100), 'image/png')).status).toBe(403);
    expect(
      (await client(world).raw('POST', '/api/v1/seal-images', redDisc(100), { 'content-type': 'image/png' })).status,
    ).toBe(401);
  });

  it('serves an image only to its maker and to those who may see a seal showing it; another group gets 404', async () => {
    const made = (
      await client(world, sealAdmin.token).post('/api/v1/seal-images/generate', {
        shape: 'round',
        company: '华夏贸易有限公司',
        type: '财务专用章',
      })
    ).body.sha256 as string;
    const path = `/api/v1/seal-images/${made}`;
    expect((await client(world).get(path)).status).toBe(401);
    // A seal administrator of a subsidiary did not make it and no seal of theirs shows it.
    const hidden = await client(world, subAdmin.token).get(path);
    expect(hidden.body).toMatchObject({ status: 404, code: 'blob_not_found' });
    expect(hidden.body.detail).toBe(
      (await client(world, subAdmin.token).get(`/api/v1/seal-images/${'0'.repeat(64)}`)).body.detail.replace(
        '0'.repeat(64),
        made,
      ),
    );
    expect((await client(world, group.admin.token).get(path)).status).toBe(403);
    const other = await buildGroup(world);
    const otherAdmin = await buildUser(world, {
      groupId: other.groupId,
      companyId: other.hq.id,
      roles: [{ role: 'seal_admin' }],
    });
    expect((await client(world, otherAdmin.token).get(path)).status).toBe(404);
    // Another group uploading the same bytes owns its own copy, and still cannot read the first group's by hash.
    expect((await client(world, otherAdmin.token).get(`/api/v1/seal-images/not-a-hash`)).status).toBe(400);

    const seal = await buildSeal(world, { groupId: group.groupId, companyId: sub.id });
    await world.db
      .updateTable('seals')
      .set({ image_sha256: made, image_media_type: 'image/png' })
      .where('id', '=', seal.id)
      .execute();
    expect((await client(world, subAdmin.token).get(path)).status).toBe(200);
    const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const siblingAuditor = await buildUser(world, {
      groupId: group.groupId,
      companyId: sibling.id,
      roles: [{ role: 'security_auditor' }],
    });
    expect((await client(world, siblingAuditor.token).get(path)).status).toBe(404);
    const subAuditor = await buildUser(world, {
      groupId: group.groupId,
      companyId: sub.id,
      roles: [{ role: 'security_auditor' }],
    });
    expect((await client(world, subAuditor.token).get(path)).status).toBe(200);
  });
});
