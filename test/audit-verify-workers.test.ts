// On PostgreSQL a full verification reads the chain with COPY on worker threads and renders and
// hashes each event there (src/modules/audit/audit.verify-pool.ts); PGlite runs the SQL checks.
// The SQL checks are the definition: here the workers' answer for every range is held against
// theirs, on events whose values are as awkward to render as values get, and then on each kind
// of tampering, where the verdict must be the very report the SQL path gives.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/schema.js';
import { checkLinkRange, findInclusionStart, findTileProblem } from '../src/modules/audit/audit-tree.repository.js';
import { chainVerifyPoolOf, type ChainVerifyPool } from '../src/modules/audit/audit.verify-pool.js';
import { verifyChain } from '../src/modules/audit/audit.verify.js';
import { sealPending } from '../src/modules/audit/audit.repository.js';
import { openTestDatabase } from './support/database.js';

const GROUP = '0193a000-0000-7000-8000-00000000f00d';
const EVENTS = 600;
const onPostgres = Boolean(process.env.DATABASE_URL);

/** Texts that JSON must escape, or that look as if it must. */
const AWKWARD = [
  'say "hello"',
  'back\\slash',
  'line\nbreak\r\n',
  'tab\tand\u0001control\u001f',
  '审批人 😀 é',
  '</script>\u007f\u2028',
  '',
];

/** Timestamps to microseconds, with trailing zeros to trim and without. */
const TIMES = [
  '2026-01-01 00:00:00+00',
  '2026-03-04 05:06:07.5+00',
  '2026-03-04 05:06:07.0001+00',
  '2026-03-04 05:06:07.123456+08',
  '1999-12-31 23:59:59.999999+00',
  '0999-06-01 12:00:00.01+00',
];

describe.runIf(onPostgres)('audit verification on worker threads (PostgreSQL)', () => {
  let handle: Awaited<ReturnType<typeof openTestDatabase>>;
  let db: Db;
  /** The same database without the workers: the SQL checks only. */
  let sqlOnly: Db;
  let pool: ChainVerifyPool;

  beforeAll(async () => {
    handle = await openTestDatabase();
    db = handle.db;
    sqlOnly = db.withoutPlugins();
    pool = chainVerifyPoolOf(db)!;
    await sql`insert into groups (id, name, slug, sod_matrix) values (${GROUP}, 'Workers', 'workers', '[]')`.execute(
      db,
    );
    await sql`
      with added as (
        insert into audit_events (group_id, seq, id, occurred_at, actor_type, actor_id, actor_name, ip, user_agent,
                                  request_id, action, target_type, target_id, company_id, changes)
        select ${GROUP}, nextval('audit_event_seq'), md5('event' || i)::uuid,
               (${TIMES}::text[])[1 + i % ${TIMES.length}]::timestamptz + i * interval '1 microsecond' * (i % 2),
               case when i % 5 = 0 then 'system' else 'user' end,
               case when i % 4 = 0 then null else md5('actor' || i)::uuid end,
               case when i % 9 = 0 then null else (${AWKWARD}::text[])[1 + i % ${AWKWARD.length}] || i end,
               case when i % 3 = 0 then null else '10.0.0.' || (i % 250) end,
               (${AWKWARD}::text[])[1 + (i + 3) % ${AWKWARD.length}],
               'req-' || i, 'application.task_approved', 'application',
               case when i % 6 = 0 then null else md5('target' || i)::uuid end,
               case when i % 7 = 0 then null else md5('company' || i)::uuid end,
               case i % 4
                 when 0 then jsonb_build_object('comment', (${AWKWARD}::text[])[1 + i % ${AWKWARD.length}], 'level', i)
                 when 1 then '{"amount": 1.50, "big": 12345678901234567890, "nested": {"list": [1, "二", null, true]}}'::jsonb
                 when 2 then '{}'::jsonb
                 else jsonb_build_object('e\u0301', '\\u00e9', 'quote"key', 'x')
               end
        from generate_series(1, ${EVENTS}) as i
        returning seq
      )
      insert into audit_pending (group_id, seq) select ${GROUP}, seq from added
    `.execute(db);
    await sealPending(db, GROUP, { wait: true });
    for (const table of ['audit_events', 'audit_links', 'audit_tree_tiles'])
      await sql.raw(`create table kept_${table} as select * from ${table}`).execute(db);
  });

  afterAll(async () => {
    await handle?.close();
  });

  /** Puts the log back as it was sealed. */
  async function restore() {
    for (const table of ['audit_events', 'audit_links', 'audit_tree_tiles'])
      await sql.raw(`delete from ${table}; insert into ${table} select * from kept_${table}`).execute(db);
  }

  /** The SQL check's answer for a range of links: clean or not. */
  async function sqlClean(after: number, through: number, previousHash: string | null) {
    const check = await checkLinkRange(db, { groupId: GROUP, after, through, previousHash });
    return check.problem === null && check.lastPlace === through;
  }

  const RANGES: Array<[number, number]> = [
    [0, EVENTS],
    [0, 100],
    [100, 317],
    [317, EVENTS],
  ];
  const GENESIS = '0'.repeat(64);

  /** Every range, and every tile range, gets the workers' answer and the SQL's, which must agree; returns the workers'. */
  async function compareRanges() {
    const answers: boolean[] = [];
    for (const [after, through] of RANGES) {
      const previousHash = after === 0 ? GENESIS : null;
      const worker = await pool.check({ kind: 'links', groupId: GROUP, after, through, previousHash });
      expect(worker, `links ${after}..${through}`).toBe(await sqlClean(after, through, previousHash));
      answers.push(worker);
    }
    for (const tileLevel of [1, 2]) {
      const full = Math.floor(EVENTS / 16 ** tileLevel);
      const worker = await pool.check({ kind: 'tiles', groupId: GROUP, tileLevel, from: 0, to: full });
      const sqlIdx = await findTileProblem(db, { groupId: GROUP, tileLevel, from: 0, to: full });
      expect(worker, `tiles of level ${tileLevel - 1}`).toBe(sqlIdx === null);
      answers.push(worker);
    }
    return answers;
  }

  it('renders every awkward value as sigil_audit_said does: each range is clean, as in SQL', async () => {
    // The rendering is checked outright too, not only through the hashes.
    const { rows } = await sql<{ n: number }>`
      select count(*)::integer as n from audit_events e where e.group_id = ${GROUP}
        and sigil_audit_said(e) like '%\\\\u0001%'`.execute(db);
    expect(rows[0]!.n).toBeGreaterThan(0);
    expect(await compareRanges()).toEqual([true, true, true, true, true, true]);
    const report = await verifyChain(db, GROUP);
    expect(report).toEqual({ intact: true, checked: EVENTS, headSeq: EVENTS, firstProblem: null });
    expect(await verifyChain(sqlOnly, GROUP)).toEqual(report);
  });

  it('leaves to the SQL check what it cannot render exactly (a year BC), and the log stays intact', async () => {
    const other = '0193a000-0000-7000-8000-00000000f00e';
    await sql`insert into groups (id, name, slug, sod_matrix) values (${other}, 'Old', 'old', '[]')`.execute(db);
    await sql`
      with added as (
        insert into audit_events (group_id, seq, id, occurred_at, actor_type, action, target_type, changes)
        select ${other}, nextval('audit_event_seq'), md5('old' || i)::uuid,
               case when i = 20 then timestamptz '0044-03-15 12:00:00+00 BC' else now() end,
               'system', 'application.task_approved', 'application', '{}'::jsonb
        from generate_series(1, 40) as i
        returning seq
      )
      insert into audit_pending (group_id, seq) select ${other}, seq from added
    `.execute(db);
    await sealPending(db, other, { wait: true });
    expect(await pool.check({ kind: 'links', groupId: other, after: 0, through: 40, previousHash: GENESIS })).toBe(
      false,
    );
    const check = await checkLinkRange(db, { groupId: other, after: 0, through: 40, previousHash: GENESIS });
    expect(check.problem).toBeNull();
    const report = await verifyChain(db, other);
    expect(report).toEqual({ intact: true, checked: 40, headSeq: 40, firstProblem: null });
    expect(await verifyChain(sqlOnly, other)).toEqual(report);
  });

  it('reads rows cut across many socket chunks, and finds one changed in its middle', async () => {
    // Events of up to 300 KB, of lengths that vary, so that the reads of the socket (64 KB at most)
    // end inside a row's message at many places: in its length field, in a field, in a row that
    // spans several reads. The row pieced together must be the row sent, whatever the cut.
    const big = '0193a000-0000-7000-8000-00000000f00f';
    const count = 48;
    await sql`insert into groups (id, name, slug, sod_matrix) values (${big}, 'Big', 'big', '[]')`.execute(db);
    await sql`
      with added as (
        insert into audit_events (group_id, seq, id, occurred_at, actor_type, actor_name, action, target_type, changes)
        select ${big}, nextval('audit_event_seq'), md5('big' || i)::uuid, now(), 'system', repeat('n', i % 7),
               'application.task_approved', 'application',
               jsonb_build_object('blob', repeat(chr(97 + i % 26), (i * 104729) % 300000))
        from generate_series(1, ${count}) as i
        returning seq
      )
      insert into audit_pending (group_id, seq) select ${big}, seq from added
    `.execute(db);
    await sealPending(db, big, { wait: true });
    const check = () => pool.check({ kind: 'links', groupId: big, after: 0, through: count, previousHash: GENESIS });
    expect(await check()).toBe(true);
    expect(await verifyChain(db, big)).toEqual({ intact: true, checked: count, headSeq: count, firstProblem: null });
    // One byte in the middle of the largest event's changes, then in a small event after a large one.
    const { rows } = await sql<{ seq: number; len: number }>`
      select seq::integer, length(changes::text)::integer as len from audit_events where group_id = ${big}
      order by len desc limit 1`.execute(db);
    const largest = rows[0]!;
    expect(largest.len).toBeGreaterThan(200_000);
    for (const [seq, where] of [
      [largest.seq, 'largest'],
      [largest.seq + 1, 'after the largest'],
    ] as const) {
      await sql`update audit_events set changes = jsonb_set(changes, '{blob}', to_jsonb(overlay(changes->>'blob' placing 'Z' from (length(changes->>'blob') / 2 + 1)::integer for 1))) where group_id = ${big} and seq = ${seq}`.execute(
        db,
      );
      expect(await check(), where).toBe(false);
      const report = await verifyChain(db, big);
      expect(report.firstProblem?.kind, where).toBe('altered');
      expect(await verifyChain(sqlOnly, big)).toEqual(report);
      await sql`update audit_events set changes = jsonb_set(changes, '{blob}', to_jsonb(overlay(changes->>'blob' placing chr(97 + ((seq - (select min(seq) from audit_events where group_id = ${big}) + 1) % 26)::integer) from (length(changes->>'blob') / 2 + 1)::integer for 1))) where group_id = ${big} and seq = ${seq}`.execute(
        db,
      );
      expect(await check(), `${where}, put back`).toBe(true);
    }
  });

  const seqOf = async (place: number) =>
    Number(
      (
        await sql<{
          event_seq: number;
        }>`select event_seq from audit_links where group_id = ${GROUP} and seq = ${place}`.execute(db)
      ).rows[0]!.event_seq,
    );

  /** What is changed, how, and whether a range of links or tiles shows it (else a later check does). */
  const TAMPERING: Array<[string, () => Promise<unknown>, boolean?]> = [
    [
      'an actor name',
      async () =>
        sql`update audit_events set actor_name = actor_name || '.' where seq = ${await seqOf(120)}`.execute(db),
    ],
    ['a null made a text', async () => sql`update audit_events set ip = '' where seq = ${await seqOf(3)}`.execute(db)],
    [
      'the changes',
      async () =>
        sql`update audit_events set changes = changes || '{"level": 2}' where seq = ${await seqOf(400)}`.execute(db),
    ],
    [
      'the time by a microsecond',
      async () =>
        sql`update audit_events set occurred_at = occurred_at + interval '1 microsecond' where seq = ${await seqOf(250)}`.execute(
          db,
        ),
    ],
    [
      'the company',
      async () => sql`update audit_events set company_id = null where seq = ${await seqOf(22)}`.execute(db),
    ],
    ['an event deleted', async () => sql`delete from audit_events where seq = ${await seqOf(333)}`.execute(db)],
    ['a link deleted', async () => sql`delete from audit_links where group_id = ${GROUP} and seq = 318`.execute(db)],
    [
      'the last link deleted',
      async () => sql`delete from audit_links where group_id = ${GROUP} and seq = ${EVENTS}`.execute(db),
    ],
    [
      'a link that no longer follows',
      async () =>
        sql`update audit_links set prev_hash = ${'1'.repeat(64)} where group_id = ${GROUP} and seq = 101`.execute(db),
    ],
    [
      'the first link no longer following the genesis',
      async () =>
        sql`update audit_links set prev_hash = ${'1'.repeat(64)} where group_id = ${GROUP} and seq = 1`.execute(db),
    ],
    [
      'a prev_hash a character longer',
      async () =>
        sql`update audit_links set prev_hash = prev_hash || '0' where group_id = ${GROUP} and seq = 150`.execute(db),
    ],
    [
      'a link hash in capitals',
      async () => sql`update audit_links set hash = upper(hash) where group_id = ${GROUP} and seq = 77`.execute(db),
    ],
    [
      'two events swapped',
      async () => {
        const [a, b] = [await seqOf(200), await seqOf(201)];
        await sql`update audit_links set event_seq = -1 where group_id = ${GROUP} and seq = 200`.execute(db);
        await sql`update audit_links set event_seq = ${a} where group_id = ${GROUP} and seq = 201`.execute(db);
        await sql`update audit_links set event_seq = ${b} where group_id = ${GROUP} and seq = 200`.execute(db);
      },
    ],
    [
      'an event made version 3',
      async () =>
        sql`update audit_events set chain_version = 3, content_hash = encode(sha256(convert_to(sigil_audit_said(audit_events), 'UTF8')), 'hex') where seq = ${await seqOf(90)}`.execute(
          db,
        ),
      false,
    ],
    [
      'a leaf',
      async () =>
        sql`update audit_tree_tiles set hashes = overlay(hashes placing '\\x00'::bytea from 33 for 1) where group_id = ${GROUP} and tile_level = 0 and idx = 20`.execute(
          db,
        ),
    ],
    [
      'a leaf tile cut short',
      async () =>
        sql`update audit_tree_tiles set hashes = substring(hashes from 1 for 480) where group_id = ${GROUP} and tile_level = 0 and idx = 5`.execute(
          db,
        ),
    ],
    [
      'a node of tile level 1',
      async () =>
        sql`update audit_tree_tiles set hashes = overlay(hashes placing '\\x00'::bytea from 65 for 1) where group_id = ${GROUP} and tile_level = 1 and idx = 0`.execute(
          db,
        ),
    ],
    [
      'a parent tile gone',
      async () => sql`delete from audit_tree_tiles where group_id = ${GROUP} and tile_level = 2`.execute(db),
    ],
  ];

  it.each(TAMPERING)('finds %s, with the report the SQL checks give', async (_what, tamper, inRanges = true) => {
    await restore();
    try {
      await tamper();
      const answers = await compareRanges();
      if (inRanges) expect(answers).toContain(false);
      else expect(answers).not.toContain(false);
      const report = await verifyChain(db, GROUP);
      expect(report.intact).toBe(false);
      expect(await verifyChain(sqlOnly, GROUP)).toEqual(report);
    } finally {
      await restore();
    }
  });

  it("keeps one generic plan for an inclusion proof's statement instead of planning it at every proof", async () => {
    // Planning it took twice as long as running it; a row estimate that moved with the parameters
    // (a series bounded by one) made PostgreSQL plan every execution anew.
    await db.connection().execute(async (connection) => {
      for (let seq = 1; seq <= 12; seq++)
        await findInclusionStart(connection, GROUP, await seqOf(seq * 7), null, seq % 2 === 0 ? 1 : 16);
      const { rows } = await sql<{ generic_plans: number; custom_plans: number }>`
        select generic_plans::integer, custom_plans::integer from pg_prepared_statements
        where statement like '%generate_series(0, 15) as k%'`.execute(connection);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.generic_plans).toBeGreaterThan(0);
    });
  });

  it('a verification after the tampering is undone finds the log intact again', async () => {
    expect(await verifyChain(db, GROUP)).toEqual({
      intact: true,
      checked: EVENTS,
      headSeq: EVENTS,
      firstProblem: null,
    });
  });
});

describe.runIf(!onPostgres)('audit verification on PGlite', () => {
  it('has no workers: the SQL checks run in this process', async () => {
    const handle = await openTestDatabase();
    try {
      expect(chainVerifyPoolOf(handle.db)).toBeNull();
    } finally {
      await handle.close();
    }
  });
});
