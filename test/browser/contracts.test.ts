import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPdf } from '../signing/pdf-fixtures.js';
import {
  buildCompany,
  buildSeal,
  buildUser,
  client,
  DEFAULT_PASSWORD,
  type GroupFixture,
  type World,
} from '../support/world.js';
import {
  useBrowserSuite,
  browserRequired,
  expectNoHorizontalScroll,
  hasChromium,
  PHONE,
  screenshotPage,
  signIn,
  text,
  viaMenu,
  waitForText,
} from './browser-support.js';

/**
 * Contracts in the console, in Debian's Chromium against a real server on a loopback port, at
 * 1280×800 and on a 390-px phone: someone holding a grant for a company's electronic contract seal
 * uploads a PDF (drawn by PDF.js), names the company (sealed by them) and an outside person as
 * signers, drags a company-seal field onto page 1 and a signature field for the outsider (with a
 * mouse on the desk, a finger on the phone), moves and resizes the seal, creates the draft and
 * sends it; signs the company's part from the contract's page after seeing where the seal lands,
 * and the outsider's step is then the open one. The desk user is an HQ seal administrator (who may
 * read the seal library, so the preview shows the seal's own image); the phone user a plain
 * employee (the preview shows the seal's outline and name). Screenshots: test-output/contracts-*.png.
 */

const DESK = { width: 1280, height: 800 };

describe.skipIf(!hasChromium && !browserRequired)('contracts in a browser', () => {
  const suite = useBrowserSuite({ screenshots: 'contracts', groupName: 'Huaxia Group', timeoutMs: 15_000 });
  let world: World;
  let group: GroupFixture;
  let base: string;
  beforeAll(() => {
    ({ world, group, base } = suite);
  });

  /** A company with an electronic contract seal (its image on file), its custodian, and `sender` granted the seal for sales. */
  async function scene(sender: 'hq-seal-admin' | 'employee') {
    const suffix = `${Date.now() % 100000}${Math.floor(Math.random() * 100)}`;
    const company = await buildCompany(world, {
      groupId: group.groupId,
      parent: group.hq,
      name: `华夏贸易有限公司${suffix}`,
      code: `HX-${suffix}`,
    });
    const keeper = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Kim Keeper',
    });
    const user =
      sender === 'hq-seal-admin'
        ? await buildUser(world, {
            groupId: group.groupId,
            companyId: group.hq.id,
            roles: [{ role: 'seal_admin' }],
            name: 'Hana Headoffice',
          })
        : await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Eric Employee' });
    const seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [keeper.id],
      name: '华夏贸易合同专用章',
      code: `HX-HT-${suffix}`,
      kind: 'electronic',
      type: 'contract',
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
    // A seal administrator above the company grants it: the company's own cannot see people at HQ.
    const granter = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'seal_admin' }],
    });
    const grant = await client(world, granter.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: user.id },
      categories: ['sales'],
    });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);
    return {
      company,
      user: { ...user, name: sender === 'hq-seal-admin' ? 'Hana Headoffice' : 'Eric Employee' },
      seal,
      suffix,
    };
  }

  const contractPdf = () =>
    buildPdf({
      pages: 2,
      lines: ['Sales contract', 'Sigil browser test'],
      cjkLines: ['甲方（盖章）：华夏贸易有限公司', '乙方（签字）：'],
      compress: false,
    });

  /** A drag with the mouse (desk) or a finger (phone: touch events through the DevTools protocol, which Chromium turns into touch pointer events). */
  async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }, touch: boolean) {
    const steps = 12;
    const along = (i: number) => ({
      x: from.x + ((to.x - from.x) * i) / steps,
      y: from.y + ((to.y - from.y) * i) / steps,
    });
    if (!touch) {
      await page.mouse.move(from.x, from.y);
      await page.mouse.down();
      for (let i = 1; i <= steps; i++) await page.mouse.move(along(i).x, along(i).y);
      await page.mouse.up();
      return;
    }
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ ...from, id: 1 }] });
    for (let i = 1; i <= steps; i++)
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ ...along(i), id: 1 }] });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await cdp.detach();
  }

  const centre = async (page: Page, testId: string) => {
    const box = (await page.getByTestId(testId).first().boundingBox())!;
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  };

  /**
   * Page 1 of the placer scrolled so that the spot `down` of the way down it (0–1) shows in the
   * lower part of the window, below the sticky palette; the page's box on screen.
   */
  async function firstPage(page: Page, down = 0) {
    await page.evaluate(
      `(() => { const r = document.querySelector('[data-testid=placer-pages] [data-pdf-page="1"]').getBoundingClientRect(); window.scrollBy(0, r.top + r.height * ${down} - window.innerHeight * (${down} ? 0.65 : 0.3)); })()`,
    );
    await page.waitForTimeout(150);
    return (await page.locator('[data-testid=placer-pages] [data-pdf-page="1"]').boundingBox())!;
  }

  const rectOf = async (page: Page, type: string) =>
    ((await page.locator(`[data-testid=placed-field][data-type=${type}]`).getAttribute('data-rect')) ?? '')
      .split(',')
      .map(Number);

  async function createAndSignContract(
    viewport: { width: number; height: number },
    who: 'hq-seal-admin' | 'employee',
    onTestFailed: (fn: () => Promise<void>) => void,
  ) {
    const touch = viewport.width < 500;
    const name = touch ? 'phone' : 'desktop';
    const s = await scene(who);
    const outsiderStep = touch ? 2 : 1;
    const page = await suite.newPage(viewport, onTestFailed, name);
    await page.goto(`${base}/contracts`);
    await signIn(page, s.user.email, DEFAULT_PASSWORD);
    await waitForText(page, 'page-title', (v) => v === 'Contracts');
    await page.getByTestId('contract-new').click();
    await waitForText(page, 'page-title', (v) => v === 'New contract');

    // The PDF: uploaded, then drawn page by page by PDF.js (fetched only now).
    await page.getByTestId('contract-file-input').setInputFiles({
      name: '销售合同.pdf',
      mimeType: 'application/pdf',
      buffer: contractPdf(),
    });
    await waitForText(page, 'contract-document-name', (v) => v === '销售合同.pdf');
    await waitForText(page, 'contract-document', (v) => v.includes('2 pages'));
    await firstPage(page);
    await expect
      .poll(() => page.locator('[data-testid=placer-pages] [data-pdf-page="1"]').getAttribute('data-drawn'), {
        timeout: 20_000,
      })
      .toBe('true');

    await page.getByTestId('contract-title').fill(`销售合同 ${s.suffix}`);
    await page.getByTestId('contract-category').selectOption('sales');
    await page.getByTestId('contract-number').fill(`HT-${s.suffix}`);

    // Participant 1: the company, sealed with its contract seal by me (the default stamper).
    const first = page.getByTestId('participant').nth(0);
    await first.getByTestId('participant-company').selectOption(s.company.id);
    await first.getByTestId('participant-seal').selectOption(s.seal.id);
    expect(await first.getByTestId('participant-stamper').textContent()).toContain(s.user.name);
    // Participant 2: an outside person, by phone.
    await page.getByTestId('participant-add').click();
    const second = page.getByTestId('participant').nth(1);
    expect(await second.getAttribute('data-kind')).toBe('outside_person');
    await second.getByTestId('participant-name').fill('王五');
    await second.getByTestId('participant-phone').fill('13800138000');
    await second.getByTestId('participant-step').fill(String(outsiderStep));

    // A company seal dragged onto page 1 (lower right), then the outsider's signature (lower left).
    let sheet = await firstPage(page, 0.55);
    await drag(
      page,
      await centre(page, 'palette-company_seal'),
      { x: sheet.x + sheet.width * 0.7, y: sheet.y + sheet.height * 0.55 },
      touch,
    );
    await page.locator('[data-testid=placed-field][data-type=company_seal]').waitFor();
    await page.getByTestId('placer-participant').selectOption({ index: 1 });
    expect(await page.getByTestId('palette-company_seal').count()).toBe(0);
    sheet = await firstPage(page, 0.6);
    await drag(
      page,
      await centre(page, 'palette-signature'),
      { x: sheet.x + sheet.width * 0.3, y: sheet.y + sheet.height * 0.6 },
      touch,
    );
    await page.locator('[data-testid=placed-field][data-type=signature]').waitFor();
    expect(await page.getByTestId('field-row').count()).toBe(2);

    // The seal landed where it was dropped: centred at 70 % across and 55 % down an A4 page (595 × 842 points).
    const dropped = await rectOf(page, 'company_seal');
    expect(dropped[2]).toBeCloseTo(119.06, 0);
    expect(dropped[0]! + dropped[2]! / 2).toBeCloseTo(595 * 0.7, -1);
    expect(dropped[1]! + dropped[3]! / 2).toBeCloseTo(842 * 0.45, -1);

    // Moved right and down by a tenth of the page, then made larger from its corner (a seal stays round).
    sheet = await firstPage(page, 0.5);
    const seal = (await page.locator('[data-testid=placed-field][data-type=company_seal]').boundingBox())!;
    await drag(
      page,
      { x: seal.x + seal.width / 2, y: seal.y + seal.height / 2 },
      { x: seal.x + seal.width / 2 + sheet.width * 0.1, y: seal.y + seal.height / 2 + sheet.height * 0.1 },
      touch,
    );
    const moved = await rectOf(page, 'company_seal');
    expect(moved[0]! - dropped[0]!).toBeCloseTo(59.5, -1);
    expect(dropped[1]! - moved[1]!).toBeCloseTo(84.2, -1);
    sheet = await firstPage(page, 0.6);
    const corner = await centre(page, 'placed-field-resize');
    await drag(page, corner, { x: corner.x + sheet.width * 0.05, y: corner.y + sheet.height * 0.02 }, touch);
    const resized = await rectOf(page, 'company_seal');
    expect(resized[2]).toBeGreaterThan(moved[2]! + 20);
    expect(resized[3]).toBeCloseTo(resized[2]!, 1);
    if (touch) await expectNoHorizontalScroll(page);
    await screenshotPage(page, `contracts-${name}-new.png`);

    await page.getByTestId('contract-create').click();
    await page.waitForURL(/\/contracts\/[0-9a-f-]{36}$/);
    const contractId = page.url().split('/').pop()!;
    await waitForText(page, 'contract-status', (v) => v === 'Draft');
    const api = client(world, s.user.token);
    const draft = (await api.get(`/api/v1/contracts/${contractId}`)).body;
    const sealField = draft.fields.find((f: { type: string }) => f.type === 'company_seal');
    expect(sealField.rect).toEqual(resized);
    expect(sealField.page).toBe(1);
    expect(draft.fields.find((f: { type: string }) => f.type === 'signature').participantId).toBe(
      draft.participants.find((p: { kind: string }) => p.kind === 'outside_person').id,
    );

    // Sent: the outside signer's link is shown when their step opens at once, with a copy button.
    await page.getByTestId('contract-send').click();
    await page.getByTestId('confirm-ok').click();
    await waitForText(page, 'contract-status', (v) => v === 'Sent');
    if (outsiderStep === 1) {
      const link = await page.getByTestId('contract-invitation-link').inputValue();
      expect(link).toMatch(new RegExp(`^${base}/sign/[A-Za-z0-9_-]{20,}$`));
      await page.getByTestId('contract-invitation-copy').click();
      await waitForText(page, 'toast', (v) => v === 'Copied.');
    } else {
      await page.getByTestId('contract-links-later').waitFor();
    }
    if (touch) await expectNoHorizontalScroll(page);
    await screenshotPage(page, `contracts-${name}-sent.png`);

    // My turn: the seal is shown where it will land before I confirm.
    await page.getByTestId('contract-your-turn').waitFor();
    await page.getByTestId('contract-sign').click();
    await page.getByTestId('sign-panel').waitFor();
    expect(await page.getByTestId('sign-category').inputValue()).toBe('sales');
    await expect
      .poll(() => page.locator('[data-testid=sign-pages] [data-pdf-page="1"]').getAttribute('data-drawn'), {
        timeout: 20_000,
      })
      .toBe('true');
    const spot = page.locator('[data-testid=sign-pages] [data-pdf-page="1"] [data-testid=seal-preview-spot]');
    await spot.waitFor();
    if (who === 'hq-seal-admin')
      await expect
        .poll(() =>
          page.evaluate<number>(
            `(() => { const img = document.querySelector('[data-testid=seal-preview-image]'); return img && img.complete ? img.naturalWidth : 0; })()`,
          ),
        )
        .toBeGreaterThan(0);
    else expect(await spot.textContent()).toBe('华夏贸易合同专用章');
    // It sits where the field was placed: the same share of the page as the rect.
    const pageBox = (await page.locator('[data-testid=sign-pages] [data-pdf-page="1"]').boundingBox())!;
    const spotBox = (await spot.boundingBox())!;
    expect((spotBox.x - pageBox.x) / pageBox.width).toBeCloseTo(resized[0]! / 595, 2);
    expect((spotBox.width / pageBox.width) * 595).toBeCloseTo(resized[2]!, -1);
    if (touch) await expectNoHorizontalScroll(page);
    await screenshotPage(page, `contracts-${name}-seal-preview.png`);
    await page.getByTestId('sign-confirm').click();
    await page.getByTestId('sign-panel').waitFor({ state: 'detached', timeout: 30_000 });

    // Ours is done; the outsider's step is the open one, and it is their turn.
    const company = page.locator('[data-testid=contract-participant][data-kind=company]');
    const outsider = page.locator('[data-testid=contract-participant][data-kind=outside_person]');
    await expect.poll(() => company.getAttribute('data-status')).toBe('done');
    expect(await outsider.getAttribute('data-status')).toBe('active');
    expect(
      await page.locator(`[data-testid=contract-step][data-step="${outsiderStep}"]`).getAttribute('data-current'),
    ).toBe('true');
    await waitForText(page, 'contract-status', (v) => v === 'Signing');
    expect(await text(page, 'contract-timeline')).toContain('华夏贸易有限公司');
    expect(await page.getByTestId('contract-sign').count()).toBe(0);
    const after = (await api.get(`/api/v1/contracts/${contractId}`)).body;
    expect(after.status).toBe('signing');
    expect(after.currentStep).toBe(outsiderStep);
    expect(after.currentSha256).not.toBe(after.sourceSha256);
    if (touch) await expectNoHorizontalScroll(page);
    await screenshotPage(page, `contracts-${name}-signed.png`);
    return { page, s, contractId };
  }

  it(
    'on a desk: a seal administrator holding a grant creates, sends and seals a contract; 催签 says how long to wait; the list finds it; Chinese labels',
    { timeout: 240_000 },
    async ({ onTestFailed }) => {
      const { page, s, contractId } = await createAndSignContract(DESK, 'hq-seal-admin', onTestFailed);

      // The PDF as it now stands: the source with our seal's signature added incrementally.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('contract-download').click(),
      ]);
      expect(download.suggestedFilename()).toBe(`销售合同 ${s.suffix}-signed.pdf`);
      const signed = readFileSync((await download.path())!);
      const source = contractPdf();
      expect(signed.subarray(0, source.length).equals(source)).toBe(true);
      expect(signed.toString('latin1')).toContain('/ByteRange');

      // 催签 once, then again at once: refused, with the wait.
      await page.getByTestId('contract-remind').click();
      await waitForText(page, 'contract-reminded', (v) => v === '1 reminded.');
      await page.getByTestId('contract-remind').click();
      await waitForText(page, 'contract-remind-wait', (v) => /Try again in (59|60) min\./.test(v));

      // The list: newest first, filtered by status and found by number.
      await page.getByTestId('nav-contracts').click();
      await waitForText(page, 'page-title', (v) => v === 'Contracts');
      const row = page.locator(`[data-testid=contract-row][data-contract="${contractId}"]`);
      await row.waitFor();
      expect(await row.getAttribute('data-status')).toBe('signing');
      await page.getByTestId('contracts-tab-draft').click();
      await row.waitFor({ state: 'detached' });
      await page.getByTestId('contracts-tab-signing').click();
      await row.waitFor();
      await page.getByTestId('contracts-search').fill(`HT-${s.suffix}`);
      await page.waitForURL(new RegExp(`q=HT-${s.suffix}`));
      expect(await page.getByTestId('contract-row').count()).toBe(1);
      await page.getByTestId('contracts-search').fill('no such contract');
      await page.waitForURL(/q=no/);
      await row.waitFor({ state: 'detached' });
      await page.getByTestId('contracts-search').fill('王五');
      await row.waitFor();

      // The same pages in Chinese.
      await page.getByTestId('lang-zh').click();
      await waitForText(page, 'page-title', (v) => v === '合同');
      expect(await text(page, 'nav-contracts')).toBe('合同');
      expect(await row.textContent()).toContain('签署中');
      await row.getByRole('link').click();
      await waitForText(page, 'contract-status', (v) => v === '签署中');
      expect(await text(page, 'contract-participants')).toContain('待处理');
      expect(await text(page, 'contract-participants')).toContain('外部个人');
      await screenshotPage(page, 'contracts-desktop-signed-zh.png');
    },
  );

  it(
    'on a phone: an employee holding a grant places fields with a finger, and the outsider’s step opens after the company seals; voided with a reason; the list is cards',
    { timeout: 240_000 },
    async ({ onTestFailed }) => {
      const { page, s, contractId } = await createAndSignContract(PHONE, 'employee', onTestFailed);

      // The sender withdraws it: a reason is required, and the contract ends with it.
      await page.getByTestId('contract-void').click();
      await page.getByTestId('reason-confirm').click();
      await waitForText(page, 'reason-dialog', (v) => v.includes('must not be empty'));
      await page.getByTestId('reason-input').fill('对方要求修改条款');
      await page.getByTestId('reason-confirm').click();
      await waitForText(page, 'contract-status', (v) => v === 'Voided');
      expect(await text(page, 'contract-end-reason')).toContain('对方要求修改条款');
      expect(await page.getByTestId('contract-actions').count()).toBe(0);
      const voided = (await client(world, s.user.token).get(`/api/v1/contracts/${contractId}`)).body;
      expect(voided).toMatchObject({ status: 'voided', endReason: '对方要求修改条款' });
      await viaMenu(page, 'nav-contracts');
      await waitForText(page, 'page-title', (v) => v === 'Contracts');
      const card = page.locator(`li [data-testid=contract-row][data-contract="${contractId}"]`);
      await card.waitFor();
      expect(await card.textContent()).toContain('Voided');
      await expectNoHorizontalScroll(page);
      await screenshotPage(page, 'contracts-phone-list.png');
      await page.getByTestId('lang-zh').click();
      await waitForText(page, 'page-title', (v) => v === '合同');
      expect(await card.textContent()).toContain('已作废');
      await expectNoHorizontalScroll(page);
      await screenshotPage(page, 'contracts-phone-list-zh.png');
    },
  );
});
