import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPdf } from '../signing/pdf-fixtures.js';
import { nssDatabase, pdfsig, requireTool, tempDir } from '../signing/support.js';
import { buildCompany, buildSeal, buildUser, client, type GroupFixture, type World } from '../support/world.js';
import {
  browserRequired,
  DESKTOP,
  expectNoHorizontalScroll,
  hasChromium,
  PHONE,
  screenshotPage,
  text,
  useBrowserSuite,
  waitForText,
} from './browser-support.js';
import { root } from './console-build.js';

type User = Awaited<ReturnType<typeof buildUser>>;

const pdfjsVersion = (
  JSON.parse(readFileSync(join(root, 'node_modules', 'pdfjs-dist', 'package.json'), 'utf8')) as { version: string }
).version;

/**
 * The outside signer's page (/sign/<token>) in Debian's Chromium, against a real server on a
 * loopback port. On a 390-px phone with a finger: the invitation (in Chinese, whatever the
 * browser asks), a code by SMS with the resend countdown, a wrong code and the attempts left, the
 * right one with consent; the contract drawn by pdf.js (loaded only then) with the fields marked,
 * a signature drawn by touch and shown in its places before signing; signed, and pdfsig finds
 * the signatures valid and trusted, before and after our company seals. On a desktop, in English:
 * a code asked for again too soon, then a refusal with a reason. And the links that no longer
 * work, and a session that ran out. Screenshots land in test-output/sign-*.png.
 */
describe.skipIf(!hasChromium && !browserRequired)("the outside signer's page", () => {
  const suite = useBrowserSuite({ screenshots: 'sign', groupName: 'Huaxia Group', timeoutMs: 20_000 });
  let world: World;
  let group: GroupFixture;
  let base: string;
  let company: { id: string };
  let stamper: User;
  let seal: { id: string };
  let tmp: ReturnType<typeof tempDir>;
  let nss: string;

  beforeAll(async () => {
    for (const tool of ['pdfsig', 'certutil']) requireTool(tool);
    ({ world, group, base } = suite);
    tmp = tempDir('sigil-sign-page-');
    company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
    const keeper = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'seal_admin' }],
    });
    stamper = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'employee' }] });
    seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [keeper.id],
      name: '华夏贸易合同专用章',
    });
    const image = await client(world, keeper.token).post('/api/v1/seal-images/generate', {
      shape: 'round',
      company: '华夏贸易有限公司',
      type: '合同专用章',
    });
    expect(image.status).toBe(201);
    await world.db
      .updateTable('seals')
      .set({ image_sha256: image.body.sha256, image_media_type: image.body.mediaType })
      .where('id', '=', seal.id)
      .execute();
    const grant = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: stamper.id },
      categories: ['procurement'],
    });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);
    const root = await world.app.inject({ method: 'GET', url: '/pki/root/certificate' });
    nss = nssDatabase(tmp.dir, root.rawPayload);
  });
  afterAll(() => tmp?.remove());

  const purchasePdf = () =>
    buildPdf({
      pages: 2,
      lines: ['Purchase contract No. 2026-007', 'Goods: 200 office chairs'],
      cjkLines: ['甲方（盖章）：华夏贸易有限公司', '乙方（签字）：'],
      compress: false,
    });

  /**
   * A one-page PDF whose Chinese is written as most Chinese office software once wrote it: the
   * font not embedded (STSong-Light), the text in UCS-2 under Adobe's predefined UniGB-UCS2-H
   * CMap and no ToUnicode. Reading it needs the CMaps the page serves under /pdfjs/.
   */
  function predefinedCMapPdf(): Buffer {
    const ucs2 = (text: string) => Buffer.from(text, 'utf16le').swap16().toString('hex');
    const content = `BT /F1 12 Tf 72 740 Td (Purchase contract No. 2026-009) Tj ET\nBT /F2 16 Tf 72 600 Td <${ucs2('乙方（签字）：')}> Tj ET\n`;
    const objects = [
      '<</Type/Catalog/Pages 2 0 R>>',
      '<</Type/Pages/Kids[3 0 R]/Count 1>>',
      '<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 4 0 R/F2 5 0 R>>>>/Contents 8 0 R>>',
      '<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>',
      '<</Type/Font/Subtype/Type0/BaseFont/STSong-Light/Encoding/UniGB-UCS2-H/DescendantFonts[6 0 R]>>',
      '<</Type/Font/Subtype/CIDFontType0/BaseFont/STSong-Light/CIDSystemInfo<</Registry(Adobe)/Ordering(GB1)/Supplement 4>>/FontDescriptor 7 0 R/DW 1000>>',
      '<</Type/FontDescriptor/FontName/STSong-Light/Flags 6/FontBBox[-25 -254 1000 880]/ItalicAngle 0/Ascent 880/Descent -120/CapHeight 880/StemV 93>>',
      `<</Length ${content.length}>>\nstream\n${content}endstream`,
    ];
    let pdf = '%PDF-1.7\n';
    const offsets = objects.map((body, i) => {
      const at = pdf.length;
      pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
      return at;
    });
    const xref = pdf.length;
    pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n`;
    for (const at of offsets) pdf += `${String(at).padStart(10, '0')} 00000 n\r\n`;
    pdf += `trailer\n<</Size ${objects.length + 1}/Root 1 0 R>>\nstartxref\n${xref}\n%%EOF\n`;
    return Buffer.from(pdf, 'latin1');
  }

  /** A purchase contract: the outside person signs first (the fields given), then our company seals (over 甲方（盖章）, or where given). */
  async function sendContract(
    phone: string,
    fields: Array<Record<string, unknown>>,
    options: { pdf?: Buffer; sealField?: Record<string, unknown> } = {},
  ) {
    const uploaded = await world.app.inject({
      method: 'POST',
      url: '/api/v1/documents/uploads?name=purchase.pdf',
      headers: { authorization: `Bearer ${stamper.token}`, 'content-type': 'application/pdf' },
      payload: options.pdf ?? purchasePdf(),
    });
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    const created = await client(world, stamper.token).post('/api/v1/contracts', {
      title: '办公椅采购合同',
      number: `CG-${phone.slice(-4)}`,
      category: 'procurement',
      documentSha256: uploaded.json().sha256,
      participants: [
        { role: 'signer', step: 1, kind: 'outside_person', name: '王五', phone },
        { role: 'signer', step: 2, kind: 'company', companyId: company.id, sealId: seal.id, userId: stamper.id },
      ],
      fields: [
        ...fields,
        { participant: 1, type: 'company_seal', ...(options.sealField ?? { keyword: '甲方（盖章）' }) },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const sent = await client(world, stamper.token).post(`/api/v1/contracts/${created.body.id}/send`, {});
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    return {
      id: created.body.id as string,
      fields: created.body.fields as Array<{ id: string; type: string; rect: unknown; keyword: string | null }>,
      token: (sent.body.invitations[0].path as string).replace('/sign/', ''),
    };
  }

  /** The code in the newest SMS queued for this phone: what the gateway would deliver. */
  async function codeSentTo(phone: string): Promise<string> {
    const rows = await world.db
      .selectFrom('jobs')
      .select(['payload'])
      .where('kind', '=', 'sms.send')
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    const sms = rows.map((r) => r.payload as { to: string; text: string }).find((p) => p.to === phone);
    const code = /验证码 (\d{6})/.exec(sms?.text ?? '')?.[1];
    if (!code) throw new Error(`no code was sent to ${phone}`);
    return code;
  }

  const contractOf = async (id: string) => (await client(world, stamper.token).get(`/api/v1/contracts/${id}`)).body;

  async function open(page: Page, token: string): Promise<void> {
    const response = await page.goto(`${base}/sign/${token}`);
    expect(response?.status()).toBe(200);
    // The console's headers, unchanged: its strict policy, never framed, the link never sent on as a referrer.
    const headers = response!.headers();
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).not.toContain('unsafe');
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['cache-control']).toBe('no-cache');
  }

  async function enterCode(page: Page, code: string): Promise<void> {
    await page.getByTestId('sign-code-input').fill(code);
    await page.getByTestId('sign-verify').click();
  }

  /** Waits for page 1 to be drawn, and counts its pixels that are not paper. */
  async function inkOnFirstPage(page: Page): Promise<number> {
    await page.locator('[data-testid=sign-page][data-page="1"][data-rendered="true"]').waitFor();
    // A string, not a function: the test compiles without the DOM library.
    return page.evaluate<number>(`(() => {
      const canvas = document.querySelector('[data-testid=sign-page][data-page="1"] canvas');
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let inked = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] < 160 && data[i + 1] < 160 && data[i + 2] < 160) inked++;
      return inked;
    })()`);
  }

  /** The pad's box on screen, scrolled to the middle of the viewport (clear of the sticky action bar). */
  async function padBox(page: Page) {
    await page.evaluate(`document.querySelector('[data-testid=sign-pad]').scrollIntoView({ block: 'center' })`);
    await page.waitForTimeout(100);
    return (await page.getByTestId('sign-pad').boundingBox())!;
  }

  /** A name-like scrawl: three strokes across the middle half of the pad, as (x, y) fractions of it. */
  const strokes: Array<Array<[number, number]>> = [
    Array.from({ length: 16 }, (_, i) => [0.25 + i * 0.015, 0.35 + Math.sin(i / 2) * 0.12]),
    Array.from({ length: 16 }, (_, i) => [0.5 + i * 0.012, 0.6 - i * 0.02]),
    Array.from({ length: 12 }, (_, i) => [0.45 + i * 0.025, 0.5 + Math.cos(i) * 0.08]),
  ];

  /** Draws with a finger: touch events through the DevTools protocol, which Chromium turns into touch pointer events. */
  async function drawByTouch(page: Page): Promise<void> {
    const box = await padBox(page);
    const cdp = await page.context().newCDPSession(page);
    const at = ([x, y]: [number, number]) => ({ x: box.x + x * box.width, y: box.y + y * box.height, id: 1 });
    for (const stroke of strokes) {
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at(stroke[0]!)] });
      for (const point of stroke.slice(1))
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [at(point)] });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    }
    await cdp.detach();
  }

  async function drawByMouse(page: Page): Promise<void> {
    const box = await padBox(page);
    for (const stroke of strokes) {
      const [first, ...rest] = stroke;
      await page.mouse.move(box.x + first![0] * box.width, box.y + first![1] * box.height);
      await page.mouse.down();
      for (const [x, y] of rest) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 2 });
      await page.mouse.up();
    }
  }

  it(
    'on a phone: code by SMS, a wrong code, the contract drawn with its fields, a finger signature previewed in place, signed; pdfsig agrees',
    { timeout: 120_000 },
    async ({ onTestFailed }) => {
      const phone = '13800138001';
      const contract = await sendContract(phone, [
        { participant: 0, type: 'signature', page: 1, rect: [340, 120, 180, 70] },
        { participant: 0, type: 'signature', keyword: '乙方（签字）' },
        { participant: 0, type: 'date', page: 1, rect: [340, 92, 120, 20], label: '签署日期' },
        { participant: 0, type: 'text', page: 2, rect: [72, 500, 300, 20], label: '收货地址' },
        { participant: 0, type: 'checkbox', page: 2, rect: [72, 470, 14, 14], label: '已阅读附件', required: false },
      ]);
      const rectField = contract.fields.find((f) => f.type === 'signature' && f.rect);
      const keywordField = contract.fields.find((f) => f.type === 'signature' && f.keyword);
      const dateField = contract.fields.find((f) => f.type === 'date');
      const textField = contract.fields.find((f) => f.type === 'text');
      const checkboxField = contract.fields.find((f) => f.type === 'checkbox');
      const page = await suite.newPage(PHONE, onTestFailed, 'phone');
      const requests: Array<{ path: string; authorized: boolean; at: number }> = [];
      page.on('request', (request) =>
        requests.push({
          path: new URL(request.url()).pathname,
          authorized: 'authorization' in request.headers(),
          at: Date.now(),
        }),
      );

      // 1. The invitation, in Chinese although the browser asks for English.
      await open(page, contract.token);
      await page.getByTestId('sign-code-step').waitFor();
      expect(await text(page, 'sign-title')).toBe('办公椅采购合同');
      expect(await text(page, 'sign-company')).toBe('华夏贸易有限公司 邀请您签署');
      expect(await text(page, 'sign-number')).toBe('CG-8001');
      expect(await text(page, 'sign-signer')).toContain('王五');
      expect(await text(page, 'sign-signer')).toContain('138****8001');
      expect(await text(page, 'sign-code-to')).toContain('138****8001');
      // The code field brings up the number pad and takes the code offered from the SMS.
      const input = page.getByTestId('sign-code-input');
      expect(await input.getAttribute('inputmode')).toBe('numeric');
      expect(await input.getAttribute('autocomplete')).toBe('one-time-code');
      expect(await page.getByLabel('验证码').count()).toBe(1);
      await expectNoHorizontalScroll(page);
      await screenshotPage(page, 'sign-phone-invitation.png');

      // 2. The code: sent, the button waits a minute; a wrong code says how many tries remain.
      await page.getByTestId('sign-send-code').click();
      await waitForText(page, 'sign-send-note', (t) => t.includes('验证码已发送至 138****8001'));
      expect(await page.getByTestId('sign-send-code').isDisabled()).toBe(true);
      expect(await text(page, 'sign-send-code')).toMatch(/^\d+ 秒后可重新获取$/);
      const code = await codeSentTo(phone);
      await page.getByTestId('sign-consent').check();
      await enterCode(page, code === '000000' ? '111111' : '000000');
      await waitForText(page, 'sign-code-note', (t) => t === '验证码不正确，还可尝试 4 次。');
      expect(await input.inputValue()).toBe('');
      await screenshotPage(page, 'sign-phone-wrong-code.png');
      const beforeSession = Date.now();
      await enterCode(page, code);

      // 3. The contract, drawn by pdf.js (fetched only now), the signer's fields marked on it.
      const ink = await inkOnFirstPage(page);
      expect(ink, 'page 1 has no ink').toBeGreaterThan(500);
      expect(await page.locator('[data-testid=sign-page]').count()).toBe(2);
      const lazy = requests.filter((r) => /\/assets\/pdf[-.]/.test(r.path));
      expect(lazy.map((r) => r.path)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/\/assets\/pdf-[\w-]+\.js$/),
          expect.stringMatching(/pdf\.worker/),
        ]),
      );
      for (const r of lazy)
        expect(r.at, `${r.path} was fetched before the code was entered`).toBeGreaterThan(beforeSession);
      // The rectangle field sits where its PDF points say: x 340 of 595, from the bottom 120 + 70 of 842.
      const sheet = (await page.locator('[data-testid=sign-page][data-page="1"] .sheet-paper').boundingBox())!;
      const rectMark = page.locator(`[data-testid=sign-field][data-field="${rectField!.id}"]`);
      const mark = (await rectMark.boundingBox())!;
      expect(Math.abs(mark.x - (sheet.x + (340 / 595) * sheet.width))).toBeLessThan(2);
      expect(Math.abs(mark.y - (sheet.y + ((842 - 190) / 842) * sheet.height))).toBeLessThan(2);
      expect(Math.abs(mark.width - (180 / 595) * sheet.width)).toBeLessThan(2);
      expect(await rectMark.textContent()).toBe('请在此签名');
      // The keyword field is listed, and found on the page by its text.
      expect(await text(page, 'sign-fields')).toContain('「乙方（签字）」');
      await page.locator(`[data-testid=sign-field][data-field="${keywordField!.id}"]`).waitFor();
      expect(await page.locator(`[data-testid=sign-field][data-field="${dateField!.id}"]`).textContent()).toBe(
        '签署日期',
      );
      const date = await page.locator('[data-testid=sign-value][type=date]').inputValue();
      expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      await expectNoHorizontalScroll(page);
      await screenshotPage(page, 'sign-phone-document.png');

      // 4. The signature: nothing drawn is refused; then a finger draws, and it shows in both places before signing.
      await page.getByTestId('sign-pad-use').click();
      await page.getByTestId('sign-pad-problem').waitFor();
      await drawByTouch(page);
      expect(await page.getByTestId('sign-pad').getAttribute('data-strokes')).toBe('3');
      await page.getByTestId('sign-pad-undo').click();
      expect(await page.getByTestId('sign-pad').getAttribute('data-strokes')).toBe('2');
      await page.getByTestId('sign-pad-clear').click();
      expect(await page.getByTestId('sign-pad').getAttribute('data-strokes')).toBe('0');
      await drawByTouch(page);
      expect(await page.getByTestId('sign-pad').getAttribute('data-strokes')).toBe('3');
      await page.getByTestId('sign-pad-use').click();
      await page.getByTestId('sign-adopted').waitFor();
      const previews = page.locator('[data-testid=sign-field][data-preview="true"]');
      expect(await previews.count()).toBe(2);
      expect(await page.locator(`[data-field="${rectField!.id}"] [data-testid=sign-preview]`).count()).toBe(1);
      expect(await page.locator(`[data-field="${keywordField!.id}"] [data-testid=sign-preview]`).count()).toBe(1);
      expect(await rectMark.textContent()).toBe('签名将出现在此处');
      // The PNG: transparent around the ink, trimmed to it (far smaller than the pad at 3×).
      const pad = (await page.getByTestId('sign-pad').boundingBox())!;
      const png = await page.evaluate<{ width: number; height: number; corner: number; inked: number }>(`(() => {
        const img = document.querySelector('[data-testid=sign-preview]');
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        const context = canvas.getContext('2d');
        context.drawImage(img, 0, 0);
        const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
        let inked = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked++;
        return { width: canvas.width, height: canvas.height, corner: data[3], inked };
      })()`);
      expect(png.corner).toBe(0);
      expect(png.inked).toBeGreaterThan(200);
      expect(png.width).toBeLessThan(pad.width * 3 * 0.7);
      expect(png.height).toBeLessThan(pad.height * 3 * 0.7);
      await expectNoHorizontalScroll(page);
      await screenshotPage(page, 'sign-phone-preview.png');

      // 5. The fields to fill: a required one left empty is named; then filled, and the box ticked.
      await page.getByTestId('sign-submit').click();
      await waitForText(page, 'sign-problem', (t) => t === '请先填写「收货地址」。');
      await page.getByLabel('收货地址').fill('上海市浦东新区世纪大道 100 号');
      await page.getByLabel('已阅读附件').check();
      // 6. Signed.
      await page.getByTestId('sign-submit').click();
      await page.getByTestId('sign-done').waitFor({ timeout: 60_000 });
      expect(await text(page, 'sign-done')).toContain('已签署');
      expect(await text(page, 'sign-done')).toContain('《办公椅采购合同》');
      expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
      await screenshotPage(page, 'sign-phone-done.png');

      // No credentials, only the signing routes, none of the console's scripts.
      expect(requests.filter((r) => r.authorized)).toEqual([]);
      expect(requests.filter((r) => r.path.startsWith('/api/') && !r.path.startsWith('/api/v1/signing/'))).toEqual([]);
      const scripts = requests.filter((r) => r.path.endsWith('.js')).map((r) => r.path);
      expect(scripts.filter((path) => /\/(index|SignedIn|messages\.[\w-]+)-/.test(path))).toEqual([]);

      // The server's record: the outsider is done with the date filled; the PDF carries both signatures.
      const middle = await contractOf(contract.id);
      expect(middle.status).toBe('signing');
      expect(middle.participants.map((p: { status: string }) => p.status)).toEqual(['done', 'active']);
      const valueOf = (id: string) => middle.fields.find((f: { id: string }) => f.id === id).value;
      expect(valueOf(dateField!.id)).toBe(date);
      expect(valueOf(textField!.id)).toBe('上海市浦东新区世纪大道 100 号');
      expect(valueOf(checkboxField!.id)).toBe('true');
      const download = async (name: string) => {
        const response = await world.app.inject({
          method: 'GET',
          url: `/api/v1/contracts/${contract.id}/document`,
          headers: { authorization: `Bearer ${stamper.token}` },
        });
        expect(response.statusCode).toBe(200);
        const file = join(tmp.dir, name);
        writeFileSync(file, response.rawPayload);
        return file;
      };
      /**
       * pdfsig finds every signature valid, and the certificate of each signer trusted. pdfsig
       * (poppler 25, NSS) reports "Unknown issue with Certificate" for the second signature made
       * with a certificate it has already checked in the same file (two signatures by one key
       * under Sigil's plain signPdf show it too), so a repeated signer's trust is read from its
       * first signature, and the platform's verifier vouches for the chain of every one.
       */
      const verified = async (name: string) => {
        const file = await download(name);
        const report = pdfsig(file, nss).map((s) => ({
          ...s,
          signer: /Signer full Distinguished Name: (.*)/.exec(s.raw)?.[1]?.trim() ?? '',
        }));
        const seen = new Set<string>();
        for (const signature of report) {
          expect(signature.signatureValid, signature.raw).toBe(true);
          if (!seen.has(signature.signer)) expect(signature.certificateTrusted, signature.raw).toBe(true);
          seen.add(signature.signer);
        }
        const checked = await world.app.inject({
          method: 'POST',
          url: '/api/v1/public/verifications',
          headers: { 'content-type': 'application/pdf' },
          payload: readFileSync(file),
        });
        expect(checked.statusCode, checked.body).toBe(200);
        const signatures = checked.json().signatures as Array<{ intact: boolean; chainTrusted: boolean }>;
        expect(signatures).toHaveLength(report.length);
        for (const signature of signatures) expect(signature).toMatchObject({ intact: true, chainTrusted: true });
        return report;
      };
      const signedByOutsider = await verified('outsider.pdf');
      expect(signedByOutsider.map((s) => s.signer)).toEqual(['CN=王五', 'CN=王五']);
      // Our company seals after: every earlier signature still verifies.
      const sealed = await client(world, stamper.token).post(`/api/v1/contracts/${contract.id}/sign`, {});
      expect(sealed.status, JSON.stringify(sealed.body)).toBe(200);
      expect(sealed.body.status).toBe('completed');
      expect(await verified('completed.pdf')).toHaveLength(3);
    },
  );

  it(
    'on a desktop, in English: a code asked for again too soon waits; the signer refuses with a reason',
    { timeout: 90_000 },
    async ({ onTestFailed }) => {
      const phone = '13800138002';
      const contract = await sendContract(phone, [{ participant: 0, type: 'signature', keyword: '乙方（签字）' }], {
        pdf: predefinedCMapPdf(),
        sealField: { page: 1, rect: [72, 400, 120, 120] },
      });
      const page = await suite.newPage(DESKTOP, onTestFailed, 'desktop');
      const fetched: string[] = [];
      page.on('request', (request) => fetched.push(new URL(request.url()).pathname));
      await open(page, contract.token);
      await page.getByTestId('sign-lang-en').click();
      await waitForText(page, 'sign-company', (t) => t === '华夏贸易有限公司 invites you to sign');
      expect(await page.evaluate<string>('document.documentElement.lang')).toBe('en');

      await page.getByTestId('sign-send-code').click();
      await waitForText(page, 'sign-send-note', (t) => t.startsWith('Code sent to 138****8002'));
      // A reload forgets the countdown; the server does not: the wait comes back with its seconds.
      await page.reload();
      await waitForText(page, 'sign-company', (t) => t.endsWith('invites you to sign'));
      await page.getByTestId('sign-send-code').click();
      const note = await waitForText(page, 'sign-send-note', (t) => t.startsWith('A code was sent a moment ago'));
      const seconds = Number(/in (\d+) seconds/.exec(note)?.[1]);
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThanOrEqual(60);
      expect(await page.getByTestId('sign-send-code').isDisabled()).toBe(true);
      expect(await text(page, 'sign-send-code')).toMatch(/^Send again in \d+ s$/);

      // Without consent the code is not sent on.
      await enterCode(page, await codeSentTo(phone));
      await waitForText(page, 'sign-code-note', (t) => t === 'Tick the box to agree to sign electronically first.');
      await page.getByTestId('sign-consent').check();
      await page.getByTestId('sign-verify').click();
      expect(await inkOnFirstPage(page)).toBeGreaterThan(500);
      // The keyword is found only if pdf.js read the UCS-2 text through Adobe's CMaps, fetched from this origin.
      await waitForText(page, 'sign-fields', (t) => t.includes('Your signature goes at “乙方（签字）” on page 1.'));
      expect(await page.locator('[data-testid=sign-field][data-type=signature]').count()).toBe(1);
      expect(fetched).toContain(`/pdfjs/${pdfjsVersion}/cmaps/UniGB-UCS2-H.bcmap`);

      await page.getByTestId('sign-reject').click();
      await page.getByTestId('sign-reject-confirm').click();
      await page.getByText('Give a reason.').waitFor();
      await page.getByTestId('sign-reject-reason').fill('交货期与报价单不符');
      await screenshotPage(page, 'sign-desktop-reject.png');
      await page.getByTestId('sign-reject-confirm').click();
      await page.getByTestId('sign-rejected').waitFor();
      expect(await text(page, 'sign-rejected')).toContain('You refused to sign “办公椅采购合同”');
      await screenshotPage(page, 'sign-desktop-rejected.png');

      const after = await contractOf(contract.id);
      expect(after.status).toBe('rejected');
      expect(after.participants[0].status).toBe('rejected');
      expect(after.participants[0].reason).toBe('交货期与报价单不符');
    },
  );

  it(
    'says in plain words when a link is unknown, expired or spent, and sends the signer back to the code when the session ran out',
    { timeout: 90_000 },
    async ({ onTestFailed }) => {
      const page = await suite.newPage(PHONE, onTestFailed, 'links');
      const closed = async (code: string) => {
        await page.locator(`[data-testid=sign-closed][data-code="${code}"]`).waitFor();
        return text(page, 'sign-closed');
      };

      await open(page, 'not-a-real-token-at-all-xxxxxxxxxxxx');
      expect(await closed('signing_link_invalid')).toBe('该签署链接无效。请确认链接完整，或联系发送方重新发送。');
      // Too short to be a token: refused without asking the server.
      await open(page, 'abc');
      expect(await closed('signing_link_invalid')).toContain('该签署链接无效');

      const expired = await sendContract('13800138003', [
        { participant: 0, type: 'signature', page: 1, rect: [340, 120, 180, 70] },
      ]);
      await world.db
        .updateTable('contract_links')
        .set({ expires_at: new Date(Date.now() - 60_000) })
        .where('contract_id', '=', expired.id)
        .execute();
      await open(page, expired.token);
      expect(await closed('signing_link_expired')).toBe('该签署链接已过期。请联系发送方重新发送。');
      await screenshotPage(page, 'sign-phone-expired.png');

      // A session that ran out (30 minutes) sends the signer back to the code step, saying why;
      // the link stays open until they act, so a new code opens a new session.
      const phone = '13800138004';
      const lapsed = await sendContract(phone, [
        { participant: 0, type: 'signature', page: 1, rect: [340, 120, 180, 70] },
      ]);
      await open(page, lapsed.token);
      await page.getByTestId('sign-send-code').click();
      await waitForText(page, 'sign-send-note', (t) => t.includes('138****8004'));
      await page.getByTestId('sign-consent').check();
      await enterCode(page, await codeSentTo(phone));
      await inkOnFirstPage(page);
      // A reload within the session resumes it (the link is spent): the contract again, not an error.
      await page.reload();
      expect(await inkOnFirstPage(page)).toBeGreaterThan(500);
      await drawByMouse(page);
      await page.getByTestId('sign-pad-use').click();
      world.clock.advance(31 * 60_000);
      try {
        await page.getByTestId('sign-submit').click();
        await page.getByTestId('sign-code-step').waitFor();
        expect(await text(page, 'sign-send-note')).toBe('签署会话已结束（有效期 30 分钟），请重新验证身份后继续。');
        expect(await text(page, 'sign-title')).toBe('办公椅采购合同');
        await screenshotPage(page, 'sign-phone-session-ended.png');
        world.clock.advance(2 * 60_000);
        await page.getByTestId('sign-send-code').click();
        await waitForText(page, 'sign-send-note', (t) => t.includes('138****8004'));
        await page.getByTestId('sign-consent').check();
        await enterCode(page, await codeSentTo(phone));
        expect(await inkOnFirstPage(page)).toBeGreaterThan(500);
      } finally {
        world.clock.advance(-33 * 60_000);
      }
      expect((await contractOf(lapsed.id)).participants[0].status).toBe('active');
    },
  );
});
