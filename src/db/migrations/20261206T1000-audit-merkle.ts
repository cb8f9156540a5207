import { sql, type Kysely } from 'kysely';
import { APPEND_CACHED } from './20261121T2100-audit-append-cached.js';
import { SEAL_SET } from './20261121T2200-audit-seal-set.js';

/**
 * The audit log as a Merkle tree (RFC 9162 §2.1) with signed checkpoints, so that a log cut short
 * is detected: until now nothing outside the database remembered how long it was.
 *
 * Leaves are the places of a group's chain, in order: leaf i (from 0) is place i + 1, its data the
 * 32 bytes of that place's chain hash, `leaf = SHA-256(0x00 || data)`, `node = SHA-256(0x01 || l
 * || r)`. The sealer adds the leaves of what it links, in the same transaction, and keeps every
 * perfect subtree (`audit_tree_nodes`: level 0 the leaves, node (level, idx) covering leaves
 * idx·2^level … (idx+1)·2^level − 1), so a proof reads O(log n) rows. Writers are untouched: they
 * still only append, without a lock. Existing chains get their tree here.
 *
 * Chain version 4: the sealer hashes what an event says, as the database renders it
 * (`sigil_audit_said`: a JSON array of the row's fields in a fixed order, the time in UTC), and
 * no longer the server's canonical JSON. The writer does less (no hashing), the database can
 * verify a million events without sending them anywhere, and an export carries the exact bytes
 * that were hashed, so an offline check never renders anything. An event was as unprotected
 * between its commit and its seal before (its `content_hash` was a column like any other).
 *
 * Checkpoints (signed tree heads) are kept in `audit_checkpoints`, signed by the deployment's log
 * key (`audit_log_keys`: sealed under the master key or in the PKCS#11 token, like the CA keys);
 * every server also appends them to a file of its data directory.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table audit_events drop constraint audit_events_chain_version_check;
    alter table audit_events add constraint audit_events_chain_version_check check (chain_version in (1, 2, 3, 4));
    alter table audit_events alter column chain_version set default 4;
    alter table audit_events drop constraint audit_events_chain_fields;
    alter table audit_events add constraint audit_events_chain_fields check (
      case when chain_version = 3 then content_hash is not null and prev_hash is null and hash is null
           when chain_version = 4 then prev_hash is null and hash is null
           else prev_hash is not null and hash is not null end);

    -- What a version 4 event says, as the sealer hashes it and an export carries it. JSON encodes a
    -- timestamp without time zone in ISO 8601 whatever DateStyle and TimeZone say; jsonb renders
    -- the changes in its one normal form. The order of the fields is part of the format.
    create function sigil_audit_said(e audit_events) returns text
    language sql stable
    as $fn$
      select json_build_array(e.group_id, e.id, e.occurred_at at time zone 'UTC', e.actor_type, e.actor_id, e.actor_name,
                              e.ip, e.user_agent, e.request_id, e.action, e.target_type, e.target_id, e.company_id,
                              e.changes)::text
    $fn$;

    create table audit_tree_nodes (
      group_id uuid not null,
      level smallint not null,
      idx bigint not null,
      hash bytea not null,
      primary key (group_id, level, idx)
    );

    ${TREE_GROW}
    ${TREE_BUILD}
    ${APPEND_V4}
    ${SEAL_V4}

    -- Kept by a down migration when they hold anything (a private key cannot be made again).
    create table if not exists audit_log_keys (
      id uuid primary key,
      key_id text not null unique,
      algorithm text not null,
      public_key bytea not null,
      key_store text not null check (key_store in ('database', 'pkcs11')),
      sealed_key text,
      token_label text,
      token_key_id text,
      created_at timestamptz not null default now(),
      retired_at timestamptz
    );
    -- One key signs at a time (a deployment's log key; retiring one for the next is left to later).
    create unique index if not exists audit_log_keys_active on audit_log_keys ((true)) where retired_at is null;

    -- No foreign key to groups, like audit_pending: a kept table must not stop earlier migrations going down.
    create table if not exists audit_checkpoints (
      group_id uuid not null,
      tree_size bigint not null check (tree_size > 0),
      root_hash bytea not null,
      signed_at timestamptz not null,
      key_id text not null references audit_log_keys(key_id),
      signature bytea not null,
      primary key (group_id, tree_size)
    );
  `.execute(db);

  // Events a down migration turned into version 3 (their content hash is the hash of what they
  // say as the database renders it, which no version 3 hash can be) are version 4 again.
  await sql`
    update audit_events e set chain_version = 4, content_hash = null
    where chain_version = 3 and content_hash = encode(sha256(convert_to(sigil_audit_said(e), 'UTF8')), 'hex')
  `.execute(db);
  // The tree of every chain written so far.
  await sql`select sigil_audit_tree_build(group_id, seq) from audit_heads`.execute(db);
}

/**
 * Back to version 3 without losing an event or a link: a version 4 event keeps the content hash
 * its link was made with, as a version 3 event does, so the chain links as before (the release
 * before this one cannot recompute that hash and reports such events as altered; going up again
 * makes them version 4). The tree is dropped (it is made again from the chain). The log key and
 * its checkpoints stay when there are any: the key cannot be made again, nor what it signed.
 */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    update audit_events e set chain_version = 3, content_hash = encode(sha256(convert_to(sigil_audit_said(e), 'UTF8')), 'hex')
    where chain_version = 4;
    do $$
    begin
      if not exists (select 1 from audit_log_keys) then
        drop table audit_checkpoints;
        drop table audit_log_keys;
      end if;
    end
    $$;
    ${SEAL_SET}
    ${APPEND_CACHED}
    drop function sigil_audit_tree_build(uuid, bigint);
    drop function sigil_audit_tree_grow(uuid, bigint, text[]);
    drop table audit_tree_nodes;
    drop function sigil_audit_said(audit_events);
    alter table audit_events drop constraint audit_events_chain_fields;
    alter table audit_events add constraint audit_events_chain_fields check (
      case when chain_version = 3 then content_hash is not null and prev_hash is null and hash is null
           else prev_hash is not null and hash is not null end);
    alter table audit_events alter column chain_version set default 3;
    alter table audit_events drop constraint audit_events_chain_version_check;
    alter table audit_events add constraint audit_events_chain_version_check check (chain_version in (1, 2, 3));
  `.execute(db);
}

/**
 * Adds leaves to a group's tree of `p_size` leaves: the chain hashes (hex) of the next places, in
 * order. Each leaf closes the perfect subtrees it completes; their left halves are the "frontier",
 * one node per set bit of the size. A frontier node that is gone stops the seal (the events stay
 * pending) instead of growing a tree that no checkpoint could match.
 */
export const TREE_GROW = sql.raw(`
    create function sigil_audit_tree_grow(p_group uuid, p_size bigint, p_hashes text[]) returns void
    language plpgsql
    as $fn$
    declare
      v_frontier bytea[];
      v_levels smallint[] := '{}';
      v_idxs bigint[] := '{}';
      v_nodes bytea[] := '{}';
      v_n bigint := p_size;
      v_count integer := 0;
      v_cur bytea;
      v_level integer;
      v_idx bigint;
      v_hash text;
      r record;
    begin
      for r in
        select t.level, t.hash from audit_tree_nodes t
        where t.group_id = p_group
          and (t.level, t.idx) in (select l::smallint, (p_size >> l) - 1 from generate_series(0, 62) as l where (p_size >> l) & 1 = 1)
      loop
        v_frontier[r.level + 1] := r.hash;
      end loop;
      foreach v_hash in array p_hashes loop
        v_cur := sha256('\\x00'::bytea || decode(v_hash, 'hex'));
        v_level := 0;
        v_idx := v_n;
        v_count := v_count + 1;
        v_levels[v_count] := 0;
        v_idxs[v_count] := v_idx;
        v_nodes[v_count] := v_cur;
        while v_idx & 1 = 1 loop
          if v_frontier[v_level + 1] is null then
            raise exception 'sigil: node (%, %) of the audit tree of group % is missing; run sigil audit verify', v_level, v_idx - 1, p_group;
          end if;
          v_cur := sha256('\\x01'::bytea || v_frontier[v_level + 1] || v_cur);
          v_level := v_level + 1;
          v_idx := v_idx >> 1;
          v_count := v_count + 1;
          v_levels[v_count] := v_level;
          v_idxs[v_count] := v_idx;
          v_nodes[v_count] := v_cur;
        end loop;
        v_frontier[v_level + 1] := v_cur;
        v_n := v_n + 1;
      end loop;
      insert into audit_tree_nodes (group_id, level, idx, hash)
        select p_group, t.level, t.idx, t.hash from unnest(v_levels, v_idxs, v_nodes) as t(level, idx, hash);
    end
    $fn$;
`);

/**
 * The tree of a chain written before it had one (this migration, or rows of an older release
 * restored later), a page of places at a time. A place that a tampered chain lacks gets a zero
 * hash, so the tree keeps the head's size; verification reports the gap.
 */
export const TREE_BUILD = sql.raw(`
    create function sigil_audit_tree_build(p_group uuid, p_head bigint) returns void
    language plpgsql
    as $fn$
    declare
      v_size bigint := 0;
      v_hashes text[];
    begin
      while v_size < p_head loop
        select array_agg(coalesce(e.hash, l.hash, repeat('0', 64)) order by p.place) into v_hashes
        from generate_series(v_size + 1, least(v_size + 10000, p_head)) as p(place)
        left join audit_events e on e.group_id = p_group and e.seq = p.place and e.chain_version < 3
        left join audit_links l on l.group_id = p_group and l.seq = p.place;
        perform sigil_audit_tree_grow(p_group, v_size, v_hashes);
        v_size := v_size + array_length(v_hashes, 1);
      end loop;
    end
    $fn$;
`);

/** Version 4 append: as before, without a content hash (the sealer computes it); a `contentHash` that an older server still sends is ignored. */
const APPEND_V4 = sql.raw(`
    create or replace function sigil_audit_append(p_group uuid, p_events jsonb) returns bigint
    language plpgsql
    as $fn$
    declare
      v_seq bigint;
    begin
      with added as (
        insert into audit_events (group_id, seq, id, occurred_at, actor_type, actor_id, actor_name, ip, user_agent, request_id,
                                  action, target_type, target_id, company_id, changes, chain_version)
        select p_group, nextval('audit_event_seq'), e."id", e."occurredAt", e."actorType", e."actorId", e."actorName", e."ip",
               e."userAgent", e."requestId", e."action", e."targetType", e."targetId", e."companyId", e."changes", 4
        from jsonb_to_recordset(p_events) as e("id" uuid, "occurredAt" timestamptz, "actorType" text, "actorId" uuid, "actorName" text,
                                               "ip" text, "userAgent" text, "requestId" text, "action" text, "targetType" text,
                                               "targetId" uuid, "companyId" uuid, "changes" jsonb)
        returning seq
      ), pending as (
        insert into audit_pending (group_id, seq) select p_group, seq from added returning seq
      )
      select max(seq) into v_seq from pending;
      return v_seq;
    end
    $fn$;
`);

/**
 * The sealer links as before and grows the tree in the same transaction. A version 3 event is
 * linked by the content hash the server stored; a version 4 one by the hash of what it says.
 */
export const SEAL_V4 = sql.raw(`
    create or replace function sigil_audit_seal(p_group uuid, p_limit integer, p_wait boolean) returns integer
    language plpgsql
    as $fn$
    declare
      v_place bigint;
      v_hash text;
      v_taken bigint[];
      v_places bigint[] := '{}';
      v_events bigint[] := '{}';
      v_prevs text[] := '{}';
      v_hashes text[] := '{}';
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
      for r in
        select e.seq,
               case when e.chain_version = 3 then e.content_hash
                    else encode(sha256(convert_to(sigil_audit_said(e), 'UTF8')), 'hex') end as content
        from audit_events e where e.group_id = p_group and e.seq = any (v_taken) order by e.seq
      loop
        v_linked := v_linked + 1;
        v_places[v_linked] := v_place + v_linked;
        v_events[v_linked] := r.seq;
        v_prevs[v_linked] := v_hash;
        v_hash := encode(sha256(convert_to(v_hash || ':' || (v_place + v_linked)::text || ':' || r.content, 'UTF8')), 'hex');
        v_hashes[v_linked] := v_hash;
      end loop;
      if v_linked = 0 then
        return 0;
      end if;
      -- A chain older than its tree (rows of an older release, restored) gets its tree first.
      if v_place > 0 and not exists (select 1 from audit_tree_nodes where group_id = p_group) then
        perform sigil_audit_tree_build(p_group, v_place);
      end if;
      insert into audit_links (group_id, seq, event_seq, prev_hash, hash)
        select p_group, l.place, l.event_seq, l.prev_hash, l.hash
        from unnest(v_places, v_events, v_prevs, v_hashes) as l(place, event_seq, prev_hash, hash);
      perform sigil_audit_tree_grow(p_group, v_place, v_hashes);
      update audit_heads set seq = v_place + v_linked, hash = v_hash where group_id = p_group;
      return v_linked;
    end
    $fn$;
`);
