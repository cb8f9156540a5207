/**
 * What the phone needs to read of the device protocol's messages (docs/device-protocol.md §2, §8):
 * the payload of a signed message decoded, and the few members the relay acts on (a ticket's id,
 * device, uses and window; an event's device, sequence, type, ticket, use and photo).
 *
 * Why not import src/devices/protocol.ts: it signs and verifies with node:crypto's KeyObject and
 * builds bytes with Buffer, neither of which exists in a browser, and the bundler cannot replace
 * them (a browser edition would need WebCrypto's asynchronous ECDSA and a P1363 converter). The
 * phone verifies nothing anyway: the device checks the server's signature on a ticket and the
 * server checks the device's on every event (§5, §9). So the relay only reads, and every shape read
 * here is the protocol's: a message that does not decode is refused before it is queued.
 */
import type { SignedDeviceMessage } from '../../api';

/** Events in one sync batch (LIMITS.eventsPerBatch in src/devices/protocol.ts). */
export const EVENTS_PER_BATCH = 500;

const B64URL = /^[A-Za-z0-9_-]+$/;

export function fromB64url(text: string): Uint8Array {
  if (!B64URL.test(text)) throw new Error('not base64url');
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function payloadOf(message: SignedDeviceMessage): Record<string, unknown> {
  if (!message || typeof message.payload !== 'string' || typeof message.sig !== 'string' || !B64URL.test(message.sig))
    throw new Error('not a signed message {payload, sig}');
  const parsed: unknown = JSON.parse(new TextDecoder().decode(fromB64url(message.payload)));
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the payload is not an object');
  return parsed as Record<string, unknown>;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export interface EventFacts {
  dev: string;
  seq: number;
  t: number;
  type: string;
  tid: string | null;
  use: number | null;
  photo: string | null;
}

/** The members of an event the phone acts on; throws on anything that is not a version-1 event. */
export function readEvent(message: SignedDeviceMessage): EventFacts {
  const p = payloadOf(message);
  if (p.v !== 1 || p.typ !== 'event') throw new Error('not a version 1 event');
  if (typeof p.dev !== 'string' || !isInt(p.seq) || p.seq < 1 || !isInt(p.t) || typeof p.type !== 'string')
    throw new Error('an event without dev, seq, t or type');
  return {
    dev: p.dev,
    seq: p.seq,
    t: p.t,
    type: p.type,
    tid: strOrNull(p.tid),
    use: isInt(p.use) ? p.use : null,
    photo: strOrNull(p.photo),
  };
}

export interface TicketFacts {
  tid: string;
  dev: string;
  uses: number;
  nbf: number;
  exp: number;
  photo: string;
  ppu: number;
}

export function readTicket(message: SignedDeviceMessage): TicketFacts {
  const p = payloadOf(message);
  if (p.v !== 1 || p.typ !== 'ticket') throw new Error('not a version 1 ticket');
  if (typeof p.tid !== 'string' || typeof p.dev !== 'string' || !isInt(p.uses) || !isInt(p.nbf) || !isInt(p.exp))
    throw new Error('a ticket without tid, dev, uses or window');
  return {
    tid: p.tid,
    dev: p.dev,
    uses: p.uses,
    nbf: p.nbf,
    exp: p.exp,
    photo: typeof p.photo === 'string' ? p.photo : 'auto',
    ppu: isInt(p.ppu) ? p.ppu : 0,
  };
}

/**
 * The device's log as the phone receives it outside Bluetooth (pasted from `sigil device simulate`
 * or a device's own export): a JSON array of signed messages, one object, or one per line.
 */
export function parseDeviceLog(text: string): SignedDeviceMessage[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    value = trimmed
      .split(/\r?\n/)
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as unknown);
  }
  const list = Array.isArray(value) ? value : [value];
  return list.map((m) => {
    const message = m as SignedDeviceMessage;
    readEvent(message);
    return { payload: message.payload, sig: message.sig };
  });
}

/** SHA-256 in lower-case hex (WebCrypto: a secure context, which https and localhost are). */
export async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A photo's type by its first bytes, as the server sniffs it: PNG or JPEG, else null. */
export function sniffImage(bytes: Uint8Array): 'image/png' | 'image/jpeg' | null {
  if (bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'image/png';
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return null;
}
