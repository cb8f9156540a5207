// Seeding for the `audit` bench: one group with a log of N events, made by set-based SQL
// (`INSERT … SELECT` over generate_series, chain version 4 like every event the server writes
// now, marked pending) on a database that `sigil db migrate` made, then linked and put into the
// tree by the real sealer (`sigil_audit_seal`, 10,000 events per call, as `sigil audit verify`
// seals), then VACUUM ANALYZE. Every value is a function of the row number: the same size gives
// the same log.
import type pg from 'pg';

export const AUDIT_SEED_VERSION = 1;
export const BENCH_GROUP_ID = '0193a000-0000-7000-8000-0000000a0d17';
const CHUNK = 100_000;
const SEAL_BATCH = 10_000;

/** Creates the group and its log; returns how long the insert and the sealing took (s). */
export async function seedAuditLog(
  client: pg.Client,
  events: number,
  log: (message: string) => void,
): Promise<{ insertSeconds: number; sealSeconds: number }> {
  await client.query(
    `insert into groups (id, name, slug, sod_matrix) values ($1, 'Audit bench', 'audit-bench', '[]')`,
    [BENCH_GROUP_ID],
  );
  const started = performance.now();
  for (let from = 1; from <= events; from += CHUNK) {
    const to = Math.min(events, from + CHUNK - 1);
    // What a busy group's log holds: approvals, sign-ins and level completions, by 97 people
    // over 13 companies, a millisecond apart.
    await client.query(
      `with added as (
         insert into audit_events (group_id, seq, id, occurred_at, actor_type, actor_id, actor_name, ip, user_agent, request_id,
                                   action, target_type, target_id, company_id, changes)
         select $1, nextval('audit_event_seq'), md5('event' || i)::uuid,
                timestamptz '2026-01-01 00:00:00+00' + i * interval '1 millisecond',
                'user', md5('actor' || (i % 97))::uuid, '审批人 ' || (i % 97), '10.0.' || (i % 7) || '.' || (i % 250),
                'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15', 'req-' || i,
                case i % 3 when 0 then 'application.task_approved' when 1 then 'application.level_completed' else 'auth.signed_in' end,
                case i % 3 when 2 then 'session' else 'application' end,
                md5('target' || (i / 3))::uuid, md5('company' || (i % 13))::uuid,
                case i % 3
                  when 0 then jsonb_build_object('taskId', md5('task' || i)::uuid, 'level', 1 + i % 2, 'comment', case when i % 10 = 0 then '同意，请按规定用印' end, 'onBehalfOf', null)
                  when 1 then jsonb_build_object('level', 1 + i % 2)
                  else jsonb_build_object('sessionId', md5('session' || i)::uuid, 'secondFactor', i % 4 = 2)
                end
         from generate_series($2::bigint, $3::bigint) as i
         returning seq
       )
       insert into audit_pending (group_id, seq) select $1, seq from added`,
      [BENCH_GROUP_ID, from, to],
    );
    log(`  events: ${to.toLocaleString('en-US')} of ${events.toLocaleString('en-US')}`);
  }
  const inserted = performance.now();
  let linked = 0;
  for (;;) {
    const { rows } = await client.query<{ n: number }>('select sigil_audit_seal($1, $2, true) as n', [
      BENCH_GROUP_ID,
      SEAL_BATCH,
    ]);
    const n = Number(rows[0]!.n);
    linked += n;
    if (linked % CHUNK === 0 || n < SEAL_BATCH) log(`  sealed: ${linked.toLocaleString('en-US')}`);
    if (n < SEAL_BATCH) break;
  }
  const sealed = performance.now();
  await client.query('vacuum analyze audit_events');
  await client.query('vacuum analyze audit_links');
  await client.query('vacuum analyze audit_tree_tiles');
  return { insertSeconds: (inserted - started) / 1000, sealSeconds: (sealed - inserted) / 1000 };
}
