import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCompany, buildUser, client, DEFAULT_PASSWORD, type GroupFixture, type World } from '../support/world.js';
import {
  useBrowserSuite,
  browserRequired,
  DESKTOP,
  expectNoHorizontalScroll,
  hasChromium,
  outputDir,
  PHONE,
  screenshotPage,
  signIn,
  text,
  viaMenu,
  waitForText,
} from './browser-support.js';

/**
 * The seal library's life in the console, in Debian's Chromium against a real server on a
 * loopback port: an HQ seal administrator sets up the lifecycle flow in the flow editor; a
 * subsidiary's seal administrator designs a round seal with the live preview (and sees an
 * impossible text refused in place) and applies for its production; HQ approves it from the
 * inbox on a phone; the seal is then in the library, in use, its file card showing the
 * impression and the history. On the card a grant is refused (the custodian), made and
 * revoked; a suspension is applied for; the permission report is filtered by flag and
 * downloaded as CSV. Screenshots land in test-output/seals-*.png.
 */

/** The link to a seal's file card in a row of the permission report. */
function reportRowLink(page: Page, sealName: string) {
  return page.locator('[data-testid="report-row"] td.cell-title a', { hasText: sealName }).first();
}

const SVG_SEAL =
  '<svg xmlns="http://www.w3.org/2000/svg" width="40mm" height="40mm" viewBox="0 0 40 40"><circle cx="20" cy="20" r="18" fill="none" stroke="#d32f2f" stroke-width="1.5"/><path d="M20 11l2.4 5 5.4.7-4 3.7 1 5.3-4.8-2.6-4.8 2.6 1-5.3-4-3.7 5.4-.7z" fill="#d32f2f"/></svg>';

/** Whether the <img> inside the element has been decoded (an impression really shows). */
async function imageShows(page: Page, testId: string): Promise<boolean> {
  return page.evaluate<boolean>(
    `(() => { const img = document.querySelector('[data-testid="${testId}"] img'); return Boolean(img && img.complete && img.naturalWidth > 0); })()`,
  );
}

describe.skipIf(!hasChromium && !browserRequired)('seals in a browser', () => {
  const suite = useBrowserSuite({ screenshots: 'seals' });
  const newPage = suite.newPage;
  let world: World;
  let group: GroupFixture;
  let base: string;
  beforeAll(() => {
    ({ world, group, base } = suite);
  });

  it(
    'designs a round seal, applies for its production, HQ approves it, and the file card shows the seal; grants, a suspension and the report',
    { timeout: 180_000 },
    async ({ onTestFailed }) => {
      const suffix = Date.now() % 100000;
      const company = await buildCompany(world, {
        groupId: group.groupId,
        parent: group.hq,
        name: 'Sigil Works Co.',
        code: `WORKS-${suffix}`,
      });
      const hq = await buildUser(world, {
        groupId: group.groupId,
        companyId: group.hq.id,
        roles: [{ role: 'seal_admin' }],
        name: 'Hannah Headoffice',
      });
      const maker = await buildUser(world, {
        groupId: group.groupId,
        companyId: company.id,
        roles: [{ role: 'seal_admin' }],
        name: 'Sam Sealmaker',
      });
      const keeper = await buildUser(world, {
        groupId: group.groupId,
        companyId: company.id,
        roles: [{ role: 'seal_admin' }],
        name: 'Kim Keeper',
      });
      const user = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Eve Employee' });
      const sealCode = `SW-HT-${suffix}`;

      // HQ's seal administrator makes the lifecycle flow in the flow editor: one level, herself.
      const hqDesk = await newPage(DESKTOP, onTestFailed, 'hq-desk');
      await hqDesk.goto(`${base}/flows/new`);
      await signIn(hqDesk, hq.email, DEFAULT_PASSWORD);
      await waitForText(hqDesk, 'page-title', (v) => v === 'New approval flow');
      await hqDesk.getByTestId('flow-name').fill('Seal lifecycle (group)');
      await hqDesk.getByTestId('flow-company').selectOption(group.hq.id);
      await hqDesk.getByTestId('flow-purpose').selectOption('lifecycle');
      expect(await hqDesk.getByTestId('flow-category').count()).toBe(0);
      const level = hqDesk.getByTestId('flow-level').first();
      await level.getByTestId('flow-level-name').fill('HQ seal office');
      await level.getByTestId('approver-type').selectOption('user');
      await level.getByTestId('approver-person').click();
      await hqDesk.getByTestId('approver-picker-search').fill('Hannah');
      await hqDesk.locator('[data-testid="person-option"]', { hasText: 'Hannah Headoffice' }).click();
      await hqDesk.getByTestId('flow-save').click();
      await waitForText(hqDesk, 'flow-version', (v) => v === 'Version 1');
      expect(await text(hqDesk, 'flow-purpose-fixed')).toBe('Seal lifecycle');
      const flows = (await client(world, hq.token).get(`/api/v1/flows?companyId=${group.hq.id}`)).body.items;
      expect(flows).toEqual([
        expect.objectContaining({ purpose: 'lifecycle', category: null, name: 'Seal lifecycle (group)' }),
      ]);

      // The subsidiary's seal administrator opens the production form from the navigation.
      const desk = await newPage(DESKTOP, onTestFailed, 'maker');
      await desk.goto(`${base}/`);
      await signIn(desk, maker.email, DEFAULT_PASSWORD);
      await desk.getByTestId('nav-new-seal').click();
      await waitForText(desk, 'page-title', (v) => v === 'Apply for a new seal');
      // The designer starts from the company and the type: a round seal reading 合同专用章, drawn at once.
      expect(await desk.getByTestId('designer-company').inputValue()).toBe('Sigil Works Co.');
      expect(await desk.getByTestId('designer-type').inputValue()).toBe('合同专用章');
      await expect.poll(() => desk.getByTestId('designer-preview').getAttribute('data-loaded')).toBe('true');

      // A name too long for the ring is refused in place by the server's check, while typing.
      await desk.getByTestId('designer-company').fill('西格尔工坊有限公司西格尔工坊有限公司西格尔工坊有限公司');
      await waitForText(desk, 'seal-designer', (v) => v.includes('is too long to fit: at most 24 Chinese characters'));
      expect(await text(desk, 'designer-status')).toContain('cannot be drawn');
      await screenshotPage(desk, 'seals-desktop-designer-refused.png');

      // The right text: the preview follows what is typed.
      await desk.getByTestId('designer-company').fill('西格尔工坊有限公司');
      await desk.getByTestId('designer-code').fill('3101150012345');
      await waitForText(desk, 'designer-status', (v) => v === 'The preview follows what you type.');
      await expect.poll(() => imageShows(desk, 'designer-preview')).toBe(true);
      expect(await desk.locator('[data-testid="seal-designer"] [data-testid="field-error"]').count()).toBe(0);

      // Sending without the particulars explains each missing one.
      await desk.getByTestId('production-submit').click();
      await expect
        .poll(() => desk.locator('[data-testid="production-form"] .field-invalid').count())
        .toBeGreaterThanOrEqual(3);
      expect(await text(desk, 'production-form')).toContain('Choose at least one custodian');

      await desk.getByTestId('production-name').fill('Sigil Works Contract Seal');
      await desk.getByTestId('production-code').fill(sealCode);
      // Custodians are offered from the company's seal administrators.
      await desk
        .locator('[data-testid="production-custodians-picker"] [data-testid="person-option"]', {
          hasText: 'Kim Keeper',
        })
        .click();
      await waitForText(desk, 'production-custodians', (v) => v.includes('Kim Keeper'));
      // Who will approve shows before sending: HQ's seal office, from the lifecycle flow.
      await waitForText(desk, 'production-preview', (v) => v.includes('Hannah Headoffice'));
      await desk.getByTestId('production-reason').fill('A contract seal for the new works company');
      await screenshotPage(desk, 'seals-desktop-production.png');
      await desk.getByTestId('production-submit').click();

      // The application page: production, in approval, with the designed impression and who approves.
      await waitForText(desk, 'application-status', (v) => v === 'In approval');
      expect(await text(desk, 'page-title')).toBe('Seal production application');
      const applicationId = new URL(desk.url()).pathname.split('/').pop()!;
      const facts = await text(desk, 'lifecycle-facts');
      expect(facts).toContain('Sigil Works Contract Seal');
      expect(facts).toContain(sealCode);
      await waitForText(desk, 'lifecycle-custodians', (v) => v === 'Kim Keeper');
      await expect.poll(() => imageShows(desk, 'application-seal-image')).toBe(true);
      expect(await text(desk, 'application-timeline')).toContain('Hannah Headoffice');
      await screenshotPage(desk, 'seals-desktop-production-submitted.png');
      const submitted = (await client(world, maker.token).get(`/api/v1/applications/${applicationId}`)).body;
      expect(submitted).toMatchObject({
        purpose: 'lifecycle',
        lifecycleAction: 'produce',
        status: 'pending',
        payload: { code: sealCode, custodianIds: [keeper.id] },
      });
      expect(submitted.payload.imageSha256).toMatch(/^[0-9a-f]{64}$/);
      expect((await client(world, maker.token).get(`/api/v1/seals?q=${sealCode}`)).body.items).toEqual([]);

      // HQ approves from the inbox on a phone.
      const phone = await newPage(PHONE, onTestFailed, 'hq-phone');
      await phone.goto(`${base}/inbox`);
      await signIn(phone, hq.email, DEFAULT_PASSWORD);
      const task = phone.locator(`[data-testid="inbox-task"][data-application="${applicationId}"]`);
      await task.waitFor();
      expect(await task.textContent()).toContain('Sigil Works Contract Seal');
      expect(await task.textContent()).toContain('Seal lifecycle');
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'seals-phone-inbox.png');
      await task.click();
      await phone.getByTestId('decision-card').waitFor();
      expect(await text(phone, 'page-title')).toBe('Seal production application');
      // The approver sees the impression asked for before any seal shows it.
      await expect.poll(() => imageShows(phone, 'application-seal-image')).toBe(true);
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'seals-phone-decision.png');
      await phone.getByTestId('decision-approve').click();
      await waitForText(phone, 'application-status', (v) => v === 'Approved');
      await waitForText(phone, 'timeline-end', (v) => v.includes('the step has taken effect'));

      // The seal is in the library, in use; its file card shows the impression and the history.
      await viaMenu(phone, 'nav-seals');
      await phone.getByTestId('seal-search').fill(sealCode);
      await expect.poll(() => phone.getByTestId('seal-row').count()).toBe(1);
      const row = phone.locator('[data-testid="seal-row"]', { hasText: sealCode });
      await row.waitFor();
      expect(await row.locator('[data-status]').getAttribute('data-status')).toBe('active');
      expect(await row.textContent()).toContain('Kim Keeper');
      await expectNoHorizontalScroll(phone);
      await row.getByTestId('seal-link').click();
      await waitForText(phone, 'page-title', (v) => v === 'Sigil Works Contract Seal');
      await expect.poll(() => imageShows(phone, 'seal-card-image')).toBe(true);
      await phone.locator('[data-testid="history-entry"][data-action="seal.created"]').waitFor();
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'seals-phone-seal-card.png');
      const sealId = new URL(phone.url()).pathname.split('/').pop()!;

      // Back at the desk: the maker's card. Granting the seal to its custodian is refused (separation of duties).
      await desk.goto(`${base}/seals/${sealId}`);
      await waitForText(desk, 'page-title', (v) => v === 'Sigil Works Contract Seal');
      await expect.poll(() => imageShows(desk, 'seal-card-image')).toBe(true);
      await desk.getByTestId('grant-new').click();
      const dialog = desk.getByTestId('grant-dialog');
      await dialog.waitFor();
      await dialog.getByTestId('grantee-picker-search').fill('Kim');
      await dialog.locator('[data-testid="person-option"]', { hasText: 'Kim Keeper' }).click();
      await dialog.locator('label.chip-choice', { hasText: 'Sales' }).click();
      await dialog.getByTestId('grant-submit').click();
      const refusal = dialog.locator('[data-testid="grant-problem"][data-code="sod_conflict"]');
      await refusal.waitFor();
      expect(await refusal.textContent()).toContain('Refused: separation of duties');
      expect(await refusal.textContent()).toContain('Custodian and Seal user may not be held by one person.');
      await screenshotPage(desk, 'seals-desktop-grant-refused.png');

      // To an employee instead, for sales and legal, ten uses.
      await dialog.getByTestId('grantee-picker-search').fill('Eve');
      await dialog.locator('[data-testid="person-option"]', { hasText: 'Eve Employee' }).click();
      await dialog.locator('label.chip-choice', { hasText: 'Legal' }).click();
      await dialog.getByTestId('grant-max-uses').fill('10');
      await dialog.getByTestId('grant-submit').click();
      await dialog.waitFor({ state: 'detached' });
      const grantRow = desk.locator('[data-testid="grant-row"]', { hasText: 'Eve Employee' });
      await grantRow.waitFor();
      expect(await grantRow.getAttribute('data-state')).toBe('active');
      expect(await grantRow.textContent()).toContain('Sales, Legal');
      expect(await grantRow.textContent()).toContain('10 of 10');
      const grants = (await client(world, maker.token).get(`/api/v1/seals/${sealId}/grants`)).body.items;
      expect(grants).toEqual([
        expect.objectContaining({
          granteeUserId: user.id,
          categories: ['sales', 'legal'],
          maxUses: 10,
          revokedAt: null,
        }),
      ]);
      await screenshotPage(desk, 'seals-desktop-seal-card.png');

      // The permission report for this seal: Eve may use it, the only one (flagged), and it downloads as CSV.
      await desk.getByTestId('seal-report-link').click();
      await waitForText(desk, 'page-title', (v) => v === 'Seal permissions');
      const reportRow = desk.locator('[data-testid="report-row"]', { hasText: 'Eve Employee' });
      await reportRow.waitFor();
      expect(await reportRow.getAttribute('data-flags')).toBe('single_user');
      expect(await reportRow.textContent()).toContain('Single user');
      await waitForText(desk, 'report-chosen', (v) => v.includes('Sigil Works Contract Seal'));
      await desk.getByTestId('report-flag-expired').click();
      await expect.poll(() => desk.getByTestId('report-row').count()).toBe(0);
      await desk.getByTestId('report-flag-single_user').click();
      await expect.poll(() => desk.getByTestId('report-row').count()).toBe(1);
      expect(new URL(desk.url()).searchParams.get('flag')).toBe('single_user');
      const download = desk.waitForEvent('download');
      await desk.getByTestId('report-csv').click();
      const csvFile = await download;
      expect(csvFile.suggestedFilename()).toBe('seal-permissions.csv');
      const csv = readFileSync((await csvFile.path())!, 'utf8');
      expect(csv.split('\r\n')[0]).toContain('seal_code,seal_name');
      expect(csv).toContain(sealCode);
      expect(csv).toContain('Eve Employee');
      await screenshotPage(desk, 'seals-desktop-report.png');

      // Per company, on a phone, in Chinese: nothing sticks out sideways.
      await desk.setViewportSize(PHONE);
      await desk.goto(`${base}/reports/seal-permissions?by=company&company=${company.id}`);
      await desk.locator('[data-testid="report-row"]', { hasText: 'Eve Employee' }).waitFor();
      await desk.getByTestId('lang-zh').click();
      await waitForText(desk, 'page-title', (v) => v === '用印权限报表');
      expect(await text(desk, 'report-flag-filter')).toContain('唯一用印人');
      await expectNoHorizontalScroll(desk);
      await screenshotPage(desk, 'seals-phone-report-zh.png');
      // The file card in Chinese too.
      await reportRowLink(desk, 'Sigil Works Contract Seal').click();
      await waitForText(desk, 'grant-section', (v) => v.includes('使用授权') && v.includes('销售、法务'));
      expect(await text(desk, 'lifecycle-actions')).toContain('挂失');
      await expectNoHorizontalScroll(desk);
      await screenshotPage(desk, 'seals-phone-seal-card-zh.png');
      await desk.getByTestId('lang-en').click();
      await waitForText(desk, 'grant-section', (v) => v.includes('Grants'));

      // Revoking the grant on the card (still on the phone): it leaves the live list and shows as revoked among the ended ones.
      await desk.goto(`${base}/seals/${sealId}`);
      await grantRow.waitFor();
      await grantRow.getByTestId('grant-revoke').click();
      await desk.getByTestId('grant-revoke-reason').fill('Project finished');
      await desk.getByTestId('confirm-ok').click();
      await desk.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
      await expect.poll(() => desk.locator('[data-testid="grant-row"]', { hasText: 'Eve Employee' }).count()).toBe(0);
      await desk.getByTestId('grant-show-all').check();
      expect(await grantRow.getAttribute('data-state')).toBe('revoked');
      await desk.locator('[data-testid="history-entry"][data-action="seal.grant_revoked"]').waitFor();
      expect(await text(desk, 'seal-history')).toContain('Project finished');
      await expectNoHorizontalScroll(desk);
      await screenshotPage(desk, 'seals-phone-seal-card-grants.png');

      // A change that changes nothing is not sent; who would approve shows before sending.
      await desk.getByTestId('lifecycle-change').click();
      const change = desk.getByTestId('lifecycle-dialog');
      await waitForText(desk, 'lifecycle-preview', (v) => v.includes('Hannah Headoffice'));
      await change.getByTestId('lifecycle-reason').fill('Tidy up');
      await change.getByTestId('lifecycle-submit').click();
      await waitForText(desk, 'lifecycle-form-problem', (v) => v.includes('Change at least one thing'));
      // A new impression is a change: designed in the dialog, stored when sent and shown on the application; the seal keeps its own until approval.
      await change.getByTestId('lifecycle-replace-image').check();
      await expect.poll(() => imageShows(desk, 'designer-preview')).toBe(true);
      await expectNoHorizontalScroll(desk);
      await desk.screenshot({ path: join(outputDir, 'seals-phone-change-image.png') });
      await change.getByTestId('lifecycle-submit').click();
      await waitForText(desk, 'page-title', (v) => v === 'Seal change application');
      await expect.poll(() => imageShows(desk, 'application-seal-image')).toBe(true);
      const changeApplication = (
        await client(world, maker.token).get(`/api/v1/applications/${new URL(desk.url()).pathname.split('/').pop()}`)
      ).body;
      expect(changeApplication.payload.imageSha256).toMatch(/^[0-9a-f]{64}$/);
      expect((await client(world, maker.token).get(`/api/v1/seals/${sealId}`)).body.seal.imageSha256).not.toBe(
        changeApplication.payload.imageSha256,
      );
      await desk.goto(`${base}/seals/${sealId}`);

      // A suspension is applied for from the card; the seal stays in use until it is approved.
      await desk.getByTestId('lifecycle-suspend').click();
      const step = desk.getByTestId('lifecycle-dialog');
      await step.waitFor();
      await step.getByTestId('lifecycle-submit').click();
      await waitForText(desk, 'lifecycle-dialog', (v) => v.includes('must not be empty'));
      await step.getByTestId('lifecycle-reason').fill('Works company paused for the audit');
      await expectNoHorizontalScroll(desk);
      await desk.screenshot({ path: join(outputDir, 'seals-phone-suspend.png') });
      await step.getByTestId('lifecycle-submit').click();
      await waitForText(desk, 'page-title', (v) => v === 'Seal suspension application');
      await waitForText(desk, 'application-status', (v) => v === 'In approval');
      expect(await text(desk, 'lifecycle-facts')).toContain('Sigil Works Contract Seal');
      expect((await client(world, maker.token).get(`/api/v1/seals/${sealId}`)).body.seal.status).toBe('active');
      await expectNoHorizontalScroll(desk);
      await screenshotPage(desk, 'seals-phone-suspension-submitted.png');

      // The designer at phone width: the preview first, then the fields.
      await desk.goto(`${base}/seals/new`);
      await expect.poll(() => imageShows(desk, 'designer-preview')).toBe(true);
      await desk.locator('label.segment', { hasText: 'Oval' }).click();
      await desk.getByTestId('designer-code').fill('91310000MA1FL00000');
      await waitForText(desk, 'designer-status', (v) => v === 'The preview follows what you type.');
      await expectNoHorizontalScroll(desk);
      await screenshotPage(desk, 'seals-phone-designer.png');

      // Or an impression of one's own: an SVG, checked as it is chosen; a JPEG-like file is refused with the reason.
      await desk.locator('label.segment', { hasText: 'Upload' }).click();
      await desk
        .getByTestId('designer-upload-input')
        .setInputFiles({ name: 'not-a-seal.png', mimeType: 'image/png', buffer: Buffer.from('this is not an image') });
      await desk.getByTestId('designer-upload-problem').waitFor();
      await desk
        .getByTestId('designer-upload-input')
        .setInputFiles({ name: 'works-seal.svg', mimeType: 'image/svg+xml', buffer: Buffer.from(SVG_SEAL) });
      await waitForText(desk, 'designer-uploaded', (v) => v.startsWith('works-seal.svg'));
      expect(await desk.getByTestId('designer-upload-problem').count()).toBe(0);
      await expect.poll(() => imageShows(desk, 'designer-upload-preview')).toBe(true);
      await expectNoHorizontalScroll(desk);
      await desk.screenshot({ path: join(outputDir, 'seals-phone-designer-upload.png') });
    },
  );
});
