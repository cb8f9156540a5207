import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPdf } from '../signing/pdf-fixtures.js';
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
  viaMenu,
  waitForText,
} from './browser-support.js';

/**
 * The contracts archive in Chromium, on a desk and on a phone: three contracts made through the API
 * (two drafts, one sealed to completion under a grant) are filtered by category, party, number and
 * the effective, expiry and completion dates, the filters surviving a reload; a range turned round
 * is refused before it is sent; the completed contract's evidence package downloads from its row,
 * its card and its page, and a draft offers none; the sender starts its void agreement (作废协议),
 * a reason first. Screenshots: test-output/contract-archive-*.png.
 */

describe.skipIf(!hasChromium && !browserRequired)('the contracts archive in a browser', () => {
  const suite = useBrowserSuite({ screenshots: 'contract-archive', groupName: 'Huaxia Group' });
  let world: World;
  let base: string;
  let user: Awaited<ReturnType<typeof buildUser>>;
  const ids = { purchase: '', sale: '', completed: '' };
  let completedAt = '';

  beforeAll(async () => {
    ({ world, base } = suite);
    const group = suite.group;
    const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
    const keeper = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Kim Keeper',
    });
    user = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Ada Archivist' });
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
      categories: ['procurement', 'sales'],
    });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);

    const api = client(world, user.token);
    const draft = async (fields: Record<string, unknown>, party: Record<string, unknown>) => {
      const uploaded = await world.app.inject({
        method: 'POST',
        url: '/api/v1/documents/uploads?name=archive.pdf',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
        payload: buildPdf({
          pages: 1,
          lines: ['Archive'],
          cjkLines: ['甲方（盖章）：华夏贸易有限公司'],
          compress: false,
        }),
      });
      expect(uploaded.statusCode, uploaded.body).toBe(201);
      const created = await api.post('/api/v1/contracts', {
        ...fields,
        documentSha256: uploaded.json().sha256,
        participants: [
          { role: 'signer', step: 1, kind: 'company', companyId: company.id, sealId: seal.id, userId: user.id },
          { role: 'cc', step: 1, email: 'cc@example.com', ...party },
        ],
        fields: [{ participant: 0, type: 'company_seal', keyword: '甲方（盖章）' }],
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body.id as string;
    };
    ids.purchase = await draft(
      {
        title: '采购合同',
        category: 'procurement',
        number: 'HT-2026-001',
        effectiveOn: '2026-01-01',
        expiresOn: '2026-12-31',
      },
      { kind: 'outside_person', name: '王五' },
    );
    ids.sale = await draft(
      {
        title: 'Sales agreement',
        category: 'sales',
        number: 'HT-2025-010',
        effectiveOn: '2025-03-01',
        expiresOn: '2026-02-28',
      },
      { kind: 'outside_org', name: 'Li Lei', orgName: 'Acme Trading Ltd' },
    );
    ids.completed = await draft(
      { title: '框架采购合同', category: 'procurement', number: 'HT-2026-002', effectiveOn: '2026-06-01' },
      { kind: 'outside_org', name: 'Zhao Liu', orgName: '远方物流有限公司' },
    );
    expect((await api.post(`/api/v1/contracts/${ids.completed}/send`, {})).status).toBe(200);
    const signed = await api.post(`/api/v1/contracts/${ids.completed}/sign`, {});
    expect(signed.body.status, JSON.stringify(signed.body)).toBe('completed');
    completedAt = signed.body.endedAt as string;
  });

  /** The rows (by name) the list shows, once it shows exactly `expected`. */
  async function expectRows(page: Page, expected: Array<keyof typeof ids>) {
    const want = expected.map((name) => ids[name]).sort();
    let seen: string[] = [];
    for (let i = 0; i < 200; i++) {
      seen = (
        await page
          .locator('[data-testid=contract-row]')
          .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-contract') ?? ''))
      ).sort();
      if (JSON.stringify(seen) === JSON.stringify(want)) return;
      await page.waitForTimeout(50);
    }
    const names = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
    expect(seen.map((id) => names[id] ?? id)).toEqual([...expected].sort());
  }

  /** The day (YYYY-MM-DD) an instant falls on in the browser's own time zone. */
  const localDay = (page: Page, iso: string) =>
    page.evaluate<string, string>((value) => {
      const d = new Date(value);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    }, iso);

  it(
    'on a desk: filters by category, party, number and each kind of date, kept in the URL; the evidence package downloads from a row and from the page',
    { timeout: 120_000 },
    async ({ onTestFailed }) => {
      const page = await suite.newPage(DESKTOP, onTestFailed, 'desk');
      await page.goto(`${base}/contracts`);
      await page.getByTestId('signin-form').waitFor();
      await signIn(page, user.email, DEFAULT_PASSWORD);
      await expectRows(page, ['completed', 'purchase', 'sale']);
      // Folded away until asked for, while no filter applies.
      expect(await page.getByTestId('contract-filters').count()).toBe(0);
      await page.getByTestId('contracts-filters-toggle').click();

      await page.getByTestId('contracts-category').selectOption('procurement');
      await page.getByTestId('contracts-apply').click();
      await page.waitForURL(/category=procurement/);
      await expectRows(page, ['completed', 'purchase']);
      expect(await page.getByTestId('contracts-filter-count').textContent()).toBe('1');

      await page.getByTestId('contracts-party').fill('远方物流');
      await page.getByTestId('contracts-apply').click();
      await expectRows(page, ['completed']);
      await page.getByTestId('contracts-reset').click();
      await expectRows(page, ['completed', 'purchase', 'sale']);
      expect(page.url()).not.toContain('category=');

      await page.getByTestId('contracts-number').fill('HT-2025');
      await page.getByTestId('contracts-apply').click();
      await expectRows(page, ['sale']);
      await page.getByTestId('contracts-reset').click();

      // Contracts lapsing in the first quarter of 2026.
      await page.getByTestId('contracts-dates').selectOption('expires');
      await page.getByTestId('contracts-from').fill('2026-01-01');
      await page.getByTestId('contracts-to').fill('2026-03-31');
      await page.getByTestId('contracts-apply').click();
      await page.waitForURL(/dates=expires/);
      await expectRows(page, ['sale']);
      // The term column reads the contract's own days.
      expect(await page.locator(`[data-contract="${ids.sale}"] [data-testid=contract-term]`).textContent()).toBe(
        '2025-03-01 – 2026-02-28',
      );

      // Kept in the URL: a reload shows the same list and the same form.
      await page.reload();
      await expectRows(page, ['sale']);
      expect(await page.getByTestId('contracts-dates').inputValue()).toBe('expires');
      expect(await page.getByTestId('contracts-to').inputValue()).toBe('2026-03-31');

      // Effective from 2026 on, then completed on the day it was (in this browser's time zone).
      await page.getByTestId('contracts-dates').selectOption('effective');
      await page.getByTestId('contracts-from').fill('2026-01-01');
      await page.getByTestId('contracts-to').fill('');
      await page.getByTestId('contracts-apply').click();
      await expectRows(page, ['completed', 'purchase']);
      const day = await localDay(page, completedAt);
      await page.getByTestId('contracts-dates').selectOption('completed');
      await page.getByTestId('contracts-from').fill(day);
      await page.getByTestId('contracts-to').fill(day);
      await page.getByTestId('contracts-apply').click();
      await page.waitForURL(/dates=completed/);
      await expectRows(page, ['completed']);
      await screenshotPage(page, 'contract-archive-desktop-filtered.png');

      // A range turned round is refused here, before anything is asked.
      await page.getByTestId('contracts-from').fill('2026-02-01');
      await page.getByTestId('contracts-to').fill('2026-01-01');
      await waitForText(page, 'contracts-range-problem', (v) => v.includes('before its start'));
      expect(await page.getByTestId('contracts-apply').isDisabled()).toBe(true);
      await page.getByTestId('contracts-reset').click();
      await expectRows(page, ['completed', 'purchase', 'sale']);

      // The evidence package from the completed contract's row; drafts have none.
      const row = page.locator(`[data-testid=contract-row][data-contract="${ids.completed}"]`);
      expect(await page.locator('[data-testid=contract-evidence]').count()).toBe(1);
      const [fromRow] = await Promise.all([
        page.waitForEvent('download'),
        row.getByTestId('contract-evidence').click(),
      ]);
      expect(fromRow.suggestedFilename()).toBe('框架采购合同-evidence.zip');
      const zip = readFileSync((await fromRow.path())!);
      expect(zip.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');

      // And from the contract's page.
      await row.getByRole('link').click();
      await waitForText(page, 'contract-status', (v) => v === 'Completed');
      const [fromPage] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('contract-document-card').getByTestId('contract-evidence').click(),
      ]);
      expect(fromPage.suggestedFilename()).toBe('框架采购合同-evidence.zip');
      expect(
        readFileSync((await fromPage.path())!)
          .subarray(0, 4)
          .toString('latin1'),
      ).toBe('PK\u0003\u0004');
      await page.goto(`${base}/contracts/${ids.purchase}`);
      await page.getByTestId('contract-document-card').waitFor();
      expect(await page.getByTestId('contract-evidence').count()).toBe(0);
    },
  );

  it(
    'on a phone: the filters unfold, find by number and party, and a card downloads its evidence package; Chinese labels',
    { timeout: 120_000 },
    async ({ onTestFailed }) => {
      const page = await suite.newPage(PHONE, onTestFailed, 'phone');
      await page.goto(base);
      await page.getByTestId('signin-form').waitFor();
      await signIn(page, user.email, DEFAULT_PASSWORD);
      await viaMenu(page, 'nav-contracts');
      await expectRows(page, ['completed', 'purchase', 'sale']);
      await page.getByTestId('contracts-filters-toggle').click();
      await page.getByTestId('contracts-number').fill('HT-2026');
      await page.getByTestId('contracts-party').fill('王五');
      await page.getByTestId('contracts-apply').click();
      await expectRows(page, ['purchase']);
      await expectNoHorizontalScroll(page);
      await page.getByTestId('contracts-party').fill('');
      await page.getByTestId('contracts-apply').click();
      await expectRows(page, ['completed', 'purchase']);
      expect(await page.getByTestId('contracts-filter-count').textContent()).toBe('1');

      const card = page.locator('li', { has: page.locator(`[data-contract="${ids.completed}"]`) });
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        card.getByTestId('contract-evidence').click(),
      ]);
      expect(download.suggestedFilename()).toBe('框架采购合同-evidence.zip');
      expect(
        readFileSync((await download.path())!)
          .subarray(0, 2)
          .toString('latin1'),
      ).toBe('PK');
      await expectNoHorizontalScroll(page);
      await screenshotPage(page, 'contract-archive-phone.png');

      await page.getByTestId('lang-zh').click();
      await waitForText(page, 'page-title', (v) => v === '合同');
      expect(await page.getByTestId('contracts-filters-toggle').textContent()).toContain('筛选');
      expect(await card.getByTestId('contract-evidence').textContent()).toBe('证据包');
      await expectNoHorizontalScroll(page);
      await screenshotPage(page, 'contract-archive-phone-zh.png');

      // 作废协议: the sender starts the agreement that voids the completed contract; a reason first.
      await page.goto(`${base}/contracts/${ids.completed}`);
      await waitForText(page, 'contract-status', (v) => v === '已完成');
      await page.getByTestId('contract-void-agreement').click();
      await page.getByTestId('void-agreement-confirm').click();
      await waitForText(page, 'void-agreement-dialog', (v) => v.includes('原因不能为空'));
      await page.getByTestId('void-agreement-input').fill('双方协商一致解除');
      await page.getByTestId('void-agreement-confirm').click();
      await page.waitForURL(
        (url) => /^\/contracts\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(ids.completed),
      );
      const agreementId = new URL(page.url()).pathname.split('/').pop()!;
      await waitForText(page, 'page-title', (v) => v.includes('作废协议'));
      const agreement = (await client(world, user.token).get(`/api/v1/contracts/${agreementId}`)).body;
      expect(agreement).toMatchObject({ voidOf: ids.completed, status: 'sent' });
      const original = (await client(world, user.token).get(`/api/v1/contracts/${ids.completed}`)).body;
      expect(original.status).toBe('completed');
      await expectNoHorizontalScroll(page);
    },
  );
});
