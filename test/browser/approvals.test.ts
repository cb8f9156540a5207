import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
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
 * Seal-use applications in the console, driven in Debian's Chromium against a real
 * server on a loopback port: an employee applies on a 390-px phone and sees who will
 * approve before submitting; their department head approves from the inbox in a second
 * browser; the employee then sees the application approved. A seal administrator builds
 * a flow in the flow editor. Screenshots land in test-output/approvals-*.png.
 */

describe.skipIf(!hasChromium && !browserRequired)('approvals in a browser', () => {
  const suite = useBrowserSuite({ screenshots: 'approvals' });
  const newPage = suite.newPage;
  let world: World;
  let group: GroupFixture;
  let base: string;
  let sealAdmin: Awaited<ReturnType<typeof buildUser>>;
  beforeAll(async () => {
    ({ world, group, base } = suite);
    sealAdmin = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Sam Sealkeeper',
    });
  });

  /** A company with a Sales department and its head, an employee in it granted a contract seal for sales, and a one-level flow. */
  async function scene() {
    const company = await buildCompany(world, {
      groupId: group.groupId,
      parent: group.hq,
      name: 'Sigil Trading Co.',
      code: `TRADE-${Date.now() % 100000}`,
    });
    const head = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Helen Head' });
    const admin = client(world, group.admin.token);
    const department = await admin.post('/api/v1/departments', {
      companyId: company.id,
      name: 'Sales',
      headUserId: head.id,
    });
    expect(department.status).toBe(201);
    const employee = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      departmentId: department.body.id,
      name: 'Eric Employee',
    });
    const custodian = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Carl Custodian' });
    const code = `HT-${Date.now() % 100000}`;
    const seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [custodian.id],
      name: 'Trading Co. Contract Seal',
      code,
      kind: 'electronic',
      type: 'contract',
    });
    const sealApi = client(world, sealAdmin.token);
    const grant = await sealApi.post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: employee.id },
      categories: ['sales'],
    });
    expect(grant.status).toBe(201);
    const flow = await sealApi.post('/api/v1/flows', {
      companyId: company.id,
      category: 'sales',
      name: 'Sales contracts',
      definition: {
        levels: [{ name: 'Department head', mode: 'any', approvers: [{ type: 'department_head' }] }],
        cc: [{ type: 'user', userId: sealAdmin.id }],
      },
    });
    expect(flow.status).toBe(201);
    return { company, head, employee, custodian, seal: { ...seal, code } };
  }

  it(
    'an employee applies on a phone, the department head approves from the inbox, the employee sees it approved',
    { timeout: 120_000 },
    async ({ onTestFailed }) => {
      const s = await scene();

      // The employee, on a phone, follows a link to the application form and signs in.
      const phone = await newPage(PHONE, onTestFailed, 'employee');
      await phone.goto(`${base}/apply`);
      await phone.getByTestId('signin-form').waitFor();
      await signIn(phone, s.employee.email, DEFAULT_PASSWORD);
      await waitForText(phone, 'page-title', (v) => v === 'Apply to use a seal');
      // The overview lists the seals a grant lets the employee use (no platform permission, but a grant).
      await phone.goto(`${base}/`);
      await waitForText(
        phone,
        'overview-my-seals',
        (v) => v.includes('Trading Co. Contract Seal') && v.includes('Sales'),
      );
      await phone.goto(`${base}/apply`);
      await waitForText(phone, 'page-title', (v) => v === 'Apply to use a seal');

      // Submitting an empty form explains every missing field instead of sending it.
      await phone.getByTestId('apply-submit').click();
      await expect.poll(() => phone.getByTestId('field-error').count()).toBeGreaterThanOrEqual(2);
      expect(await phone.getByTestId('apply-form').textContent()).toContain('Choose a business category');
      await screenshotPage(phone, 'approvals-phone-apply-errors.png');

      // Category first: then the seals this employee may use for it.
      await phone.getByTestId('apply-category').selectOption('sales');
      const option = phone.locator(`[data-testid="seal-option"][data-seal-code="${s.seal.code}"]`);
      await option.waitFor();
      expect(await phone.getByTestId('seal-option').count()).toBe(1);
      await option.click();
      await phone.getByTestId('apply-reason').fill('Sales contract with Example Ltd., two originals and one copy');
      await phone.getByTestId('apply-uses').fill('3');
      // The contract to stamp, attached from the phone.
      await phone.getByTestId('apply-document-input').setInputFiles({
        name: '销售合同.pdf',
        mimeType: 'application/pdf',
        buffer: Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'),
      });
      await waitForText(phone, 'apply-documents', (v) => v.includes('销售合同.pdf'));

      // Before submitting, the preview names the department head and the CC.
      const plan = await waitForText(phone, 'apply-plan', (v) => v.includes('Helen Head'));
      expect(plan).toContain('Department head');
      expect(await text(phone, 'apply-plan')).toContain('Sam Sealkeeper');
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'approvals-phone-apply.png');
      await phone.screenshot({ path: join(outputDir, 'approvals-phone-apply-viewport.png') });
      await phone.evaluate('window.scrollTo(0, document.documentElement.scrollHeight)');
      await phone.waitForTimeout(200);
      await phone.screenshot({ path: join(outputDir, 'approvals-phone-apply-bottom.png') });

      // A double tap submits once (the button disables, and the form's idempotency key makes a retry return the same application).
      await phone.getByTestId('apply-submit').dblclick();
      await waitForText(phone, 'application-status', (v) => v === 'In approval');
      const applicationId = new URL(phone.url()).pathname.split('/').pop()!;
      expect(await text(phone, 'application-applicant')).toBe('Eric Employee');
      const mine = await client(world, s.employee.token).get('/api/v1/applications');
      expect(mine.body.items.map((a: { id: string }) => a.id)).toEqual([applicationId]);
      expect(mine.body.items[0]).toMatchObject({ status: 'pending', category: 'sales', uses: 3 });
      const detail = await client(world, s.employee.token).get(`/api/v1/applications/${applicationId}`);
      expect(detail.body.documents.map((d: { name: string }) => d.name)).toEqual(['销售合同.pdf']);
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'approvals-phone-submitted.png');

      // The head, in another browser (also a phone), sees the task in the bell and the inbox.
      const headPage = await newPage(PHONE, onTestFailed, 'head');
      await headPage.goto(`${base}/`);
      await signIn(headPage, s.head.email, DEFAULT_PASSWORD);
      await waitForText(headPage, 'notification-count', (v) => v === '1');
      await waitForText(headPage, 'todo-inbox', (v) => v.startsWith('1'));
      await expectNoHorizontalScroll(headPage);
      await screenshotPage(headPage, 'approvals-phone-overview.png');
      await viaMenu(headPage, 'nav-inbox');
      const task = headPage.locator(`[data-testid="inbox-task"][data-application="${applicationId}"]`);
      await task.waitFor();
      expect(await task.textContent()).toContain('Eric Employee');
      expect(await task.textContent()).toContain('Sales');
      await expectNoHorizontalScroll(headPage);
      await screenshotPage(headPage, 'approvals-phone-inbox.png');

      await task.click();
      await headPage.getByTestId('decision-card').waitFor();
      // The approver can open the document before deciding.
      await waitForText(headPage, 'application-documents', (v) => v.includes('销售合同.pdf'));
      const download = headPage.waitForEvent('download');
      await headPage.getByTestId('application-document-open').click();
      expect((await download).suggestedFilename()).toBe('销售合同.pdf');
      // Rejecting needs a reason: without one the page says so and nothing is sent.
      await headPage.getByTestId('decision-reject').click();
      await waitForText(headPage, 'decision-card', (v) => v.includes('Give the reason for rejecting.'));
      await expectNoHorizontalScroll(headPage);
      await screenshotPage(headPage, 'approvals-phone-decision.png');

      await headPage.getByTestId('decision-comment').fill('Agreed; keep a scanned copy.');
      await headPage.getByTestId('decision-approve').click();
      await waitForText(headPage, 'application-status', (v) => v === 'Approved');
      expect(await headPage.getByTestId('decision-card').count()).toBe(0);
      await screenshotPage(headPage, 'approvals-phone-head-approved.png');

      // The employee's page, reloaded, shows the approval: status, the head's decision and comment, the authorization.
      await phone.reload();
      await waitForText(phone, 'application-status', (v) => v === 'Approved');
      const timeline = await text(phone, 'application-timeline');
      expect(timeline).toContain('Helen Head');
      expect(timeline).toContain('Agreed; keep a scanned copy.');
      expect(await phone.locator('[data-testid="timeline-end"][data-status="approved"]').count()).toBe(1);
      expect(await phone.getByTestId('authorization').count()).toBe(1);
      expect(await phone.getByTestId('application-withdraw').count()).toBe(0);
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'approvals-phone-approved.png');

      // The bell tells the employee too; the notification leads back to the application.
      await waitForText(phone, 'notification-count', (v) => v === '1');
      await phone.getByTestId('notification-bell').click();
      const notification = phone.locator('[data-testid="notification"][data-kind="application.approved"]');
      await notification.waitFor();
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'approvals-phone-notifications.png');
      await notification.click();
      await phone.waitForURL(`**/applications/${applicationId}`);
      await waitForText(phone, 'application-status', (v) => v === 'Approved');
      await expect.poll(() => phone.getByTestId('notification-count').count()).toBe(0);

      // My applications lists it as approved.
      await viaMenu(phone, 'nav-applications');
      const row = phone.locator(`[data-testid="application-row"][data-application="${applicationId}"]`);
      await row.waitFor();
      expect(await row.getAttribute('data-status')).toBe('approved');
      await screenshotPage(phone, 'approvals-phone-my-applications.png');

      // The same pages in Chinese.
      await phone.getByTestId('lang-zh').click();
      await waitForText(phone, 'page-title', (v) => v === '我的申请');
      expect(
        await phone.locator(`[data-testid="application-row"][data-application="${applicationId}"]`).textContent(),
      ).toContain('已通过');
      await row.click();
      await waitForText(phone, 'application-status', (v) => v === '已通过');
      expect(await text(phone, 'application-timeline')).toContain('第 1 级');
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'approvals-phone-approved-zh.png');
      await viaMenu(phone, 'nav-apply');
      await waitForText(phone, 'page-title', (v) => v === '用印申请');
      await phone.getByTestId('apply-category').selectOption('sales');
      await phone.locator(`[data-testid="seal-option"][data-seal-code="${s.seal.code}"]`).click();
      await waitForText(phone, 'apply-plan', (v) => v.includes('Helen Head'));
      expect(await text(phone, 'apply-form')).toContain('销售');
      await expectNoHorizontalScroll(phone);
      await phone.screenshot({ path: join(outputDir, 'approvals-phone-apply-zh.png') });
      await phone.setViewportSize(DESKTOP);
      await screenshotPage(phone, 'approvals-desktop-apply-zh.png');
    },
  );

  it(
    'transfers a task to someone who may take it, and says so when someone else decided first',
    { timeout: 120_000 },
    async ({ onTestFailed }) => {
      const s = await scene();
      const draft = {
        sealIds: [s.seal.id],
        category: 'sales',
        reason: 'Framework agreement with Example Ltd.',
        uses: 2,
        photosPerUse: 0,
      };
      const submitted = await client(world, s.employee.token).raw('POST', '/api/v1/applications', draft, {
        'idempotency-key': `browser-transfer-${Date.now()}`,
      });
      expect(submitted.status).toBe(201);
      const applicationId: string = submitted.body.id;

      // The head follows the notification's link on a phone. Transfer offers the people who may take the task (the server
      // says who), and searches them by name even without directory access.
      const headPage = await newPage(PHONE, onTestFailed, 'head-transfer');
      await headPage.goto(`${base}/applications/${applicationId}`);
      await signIn(headPage, s.head.email, DEFAULT_PASSWORD);
      await headPage.getByTestId('decision-card').waitFor();
      await headPage.getByTestId('decision-transfer').click();
      const dialog = headPage.getByTestId('transfer-dialog');
      await dialog.waitFor();
      expect(await dialog.getByTestId('transfer-picker-search').count()).toBe(1);
      expect(await dialog.locator('[data-testid="person-option"]', { hasText: 'Helen Head' }).count()).toBe(0);
      // Nobody chosen yet: the dialog says so instead of sending.
      await dialog.getByTestId('transfer-submit').click();
      await waitForText(headPage, 'transfer-dialog', (v) => v.includes('Choose a person'));
      await dialog.locator('[data-testid="person-option"]', { hasText: 'Sam Sealkeeper' }).click();
      await dialog.getByTestId('transfer-comment').fill('On leave this week; please decide.');
      await headPage.waitForTimeout(200);
      await headPage.screenshot({ path: join(outputDir, 'approvals-phone-transfer.png') });
      await dialog.getByTestId('transfer-submit').click();
      await dialog.waitFor({ state: 'detached' });
      await waitForText(headPage, 'application-timeline', (v) => v.includes('transferred by Helen Head'));
      expect(await headPage.getByTestId('decision-card').count()).toBe(0);
      await expectNoHorizontalScroll(headPage);

      // Sam opens it at a desk; meanwhile Sam's other tab decides. Approving here then says so and shows the outcome.
      const samPage = await newPage(DESKTOP, onTestFailed, 'sam');
      await samPage.goto(`${base}/applications/${applicationId}`);
      await signIn(samPage, sealAdmin.email, DEFAULT_PASSWORD);
      await samPage.getByTestId('decision-card').waitFor();
      await screenshotPage(samPage, 'approvals-desktop-decision.png');
      const sam = client(world, sealAdmin.token);
      const pending = (await sam.get('/api/v1/tasks?status=pending')).body.items.find(
        (t: { applicationId: string }) => t.applicationId === applicationId,
      );
      expect(
        (await sam.post(`/api/v1/tasks/${pending.id}/approve`, { comment: 'Approved from my other tab.' })).status,
      ).toBe(200);
      await samPage.getByTestId('decision-approve').click();
      await waitForText(samPage, 'decision-overtaken', (v) => v.includes('Approved'));
      await waitForText(samPage, 'application-status', (v) => v === 'Approved');
      expect(await samPage.getByTestId('decision-card').count()).toBe(0);
      expect(await text(samPage, 'application-timeline')).toContain('Approved from my other tab.');
      await screenshotPage(samPage, 'approvals-desktop-overtaken.png');
    },
  );

  it(
    'a seal administrator builds a flow in the editor (levels, approvers, mode, a condition, CC), and a change makes version 2',
    { timeout: 120_000 },
    async ({ onTestFailed }) => {
      const company = await buildCompany(world, {
        groupId: group.groupId,
        parent: group.hq,
        name: 'Sigil Legal Services',
        code: `LEGAL-${Date.now() % 100000}`,
      });
      const reviewer = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Lena Lawyer' });
      const api = client(world, sealAdmin.token);
      const sealCode = `LG-${Date.now() % 100000}`;
      const seal = await buildSeal(world, {
        groupId: group.groupId,
        companyId: company.id,
        custodianIds: [reviewer.id],
        name: 'Legal Services Official Seal',
        code: sealCode,
        kind: 'physical',
        type: 'official',
      });
      const holder = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Harry Holder' });
      expect(
        (
          await api.post(`/api/v1/seals/${seal.id}/grants`, {
            grantee: { type: 'user', userId: holder.id },
            categories: ['legal', 'custom:Litigation'],
            maxUses: 20,
          })
        ).status,
      ).toBe(201);

      const page = await newPage(DESKTOP, onTestFailed, 'seal-admin');
      await page.goto(`${base}/flows`);
      await signIn(page, sealAdmin.email, DEFAULT_PASSWORD);
      await waitForText(page, 'page-title', (v) => v === 'Approval flows');
      expect(await page.getByTestId('nav-flows').count()).toBe(1);
      expect(await page.getByTestId('nav-seals').count()).toBe(1);

      await page.getByTestId('flow-new').click();
      await waitForText(page, 'page-title', (v) => v === 'New approval flow');
      await page.getByTestId('flow-name').fill('Legal documents');
      await page.getByTestId('flow-company').selectOption(company.id);
      await page.getByTestId('flow-category').selectOption('legal');

      // Level 1: the applicant's department head (the default approver).
      const first = page.getByTestId('flow-level').nth(0);
      await first.getByTestId('flow-level-name').fill('Department head');
      expect(await first.getByTestId('approver-type').inputValue()).toBe('department_head');

      // Level 2: a named person and the custodian, all of them, only for more than 10 uses.
      await page.getByTestId('flow-add-level').click();
      const second = page.getByTestId('flow-level').nth(1);
      await second.getByTestId('flow-level-name').fill('Legal review');
      await second.getByTestId('approver-type').selectOption('user');
      // Saving with the person not yet chosen is refused in place.
      await page.getByTestId('flow-save').click();
      await waitForText(page, 'flow-form', (v) => v.includes('Choose a person'));
      await second.getByTestId('approver-person').click();
      await page.getByTestId('approver-picker-search').fill('Lena');
      await page.locator('[data-testid="person-option"]', { hasText: 'Lena Lawyer' }).click();
      expect(await second.getByTestId('approver-person').textContent()).toContain('Lena Lawyer');
      await second.getByTestId('flow-add-approver').click();
      await second.getByTestId('approver-type').nth(1).selectOption('custodian');
      await second.locator('label.segment', { hasText: 'Everyone approves' }).click();
      await second.getByTestId('flow-condition-toggle').check();
      await second.getByTestId('flow-min-uses').fill('10');

      // CC: the seal administrators of the head company.
      const cc = page.getByTestId('flow-cc');
      await page.getByTestId('flow-add-cc').click();
      await cc.getByTestId('approver-type').selectOption('role');
      await cc.getByTestId('approver-role').selectOption('seal_admin');
      await cc.getByTestId('approver-company').selectOption(group.hq.id);
      await screenshotPage(page, 'approvals-desktop-flow-editor.png');

      await page.getByTestId('flow-save').click();
      await waitForText(page, 'flow-version', (v) => v === 'Version 1');
      const created = (await api.get(`/api/v1/flows?companyId=${company.id}`)).body.items;
      expect(created).toHaveLength(1);
      expect(created[0]).toMatchObject({
        name: 'Legal documents',
        category: 'legal',
        sealId: null,
        version: 1,
        definition: {
          levels: [
            { name: 'Department head', mode: 'any', approvers: [{ type: 'department_head' }] },
            {
              name: 'Legal review',
              mode: 'all',
              approvers: [{ type: 'user', userId: reviewer.id }, { type: 'custodian' }],
              condition: { minUses: 10 },
            },
          ],
          cc: [{ type: 'role', role: 'seal_admin', companyId: group.hq.id }],
        },
      });

      // On a phone: drop the condition and save; running applications would keep version 1.
      await page.setViewportSize(PHONE);
      await page.waitForTimeout(300);
      await expectNoHorizontalScroll(page);
      expect(await page.getByTestId('flow-level').nth(1).getByTestId('approver-person').textContent()).toContain(
        'Lena Lawyer',
      );
      await page.getByTestId('flow-level').nth(1).getByTestId('flow-condition-toggle').uncheck();
      await page.getByTestId('flow-save').click();
      await waitForText(page, 'flow-version', (v) => v === 'Version 2');
      await page.waitForTimeout(200);
      await expectNoHorizontalScroll(page);
      await screenshotPage(page, 'approvals-phone-flow-editor.png');
      const changed = (await api.get(`/api/v1/flows/${created[0].id}`)).body;
      expect(changed.version).toBe(2);
      expect(changed.definition.levels[1].condition).toBeUndefined();

      // The list shows the flow with its levels and version.
      await viaMenu(page, 'nav-flows');
      await page.getByTestId('flow-table').waitFor();
      const listed = page.locator('[data-testid="flow-row"]', { hasText: 'Legal documents' });
      expect(await listed.textContent()).toContain('Version 2');
      expect(await listed.textContent()).toContain('Department head → Legal review');
      await expectNoHorizontalScroll(page);
      await screenshotPage(page, 'approvals-phone-flows.png');

      // The seal library and a seal's file card.
      await viaMenu(page, 'nav-seals');
      await page.getByTestId('seal-table').waitFor();
      await page.getByTestId('seal-search').fill(sealCode);
      const sealRow = page.locator('[data-testid="seal-row"]', { hasText: sealCode });
      await expect.poll(() => page.getByTestId('seal-row').count()).toBe(1);
      await sealRow.waitFor();
      await sealRow.getByTestId('seal-link').click();
      await waitForText(page, 'page-title', (v) => v === 'Legal Services Official Seal');
      const grants = await text(page, 'grant-table');
      expect(grants).toContain('Harry Holder');
      expect(grants).toContain('Litigation');
      await expectNoHorizontalScroll(page);
      await screenshotPage(page, 'approvals-phone-seal-card.png');
    },
  );
});
