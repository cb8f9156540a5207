// The Merkle tree of RFC 9162 §2.1 over a group's audit chain, as pure functions: hashing, the
// ranges an inclusion or consistency proof is made of, the perfect subtrees (stored by the
// sealer) that each range is built from, and a streaming builder for checking a whole log.
import { hash } from 'node:crypto';

/** A perfect subtree: leaves idx·2^level … (idx+1)·2^level − 1. */
export interface NodeRef {
  level: number;
  idx: number;
}

/** Leaves [start, end) of the tree. */
export type LeafRange = readonly [start: number, end: number];

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

const sha256 = (data: Buffer): Buffer => hash('sha256', data, 'buffer');

/** RFC 9162 §2.1.1: MTH({d}) = SHA-256(0x00 || d). A leaf's data is its place's chain hash (32 bytes). */
export function leafHash(data: Uint8Array): Buffer {
  return sha256(Buffer.concat([LEAF_PREFIX, data]));
}

/** The input of a node's hash, reused: 0x01, then two hashes of 32 bytes. */
const NODE_INPUT = Buffer.alloc(65, 0x01);

/** RFC 9162 §2.1.1: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== 32 || right.length !== 32) return sha256(Buffer.concat([NODE_PREFIX, left, right]));
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 33);
  return sha256(NODE_INPUT);
}

/** The hash of an empty tree, SHA-256 of nothing (RFC 9162 §2.1.1). */
export const EMPTY_ROOT = sha256(Buffer.alloc(0));

/** k of RFC 9162 §2.1.1: the largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// Sizes are numbers below 2^53: bit operations hold up to 2^30, Math.log2 is exact for powers of two.
const isPowerOfTwo = (n: number) =>
  n > 0 && (n <= 0x40000000 ? (n & (n - 1)) === 0 : 2 ** Math.round(Math.log2(n)) === n);

/**
 * The perfect subtrees whose hashes make the hash of leaves [start, end), as MTH splits them.
 * `start` is a multiple of the first split, as every range of a proof is.
 */
export function nodesOf([start, end]: LeafRange): NodeRef[] {
  const found: NodeRef[] = [];
  addNodesOf(start, end, found);
  return found;
}

// A proof's path hashes a range per level: these walk it on numbers, not on arrays made per step.
function addNodesOf(start: number, end: number, found: NodeRef[]): void {
  const size = end - start;
  if (size <= 0) throw new RangeError(`empty leaf range [${start}, ${end})`);
  if (isPowerOfTwo(size) && start % size === 0) {
    found.push({ level: Math.log2(size), idx: start / size });
    return;
  }
  const k = split(size);
  addNodesOf(start, start + k, found);
  addNodesOf(start + k, end, found);
}

/** MTH(D[start:end]) from the perfect subtrees of `nodesOf`, looked up with `node`. */
export function rangeHash([start, end]: LeafRange, node: (ref: NodeRef) => Buffer): Buffer {
  const hashOf = (from: number, to: number): Buffer => {
    const size = to - from;
    if (isPowerOfTwo(size) && from % size === 0) return node({ level: Math.log2(size), idx: from / size });
    const k = split(size);
    return nodeHash(hashOf(from, from + k), hashOf(from + k, to));
  };
  return hashOf(start, end);
}

/** The ranges whose hashes are the audit path of leaf `index` in a tree of `size` leaves, leaf end first (PATH, RFC 9162 §2.1.3.1). */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (index < 0 || index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  // From the root down, the sibling of the subtree that holds the leaf; the path lists them upwards.
  const ranges: LeafRange[] = [];
  let offset = 0;
  while (size > 1) {
    const k = split(size);
    if (index < k) {
      ranges.push([offset + k, offset + size]);
      size = k;
    } else {
      ranges.push([offset, offset + k]);
      index -= k;
      offset += k;
      size -= k;
    }
  }
  return ranges.reverse();
}

/** The ranges whose hashes prove a tree of `first` leaves a prefix of one of `second` (PROOF, RFC 9162 §2.1.4.1). */
export function consistencyRanges(first: number, second: number): LeafRange[] {
  if (first < 1 || first > second) throw new RangeError(`no consistency proof from ${first} to ${second}`);
  // SUBPROOF from the root down; the proof lists its ranges upwards.
  const ranges: LeafRange[] = [];
  let [m, n, offset, complete] = [first, second, 0, true];
  while (m !== n) {
    const k = split(n);
    if (m <= k) {
      ranges.push([offset + k, offset + n]);
      n = k;
    } else {
      ranges.push([offset, offset + k]);
      m -= k;
      n -= k;
      offset += k;
      complete = false;
    }
  }
  if (!complete) ranges.push([offset, offset + n]);
  return ranges.reverse();
}

/** Every perfect subtree the ranges need, each once. */
export function nodesOfAll(ranges: readonly LeafRange[]): NodeRef[] {
  const all: NodeRef[] = [];
  for (const [start, end] of ranges) addNodesOf(start, end, all);
  const seen = new Map<string, NodeRef>();
  for (const ref of all) seen.set(nodeKey(ref), ref);
  return [...seen.values()];
}

export const nodeKey = (ref: NodeRef) => `${ref.level}:${ref.idx}`;

/** Levels per tile: tile (tileLevel k, idx n) holds the nodes of tree level 4k with indexes 16n … 16n + 15. */
export const TILE_HEIGHT = 4;
const TILE_WIDTH = 2 ** TILE_HEIGHT;

/** A tile of the stored tree (`audit_tree_tiles`). */
export interface TileRef {
  tileLevel: number;
  idx: number;
}

export const tileKey = (ref: TileRef) => `${ref.tileLevel}:${ref.idx}`;

/** Where a node lies: its tile, and the run of that tile's hashes it is the perfect subtree of. */
function placeInTile(ref: NodeRef): { tile: TileRef; first: number; count: number } {
  const tileLevel = Math.floor(ref.level / TILE_HEIGHT);
  const count = 2 ** (ref.level - tileLevel * TILE_HEIGHT);
  const first = ref.idx * count;
  return { tile: { tileLevel, idx: Math.floor(first / TILE_WIDTH) }, first: first % TILE_WIDTH, count };
}

/** The tiles that hold the nodes, each once. */
export function tilesOf(refs: readonly NodeRef[]): TileRef[] {
  const seen = new Map<string, TileRef>();
  for (const ref of refs) {
    const { tile } = placeInTile(ref);
    seen.set(tileKey(tile), tile);
  }
  return [...seen.values()];
}

/** Tiles by `tileKey`: a map, or any lookup of them. */
export interface TileLookup {
  get(key: string): Uint8Array | undefined;
}

/** Whether the tiles hold the hashes a node is made of. */
export function hasNode(ref: NodeRef, tiles: TileLookup): boolean {
  const { tile, first, count } = placeInTile(ref);
  const hashes = tiles.get(tileKey(tile));
  return hashes !== undefined && hashes.length >= (first + count) * 32;
}

/** A node's hash from the tile that holds it (by `tileKey`), or undefined when the tile lacks it. */
export function nodeFromTiles(ref: NodeRef, tiles: TileLookup): Buffer | undefined {
  const { tile, first, count } = placeInTile(ref);
  const hashes = tiles.get(tileKey(tile));
  if (!hashes || hashes.length < (first + count) * 32) return undefined;
  let row: Uint8Array[] = [];
  for (let i = first; i < first + count; i++) row.push(hashes.subarray(i * 32, (i + 1) * 32));
  while (row.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i < row.length; i += 2) up.push(nodeHash(row[i]!, row[i + 1]!));
    row = up;
  }
  return Buffer.from(row[0]!);
}

/**
 * Every node a tile's hashes make (beside the tile's own, the perfect subtrees of 2, 4 and 8 of
 * them): a node never changes once its hashes are written, so these can be kept.
 */
export function nodesWithin(tile: TileRef, hashes: Uint8Array): Array<{ ref: NodeRef; hash: Buffer }> {
  const found: Array<{ ref: NodeRef; hash: Buffer }> = [];
  let row: Uint8Array[] = [];
  for (let i = 0; i + 32 <= hashes.length && i < TILE_WIDTH * 32; i += 32) row.push(hashes.subarray(i, i + 32));
  let level = tile.tileLevel * TILE_HEIGHT;
  let first = tile.idx * TILE_WIDTH;
  while (row.length > 1) {
    const up: Buffer[] = [];
    for (let i = 0; i + 1 < row.length; i += 2) up.push(nodeHash(row[i]!, row[i + 1]!));
    level += 1;
    first /= 2;
    up.forEach((hash, i) => found.push({ ref: { level, idx: first + i }, hash }));
    row = up;
  }
  return found;
}

/**
 * The tree built a leaf at a time, keeping only its perfect subtrees on the right edge (one per
 * set bit of the size): the root of every prefix is at hand while a log streams past.
 */
export class TreeBuilder {
  private readonly edge: Array<{ level: number; hash: Buffer }> = [];
  size = 0;

  /** Adds the next leaf by its hash (`leafHash(data)`). */
  push(leaf: Buffer): void {
    let level = 0;
    let current = leaf;
    while (this.edge.length > 0 && this.edge.at(-1)!.level === level) {
      current = nodeHash(this.edge.pop()!.hash, current);
      level += 1;
    }
    this.edge.push({ level, hash: current });
    this.size += 1;
  }

  /** MTH of the leaves so far: the edge folded from the right. */
  root(): Buffer {
    if (this.edge.length === 0) return EMPTY_ROOT;
    let current = this.edge.at(-1)!.hash;
    for (let i = this.edge.length - 2; i >= 0; i--) current = nodeHash(this.edge[i]!.hash, current);
    return current;
  }
}
