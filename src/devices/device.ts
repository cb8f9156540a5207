// The smart seal itself, as firmware would implement it (docs/device-protocol.md §4–§6): its key
// pair, the server keys it pins, the ticket checks, the lock state machine with its counter, and
// the hash-chained, signed event log it keeps until the server acknowledges it. Pure: no network,
// no database; the clock is passed in so that days offline take no time in a test.
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  eventHash,
  isValidSignature,
  keyIdOf,
  LIMITS,
  parseDirective,
  parseTicket,
  ProtocolError,
  readP256PublicKey,
  signMessage,
  softwareSigner,
  ZERO_HASH,
  type DeviceEvent,
  type EventType,
  type Location,
  type LockReason,
  type P1363Signer,
  type Refusal,
  type SignedMessage,
  type Ticket,
} from './protocol.js';

export type DeviceState = 'locked' | 'unlocked' | 'maintenance';

interface Remembered {
  state: 'active' | 'suspended' | 'closed';
  exp: number;
  ticket: Ticket;
  used: number;
}

export interface DeviceOptions {
  serial: string;
  /** The server's device-ticket public keys (SubjectPublicKeyInfo, DER), written at provisioning. */
  serverKeys: Uint8Array[];
  /** Unix milliseconds on the device's own clock. */
  clock: () => number;
  /** Made on the device when absent (the private key never leaves it). */
  privateKey?: KeyObject;
}

export type TicketAnswer =
  { ok: true; resumed: boolean; usesLeft: number } | { ok: false; reason: Refusal; message: string };
export type StampAnswer =
  { ok: true; use: number; usesLeft: number; photosWanted: number } | { ok: false; reason: 'locked' | 'maintenance' };

export class SmartSealDevice {
  readonly serial: string;
  readonly publicKey: Buffer;
  private readonly sign: P1363Signer;
  private readonly serverKeys = new Map<string, KeyObject>();
  private readonly clock: () => number;
  private seq = 0;
  private lastHash = ZERO_HASH;
  /** Signed events not yet acknowledged by a server-signed directive. */
  private log: Array<{ seq: number; message: SignedMessage }> = [];
  private readonly tickets = new Map<string, Remembered>();
  private readonly revoked = new Set<string>();
  private directiveSeq = 0;
  private remoteLocked = false;
  private active: Remembered | null = null;
  private lastLocation: Location | null = null;
  state: DeviceState = 'locked';

  constructor(options: DeviceOptions) {
    this.serial = options.serial;
    const privateKey = options.privateKey ?? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    this.sign = softwareSigner(privateKey);
    // The public half, as the administrator registers it.
    this.publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    this.clock = options.clock;
    if (options.serverKeys.length === 0 || options.serverKeys.length > 4)
      throw new ProtocolError('malformed', 'a device pins one to four server keys');
    for (const spki of options.serverKeys) this.serverKeys.set(keyIdOf(spki), readP256PublicKey(spki));
  }

  get isRemoteLocked(): boolean {
    return this.remoteLocked;
  }

  /** Uses left on the open ticket (0 when none is open). */
  get usesLeft(): number {
    return this.active ? this.active.ticket.uses - this.active.used : 0;
  }

  get activeTicketId(): string | null {
    return this.active?.ticket.tid ?? null;
  }

  /** The phone's latest position, put into the events that follow. */
  setLocation(location: Location | null): void {
    this.lastLocation = location;
  }

  // ------------------------------------------------------------ tickets

  /** The phone relays a ticket: every check of §5, then unlock (or resume one the QR loss paused). */
  async presentTicket(message: SignedMessage): Promise<TicketAnswer> {
    let ticket: Ticket;
    try {
      ticket = this.checkTicket(message);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      await this.append('refused', { why: error.reason });
      return { ok: false, reason: error.reason, message: error.message };
    }
    const known = this.tickets.get(ticket.tid);
    const entry = known ?? { state: 'active' as const, exp: ticket.exp, ticket, used: 0 };
    entry.state = 'active';
    this.remember(ticket.tid, entry);
    this.active = entry;
    if (ticket.mode === 'maintenance') {
      this.state = 'maintenance';
      await this.append('maintenance_unlock', { tid: ticket.tid });
    } else {
      this.state = 'unlocked';
      await this.append('unlock', { tid: ticket.tid, why: known ? 'resumed' : null });
    }
    return { ok: true, resumed: known !== undefined, usesLeft: entry.ticket.uses - entry.used };
  }

  private checkTicket(message: SignedMessage): Ticket {
    const ticket = parseTicket(message);
    const key = this.serverKeys.get(ticket.kid);
    if (!key) throw new ProtocolError('unknown_key', `no server key ${ticket.kid} is pinned on this device`);
    if (!isValidSignature('ticket', message, key))
      throw new ProtocolError('bad_signature', 'the ticket is not signed by the server');
    if (ticket.dev !== this.serial)
      throw new ProtocolError('other_device', `the ticket is for device ${ticket.dev}, not ${this.serial}`);
    if (this.remoteLocked) throw new ProtocolError('remote_locked', 'the device is locked by the platform');
    if (this.revoked.has(ticket.tid)) throw new ProtocolError('revoked', 'the ticket was revoked');
    if (ticket.mode === 'use' && ticket.uses === 0) throw new ProtocolError('malformed', 'a use ticket allows no use');
    const known = this.tickets.get(ticket.tid);
    if (known?.state === 'closed') throw new ProtocolError('replayed', 'the ticket was used and closed before');
    if (known?.state === 'active') throw new ProtocolError('busy', 'the ticket is already open');
    if (this.active && this.active.ticket.tid !== ticket.tid)
      throw new ProtocolError('busy', 'another ticket is open; finish it first');
    const now = Math.floor(this.clock() / 1000);
    if (ticket.iat > now + LIMITS.clockToleranceSeconds)
      throw new ProtocolError('issued_in_future', 'the ticket was issued later than this device’s clock allows');
    if (now + LIMITS.clockToleranceSeconds < ticket.nbf)
      throw new ProtocolError('not_yet_valid', 'the ticket is not valid yet');
    if (now >= ticket.exp) throw new ProtocolError('expired', 'the ticket has expired');
    if (!known && this.tickets.size >= LIMITS.ticketMemory) {
      this.forgetExpired(now);
      if (this.tickets.size >= LIMITS.ticketMemory)
        throw new ProtocolError('busy', 'the device remembers as many live tickets as it can; sync first');
    }
    return ticket;
  }

  /** Expired tickets no longer need remembering: their window refuses them anyway. */
  private forgetExpired(now: number): void {
    for (const [tid, entry] of this.tickets) if (entry.exp <= now && entry !== this.active) this.tickets.delete(tid);
  }

  private remember(tid: string, entry: Remembered): void {
    this.tickets.set(tid, entry);
  }

  // ------------------------------------------------------------ the seal in use

  /** A press of the seal: counted and logged when the seal is unlocked; the mechanism stays pinned otherwise. */
  async stamp(): Promise<StampAnswer> {
    await this.checkExpiry();
    if (this.state === 'maintenance') return { ok: false, reason: 'maintenance' };
    if (this.state !== 'unlocked' || !this.active) return { ok: false, reason: 'locked' };
    const entry = this.active;
    entry.used += 1;
    await this.append('stamp', { tid: entry.ticket.tid, use: entry.used });
    const usesLeft = entry.ticket.uses - entry.used;
    if (usesLeft === 0) await this.lock('exhausted');
    return {
      ok: true,
      use: entry.used,
      usesLeft,
      photosWanted: entry.ticket.photo === 'auto' ? entry.ticket.ppu : 0,
    };
  }

  /**
   * The stamp mechanism moved while the device did not unlock it (a forced pin, a second seal face):
   * the sensor still logs it, with no ticket. Only the simulator's tamper scenarios call this.
   */
  async forcedStamp(): Promise<void> {
    await this.append('stamp', { tid: null, use: null, why: 'forced' });
  }

  /** The phone photographed the paper after a use: its SHA-256 joins the log. */
  async recordPhoto(sha256: string, use: number): Promise<boolean> {
    const entry = this.active;
    if (!entry || use < 1 || use > entry.used || !/^[0-9a-f]{64}$/.test(sha256)) return false;
    await this.append('photo', { tid: entry.ticket.tid, use, photo: sha256 });
    return true;
  }

  /** The QR code left the phone camera's view: lock at once; the same ticket may resume the session. */
  async qrLost(): Promise<void> {
    await this.append('qr_lost', { tid: this.active?.ticket.tid ?? null });
    if (this.state !== 'locked' && this.active) {
      await this.lock('qr_lost');
      this.active.state = 'suspended';
      this.active = null;
    }
  }

  async lidOpened(): Promise<void> {
    await this.append('lid_open', { tid: this.active?.ticket.tid ?? null });
  }

  async tamper(): Promise<void> {
    await this.append('tamper', { tid: this.active?.ticket.tid ?? null });
    if (this.state !== 'locked') await this.lock('tamper');
  }

  async lowBattery(): Promise<void> {
    await this.append('low_battery', { tid: this.active?.ticket.tid ?? null });
  }

  /** The employee ends the session (after the photos in manual mode): lock and close the ticket for good. */
  async finish(): Promise<void> {
    if (!this.active) return;
    if (this.state !== 'locked') await this.lock('ended');
    await this.close();
  }

  /** Called on every wake-up: a ticket past its end locks the seal. */
  async checkExpiry(): Promise<void> {
    if (this.active && Math.floor(this.clock() / 1000) >= this.active.ticket.exp) {
      if (this.state !== 'locked') await this.lock('expired');
      await this.close();
    }
  }

  private async lock(reason: LockReason): Promise<void> {
    this.state = 'locked';
    await this.append('lock', { tid: this.active?.ticket.tid ?? null, why: reason });
  }

  private async close(): Promise<void> {
    const entry = this.active;
    if (!entry) return;
    entry.state = 'closed';
    this.active = null;
    await this.append('end', { tid: entry.ticket.tid });
  }

  // ------------------------------------------------------------ the server's directives

  /**
   * A directive relayed from the server: revocations, the remote lock, and the acknowledged
   * sequence (the events up to it may be dropped: the server signed that it holds them).
   */
  async applyDirective(message: SignedMessage): Promise<{ ok: true } | { ok: false; message: string }> {
    let directive;
    try {
      directive = parseDirective(message);
    } catch (error) {
      if (error instanceof ProtocolError) return { ok: false, message: error.message };
      throw error;
    }
    const key = this.serverKeys.get(directive.kid);
    if (!key || !isValidSignature('directive', message, key)) return { ok: false, message: 'not signed by the server' };
    if (directive.dev !== this.serial) return { ok: false, message: 'for another device' };
    if (directive.seq <= this.directiveSeq) return { ok: false, message: 'an older directive' };
    if (directive.ack > this.seq) return { ok: false, message: 'acknowledges events this device never wrote' };
    this.directiveSeq = directive.seq;
    for (const tid of directive.revoke) {
      this.revoked.add(tid);
      const known = this.tickets.get(tid);
      if (known && known.state !== 'closed') known.state = 'closed';
    }
    this.log = this.log.filter((e) => e.seq > directive.ack);
    await this.append('directive', { why: String(directive.seq) });
    if (this.active && this.revoked.has(this.active.ticket.tid)) {
      if (this.state !== 'locked') await this.lock('revoked');
      this.active.state = 'closed';
      const tid = this.active.ticket.tid;
      this.active = null;
      await this.append('end', { tid });
    }
    if (directive.lock && !this.remoteLocked) {
      this.remoteLocked = true;
      if (this.state !== 'locked') await this.lock('remote');
    } else if (!directive.lock) this.remoteLocked = false;
    return { ok: true };
  }

  // ------------------------------------------------------------ the log

  /** Every event not yet acknowledged, oldest first: what the phone relays. */
  pendingEvents(): SignedMessage[] {
    return this.log.map((e) => e.message);
  }

  get lastSeq(): number {
    return this.seq;
  }

  private async append(
    type: EventType,
    fields: { tid?: string | null; use?: number | null; photo?: string | null; why?: string | null },
  ): Promise<void> {
    const event: DeviceEvent = {
      v: 1,
      typ: 'event',
      dev: this.serial,
      seq: this.seq + 1,
      t: this.clock(),
      type,
      tid: fields.tid ?? null,
      use: fields.use ?? null,
      loc: this.lastLocation,
      photo: fields.photo ?? null,
      why: fields.why ?? null,
      prev: this.lastHash,
    };
    const message = await signMessage('event', event, this.sign);
    this.seq = event.seq;
    this.lastHash = eventHash(message);
    this.log.push({ seq: event.seq, message });
  }
}
