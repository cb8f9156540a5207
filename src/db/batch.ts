import { sql, type Compilable, type RawBuilder } from 'kysely';
import type { Db, Transaction } from './schema.js';

/** A query not yet run: an insert, update or delete built by a repository, or a raw statement. */
export type PendingWrite = Compilable & { toOperationNode(): unknown };

/**
 * Writes gathered to reach the database as one statement: all but the last ride along as
 * data-modifying WITH queries. They share one snapshot, so none may depend on another's effect
 * (nor change a row another changes); PostgreSQL checks foreign keys between them at the
 * statement's end. A busy transaction spends one round trip on its writes instead of one each.
 *
 * A batch may have a guard: a write that must change exactly one row (an update naming the
 * version it read). If it changes none, the whole statement fails with serialization_failure
 * (`sigil_conflict`) and nothing of it is written.
 */
export class WriteBatch {
  private readonly writes: PendingWrite[] = [];
  private guardWrite: PendingWrite | undefined;

  add(...writes: Array<PendingWrite | null | undefined>): this {
    for (const write of writes) if (write) this.writes.push(write);
    return this;
  }

  guard(write: PendingWrite): this {
    if (this.guardWrite) throw new Error('WriteBatch: one guard per statement');
    this.guardWrite = write;
    return this;
  }

  /**
   * Runs the writes. `last`, when given, is the statement itself (e.g. `select fn(…)`), and runs
   * after every write: it must make its work depend on `afterWrites`, an expression known only
   * once each write ran to completion (and the guard held).
   */
  async run(db: Db | Transaction, last?: (afterWrites: RawBuilder<boolean>) => RawBuilder<unknown>): Promise<void> {
    const writes = [...this.writes];
    const guard = this.guardWrite;
    this.writes.length = 0;
    this.guardWrite = undefined;
    if (last) {
      const names = writes.map((_, i) => sql.id(`write_${i}`));
      // One count over all of them: a count per write would be a plan node to start per write at every execution.
      const counted =
        names.length > 0
          ? sql`(select count(*) from (${sql.join(
              names.map((name) => sql`select 1 from ${name}`),
              sql` union all `,
            )}) as written)`
          : sql`0`;
      const ctes = writes.map((write, i) => sql`${names[i]} as (${write} returning 1)`);
      const held = guard
        ? sql`case when (select count(*) from guard) = 1 then true else sigil_conflict() is null end`
        : sql`true`;
      if (guard) ctes.unshift(sql`guard as (${guard} returning 1)`);
      const statement = last(sql<boolean>`(${held}) and (${counted}) >= 0`);
      if (ctes.length === 0) await statement.execute(db);
      else await sql`with ${sql.join(ctes)} ${statement}`.execute(db);
      return;
    }
    if (guard) throw new Error('WriteBatch: a guarded batch needs a last statement to check the guard in');
    const main = writes.pop();
    if (!main) return;
    if (writes.length === 0) {
      await sql`${main}`.execute(db);
      return;
    }
    await sql`with ${sql.join(writes.map((write, i) => sql`${sql.id(`write_${i}`)} as (${write})`))} ${main}`.execute(
      db,
    );
  }
}
