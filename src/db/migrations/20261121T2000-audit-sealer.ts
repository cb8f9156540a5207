import { sql, type Kysely } from 'kysely';
import { APPEND_V2 } from './20261121T1900-audit-append.js';

/**
 * The audit chain is linked by a sealer, off the path of the change (bench `approvals`: every
 * writer of a group queued on the group's chain head, held until its commit was on disk).
 *
 * A change now writes its events in its own transaction, as before, each with the hash of what it
 * says (`content_hash`, computed by the server) and a place in the group's log (`seq`, from one
 * sequence: increasing, with gaps), and marks them pending. The sealer (`sigil_audit_seal`, run by
 * every server a few times a second and by every verification) takes the group's committed
 * pending events in `seq` order and links each as the next place of the chain in
 * `audit_links`: `hash = sha256(prevHash ":" place ":" contentHash)`. Only the sealer locks the
 * head, and one seal links many events in one commit.
 *
 * Rows written before keep their chain (version 1 or 2, linked in the row); version 3 links
 * continue from the last of them. An event is unprotected from its commit until it is sealed
 * (a fraction of a second on a running server).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table audit_events drop constraint audit_events_chain_version_check;
    alter table audit_events add constraint audit_events_chain_version_check check (chain_version in (1, 2, 3));
    alter table audit_events alter column chain_version set default 3;
    alter table audit_events alter column prev_hash drop not null;
    alter table audit_events alter column hash drop not null;
    alter table audit_events add column content_hash text;
    alter table audit_events add constraint audit_events_chain_fields check (
      case when chain_version = 3 then content_hash is not null and prev_hash is null and hash is null
           else prev_hash is not null and hash is not null end);

    -- Every event's place in its group's log, above every place the old chains used.
    create sequence audit_event_seq;
    select setval('audit_event_seq', greatest((select max(seq) from audit_events), 0) + 1, false);

    create table audit_pending (
      group_id uuid not null,
      seq bigint not null,
      primary key (group_id, seq)
    );

    create table audit_links (
      group_id uuid not null references groups(id),
      seq bigint not null,
      event_seq bigint not null,
      prev_hash text not null,
      hash text not null,
      primary key (group_id, seq),
      unique (group_id, event_seq)
    );

    -- One statement for all of a change's events: numbered in the order given, and marked pending.
    ${APPEND_V3}

    -- Links up to p_limit committed pending events of the group; returns how many. Without
    -- p_wait it gives way to a sealer already at work on the group (and returns 0).
    ${SEAL_V3}
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Back to version 2 without losing an event: whatever is pending is sealed, and each linked
  // event takes its link into its row. A version 2 row's hash is sha256(prev:seq:contentHash) with
  // seq its place, the same as its version 3 link's, so the chain verifies as it did. (Through
  // negative numbers, so that no two rows share a place on the way.)
  await sql`
    select sigil_audit_seal(group_id, 2147483647, true) from (select distinct group_id from audit_pending) pending;
    update audit_events e set seq = -l.seq, prev_hash = l.prev_hash, hash = l.hash, chain_version = 2
      from audit_links l where e.chain_version = 3 and l.group_id = e.group_id and l.event_seq = e.seq;
    update audit_events set seq = -seq where seq < 0;
    do $$
    begin
      if exists (select 1 from audit_events where chain_version = 3) then
        raise exception 'audit events exist that no place of the chain holds (written around the server); run sigil audit verify, and keep this migration until they are dealt with';
      end if;
    end
    $$;
    drop function sigil_audit_seal(uuid, integer, boolean);
    drop table audit_links;
    drop table audit_pending;
    drop sequence audit_event_seq;
    alter table audit_events drop constraint audit_events_chain_fields;
    alter table audit_events drop column content_hash;
    alter table audit_events alter column hash set not null;
    alter table audit_events alter column prev_hash set not null;
    alter table audit_events alter column chain_version set default 2;
    alter table audit_events drop constraint audit_events_chain_version_check;
    alter table audit_events add constraint audit_events_chain_version_check check (chain_version in (1, 2));
    ${APPEND_V2}
  `.execute(db);
}

/** The version 3 append as this migration made it: one SQL statement, planned at every call (also restored by 20261121T2100's down). */
export const APPEND_V3 = sql.raw(`
    create or replace function sigil_audit_append(p_group uuid, p_events jsonb) returns bigint
    language sql
    as $fn$
      with added as (
        insert into audit_events (group_id, seq, id, occurred_at, actor_type, actor_id, actor_name, ip, user_agent, request_id,
                                  action, target_type, target_id, company_id, changes, content_hash, chain_version)
        select p_group, nextval('audit_event_seq'), e."id", e."occurredAt", e."actorType", e."actorId", e."actorName", e."ip",
               e."userAgent", e."requestId", e."action", e."targetType", e."targetId", e."companyId", e."changes", e."contentHash", 3
        from jsonb_to_recordset(p_events) as e("id" uuid, "occurredAt" timestamptz, "actorType" text, "actorId" uuid, "actorName" text,
                                               "ip" text, "userAgent" text, "requestId" text, "action" text, "targetType" text,
                                               "targetId" uuid, "companyId" uuid, "changes" jsonb, "contentHash" text)
        returning seq
      ), pending as (
        insert into audit_pending (group_id, seq) select p_group, seq from added returning seq
      )
      select max(seq) from pending;
    $fn$;
`);

/** The version 3 sealer as this migration made it: one insert per link (also restored by 20261121T2200's down, as a replacement). */
export const SEAL_V3 = sql.raw(`
    create or replace function sigil_audit_seal(p_group uuid, p_limit integer, p_wait boolean) returns integer
    language plpgsql
    as $fn$
    declare
      v_place bigint;
      v_hash text;
      v_next text;
      v_taken bigint[];
      v_linked integer := 0;
      r record;
    begin
      if p_wait then
        select seq, hash into v_place, v_hash from audit_heads where group_id = p_group for update;
      else
        select seq, hash into v_place, v_hash from audit_heads where group_id = p_group for update skip locked;
      end if;
      if not found then
        if exists (select 1 from audit_heads where group_id = p_group) then
          return 0;
        end if;
        -- The group's first seal: its head starts at the genesis hash.
        insert into audit_heads (group_id, seq, hash) values (p_group, 0, repeat('0', 64)) on conflict (group_id) do nothing;
        select seq, hash into v_place, v_hash from audit_heads where group_id = p_group for update;
      end if;
      with taken as (
        delete from audit_pending
        where group_id = p_group
          and seq in (select seq from audit_pending where group_id = p_group order by seq limit p_limit)
        returning seq
      )
      select array_agg(seq) into v_taken from taken;
      if v_taken is null then
        return 0;
      end if;
      for r in select seq, content_hash from audit_events where group_id = p_group and seq = any (v_taken) order by seq loop
        v_place := v_place + 1;
        v_next := encode(sha256(convert_to(v_hash || ':' || v_place::text || ':' || r.content_hash, 'UTF8')), 'hex');
        insert into audit_links (group_id, seq, event_seq, prev_hash, hash) values (p_group, v_place, r.seq, v_hash, v_next);
        v_hash := v_next;
        v_linked := v_linked + 1;
      end loop;
      update audit_heads set seq = v_place, hash = v_hash where group_id = p_group;
      return v_linked;
    end
    $fn$;
`);
