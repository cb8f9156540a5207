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

// A transaction's BEGIN goes out with its first statement (src/db/database.ts, `AfterBegin`).
// These check that what runs after it is inside the transaction, that a failure there leaves
// nothing behind and the connection usable, and that the statement names survive it.
describe.runIf(Boolean(url))('BEGIN sent with the first statement, on PostgreSQL', () => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openDatabase({ databaseUrl: url, poolSize: 1 });
    await sql`create temporary table begin_probe (a int primary key)`.execute(handle.db);
  });
  afterAll(async () => {
    await handle.close();
  });

  const xid = (db: typeof handle.db, tag: number) =>
    sql<{ x: string }>`select txid_current()::text as x, ${tag}::int as tag`.execute(db).then((r) => r.rows[0]!.x);
  const inTransaction = async () =>
    (await sql<{ x: string }>`select txid_current()::text as x`.execute(handle.db)).rows[0]!.x ===
    (await sql<{ x: string }>`select txid_current()::text as x`.execute(handle.db)).rows[0]!.x;

  it('runs the first statement inside the transaction, with or without parameters, named or not', async () => {
    // Three times: the first statement's text is named from its second run on.
    for (let run = 0; run < 3; run++) {
      const [first, second] = await handle.db
        .transaction()
        .execute(async (trx) => [await xid(trx, 1), await xid(trx, 2)]);
      expect(first).toBe(second);
    }
    const [plain, after] = await handle.db
      .transaction()
      .execute(async (trx) => [
        (await sql<{ x: string }>`select txid_current()::text as x`.execute(trx)).rows[0]!.x,
        await xid(trx, 3),
      ]);
    expect(plain).toBe(after);
    expect(await inTransaction()).toBe(false);
    expect(
      (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(handle.db)).rows.map(
        (r) => r.statement,
      ),
    ).toEqual(expect.arrayContaining([expect.stringContaining('txid_current()::text as x, $1::int as tag')]));
  });

  it('keeps nothing of a transaction whose first statement or a later one fails, and the connection works after', async () => {
    const insert = (db: typeof handle.db, a: number) => sql`insert into begin_probe (a) values (${a})`.execute(db);
    await expect(
      handle.db.transaction().execute(async (trx) => {
        await insert(trx, 1);
        await sql`select 1 / ${0}::int`.execute(trx);
      }),
    ).rejects.toMatchObject({ code: '22012' });
    for (let run = 0; run < 3; run++)
      await expect(
        handle.db.transaction().execute(async (trx) => {
          await sql`select 1 / ${run - run}::int`.execute(trx);
          await insert(trx, 2);
        }),
      ).rejects.toMatchObject({ code: '22012' });
    expect((await sql<{ a: number }>`select a from begin_probe`.execute(handle.db)).rows).toEqual([]);
    expect(await inTransaction()).toBe(false);
    await handle.db.transaction().execute((trx) => insert(trx, 3));
    expect((await sql<{ a: number }>`select a from begin_probe`.execute(handle.db)).rows).toEqual([{ a: 3 }]);
  });

  it('survives a first statement that does not parse, named or not', async () => {
    for (let run = 0; run < 3; run++)
      await expect(
        handle.db.transaction().execute((trx) => sql`select ${run}::int +`.execute(trx)),
      ).rejects.toMatchObject({ code: '42601' });
    expect(await inTransaction()).toBe(false);
    expect((await sql<{ n: number }>`select ${5}::int as n`.execute(handle.db)).rows[0]!.n).toBe(5);
  });

  it('sends nothing for a transaction without statements, and honours an isolation level', async () => {
    await handle.db.transaction().execute(async () => undefined);
    await expect(
      handle.db.transaction().execute(async () => {
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await inTransaction()).toBe(false);
    const level = await handle.db
      .transaction()
      .setIsolationLevel('serializable')
      .execute(
        async (trx) =>
          (await sql<{ level: string }>`select current_setting(${'transaction_isolation'}) as level`.execute(trx))
            .rows[0]!.level,
      );
    expect(level).toBe('serializable');
  });
});
