// Verification of a group's audit log. `verifyChain` checks what the database alone can tell: the
// chain (every place follows the one before, every event still says what was hashed) and the
// Merkle tree built over it. `verifyLog` also holds the tree against the signed checkpoints of
// the database and of this server's file, which is what finds a log cut short or rewritten as a
// whole. The heavy work runs in the database, a range of places per statement, several at once.
import type { Db } from '../../db/schema.js';
import { SigningError } from '../../signing/index.js';
import {
  countLinkableEvents,
  findHead,
  findInlineChainPage,
  findPlaceHash,
  findUnlinkedEvent,
  findVersion3Page,
  GENESIS_HASH,
  sealPending,
} from './audit.repository.js';
import {
  checkLinkRange,
  countTiles,
  findCheckpoints,
  findInlineLeafProblem,
  findTileProblem,
  type LinkRangeCheck,
} from './audit-tree.repository.js';
import { expectedInlineHash, hasOwnContentHash } from './audit.hashes.js';
import { readCheckpointFile } from './checkpoint.file.js';
import { chainVerifyPoolOf, type ChainVerifyPool, type VerifyTask } from './audit.verify-pool.js';
import { isSignedBy } from './checkpoint.note.js';
import {
  findLogPublicKeys,
  isGenuine,
  signCheckpoint,
  treeRoots,
  type CheckpointContext,
} from './checkpoint.service.js';

/**
 * altered: an event no longer says what was hashed; inserted: an event or link that does not
 * belong where it is; missing: an event or place gone; tree_altered: the stored tree disagrees
 * with the chain; truncated: a signed checkpoint covers more places than the log has;
 * rewritten: the log is whole, but not the one a signed checkpoint saw; forked: two signed
 * checkpoints describe different histories; checkpoint_forged: a checkpoint whose signature
 * fails; checkpoint_missing: a checkpoint this server's file holds is gone from the database.
 */
export type ChainProblem =
  | 'altered'
  | 'inserted'
  | 'missing'
  | 'tree_altered'
  | 'truncated'
  | 'rewritten'
  | 'forked'
  | 'checkpoint_forged'
  | 'checkpoint_missing';

export interface ChainReport {
  intact: boolean;
  /** Places of the chain checked. */
  checked: number;
  /** Places in the group's chain: the size of its tree. */
  headSeq: number;
  /**
   * The first problem found, in the order of the chain. `seq` is the event's (`seq` in the log)
   * when the problem concerns an event, else the first place concerned.
   */
  firstProblem: { kind: ChainProblem; seq: number; eventId: string | null; detail: string } | null;
}

export interface LogReport extends ChainReport {
  /** The newest signed checkpoint the log was held against (of the database or of this server's file), or null when none exists yet. */
  checkpoint: { treeSize: number; rootHash: string; signedAt: Date; keyId: string } | null;
  /** Checkpoints checked: of the database and of this server's file. */
  checkpointsChecked: number;
  /** Whether the tree as it is was signed before it was checked, and why not. */
  signing: { outcome: 'signed' | 'current' | 'refused' | 'unavailable'; detail: string | null };
}

/**
 * Signs the tree as it is, if it grew. Without the key (another master key, the token away) the
 * log is still checked, against the checkpoints there are, and the report says why none was signed.
 */
async function signNow(ctx: CheckpointContext, groupId: string): Promise<LogReport['signing']> {
  try {
    const outcome = await signCheckpoint(ctx, groupId, { force: true });
    if (outcome.kind === 'refused') return { outcome: 'refused', detail: outcome.reason };
    return { outcome: outcome.kind === 'signed' ? 'signed' : 'current', detail: null };
  } catch (error) {
    if (error instanceof SigningError && error.code === 'signer_unavailable')
      return { outcome: 'unavailable', detail: error.message };
    throw error;
  }
}

interface Found {
  /** Where in the chain, for ordering (the first place concerned). */
  place: number;
  kind: ChainProblem;
  seq: number;
  eventId: string | null;
  detail: string;
}

/** Places per statement: the chain is checked in ranges, `PARALLEL` of them at a time. */
const RANGE = 100_000;
const PARALLEL = 3;

async function runLimited<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

const first = (problems: Array<Found | null>): Found | null =>
  problems.reduce<Found | null>((best, p) => (p && (!best || p.place < best.place) ? p : best), null);

/** The places held in events' own rows (versions 1 and 2), walked from the first: their last place and hash. */
async function checkInlinePlaces(db: Db, groupId: string, headSeq: number) {
  let expectedSeq = 1;
  let previousHash = GENESIS_HASH;
  for (;;) {
    const page = await findInlineChainPage(db, groupId, expectedSeq - 1, 1000);
    if (page.length === 0) break;
    for (const row of page) {
      const at = (kind: ChainProblem, seq: number, eventId: string | null, detail: string) => ({
        end: expectedSeq - 1,
        hash: previousHash,
        problem: { place: seq, kind, seq, eventId, detail },
      });
      if (row.seq > headSeq)
        return at('inserted', row.seq, row.id, `event ${row.seq} lies beyond the chain head ${headSeq}`);
      if (row.seq !== expectedSeq)
        return at('missing', expectedSeq, null, `events ${expectedSeq}..${row.seq - 1} are missing`);
      const expected = expectedInlineHash(row);
      if (expected === null || expected !== row.hash)
        return at('altered', row.seq, row.id, `event ${row.seq} does not match its hash`);
      if (row.prev_hash !== previousHash)
        return at('inserted', row.seq, row.id, `event ${row.seq} does not link to event ${row.seq - 1}`);
      previousHash = expected;
      expectedSeq += 1;
    }
  }
  return { end: expectedSeq - 1, hash: previousHash, problem: null };
}

function linkProblem(check: LinkRangeCheck, after: number, through: number): Found | null {
  const { problem } = check;
  if (problem) {
    const { place, eventSeq, eventId } = problem;
    switch (problem.kind) {
      case 'gap':
        return {
          place: problem.beforePlace + 1,
          kind: 'missing',
          seq: problem.beforePlace + 1,
          eventId: null,
          detail: `places ${problem.beforePlace + 1}..${place - 1} of the chain are missing`,
        };
      case 'unlinked':
        return {
          place,
          kind: 'inserted',
          seq: eventSeq,
          eventId,
          detail: `the link of event ${eventSeq} (place ${place}) does not follow place ${place - 1}`,
        };
      case 'missing':
        return {
          place,
          kind: 'missing',
          seq: eventSeq,
          eventId: null,
          detail: `event ${eventSeq} (place ${place} of the chain) is missing`,
        };
      case 'altered':
        return {
          place,
          kind: 'altered',
          seq: eventSeq,
          eventId,
          detail: `event ${eventSeq} does not match its hash (place ${place} of the chain)`,
        };
      case 'leaf':
        return {
          place,
          kind: 'tree_altered',
          seq: place,
          eventId: null,
          detail: `leaf ${place - 1} of the tree is not the hash of place ${place}`,
        };
    }
  }
  const last = check.lastPlace ?? after;
  if (last < through)
    return {
      place: last + 1,
      kind: 'missing',
      seq: last + 1,
      eventId: null,
      detail: `places ${last + 1}..${through} of the chain are missing`,
    };
  return null;
}

/** Tiles of the tree per statement. */
const TILE_RANGE = 20_000;

const treeProblem = (detail: string, place: number): Found => ({
  place,
  kind: 'tree_altered',
  seq: place,
  eventId: null,
  detail,
});

/**
 * The shape of the stored tree (every tile level holds the nodes a tree of `size` leaves has, in
 * full tiles but the last, and nothing beyond), then, to run beside the chain: the leaves of the
 * places held in events' own rows (the links' leaves are checked with the links), and every full
 * tile's root against the node its parent tile holds.
 */
async function treeChecks(
  db: Db,
  groupId: string,
  size: number,
  inlineThrough: number,
  pool: ChainVerifyPool | null,
): Promise<{ shape: Found | null; tasks: Array<() => Promise<Found | null>> }> {
  const levels = await countTiles(db, groupId);
  for (let tileLevel = 0; tileLevel < 16; tileLevel++) {
    const nodes = Math.floor(size / 16 ** tileLevel);
    const tiles = Math.ceil(nodes / 16);
    const stored = levels.find((l) => l.tileLevel === tileLevel);
    if (nodes === 0 && !stored) continue;
    const fits =
      stored !== undefined &&
      stored.tiles === tiles &&
      stored.maxIdx === tiles - 1 &&
      stored.bytes === nodes * 32 &&
      (stored.firstShort === null || stored.firstShort === tiles - 1);
    if (!fits)
      return {
        shape: treeProblem(
          `tile level ${tileLevel} of the tree holds ${stored?.tiles ?? 0} tiles of ${(stored?.bytes ?? 0) / 32} nodes; a tree of ${size} leaves has ${tiles} of ${nodes}`,
          size,
        ),
        tasks: [],
      };
  }
  const tasks: Array<() => Promise<Found | null>> = [
    async () => {
      const place = await findInlineLeafProblem(db, groupId, inlineThrough);
      return place === null
        ? null
        : treeProblem(`leaf ${place - 1} of the tree is not the hash of place ${place}`, place);
    },
  ];
  for (let tileLevel = 1; 16 ** tileLevel <= size; tileLevel++) {
    const full = Math.floor(size / 16 ** tileLevel);
    for (let from = 0; from < full; from += TILE_RANGE) {
      const to = Math.min(full, from + TILE_RANGE);
      tasks.push(async () => {
        if (await cleanInWorker(pool, { kind: 'tiles', groupId, tileLevel, from, to })) return null;
        const idx = await findTileProblem(db, { groupId, tileLevel, from, to });
        return idx === null
          ? null
          : treeProblem(
              `tile (${tileLevel - 1}, ${idx}) of the tree does not match its node in tile (${tileLevel}, ${Math.floor(idx / 16)})`,
              idx * 16 ** tileLevel + 1,
            );
      });
    }
  }
  return { shape: null, tasks };
}

/**
 * Whether a worker found the task's range clean. Anything else (a problem, a value it cannot
 * render exactly, a worker or connection that failed) leaves the range to its SQL check, which
 * says what the problem is: the verdicts are the SQL checks' whichever way a range was read.
 */
async function cleanInWorker(pool: ChainVerifyPool | null, task: VerifyTask): Promise<boolean> {
  if (!pool) return false;
  try {
    return await pool.check(task);
  } catch {
    return false;
  }
}

/**
 * Seals what is pending, then checks the whole chain and its tree: the places held in events'
 * own rows (versions 1 and 2) in order here, the links (versions 3 and 4) in the database a range
 * at a time, the content hash of version 3 events here (the server computed it), every node of
 * the tree against its children, and last the events that no place of the chain holds and that
 * are not waiting for the sealer (inserted around the server).
 */
export async function verifyChain(db: Db, groupId: string): Promise<ChainReport> {
  await sealPending(db, groupId, { wait: true });
  const head = (await findHead(db, groupId)) ?? { seq: 0, hash: GENESIS_HASH };
  const size = head.seq;
  if (size > 0) chainVerifyPoolOf(db)?.warm();
  const inline = await checkInlinePlaces(db, groupId, size);
  const found: Array<Found | null> = [inline.problem];

  // On PostgreSQL the database only reads: workers stream the ranges and hash them (see
  // audit.verify-pool.ts). PGlite, in this process, runs the SQL checks.
  const pool = size > inline.end ? chainVerifyPoolOf(db) : null;
  const ranges: Array<() => Promise<Found | null>> = [];
  for (let after = inline.end; after < size; after += RANGE) {
    const through = Math.min(size, after + RANGE);
    const previousHash = after === inline.end ? inline.hash : null;
    ranges.push(async () => {
      if (await cleanInWorker(pool, { kind: 'links', groupId, after, through, previousHash })) return null;
      return linkProblem(await checkLinkRange(db, { groupId, after, through, previousHash }), after, through);
    });
  }
  const tree = await treeChecks(db, groupId, size, inline.end, pool);
  found.push(tree.shape);
  // The count of the events the chain should hold reads both tables whole: it runs beside the
  // ranges rather than after them, while a core would otherwise wait for the last range.
  const counting = countLinkableEvents(db, groupId).then(
    (counted) => ({ counted }),
    (error: unknown) => ({ error }),
  );
  found.push(...(await runLimited([...ranges, ...tree.tasks], pool?.size ?? PARALLEL)));
  found.push(await checkVersion3Content(db, groupId));
  const lastHash = size === 0 ? GENESIS_HASH : await findPlaceHash(db, groupId, size);
  if (lastHash !== undefined && lastHash !== head.hash)
    found.push({
      place: size,
      kind: 'altered',
      seq: size,
      eventId: null,
      detail: 'the last place does not match the chain head',
    });
  let problem = first(found);
  // The chain holds, so its links name existing events. Only when some event is named by no
  // link and waits for no sealer (more events than that) is the event looked for.
  const counts = await counting;
  if ('error' in counts) throw counts.error;
  const counted = problem ? null : counts.counted;
  if (counted && counted.events !== counted.linked + counted.pending) {
    const unlinked = await findUnlinkedEvent(db, groupId);
    if (unlinked)
      problem = {
        place: size + 1,
        kind: 'inserted',
        seq: unlinked.seq,
        eventId: unlinked.id,
        detail: `event ${unlinked.seq} is in no place of the chain`,
      };
  }
  if (!problem) return { intact: true, checked: size, headSeq: size, firstProblem: null };
  const { place, ...firstProblem } = problem;
  return { intact: false, checked: Math.max(0, Math.min(size, place - 1)), headSeq: size, firstProblem };
}

/** Version 3 events against the content hash the server stored when it wrote them. */
async function checkVersion3Content(db: Db, groupId: string): Promise<Found | null> {
  let best: Found | null = null;
  for (let after = 0; ;) {
    const page = await findVersion3Page(db, groupId, after, 1000);
    if (page.length === 0) return best;
    for (const row of page) {
      if (row.place !== null && !hasOwnContentHash(row) && (!best || row.place < best.place))
        best = {
          place: row.place,
          kind: 'altered',
          seq: row.seq,
          eventId: row.id,
          detail: `event ${row.seq} does not match its hash (place ${row.place} of the chain)`,
        };
    }
    after = page.at(-1)!.seq;
  }
}

// ---------------------------------------------------------------- against the checkpoints

const SEVERITY: ChainProblem[] = ['truncated', 'forked', 'rewritten', 'checkpoint_forged', 'checkpoint_missing'];

interface Held {
  treeSize: number;
  rootHash: Buffer;
  signedAt: Date;
  keyId: string;
  source: 'database' | 'file';
  /** Whether its signature holds under a log key (checked when it matters). */
  isSigned: () => boolean;
}

/** The newest this many checkpoints of each source have their signatures checked even when they agree with the tree. */
const SIGNATURES_CHECKED = 1000;

/**
 * Everything `verifyChain` checks, and then the tree against every checkpoint of the database
 * and of this server's file. First, whatever is pending is sealed and a checkpoint signed if the
 * tree grew (never over a tree that no longer extends the earlier ones). A signed checkpoint
 * larger than the tree means the log was cut short; one whose root the tree no longer has, that
 * it was rewritten — or, when a later signed checkpoint matches the tree, that the key signed two
 * histories (forked). A checkpoint of the file that the database lost is reported too. The roots
 * of every size come from one read of the stored subtrees (which the chain check found to match
 * the events); signatures are checked for every checkpoint that disagrees with the tree and for
 * the newest of each source: an older one that agrees can hide nothing.
 */
export async function verifyLog(ctx: CheckpointContext, groupId: string): Promise<LogReport> {
  // The workers start (a quarter of a second) while the log is sealed and signed.
  chainVerifyPoolOf(ctx.db)?.warm();
  await sealPending(ctx.db, groupId, { wait: true });
  const signing = await signNow(ctx, groupId);
  const chain = await verifyChain(ctx.db, groupId);
  const keys = await findLogPublicKeys(ctx);
  const once = <T>(check: () => T) => {
    let known: { value: T } | undefined;
    return () => (known ??= { value: check() }).value;
  };
  const stored: Held[] = (await findCheckpoints(ctx.db, groupId)).map((c) => ({
    ...c,
    source: 'database',
    isSigned: once(() => isGenuine(c, keys)),
  }));
  const problems: Found[] = [];
  const file: Held[] = [];
  for (const entry of await readCheckpointFile(ctx.config.audit.dir, groupId)) {
    if ('error' in entry) {
      problems.push({
        place: 0,
        kind: 'checkpoint_forged',
        seq: 0,
        eventId: null,
        detail: `line ${entry.line} of this server's checkpoint file is not a checkpoint: ${entry.error}`,
      });
      continue;
    }
    const { checkpoint } = entry;
    const key = once(() => [...keys.values()].find((k) => isSignedBy(checkpoint, k))?.keyId ?? '');
    file.push({
      ...checkpoint,
      get keyId() {
        return key();
      },
      source: 'file',
      isSigned: once(() => checkpoint.groupId === groupId && key() !== ''),
    });
  }
  const size = chain.headSeq;
  const held = [...stored, ...file];
  const roots = await treeRoots(
    ctx.db,
    groupId,
    held.filter((h) => h.treeSize <= size).map((h) => h.treeSize),
  );
  const recent = new Set(
    [stored, file].flatMap((source) =>
      [...source].sort((a, b) => b.treeSize - a.treeSize).slice(0, SIGNATURES_CHECKED),
    ),
  );
  const matching: Held[] = [];
  const differing: Held[] = [];
  const forged = (h: Held) =>
    problems.push({
      place: h.treeSize,
      kind: 'checkpoint_forged',
      seq: h.treeSize,
      eventId: null,
      detail: `checkpoint ${h.treeSize} (${h.source === 'file' ? "this server's file" : 'database'}) is not signed by a log key`,
    });
  for (const h of held) {
    const root = h.treeSize <= size ? roots.get(h.treeSize) : undefined;
    const agrees = root?.equals(h.rootHash) === true;
    if (!agrees || recent.has(h)) {
      if (!h.isSigned()) {
        forged(h);
        continue;
      }
    }
    if (h.treeSize > size) {
      problems.push({
        place: size + 1,
        kind: 'truncated',
        seq: size + 1,
        eventId: null,
        detail: `a checkpoint (${h.source === 'file' ? "this server's file" : 'database'}, ${h.signedAt.toISOString()}) was signed over ${h.treeSize} places; the log has ${size}`,
      });
      continue;
    }
    (agrees ? matching : differing).push(h);
  }
  const largestMatch = Math.max(0, ...matching.map((h) => h.treeSize));
  for (const held of differing)
    problems.push({
      place: held.treeSize,
      kind: largestMatch >= held.treeSize ? 'forked' : 'rewritten',
      seq: held.treeSize,
      eventId: null,
      detail:
        largestMatch >= held.treeSize
          ? `checkpoint ${held.treeSize} (${held.source === 'file' ? "this server's file" : 'database'}) and checkpoint ${largestMatch} describe different histories`
          : `the log's first ${held.treeSize} places are not those checkpoint ${held.treeSize} (${held.source === 'file' ? "this server's file" : 'database'}, ${held.signedAt.toISOString()}) signed`,
    });
  const inDatabase = new Set(stored.map((h) => `${h.treeSize}:${h.rootHash.toString('hex')}`));
  for (const held of file.filter((h) => h.treeSize <= size && (matching.includes(h) || differing.includes(h))))
    if (!inDatabase.has(`${held.treeSize}:${held.rootHash.toString('hex')}`))
      problems.push({
        place: held.treeSize,
        kind: 'checkpoint_missing',
        seq: held.treeSize,
        eventId: null,
        detail: `checkpoint ${held.treeSize} of this server's file is gone from the database`,
      });
  const newest = [...matching].sort((a, b) => b.treeSize - a.treeSize)[0];
  const checkpoint = newest
    ? {
        treeSize: newest.treeSize,
        rootHash: newest.rootHash.toString('hex'),
        signedAt: newest.signedAt,
        keyId: newest.keyId,
      }
    : null;
  const checkpointsChecked = stored.length + file.length;
  // Problems of the chain itself come first: they say which event. Then the gravest of the rest.
  const problem = chain.firstProblem
    ? null
    : (problems.sort((a, b) => SEVERITY.indexOf(a.kind) - SEVERITY.indexOf(b.kind) || a.place - b.place)[0] ?? null);
  if (!problem) return { ...chain, checkpoint, checkpointsChecked, signing };
  const { place: _place, ...firstProblem } = problem;
  return { ...chain, intact: false, firstProblem, checkpoint, checkpointsChecked, signing };
}
