import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SmartSealDevice } from '../../src/devices/device.js';
import { createHttpLink } from '../../src/devices/http-link.js';
import { PhoneRelay } from '../../src/devices/relay.js';
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
  browserRequired,
  DESKTOP,
  expectNoHorizontalScroll,
  hasChromium,
  PHONE,
  screenshotPage,
  signIn,
  useBrowserSuite,
  type BrowserSuite,
} from './browser-support.js';
import { injectCall, stampPhoto } from '../support/devices.js';

/**
 * Managing usage records in the console (issue 16 §9) in Chromium, at desktop and phone sizes:
 * a seal administrator draws a sampling review for an auditor, who flags one drawn record (not
 * without a comment) and confirms the other; a correction appended beside a record; a register
 * CSV checked against the records (a bad file's line errors, then one matching row and one
 * without a record). The stamps come from the reference device through the phone relay.
 * Screenshots land in test-output/usage-review-*.png.
 */

type User = Awaited<ReturnType<typeof buildUser>>;

describe.skipIf(!hasChromium && !browserRequired)('usage reviews, corrections and register checks in a browser', () => {
  const suite = useBrowserSuite({ screenshots: 'usage-review', timeoutMs: 15_000 });
  let world: World;
  let group: GroupFixture;
  let base: string;
  let custodian: User;
  let auditor: User;
  let serial: string;
  /** The record of the stamp made for contract HT-77, and of the letter no register row names. */
  let contractRecord: string;
  let letterRecord: string;

  beforeAll(async () => {
    ({ world, group, base } = suite);
    const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Review Co.' });
    custodian = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Review Co. Custodian',
    });
    auditor = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'security_auditor' }],
      name: 'Review Co. Auditor',
    });
    const applicant = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      name: 'Review Co. Applicant',
    });
    const seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [custodian.id],
      kind: 'physical',
      type: 'contract',
      name: 'Review Co. Contract Seal',
    });
    const admin = client(world, custodian.token);
    expect(
      (
        await admin.post(`/api/v1/seals/${seal.id}/grants`, {
          grantee: { type: 'user', userId: applicant.id },
          categories: ['sales'],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await admin.post('/api/v1/flows', {
          companyId: company.id,
          category: 'sales',
          name: 'Seal use',
          definition: { levels: [{ name: 'Custodian', mode: 'any', approvers: [{ type: 'custodian' }] }], cc: [] },
        })
      ).status,
    ).toBe(201);
    const key = await client(world, group.admin.token).get('/api/v1/devices/ticket-key');
    serial = `SEAL-${randomUUID().slice(0, 8)}`;
    const device = new SmartSealDevice({
      serial,
      serverKeys: [Buffer.from(key.body.publicKey, 'base64')],
      clock: () => world.clock.now().getTime(),
    });
    const registered = await admin.post('/api/v1/devices', {
      serial,
      sealId: seal.id,
      publicKey: device.publicKey.toString('base64'),
      geofence: null,
    });
    expect(registered.status).toBe(201);

    // Two stamps, one application each: for contract HT-77, and a letter.
    const applications: string[] = [];
    for (const reason of ['Sales contract HT-77', 'Letter to the bank']) {
      const submitted = await client(world, applicant.token).post('/api/v1/applications', {
        sealIds: [seal.id],
        category: 'sales',
        reason,
        uses: 1,
        photosPerUse: 1,
      });
      expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
      applications.push(submitted.body.id);
      const inbox = await admin.get('/api/v1/tasks?status=pending');
      const task = inbox.body.items.find((t: { applicationId: string }) => t.applicationId === submitted.body.id);
      const approved = await admin.post(`/api/v1/tasks/${task.id}/approve`, {});
      expect(approved.status).toBe(200);
      const relay = new PhoneRelay(createHttpLink(injectCall(world, applicant.token)));
      await relay.relayTicket(device, await relay.fetchTicket(approved.body.authorizations[0].id));
      expect(await relay.stamp(device, stampPhoto)).toMatchObject({ ok: true });
      await device.finish();
      await relay.exchange(device);
      await relay.sync();
      expect(relay.held).toEqual({ events: 0, photos: 0 });
    }
    const usage = await admin.get(`/api/v1/seal-usage?sealId=${seal.id}`);
    expect(usage.status).toBe(200);
    const items = usage.body.items as Array<{ recordId: string; applicationId: string }>;
    expect(items).toHaveLength(2);
    contractRecord = items.find((r) => r.applicationId === applications[0])!.recordId;
    letterRecord = items.find((r) => r.applicationId === applications[1])!.recordId;
  });

  async function signedIn(
    viewport: typeof DESKTOP,
    name: string,
    path: string,
    who: User,
    onTestFailed: Parameters<BrowserSuite['newPage']>[1],
  ) {
    const page = await suite.newPage(viewport, onTestFailed, name);
    await page.goto(`${base}${path}`);
    await page.getByTestId('signin-form').waitFor();
    await signIn(page, who.email, DEFAULT_PASSWORD);
    return page;
  }

  const record = (page: Page, recordId: string) =>
    page.locator(`[data-testid="usage-record"][data-record="${recordId}"]`);

  it(
    'draws a review the auditor flags and confirms, and appends corrections beside a record',
    { timeout: 80_000 },
    async ({ onTestFailed }) => {
      for (const [viewport, name] of [
        [DESKTOP, 'desktop'],
        [PHONE, 'phone'],
      ] as const) {
        // The seal administrator starts a review of two records for the auditor, from the usage page.
        const admin = await signedIn(viewport, `review-admin-${name}`, '/seal-usage', custodian, onTestFailed);
        await admin.getByTestId('usage-reviews-link').click();
        await admin.getByTestId('review-start').waitFor();
        await admin.getByTestId('review-size').fill('2');
        await admin.getByTestId('review-reviewer-search').fill('Review Co. Aud');
        await admin.locator(`[data-testid="person-option"][data-person="${auditor.id}"]`).click();
        await admin.getByTestId('review-submit').click();
        await admin.getByTestId('review-detail').waitFor();
        const reviewId = admin.url().split('/').pop()!;
        expect(await admin.getByTestId('review-item').count()).toBe(2);
        // Only the reviewer decides: the administrator sees no buttons.
        expect(await admin.getByTestId('review-confirm').count()).toBe(0);
        if (name === 'phone') await expectNoHorizontalScroll(admin);

        // The auditor: a flag needs a comment; one flagged with a comment, the other confirmed.
        const reviewer = await signedIn(
          viewport,
          `review-auditor-${name}`,
          `/seal-usage/reviews/${reviewId}`,
          auditor,
          onTestFailed,
        );
        const first = reviewer.locator('[data-testid="review-item"][data-position="1"]');
        const second = reviewer.locator('[data-testid="review-item"][data-position="2"]');
        await first.getByTestId('review-flag').click();
        await first.getByTestId('review-comment-missing').waitFor();
        expect(await first.getAttribute('data-decision')).toBe('open');
        await first.getByTestId('review-comment').fill('No signed contract on file');
        await first.getByTestId('review-flag').click();
        await expect.poll(() => first.getAttribute('data-decision')).toBe('flagged');
        expect(await first.getByTestId('review-item-comment').textContent()).toBe('No signed contract on file');
        await second.getByTestId('review-confirm').click();
        await expect.poll(() => second.getAttribute('data-decision')).toBe('confirmed');
        const detail = reviewer.getByTestId('review-detail');
        expect(await detail.getAttribute('data-decided')).toBe('2');
        expect(await detail.getAttribute('data-flagged')).toBe('1');
        expect(await reviewer.getByTestId('review-flag').count()).toBe(0);
        if (name === 'phone') await expectNoHorizontalScroll(reviewer);
        await screenshotPage(reviewer, `usage-review-decided-${name}.png`);

        // Back in the list, the review shows its progress.
        await admin.goto(`${base}/seal-usage/reviews`);
        const row = admin.locator(`[data-testid="review-row"][data-review="${reviewId}"]`);
        await row.waitFor();
        await expect.poll(async () => (await row.textContent()) ?? '').toContain('2 of 2 decided');
        expect(await row.textContent()).toContain('1 flagged');

        // A correction, appended beside the record (the desktop's stays when the phone adds one).
        await admin.goto(`${base}/seal-usage`);
        const stamped = record(admin, contractRecord);
        await stamped.getByTestId('usage-correct').click();
        await stamped.getByTestId('usage-correct-what').fill(`Stamped contract HT-77-A (${name})`);
        await stamped.getByTestId('usage-correct-why').fill('The applicant named the wrong contract');
        await stamped.getByTestId('usage-correct-submit').click();
        const corrections = stamped.getByTestId('usage-correction');
        await expect.poll(() => corrections.count()).toBe(name === 'desktop' ? 1 : 2);
        const shown = await corrections.allTextContents();
        expect(shown[0]).toContain('Stamped contract HT-77-A (desktop)');
        expect(shown.at(-1)).toContain(`HT-77-A (${name})`);
        expect(shown.at(-1)).toContain('The applicant named the wrong contract');
        expect(shown.at(-1)).toContain('Review Co. Custodian');
        expect(await record(admin, letterRecord).getByTestId('usage-correction').count()).toBe(0);
        if (name === 'phone') await expectNoHorizontalScroll(admin);
        await screenshotPage(admin, `usage-review-corrections-${name}.png`);
      }
    },
  );

  it(
    'checks a register: a bad file by line, then a matched row, a row with no record and a record with no row',
    {
      timeout: 60_000,
    },
    async ({ onTestFailed }) => {
      const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
      for (const [viewport, name] of [
        [DESKTOP, 'desktop'],
        [PHONE, 'phone'],
      ] as const) {
        const page = await signedIn(viewport, `register-${name}`, '/seal-usage/reviews', custodian, onTestFailed);
        const upload = async (csv: string) => {
          await page
            .getByTestId('register-file')
            .setInputFiles({ name: 'register.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
          await page.getByTestId('register-submit').click();
        };
        // No number column: the server's line error is shown.
        await upload('ticket,date\nHT-77,2026-01-01\n');
        await page.getByTestId('register-errors').waitFor();
        expect(await page.getByTestId('register-error').first().textContent()).toContain('Line 1');
        expect(await page.getByTestId('register-result').count()).toBe(0);

        await upload(`编号,日期,对方,金额\nHT-77,${today},ACME Ltd,1200.00\nHT-99,${today},Nobody Inc,80\n`);
        await page.getByTestId('register-result').waitFor();
        expect(await page.getByTestId('register-errors').count()).toBe(0);
        expect(await page.getByTestId('register-summary').textContent()).toContain(
          '2 rows, 2 records in the period, 1 rows matched',
        );
        const rows = page.getByTestId('register-rows-without');
        expect(await rows.getAttribute('data-count')).toBe('1');
        expect(await rows.getByTestId('register-row').textContent()).toContain('HT-99');
        expect(await rows.textContent()).not.toContain('HT-77');
        const records = page.getByTestId('register-records-without');
        expect(await records.getAttribute('data-count')).toBe('1');
        const letterSeq = letterRecord.split('-').pop();
        expect(await records.getByTestId('register-record').textContent()).toContain(`${serial}#${letterSeq}`);
        if (name === 'phone') await expectNoHorizontalScroll(page);
        await screenshotPage(page, `usage-review-register-${name}.png`);
      }
    },
  );
});
