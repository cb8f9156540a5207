// The outbox. A change says what happened, for the rest of the platform, in its own transaction
// (beside its audit events); every server process reads what was committed, in order, and hands
// each entry to the consumers of its topic. A commit wakes the readers at once (the append
// notifies, and PostgreSQL, PGlite too, delivers a notification only when its transaction
// commits); each reader also looks every second, in case a notification was lost.
import { sql } from 'kysely';
import type { Db, Transaction } from '../db/schema.js';

export const OUTBOX_CHANNEL = 'sigil_outbox';

/**
 * What the outbox carries. `principals.changed`: who someone is or what they may do changed.
 * `event`: a public event (`events.ts`), consumed once across all processes (`claimOutboxEntries`).
 */
export type OutboxTopic = 'principals.changed' | 'event';

/**
 * Topics consumed durably (`claimOutboxEntries`): an entry nobody has claimed yet outlives the
 * usual day, up to `UNCLAIMED_KEEP_MS`, so a consumer that was stopped for a while still finds it.
 */
const DURABLE_TOPICS: OutboxTopic[] = ['event'];
const UNCLAIMED_KEEP_MS = 7 * 24 * 3600_000;

export interface OutboxEntry {
  id: number;
  groupId: string;
  topic: OutboxTopic;
  payload: Record<string, unknown>;
}

/** Appends an entry in the caller's transaction, and wakes every reader when it commits (one statement). */
export async function appendOutbox(
  trx: Transaction,
  entry: { groupId: string; topic: OutboxTopic; payload?: Record<string, unknown> },
): Promise<void> {
  await sql`
    with added as (
      insert into outbox (group_id, topic, payload)
      values (${entry.groupId}, ${entry.topic}, ${JSON.stringify(entry.payload ?? {})}::jsonb)
      returning id
    )
    select pg_notify(${OUTBOX_CHANNEL}, id::text) from added
  `.execute(trx);
}

/** The insert of entries, not yet run (for a `WriteBatch`); it wakes no reader, who look every second anyway. */
export function outboxInsert(
  db: Db | Transaction,
  entries: Array<{ groupId: string; topic: OutboxTopic; payload: Record<string, unknown> }>,
) {
  return db.insertInto('outbox').values(
    entries.map((entry) => ({
      group_id: entry.groupId,
      topic: entry.topic,
      payload: sql<Record<string, unknown>>`cast(${JSON.stringify(entry.payload)} as jsonb)`,
    })),
  );
}

/**
 * How long after a later entry was claimed a consumer still looks for an earlier id: the time a
 * transaction that took an id may stay open before it commits (then its entry is missed).
 */
const CLAIM_LOOKBACK_MS = 15 * 60_000;

/**
 * Claims, for `consumer`, up to `limit` committed entries of `topic` it has not claimed before,
 * in id order, in the caller's transaction: what the caller does with them commits with the
 * claims, or neither does. Every process may call this at once; each entry goes to one of them.
 *
 * Why claims and not a cursor: ids are taken in one order and committed in another, so a cursor
 * that moved past id 7 when 8 committed would never see 7. A claim per entry (`outbox_claims`,
 * primary key consumer + entry) records exactly what was consumed, whatever the order. Two
 * callers that read the same unclaimed entries both insert their claims; the second insert waits
 * on the first's uncommitted key and then, once it commits, inserts nothing (ON CONFLICT DO
 * NOTHING), so only the entries a caller actually claimed are returned to it. What bounds the
 * search is the newest entry claimed more than `CLAIM_LOOKBACK_MS` ago: anything below it
 * committed (or rolled back) long ago, except a transaction kept open that long.
 */
export async function claimOutboxEntries(
  trx: Transaction,
  options: { consumer: string; topic: OutboxTopic; limit: number; at: Date },
): Promise<OutboxEntry[]> {
  const { consumer, topic, limit, at } = options;
  const horizon = new Date(at.getTime() - CLAIM_LOOKBACK_MS);
  const { rows } = await sql<{
    id: string | number;
    group_id: string;
    topic: OutboxTopic;
    payload: Record<string, unknown>;
  }>`
    with floor as (
      select coalesce(max(outbox_id), 0) as id from outbox_claims
       where consumer = ${consumer} and claimed_at < ${horizon}
    ), candidates as (
      select o.id from outbox o
       where o.topic = ${topic} and o.id > (select id from floor)
         and not exists (select 1 from outbox_claims c where c.consumer = ${consumer} and c.outbox_id = o.id)
       order by o.id
       limit ${limit}
    ), claimed as (
      insert into outbox_claims (consumer, outbox_id, claimed_at)
      select ${consumer}, id, ${at} from candidates
      on conflict do nothing
      returning outbox_id
    )
    select o.id, o.group_id, o.topic, o.payload from outbox o
      join claimed c on c.outbox_id = o.id
     order by o.id
  `.execute(trx);
  return rows.map((row) => ({ id: Number(row.id), groupId: row.group_id, topic: row.topic, payload: row.payload }));
}

/** What a topic's consumer does with the entries of one read, in order. A consumer that throws is logged; the reader goes on. */
export type OutboxConsumer = (entries: OutboxEntry[]) => void | Promise<void>;

export interface OutboxReaderOptions {
  /** How often the reader looks without being woken. */
  pollMs?: number;
  /** How long an id skipped by a later one is looked for again (a transaction that took it may still commit). */
  gapMs?: number;
  /** Entries older than this are deleted now and then. */
  keepMs?: number;
  onError?: (error: unknown, topic: string) => void;
}

const PAGE = 500;
const MAX_GAP = 1_000;

/**
 * One process's reader. It starts after the newest entry (what came before was for the processes
 * of that time), keeps its place by id, and looks again, for a while, for ids that a later one
 * skipped: ids are taken in one order and committed in another.
 */
export class OutboxReader {
  private cursor = 0;
  /** Skipped ids, with when to stop looking for each. */
  private readonly gaps = new Map<number, number>();
  private reading: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private nextSweep = 0;
  private readonly pollMs: number;
  private readonly gapMs: number;
  private readonly keepMs: number;

  constructor(
    private readonly db: Db,
    private readonly consumers: Partial<Record<OutboxTopic, OutboxConsumer>>,
    private readonly options: OutboxReaderOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 1_000;
    this.gapMs = options.gapMs ?? 30_000;
    this.keepMs = options.keepMs ?? 24 * 3600_000;
  }

  async start(): Promise<void> {
    // After every id taken so far: the newest entry, or the sequence's place when old ones were swept.
    const { rows } = await sql<{ id: number | null }>`
      select greatest((select max(id) from outbox), (select last_value from outbox_id_seq where is_called)) as id
    `.execute(this.db);
    this.cursor = Number(rows[0]?.id ?? 0);
    this.timer = setInterval(() => void this.wake(), this.pollMs);
    this.timer.unref();
  }

  /** Reads what was committed since the last read; a wake during a read makes it read once more after. */
  wake(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        await this.readCommitted();
      } while (this.again);
    })()
      .catch((error: unknown) => this.options.onError?.(error, '*'))
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.reading;
  }

  private async readCommitted(): Promise<void> {
    const now = Date.now();
    for (const [id, until] of this.gaps) if (until < now) this.gaps.delete(id);
    const gaps = [...this.gaps.keys()];
    for (;;) {
      const { rows } = await sql<{
        id: number;
        group_id: string;
        topic: OutboxTopic;
        payload: Record<string, unknown>;
      }>`
        select id, group_id, topic, payload from outbox
        where id > ${this.cursor} or id = any(${gaps}::bigint[])
        order by id limit ${PAGE}
      `.execute(this.db);
      const fresh = rows.filter((row) => Number(row.id) > this.cursor || this.gaps.delete(Number(row.id)));
      if (fresh.length === 0) break;
      for (const row of fresh) {
        const id = Number(row.id);
        // A jump of more than MAX_GAP ids is not waited for id by id (a sequence moved by hand).
        for (let skipped = Math.max(this.cursor + 1, id - MAX_GAP); skipped < id; skipped++)
          this.gaps.set(skipped, now + this.gapMs);
        this.cursor = Math.max(this.cursor, id);
      }
      await this.deliver(
        fresh.map((row) => ({ id: Number(row.id), groupId: row.group_id, topic: row.topic, payload: row.payload })),
      );
      gaps.length = 0;
      if (rows.length < PAGE) break;
    }
    if (now >= this.nextSweep) {
      this.nextSweep = now + 3600_000;
      // An entry of a durable topic that nobody claimed yet stays longer (a stopped consumer finds it later).
      await sql`
        delete from outbox o
         where o.created_at < ${new Date(now - this.keepMs)}
           and (o.topic <> all(${DURABLE_TOPICS}::text[])
                or o.created_at < ${new Date(now - Math.max(this.keepMs, UNCLAIMED_KEEP_MS))}
                or exists (select 1 from outbox_claims c where c.outbox_id = o.id))
      `.execute(this.db);
    }
  }

  private async deliver(entries: OutboxEntry[]): Promise<void> {
    const byTopic = new Map<OutboxTopic, OutboxEntry[]>();
    for (const entry of entries) byTopic.set(entry.topic, [...(byTopic.get(entry.topic) ?? []), entry]);
    for (const [topic, batch] of byTopic) {
      const consumer = this.consumers[topic];
      if (!consumer) continue;
      try {
        await consumer(batch);
      } catch (error) {
        this.options.onError?.(error, topic);
      }
    }
  }
}
