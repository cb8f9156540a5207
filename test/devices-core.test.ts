// The device core and the phone relay without a server: the ticket checks a firmware must make,
// attacked one by one, with openssl as the independent judge of the signatures.
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SmartSealDevice } from '../src/devices/device.js';
import {
  b64url,
  eventHash,
  fromB64url,
  keyIdOf,
  parseEvent,
  SIGNING_PREFIX,
  signMessage,
  softwareSigner,
  type SignedMessage,
  type Ticket,
} from '../src/devices/protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'sigil-device-core-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, spki: publicKey.export({ format: 'der', type: 'spki' }) };
}

const server = keyPair();
const T0 = Date.parse('2026-12-07T09:00:00Z');

class Clock {
  ms = T0;
  now = () => this.ms;
  advance(ms: number) {
    this.ms += ms;
  }
}

function ticketBody(over: Partial<Ticket> = {}, key: { spki: Buffer } = server): Ticket {
  const now = Math.floor(T0 / 1000);
  return {
    v: 1,
    typ: 'ticket',
    mode: 'use',
    tid: randomUUID(),
    dev: 'SEAL-0001',
    seal: randomUUID(),
    app: randomUUID(),
    who: randomUUID(),
    uses: 3,
    nbf: now - 60,
    exp: now + 7 * 24 * 3600,
    photo: 'auto',
    ppu: 1,
    geo: null,
    nonce: b64url(randomBytes(16)),
    iat: now - 60,
    kid: keyIdOf(key.spki),
    ...over,
  };
}

const issue = (body: Ticket, signer: KeyObject = server.privateKey) =>
  signMessage('ticket', body, softwareSigner(signer));

function device(clock = new Clock(), serial = 'SEAL-0001') {
  return { device: new SmartSealDevice({ serial, serverKeys: [server.spki], clock: clock.now }), clock };
}

/** The signature as openssl reads it: DER SEQUENCE { r, s } from the 64-byte r‖s. */
function p1363ToDer(sig: Buffer): Buffer {
  const int = (b: Buffer) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0 && (b[i + 1]! & 0x80) === 0) i++;
    let v = b.subarray(i);
    if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([int(sig.subarray(0, 32)), int(sig.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** openssl's verdict on a ticket under the server's public key. */
function opensslVerifies(message: SignedMessage): boolean {
  const name = randomUUID();
  const data = join(dir, `${name}.bin`);
  const sig = join(dir, `${name}.sig`);
  const pub = join(dir, `${name}.pem`);
  writeFileSync(data, Buffer.concat([Buffer.from(SIGNING_PREFIX.ticket), fromB64url(message.payload)]));
  writeFileSync(sig, p1363ToDer(fromB64url(message.sig)));
  writeFileSync(
    pub,
    createPublicKey({ key: server.spki, format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }),
  );
  try {
    execFileSync('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, data], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

describe('the device checks a ticket before it unlocks', () => {
  it('unlocks for a genuine ticket, which openssl also accepts', async () => {
    const ticket = await issue(ticketBody());
    expect(opensslVerifies(ticket)).toBe(true);
    const { device: d } = device();
    expect(await d.presentTicket(ticket)).toEqual({ ok: true, resumed: false, usesLeft: 3 });
    expect(d.state).toBe('unlocked');
  });

  it('refuses a forged ticket: signed by another key claiming the server key id', async () => {
    const forger = keyPair();
    const forged = await issue(ticketBody(), forger.privateKey);
    expect(opensslVerifies(forged)).toBe(false);
    const { device: d } = device();
    expect(await d.presentTicket(forged)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(d.state).toBe('locked');
  });

  it('refuses a ticket signed by a key the device does not pin', async () => {
    const other = keyPair();
    const { device: d } = device();
    expect(await d.presentTicket(await issue(ticketBody({}, other), other.privateKey))).toMatchObject({
      ok: false,
      reason: 'unknown_key',
    });
  });

  it('refuses an altered ticket (more uses written into the signed payload)', async () => {
    const genuine = await issue(ticketBody());
    const altered = {
      ...genuine,
      payload: b64url(Buffer.from(fromB64url(genuine.payload).toString('utf8').replace('"uses":3', '"uses":9'))),
    };
    expect(altered.payload).not.toBe(genuine.payload);
    expect(opensslVerifies(altered)).toBe(false);
    const { device: d } = device();
    expect(await d.presentTicket(altered)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a payload that is not canonical, even when signed', async () => {
    const body = ticketBody();
    const loose = Buffer.from(JSON.stringify(body, null, 1));
    const sig = softwareSigner(server.privateKey)(Buffer.concat([Buffer.from(SIGNING_PREFIX.ticket), loose])) as Buffer;
    const { device: d } = device();
    expect(await d.presentTicket({ payload: b64url(loose), sig: b64url(sig) })).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });

  it('refuses a ticket for another device', async () => {
    const { device: d } = device();
    expect(await d.presentTicket(await issue(ticketBody({ dev: 'SEAL-0002' })))).toMatchObject({
      ok: false,
      reason: 'other_device',
    });
  });

  it('refuses an expired ticket and one not valid yet, by the device clock', async () => {
    const clock = new Clock();
    const { device: d } = device(clock);
    const now = Math.floor(T0 / 1000);
    expect(await d.presentTicket(await issue(ticketBody({ nbf: now - 7200, exp: now - 1 })))).toMatchObject({
      ok: false,
      reason: 'expired',
    });
    expect(await d.presentTicket(await issue(ticketBody({ nbf: now + 3600, exp: now + 7200 })))).toMatchObject({
      ok: false,
      reason: 'not_yet_valid',
    });
  });

  it('refuses a replayed ticket once its session is closed', async () => {
    const ticket = await issue(ticketBody({ uses: 1 }));
    const { device: d } = device();
    expect((await d.presentTicket(ticket)).ok).toBe(true);
    expect((await d.stamp()).ok).toBe(true);
    await d.finish();
    expect(await d.presentTicket(ticket)).toMatchObject({ ok: false, reason: 'replayed' });
    expect(await d.stamp()).toEqual({ ok: false, reason: 'locked' });
  });

  it('logs each refusal as a signed event with its reason', async () => {
    const { device: d } = device();
    await d.presentTicket(await issue(ticketBody({ dev: 'SEAL-0009' })));
    const [event] = d.pendingEvents().map(parseEvent);
    expect(event).toMatchObject({ seq: 1, type: 'refused', why: 'other_device', tid: null });
  });
});

describe('the counter and the lock', () => {
  it('allows three stamps of a three-use ticket and keeps the seal pinned for a fourth', async () => {
    const { device: d } = device();
    await d.presentTicket(await issue(ticketBody()));
    for (const left of [2, 1, 0]) expect(await d.stamp()).toMatchObject({ ok: true, usesLeft: left, photosWanted: 1 });
    expect(await d.stamp()).toEqual({ ok: false, reason: 'locked' });
    const types = d.pendingEvents().map((m) => parseEvent(m));
    expect(types.map((e) => e.type)).toEqual(['unlock', 'stamp', 'stamp', 'stamp', 'lock']);
    expect(types.at(-1)?.why).toBe('exhausted');
  });

  it('locks when the QR code leaves the camera and resumes with the same ticket, without new uses', async () => {
    const ticket = await issue(ticketBody());
    const { device: d } = device();
    await d.presentTicket(ticket);
    await d.stamp();
    await d.qrLost();
    expect(d.state).toBe('locked');
    expect(await d.stamp()).toEqual({ ok: false, reason: 'locked' });
    expect(await d.presentTicket(ticket)).toEqual({ ok: true, resumed: true, usesLeft: 2 });
  });

  it('locks at the ticket end on the device clock', async () => {
    const clock = new Clock();
    const { device: d } = device(clock);
    await d.presentTicket(await issue(ticketBody({ exp: Math.floor(T0 / 1000) + 3600 })));
    clock.advance(2 * 3600_000);
    expect(await d.stamp()).toEqual({ ok: false, reason: 'locked' });
    expect(d.pendingEvents().map((m) => parseEvent(m).why)).toContain('expired');
  });

  it('opens for maintenance without letting the custodian stamp', async () => {
    const { device: d } = device();
    expect((await d.presentTicket(await issue(ticketBody({ mode: 'maintenance', uses: 0, app: null })))).ok).toBe(true);
    expect(d.state).toBe('maintenance');
    expect(await d.stamp()).toEqual({ ok: false, reason: 'maintenance' });
  });
});

describe('the event log', () => {
  it('chains every event to the previous one and signs it with the device key', async () => {
    const { device: d } = device();
    await d.presentTicket(await issue(ticketBody()));
    await d.stamp();
    await d.lidOpened();
    const messages = d.pendingEvents();
    let prev = '0'.repeat(64);
    for (const [i, m] of messages.entries()) {
      const e = parseEvent(m);
      expect(e.seq).toBe(i + 1);
      expect(e.prev).toBe(prev);
      prev = eventHash(m);
    }
  });

  it('keeps its events until a server-signed directive acknowledges them, and ignores an older directive', async () => {
    const { device: d } = device();
    await d.presentTicket(await issue(ticketBody()));
    await d.stamp();
    const directive = (seq: number, ack: number, signer = server.privateKey) =>
      signMessage(
        'directive',
        {
          v: 1,
          typ: 'directive',
          dev: 'SEAL-0001',
          seq,
          revoke: [],
          lock: false,
          ack,
          iat: Math.floor(T0 / 1000),
          kid: keyIdOf(server.spki),
        },
        softwareSigner(signer),
      );
    expect(await d.applyDirective(await directive(1, 2, keyPair().privateKey))).toMatchObject({ ok: false });
    expect(d.pendingEvents()).toHaveLength(2);
    expect(await d.applyDirective(await directive(2, 2))).toEqual({ ok: true });
    expect(d.pendingEvents().map((m) => parseEvent(m).type)).toEqual(['directive']);
    expect(await d.applyDirective(await directive(2, 3))).toMatchObject({ ok: false, message: 'an older directive' });
  });
});
