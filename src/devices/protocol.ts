// The smart seal device protocol (docs/device-protocol.md) as code: the messages, their canonical
// bytes, signatures and checks. No database, no HTTP: the device simulator, the phone relay and the
// platform module all read and write the same bytes through this file, so it is the reference a
// firmware maker tests against.
import { createHash, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

/** Domain separation: the signed bytes of each message kind start with its own line. */
export const SIGNING_PREFIX = {
  ticket: 'sigil-device-ticket/v1\n',
  directive: 'sigil-device-directive/v1\n',
  event: 'sigil-device-event/v1\n',
} as const;
export type MessageKind = keyof typeof SIGNING_PREFIX;

/** Bounds every implementation keeps (the device's memory, the server's batches). */
export const LIMITS = {
  /** Encoded size of one signed payload, in bytes of its canonical JSON. */
  payloadBytes: 2048,
  /** Events in one sync batch. */
  eventsPerBatch: 500,
  /** Uses one ticket may allow. */
  usesPerTicket: 1000,
  photosPerUse: 20,
  /** The longest window a ticket may carry (30 days). */
  ticketWindowSeconds: 30 * 24 * 3600,
  /** Revoked ticket ids one directive may carry. */
  revocationsPerDirective: 256,
  /** Ticket ids a device remembers (closed or revoked) to refuse replays. */
  ticketMemory: 512,
  /** Tolerated difference between the device's clock and a ticket's issue time, in seconds. */
  clockToleranceSeconds: 300,
  /** Geofence radius bounds in metres. */
  geofenceRadiusMetres: { min: 10, max: 100_000 },
  serialLength: 64,
} as const;

export const PHOTO_MODES = ['auto', 'manual'] as const;
export type PhotoMode = (typeof PHOTO_MODES)[number];

export const EVENT_TYPES = [
  'unlock',
  'stamp',
  'photo',
  'lock',
  'end',
  'refused',
  'lid_open',
  'tamper',
  'low_battery',
  'qr_lost',
  'directive',
  'maintenance_unlock',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const LOCK_REASONS = ['exhausted', 'expired', 'revoked', 'qr_lost', 'remote', 'ended', 'tamper'] as const;
export type LockReason = (typeof LOCK_REASONS)[number];

/** Why a device refuses a ticket; also the `reason` of its `refused` event. */
export const REFUSALS = [
  'malformed',
  'bad_signature',
  'unknown_key',
  'other_device',
  'not_yet_valid',
  'expired',
  'issued_in_future',
  'replayed',
  'revoked',
  'remote_locked',
  'busy',
] as const;
export type Refusal = (typeof REFUSALS)[number];

// ---------------------------------------------------------------- canonical bytes

/**
 * RFC 8785 (JCS) for the values this protocol allows: objects, arrays, strings, booleans, null and
 * safe integers (no fractions anywhere: coordinates are micro-degrees). Keys sort by UTF-16 code
 * units, no whitespace, strings as ECMAScript's JSON.stringify writes them.
 */
export function canonicalize(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new ProtocolError('malformed', `not a safe integer: ${value}`);
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalize).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalize(v)}`).join(',')}}`;
  }
  throw new ProtocolError('malformed', `a ${typeof value} has no canonical form`);
}

export function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

const B64URL = /^[A-Za-z0-9_-]*$/;
export function fromB64url(text: string): Buffer {
  if (!B64URL.test(text)) throw new ProtocolError('malformed', 'not base64url');
  return Buffer.from(text, 'base64url');
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export const ZERO_HASH = '0'.repeat(64);

/** A typed failure of the protocol: the device's refusal reasons and the server's parse errors share it. */
export class ProtocolError extends Error {
  constructor(
    readonly reason: Refusal,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

// ---------------------------------------------------------------- keys and signatures

/** Key ids: the first 16 hex digits of SHA-256 over the SubjectPublicKeyInfo (DER). */
export function keyIdOf(spki: Uint8Array): string {
  return sha256Hex(spki).slice(0, 16);
}

/** A P-256 public key from its SubjectPublicKeyInfo; anything else is refused. */
export function readP256PublicKey(spki: Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    throw new ProtocolError('malformed', 'the public key is not a DER SubjectPublicKeyInfo');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new ProtocolError('malformed', 'the public key is not ECDSA P-256');
  return key;
}

/** What signs: a private key on the device, or the platform's vault (DER signatures are converted). */
export type P1363Signer = (data: Buffer) => Promise<Buffer> | Buffer;

export function softwareSigner(privateKey: KeyObject): P1363Signer {
  return (data) => cryptoSign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
}

/** DER `SEQUENCE { r, s }` (what X.509 signers give) to the 64-byte r‖s this protocol carries. */
export function derToP1363(der: Buffer): Buffer {
  let i = 0;
  const expect = (tag: number) => {
    if (der[i++] !== tag) throw new Error('not a DER ECDSA signature');
  };
  const length = () => {
    let n = der[i++]!;
    if (n & 0x80) {
      const count = n & 0x7f;
      n = 0;
      for (let k = 0; k < count; k++) n = (n << 8) | der[i++]!;
    }
    return n;
  };
  expect(0x30);
  length();
  const part = () => {
    expect(0x02);
    const n = length();
    let bytes = der.subarray(i, i + n);
    i += n;
    while (bytes.length > 32 && bytes[0] === 0) bytes = bytes.subarray(1);
    if (bytes.length > 32) throw new Error('ECDSA integer too long for P-256');
    return Buffer.concat([Buffer.alloc(32 - bytes.length), bytes]);
  };
  return Buffer.concat([part(), part()]);
}

function signedBytes(kind: MessageKind, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(SIGNING_PREFIX[kind], 'ascii'), payload]);
}

/** A message on the wire: the canonical payload and its signature, both base64url. */
export interface SignedMessage {
  payload: string;
  sig: string;
}

export async function signMessage(kind: MessageKind, body: object, signer: P1363Signer): Promise<SignedMessage> {
  const payload = Buffer.from(canonicalize(body), 'utf8');
  if (payload.length > LIMITS.payloadBytes)
    throw new ProtocolError('malformed', `a ${kind} is ${payload.length} bytes; at most ${LIMITS.payloadBytes}`);
  const sig = await signer(signedBytes(kind, payload));
  if (sig.length !== 64) throw new Error('a P-256 signature in r‖s form is 64 bytes');
  return { payload: b64url(payload), sig: b64url(sig) };
}

export function isValidSignature(kind: MessageKind, message: SignedMessage, key: KeyObject): boolean {
  const prepared = signedBytesOf(kind, message);
  if (!prepared) return false;
  return cryptoVerify('sha256', prepared.data, { key, dsaEncoding: 'ieee-p1363' }, prepared.sig);
}

/** The bytes a message's signature covers and the signature (P1363, 64 bytes), or null when malformed. */
export function signedBytesOf(kind: MessageKind, message: SignedMessage): { data: Buffer; sig: Buffer } | null {
  if (!B64URL.test(message.payload) || !B64URL.test(message.sig)) return null;
  const sig = fromB64url(message.sig);
  if (sig.length !== 64) return null;
  return { data: signedBytes(kind, fromB64url(message.payload)), sig };
}

/** Decodes a payload, refusing one larger than the limit, not JSON, or not in canonical form. */
export function decodePayload(message: SignedMessage): unknown {
  const bytes = fromB64url(message.payload);
  if (bytes.length > LIMITS.payloadBytes)
    throw new ProtocolError('malformed', `the payload is ${bytes.length} bytes; at most ${LIMITS.payloadBytes}`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ProtocolError('malformed', 'the payload is not JSON');
  }
  // One byte sequence per message: a re-encoded payload could hash differently from what was signed.
  if (canonicalize(value) !== bytes.toString('utf8'))
    throw new ProtocolError('malformed', 'the payload is not in canonical form');
  return value;
}

// ---------------------------------------------------------------- message bodies

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
const serial = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/);
const seconds = z
  .number()
  .int()
  .min(0)
  .max(2 ** 40);
const keyId = z.string().regex(/^[0-9a-f]{16}$/);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
/** Micro-degrees: integers, so the canonical bytes never depend on a float's printing. */
const lat = z.number().int().min(-90_000_000).max(90_000_000);
const lon = z.number().int().min(-180_000_000).max(180_000_000);

export const geofenceSchema = z.strictObject({
  lat,
  lon,
  r: z.number().int().min(LIMITS.geofenceRadiusMetres.min).max(LIMITS.geofenceRadiusMetres.max),
});
export type Geofence = z.infer<typeof geofenceSchema>;

export const locationSchema = z.strictObject({ lat, lon, acc: z.number().int().min(0).max(100_000) });
export type Location = z.infer<typeof locationSchema>;

export const ticketSchema = z.strictObject({
  v: z.literal(1),
  typ: z.literal('ticket'),
  /** use: stamping for an application; maintenance: the body opens, the stamp stays pinned (the custodian's). */
  mode: z.enum(['use', 'maintenance']),
  tid: uuid,
  dev: serial,
  seal: uuid,
  app: uuid.nullable(),
  who: uuid,
  uses: z.number().int().min(0).max(LIMITS.usesPerTicket),
  nbf: seconds,
  exp: seconds,
  photo: z.enum(PHOTO_MODES),
  ppu: z.number().int().min(0).max(LIMITS.photosPerUse),
  geo: geofenceSchema.nullable(),
  nonce: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
  iat: seconds,
  kid: keyId,
});
export type Ticket = z.infer<typeof ticketSchema>;

export const directiveSchema = z.strictObject({
  v: z.literal(1),
  typ: z.literal('directive'),
  dev: serial,
  /** Increases with every directive for the device: an older one is never applied again. */
  seq: z
    .number()
    .int()
    .min(1)
    .max(2 ** 40),
  revoke: z.array(uuid).max(LIMITS.revocationsPerDirective),
  lock: z.boolean(),
  ack: z
    .number()
    .int()
    .min(0)
    .max(2 ** 40),
  iat: seconds,
  kid: keyId,
});
export type Directive = z.infer<typeof directiveSchema>;

export const eventSchema = z.strictObject({
  v: z.literal(1),
  typ: z.literal('event'),
  dev: serial,
  seq: z
    .number()
    .int()
    .min(1)
    .max(2 ** 40),
  /** Device time, Unix milliseconds. */
  t: z
    .number()
    .int()
    .min(0)
    .max(2 ** 46),
  type: z.enum(EVENT_TYPES),
  tid: uuid.nullable(),
  /** For stamp and photo: the use's number within its ticket, from 1. */
  use: z.number().int().min(1).max(LIMITS.usesPerTicket).nullable(),
  loc: locationSchema.nullable(),
  photo: hex64.nullable(),
  /** lock: a LockReason; refused: a Refusal; directive: its seq as text; else null. */
  why: z.string().max(32).nullable(),
  prev: hex64,
});
export type DeviceEvent = z.infer<typeof eventSchema>;

export function parseTicket(message: SignedMessage): Ticket {
  const parsed = ticketSchema.safeParse(decodePayload(message));
  if (!parsed.success) throw new ProtocolError('malformed', `not a ticket: ${parsed.error.issues[0]?.message}`);
  if (parsed.data.exp <= parsed.data.nbf) throw new ProtocolError('malformed', 'the ticket ends before it starts');
  if (parsed.data.exp - parsed.data.nbf > LIMITS.ticketWindowSeconds)
    throw new ProtocolError('malformed', 'the ticket window is longer than 30 days');
  return parsed.data;
}

export function parseDirective(message: SignedMessage): Directive {
  const parsed = directiveSchema.safeParse(decodePayload(message));
  if (!parsed.success) throw new ProtocolError('malformed', `not a directive: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export function parseEvent(message: SignedMessage): DeviceEvent {
  const parsed = eventSchema.safeParse(decodePayload(message));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProtocolError('malformed', `not an event: ${issue?.path.join('.') || 'payload'} ${issue?.message}`);
  }
  return parsed.data;
}

/** The chain link: SHA-256 of an event's canonical payload bytes, lower-case hex. */
export function eventHash(message: SignedMessage): string {
  return sha256Hex(fromB64url(message.payload));
}

/** Great-circle distance in metres between two micro-degree points (haversine, mean Earth radius). */
export function distanceMetres(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = (micro: number) => (micro / 1e6) * (Math.PI / 180);
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}
