import { sql } from 'kysely';
import type { Db, Transaction } from '../../db/schema.js';
import { type KeyReference } from '../../signing/index.js';
import { nodeFromTiles, nodeKey, tileKey, tilesOf, type NodeRef, type TileRef } from './merkle.js';

// pg answers bytea as Buffer, PGlite as Uint8Array.
const bytes = (value: Uint8Array) => Buffer.from(value.buffer, value.byteOffset, value.byteLength);

// ---------------------------------------------------------------- the tree

/** The stored tiles asked for, by `tileKey`; a tile that is not stored is absent. */
export async function findTiles(db: Db | Transaction, groupId: string, refs: TileRef[]): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  if (refs.length === 0) return found;
  const { rows } = await sql<{ tile_level: number; idx: number; hashes: Uint8Array }>`
    select t.tile_level, t.idx, t.hashes from audit_tree_tiles t
    where t.group_id = ${groupId}
      and (t.tile_level, t.idx) in (select * from unnest(${refs.map((r) => r.tileLevel)}::smallint[], ${refs.map((r) => r.idx)}::bigint[]))
  `.execute(db);
  for (const row of rows)
    found.set(tileKey({ tileLevel: Number(row.tile_level), idx: Number(row.idx) }), bytes(row.hashes));
  return found;
}

/** Every tile of tile level 1 and above, when they hold at most `maxBytes`; else null. */
export async function findUpperTiles(db: Db, groupId: string, maxBytes: number): Promise<Map<string, Buffer> | null> {
  const { rows: size } = await sql<{ bytes: number | null }>`
    select sum(length(hashes))::bigint as bytes from audit_tree_tiles where group_id = ${groupId} and tile_level >= 1
  `.execute(db);
  if (Number(size[0]?.bytes ?? 0) > maxBytes) return null;
  const { rows } = await sql<{ tiles: string | null }>`
    select string_agg(t.tile_level || ':' || t.idx || ':' || encode(t.hashes, 'hex'), ',') as tiles
    from audit_tree_tiles t where t.group_id = ${groupId} and t.tile_level >= 1
  `.execute(db);
  const found = new Map<string, Buffer>();
  // One text, not rows of bytea: as findInclusionStart reads them.
  for (const text of rows[0]?.tiles?.split(',') ?? []) {
    const [tileLevel, idx, hashes] = text.split(':');
    found.set(tileKey({ tileLevel: Number(tileLevel), idx: Number(idx) }), Buffer.from(hashes!, 'hex'));
  }
  return found;
}

/** The perfect subtrees asked for, by `nodeKey`, from the tiles that hold them; a node the tree lacks is absent. */
export async function findTreeNodes(
  db: Db | Transaction,
  groupId: string,
  refs: NodeRef[],
): Promise<Map<string, Buffer>> {
  const tiles = await findTiles(db, groupId, tilesOf(refs));
  const found = new Map<string, Buffer>();
  for (const ref of refs) {
    const hash = nodeFromTiles(ref, tiles);
    if (hash) found.set(nodeKey(ref), hash);
  }
  return found;
}

/** The group's chain head (its size) under lock: the sealer waits, so the tree holds still while a checkpoint is signed. */
export async function lockHead(trx: Transaction, groupId: string): Promise<{ size: number; hash: string } | undefined> {
  const row = await trx
    .selectFrom('audit_heads')
    .select(['seq', 'hash'])
    .where('group_id', '=', groupId)
    .forUpdate()
    .executeTakeFirst();
  return row ? { size: row.seq, hash: row.hash } : undefined;
}

/** Where an event sits in the group's chain (version 3 and 4 events), with what the proof of its place needs. */
export interface EventPlace {
  place: number;
  eventSeq: number;
  eventId: string;
  companyId: string | null;
  chainVersion: number;
  prevHash: string;
  linkHash: string;
  /** What the event says, as its content hash was computed (version 4: `sigil_audit_said`). Null for version 3. */
  said: string | null;
  /** Version 3: the content hash the server stored. */
  contentHash: string | null;
}

/**
 * In one statement, what an inclusion proof starts from: the group's newest checkpoint, the one
 * of `treeSize` (the newest when null), where event `eventSeq` sits in the chain, and the tiles
 * its proof is likely to need: per tile level up to `tileLevels - 1`, the one holding the leaf's
 * ancestors and the last two (where the right edge of the tree lies). The series of tile levels
 * is a constant, the bound a filter: the rows PostgreSQL expects do not depend on the parameters,
 * so after a few executions the prepared statement keeps one generic plan instead of being
 * planned again each time (planning took 0.3–0.5 ms, twice the execution).
 */
export async function findInclusionStart(
  db: Db,
  groupId: string,
  eventSeq: number,
  treeSize: number | null,
  tileLevels = 16,
): Promise<{
  latest: StoredCheckpoint | undefined;
  atSize: StoredCheckpoint | undefined;
  place: EventPlace | undefined;
  tiles: Map<string, Buffer>;
}> {
  const { rows } = await sql<{
    latest: CheckpointRow | null;
    at_size: CheckpointRow | null;
    tiles: string | null;
    place: number | null;
    event_seq: number;
    id: string;
    company_id: string | null;
    chain_version: number;
    prev_hash: string;
    hash: string;
    said: string | null;
    content_hash: string | null;
  }>`
    with latest as (
      select * from audit_checkpoints where group_id = ${groupId} order by tree_size desc limit 1
    )
    select (select to_jsonb(c) from latest c) as latest,
           -- Without a size asked for, the newest is the one: not rendered and read twice.
           (select to_jsonb(c) from audit_checkpoints c
             where ${treeSize}::bigint is not null and c.group_id = ${groupId} and c.tree_size = ${treeSize}::bigint) as at_size,
           l.seq as place, l.event_seq, e.id, e.company_id, e.chain_version, l.prev_hash, l.hash, e.content_hash,
           case when e.chain_version = 4 then sigil_audit_said(e) end as said,
           (select string_agg(t.tile_level || ':' || t.idx || ':' || encode(t.hashes, 'hex'), ',')
            from audit_tree_tiles t
            where t.group_id = ${groupId}
              and (t.tile_level, t.idx) in (
                select k, x
                from (select coalesce(${treeSize}::bigint, (select tree_size from latest)) as n) as size,
                     generate_series(0, 15) as k,
                     lateral (values ((l.seq - 1) >> (4 * k + 4)), (((size.n >> (4 * k)) - 1) >> 4),
                                     ((((size.n >> (4 * k)) - 1) >> 4) - 1)) as v(x)
                where (size.n >> (4 * k)) > 0 and x >= 0 and k < ${tileLevels}::integer)) as tiles
    from (select 1) as one
    left join audit_events e on e.group_id = ${groupId} and e.seq = ${eventSeq}
    left join audit_links l on l.group_id = ${groupId} and l.event_seq = e.seq
  `.execute(db);
  const row = rows[0]!;
  const checkpoint = (json: CheckpointRow | null) =>
    json
      ? toCheckpoint({
          ...json,
          // to_jsonb renders bytea as "\x…" text and timestamps as text.
          root_hash: Buffer.from(String(json.root_hash).slice(2), 'hex'),
          signature: Buffer.from(String(json.signature).slice(2), 'hex'),
          signed_at: new Date(json.signed_at),
        })
      : undefined;
  const tiles = new Map<string, Buffer>();
  // One text, not an array: pg parses an array of long strings a character at a time in JavaScript.
  for (const text of row.tiles?.split(',') ?? []) {
    const [tileLevel, idx, hashes] = text.split(':');
    tiles.set(tileKey({ tileLevel: Number(tileLevel), idx: Number(idx) }), Buffer.from(hashes!, 'hex'));
  }
  const latest = checkpoint(row.latest);
  return {
    tiles,
    latest,
    atSize: treeSize === null ? latest : checkpoint(row.at_size),
    place:
      row.place === null
        ? undefined
        : {
            place: Number(row.place),
            eventSeq: Number(row.event_seq),
            eventId: row.id,
            companyId: row.company_id,
            chainVersion: row.chain_version,
            prevHash: row.prev_hash,
            linkHash: row.hash,
            said: row.said,
            contentHash: row.content_hash,
          },
  };
}

// ---------------------------------------------------------------- checkpoints

export interface StoredCheckpoint {
  groupId: string;
  treeSize: number;
  rootHash: Buffer;
  signedAt: Date;
  keyId: string;
  signature: Buffer;
}

interface CheckpointRow {
  group_id: string;
  tree_size: number;
  root_hash: Uint8Array;
  signed_at: Date;
  key_id: string;
  signature: Uint8Array;
}

const toCheckpoint = (row: CheckpointRow): StoredCheckpoint => ({
  groupId: row.group_id,
  treeSize: Number(row.tree_size),
  rootHash: bytes(row.root_hash),
  signedAt: row.signed_at,
  keyId: row.key_id,
  signature: bytes(row.signature),
});

/** The group's newest checkpoints, newest first. */
export async function findNewestCheckpointsOf(
  db: Db | Transaction,
  groupId: string,
  limit: number,
): Promise<StoredCheckpoint[]> {
  const rows = await db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .where('group_id', '=', groupId)
    .orderBy('tree_size', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toCheckpoint);
}

export async function findLatestCheckpoint(
  db: Db | Transaction,
  groupId: string,
): Promise<StoredCheckpoint | undefined> {
  const row = await db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .where('group_id', '=', groupId)
    .orderBy('tree_size', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? toCheckpoint(row) : undefined;
}

/** Every checkpoint of the group, smallest tree first. */
export async function findCheckpoints(db: Db, groupId: string): Promise<StoredCheckpoint[]> {
  const rows = await db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .where('group_id', '=', groupId)
    .orderBy('tree_size')
    .execute();
  return rows.map(toCheckpoint);
}

/** The newest checkpoint of every group that has one. */
export async function findNewestCheckpoints(db: Db): Promise<StoredCheckpoint[]> {
  const { rows } = await sql<CheckpointRow>`
    select distinct on (group_id) * from audit_checkpoints order by group_id, tree_size desc
  `.execute(db);
  return rows.map(toCheckpoint);
}

export async function insertCheckpoint(trx: Transaction, checkpoint: StoredCheckpoint): Promise<void> {
  await trx
    .insertInto('audit_checkpoints')
    .values({
      group_id: checkpoint.groupId,
      tree_size: checkpoint.treeSize,
      root_hash: checkpoint.rootHash,
      signed_at: checkpoint.signedAt,
      key_id: checkpoint.keyId,
      signature: checkpoint.signature,
    })
    .execute();
}

/** Groups whose tree grew past their newest checkpoint, and whose newest checkpoint was signed at or before `signedBefore` (or that have none). */
export async function findGroupsDueForCheckpoint(db: Db, signedBefore: Date): Promise<string[]> {
  const { rows } = await sql<{ group_id: string }>`
    select h.group_id
    from audit_heads h
    left join lateral (
      select c.tree_size, c.signed_at from audit_checkpoints c
      where c.group_id = h.group_id order by c.tree_size desc limit 1
    ) c on true
    where h.seq > coalesce(c.tree_size, 0) and (c.signed_at is null or c.signed_at <= ${signedBefore})
  `.execute(db);
  return rows.map((r) => r.group_id);
}

// ---------------------------------------------------------------- the log key

export interface LogKeyRecord {
  id: string;
  keyId: string;
  algorithm: string;
  /** SubjectPublicKeyInfo, DER. */
  publicKey: Buffer;
  reference: KeyReference;
  createdAt: Date;
}

interface LogKeyRow {
  id: string;
  key_id: string;
  algorithm: string;
  public_key: Uint8Array;
  key_store: 'database' | 'pkcs11';
  sealed_key: string | null;
  token_label: string | null;
  token_key_id: string | null;
  created_at: Date;
}

function toLogKey(row: LogKeyRow): LogKeyRecord {
  const reference: KeyReference =
    row.key_store === 'database'
      ? { store: 'database', sealed: row.sealed_key ?? '' }
      : { store: 'pkcs11', tokenLabel: row.token_label ?? '', keyId: row.token_key_id ?? '' };
  return {
    id: row.id,
    keyId: row.key_id,
    algorithm: row.algorithm,
    publicKey: bytes(row.public_key),
    reference,
    createdAt: row.created_at,
  };
}

const logKeyColumns = [
  'id',
  'key_id',
  'algorithm',
  'public_key',
  'key_store',
  'sealed_key',
  'token_label',
  'token_key_id',
  'created_at',
] as const;

export async function findActiveLogKey(db: Db | Transaction): Promise<LogKeyRecord | undefined> {
  const row = await db
    .selectFrom('audit_log_keys')
    .select(logKeyColumns)
    .where('retired_at', 'is', null)
    .executeTakeFirst();
  return row ? toLogKey(row) : undefined;
}

export async function findLogKeys(db: Db): Promise<LogKeyRecord[]> {
  const rows = await db.selectFrom('audit_log_keys').select(logKeyColumns).orderBy('created_at').execute();
  return rows.map(toLogKey);
}

export async function insertLogKey(trx: Transaction, key: Omit<LogKeyRecord, 'createdAt'>): Promise<void> {
  const { reference } = key;
  await trx
    .insertInto('audit_log_keys')
    .values({
      id: key.id,
      key_id: key.keyId,
      algorithm: key.algorithm,
      public_key: key.publicKey,
      key_store: reference.store,
      sealed_key: reference.store === 'database' ? reference.sealed : null,
      token_label: reference.store === 'pkcs11' ? reference.tokenLabel : null,
      token_key_id: reference.store === 'pkcs11' ? reference.keyId : null,
    })
    .execute();
}

/** Serialises creators across processes for the rest of the transaction. */
export async function lockNamed(trx: Transaction, name: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${name}))`.execute(trx);
}

// ---------------------------------------------------------------- checks run in the database

/**
 * A check over a range of places, in a transaction that suits it: its hash tables fit in memory,
 * no nested loop is planned, and the plan is made for this range's bounds (the connection keeps
 * the statement prepared, and a generic plan does not know how many rows a range holds). A log
 * just written has no statistics yet, and a plan that expects a handful of rows and loops over a
 * range of 100,000 takes minutes.
 */
async function inRangeTransaction<T>(db: Db, check: (trx: Transaction) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`set local work_mem = '64MB'`.execute(trx);
    await sql`set local enable_nestloop = off`.execute(trx);
    await sql`set local plan_cache_mode = force_custom_plan`.execute(trx);
    // Compiling a range's statement costs more than it saves (0.4 s of 1.2 s measured): the
    // work is in hash functions, not in the expressions around them.
    await sql`set local jit = off`.execute(trx);
    return check(trx);
  });
}

/** What the first wrong place of a range of version 3 and 4 links is. */
export type LinkProblemKind = 'gap' | 'unlinked' | 'missing' | 'altered' | 'leaf';

export interface LinkRangeCheck {
  /** The highest place the range holds (null: none). */
  lastPlace: number | null;
  /** Links in the range. */
  count: number;
  problem: {
    place: number;
    kind: LinkProblemKind;
    /** The place before it in this range (for a gap: the last one present). */
    beforePlace: number;
    eventSeq: number;
    eventId: string | null;
  } | null;
}

/**
 * Checks the links of places `after + 1 … through` where they are, in one statement: each place
 * follows the one before (`after`'s hash is `previousHash` when that place is not a link of this
 * range), its event is there, its hash is `sha256(prev:place:content)` with the content hash of a
 * version 3 event as stored and of a version 4 event recomputed from what it says, and its leaf
 * in its tile is `SHA-256(0x00 || hash)`. Reports the first wrong place. The links are read in
 * order and each event by its key (`offset 0` keeps the planner from joining every event of the
 * group instead, and rendering them all).
 */
export async function checkLinkRange(
  db: Db,
  range: { groupId: string; after: number; through: number; previousHash: string | null },
): Promise<LinkRangeCheck> {
  const { groupId, after, through, previousHash } = range;
  const { rows } = await inRangeTransaction(db, (trx) => {
    return sql<{
      last_place: number | null;
      count: number;
      place: number | null;
      kind: LinkProblemKind | null;
      before_place: number | null;
      event_seq: number | null;
      event_id: string | null;
    }>`
      select max(c.place) as last_place, count(*)::integer as count,
             min(c.place) filter (where c.kind is not null) as place,
             (array_agg(c.kind order by c.place) filter (where c.kind is not null))[1] as kind,
             (array_agg(c.before_place order by c.place) filter (where c.kind is not null))[1] as before_place,
             (array_agg(c.event_seq order by c.place) filter (where c.kind is not null))[1] as event_seq,
             (array_agg(c.event_id order by c.place) filter (where c.kind is not null))[1] as event_id
      from (
        select l.place, l.before_place, l.event_seq, e.id as event_id,
          case
            when l.before_place <> l.place - 1 then 'gap'
            when l.prev_hash is distinct from l.before_hash then 'unlinked'
            when e.seq is null then 'missing'
            when e.chain_version not in (3, 4)
              or decode(l.hash, 'hex') is distinct from sha256(convert_to(l.prev_hash || ':' || l.place::text || ':' || e.content, 'UTF8'))
              then 'altered'
            when substring(t.hashes from ((l.place - 1) % 16)::integer * 32 + 1 for 32)
                 is distinct from sha256('\\x00'::bytea || decode(l.hash, 'hex'))
              then 'leaf'
          end as kind
        from (
          select seq as place, event_seq, prev_hash, hash,
                 coalesce(lag(seq) over w, ${after}::bigint) as before_place,
                 coalesce(lag(hash) over w, ${previousHash}::text) as before_hash
          from audit_links
          where group_id = ${groupId} and seq >= ${after} and seq <= ${through}
          window w as (order by seq)
        ) l
        left join lateral (
          select e.seq, e.id, e.chain_version,
                 case when e.chain_version = 3 then e.content_hash
                      else encode(sha256(convert_to(sigil_audit_said(e), 'UTF8')), 'hex') end as content
          from audit_events e where e.group_id = ${groupId} and e.seq = l.event_seq
          offset 0
        ) e on true
        left join audit_tree_tiles t
          on t.group_id = ${groupId} and t.tile_level = 0 and t.idx = (l.place - 1) / 16
             and t.idx >= ${Math.floor(after / 16)} and t.idx <= ${Math.floor((through - 1) / 16)}
        where l.place > ${after}
      ) c
    `.execute(trx);
  });
  const row = rows[0]!;
  return {
    lastPlace: row.last_place === null ? null : Number(row.last_place),
    count: Number(row.count),
    problem:
      row.place === null || row.kind === null
        ? null
        : {
            place: Number(row.place),
            kind: row.kind,
            beforePlace: Number(row.before_place),
            eventSeq: Number(row.event_seq),
            eventId: row.event_id,
          },
  };
}

/** The first place `1 … through` held in an event's own row (versions 1 and 2) whose leaf in its tile is not `SHA-256(0x00 || hash)`. */
export async function findInlineLeafProblem(db: Db, groupId: string, through: number): Promise<number | null> {
  if (through === 0) return null;
  const { rows } = await sql<{ place: number | null }>`
    select min(e.seq) as place
    from audit_events e
    left join audit_tree_tiles t on t.group_id = e.group_id and t.tile_level = 0 and t.idx = (e.seq - 1) / 16
    where e.group_id = ${groupId} and e.chain_version < 3 and e.seq <= ${through}
      and substring(t.hashes from ((e.seq - 1) % 16)::integer * 32 + 1 for 32)
          is distinct from sha256('\\x00'::bytea || decode(e.hash, 'hex'))
  `.execute(db);
  return rows[0]?.place === null || rows[0] === undefined ? null : Number(rows[0].place);
}

/**
 * The first full tile of `tileLevel - 1` with index in [from, to) whose root (the node four levels
 * up) is not the hash its parent tile holds for it, or that has no parent tile.
 */
export async function findTileProblem(
  db: Db,
  range: { groupId: string; tileLevel: number; from: number; to: number },
): Promise<number | null> {
  const { groupId, tileLevel, from, to } = range;
  const { rows } = await inRangeTransaction(db, (trx) =>
    sql<{ idx: number | null }>`
      select min(c.idx) as idx
      from audit_tree_tiles c
      left join audit_tree_tiles p
        on p.group_id = ${groupId} and p.tile_level = ${tileLevel} and p.idx = c.idx / 16
      where c.group_id = ${groupId} and c.tile_level = ${tileLevel - 1} and c.idx >= ${from} and c.idx < ${to}
        and length(c.hashes) = 512
        and substring(p.hashes from (c.idx % 16)::integer * 32 + 1 for 32) is distinct from sigil_audit_tile_root(c.hashes)
    `.execute(trx),
  );
  return rows[0]?.idx === null || rows[0] === undefined ? null : Number(rows[0].idx);
}

/** Per tile level of the stored tree: its tiles, highest index, bytes, and the first tile that is not full. */
export async function countTiles(
  db: Db,
  groupId: string,
): Promise<Array<{ tileLevel: number; tiles: number; maxIdx: number; bytes: number; firstShort: number | null }>> {
  const { rows } = await sql<{
    tile_level: number;
    tiles: number;
    max_idx: number;
    bytes: number;
    first_short: number | null;
  }>`
    select tile_level, count(*) as tiles, max(idx) as max_idx, sum(length(hashes)) as bytes,
           min(idx) filter (where length(hashes) <> 512) as first_short
    from audit_tree_tiles where group_id = ${groupId}
    group by tile_level order by tile_level
  `.execute(db);
  return rows.map((r) => ({
    tileLevel: Number(r.tile_level),
    tiles: Number(r.tiles),
    maxIdx: Number(r.max_idx),
    bytes: Number(r.bytes),
    firstShort: r.first_short === null ? null : Number(r.first_short),
  }));
}
