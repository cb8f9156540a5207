import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGroup } from '../../src/modules/group-setup/group-setup.service.js';
import { buildUser, client, DEFAULT_PASSWORD, type GroupFixture, type World } from '../support/world.js';
import {
  useBrowserSuite,
  browserRequired,
  DESKTOP,
  expectNoHorizontalScroll,
  hasChromium,
  outputDir,
  PHONE,
  signIn,
  text,
  waitForText,
} from './browser-support.js';

/**
 * The console, driven in Debian's Chromium against a real server on a loopback port:
 * sign in, grow the company tree, add a person, switch languages, see a refused
 * separation-of-duties assignment explained, read and verify the audit log, on a
 * desktop and on a 390-px phone. Screenshots land in test-output/.
 */

describe.skipIf(!hasChromium && !browserRequired)('console in a browser', () => {
  const suite = useBrowserSuite({ screenshots: 'console', touch: false });
  const newPage = suite.newPage;
  let world: World;
  let group: GroupFixture;
  let base: string;
  beforeAll(() => {
    ({ world, group, base } = suite);
  });

  it(
    'shows the API documentation under the same Content-Security-Policy',
    { timeout: 120_000 },
    async ({ onTestFailed }) => {
      const page = await newPage(DESKTOP, onTestFailed, 'api-docs');
      const answer = await page.goto(`${base}/api/docs`);
      expect(answer?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      await page.locator('.swagger-ui .opblock').first().waitFor();
      // A spec this large is drawn as it scrolls into view: walk down the page and collect every
      // operation shown, which must be every operation of the document.
      const shown = new Set<string>();
      for (let step = 0; step < 400; step++) {
        for (const block of await page.locator('.swagger-ui .opblock-summary').all()) {
          const method = (await block.locator('.opblock-summary-method').textContent()) ?? '';
          const path = (await block.locator('.opblock-summary-path').getAttribute('data-path')) ?? '';
          shown.add(`${method.toLowerCase()} ${path}`);
        }
        const atEnd = await page.evaluate<boolean>(
          `(() => { window.scrollBy(0, window.innerHeight * 0.8); return window.innerHeight + window.scrollY >= document.body.scrollHeight - 2; })()`,
        );
        if (atEnd) break;
        await page.waitForTimeout(50);
      }
      const spec = (await (await page.request.get(`${base}/api/openapi.json`)).json()) as {
        paths: Record<string, Record<string, unknown>>;
      };
      const operations = Object.entries(spec.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m} ${path}`),
      );
      expect(operations.length).toBeGreaterThan(100);
      expect(operations.filter((o) => !shown.has(o))).toEqual([]);
    },
  );

  it(
    'signs in, creates a subsidiary and a user, switches language and explains a refused SoD assignment',
    { timeout: 120_000 },
    async ({ onTestFailed }) => {
      const api = client(world, group.admin.token);
      const page = await newPage(DESKTOP, onTestFailed, 'admin');

      // A deep link without a session shows the sign-in form (the server answers it with the console).
      await page.goto(`${base}/companies`);
      await page.getByTestId('signin-form').waitFor();
      await signIn(page, group.admin.email, DEFAULT_PASSWORD);

      // The administrator's profile says zh-CN, so the console speaks Chinese…
      expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
      expect(await text(page, 'nav-companies')).toBe('公司架构');
      expect(await text(page, 'page-title')).toBe('公司架构');
      // …until English is chosen, which is remembered in the profile.
      await page.getByTestId('lang-en').click();
      await waitForText(page, 'nav-companies', (v) => v === 'Companies');
      expect(await text(page, 'page-title')).toBe('Companies');
      await expect.poll(async () => (await api.get('/api/v1/me')).body.user.locale, { timeout: 5_000 }).toBe('en');

      // Create a subsidiary under the head company.
      await page.getByTestId('company-node-HQ').click();
      await page.getByTestId('company-new-sub').click();
      await page.getByTestId('company-name-input').fill('Sigil Test Subsidiary');
      await page.getByTestId('company-code-input').fill('SUB-1');
      await page.getByTestId('company-save').click();
      await page.getByTestId('company-node-SUB-1').waitFor();
      await waitForText(page, 'company-detail-name', (v) => v === 'Sigil Test Subsidiary');

      const companies = await api.get('/api/v1/companies?q=SUB-1');
      expect(companies.status).toBe(200);
      expect(companies.body.items).toHaveLength(1);
      const subsidiary = companies.body.items[0];
      expect(subsidiary).toMatchObject({
        name: 'Sigil Test Subsidiary',
        code: 'SUB-1',
        parentId: group.hq.id,
        status: 'active',
      });
      await page.screenshot({ path: join(outputDir, 'console-desktop.png') });

      // The rest on a phone.
      await page.setViewportSize(PHONE);
      await page.waitForTimeout(300); // the navigation slides away when the layout becomes a phone's
      await expectNoHorizontalScroll(page);
      await page.screenshot({ path: join(outputDir, 'console-phone-companies.png'), fullPage: true });

      await page.getByTestId('nav-toggle').click();
      await page.getByTestId('nav-users').waitFor({ state: 'visible' });
      await page.waitForTimeout(300); // let the drawer finish sliding in before the picture
      await page.screenshot({ path: join(outputDir, 'console-phone-menu.png') });
      await page.getByTestId('nav-users').click();
      await waitForText(page, 'page-title', (v) => v === 'Users');
      await page.getByTestId('user-table').waitFor();
      await expectNoHorizontalScroll(page);

      // Create a user in the new subsidiary.
      const email = `li.ming.${Date.now()}@example.test`;
      await page.getByTestId('user-new').click();
      await page.getByTestId('user-name').fill('Li Ming');
      await page.getByTestId('user-email').fill(email);
      await page.getByTestId('user-company').selectOption(subsidiary.id);
      await page.getByTestId('user-password').fill('a long enough password');
      await page.screenshot({ path: join(outputDir, 'console-phone-new-user.png') });
      await page.getByTestId('user-create-submit').click();
      await waitForText(page, 'user-detail-name', (v) => v === 'Li Ming');

      const users = await api.get(`/api/v1/users?q=${encodeURIComponent(email)}`);
      expect(users.status).toBe(200);
      expect(users.body.items).toHaveLength(1);
      const user = users.body.items[0];
      expect(user).toMatchObject({ email, name: 'Li Ming', companyId: subsidiary.id, status: 'active' });

      // Seal administrator is granted…
      await page.getByTestId('role-select').selectOption('seal_admin');
      await page.getByTestId('role-company').selectOption(subsidiary.id);
      await page.getByTestId('role-assign-submit').click();
      await page.locator('[data-testid="role-item"][data-role="seal_admin"]').waitFor();

      // …so system administrator is refused, and the page says which two roles clash.
      await page.getByTestId('role-select').selectOption('system_admin');
      await page.getByTestId('role-assign-submit').click();
      const refusal = page.getByTestId('role-error');
      await refusal.waitFor();
      expect(await refusal.getAttribute('data-code')).toBe('sod_conflict');
      const english = (await refusal.textContent()) ?? '';
      expect(english).toContain('Seal administrator');
      expect(english).toContain('System administrator');
      expect(english).toContain('separation of duties');
      await refusal.scrollIntoViewIfNeeded();
      await expectNoHorizontalScroll(page);
      await page.screenshot({ path: join(outputDir, 'console-phone.png') });

      // The same refusal, in Chinese, after switching language on the phone.
      await page.getByTestId('lang-zh').click();
      const chinese = await waitForText(page, 'role-error', (v) => v.includes('职责分离'));
      expect(chinese).toContain('印章管理员');
      expect(chinese).toContain('系统管理员');
      // In Chinese only: no English sentence of the server's, no role code.
      expect(chinese).not.toMatch(/separation|duties|system_admin|seal_admin/);
      expect(await text(page, 'nav-users')).toBe('人员');
      await refusal.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(outputDir, 'console-phone-zh.png') });

      const roles = await api.get(`/api/v1/role-assignments?userId=${user.id}`);
      expect(roles.body.items.map((r: { role: string }) => r.role)).toEqual(['seal_admin']);
      await expect.poll(async () => (await api.get('/api/v1/me')).body.user.locale, { timeout: 5_000 }).toBe('zh-CN');

      // Sign out returns to the sign-in form.
      await page.getByTestId('nav-toggle').click();
      await page.getByTestId('sign-out').click();
      await page.getByTestId('signin-form').waitFor();
    },
  );

  it(
    'shows a security auditor the audit log and verifies its chain on a phone',
    { timeout: 60_000 },
    async ({ onTestFailed }) => {
      const auditor = await buildUser(world, {
        groupId: group.groupId,
        companyId: group.hq.id,
        name: 'Audrey Auditor',
        roles: [{ role: 'security_auditor' }],
      });
      const page = await newPage(PHONE, onTestFailed, 'auditor');
      await page.goto(`${base}/`);
      await signIn(page, auditor.email, DEFAULT_PASSWORD);

      // An auditor sees the audit log, but nothing that changes the organisation.
      await page.getByTestId('nav-toggle').click();
      await page.getByTestId('nav-audit').waitFor({ state: 'visible' });
      expect(await page.getByTestId('nav-api-keys').count()).toBe(0);
      await page.getByTestId('nav-audit').click();
      await page.getByTestId('audit-table').waitFor();
      expect(await page.locator('[data-testid="audit-row"][data-action="company.created"]').count()).toBeGreaterThan(0);
      expect(await page.locator('[data-testid="audit-row"][data-action="role.assigned"]').count()).toBeGreaterThan(0);

      // Filter by category.
      await page.getByTestId('audit-category').selectOption('company');
      await page.getByTestId('audit-apply').click();
      await expect
        .poll(async () => {
          const actions = await page
            .locator('[data-testid="audit-row"]')
            .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
          return actions.length > 0 && actions.every((a) => a?.startsWith('company.'));
        })
        .toBe(true);

      await page.getByTestId('audit-verify').click();
      const verdict = page.getByTestId('audit-verify-result');
      await verdict.waitFor();
      expect(await verdict.getAttribute('data-intact')).toBe('true');
      // The verification signed the log as it found it: the auditor sees the checkpoint it now matches.
      expect(await page.getByTestId('audit-checkpoint').textContent()).toMatch(/#\d+/);
      await expectNoHorizontalScroll(page);
      await page.screenshot({ path: join(outputDir, 'console-phone-audit.png') });
    },
  );

  it(
    "makes a new group's first administrator choose a password, then proposes a separation-of-duties change that an auditor approves",
    { timeout: 120_000 },
    async ({ onTestFailed }) => {
      const printed = 'printed-by-the-cli-0001';
      const email = `first.admin.${Date.now()}@example.test`;
      const tenant = await createGroup(
        world.db,
        {
          name: 'Fresh Group',
          slug: `fresh-${Date.now()}`,
          headCompany: { name: 'Fresh HQ', code: 'FRESH' },
          admin: { email, name: 'Fiona First', password: printed, mustChangePassword: true },
        },
        { system: 'test' },
      );
      const auditor = await buildUser(world, {
        groupId: tenant.groupId,
        companyId: tenant.companyId,
        name: 'Arthur Auditor',
        roles: [{ role: 'security_auditor' }],
      });

      const page = await newPage(DESKTOP, onTestFailed, 'first-admin');
      await page.goto(`${base}/`);
      await page.getByTestId('signin-email').fill(email);
      await page.getByTestId('signin-password').fill(printed);
      await page.getByTestId('signin-submit').click();
      // Nothing but the password form until it is changed.
      await page.getByTestId('password-change-form').waitFor();
      await page.getByTestId('lang-en').click();
      expect(await page.getByTestId('nav-toggle').count()).toBe(0);
      await page.getByTestId('password-current').fill(printed);
      await page.getByTestId('password-new').fill(printed);
      await page.getByTestId('password-repeat').fill(printed);
      await page.getByTestId('password-submit').click();
      await waitForText(page, 'password-change-form', (v) => v.includes('must differ from the current password'));
      await page.screenshot({ path: join(outputDir, 'console-first-password.png') });
      await page.getByTestId('password-new').fill('Fiona chose this one');
      await page.getByTestId('password-repeat').fill('Fiona chose this one');
      await page.getByTestId('password-submit').click();
      await page.getByTestId('page-title').waitFor();

      // Propose relaxing one pair; it waits for the auditor.
      await page.goto(`${base}/roles?tab=sod`);
      await page.getByTestId('sod-edit').click();
      await page.locator('table [data-pair="seal_admin|security_auditor"]').first().click();
      await page.getByTestId('sod-reason').fill('The small office needs its seal keeper to audit');
      await page.getByTestId('sod-save').click();
      await page.getByTestId('sod-pending').waitFor();
      expect(await page.getByTestId('sod-edit').count()).toBe(0);
      await page.screenshot({ path: join(outputDir, 'console-sod-pending.png') });
      const pending = (await client(world, auditor.token).get('/api/v1/tasks?status=pending')).body.items[0];
      expect(pending).toMatchObject({ purpose: 'sod_change', applicantName: 'Fiona First' });

      // The auditor sees what the proposal removes, and approves it.
      const auditorPage = await newPage(DESKTOP, onTestFailed, 'sod-auditor');
      await auditorPage.goto(`${base}/applications/${pending.applicationId}`);
      await signIn(auditorPage, auditor.email, DEFAULT_PASSWORD);
      await auditorPage.getByTestId('sod-change-removed').waitFor();
      await auditorPage.getByTestId('decision-approve').click();
      await waitForText(auditorPage, 'application-status', (v) => v === 'Approved' || v === '已通过');
      await auditorPage.screenshot({ path: join(outputDir, 'console-sod-approved.png') });

      await page.reload();
      await page.getByTestId('sod-matrix').waitFor();
      expect(await page.getByTestId('sod-pending').count()).toBe(0);
      const matrix = (await client(world, auditor.token).get('/api/v1/settings/separation-of-duties')).body;
      expect(matrix.pairs).toHaveLength(2);
    },
  );
});
