// The employee's phone between the smart seal and the platform (docs/device-protocol.md §8): it
// fetches tickets while online, relays them to the device over Bluetooth, photographs the paper
// after each use, and holds the device's events and the photos for as long as it is offline,
// then syncs them in batches. It never vouches for anything: the device signs the events, the
// server signs tickets and directives, and the relay only carries them, so it may repeat a batch
// (the server deduplicates by device and sequence) but cannot forge or drop one unnoticed.
import { createHash } from 'node:crypto';
import type { SmartSealDevice } from './device.js';
import { LIMITS, parseEvent, type Location, type SignedMessage } from './protocol.js';

export interface SyncAnswer {
  /** Every event up to this sequence is stored (contiguously from 1). */
  acknowledged: number;
  received: number;
  duplicates: number;
  findings: number;
  /** Revocations, the remote lock and the acknowledgement, signed by the server, for the device. */
  directive: SignedMessage;
}

/** How the phone reaches the platform: HTTP in the app, a direct call in tests. */
export interface PlatformLink {
  fetchTicket(authorizationId: string): Promise<SignedMessage>;
  sync(serial: string, events: SignedMessage[]): Promise<SyncAnswer>;
  uploadPhoto(serial: string, photo: { bytes: Uint8Array; mediaType: 'image/jpeg' | 'image/png' }): Promise<void>;
}

interface HeldPhoto {
  serial: string;
  sha256: string;
  bytes: Uint8Array;
  mediaType: 'image/jpeg' | 'image/png';
}

export class PhoneRelay {
  online = true;
  location: Location | null = null;
  private readonly tickets = new Map<string, SignedMessage>();
  /** Events by device serial and sequence: a second pull of the same event replaces nothing. */
  private readonly events = new Map<string, Map<number, SignedMessage>>();
  private readonly photos = new Map<string, HeldPhoto>();
  private readonly directives = new Map<string, SignedMessage>();

  constructor(
    private readonly link: PlatformLink,
    private readonly say: (line: string) => void = () => {},
  ) {}

  /** Fetches (while online) and keeps the ticket of an approved authorization. */
  async fetchTicket(authorizationId: string): Promise<SignedMessage> {
    const held = this.tickets.get(authorizationId);
    if (held) return held;
    if (!this.online) throw new Error('the phone is offline and holds no ticket for this authorization');
    const ticket = await this.link.fetchTicket(authorizationId);
    this.tickets.set(authorizationId, ticket);
    this.say(`phone: fetched the ticket for authorization ${authorizationId}`);
    return ticket;
  }

  async relayTicket(device: SmartSealDevice, ticket: SignedMessage) {
    device.setLocation(this.location);
    const answer = await device.presentTicket(ticket);
    this.say(
      answer.ok
        ? `device ${device.serial}: ${answer.resumed ? 'resumed' : 'unlocked'}, ${answer.usesLeft} use(s) left`
        : `device ${device.serial}: refused the ticket (${answer.reason}: ${answer.message})`,
    );
    return answer;
  }

  /** One press of the seal; in auto photo mode the phone photographs the paper at the device's signal. */
  async stamp(device: SmartSealDevice, photograph: (use: number, n: number) => Uint8Array) {
    device.setLocation(this.location);
    const answer = await device.stamp();
    if (!answer.ok) {
      this.say(`device ${device.serial}: the seal stays locked (${answer.reason})`);
      return answer;
    }
    this.say(`device ${device.serial}: stamp ${answer.use}, ${answer.usesLeft} use(s) left`);
    for (let n = 1; n <= answer.photosWanted; n++) await this.photograph(device, answer.use, photograph(answer.use, n));
    return answer;
  }

  /** A photo of the paper for a use (auto: at the device's signal; manual: after the session). */
  async photograph(device: SmartSealDevice, use: number, bytes: Uint8Array): Promise<string> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const mediaType = bytes[0] === 0x89 ? 'image/png' : 'image/jpeg';
    if (!(await device.recordPhoto(sha256, use))) throw new Error(`the device did not log a photo for use ${use}`);
    this.photos.set(sha256, { serial: device.serial, sha256, bytes, mediaType });
    this.say(`phone: photo ${sha256.slice(0, 12)}… of use ${use} kept (${bytes.length} bytes)`);
    return sha256;
  }

  /** Copies the device's unacknowledged events into the phone's queue, and hands it any held directive. */
  async exchange(device: SmartSealDevice): Promise<void> {
    const directive = this.directives.get(device.serial);
    if (directive) {
      const applied = await device.applyDirective(directive);
      this.directives.delete(device.serial);
      this.say(`device ${device.serial}: directive ${applied.ok ? 'applied' : `refused (${applied.message})`}`);
    }
    let queue = this.events.get(device.serial);
    if (!queue) this.events.set(device.serial, (queue = new Map()));
    for (const message of device.pendingEvents()) queue.set(parseEvent(message).seq, message);
  }

  /** Events and photos the phone still holds. */
  get held(): { events: number; photos: number } {
    let events = 0;
    for (const queue of this.events.values()) events += queue.size;
    return { events, photos: this.photos.size };
  }

  /**
   * Sends what the phone holds, when online: each device's events in batches in sequence order,
   * then the photos (the server accepts a photo only once the event naming it is stored).
   */
  async sync(): Promise<{ sent: number; acknowledged: Map<string, number> }> {
    const acknowledged = new Map<string, number>();
    if (!this.online) return { sent: 0, acknowledged };
    let sent = 0;
    for (const [serial, queue] of this.events) {
      const ordered = [...queue.keys()].sort((a, b) => a - b);
      // With nothing to send the phone still asks, so that revocations and a remote lock reach the device.
      for (let i = 0; i < Math.max(ordered.length, 1); i += LIMITS.eventsPerBatch) {
        const batch = ordered.slice(i, i + LIMITS.eventsPerBatch).map((seq) => queue.get(seq)!);
        const answer = await this.link.sync(serial, batch);
        sent += batch.length;
        acknowledged.set(serial, answer.acknowledged);
        this.directives.set(serial, answer.directive);
        this.say(
          `platform: ${answer.received} event(s) stored, ${answer.duplicates} already held, acknowledged up to ${answer.acknowledged}, ${answer.findings} finding(s)`,
        );
      }
      for (const seq of ordered) if (seq <= (acknowledged.get(serial) ?? 0)) queue.delete(seq);
    }
    for (const [sha256, photo] of this.photos) {
      await this.link.uploadPhoto(photo.serial, { bytes: photo.bytes, mediaType: photo.mediaType });
      this.photos.delete(sha256);
      this.say(`platform: photo ${sha256.slice(0, 12)}… stored`);
    }
    return { sent, acknowledged };
  }
}
