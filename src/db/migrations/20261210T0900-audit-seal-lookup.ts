import { sql, type Kysely } from 'kysely';
import { SEAL_TILES } from './20261207T1000-audit-tiles.js';

/**
 * The sealer read the events it links with `seq = any(taken)` and `order by seq`. PL/pgSQL keeps a
 * statement's plan for the session, and on a log still small (a new group, a new database) the
 * planner chose to walk the group's whole primary key in order and test every event against the
 * array: kept, that plan read the whole log at every round, comparing each event with every taken
 * number (bench `audit`, fresh database: a quarter of the machine's CPU in `int8eq` during the
 * appends). Each event is now looked up by its key, a plan no size of table makes worse, in the
 * order of the taken numbers. What is linked, and how, is unchanged.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`${SEAL_LOOKUP}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`${SEAL_TILES}`.execute(db);
}

const SEAL_LOOKUP = sql.raw(`
    create or replace function sigil_audit_seal(p_group uuid, p_limit integer, p_wait boolean) returns integer
    language plpgsql
    as $fn$
    declare
      v_place bigint;
      v_hash text;
      v_edge bytea;
      v_taken bigint[];
      v_places bigint[] := '{}';
      v_events bigint[] := '{}';
      v_prevs text[] := '{}';
      v_hashes text[] := '{}';
      v_linked integer := 0;
      r record;
    begin
      if p_wait then
        select seq, hash, tree_edge into v_place, v_hash, v_edge from audit_heads where group_id = p_group for update;
      else
        select seq, hash, tree_edge into v_place, v_hash, v_edge from audit_heads where group_id = p_group for update skip locked;
      end if;
      if not found then
        if exists (select 1 from audit_heads where group_id = p_group) then
          return 0;
        end if;
        -- The group's first seal: its head starts at the genesis hash.
        insert into audit_heads (group_id, seq, hash) values (p_group, 0, repeat('0', 64)) on conflict (group_id) do nothing;
        select seq, hash, tree_edge into v_place, v_hash, v_edge from audit_heads where group_id = p_group for update;
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
      -- One lookup by key per taken number (a pending number whose event is gone is skipped, as before).
      for r in
        select t.seq, c.content
        from unnest(v_taken) as t(seq),
             lateral (select case when e.chain_version = 3 then e.content_hash
                                  else encode(sha256(convert_to(sigil_audit_said(e), 'UTF8')), 'hex') end as content
                      from audit_events e where e.group_id = p_group and e.seq = t.seq
                      offset 0) as c
        order by t.seq
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
      -- A chain without its tree (rows of an older release, restored) gets its tree first.
      if v_place > 0 and not exists (select 1 from audit_tree_tiles where group_id = p_group) then
        v_edge := sigil_audit_tree_build(p_group, v_place);
      end if;
      insert into audit_links (group_id, seq, event_seq, prev_hash, hash)
        select p_group, l.place, l.event_seq, l.prev_hash, l.hash
        from unnest(v_places, v_events, v_prevs, v_hashes) as l(place, event_seq, prev_hash, hash);
      v_edge := sigil_audit_tree_grow(p_group, v_place, v_edge, v_hashes);
      update audit_heads set seq = v_place + v_linked, hash = v_hash, tree_edge = v_edge where group_id = p_group;
      return v_linked;
    end
    $fn$;
`);
