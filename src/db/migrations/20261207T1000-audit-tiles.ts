import { sql, type Kysely } from 'kysely';
import { SEAL_V4, TREE_BUILD, TREE_GROW } from './20261206T1000-audit-merkle.js';

/**
 * The audit tree kept in tiles, as transparency logs keep theirs (C2SP tlog-tiles, with tiles of
 * height 4): tile (k, n) holds the hashes of the nodes of tree level 4k with indexes 16n … 16n + 15
 * that exist, 32 bytes each, in order; the three levels between are computed from it. A node per
 * row (`audit_tree_nodes`) wrote two index entries per event, scattered every level over the
 * whole table, so that checking one level read the pages of all of them: a full verification of a
 * million events read the table eight times. Tiles are a thirtieth of the rows, one level at a
 * time, and a proof reads one tile per four levels.
 *
 * The sealer keeps the right edge of the tree (one perfect subtree per set bit of the size, the
 * highest first) in the group's head, where it grows the tree from; the tree is built again from
 * the chain when the group has no tile. Nothing else changes: leaves and nodes are hashed as
 * before (RFC 9162 §2.1), so every root, proof and checkpoint stays the same.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table audit_tree_tiles (
      group_id uuid not null,
      tile_level smallint not null,
      idx bigint not null,
      hashes bytea not null check (length(hashes) between 32 and 512 and length(hashes) % 32 = 0),
      primary key (group_id, tile_level, idx)
    );
    -- At most 512 bytes of random data: kept in the row, never compressed.
    alter table audit_tree_tiles alter column hashes set storage plain;
    alter table audit_heads add column tree_edge bytea;

    drop function sigil_audit_tree_build(uuid, bigint);
    drop function sigil_audit_tree_grow(uuid, bigint, text[]);
    ${TILE_GROW}
    ${TILE_BUILD}
    ${SEAL_TILES}
    ${TILE_ROOT}
  `.execute(db);
  await sql`update audit_heads set tree_edge = sigil_audit_tree_build(group_id, seq)`.execute(db);
  await sql`drop table audit_tree_nodes`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table audit_tree_nodes (
      group_id uuid not null,
      level smallint not null,
      idx bigint not null,
      hash bytea not null,
      primary key (group_id, level, idx)
    );
    drop function sigil_audit_tile_root(bytea);
    drop function sigil_audit_tree_build(uuid, bigint);
    drop function sigil_audit_tree_grow(uuid, bigint, bytea, text[]);
    ${TREE_GROW}
    ${TREE_BUILD}
    ${SEAL_V4}
  `.execute(db);
  await sql`select sigil_audit_tree_build(group_id, seq) from audit_heads`.execute(db);
  await sql`
    drop table audit_tree_tiles;
    alter table audit_heads drop column tree_edge;
  `.execute(db);
}

/**
 * Adds leaves to a group's tree of `p_size` leaves whose right edge is `p_edge`: the chain hashes
 * (hex) of the next places, in order. Each leaf closes the perfect subtrees it completes; those of
 * a level 4k go to their tile, appended where the tile ends. Returns the new edge. An edge or a
 * tile that does not fit the size stops the seal (the events stay pending) instead of growing a
 * tree that no checkpoint could match.
 */
const TILE_GROW = sql.raw(`
    create function sigil_audit_tree_grow(p_group uuid, p_size bigint, p_edge bytea, p_hashes text[]) returns bytea
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
      v_at integer := 0;
      v_edge bytea := ''::bytea;
      r record;
    begin
      if coalesce(length(p_edge), 0) <> 32 * length(replace(p_size::bit(64)::text, '0', '')) then
        raise exception 'sigil: the edge of the audit tree of group % does not fit its % leaves; run sigil audit verify', p_group, p_size;
      end if;
      for l in reverse 62..0 loop
        if (p_size >> l) & 1 = 1 then
          v_frontier[l + 1] := substring(p_edge from v_at * 32 + 1 for 32);
          v_at := v_at + 1;
        end if;
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
          v_cur := sha256('\\x01'::bytea || v_frontier[v_level + 1] || v_cur);
          v_level := v_level + 1;
          v_idx := v_idx >> 1;
          if v_level % 4 = 0 then
            v_count := v_count + 1;
            v_levels[v_count] := v_level;
            v_idxs[v_count] := v_idx;
            v_nodes[v_count] := v_cur;
          end if;
        end loop;
        v_frontier[v_level + 1] := v_cur;
        v_n := v_n + 1;
      end loop;
      for r in
        select t.level / 4 as tile_level, t.idx / 16 as idx, (min(t.idx) % 16)::integer as at,
               string_agg(t.hash, ''::bytea order by t.idx) as hashes
        from unnest(v_levels, v_idxs, v_nodes) as t(level, idx, hash)
        group by t.level / 4, t.idx / 16
      loop
        if r.at = 0 then
          insert into audit_tree_tiles (group_id, tile_level, idx, hashes) values (p_group, r.tile_level, r.idx, r.hashes);
        else
          update audit_tree_tiles set hashes = hashes || r.hashes
          where group_id = p_group and tile_level = r.tile_level and idx = r.idx and length(hashes) = 32 * r.at;
          if not found then
            raise exception 'sigil: tile (%, %) of the audit tree of group % does not end where it should; run sigil audit verify', r.tile_level, r.idx, p_group;
          end if;
        end if;
      end loop;
      for l in reverse 62..0 loop
        if (v_n >> l) & 1 = 1 then
          v_edge := v_edge || v_frontier[l + 1];
        end if;
      end loop;
      return v_edge;
    end
    $fn$;
`);

/**
 * The tree of a chain without one (this migration, rows of an older release restored, or a tree
 * someone deleted), a page of places at a time; returns its edge. A place that a tampered chain
 * lacks gets a zero hash, so the tree keeps the head's size; verification reports the gap.
 */
const TILE_BUILD = sql.raw(`
    create function sigil_audit_tree_build(p_group uuid, p_head bigint) returns bytea
    language plpgsql
    as $fn$
    declare
      v_size bigint := 0;
      v_edge bytea := ''::bytea;
      v_hashes text[];
    begin
      delete from audit_tree_tiles where group_id = p_group;
      while v_size < p_head loop
        select array_agg(coalesce(e.hash, l.hash, repeat('0', 64)) order by p.place) into v_hashes
        from generate_series(v_size + 1, least(v_size + 10000, p_head)) as p(place)
        left join audit_events e on e.group_id = p_group and e.seq = p.place and e.chain_version < 3
        left join audit_links l on l.group_id = p_group and l.seq = p.place;
        v_edge := sigil_audit_tree_grow(p_group, v_size, v_edge, v_hashes);
        v_size := v_size + array_length(v_hashes, 1);
      end loop;
      return v_edge;
    end
    $fn$;
`);

/** The sealer as before, growing the tiles from the edge kept in the head. */
export const SEAL_TILES = sql.raw(`
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

/** The hash of a full tile's 16 nodes (the node four levels up), in one expression the planner inlines. */
function tileRootExpression(): string {
  const leaf = (i: number) => `substring(t from ${i * 32 + 1} for 32)`;
  const node = (from: number, count: number): string =>
    count === 1
      ? leaf(from)
      : `sha256('\\x01'::bytea || ${node(from, count / 2)} || ${node(from + count / 2, count / 2)})`;
  return node(0, 16);
}

const TILE_ROOT = sql.raw(`
    create function sigil_audit_tile_root(t bytea) returns bytea
    language sql immutable parallel safe
    as $fn$ select ${tileRootExpression()} $fn$;
`);
