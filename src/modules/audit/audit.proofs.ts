// Proofs over a group's audit tree (RFC 9162 §2.1.3, §2.1.4), its newest checkpoint and log key
// for anyone, and the export of a whole log for checking offline. A proof reads the O(log n)
// perfect subtrees it needs in one statement.
import { Readable } from 'node:stream';
import { createPublicKey } from 'node:crypto';
import type { Db } from '../../db/schema.js';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { findHead, findInlineChainPage, findVersion3Rows, findExportLinkPage } from './audit.repository.js';
import * as repo from './audit-tree.repository.js';
import { saidText } from './audit.hashes.js';
import { LOG_KEY_NAME, originOf } from './checkpoint.note.js';
import { ensureLogKey, noteOf } from './checkpoint.service.js';
import {
  consistencyRanges,
  inclusionRanges,
  leafHash,
  hasNode,
  nodeFromTiles,
  nodesOfAll,
  nodesWithin,
  rangeHash,
  tilesOf,
  type LeafRange,
  type TileLookup,
} from './merkle.js';

// ---------------------------------------------------------------- tiles held in memory

/**
 * The tiles of tile level 1 and above, per database and group, held in memory: a tile's hashes
 * never change once written (the sealer only appends to the last tile of each level), so a proof
 * reads from the database only the tiles of level 0 and what it does not find here. For a log of
 * a million events they are 4,169 tiles, 2 MB, and as much again for the nodes between a tile's
 * levels, hashed once when the tiles are read (a proof's path otherwise hashes up to 7 of them per
 * tile level: 44 of its 55 hashes in that log). The tiles and nodes of every group of a database
 * together are held up to UPPER_TILE_BYTES, and a group whose tiles would not fit is read as before.
 */
const UPPER_TILE_BYTES = 32 * 1024 * 1024;

interface UpperTiles {
  bytes: number;
  groups: Map<string, Promise<HeldTiles | null>>;
}

/** A group's tiles held, and the nodes they make (per level, by index), hashed once instead of at every proof. */
interface HeldTiles {
  tiles: Map<string, Buffer>;
  nodes: Array<Map<number, Buffer>>;
}

/** Adds the nodes a tile makes; the bytes they take. */
function holdNodes(held: HeldTiles, key: string, hashes: Buffer): number {
  const [tileLevel, idx] = key.split(':').map(Number);
  let bytes = 0;
  for (const { ref, hash } of nodesWithin({ tileLevel: tileLevel!, idx: idx! }, hashes)) {
    const level = (held.nodes[ref.level] ??= new Map());
    if (!level.has(ref.idx)) bytes += hash.length;
    level.set(ref.idx, hash);
  }
  return bytes;
}

const upperTiles = new WeakMap<Db, UpperTiles>();

async function upperTilesOf(db: Db, groupId: string): Promise<HeldTiles | null> {
  let held = upperTiles.get(db);
  if (!held) upperTiles.set(db, (held = { bytes: 0, groups: new Map() }));
  let tiles = held.groups.get(groupId);
  if (!tiles) {
    const into = held;
    // The nodes take about as much as the tiles: half the room is asked for.
    tiles = repo.findUpperTiles(db, groupId, (UPPER_TILE_BYTES - held.bytes) / 2).then(
      (found) => {
        if (!found) return null;
        const group: HeldTiles = { tiles: found, nodes: [] };
        for (const [key, hashes] of found) into.bytes += hashes.length + holdNodes(group, key, hashes);
        return group;
      },
      () => {
        into.groups.delete(groupId);
        return null;
      },
    );
    held.groups.set(groupId, tiles);
  }
  return tiles;
}

/** Tiles read for a proof, kept with the group's others (level 1 and above: level 0 is too many). */
function keepUpperTiles(db: Db, upper: HeldTiles | null, tiles: ReadonlyMap<string, Buffer>): void {
  const held = upperTiles.get(db);
  if (!upper || !held) return;
  for (const [key, hashes] of tiles) {
    if (key.startsWith('0:')) continue;
    const before = upper.tiles.get(key);
    if (before && before.length >= hashes.length) continue;
    // The tile and, at most, as much again for its nodes.
    if (held.bytes + 2 * hashes.length - (before?.length ?? 0) > UPPER_TILE_BYTES) return;
    held.bytes += hashes.length - (before?.length ?? 0) + holdNodes(upper, key, hashes);
    upper.tiles.set(key, hashes);
  }
}

const badField = (field: string, message: string) =>
  new AppError('validation_failed', `${field} ${message}.`, { errors: [{ field, message }] });

/**
 * The hashes of the ranges, from the stored tiles: those already at hand (`known`, by `tileKey`,
 * then the group's tiles held in memory), and in one statement any others the ranges need.
 */
async function hashRanges(
  db: Db,
  groupId: string,
  ranges: LeafRange[],
  known: ReadonlyMap<string, Buffer> = new Map(),
  upper: HeldTiles | null = null,
): Promise<Buffer[]> {
  const refs = nodesOfAll(ranges);
  const atHand: TileLookup = { get: (key) => known.get(key) ?? upper?.tiles.get(key) };
  const missing = tilesOf(refs.filter((ref) => !hasNode(ref, atHand)));
  let tiles = atHand;
  if (missing.length > 0) {
    const read = await repo.findTiles(db, groupId, missing);
    keepUpperTiles(db, upper, read);
    tiles = { get: (key) => read.get(key) ?? atHand.get(key) };
  }
  return ranges.map((range) =>
    rangeHash(range, (ref) => {
      const found = upper?.nodes[ref.level]?.get(ref.idx) ?? nodeFromTiles(ref, tiles);
      // The tree below a signed checkpoint lost a node: an operator problem, said without internals.
      if (!found) throw new AppError('service_unavailable', 'The audit tree is damaged; run sigil audit verify.');
      return found;
    }),
  );
}

/** The group's newest checkpoint, or 404 (also for a group that does not exist: a public answer says nothing of which do). */
async function latestCheckpoint(ctx: AppContext, groupId: string) {
  const latest = await repo.findLatestCheckpoint(ctx.db, groupId);
  if (!latest) throw new AppError('audit_checkpoint_not_found', 'No checkpoint of this group has been signed yet.');
  return latest;
}

export async function getLatestCheckpoint(ctx: AppContext, groupId: string) {
  const checkpoint = await latestCheckpoint(ctx, groupId);
  return {
    groupId,
    origin: originOf(groupId),
    treeSize: checkpoint.treeSize,
    rootHash: checkpoint.rootHash.toString('hex'),
    signedAt: checkpoint.signedAt,
    keyId: checkpoint.keyId,
    signature: checkpoint.signature.toString('base64'),
    note: noteOf(checkpoint),
  };
}

/** The deployment's log key, made on first need: what checks a checkpoint without an account. */
export async function getLogKey(ctx: AppContext) {
  const key = await ensureLogKey(ctx);
  const pem = createPublicKey({ key: key.publicKey, format: 'der', type: 'spki' })
    .export({ format: 'pem', type: 'spki' })
    .toString();
  return { keyId: key.keyId, name: LOG_KEY_NAME, algorithm: key.algorithm, publicKey: pem, createdAt: key.createdAt };
}

/**
 * A consistency proof between two sizes of the group's tree, for anyone: it reveals sizes and
 * hashes only, and sizes no larger than the newest checkpoint, which is public already.
 */
export async function getConsistencyProof(ctx: AppContext, query: { groupId: string; first: number; second: number }) {
  const latest = await latestCheckpoint(ctx, query.groupId);
  if (query.second > latest.treeSize)
    throw badField('querystring.second', `must be at most ${latest.treeSize}, the size of the newest checkpoint`);
  if (query.first > query.second) throw badField('querystring.first', 'must be at most second');
  const proof = await hashRanges(ctx.db, query.groupId, consistencyRanges(query.first, query.second));
  return {
    groupId: query.groupId,
    first: query.first,
    second: query.second,
    proof: proof.map((h) => h.toString('hex')),
  };
}

/**
 * The audit path of event `seq` in the group's tree at `treeSize` (default: the newest
 * checkpoint's), with what recomputes its leaf. Two statements: the checkpoints and the event's
 * place, then the perfect subtrees of the path and of the root.
 */
export async function proveInclusion(db: Db, groupId: string, query: { seq: number; treeSize?: number | undefined }) {
  // With the group's upper tiles in memory, the statement reads the tiles of level 0 only.
  const upper = await upperTilesOf(db, groupId);
  const { latest, atSize, place, tiles } = await repo.findInclusionStart(
    db,
    groupId,
    query.seq,
    query.treeSize ?? null,
    upper ? 1 : 16,
  );
  if (!latest) throw new AppError('audit_checkpoint_not_found', 'No checkpoint of this group has been signed yet.');
  const treeSize = query.treeSize ?? latest.treeSize;
  if (treeSize > latest.treeSize)
    throw badField('querystring.treeSize', `must be at most ${latest.treeSize}, the size of the newest checkpoint`);
  if (!place || place.place > treeSize)
    throw new AppError(
      'audit_event_not_covered',
      `Audit event ${query.seq} is not in the tree of ${treeSize} places${place ? '' : ' yet (it is waiting for the sealer)'}; ask for a later checkpoint.`,
    );
  const leafIndex = place.place - 1;
  const ranges = inclusionRanges(leafIndex, treeSize);
  // The root of a signed tree is the checkpoint's: a path that the tiles got wrong then fails
  // against it, as it should, instead of matching a root computed from the same tiles.
  const rootRanges: LeafRange[] = atSize ? [] : [[0, treeSize]];
  const hashes = await hashRanges(db, groupId, [...rootRanges, ...ranges], tiles, upper);
  const rootHash = atSize ? atSize.rootHash : hashes[0]!;
  const path = atSize ? hashes : hashes.slice(1);
  return {
    seq: place.eventSeq,
    eventId: place.eventId,
    leafIndex,
    treeSize,
    chainVersion: place.chainVersion,
    said: place.said,
    contentHash: place.contentHash,
    prevHash: place.prevHash,
    linkHash: place.linkHash,
    leafHash: leafHash(Buffer.from(place.linkHash, 'hex')).toString('hex'),
    auditPath: path.map((h) => h.toString('hex')),
    rootHash: rootHash.toString('hex'),
    checkpoint: atSize ? noteOf(atSize) : null,
  };
}

export const EXPORT_FORMAT = 'sigil-audit-log/1';

/** The first line of an export. */
export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  origin: string;
  groupId: string;
  treeSize: number;
  exportedAt: string;
}

/**
 * One place of the chain. `said` is the text the hash covers: version 1, the whole row's
 * canonical JSON (hash = SHA-256(said)); versions 2 and 3, what the event says in canonical JSON;
 * version 4, the database's rendering (a JSON array); for those, hash = SHA-256(prevHash ":"
 * place ":" SHA-256(said)). Null when the event is gone.
 */
export interface ExportLine {
  place: number;
  version: number | null;
  prevHash: string;
  hash: string;
  said: string | null;
}

const EXPORT_PAGE = 5_000;

/**
 * The whole log of the group, as JSON lines, up to its size now. Whoever calls decides who may
 * have it (an auditor of the whole group: it holds every company's events, and the chain cannot
 * be checked in part).
 */
export async function exportLog(ctx: AppContext, groupId: string): Promise<Readable> {
  const treeSize = (await findHead(ctx.db, groupId))?.seq ?? 0;
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    origin: originOf(groupId),
    groupId,
    treeSize,
    exportedAt: ctx.now().toISOString(),
  };
  async function* lines(): AsyncGenerator<string> {
    yield `${JSON.stringify(header)}\n`;
    let place = 0;
    for (;;) {
      const page = await findInlineChainPage(ctx.db, groupId, place, EXPORT_PAGE);
      const inline = page.filter((row) => row.seq <= treeSize);
      if (inline.length === 0) break;
      yield inline
        .map(
          (row) =>
            `${JSON.stringify({ place: row.seq, version: row.chain_version, prevHash: row.prev_hash ?? '', hash: row.hash ?? '', said: saidText(row) } satisfies ExportLine)}\n`,
        )
        .join('');
      place = inline.at(-1)!.seq;
    }
    for (;;) {
      const links = (await findExportLinkPage(ctx.db, groupId, place, EXPORT_PAGE)).filter((l) => l.place <= treeSize);
      if (links.length === 0) break;
      const v3 = await findVersion3Rows(
        ctx.db,
        groupId,
        links.filter((l) => l.version === 3).map((l) => l.eventSeq),
      );
      yield links
        .map((l) => {
          const row = l.version === 3 ? v3.get(l.eventSeq) : undefined;
          const said = row ? saidText(row) : l.said;
          return `${JSON.stringify({ place: l.place, version: l.version, prevHash: l.prevHash, hash: l.hash, said } satisfies ExportLine)}\n`;
        })
        .join('');
      place = links.at(-1)!.place;
    }
  }
  return Readable.from(lines());
}
