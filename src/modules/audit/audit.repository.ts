import { sql, type RawBuilder } from 'kysely';
import type { AuditEventsTable, Db, Transaction } from '../../db/schema.js';
import { escapeLike } from '../../db/scope.js';
import type { Selectable } from 'kysely';

export type AuditRow = Selectable<AuditEventsTable>;

export const GENESIS_HASH = '0'.repeat(64);

/** What the server says of an event; the database gives it its place in the chain (`sigil_audit_append`). */
export interface PendingAuditEvent {
  id: string;
  occurredAt: string;
  actorType: AuditRow['actor_type'];
  actorId: string | null;
  actorName: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  companyId: string | null;
  changes: Record<string, unknown>;
  /** SHA-256 (hex) of the fields above, canonical JSON; the chain links it to its predecessor. */
  contentHash: string;
}

/**
 * Appends events to the group's chain in one statement: locks the chain head until the caller's
 * transaction ends (two writers in one group append one after the other), links each event to the
 * one before and moves the head. Returns the sequence number of the last event.
 */
export async function appendEvents(trx: Transaction, groupId: string, events: PendingAuditEvent[]): Promise<number> {
  const { rows } = await appendEventsStatement(groupId, events).execute(trx);
  return Number(rows[0]!.seq);
}

/** The append as a statement; with `after`, the events are only handed over (and the head locked) once `after` is known to hold. */
export function appendEventsStatement(groupId: string, events: PendingAuditEvent[], after?: RawBuilder<boolean>) {
  const json = JSON.stringify(events);
  const handed = after ? sql`case when ${after} then ${json}::jsonb end` : sql`${json}::jsonb`;
  return sql<{ seq: number }>`select sigil_audit_append(${groupId}::uuid, ${handed}) as seq`;
}

export async function findHead(db: Db, groupId: string): Promise<{ seq: number; hash: string } | undefined> {
  return db.selectFrom('audit_heads').select(['seq', 'hash']).where('group_id', '=', groupId).executeTakeFirst();
}

/** Events of a group in chain order, a page at a time. */
export async function findChainPage(db: Db, groupId: string, afterSeq: number, limit: number): Promise<AuditRow[]> {
  return db
    .selectFrom('audit_events')
    .selectAll()
    .where('group_id', '=', groupId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

export interface AuditFilter {
  groupId: string;
  scope: string[];
  /** Events that concern the whole group (no company); only for callers scoped at the top. */
  includeGroupWide: boolean;
  action?: string | undefined;
  actionPrefix?: string | undefined;
  actorId?: string | undefined;
  targetId?: string | undefined;
  companyId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  beforeSeq?: number | undefined;
  limit: number;
}

/** Newest first; events without a company (group-wide) are visible only to whole-group scopes. */
export async function findEvents(db: Db, filter: AuditFilter): Promise<AuditRow[]> {
  let query = db
    .selectFrom('audit_events as e')
    .leftJoin('companies as c', 'c.id', 'e.company_id')
    .selectAll('e')
    .where('e.group_id', '=', filter.groupId)
    .where((eb) =>
      eb.or([
        ...filter.scope.map((root) => eb('c.path', 'like', `${escapeLike(root)}%`)),
        ...(filter.includeGroupWide ? [eb('e.company_id', 'is', null)] : []),
      ]),
    );
  if (filter.action) query = query.where('e.action', '=', filter.action);
  if (filter.actionPrefix) query = query.where('e.action', 'like', `${escapeLike(filter.actionPrefix)}%`);
  if (filter.actorId) query = query.where('e.actor_id', '=', filter.actorId);
  if (filter.targetId) query = query.where('e.target_id', '=', filter.targetId);
  if (filter.companyId) query = query.where('e.company_id', '=', filter.companyId);
  if (filter.from) query = query.where('e.occurred_at', '>=', filter.from);
  if (filter.to) query = query.where('e.occurred_at', '<', filter.to);
  if (filter.beforeSeq !== undefined) query = query.where('e.seq', '<', filter.beforeSeq);
  return query.orderBy('e.seq', 'desc').limit(filter.limit).execute();
}


/** Tells every server process, on commit, that the group's state changed (they drop cached principals). */
export async function notifyChange(trx: Transaction, groupId: string): Promise<void> {
  await sql`select pg_notify('sigil_changes', ${groupId})`.execute(trx);
}
