import { sql, type Compilable, type RawBuilder } from 'kysely';
import type { Transaction } from './schema.js';

/** A query not yet run: an insert, update or delete built by a repository, or a raw statement. */
export type PendingWrite = Compilable & { toOperationNode(): unknown };

/**
 * Writes gathered to reach the database as one statement: all but the last ride along as
 * data-modifying WITH queries. They share one snapshot, so none may depend on another's effect
 * (nor change a row another changes); PostgreSQL checks foreign keys between them at the
 * statement's end. A busy transaction spends one round trip on its writes instead of one each.
 */
export class WriteBatch {
  private readonly writes: PendingWrite[] = [];

  add(...writes: Array<PendingWrite | null | undefined>): this {
    for (const write of writes) if (write) this.writes.push(write);
    return this;
  }

  get size(): number {
    return this.writes.length;
  }

  /** Runs the writes, `last` (e.g. a `select fn(...)`) as the statement itself when given. */
  async run(trx: Transaction, last?: RawBuilder<unknown>): Promise<void> {
    const writes = [...this.writes];
    this.writes.length = 0;
    const main: PendingWrite | RawBuilder<unknown> | undefined = last ?? writes.pop();
    if (!main) return;
    if (writes.length === 0) {
      await sql`${main}`.execute(trx);
      return;
    }
    await sql`with ${sql.join(writes.map((write, i) => sql`${sql.id(`write_${i}`)} as (${write})`))} ${main}`.execute(trx);
  }
}
