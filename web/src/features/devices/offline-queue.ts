/**
 * The phone's offline queue (issue 16 §9): what the relay holds until the platform is reachable,
 * kept in IndexedDB so that a closed tab, a reload or a phone in a drawer for days loses nothing.
 *
 * - tickets, by authorization: fetched while online, relayed to the device while offline;
 * - events, by device serial and sequence: the device's signed log, carried to POST /device-sync
 *   in ascending sequence, in batches; the same event received twice is one entry, and the server
 *   stores one event per device and sequence, so a batch sent again (an answer lost on the way
 *   back) changes nothing;
 * - photos, by SHA-256: the bytes of each photo of stamped paper, uploaded after their events
 *   (the server refuses a photo no stored event names) and stored once by content;
 * - directives, by serial: the server's signed answer, for the device at the next meeting.
 *
 * An entry leaves the queue only when the server has said it holds it (the acknowledged sequence,
 * a 201 for a photo). Everything carries the user who took it: on a shared phone, one person's
 * queue is never sent under another's session.
 */
import { api, ApiError, type Application, type DeviceTicket, type SignedDeviceMessage } from '../../api';
import { EVENTS_PER_BATCH, readEvent } from './wire';

const DB_NAME = 'sigil-phone';
const DB_VERSION = 1;

export interface HeldTicket {
  authorizationId: string;
  applicationId: string;
  userId: string;
  ticket: DeviceTicket;
  /** The application as it was when the ticket was fetched: what the phone shows with no connection. */
  application: Application;
  fetchedAt: string;
}

export interface QueuedEvent {
  serial: string;
  seq: number;
  userId: string;
  message: SignedDeviceMessage;
  queuedAt: string;
}

export interface QueuedPhoto {
  sha256: string;
  userId: string;
  deviceId: string;
  serial: string;
  applicationId: string;
  ticketId: string;
  use: number;
  mediaType: 'image/png' | 'image/jpeg';
  bytes: ArrayBuffer;
  takenAt: string;
  /** The last refusal (a problem code): kept, shown, tried again at the next sync. */
  error: string | null;
}

export interface HeldDirective {
  serial: string;
  directive: SignedDeviceMessage;
  receivedAt: string;
}

type StoreName = 'tickets' | 'events' | 'photos' | 'directives';

let opening: Promise<IDBDatabase> | null = null;

function open(): Promise<IDBDatabase> {
  opening ??= new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore('tickets', { keyPath: 'authorizationId' });
      db.createObjectStore('events', { keyPath: ['serial', 'seq'] });
      db.createObjectStore('photos', { keyPath: 'sha256' });
      db.createObjectStore('directives', { keyPath: 'serial' });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => {
      opening = null;
      reject(request.error ?? new Error('IndexedDB could not be opened'));
    };
  });
  return opening;
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

async function run<T>(
  store: StoreName,
  mode: IDBTransactionMode,
  work: (s: IDBObjectStore) => IDBRequest<T> | void,
): Promise<T | undefined> {
  const db = await open();
  const tx = db.transaction(store, mode);
  const request = work(tx.objectStore(store));
  const result = request ? await done(request) : undefined;
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
  return result;
}

const all = async <T>(store: StoreName): Promise<T[]> =>
  ((await run(store, 'readonly', (s) => s.getAll() as IDBRequest<T[]>)) ?? []) as T[];

/* ---------- listeners: the page redraws when the queue changes (here or in another tab) ---------- */

const listeners = new Set<() => void>();
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('sigil-phone-queue') : null;
channel?.addEventListener('message', () => listeners.forEach((l) => l()));

function changed(): void {
  listeners.forEach((l) => l());
  channel?.postMessage('changed');
}

export function onQueueChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/* ---------- tickets ---------- */

export async function keepTicket(held: HeldTicket): Promise<void> {
  await run('tickets', 'readwrite', (s) => s.put(held));
  changed();
}

export async function heldTicket(authorizationId: string): Promise<HeldTicket | undefined> {
  return (await run('tickets', 'readonly', (s) => s.get(authorizationId) as IDBRequest<HeldTicket | undefined>)) as
    HeldTicket | undefined;
}

/** The tickets the phone holds for an application (to open the view with no connection). */
export async function heldTicketsOf(applicationId: string, userId: string): Promise<HeldTicket[]> {
  return (await all<HeldTicket>('tickets')).filter((h) => h.applicationId === applicationId && h.userId === userId);
}

/* ---------- events ---------- */

/**
 * Queues the device's events for `serial`; an event of another device is refused (the phone relays
 * only for the device its ticket names). Answers how many were new to the queue.
 */
export async function queueEvents(userId: string, serial: string, messages: SignedDeviceMessage[]): Promise<number> {
  const facts = messages.map((m) => ({ message: m, event: readEvent(m) }));
  const foreign = facts.find((f) => f.event.dev !== serial);
  if (foreign) throw new Error(`the log holds an event of device ${foreign.event.dev}, not ${serial}`);
  const db = await open();
  const tx = db.transaction('events', 'readwrite');
  const store = tx.objectStore('events');
  let added = 0;
  for (const { message, event } of facts) {
    const existing = await done(store.get([serial, event.seq]) as IDBRequest<QueuedEvent | undefined>);
    if (existing) continue;
    added++;
    store.put({ serial, seq: event.seq, userId, message, queuedAt: new Date().toISOString() } satisfies QueuedEvent);
  }
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
  changed();
  return added;
}

export const queuedEvents = (): Promise<QueuedEvent[]> => all<QueuedEvent>('events');

/* ---------- photos ---------- */

/** Keeps a photo by its SHA-256: the same picture chosen twice is one entry, uploaded once. */
export async function queuePhoto(photo: QueuedPhoto): Promise<boolean> {
  const existing = (await run(
    'photos',
    'readonly',
    (s) => s.get(photo.sha256) as IDBRequest<QueuedPhoto | undefined>,
  )) as QueuedPhoto | undefined;
  if (existing) return false;
  await run('photos', 'readwrite', (s) => s.put(photo));
  changed();
  return true;
}

export const queuedPhotos = (): Promise<QueuedPhoto[]> => all<QueuedPhoto>('photos');

export async function discardPhoto(sha256: string): Promise<void> {
  await run('photos', 'readwrite', (s) => s.delete(sha256));
  changed();
}

/* ---------- directives ---------- */

export async function heldDirective(serial: string): Promise<HeldDirective | undefined> {
  return (await run('directives', 'readonly', (s) => s.get(serial) as IDBRequest<HeldDirective | undefined>)) as
    HeldDirective | undefined;
}

/** The device has the directive (over Bluetooth): the phone need not hold it any more. */
export async function dropDirective(serial: string): Promise<void> {
  await run('directives', 'readwrite', (s) => s.delete(serial));
  changed();
}

/* ---------- sync ---------- */

export interface SyncReport {
  /** False when the server could not be reached: everything stays queued for the next try. */
  reached: boolean;
  eventsStored: number;
  duplicates: number;
  findings: number;
  photosUploaded: number;
  /** Problems the server answered with, by what they were about. */
  problems: string[];
}

let syncing: Promise<SyncReport> | null = null;

/**
 * Sends the user's queue: each device's events in ascending sequence in batches, then the photos.
 * One sync at a time in this page (and across tabs where the Web Locks API exists), so two triggers
 * (the `online` event and a tap) never send the same entry side by side.
 */
export function syncQueue(userId: string): Promise<SyncReport> {
  syncing ??= (async () => {
    try {
      return navigator.locks
        ? await navigator.locks.request('sigil-phone-sync', () => sendQueue(userId))
        : await sendQueue(userId);
    } finally {
      syncing = null;
    }
  })();
  return syncing;
}

const isUnreachable = (error: unknown) => error instanceof ApiError && error.status === 0;

async function sendQueue(userId: string): Promise<SyncReport> {
  const report: SyncReport = {
    reached: true,
    eventsStored: 0,
    duplicates: 0,
    findings: 0,
    photosUploaded: 0,
    problems: [],
  };
  const events = (await queuedEvents()).filter((e) => e.userId === userId);
  const serials = [...new Set(events.map((e) => e.serial))];
  for (const serial of serials) {
    const ordered = events.filter((e) => e.serial === serial).sort((a, b) => a.seq - b.seq);
    let acknowledged = 0;
    for (let i = 0; i < ordered.length; i += EVENTS_PER_BATCH) {
      const batch = ordered.slice(i, i + EVENTS_PER_BATCH);
      try {
        const answer = await api.syncDevice({ serial, events: batch.map((e) => e.message) });
        acknowledged = Math.max(acknowledged, answer.acknowledged);
        report.eventsStored += answer.received;
        report.duplicates += answer.duplicates;
        report.findings += answer.findings;
        await run('directives', 'readwrite', (s) =>
          s.put({ serial, directive: answer.directive, receivedAt: new Date().toISOString() } satisfies HeldDirective),
        );
      } catch (error) {
        if (isUnreachable(error)) return { ...report, reached: false };
        report.problems.push(`${serial}: ${error instanceof ApiError ? error.code : String(error)}`);
        break;
      }
    }
    // Only what the server acknowledged leaves the phone: an event after a gap waits for the missing one.
    const db = await open();
    const tx = db.transaction('events', 'readwrite');
    for (const e of ordered) if (e.seq <= acknowledged) tx.objectStore('events').delete([serial, e.seq]);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    });
    changed();
  }
  const photos = (await queuedPhotos()).filter((p) => p.userId === userId);
  for (const photo of photos) {
    try {
      await api.uploadDevicePhoto(photo.deviceId, new Blob([photo.bytes], { type: photo.mediaType }), photo.mediaType);
      // Stored now or before (`stored: false`): either way the server holds these bytes.
      await run('photos', 'readwrite', (s) => s.delete(photo.sha256));
      report.photosUploaded++;
    } catch (error) {
      if (isUnreachable(error)) {
        changed();
        return { ...report, reached: false };
      }
      const code = error instanceof ApiError ? error.code : String(error);
      report.problems.push(`${photo.sha256.slice(0, 12)}: ${code}`);
      await run('photos', 'readwrite', (s) => s.put({ ...photo, error: code }));
    }
    changed();
  }
  return report;
}
