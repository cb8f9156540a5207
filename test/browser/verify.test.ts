import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { signPdf } from '../../src/signing/pades.js';
import { sha256Of } from '../../src/signing/verify.js';
import { buildPdf } from '../signing/pdf-fixtures.js';
import { testPki } from '../signing/support.js';
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

/**
 * The public verification page (/verify) in Debian's Chromium, as a visitor with no account on a
 * 390-px phone and on a desktop: a PDF the platform signed shows green with its seal, its company
 * and its impression; a copy with one byte changed shows red and says what changed; a PDF signed
 * under another root shows amber (dropped on the page, on the desktop), never green; the language
 * follows the browser, switches, and stays switched; a SHA-256 is looked up; the root certificate
 * is one tap away. Screenshots land in test-output/verify-*.png.
 */
describe.skipIf(!hasChromium && !browserRequired)('the public verification page', () => {
  const suite = useBrowserSuite({ screenshots: 'verify', groupName: 'Huaxia Group', timeoutMs: 15_000 });
  let world: World;
  let group: GroupFixture;
  let base: string;
  /** A PDF the platform signed (visible seal, B-T), a copy with one signed byte changed, one signed under another root. */
  let signed: Buffer;
  let tampered: Buffer;
  let foreign: Buffer;

  beforeAll(async () => {
    ({ world, group, base } = suite);
    const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
    const keeper = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'seal_admin' }],
    });
    const employee = await buildUser(world, { groupId: group.groupId, companyId: company.id });
    const seal = await buildSeal(world, {
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
    await world.db
      .updateTable('seals')
      .set({ image_sha256: image.body.sha256, image_media_type: image.body.mediaType })
      .where('id', '=', seal.id)
      .execute();
    await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: employee.id },
      categories: ['sales'],
    });
    const original = buildPdf({ pages: 1, lines: ['Sales contract No. 2026-001'], compress: false });
    const uploaded = await world.app.inject({
      method: 'POST',
      url: '/api/v1/documents/uploads?name=contract.pdf',
      headers: { authorization: `Bearer ${employee.token}`, 'content-type': 'application/pdf' },
      payload: original,
    });
    const signature = await client(world, employee.token).post('/api/v1/signatures', {
      documentSha256: uploaded.json().sha256,
      sealId: seal.id,
      category: 'sales',
      level: 'B-T',
      appearance: { type: 'rect', page: 1, rect: [380, 80, 120, 120] },
    });
    expect(signature.status, JSON.stringify(signature.body)).toBe(201);
    signed = (
      await world.app.inject({
        method: 'GET',
        url: `/api/v1/signatures/${signature.body.id}/document`,
        headers: { authorization: `Bearer ${employee.token}` },
      })
    ).rawPayload;
    tampered = Buffer.from(signed);
    const at = tampered.indexOf('Sales contract No. 2026-001');
    tampered[at + 'Sales contract No. 2026-00'.length] = '9'.charCodeAt(0);
    foreign = await signPdf(buildPdf({ seed: 9 }), { signer: (await testPki()).sealRsa.signer });
  });

  async function open(page: Page): Promise<void> {
    const response = await page.goto(`${base}/verify`);
    expect(response?.status()).toBe(200);
    // The console's policy, unchanged.
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(response?.headers()['x-frame-options']).toBe('DENY');
    await page.getByTestId('verify-title').waitFor();
  }

  async function choose(page: Page, name: string, buffer: Buffer): Promise<void> {
    await page.getByTestId('verify-file-input').setInputFiles({ name, mimeType: 'application/pdf', buffer });
  }

  const verdictOf = (page: Page) => page.getByTestId('verify-verdict').getAttribute('data-verdict');

  async function waitForVerdict(page: Page, verdict: string): Promise<void> {
    await page.locator(`[data-testid=verify-verdict][data-verdict="${verdict}"]`).waitFor();
  }

  it('on a phone: a signed PDF is green, an altered copy red with what changed, in English then Chinese', async ({
    onTestFailed,
  }) => {
    const page = await suite.newPage(PHONE, onTestFailed, 'phone');
    const requests: Array<{ url: string; authorized: boolean }> = [];
    page.on('request', (request) =>
      requests.push({ url: new URL(request.url()).pathname, authorized: 'authorization' in request.headers() }),
    );
    await open(page);
    // The browser asks for English; nobody is signed in and nothing of the console is loaded.
    expect(await text(page, 'verify-title')).toBe('Verify a signed document');
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
    expect(await page.locator('[data-testid=signin-email]').count()).toBe(0);

    await choose(page, '销售合同-signed.pdf', signed);
    await waitForVerdict(page, 'valid');
    expect(await text(page, 'verify-verdict')).toMatch(/^.?Valid: every signature is intact/);
    expect(await text(page, 'verify-signer')).toBe('华夏贸易合同专用章');
    expect(await text(page, 'verify-company')).toBe('华夏贸易有限公司');
    expect(await page.getByTestId('verify-trust').getAttribute('data-trusted')).toBe('true');
    expect(await text(page, 'verify-platform')).toMatch(/^This exact file was signed on this platform/);
    const impression = page.getByTestId('verify-impression').locator('img');
    await impression.waitFor();
    expect(
      await page.evaluate<number>("document.querySelector('[data-testid=verify-impression] img').naturalWidth"),
    ).toBeGreaterThan(0);
    await expectNoHorizontalScroll(page);
    await screenshotPage(page, 'verify-phone-valid.png');

    await choose(page, '销售合同-altered.pdf', tampered);
    await waitForVerdict(page, 'altered');
    expect(await text(page, 'verify-verdict')).toContain('Altered: this document was changed after it was signed.');
    expect(await text(page, 'verify-changes')).toContain('What signature 1 (华夏贸易合同专用章) signed is no longer');
    expect(await text(page, 'verify-platform')).toMatch(/^This platform did not sign this exact file/);
    await expectNoHorizontalScroll(page);
    await screenshotPage(page, 'verify-phone-altered.png');

    // 中文: the same report in Chinese, and the choice kept for the next visit.
    await page.getByTestId('verify-lang-zh-CN').click();
    await waitForText(page, 'verify-title', (t) => t === '签章文件验证');
    expect(await text(page, 'verify-verdict')).toContain('文件已被篡改');
    expect(await page.evaluate<string>('document.documentElement.lang')).toBe('zh-CN');
    await page.reload();
    await waitForText(page, 'verify-title', (t) => t === '签章文件验证');
    await choose(page, 'signed.pdf', signed);
    await waitForVerdict(page, 'valid');
    expect(await text(page, 'verify-verdict')).toContain('验证通过');
    await expectNoHorizontalScroll(page);
    await screenshotPage(page, 'verify-phone-valid-zh.png');
    await page.getByTestId('verify-lang-en').click();
    await waitForText(page, 'verify-title', (t) => t === 'Verify a signed document');

    // Only the public routes were asked, with no credentials, and no script of the console's was fetched.
    expect(requests.filter((r) => r.authorized)).toEqual([]);
    expect(requests.filter((r) => r.url.startsWith('/api/') && !r.url.startsWith('/api/v1/public/'))).toEqual([]);
    const scripts = requests.filter((r) => r.url.endsWith('.js')).map((r) => r.url);
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts.filter((url) => /\/(index|SignedIn|messages\.[\w-]+)-/.test(url))).toEqual([]);
  });

  it('on a desktop: a PDF dropped on the page signed under another root is amber, never green; look-ups by hash; the root certificate', async ({
    onTestFailed,
  }) => {
    const page = await suite.newPage(DESKTOP, onTestFailed, 'desktop');
    await open(page);

    // Dropped, as a file dragged from the desktop: a DataTransfer holding the PDF.
    // A string, not a function: the test compiles without the DOM library.
    const transfer = await page.evaluateHandle(`(() => {
      const bytes = Uint8Array.from(atob('${foreign.toString('base64')}'), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'foreign.pdf', { type: 'application/pdf' }));
      return data;
    })()`);
    await page.getByTestId('verify-drop').dispatchEvent('dragover', { dataTransfer: transfer });
    await page.getByTestId('verify-drop').dispatchEvent('drop', { dataTransfer: transfer });
    await waitForVerdict(page, 'unknown-signer');
    expect(await verdictOf(page)).not.toBe('valid');
    expect(await text(page, 'verify-verdict')).toMatch(/Intact, but the signer is not vouched for/);
    expect(await page.getByTestId('verify-trust').getAttribute('data-trusted')).toBe('false');
    expect(await page.getByTestId('verify-signature').getAttribute('data-status')).toBe('unknown-signer');
    await screenshotPage(page, 'verify-desktop-unknown-signer.png');

    await page.getByTestId('verify-hash-input').fill(sha256Of(signed).toUpperCase());
    await page.getByTestId('verify-hash-submit').click();
    await page.locator('[data-testid=verify-lookup][data-found="true"]').waitFor();
    expect(await text(page, 'verify-lookup')).toContain('CN=华夏贸易合同专用章, O=华夏贸易有限公司');
    await page.getByTestId('verify-hash-input').fill(randomBytes(32).toString('hex'));
    await page.getByTestId('verify-hash-submit').click();
    await page.locator('[data-testid=verify-lookup][data-found="false"]').waitFor();
    await page.getByTestId('verify-hash-input').fill('not a hash');
    await page.getByTestId('verify-hash-submit').click();
    await page.getByTestId('verify-hash-invalid').waitFor();

    // A link carrying the hash looks it up as the page opens.
    await page.goto(`${base}/verify?sha256=${sha256Of(signed)}`);
    await page.locator('[data-testid=verify-lookup][data-found="true"]').waitFor();

    const link = page.getByTestId('verify-root-link');
    expect(await link.getAttribute('href')).toBe('/pki/root/certificate');
    const root = await page.request.get(`${base}${await link.getAttribute('href')}`);
    expect(root.status()).toBe(200);
    expect(root.headers()['content-type']).toBe('application/pkix-cert');
    await expectNoHorizontalScroll(page);
    await screenshotPage(page, 'verify-desktop-lookup.png');
  });
});
