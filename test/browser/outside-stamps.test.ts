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
  DESKTOP,
  expectNoHorizontalScroll,
  hasChromium,
  PHONE,
  screenshotPage,
  signIn,
  waitForText,
} from './browser-support.js';

/**
 * A stamp made directly under a standing grant while an application for the same document waits
 * shows on that application, in Chromium: the approver (desktop) and the applicant (phone) read who
 * stamped it, with which seal and when. Screenshots land in test-output/outside-stamps-*.png.
 */

describe.skipIf(!hasChromium && !browserRequired)('stamps outside an application in a browser', () => {
  const suite = useBrowserSuite({ screenshots: 'outside-stamps' });
  const newPage = suite.newPage;
  let world: World;
  let group: GroupFixture;
  let base: string;
  beforeAll(() => {
    ({ world, group, base } = suite);
  });

  it(
    'shows the approver and the applicant a grant stamp made on the document while the application waits',
    { timeout: 120_000 },
    async ({ onTestFailed }) => {
      const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Outside Co.' });
      const keeper = await buildUser(world, {
        groupId: group.groupId,
        companyId: company.id,
        roles: [{ role: 'seal_admin' }],
        name: 'Kim Keeper',
      });
      const head = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Hugo Head' });
      const department = await client(world, group.admin.token).post('/api/v1/departments', {
        companyId: company.id,
        name: 'Sales',
        headUserId: head.id,
      });
      expect(department.status).toBe(201);
      const applicant = await buildUser(world, {
        groupId: group.groupId,
        companyId: company.id,
        departmentId: department.body.id,
        name: 'Amy Applicant',
      });
      const seal = await buildSeal(world, {
        groupId: group.groupId,
        companyId: company.id,
        custodianIds: [keeper.id],
        name: 'Outside Co. Contract Seal',
      });
      const keeperApi = client(world, keeper.token);
      expect(
        (
          await keeperApi.post(`/api/v1/seals/${seal.id}/grants`, {
            grantee: { type: 'user', userId: applicant.id },
            categories: ['sales'],
          })
        ).status,
      ).toBe(201);
      expect(
        (
          await keeperApi.post('/api/v1/flows', {
            companyId: company.id,
            category: 'sales',
            name: 'Outside flow',
            definition: { levels: [{ name: 'Head', mode: 'any', approvers: [{ type: 'department_head' }] }] },
          })
        ).status,
      ).toBe(201);
      const uploaded = await world.app.inject({
        method: 'POST',
        url: `/api/v1/documents/uploads?name=${encodeURIComponent('supply-contract.pdf')}`,
        headers: { authorization: `Bearer ${applicant.token}`, 'content-type': 'application/pdf' },
        payload: buildPdf({ pages: 2, seed: 411 }),
      });
      expect(uploaded.statusCode, uploaded.body).toBe(201);
      const sha256 = uploaded.json().sha256 as string;
      const applicantApi = client(world, applicant.token);
      const application = await applicantApi.post('/api/v1/applications', {
        sealIds: [seal.id],
        category: 'sales',
        reason: 'Supply contract with Example Ltd.',
        uses: 1,
        documents: [{ sha256, name: 'supply-contract.pdf' }],
      });
      expect(application.status).toBe(201);
      const path = `/api/v1/applications/${application.body.id}`;

      // Before anything is stamped, the application shows no such section.
      const desk = await newPage(DESKTOP, onTestFailed, 'approver');
      await desk.goto(`${base}/applications/${application.body.id}`);
      await desk.getByTestId('signin-form').waitFor();
      await signIn(desk, head.email, DEFAULT_PASSWORD);
      await desk.getByTestId('application-documents').waitFor();
      await desk.getByTestId('decision-card').waitFor();
      expect(await desk.getByTestId('outside-stamps').count()).toBe(0);

      // The applicant does not wait: the grant lets them stamp the same document at once.
      const stamped = await applicantApi.post('/api/v1/signatures', {
        documentSha256: sha256,
        sealId: seal.id,
        category: 'sales',
        level: 'B-B',
      });
      expect(stamped.status, JSON.stringify(stamped.body)).toBe(201);
      expect((await applicantApi.get(path)).body.status).toBe('pending');

      await desk.reload();
      const entry = desk.locator(`[data-testid="outside-stamp"][data-signature="${stamped.body.id}"]`);
      await entry.waitFor();
      const line = (await entry.textContent()) ?? '';
      expect(line).toContain('Outside Co. Contract Seal');
      expect(line).toContain('Standing grant');
      expect(line).toContain('Amy Applicant');
      expect(line).toContain('supply-contract.pdf');
      expect(await desk.getByTestId('outside-stamps').textContent()).toContain(
        'its documents were already signed without it',
      );
      // The decision is still the approver's to make.
      await desk.getByTestId('decision-card').waitFor();
      await screenshotPage(desk, 'outside-stamps-desktop-approver.png');

      // The applicant, on a phone, reads the same on their own application.
      const phone = await newPage(PHONE, onTestFailed, 'applicant');
      await phone.goto(`${base}/applications/${application.body.id}`);
      await phone.getByTestId('signin-form').waitFor();
      await signIn(phone, applicant.email, DEFAULT_PASSWORD);
      await waitForText(phone, 'outside-stamps', (v) => v.includes('Outside Co. Contract Seal'));
      expect(await phone.getByTestId('outside-stamp').count()).toBe(1);
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'outside-stamps-phone-applicant.png');
    },
  );
});
