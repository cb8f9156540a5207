// Issue 16 on the real database: the patent's story with the simulated device and phone, days
// offline, forged and replayed tickets, every kind of log tampering, revocation, the remote lock,
// maintenance, a phone offline for a whole session, unknown devices and bad photos.
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { SmartSealDevice } from '../src/devices/device.js';
import { createHttpLink } from '../src/devices/http-link.js';
import {
  b64url,
  canonicalize,
  fromB64url,
  parseEvent,
  SIGNING_PREFIX,
  signMessage,
  softwareSigner,
  type SignedMessage,
} from '../src/devices/protocol.js';
import { PhoneRelay } from '../src/devices/relay.js';
import { buildPdf } from './signing/pdf-fixtures.js';
import {
  buildCompany,
  buildGroup,
  buildSeal,
  buildUser,
  client,
  createWorld,
  type GroupFixture,
  type World,
} from './support/world.js';
import { injectCall, stampPhoto } from './support/devices.js';

let world: World;
let group: GroupFixture;
let serverKey: Buffer;
const dir = mkdtempSync(join(tmpdir(), 'sigil-devices-'));

beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
  const key = await client(world, group.admin.token).get('/api/v1/devices/ticket-key');
  expect(key.status).toBe(200);
  serverKey = Buffer.from(key.body.publicKey, 'base64');
});
afterAll(async () => {
  await world.close();
  rmSync(dir, { recursive: true, force: true });
});

type User = Awaited<ReturnType<typeof buildUser>>;

/**
 * A company with a custodian keeping a physical seal in a registered device, an applicant granted
 * the seal, and a one-level flow (the custodian approves).
 */
async function scene(options: { geofence?: { lat: number; lon: number; r: number } } = {}) {
  const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
  const custodian = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Custodian',
  });
  const applicant = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Applicant' });
  const seal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: company.id,
    custodianIds: [custodian.id],
    kind: 'physical',
    type: 'contract',
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
  const clock = { now: () => world.clock.now().getTime() };
  const deviceKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const serial = `SEAL-${randomUUID().slice(0, 8)}`;
  const device = new SmartSealDevice({ serial, serverKeys: [serverKey], clock: clock.now, privateKey: deviceKey });
  const registered = await admin.post('/api/v1/devices', {
    serial,
    sealId: seal.id,
    publicKey: device.publicKey.toString('base64'),
    geofence: options.geofence ?? null,
  });
  expect(registered.status).toBe(201);
  return { company, custodian, applicant, seal, device, deviceKey, deviceId: registered.body.id as string };
}

type Scene = Awaited<ReturnType<typeof scene>>;

/** Applies for `uses` uses with a photo each and has the custodian approve: the ticket authorization's id. */
async function approvedAuthorization(s: Scene, uses = 3): Promise<{ applicationId: string; authorizationId: string }> {
  const submitted = await client(world, s.applicant.token).post('/api/v1/applications', {
    sealIds: [s.seal.id],
    category: 'sales',
    reason: '销售合同用印',
    uses,
    photosPerUse: 1,
  });
  expect(submitted.status).toBe(201);
  const inbox = await client(world, s.custodian.token).get('/api/v1/tasks?status=pending');
  const task = inbox.body.items.find((t: { applicationId: string }) => t.applicationId === submitted.body.id);
  const approved = await client(world, s.custodian.token).post(`/api/v1/tasks/${task.id}/approve`, {});
  expect(approved.status).toBe(200);
  const authorization = approved.body.authorizations[0];
  expect(authorization).toMatchObject({ kind: 'ticket', usesTotal: uses });
  return { applicationId: submitted.body.id, authorizationId: authorization.id };
}

function relayFor(user: User) {
  return new PhoneRelay(createHttpLink(injectCall(world, user.token)));
}

async function findingsOf(s: Scene) {
  const answer = await client(world, s.custodian.token).get(`/api/v1/device-findings?deviceId=${s.deviceId}`);
  expect(answer.status).toBe(200);
  return answer.body.items as Array<{
    kind: string;
    severity: string;
    seq: number | null;
    applicationId: string | null;
  }>;
}

const sync = (user: { token: string }, serial: string, events: SignedMessage[]) =>
  client(world, user.token).post('/api/v1/device-sync', { serial, events });

/** openssl's verdict on a server-signed ticket under the published ticket key. */
function opensslVerifies(message: SignedMessage): boolean {
  const name = randomUUID();
  const pem = join(dir, `${name}.pem`);
  const data = join(dir, `${name}.bin`);
  const sig = join(dir, `${name}.sig`);
  writeFileSync(
    pem,
    createPublicKey({ key: serverKey, format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }),
  );
  writeFileSync(data, Buffer.concat([Buffer.from(SIGNING_PREFIX.ticket), fromB64url(message.payload)]));
  const raw = fromB64url(message.sig);
  // r‖s to DER for openssl, by hand.
  const int = (b: Buffer) => {
    let v = b;
    while (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) v = v.subarray(1);
    if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([2, v.length]), v]);
  };
  const seq = Buffer.concat([int(raw.subarray(0, 32)), int(raw.subarray(32))]);
  writeFileSync(sig, Buffer.concat([Buffer.from([0x30, seq.length]), seq]));
  try {
    execFileSync('openssl', ['dgst', '-sha256', '-verify', pem, '-signature', sig, data], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

describe("the patent's story", () => {
  it('three uses approved → the device unlocks → three stamps with photos → the fourth refused → records and photos on the application', async () => {
    const s = await scene();
    const { applicationId, authorizationId } = await approvedAuthorization(s, 3);
    const relay = relayFor(s.applicant);
    relay.location = { lat: 31_230_416, lon: 121_473_701, acc: 15 };
    const ticket = await relay.fetchTicket(authorizationId);
    expect(opensslVerifies(ticket)).toBe(true);
    expect(await relay.relayTicket(s.device, ticket)).toEqual({ ok: true, resumed: false, usesLeft: 3 });
    const taken: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await relay.stamp(s.device, () => {
        const p = stampPhoto();
        taken.push(p);
        return p;
      });
      expect(answer).toMatchObject({ ok: true, use: i + 1 });
    }
    expect(await relay.stamp(s.device, stampPhoto)).toEqual({ ok: false, reason: 'locked' });
    await s.device.finish();
    await relay.exchange(s.device);
    await relay.sync();
    expect(relay.held).toEqual({ events: 0, photos: 0 });

    const records = await client(world, s.custodian.token).get(`/api/v1/applications/${applicationId}/device-records`);
    expect(records.status).toBe(200);
    expect(records.body.usesApproved).toBe(3);
    expect(records.body.stamps).toHaveLength(3);
    for (const [i, stamp] of records.body.stamps.entries()) {
      expect(stamp).toMatchObject({ use: i + 1, serial: s.device.serial, holderId: s.applicant.id });
      expect(stamp.location).toEqual({ lat: 31.230416, lon: 121.473701, accuracy: 15 });
      expect(stamp.photos).toHaveLength(1);
      expect(stamp.photos[0].uploaded).toBe(true);
    }
    expect(records.body.findings).toEqual([]);
    const first = records.body.stamps[0].photos[0].sha256;
    const image = await world.app.inject({
      method: 'GET',
      url: `/api/v1/devices/${s.deviceId}/photos/${first}`,
      headers: { authorization: `Bearer ${s.custodian.token}` },
    });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.rawPayload.equals(taken[0]!)).toBe(true);

    const application = await client(world, s.applicant.token).get(`/api/v1/applications/${applicationId}`);
    expect(application.body.authorizations[0]).toMatchObject({ usesTotal: 3, usesConsumed: 3 });
    // Asked again, the same ticket: one live ticket per authorization and device.
    const again = await client(world, s.applicant.token).post('/api/v1/device-tickets', { authorizationId });
    expect(again.body.ticket).toEqual(ticket);
    const device = await client(world, s.custodian.token).get(`/api/v1/devices/${s.deviceId}`);
    expect(device.body).toMatchObject({ acknowledgedSeq: s.device.lastSeq - 0, openFindings: 0 });
  });

  it('stamps offline for days, then syncs: the uses count and nothing is flagged', async () => {
    const s = await scene();
    const { applicationId, authorizationId } = await approvedAuthorization(s, 2);
    const relay = relayFor(s.applicant);
    const ticket = await relay.fetchTicket(authorizationId);
    relay.online = false;
    world.clock.advance(2 * 86_400_000);
    await relay.relayTicket(s.device, ticket);
    await relay.stamp(s.device, stampPhoto);
    world.clock.advance(86_400_000);
    await relay.stamp(s.device, stampPhoto);
    await s.device.finish();
    await relay.exchange(s.device);
    expect((await relay.sync()).sent).toBe(0);
    world.clock.advance(2 * 86_400_000);
    relay.online = true;
    await relay.sync();
    expect(await findingsOf(s)).toEqual([]);
    const records = await client(world, s.custodian.token).get(`/api/v1/applications/${applicationId}/device-records`);
    expect(records.body.stamps.map((x: { use: number }) => x.use)).toEqual([1, 2]);
  });
});

describe('tickets the device refuses', () => {
  it('refuses a forged ticket and a replayed one, and the log it syncs flags both', async () => {
    const s = await scene();
    const { authorizationId } = await approvedAuthorization(s, 1);
    const relay = relayFor(s.applicant);
    const ticket = await relay.fetchTicket(authorizationId);
    const body = JSON.parse(fromB64url(ticket.payload).toString('utf8'));
    const forger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const forged = await signMessage('ticket', { ...body, uses: 99, tid: randomUUID() }, softwareSigner(forger));
    expect(opensslVerifies(forged)).toBe(false);
    expect(await relay.relayTicket(s.device, forged)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect((await relay.relayTicket(s.device, ticket)).ok).toBe(true);
    await relay.stamp(s.device, stampPhoto);
    await s.device.finish();
    expect(await relay.relayTicket(s.device, ticket)).toMatchObject({ ok: false, reason: 'replayed' });
    await relay.exchange(s.device);
    await relay.sync();
    const refused = (await findingsOf(s)).filter((f) => f.kind === 'ticket_refused');
    expect(refused.map((f) => f.severity)).toEqual(['medium', 'medium']);
  });

  it("refuses another device's ticket", async () => {
    const s = await scene();
    const other = await scene();
    const { authorizationId } = await approvedAuthorization(s, 1);
    const ticket = await relayFor(s.applicant).fetchTicket(authorizationId);
    expect(await other.device.presentTicket(ticket)).toMatchObject({ ok: false, reason: 'other_device' });
  });
});

describe('log tampering, each kind flagged', () => {
  /** A device with a few events that need no ticket. */
  async function logOf(s: Scene, count: number): Promise<SignedMessage[]> {
    for (let i = 0; i < count; i++) await s.device.lowBattery();
    return s.device.pendingEvents();
  }
  const kinds = async (s: Scene) => (await findingsOf(s)).map((f) => f.kind).filter((k) => k !== 'low_battery');

  it('flags a changed event (its signature no longer holds) and the gap it leaves', async () => {
    const s = await scene();
    const events = await logOf(s, 3);
    const event = JSON.parse(fromB64url(events[1]!.payload).toString('utf8'));
    const changed = { ...events[1]!, payload: b64url(Buffer.from(canonicalize({ ...event, t: event.t - 3_600_000 }))) };
    const answer = await sync(s.custodian, s.device.serial, [events[0]!, changed, events[2]!]);
    expect(answer.status).toBe(200);
    expect(answer.body.acknowledged).toBe(1);
    expect((await kinds(s)).sort()).toEqual(['gap', 'signature_invalid']);
  });

  it('flags a dropped event as a gap, resolved when the event arrives', async () => {
    const s = await scene();
    const events = await logOf(s, 3);
    expect((await sync(s.custodian, s.device.serial, [events[0]!, events[2]!])).body.acknowledged).toBe(1);
    const gap = (await findingsOf(s)).find((f) => f.kind === 'gap');
    expect(gap).toMatchObject({ severity: 'high', seq: 2 });
    expect((await sync(s.custodian, s.device.serial, [events[1]!])).body.acknowledged).toBe(3);
    const after = await client(world, s.custodian.token).get(`/api/v1/device-findings?deviceId=${s.deviceId}`);
    expect(after.body.items.find((f: { kind: string }) => f.kind === 'gap').resolvedAt).not.toBeNull();
  });

  it('flags reordered events, and still stores them in their true order', async () => {
    const s = await scene();
    const events = await logOf(s, 3);
    const answer = await sync(s.custodian, s.device.serial, [events[0]!, events[2]!, events[1]!]);
    expect(answer.body).toMatchObject({ acknowledged: 3, received: 3 });
    expect(await kinds(s)).toEqual(['reordered']);
  });

  it('flags an event signed by another key', async () => {
    const s = await scene();
    const events = await logOf(s, 2);
    const body = parseEvent(events[1]!);
    const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const forged = await signMessage('event', body, softwareSigner(stranger));
    await sync(s.custodian, s.device.serial, [events[0]!, forged]);
    expect(await kinds(s)).toEqual(['signature_invalid']);
  });

  it('flags a fork: a second, different event signed for a sequence already stored', async () => {
    const s = await scene();
    const events = await logOf(s, 2);
    await sync(s.custodian, s.device.serial, events);
    const second = parseEvent(events[1]!);
    const rival = await signMessage('event', { ...second, type: 'lid_open' }, softwareSigner(s.deviceKey as KeyObject));
    const answer = await sync(s.custodian, s.device.serial, [rival]);
    expect(answer.body).toMatchObject({ received: 0, acknowledged: 2 });
    expect(await kinds(s)).toEqual(['fork']);
    const stored = await client(world, s.custodian.token).get(`/api/v1/devices/${s.deviceId}/events`);
    expect(stored.body.items.map((e: { type: string }) => e.type)).toEqual(['low_battery', 'low_battery']);
  });

  it('flags a broken chain: an event rewritten and re-signed with the device key', async () => {
    const s = await scene();
    const events = await logOf(s, 3);
    const second = parseEvent(events[1]!);
    const rewritten = await signMessage(
      'event',
      { ...second, why: 'rewritten' },
      softwareSigner(s.deviceKey as KeyObject),
    );
    await sync(s.custodian, s.device.serial, [events[0]!, rewritten, events[2]!]);
    expect(await kinds(s)).toEqual(['chain_broken']);
  });

  it('flags a stamp made with no ticket as critical and tells the custodian at once', async () => {
    const s = await scene();
    await s.device.forcedStamp();
    const answer = await sync(s.custodian, s.device.serial, s.device.pendingEvents());
    expect(answer.body.findings).toBe(1);
    expect(await findingsOf(s)).toMatchObject([{ kind: 'stamp_without_ticket', severity: 'critical' }]);
    const inbox = await client(world, s.custodian.token).get('/api/v1/notifications');
    expect(
      inbox.body.items.some((n: { title: string }) => n.title.includes('[Critical]') || n.title.includes('【严重】')),
    ).toBe(true);
    // The same batch again: stored once, flagged once.
    expect((await sync(s.custodian, s.device.serial, s.device.pendingEvents())).body).toMatchObject({
      received: 0,
      duplicates: 1,
      findings: 0,
    });
  });

  it('flags a stamp outside the geofence', async () => {
    const s = await scene({ geofence: { lat: 39_904_200, lon: 116_407_400, r: 500 } });
    const { authorizationId } = await approvedAuthorization(s, 1);
    const relay = relayFor(s.applicant);
    relay.location = { lat: 31_230_416, lon: 121_473_701, acc: 20 };
    await relay.relayTicket(s.device, await relay.fetchTicket(authorizationId));
    await relay.stamp(s.device, stampPhoto);
    await s.device.finish();
    await relay.exchange(s.device);
    await relay.sync();
    expect((await findingsOf(s)).map((f) => f.kind)).toEqual(['outside_geofence']);
  });
});

describe('revocation, the remote lock and maintenance', () => {
  it('honours a revocation of the remaining uses at the next relay', async () => {
    const s = await scene();
    const { authorizationId } = await approvedAuthorization(s, 3);
    const relay = relayFor(s.applicant);
    const ticket = await relay.fetchTicket(authorizationId);
    await relay.relayTicket(s.device, ticket);
    await relay.stamp(s.device, stampPhoto);
    expect(
      (await client(world, s.custodian.token).post(`/api/v1/authorizations/${authorizationId}/revoke`)).status,
    ).toBe(200);
    await relay.exchange(s.device);
    await relay.sync();
    await relay.exchange(s.device);
    expect(s.device.state).toBe('locked');
    expect(await relay.stamp(s.device, stampPhoto)).toEqual({ ok: false, reason: 'locked' });
    expect(await relay.relayTicket(s.device, ticket)).toMatchObject({ ok: false, reason: 'revoked' });
    const refetch = await client(world, s.applicant.token).post('/api/v1/device-tickets', { authorizationId });
    expect(refetch.body.code).toBe('authorization_revoked');
  });

  it('locks the device from afar, and only a seal administrator may', async () => {
    const s = await scene();
    expect(
      (await client(world, s.applicant.token).post(`/api/v1/devices/${s.deviceId}/lock`, { locked: true })).status,
    ).toBe(404);
    const locked = await client(world, s.custodian.token).post(`/api/v1/devices/${s.deviceId}/lock`, { locked: true });
    expect(locked.body.remoteLocked).toBe(true);
    const { authorizationId } = await approvedAuthorization(s, 1);
    const relay = relayFor(s.applicant);
    const ticket = await relay.fetchTicket(authorizationId);
    await relay.exchange(s.device);
    await relay.sync();
    await relay.exchange(s.device);
    expect(s.device.isRemoteLocked).toBe(true);
    expect(await relay.relayTicket(s.device, ticket)).toMatchObject({ ok: false, reason: 'remote_locked' });
  });

  it('opens for the custodian’s maintenance without a stamp, and not for anyone else', async () => {
    const s = await scene();
    const refused = await client(world, s.applicant.token).post(`/api/v1/devices/${s.deviceId}/maintenance-tickets`);
    expect(refused.status).toBe(404);
    const issued = await client(world, s.custodian.token).post(`/api/v1/devices/${s.deviceId}/maintenance-tickets`);
    expect(issued.status).toBe(201);
    expect(await s.device.presentTicket(issued.body.ticket)).toMatchObject({ ok: true });
    expect(await s.device.stamp()).toEqual({ ok: false, reason: 'maintenance' });
  });
});

describe('the phone offline for the whole session', () => {
  it('syncs records and photos afterwards, without loss or duplicates', async () => {
    const s = await scene();
    const { applicationId, authorizationId } = await approvedAuthorization(s, 3);
    const relay = relayFor(s.applicant);
    const ticket = await relay.fetchTicket(authorizationId);
    relay.online = false;
    await relay.relayTicket(s.device, ticket);
    for (let i = 0; i < 3; i++) await relay.stamp(s.device, stampPhoto);
    await s.device.finish();
    await relay.exchange(s.device);
    await relay.exchange(s.device);
    expect(relay.held).toEqual({ events: s.device.lastSeq, photos: 3 });
    relay.online = true;
    await relay.sync();
    // A retry of the whole session's events changes nothing.
    const again = await sync(s.applicant, s.device.serial, s.device.pendingEvents());
    expect(again.body).toMatchObject({ received: 0, duplicates: s.device.lastSeq });
    const stored = await client(world, s.custodian.token).get(`/api/v1/devices/${s.deviceId}/events?limit=500`);
    expect(stored.body.items.map((e: { seq: number }) => e.seq)).toEqual(
      Array.from({ length: s.device.lastSeq }, (_, i) => i + 1),
    );
    const records = await client(world, s.applicant.token).get(`/api/v1/applications/${applicationId}/device-records`);
    expect(
      records.body.stamps.flatMap((x: { photos: Array<{ uploaded: boolean }> }) => x.photos.map((p) => p.uploaded)),
    ).toEqual([true, true, true]);
    const application = await client(world, s.applicant.token).get(`/api/v1/applications/${applicationId}`);
    expect(application.body.authorizations[0].usesConsumed).toBe(3);
  });
});

describe('bad input', () => {
  it('refuses a sync from an unknown device, and from a device of another group', async () => {
    const s = await scene();
    const unknown = await sync(s.custodian, 'NO-SUCH-DEVICE', []);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('device_not_found');
    const other = await buildGroup(world);
    const foreign = await sync(other.admin, s.device.serial, []);
    expect(foreign.body.code).toBe('device_not_found');
    expect((await client(world, other.admin.token).get(`/api/v1/devices/${s.deviceId}`)).status).toBe(404);
  });

  it('refuses photos that are not images, too large, or named by no synced event', async () => {
    const s = await scene();
    const upload = (bytes: Buffer, contentType: string) =>
      world.app.inject({
        method: 'POST',
        url: `/api/v1/devices/${s.deviceId}/photos`,
        headers: { authorization: `Bearer ${s.custodian.token}`, 'content-type': contentType },
        payload: bytes,
      });
    const text = await upload(Buffer.from('not a photo at all'), 'image/png');
    expect(text.statusCode).toBe(422);
    expect(JSON.parse(text.body).code).toBe('file_type_mismatch');
    const huge = Buffer.concat([stampPhoto(), Buffer.alloc(10 * 1024 * 1024)]);
    expect((await upload(huge, 'image/png')).statusCode).toBe(413);
    const stray = await upload(stampPhoto(), 'image/png');
    expect(stray.statusCode).toBe(409);
    expect(JSON.parse(stray.body).code).toBe('photo_not_in_log');
  });

  it('refuses a batch too large, a key that is not P-256, a second device for one seal and a taken serial', async () => {
    const s = await scene();
    const batch = Array.from({ length: 501 }, () => ({ payload: 'AA', sig: 'AA' }));
    const tooMany = await sync(s.custodian, s.device.serial, batch);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0]).toEqual({ field: 'body.events', message: 'must hold at most 500 events' });
    const admin = client(world, s.custodian.token);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'der', type: 'spki' });
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: s.company.id, kind: 'physical' });
    const badKey = await admin.post('/api/v1/devices', {
      serial: `X-${randomUUID().slice(0, 6)}`,
      sealId: seal.id,
      publicKey: rsa.toString('base64'),
    });
    expect(badKey.body.code).toBe('device_key_invalid');
    const second = await admin.post('/api/v1/devices', {
      serial: `Y-${randomUUID().slice(0, 6)}`,
      sealId: s.seal.id,
      publicKey: s.device.publicKey.toString('base64'),
    });
    expect(second.body.code).toBe('seal_has_device');
    const taken = await admin.post('/api/v1/devices', {
      serial: s.device.serial,
      sealId: seal.id,
      publicKey: s.device.publicKey.toString('base64'),
    });
    expect(taken.body.code).toBe('device_serial_taken');
    const electronic = await buildSeal(world, { groupId: group.groupId, companyId: s.company.id, kind: 'electronic' });
    expect(
      (
        await admin.post('/api/v1/devices', {
          serial: `Z-${randomUUID().slice(0, 6)}`,
          sealId: electronic.id,
          publicKey: s.device.publicKey.toString('base64'),
        })
      ).body.code,
    ).toBe('seal_not_physical');
  });
});

describe('sigil device simulate --url', () => {
  it('plays the device and the phone against a listening server, for a registered device and an approved authorization', async () => {
    // The simulated device keeps real time, as a device's clock does: bring the server's test clock back to it.
    world.clock.advance(Date.now() - world.clock.now().getTime());
    const s = await scene();
    const { applicationId, authorizationId } = await approvedAuthorization(s, 2);
    const keyFile = join(dir, `${s.device.serial}.pem`);
    writeFileSync(keyFile, s.deviceKey.export({ format: 'pem', type: 'pkcs8' }));
    const address = await world.app.listen({ port: 0, host: '127.0.0.1' });
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    let status: number;
    try {
      status = await main([
        'node',
        'sigil',
        'device',
        'simulate',
        '--url',
        address,
        '--token',
        s.applicant.token,
        '--authorization',
        authorizationId,
        '--serial',
        s.device.serial,
        '--key',
        keyFile,
        '--uses',
        '2',
      ]);
    } finally {
      vi.restoreAllMocks();
    }
    expect(out.join('')).toContain('the seal stays locked (locked)');
    expect(status).toBe(0);
    const records = await client(world, s.custodian.token).get(`/api/v1/applications/${applicationId}/device-records`);
    expect(
      records.body.stamps.map((x: { use: number; photos: Array<{ uploaded: boolean }> }) => [
        x.use,
        x.photos[0]?.uploaded,
      ]),
    ).toEqual([
      [1, true],
      [2, true],
    ]);
  });
});

describe('usage records (用印记录)', () => {
  it('lists electronic signatures and physical stamps side by side, by company, person and time', async () => {
    const s = await scene();
    const { authorizationId } = await approvedAuthorization(s, 1);
    const relay = relayFor(s.applicant);
    relay.location = { lat: 22_543_096, lon: 114_057_865, acc: 10 };
    await relay.relayTicket(s.device, await relay.fetchTicket(authorizationId));
    await relay.stamp(s.device, stampPhoto);
    await s.device.finish();
    await relay.exchange(s.device);
    await relay.sync();

    const electronic = await buildSeal(world, {
      groupId: group.groupId,
      companyId: s.company.id,
      custodianIds: [s.custodian.id],
      kind: 'electronic',
    });
    const image = await client(world, s.custodian.token).post('/api/v1/seal-images/generate', {
      shape: 'round',
      company: '设备测试有限公司',
      type: '合同专用章',
    });
    await world.db
      .updateTable('seals')
      .set({ image_sha256: image.body.sha256, image_media_type: image.body.mediaType })
      .where('id', '=', electronic.id)
      .execute();
    await client(world, s.custodian.token).post(`/api/v1/seals/${electronic.id}/grants`, {
      grantee: { type: 'user', userId: s.applicant.id },
      categories: ['sales'],
    });
    const uploaded = await world.app.inject({
      method: 'POST',
      url: '/api/v1/documents/uploads?name=contract.pdf',
      headers: { authorization: `Bearer ${s.applicant.token}`, 'content-type': 'application/pdf' },
      payload: buildPdf({ seed: 1616 }),
    });
    const signed = await client(world, s.applicant.token).post('/api/v1/signatures', {
      documentSha256: uploaded.json().sha256,
      sealId: electronic.id,
      category: 'sales',
      level: 'B-B',
      appearance: { type: 'rect', page: 1, rect: [380, 80, 120, 120] },
    });
    expect(signed.status, JSON.stringify(signed.body)).toBe(201);

    const usage = await client(world, s.custodian.token).get(`/api/v1/seal-usage?companyId=${s.company.id}`);
    expect(usage.status).toBe(200);
    expect(usage.body.items.map((u: { kind: string; userId: string }) => [u.kind, u.userId]).sort()).toEqual([
      ['electronic', s.applicant.id],
      ['physical', s.applicant.id],
    ]);
    const stamp = usage.body.items.find((u: { kind: string }) => u.kind === 'physical');
    expect(stamp).toMatchObject({
      sealId: s.seal.id,
      reference: `${s.device.serial}#2`,
      location: { lat: 22.543096, lon: 114.057865 },
    });
    const later = new Date(world.clock.now().getTime() + 3_600_000).toISOString();
    expect(
      (await client(world, s.custodian.token).get(`/api/v1/seal-usage?companyId=${s.company.id}&from=${later}`)).body
        .items,
    ).toEqual([]);
    const someoneElse = await client(world, s.custodian.token).get(`/api/v1/seal-usage?userId=${s.custodian.id}`);
    expect(someoneElse.body.items).toEqual([]);
    const backwards = await client(world, s.custodian.token).get(
      `/api/v1/seal-usage?from=${later}&to=${new Date(0).toISOString()}`,
    );
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors[0]).toEqual({ field: 'querystring.to', message: 'from must be earlier than to' });
    // An employee without seals.read sees none of it.
    expect((await client(world, s.applicant.token).get('/api/v1/seal-usage')).status).toBe(403);
  });
});
