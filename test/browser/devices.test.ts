import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SmartSealDevice } from '../../src/devices/device.js';
import { createHttpLink } from '../../src/devices/http-link.js';
import type { SignedMessage } from '../../src/devices/protocol.js';
import { PhoneRelay } from '../../src/devices/relay.js';
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
  browserRequired,
  DESKTOP,
  expectNoHorizontalScroll,
  hasChromium,
  PHONE,
  screenshotPage,
  signIn,
  useBrowserSuite,
  viaMenu,
} from './browser-support.js';
import { injectCall, stampPhoto } from '../support/devices.js';

/**
 * The smart seal console (issue 16) in Chromium, with the reference device and phone relay of
 * src/devices standing in for the hardware: the approver's review after three stamps (photos,
 * positions, counts), the device registry with its status, and the phone view offline, which
 * queues a photo and the device's log in IndexedDB and syncs them once, when the connection
 * returns. Screenshots land in test-output/devices-*.png.
 */

describe.skipIf(!hasChromium && !browserRequired)('smart seal devices in a browser', () => {
  const suite = useBrowserSuite({ screenshots: 'devices', timeoutMs: 15_000 });
  let world: World;
  let group: GroupFixture;
  let base: string;
  let serverKey: Buffer;
  beforeAll(async () => {
    ({ world, group, base } = suite);
    const key = await client(world, group.admin.token).get('/api/v1/devices/ticket-key');
    expect(key.status).toBe(200);
    serverKey = Buffer.from(key.body.publicKey, 'base64');
  });

  /** A company, its custodian (seal admin, the approver), an applicant granted a physical seal in a registered device. */
  async function scene(name: string) {
    const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name });
    const custodian = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'seal_admin' }],
      name: `${name} Custodian`,
    });
    const applicant = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      name: `${name} Applicant`,
    });
    const seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [custodian.id],
      kind: 'physical',
      type: 'contract',
      name: `${name} Contract Seal`,
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
    const serial = `SEAL-${randomUUID().slice(0, 8)}`;
    const device = new SmartSealDevice({
      serial,
      serverKeys: [serverKey],
      clock: () => world.clock.now().getTime(),
    });
    const registered = await admin.post('/api/v1/devices', {
      serial,
      sealId: seal.id,
      publicKey: device.publicKey.toString('base64'),
      geofence: null,
    });
    expect(registered.status).toBe(201);
    return { company, custodian, applicant, seal, device, deviceId: registered.body.id as string };
  }
  type Scene = Awaited<ReturnType<typeof scene>>;

  /** Applies for `uses` uses (one photo each) with a document, and has the custodian approve. */
  async function approved(s: Scene, uses: number) {
    const uploaded = await world.app.inject({
      method: 'POST',
      url: `/api/v1/documents/uploads?name=${encodeURIComponent('sales-contract.pdf')}`,
      headers: { authorization: `Bearer ${s.applicant.token}`, 'content-type': 'application/pdf' },
      payload: buildPdf({ pages: 1, seed: 1600 + uses }),
    });
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    const submitted = await client(world, s.applicant.token).post('/api/v1/applications', {
      sealIds: [s.seal.id],
      category: 'sales',
      reason: 'Sales contract, stamped on paper',
      uses,
      photosPerUse: 1,
      documents: [{ sha256: uploaded.json().sha256, name: 'sales-contract.pdf' }],
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const inbox = await client(world, s.custodian.token).get('/api/v1/tasks?status=pending');
    const task = inbox.body.items.find((t: { applicationId: string }) => t.applicationId === submitted.body.id);
    const decided = await client(world, s.custodian.token).post(`/api/v1/tasks/${task.id}/approve`, {});
    expect(decided.status).toBe(200);
    const authorization = decided.body.authorizations[0];
    expect(authorization).toMatchObject({ kind: 'ticket', usesTotal: uses });
    return { applicationId: submitted.body.id as string, authorizationId: authorization.id as string };
  }

  const records = async (s: Scene, applicationId: string) => {
    const answer = await client(world, s.custodian.token).get(`/api/v1/applications/${applicationId}/device-records`);
    expect(answer.status).toBe(200);
    return answer.body as {
      usesApproved: number;
      stamps: Array<{ use: number; photos: Array<{ sha256: string; uploaded: boolean }> }>;
    };
  };

  /** Whether every photo of the review has been decoded by the browser (a broken image has no width). */
  const photosDrawn = (page: Page) =>
    page.evaluate<number>(
      `[...document.querySelectorAll('[data-testid="stamp-photo"]')].filter((img) => img.complete && img.naturalWidth > 0).length`,
    );

  it(
    "shows the approver each stamp's stampPhoto, position and the count after a device stamped three times",
    { timeout: 150_000 },
    async ({ onTestFailed }) => {
      const s = await scene('Review Co.');
      const { applicationId, authorizationId } = await approved(s, 3);
      const relay = new PhoneRelay(createHttpLink(injectCall(world, s.applicant.token)));
      const ticket = await relay.fetchTicket(authorizationId);
      // Three stamps a few dozen metres apart, a photo after each (auto mode).
      const positions = [
        { lat: 31_230_416, lon: 121_473_701, acc: 12 },
        { lat: 31_230_616, lon: 121_473_901, acc: 8 },
        { lat: 31_230_216, lon: 121_474_101, acc: 20 },
      ];
      relay.location = positions[0]!;
      expect(await relay.relayTicket(s.device, ticket)).toEqual({ ok: true, resumed: false, usesLeft: 3 });
      for (const position of positions) {
        relay.location = position;
        expect(await relay.stamp(s.device, stampPhoto)).toMatchObject({ ok: true });
      }
      expect(await relay.stamp(s.device, stampPhoto)).toEqual({ ok: false, reason: 'locked' });
      await s.device.finish();
      await relay.exchange(s.device);
      await relay.sync();
      expect(relay.held).toEqual({ events: 0, photos: 0 });

      for (const [viewport, name] of [
        [DESKTOP, 'desktop'],
        [PHONE, 'phone'],
      ] as const) {
        const page = await suite.newPage(viewport, onTestFailed, `review-${name}`);
        await page.goto(`${base}/applications/${applicationId}`);
        await page.getByTestId('signin-form').waitFor();
        await signIn(page, s.custodian.email, DEFAULT_PASSWORD);
        const count = page.getByTestId('device-review-count');
        await count.waitFor();
        expect(await count.getAttribute('data-made')).toBe('3');
        expect(await count.getAttribute('data-allowed')).toBe('3');
        expect(await count.textContent()).toContain('3 of 3 stamps made');
        expect(await page.getByTestId('stamp-record').count()).toBe(3);
        // Who, where and when, per stamp.
        const who = await page.getByTestId('stamp-record-who').allTextContents();
        expect(who).toEqual(['Review Co. Applicant', 'Review Co. Applicant', 'Review Co. Applicant']);
        const where = await page.getByTestId('stamp-record-where').allTextContents();
        expect(where[1]).toContain('31.230616, 121.473901');
        expect(where[1]).toContain('±8 m');
        // The positions plotted: one point per stamp, at the coordinates each stamp carries.
        const points = page.getByTestId('plot-point');
        expect(await points.count()).toBe(3);
        expect(await points.nth(2).getAttribute('data-lat')).toBe('31.230216');
        const spots = await points.evaluateAll((els) =>
          els.map((el) => {
            const c = el.querySelector('circle')!;
            return `${c.getAttribute('cx')},${c.getAttribute('cy')}`;
          }),
        );
        expect(new Set(spots).size).toBe(3);
        // The photos next to the documents applied for, each drawn by the browser.
        await expect.poll(() => photosDrawn(page)).toBe(3);
        expect(await page.getByTestId('device-review-documents').textContent()).toContain('sales-contract.pdf');
        const shown = await page
          .getByTestId('stamp-photo')
          .evaluateAll((els) => els.map((el) => el.getAttribute('data-sha256')));
        const stored = (await records(s, applicationId)).stamps.map((x) => x.photos[0]!.sha256);
        expect(shown).toEqual(stored);
        if (name === 'phone') await expectNoHorizontalScroll(page);
        await screenshotPage(page, `devices-review-${name}.png`);

        // The usage records of the seal: the three stamps on the physical side, none electronic.
        await page.goto(`${base}/seal-usage?seal=${s.seal.id}`);
        const physical = page.getByTestId('usage-physical');
        await expect.poll(() => physical.getAttribute('data-count')).toBe('3');
        expect(await page.getByTestId('usage-electronic').getAttribute('data-count')).toBe('0');
        expect(await physical.textContent()).toContain(`${s.device.serial}#`);
        const report = new URL((await page.getByTestId('usage-report-xlsx').getAttribute('href'))!, base);
        expect(report.pathname).toBe('/api/v1/seal-usage/reports');
        expect(report.searchParams.get('period')).toBe('week');
        expect(report.searchParams.get('format')).toBe('xlsx');
        expect(report.searchParams.get('from')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        if (name === 'phone') await expectNoHorizontalScroll(page);
        await screenshotPage(page, `devices-usage-${name}.png`);
      }
    },
  );

  it(
    'lists the device with its seal, last sync, remote lock and findings, and registers and locks devices',
    { timeout: 150_000 },
    async ({ onTestFailed }) => {
      const s = await scene('Registry Co.');
      // A low battery and a stamp with no ticket, synced: two findings on the device, one critical.
      await s.device.lowBattery();
      await s.device.forcedStamp();
      const synced = await client(world, s.custodian.token).post('/api/v1/device-sync', {
        serial: s.device.serial,
        events: s.device.pendingEvents(),
      });
      expect(synced.status).toBe(200);
      const spare = await buildSeal(world, {
        groupId: group.groupId,
        companyId: s.company.id,
        custodianIds: [s.custodian.id],
        kind: 'physical',
        type: 'finance',
        name: 'Registry Co. Finance Seal',
      });

      const page = await suite.newPage(DESKTOP, onTestFailed, 'registry-desktop');
      await page.goto(`${base}/devices`);
      await page.getByTestId('signin-form').waitFor();
      await signIn(page, s.custodian.email, DEFAULT_PASSWORD);
      const row = page.locator(`[data-testid="device-row"][data-serial="${s.device.serial}"]`);
      await row.waitFor();
      expect(await row.getByTestId('device-seal').textContent()).toBe('Registry Co. Contract Seal');
      expect(await row.getByTestId('device-last-sync').textContent()).not.toBe('Never synced');
      expect(await row.getByTestId('device-acknowledged').textContent()).toBe('2');
      expect(await row.getByTestId('device-lock-state').getAttribute('data-locked')).toBe('false');
      // The forced stamp (critical) and the low battery (low).
      expect(await row.getByTestId('device-findings-count').getAttribute('data-count')).toBe('2');

      // The device's log and findings.
      await row.getByTestId('device-open').click();
      await page.getByTestId('device-detail').waitFor();
      await expect.poll(() => page.getByTestId('device-event').count()).toBe(2);
      const finding = page.locator('[data-testid="device-finding"][data-kind="stamp_without_ticket"]');
      await finding.waitFor();
      expect(await finding.textContent()).toContain('Critical');
      expect(await finding.textContent()).toContain('Stamp without a ticket');
      expect(await page.getByTestId('device-finding').count()).toBe(2);

      // Locked from afar: the badge and the server say so.
      await row.getByTestId('device-lock-toggle').click();
      await expect.poll(() => row.getByTestId('device-lock-state').getAttribute('data-locked')).toBe('true');
      const device = await client(world, s.custodian.token).get(`/api/v1/devices/${s.deviceId}`);
      expect(device.body.remoteLocked).toBe(true);

      // Registering a device: a key made elsewhere (as on the device), bound to the spare seal.
      const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
        format: 'der',
        type: 'spki',
      });
      const serial = `SEAL-${randomUUID().slice(0, 8)}`;
      await page.getByTestId('device-register-open').click();
      await page.getByTestId('device-serial').fill(serial);
      await page.getByTestId('device-seal-select').selectOption(spare.id);
      // A key that is not P-256 is refused with the reason, on the field.
      await page.getByTestId('device-public-key').fill(Buffer.from('not a key').toString('base64'));
      await page.getByTestId('device-register-submit').click();
      await page.getByTestId('field-error').waitFor();
      await page.getByTestId('device-public-key').fill(key.toString('base64'));
      await page.getByTestId('device-register-submit').click();
      const added = page.locator(`[data-testid="device-row"][data-serial="${serial}"]`);
      await added.waitFor();
      expect(await added.getByTestId('device-seal').textContent()).toBe('Registry Co. Finance Seal');
      expect(await added.getByTestId('device-last-sync').textContent()).toBe('Never synced');
      await screenshotPage(page, 'devices-registry-desktop.png');

      const phone = await suite.newPage(PHONE, onTestFailed, 'registry-phone');
      await phone.goto(`${base}/`);
      await phone.getByTestId('signin-form').waitFor();
      await signIn(phone, s.custodian.email, DEFAULT_PASSWORD);
      await viaMenu(phone, 'nav-devices');
      const phoneRow = phone.locator(`[data-testid="device-row"][data-serial="${s.device.serial}"]`);
      await phoneRow.waitFor();
      expect(await phoneRow.getByTestId('device-lock-state').getAttribute('data-locked')).toBe('true');
      expect(await phone.getByTestId('device-row').count()).toBe(2);
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'devices-registry-phone.png');
    },
  );

  it(
    'queues the device log and a photo on a phone that is offline, and syncs them once when it is back',
    { timeout: 150_000 },
    async ({ onTestFailed }) => {
      const s = await scene('Offline Co.');
      const { applicationId } = await approved(s, 2);
      const page = await suite.newPage(PHONE, onTestFailed, 'offline-phone');
      const uploads: string[] = [];
      const syncs: string[] = [];
      page.on('request', (request) => {
        if (request.method() !== 'POST') return;
        if (/\/api\/v1\/devices\/[^/]+\/photos$/.test(request.url())) uploads.push(request.url());
        if (request.url().endsWith('/api/v1/device-sync')) syncs.push(request.url());
      });
      await page.goto(`${base}/applications/${applicationId}`);
      await page.getByTestId('signin-form').waitFor();
      await signIn(page, s.applicant.email, DEFAULT_PASSWORD);
      await page.getByTestId('open-phone-view').click();
      await page.getByTestId('phone-view').waitFor();

      // Online, the phone fetches the ticket and keeps it; the seal takes it as text (no Bluetooth here).
      const payload = page.getByTestId('ticket-payload');
      await payload.waitFor({ state: 'attached' });
      expect(await page.getByTestId('bluetooth-missing').count()).toBe(1);
      const ticket = JSON.parse(await payload.inputValue()) as SignedMessage;
      expect(await page.getByTestId('uses-left').getAttribute('data-left')).toBe('2');
      // The view is an installable web app: its worker is registered and active under the CSP.
      await expect
        .poll(() =>
          page.evaluate<boolean>('navigator.serviceWorker.getRegistration().then((r) => Boolean(r && r.active))'),
        )
        .toBe(true);

      // The connection drops. The seal still opens for the ticket, stamps once, logs the photo's hash.
      await page.context().setOffline(true);
      await expect.poll(() => page.getByTestId('phone-online').getAttribute('data-online')).toBe('false');
      s.device.setLocation({ lat: 39_904_200, lon: 116_407_400, acc: 10 });
      expect(await s.device.presentTicket(ticket)).toMatchObject({ ok: true, usesLeft: 2 });
      expect(await s.device.stamp()).toMatchObject({ ok: true, use: 1 });
      const picture = stampPhoto();
      const sha256 = createHash('sha256').update(picture).digest('hex');
      expect(await s.device.recordPhoto(sha256, 1)).toBe(true);
      await s.device.finish();
      const log = s.device.pendingEvents();

      // The phone keeps the device's log and the photo in its queue: nothing reaches the server.
      await page.getByTestId('device-log-input').fill(JSON.stringify(log));
      await page.getByTestId('device-log-queue').click();
      await expect.poll(() => page.getByTestId('queue-events').getAttribute('data-count')).toBe(String(log.length));
      await page.locator('[data-testid="phone-stamp"][data-use="1"]').waitFor();
      expect(await page.getByTestId('uses-left').getAttribute('data-left')).toBe('1');
      // A file that is not a photo (a PDF named .png) is refused before it waits in the queue.
      await page
        .getByTestId('photo-input-1')
        .setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: buildPdf({ pages: 1, seed: 7 }) });
      await expect.poll(() => page.getByTestId('phone-note').textContent()).toContain('not a JPEG or PNG');
      expect(await page.getByTestId('queue-photos').getAttribute('data-count')).toBe('0');
      const file = { name: 'stamp-1.png', mimeType: 'image/png', buffer: picture };
      await page.getByTestId('photo-input-1').setInputFiles(file);
      await expect.poll(() => page.getByTestId('queue-photos').getAttribute('data-count')).toBe('1');
      // The same picture chosen again is the same entry.
      await page.getByTestId('photo-input-1').setInputFiles(file);
      await expect.poll(() => page.getByTestId('phone-note').textContent()).toContain('already kept');
      expect(await page.getByTestId('queue-photos').getAttribute('data-count')).toBe('1');
      // Kept across a reload of the page's state: the queue lives in IndexedDB.
      const held = await page.evaluate<{ events: number; photos: number }>(`new Promise((resolve, reject) => {
        const open = indexedDB.open('sigil-phone');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction(['events', 'photos']);
          const events = tx.objectStore('events').count();
          const photos = tx.objectStore('photos').count();
          tx.oncomplete = () => resolve({ events: events.result, photos: photos.result });
        };
      })`);
      expect(held).toEqual({ events: log.length, photos: 1 });
      expect(syncs).toEqual([]);
      expect(uploads).toEqual([]);
      expect((await records(s, applicationId)).stamps).toEqual([]);

      // The page reopened with no connection: the service worker serves the console, the queue and
      // the ticket come back from IndexedDB.
      const reopened = await page.reload();
      expect(reopened?.fromServiceWorker()).toBe(true);
      await page.getByTestId('phone-view').waitFor();
      expect(await page.getByTestId('phone-online').getAttribute('data-online')).toBe('false');
      await expect.poll(() => page.getByTestId('queue-events').getAttribute('data-count')).toBe(String(log.length));
      await expect.poll(() => page.getByTestId('queue-photos').getAttribute('data-count')).toBe('1');
      await page.getByTestId('uses-left').waitFor();
      expect(await page.getByTestId('uses-left').getAttribute('data-left')).toBe('1');
      expect(syncs).toEqual([]);
      await screenshotPage(page, 'devices-phone-offline.png');

      // Back online: the log and then the photo go up once, and the queue empties.
      await page.context().setOffline(false);
      await expect.poll(() => page.getByTestId('queue-events').getAttribute('data-count')).toBe('0');
      await expect.poll(() => page.getByTestId('queue-photos').getAttribute('data-count')).toBe('0');
      expect(uploads).toHaveLength(1);
      const after = await records(s, applicationId);
      expect(after.stamps).toHaveLength(1);
      expect(after.stamps[0]!.photos).toEqual([{ sha256, uploaded: true }]);
      await expect.poll(() => page.getByTestId('phone-stamp-photos').first().getAttribute('data-uploaded')).toBe('1');

      // The same log relayed again (a phone that kept a copy): stored once, nothing new, no finding.
      await page.getByTestId('device-log-input').fill(JSON.stringify(log));
      await page.getByTestId('device-log-queue').click();
      await expect
        .poll(() => page.getByTestId('sync-report').textContent())
        .toContain(`0 events stored (${log.length} already held)`);
      await expect.poll(() => page.getByTestId('queue-events').getAttribute('data-count')).toBe('0');
      const events = await client(world, s.custodian.token).get(`/api/v1/devices/${s.deviceId}/events`);
      expect(events.body.items.map((e: { seq: number }) => e.seq)).toEqual(log.map((_, i) => i + 1));
      const findings = await client(world, s.custodian.token).get(`/api/v1/device-findings?deviceId=${s.deviceId}`);
      expect(findings.body.items).toEqual([]);
      expect((await records(s, applicationId)).stamps).toHaveLength(1);
      expect(uploads).toHaveLength(1);
      await expectNoHorizontalScroll(page);
      await screenshotPage(page, 'devices-phone-synced.png');
    },
  );

  it('serves the service worker and the web manifest revalidated, under the console CSP', async () => {
    for (const [path, type] of [
      ['/sw.js', /javascript/],
      ['/manifest.webmanifest', /manifest\+json|json/],
    ] as const) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toMatch(type);
      // Unhashed names: a new build must be seen at once, never a year-old copy.
      expect(response.headers.get('cache-control'), path).toBe('no-cache');
      expect(response.headers.get('content-security-policy'), path).toContain("script-src 'self'");
    }
    const worker = await (await fetch(`${base}/sw.js`)).text();
    const precache = JSON.parse(/const PRECACHE = (\[.*\]);/.exec(worker)![1]!) as string[];
    expect(precache).toContain('/index.html');
    // The phone view, and both languages of the console and of the device pages.
    for (const chunk of ['PhonePage', 'messages.en', 'messages.zh-CN', 'en', 'zh-CN'])
      expect(
        precache.some((f) => new RegExp(`^/assets/${chunk.replace('.', '\\.')}-[\\w-]+\\.js$`).test(f)),
        chunk,
      ).toBe(true);
    // Every file it keeps is served.
    for (const file of precache) expect((await fetch(`${base}${file}`)).status, file).toBe(200);
    const manifest = (await (await fetch(`${base}/manifest.webmanifest`)).json()) as {
      start_url: string;
      icons: unknown[];
    };
    expect(manifest.start_url).toBe('/applications');
    expect(manifest.icons.length).toBeGreaterThan(0);
  });
});
