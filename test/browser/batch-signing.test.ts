import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPdf } from '../signing/pdf-fixtures.js';
import { nssDatabase, pdfsig, requireTool, tempDir } from '../signing/support.js';
import { buildCompany, buildSeal, buildUser, client, DEFAULT_PASSWORD, type World } from '../support/world.js';
import {
  useBrowserSuite,
  browserRequired,
  DESKTOP,
  expectNoHorizontalScroll,
  hasChromium,
  PHONE,
  screenshotPage,
  signIn,
  text,
  waitForText,
} from './browser-support.js';

/**
 * Batch signing in Chromium, on a desk and on a phone: someone holding a grant for an electronic
 * seal adds several PDFs, confirms once, and watches the batch while the job runner signs each
 * document (the runner is driven by the test, so the page is seen waiting first); a document
 * without the keyword fails alone and says why, the others are signed and download, and pdfsig
 * finds each downloaded signature valid and trusted. Screenshots: test-output/batch-signing-*.png.
 */

describe.skipIf(!hasChromium && !browserRequired)('batch signing in a browser', () => {
  const suite = useBrowserSuite({ screenshots: 'batch-signing', groupName: 'Huaxia Group' });
  let world: World;
  let base: string;
  let user: Awaited<ReturnType<typeof buildUser>>;
  let tmp: ReturnType<typeof tempDir>;
  let nss: string;

  beforeAll(async () => {
    requireTool('pdfsig');
    requireTool('certutil');
    tmp = tempDir('sigil-batch-browser-');
    ({ world, base } = suite);
    const group = suite.group;
    const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
    const keeper = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'seal_admin' }],
    });
    user = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Bea Batcher' });
    const seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [keeper.id],
      name: '华夏贸易合同专用章',
    });
    const keeperApi = client(world, keeper.token);
    const image = await keeperApi.post('/api/v1/seal-images/generate', {
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
    const grant = await keeperApi.post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: user.id },
      categories: ['finance'],
    });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);
    const root = await world.app.inject({ method: 'GET', url: '/pki/root/certificate' });
    nss = nssDatabase(tmp.dir, root.rawPayload);
  });
  afterAll(() => tmp?.remove());

  const invoice = (n: number, keyword = true) => ({
    name: `invoice-${n}.pdf`,
    mimeType: 'application/pdf',
    buffer: buildPdf({
      pages: 1,
      lines: [`Invoice ${n}`],
      cjkLines: keyword ? ['销售方（盖章）：华夏贸易有限公司'] : ['备注：无'],
      compress: false,
      seed: 700 + n,
    }),
  });

  async function openBatchForm(page: Page) {
    await page.goto(`${base}/stamp`);
    await page.getByTestId('signin-form').waitFor();
    await signIn(page, user.email, DEFAULT_PASSWORD);
    await page.getByTestId('stamp-batch').click();
    await page.getByTestId('batch-form').waitFor();
  }

  /** Adds the files and waits until each is uploaded (about a minute at most for 200). */
  async function addFiles(page: Page, files: ReturnType<typeof invoice>[]) {
    await page.getByTestId('batch-file-input').setInputFiles(files);
    const uploads = page.locator('[data-testid=batch-upload][data-state=ready]');
    const rounds = Math.max(200, files.length * 6);
    for (let i = 0; i < rounds && (await uploads.count()) < files.length; i++) await page.waitForTimeout(50);
    expect(await uploads.count()).toBe(files.length);
  }

  /** Runs the job runner until the batch is done (one run may hand the rest to the next). */
  async function runBatch(batchId: string) {
    for (let round = 0; round < 200; round++) {
      await world.jobs.runDueJobs();
      const batch = await client(world, user.token).get(`/api/v1/signatures/batches/${batchId}`);
      if (batch.body.status === 'done') return batch.body;
    }
    throw new Error('the batch never finished');
  }

  it(
    'on a desk: adds four PDFs, confirms once, sees the batch wait, then three signed and one failed with its reason; a signed one downloads and pdfsig trusts it',
    { timeout: 180_000 },
    async ({ onTestFailed }) => {
      const page = await suite.newPage(DESKTOP, onTestFailed, 'desk');
      await openBatchForm(page);

      // Nothing to sign yet: the form says so and asks nothing of the server.
      await page.getByTestId('batch-keyword').fill('销售方（盖章）');
      await page.getByTestId('batch-submit').click();
      await waitForText(page, 'field-error', (v) => v === 'Add at least one PDF.');
      expect(await page.getByTestId('confirm-dialog').count()).toBe(0);

      await addFiles(page, [invoice(1), invoice(2), invoice(3, false), invoice(4)]);
      expect(await text(page, 'batch-submit')).toBe('Sign 4 documents');
      await page.getByTestId('batch-submit').click();
      await waitForText(page, 'confirm-dialog', (v) => v.includes('华夏贸易合同专用章 will be applied to 4 documents'));
      await page.getByTestId('confirm-ok').click();
      await page.waitForURL(/\/stamp\/batches\/[0-9a-f-]{36}$/);
      const batchId = page.url().split('/').pop()!;

      // Nothing is signed until the runner gets to it; the page says so and keeps asking.
      await waitForText(page, 'batch-status', (v) => v === 'Signing… 0 of 4');
      expect(await page.locator('[data-testid=batch-item][data-status=pending]').count()).toBe(4);
      await screenshotPage(page, 'batch-signing-desktop-waiting.png');

      const finished = await runBatch(batchId);
      expect(finished).toMatchObject({ total: 4, signed: 3, failed: 1 });
      await waitForText(page, 'batch-status', (v) => v === 'Finished');
      expect(await text(page, 'batch-counts')).toBe('3 signed · 1 failed · 4 in all');
      expect(await text(page, 'batch-failed-summary')).toContain('Documents not signed: 1.');

      // The failed one comes first, named by its file, with the reason.
      const first = page.getByTestId('batch-item').first();
      expect(await first.getAttribute('data-status')).toBe('failed');
      expect(await first.textContent()).toContain('invoice-3.pdf');
      const reason = first.getByTestId('batch-reason');
      expect(await reason.getAttribute('data-code')).toBe('pdf_keyword_not_found');
      expect(await reason.textContent()).toContain('销售方（盖章）');
      expect(await page.locator('[data-testid=batch-item][data-status=signed]').count()).toBe(3);
      await screenshotPage(page, 'batch-signing-desktop-done.png');

      // A signed document downloads as a PDF that pdfsig checks.
      const signedRow = page.locator('[data-testid=batch-item][data-status=signed]', { hasText: 'invoice-2.pdf' });
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        signedRow.getByTestId('batch-download').click(),
      ]);
      const file = join(tmp.dir, 'invoice-2-signed.pdf');
      const bytes = readFileSync((await download.path())!);
      const original = invoice(2).buffer;
      expect(bytes.subarray(0, original.length).equals(original)).toBe(true);
      writeFileSync(file, bytes);
      const report = pdfsig(file, nss);
      expect(report).toHaveLength(1);
      expect(report[0]!.signatureValid).toBe(true);
      expect(report[0]!.certificateTrusted).toBe(true);

      // A reload still names the files (kept in this tab) and shows the same outcome.
      await page.reload();
      await waitForText(page, 'batch-status', (v) => v === 'Finished');
      expect(await page.getByTestId('batch-item').first().textContent()).toContain('invoice-3.pdf');
    },
  );

  it(
    "a day's 200 invoices: added at once, one confirmation, each signed on its own, and pdfsig trusts every one",
    { timeout: 600_000 },
    async ({ onTestFailed }) => {
      const page = await suite.newPage(DESKTOP, onTestFailed, 'two-hundred');
      await openBatchForm(page);
      const files = Array.from({ length: 200 }, (_, i) => invoice(1000 + i));
      await addFiles(page, files);
      await page.getByTestId('batch-keyword').fill('销售方（盖章）');
      expect(await text(page, 'batch-submit')).toBe('Sign 200 documents');
      await page.getByTestId('batch-submit').click();
      await waitForText(page, 'confirm-dialog', (v) => v.includes('will be applied to 200 documents'));
      await page.getByTestId('confirm-ok').click();
      await page.waitForURL(/\/stamp\/batches\/[0-9a-f-]{36}$/);
      const batchId = page.url().split('/').pop()!;
      const finished = await runBatch(batchId);
      expect(finished).toMatchObject({ total: 200, signed: 200, failed: 0 });
      await waitForText(page, 'batch-counts', (v) => v === '200 signed · 0 failed · 200 in all');
      await screenshotPage(page, 'batch-signing-desktop-200.png');

      // Every document has a signature of its own over its own bytes, and pdfsig trusts each.
      const api = client(world, user.token);
      const items = finished.items as Array<{ signatureId: string | null }>;
      const ids = new Set(items.map((i) => i.signatureId));
      expect(ids.size).toBe(200);
      for (const [n, item] of items.entries()) {
        const signed = await world.app.inject({
          method: 'GET',
          url: `/api/v1/signatures/${item.signatureId}/document`,
          headers: { authorization: `Bearer ${user.token}` },
        });
        expect(signed.statusCode).toBe(200);
        const file = join(tmp.dir, `batch-200-${n}.pdf`);
        writeFileSync(file, signed.rawPayload);
        const report = pdfsig(file, nss);
        expect(report, file).toHaveLength(1);
        expect(report[0]!.signatureValid, file).toBe(true);
        expect(report[0]!.certificateTrusted, file).toBe(true);
      }
      expect((await api.get(`/api/v1/signatures/batches/${batchId}`)).body.signed).toBe(200);
    },
  );

  it(
    'on a phone: three PDFs after one confirmation, followed live, in Chinese: two signed, one failed with its reason in Chinese',
    { timeout: 180_000 },
    async ({ onTestFailed }) => {
      const page = await suite.newPage(PHONE, onTestFailed, 'phone');
      await openBatchForm(page);
      await page.getByTestId('lang-zh').click();
      await waitForText(page, 'page-title', (v) => v === '批量盖章');
      await addFiles(page, [invoice(11), invoice(12), invoice(13, false)]);
      await page.getByTestId('batch-keyword').fill('销售方（盖章）');
      await expectNoHorizontalScroll(page);
      await screenshotPage(page, 'batch-signing-phone-form-zh.png');
      await page.getByTestId('batch-submit').click();
      await page.getByTestId('confirm-ok').click();
      await page.waitForURL(/\/stamp\/batches\//);
      const batchId = page.url().split('/').pop()!;
      await waitForText(page, 'batch-status', (v) => v === '签署中… 0/3');
      await runBatch(batchId);
      await waitForText(page, 'batch-status', (v) => v === '已完成');
      expect(await text(page, 'batch-counts')).toBe('已签 2 · 失败 1 · 共 3');
      expect(await text(page, 'batch-failed-summary')).toContain('1 份文件未能签署');
      expect(await text(page, 'batch-reason')).toBe('文件中找不到关键字“销售方（盖章）”。');
      expect(await page.locator('[data-testid=batch-item][data-status=signed]').count()).toBe(2);
      await expectNoHorizontalScroll(page);
      await screenshotPage(page, 'batch-signing-phone-done-zh.png');
    },
  );
});
