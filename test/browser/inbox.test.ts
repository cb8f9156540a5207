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
  PHONE,
  screenshotPage,
  signIn,
  text,
  waitForText,
} from './browser-support.js';

/**
 * The approver's working day in Chromium: after a decision the console opens the next task
 * waiting (and says when none is left) instead of going back to the inbox; and an approver
 * without the people directory chooses a stand-in for a period and ends it early, on a phone.
 * Screenshots land in test-output/inbox-*.png.
 */

describe.skipIf(!hasChromium && !browserRequired)('the approver’s inbox in a browser', () => {
  const suite = useBrowserSuite({ screenshots: 'inbox' });
  const newPage = suite.newPage;
  let world: World;
  let group: GroupFixture;
  let base: string;
  let sealAdmin: Awaited<ReturnType<typeof buildUser>>;
  let scenes = 0;
  beforeAll(async () => {
    ({ world, group, base } = suite);
    sealAdmin = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Sam Sealkeeper',
    });
  });

  /** A company whose Sales head approves sales seal use of two employees granted its contract seal. */
  async function scene() {
    const n = ++scenes;
    const company = await buildCompany(world, {
      groupId: group.groupId,
      parent: group.hq,
      name: `Inbox Trading ${n}`,
      code: `INBOX-${n}-${Date.now() % 100000}`,
    });
    const head = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: `Hana Head ${n}` });
    const department = await client(world, group.admin.token).post('/api/v1/departments', {
      companyId: company.id,
      name: 'Sales',
      headUserId: head.id,
    });
    expect(department.status).toBe(201);
    const employee = (name: string) =>
      buildUser(world, { groupId: group.groupId, companyId: company.id, departmentId: department.body.id, name });
    const first = await employee(`Erin First ${n}`);
    const second = await employee(`Ethan Second ${n}`);
    const custodian = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: `Cora ${n}` });
    const elsewhere = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: `Elsewhere ${n}` });
    const outsider = await buildUser(world, {
      groupId: group.groupId,
      companyId: elsewhere.id,
      name: `Cody Outsider ${n}`,
    });
    const deputy = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: `Cody Deputy ${n}` });
    const seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [custodian.id],
      kind: 'electronic',
      type: 'contract',
    });
    const sealApi = client(world, sealAdmin.token);
    for (const person of [first, second]) {
      const grant = await sealApi.post(`/api/v1/seals/${seal.id}/grants`, {
        grantee: { type: 'user', userId: person.id },
        categories: ['sales'],
      });
      expect(grant.status).toBe(201);
    }
    const flow = await sealApi.post('/api/v1/flows', {
      companyId: company.id,
      category: 'sales',
      name: `Inbox flow ${n}`,
      definition: { levels: [{ name: 'Department head', mode: 'any', approvers: [{ type: 'department_head' }] }] },
    });
    expect(flow.status).toBe(201);
    const apply = async (person: typeof first, reason: string) => {
      const submitted = await client(world, person.token).post('/api/v1/applications', {
        sealIds: [seal.id],
        category: 'sales',
        reason,
        uses: 1,
      });
      expect(submitted.status).toBe(201);
      return submitted.body.id as string;
    };
    return { n, company, head, first, second, deputy, outsider, apply };
  }

  async function pendingOf(token: string): Promise<string[]> {
    const inbox = await client(world, token).get('/api/v1/tasks?status=pending');
    expect(inbox.status).toBe(200);
    return inbox.body.items.map((t: { applicationId: string }) => t.applicationId);
  }

  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    it(
      `opens the next pending task after each decision and says when none is left (${size})`,
      { timeout: 120_000 },
      async ({ onTestFailed }) => {
        const s = await scene();
        const older = await s.apply(s.first, 'Supply contract, two originals');
        const newer = await s.apply(s.second, 'Lease renewal, one original');
        const page = await newPage(viewport, onTestFailed, `next-${size}`);
        await page.goto(`${base}/inbox`);
        await page.getByTestId('signin-form').waitFor();
        await signIn(page, s.head.email, DEFAULT_PASSWORD);
        await expect.poll(() => page.getByTestId('inbox-task').count()).toBe(2);

        // The first in the inbox is decided; the console opens the other one, not the list.
        const firstShown = await page.getByTestId('inbox-task').first().getAttribute('data-application');
        const other = firstShown === older ? newer : older;
        await page.getByTestId('inbox-task').first().click();
        await page.getByTestId('decision-approve').click();
        await page.waitForURL(`${base}/applications/${other}`);
        await waitForText(page, 'application-reason', (v) =>
          v.includes(other === older ? 'Supply contract' : 'Lease renewal'),
        );
        await waitForText(page, 'toast', (v) => v.startsWith('Approved.') && v.includes('Next:'));
        expect(await page.getByTestId('decision-card').count()).toBe(1);
        expect(await page.getByTestId('inbox-cleared').count()).toBe(0);
        // The server agrees: the first is decided, the second still waits.
        expect(await pendingOf(s.head.token)).toEqual([other]);

        // Rejecting the last one leaves nothing: the page stays, shows the outcome and says so.
        await page.getByTestId('decision-comment').fill('No budget this quarter');
        await page.getByTestId('decision-reject').click();
        await page.getByTestId('confirm-ok').click();
        await page.getByTestId('inbox-cleared').waitFor();
        expect(page.url()).toBe(`${base}/applications/${other}`);
        expect(await text(page, 'inbox-cleared')).toContain('Nothing else is waiting for your decision.');
        expect(await page.getByTestId('decision-card').count()).toBe(0);
        expect(await pendingOf(s.head.token)).toEqual([]);
        if (viewport === PHONE) await expectNoHorizontalScroll(page);
        await screenshotPage(page, `inbox-${size}-none-left.png`);
        await page.getByTestId('inbox-cleared-link').click();
        await waitForText(page, 'page-title', (v) => v === 'Approvals');
        expect(await page.getByTestId('inbox-task').count()).toBe(0);
      },
    );
  }

  for (const [size, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    it(
      `lets an approver without the directory set a stand-in and end it early (${size})`,
      { timeout: 120_000 },
      async ({ onTestFailed }) => {
        const s = await scene();
        // The head holds no org.read: the directory is closed to them.
        expect((await client(world, s.head.token).get('/api/v1/users?q=Cody')).status).toBe(403);
        const page = await newPage(viewport, onTestFailed, `delegation-${size}`);
        await page.goto(`${base}/inbox`);
        await page.getByTestId('signin-form').waitFor();
        await signIn(page, s.head.email, DEFAULT_PASSWORD);
        const section = page.getByTestId('delegations');
        await section.waitFor();
        expect(await section.textContent()).toContain('No stand-in set.');

        // Adding without a stand-in names what is missing.
        await page.getByTestId('delegation-add').click();
        await waitForText(page, 'delegations', (v) => v.includes('Choose a person'));

        // The search offers colleagues of the company line; someone of another company is not offered.
        await page.getByTestId('delegate-picker-search').fill('Cody');
        const option = page.locator(`[data-testid="person-option"][data-person="${s.deputy.id}"]`);
        await option.waitFor();
        expect(await option.textContent()).toContain(`Inbox Trading ${s.n}`);
        expect(await page.locator(`[data-person="${s.outsider.id}"]`).count()).toBe(0);
        await page.getByTestId('delegate-picker-search').fill(`Cody Outsider ${s.n}`);
        await waitForText(page, 'delegate-picker', (v) => v.includes('Nobody found.'));
        await page.getByTestId('delegate-picker-search').fill(`Cody Deputy ${s.n}`);
        await option.click();
        await page.getByTestId('delegation-add').click();
        await waitForText(page, 'delegation-list', (v) => v.includes(`Cody Deputy ${s.n}`) && v.includes('Active'));
        if (viewport === PHONE) await expectNoHorizontalScroll(page);
        await screenshotPage(page, `inbox-${size}-stand-in.png`);

        // While it runs, a new application reaches the stand-in instead of the head.
        const during = await s.apply(s.first, 'While the head is away');
        expect(await pendingOf(s.deputy.token)).toContain(during);
        expect(await pendingOf(s.head.token)).not.toContain(during);

        // Ended early: it leaves the list, and the next application comes to the head again.
        await page.getByTestId('delegation-end').click();
        await page.getByTestId('confirm-ok').click();
        await waitForText(page, 'delegations', (v) => v.includes('No stand-in set.'));
        const after = await s.apply(s.second, 'After the head is back');
        expect(await pendingOf(s.head.token)).toContain(after);
        expect(await pendingOf(s.deputy.token)).not.toContain(after);
        const record = await client(world, s.head.token).get('/api/v1/delegations');
        expect(record.body.items).toHaveLength(1);
        expect(record.body.items[0].revokedAt).not.toBeNull();
      },
    );
  }
});
