// The outbox. A change says what happened, for the rest of the platform, in its own transaction
// (beside its audit events); every server process reads what was committed, in order, and hands
// each entry to the consumers of its topic. A commit wakes the readers at once (the append
// notifies, and PostgreSQL, PGlite too, delivers a notification only when its transaction
// commits); each reader also looks every second, in case a notification was lost.
import { sql } from 'kysely';
import type { Db, Transaction } from '../db/schema.js';

export const OUTBOX_CHANNEL = 'sigil_outbox';

/** What the outbox carries. `principals.changed`: who someone is or what they may do changed. */
export type OutboxTopic = 'principals.changed';

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
      await sql`delete from outbox where created_at < ${new Date(now - this.keepMs)}`.execute(this.db);
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
