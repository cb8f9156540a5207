// Public events: what happened, told to the outside (webhooks today). Any module emits them through
// the outbox in the transaction of the change, so an event exists exactly when its change committed.
// This file is the one list of their types: a new one is added here (and given its data below).
import type { Db, Transaction } from '../db/schema.js';
import { outboxInsert } from './outbox.js';

/** The outbox topic public events travel under. */
export const EVENT_TOPIC = 'event';

/** Every public event type, in one place. `document.*` are the contracts module's. */
export const publicEventTypes = [
  'application.submitted',
  'application.approved',
  'application.rejected',
  'application.withdrawn',
  'application.closed',
  'document.sent',
  'document.signed',
  'document.rejected',
  'document.completed',
  'document.voided',
  'document.expired',
] as const;
export type PublicEventType = (typeof publicEventTypes)[number];

/** An application's state after the event; no free text (reasons, comments) leaves the platform. */
export interface ApplicationEventData {
  applicationId: string;
  applicantId: string;
  purpose: string;
  category: string | null;
  status: 'pending' | 'approved' | 'rejected' | 'withdrawn' | 'closed';
}

/** A contract document's state after the event (the contracts module adds what it needs). */
export interface DocumentEventData {
  documentId: string;
  status: string;
  /** The participant who acted (signed, rejected), when one did. */
  participantId?: string | null;
}

/** The data each type carries: a type without an entry here does not compile. */
export type PublicEventData = {
  [T in PublicEventType]: T extends `application.${string}`
    ? ApplicationEventData
    : T extends `document.${string}`
      ? DocumentEventData
      : never;
};

/** One public event as a change emits it. `companyId`: whose subtree it concerns (who may receive it). */
export type PublicEvent = {
  [T in PublicEventType]: { type: T; companyId: string; at: Date; data: PublicEventData[T] };
}[PublicEventType];

/** The outbox payload of a public event, as stored. */
export interface StoredPublicEvent {
  type: PublicEventType;
  companyId: string;
  at: string;
  data: Record<string, unknown>;
}

export function isPublicEventType(value: unknown): value is PublicEventType {
  return typeof value === 'string' && (publicEventTypes as readonly string[]).includes(value);
}

function stored(event: PublicEvent): StoredPublicEvent {
  return {
    type: event.type,
    companyId: event.companyId,
    at: event.at.toISOString(),
    data: { ...event.data },
  };
}

/**
 * The insert of public events, not yet run, for a statement of the caller's (`WriteBatch`): one
 * row per event, no notification (they are consumed by the job runner's poll, not the readers).
 */
export function eventsWrite(db: Db | Transaction, groupId: string, events: PublicEvent[]) {
  return outboxInsert(
    db,
    events.map((event) => ({ groupId, topic: EVENT_TOPIC, payload: { ...stored(event) } })),
  );
}

/** Emits public events in the caller's transaction: one insert. */
export async function emitEvents(trx: Transaction, groupId: string, events: PublicEvent[]): Promise<void> {
  if (events.length === 0) return;
  await eventsWrite(trx, groupId, events).execute();
}
