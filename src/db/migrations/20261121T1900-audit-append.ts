import { sql, type Kysely } from 'kysely';

/**
 * The audit append in one statement, and optimistic decisions (bench `approvals`: the group's
 * chain head was the queue).
 *
 * Every writer of a group locks the group's chain head until it commits. Appending took two
 * round trips under that lock (lock and read the head; insert the events and move the head),
 * and on a busy server each reply waited for the event loop before the next statement went out.
 * `sigil_audit_append` locks the head, links the events and moves the head in one call, so the
 * lock is held for that call and the commit only.
 *
 * Linking in the database needs a hash the database can compute: chain version 2. The server
 * hashes what an event says (every field but its place in the chain: `contentHash`), and the
 * chain links `hash = sha256(prevHash ":" seq ":" contentHash)`. Version 1 rows (hash over the
 * whole row, place included, computed by the server) keep their version and are verified as
 * they were written; a row claiming the other version fails its hash like any altered row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table audit_events add column chain_version smallint not null default 1 check (chain_version in (1, 2));
    alter table audit_events alter column chain_version set default 2;

    -- p_events: [{id, occurredAt, actorType, actorId, actorName, ip, userAgent, requestId,
    --             action, targetType, targetId, companyId, changes, contentHash}, …] in order.
    ${APPEND_V2}

    -- Approvals decide optimistically: a decision is written in one statement that names the
    -- version of the application it read, and fails whole (serialization_failure, retried by the
    -- server) when a concurrent decision, transfer or withdrawal moved it.
    alter table applications add column version integer not null default 0;
    create function sigil_conflict() returns jsonb
    language plpgsql
    as $fn$
    begin
      raise exception using errcode = '40001', message = 'sigil: the application changed while this decision was made';
    end
    $fn$;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop function sigil_conflict();
    alter table applications drop column version;
    drop function sigil_audit_append(uuid, jsonb);
    alter table audit_events drop column chain_version;
  `.execute(db);
}

/** The version 2 append: links each event in the row, under the group's head lock (also restored by 20261121T2000's down). */
export const APPEND_V2 = sql.raw(`
    create or replace function sigil_audit_append(p_group uuid, p_events jsonb) returns bigint
    language plpgsql
    as $fn$
    declare
      v_seq bigint;
      v_hash text;
      v_next text;
      e jsonb;
    begin
      select seq, hash into v_seq, v_hash from audit_heads where group_id = p_group for update;
      if not found then
        -- The group's first event: its head starts at the genesis hash.
        insert into audit_heads (group_id, seq, hash) values (p_group, 0, repeat('0', 64)) on conflict (group_id) do nothing;
        select seq, hash into v_seq, v_hash from audit_heads where group_id = p_group for update;
      end if;
      for e in select value from jsonb_array_elements(p_events) loop
        v_seq := v_seq + 1;
        v_next := encode(sha256(convert_to(v_hash || ':' || v_seq::text || ':' || (e->>'contentHash'), 'UTF8')), 'hex');
        insert into audit_events (group_id, seq, id, occurred_at, actor_type, actor_id, actor_name, ip, user_agent, request_id,
                                  action, target_type, target_id, company_id, changes, prev_hash, hash, chain_version)
        values (p_group, v_seq, (e->>'id')::uuid, (e->>'occurredAt')::timestamptz, e->>'actorType', (e->>'actorId')::uuid,
                e->>'actorName', e->>'ip', e->>'userAgent', e->>'requestId', e->>'action', e->>'targetType',
                (e->>'targetId')::uuid, (e->>'companyId')::uuid, e->'changes', v_hash, v_next, 2);
        v_hash := v_next;
      end loop;
      update audit_heads set seq = v_seq, hash = v_hash where group_id = p_group;
      return v_seq;
    end
    $fn$;
`);
