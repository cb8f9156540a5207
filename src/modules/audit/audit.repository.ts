import { sql, type RawBuilder } from 'kysely';
import type { AuditEventsTable, Db, Transaction } from '../../db/schema.js';
import type { Selectable } from 'kysely';

export type AuditRow = Selectable<AuditEventsTable>;

export const GENESIS_HASH = '0'.repeat(64);

/** What the server says of an event; the database gives it its place in the log (`sigil_audit_append`) and the sealer its place in the chain. */
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
}

/**
 * Appends events to the group's log in one statement, in the caller's transaction, and marks them
 * for the sealer, which links them into the chain once they are committed. Nothing is locked:
 * writers of one group do not wait for each other.
 */
export async function appendEvents(trx: Transaction, groupId: string, events: PendingAuditEvent[]): Promise<void> {
  await appendEventsStatement(groupId, events).execute(trx);
}

let lastAppendAt = 0;

/** When this process last built an append (ms since the epoch): the sealer looks often for a while after it. */
export function lastAppendTime(): number {
  return lastAppendAt;
}

/** The append as a statement; with `after`, the events are only handed over once `after` is known to hold. */
export function appendEventsStatement(groupId: string, events: PendingAuditEvent[], after?: RawBuilder<boolean>) {
  lastAppendAt = Date.now();
  const json = JSON.stringify(events);
  const handed = after ? sql`case when ${after} then ${json}::jsonb end` : sql`${json}::jsonb`;
  return sql<{ seq: number }>`select sigil_audit_append(${groupId}::uuid, ${handed}) as seq`;
}

export async function findHead(db: Db, groupId: string): Promise<{ seq: number; hash: string } | undefined> {
  return db.selectFrom('audit_heads').select(['seq', 'hash']).where('group_id', '=', groupId).executeTakeFirst();
}

/** How many pending events one seal links at most (one transaction). */
const SEAL_BATCH = 1000;

/**
 * Links the group's committed pending events into its chain (`sigil_audit_seal`), a batch per
 * transaction, until none is left; returns how many were linked. Without `wait`, gives way at
 * once to a sealer already at work on the group; with it, waits for that one to finish first.
 */
export async function sealPending(db: Db, groupId: string, options: { wait: boolean }): Promise<number> {
  let linked = 0;
  for (;;) {
    const { rows } = await sql<{
      n: number;
    }>`select sigil_audit_seal(${groupId}::uuid, ${SEAL_BATCH}, ${options.wait}) as n`.execute(db);
    const n = Number(rows[0]!.n);
    linked += n;
    if (n < SEAL_BATCH) return linked;
  }
}

/** Groups with events waiting for the sealer. */
export async function findPendingGroups(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('audit_pending').select('group_id').distinct().execute();
  return rows.map((r) => r.group_id);
}

/** Events linked in their own row (chain versions 1 and 2), in chain order, a page at a time. */
export async function findInlineChainPage(
  db: Db,
  groupId: string,
  afterSeq: number,
  limit: number,
): Promise<AuditRow[]> {
  return (
    db
      .selectFrom('audit_events')
      .selectAll()
      .where('group_id', '=', groupId)
      // Literal, not a parameter: a prepared statement's generic plan then uses the partial index
      // of such events (migration 20261208T1100) instead of reading the whole log.
      .where('chain_version', '<', sql.lit(3))
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute()
  );
}

/** Version 3 events (content hash computed by the server) from seq `afterSeq + 1`, with their place in the chain (null: in none). */
export async function findVersion3Page(
  db: Db,
  groupId: string,
  afterSeq: number,
  limit: number,
): Promise<Array<AuditRow & { place: number | null }>> {
  const rows = await db
    .selectFrom('audit_events as e')
    .leftJoin('audit_links as l', (join) =>
      join.onRef('l.group_id', '=', 'e.group_id').onRef('l.event_seq', '=', 'e.seq'),
    )
    .selectAll('e')
    .select('l.seq as place')
    .where('e.group_id', '=', groupId)
    .where('e.chain_version', '=', sql.lit(3))
    .where('e.seq', '>', afterSeq)
    .orderBy('e.seq')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, place: r.place === null ? null : Number(r.place) }));
}

/** Version 3 events by seq (their content hash is over the server's canonical JSON, rendered from the row). */
export async function findVersion3Rows(db: Db, groupId: string, seqs: number[]): Promise<Map<number, AuditRow>> {
  if (seqs.length === 0) return new Map();
  const rows = await db
    .selectFrom('audit_events')
    .selectAll()
    .where('group_id', '=', groupId)
    .where('chain_version', '=', 3)
    .where('seq', 'in', seqs)
    .execute();
  return new Map(rows.map((r) => [r.seq, r]));
}

/** Links from place `afterPlace + 1`, in chain order, with what a version 4 event says (`sigil_audit_said`). */
export async function findExportLinkPage(
  db: Db,
  groupId: string,
  afterPlace: number,
  limit: number,
): Promise<
  Array<{
    place: number;
    eventSeq: number;
    prevHash: string;
    hash: string;
    version: number | null;
    said: string | null;
  }>
> {
  const { rows } = await sql<{
    place: number;
    event_seq: number;
    prev_hash: string;
    hash: string;
    chain_version: number | null;
    said: string | null;
  }>`
    select l.seq as place, l.event_seq, l.prev_hash, l.hash, e.chain_version,
           case when e.chain_version = 4 then sigil_audit_said(e) end as said
    from audit_links l
    left join audit_events e on e.group_id = l.group_id and e.seq = l.event_seq
    where l.group_id = ${groupId} and l.seq > ${afterPlace}
    order by l.seq
    limit ${limit}
  `.execute(db);
  return rows.map((r) => ({
    place: Number(r.place),
    eventSeq: Number(r.event_seq),
    prevHash: r.prev_hash,
    hash: r.hash,
    version: r.chain_version,
    said: r.said,
  }));
}

/** The chain hash of a place: a link's, or that of an event linked in its own row (versions 1 and 2). */
export async function findPlaceHash(db: Db, groupId: string, place: number): Promise<string | undefined> {
  const link = await db
    .selectFrom('audit_links')
    .select('hash')
    .where('group_id', '=', groupId)
    .where('seq', '=', place)
    .executeTakeFirst();
  if (link) return link.hash;
  const inline = await db
    .selectFrom('audit_events')
    .select('hash')
    .where('group_id', '=', groupId)
    .where('seq', '=', place)
    .where('chain_version', '<', 3)
    .executeTakeFirst();
  return inline?.hash ?? undefined;
}

/**
 * How many version 3 and 4 events the group has, how many distinct events its links name, and
 * how many of its pending entries name an event that no link holds: when the first is the sum of
 * the others, no event was written around the server, and the scan for one
 * (`findUnlinkedEvent`) is spared. The events are counted as all of the group's less those of
 * versions 1 and 2 (chain_version is never null): the first from the primary key alone, the
 * second from the partial index of such events, instead of reading every row of the log.
 */
export async function countLinkableEvents(
  db: Db,
  groupId: string,
): Promise<{ events: number; linked: number; pending: number }> {
  // Without parallel workers: they cost more CPU than they save here (a serial count of the
  // events takes a third of what three processes spend on it), and the verification that runs
  // this beside its ranges has no idle core for them anyway.
  const rows = await db.transaction().execute(async (trx) => {
    await sql`set local max_parallel_workers_per_gather = 0`.execute(trx);
    return (await countLinkable(trx, groupId)).rows;
  });
  const row = rows[0]!;
  return { events: Number(row.events), linked: Number(row.linked), pending: Number(row.pending) };
}

const countLinkable = (trx: Transaction, groupId: string) =>
  sql<{ events: number; linked: number; pending: number }>`
    select ((select count(*) from audit_events where group_id = ${groupId})
            - (select count(*) from audit_events where group_id = ${groupId} and chain_version < 3))::bigint as events,
           (select count(event_seq) from (select distinct event_seq from audit_links where group_id = ${groupId}) d)::bigint as linked,
           (select count(distinct p.seq) from audit_pending p
             join audit_events e on e.group_id = p.group_id and e.seq = p.seq
             where p.group_id = ${groupId}
               and not exists (select 1 from audit_links l where l.group_id = p.group_id and l.event_seq = p.seq))::bigint as pending
  `.execute(trx);

/** The first version 3 or 4 event that is neither linked nor waiting for the sealer: one written around the server. */
export async function findUnlinkedEvent(db: Db, groupId: string): Promise<{ seq: number; id: string } | undefined> {
  return db
    .selectFrom('audit_events as e')
    .select(['e.seq', 'e.id'])
    .where('e.group_id', '=', groupId)
    .where('e.chain_version', '>=', 3)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('audit_links as l')
            .select('l.seq')
            .whereRef('l.group_id', '=', 'e.group_id')
            .whereRef('l.event_seq', '=', 'e.seq'),
        ),
      ),
    )
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('audit_pending as p')
            .select('p.seq')
            .whereRef('p.group_id', '=', 'e.group_id')
            .whereRef('p.seq', '=', 'e.seq'),
        ),
      ),
    )
    .orderBy('e.seq')
    .limit(1)
    .executeTakeFirst();
}
