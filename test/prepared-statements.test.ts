// The PostgreSQL connection layer names repeated statements so the server parses them once
// (src/db/database.ts). These attack what could go wrong with that: texts seen once using up the
// names for good, and a statement the server no longer holds as it was prepared (a DISCARD, a
// migration that changed its columns) failing for ever instead of once.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';

const url = process.env.DATABASE_URL;

describe.runIf(Boolean(url))('prepared statements on PostgreSQL', () => {
  let handle: DatabaseHandle;

  // One connection: every statement below runs in the same server session.
  beforeAll(async () => {
    handle = await openDatabase({ databaseUrl: url, poolSize: 1 });
  });
  afterAll(async () => {
    await handle.close();
  });

  const preparedNow = async () =>
    (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(handle.db)).rows.map(
      (r) => r.statement,
    );

  it('names a statement when it runs again, not texts run once, however many there are', async () => {
    // 600 different lists, each run once: more than the connection's 500 names.
    for (let n = 1; n <= 600; n++) {
      const values = Array.from({ length: n }, (_, i) => i);
      await sql`select count(*) from (values ${sql.join(values.map((v) => sql`(${v}::int)`))}) as v(x)`.execute(
        handle.db,
      );
    }
    expect(await preparedNow()).toEqual([]);
    const hot = () => sql<{ n: number }>`select ${41}::int + 1 as n`.execute(handle.db);
    expect((await hot()).rows[0]!.n).toBe(42);
    expect((await hot()).rows[0]!.n).toBe(42);
    const prepared = await preparedNow();
    expect(prepared).toHaveLength(1);
    expect(prepared[0]).toContain('+ 1 as n');
  });

  it('prepares a statement anew after the server let it go (DISCARD ALL)', async () => {
    const read = () => sql<{ n: number }>`select ${1}::int * 7 as n`.execute(handle.db);
    await read();
    await read();
    expect((await preparedNow()).some((s) => s.includes('* 7 as n'))).toBe(true);
    await sql`discard all`.execute(handle.db);
    // The first run after it fails (the connection believed the statement prepared); the next works.
    await expect(read()).rejects.toMatchObject({ code: '26000' });
    expect((await read()).rows[0]!.n).toBe(7);
    expect((await read()).rows[0]!.n).toBe(7);
  });

  it('prepares a statement anew when a change of the table changed what it returns', async () => {
    await sql`create temporary table prepared_probe (a int)`.execute(handle.db);
    await sql`insert into prepared_probe values (1)`.execute(handle.db);
    const read = () => sql<Record<string, number>>`select * from prepared_probe where a = ${1}`.execute(handle.db);
    await read();
    expect((await read()).rows[0]).toEqual({ a: 1 });
    await sql`alter table prepared_probe add column b int default 2`.execute(handle.db);
    await expect(read()).rejects.toMatchObject({ code: '0A000' });
    expect((await read()).rows[0]).toEqual({ a: 1, b: 2 });
    expect((await read()).rows[0]).toEqual({ a: 1, b: 2 });
  });
});
