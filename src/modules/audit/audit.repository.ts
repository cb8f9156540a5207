import { sql } from 'kysely';
import type { AuditEventsTable, Db, Transaction } from '../../db/schema.js';
import { escapeLike } from '../../db/scope.js';
import type { Selectable } from 'kysely';

export type AuditRow = Selectable<AuditEventsTable>;

export const GENESIS_HASH = '0'.repeat(64);

/**
 * Locks the group's chain head for the rest of the transaction. Two writers in one
 * group then append one after the other, so neither links to a stale head.
 */
export async function lockHead(trx: Transaction, groupId: string): Promise<{ seq: number; hash: string }> {
  const head = await trx
    .selectFrom('audit_heads')
    .select(['seq', 'hash'])
    .where('group_id', '=', groupId)
    .forUpdate()
    .executeTakeFirst();
  if (head) return head;
  await trx.insertInto('audit_heads').values({ group_id: groupId, seq: 0, hash: GENESIS_HASH }).onConflict((oc) => oc.doNothing()).execute();
  return lockHead(trx, groupId);
}

/**
 * Appends consecutive events of one group and moves its head to the last of them, in one
 * statement: the head stays locked for one round trip less.
 */
export async function insertEvents(trx: Transaction, rows: AuditRow[]): Promise<void> {
  const last = rows.at(-1);
  if (!last) return;
  await trx
    .with('appended', (db) => db.insertInto('audit_events').values(rows.map((row) => ({ ...row, changes: JSON.stringify(row.changes) }))))
    .updateTable('audit_heads')
    .set({ seq: last.seq, hash: last.hash })
    .where('group_id', '=', last.group_id)
    .execute();
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
