// Checking an exported audit log offline, with no database and no account: only the export
// (`GET /api/v1/audit/export`), checkpoints saved earlier and the log's public key. Every place
// is recomputed from the bytes its hash covers, the tree is built a leaf at a time, and each
// checkpoint's root is compared when the tree reaches its size.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GENESIS_HASH, linkHash, sha256Hex } from './audit.hashes.js';
import type { ChainProblem } from './audit.verify.js';
import {
  CheckpointFormatError,
  isSignedBy,
  parseCheckpoint,
  readPublicKey,
  type ParsedCheckpoint,
} from './checkpoint.note.js';
import { leafHash, TreeBuilder } from './merkle.js';

/** The files given cannot be read as what they should be: a usage problem, not a verdict on the log. */
export class OfflineInputError extends Error {}

export interface OfflineReport {
  intact: boolean;
  groupId: string;
  /** Places the export holds and that were checked. */
  checked: number;
  checkpoints: Array<{ treeSize: number; signedAt: Date; rootHash: string; matches: boolean }>;
  /** Places after the largest checkpoint: checked as a chain, but no signature covers them. */
  uncovered: number;
  firstProblem: { kind: ChainProblem; seq: number; eventId: string | null; detail: string } | null;
}

/** A public key as PEM, or the JSON `GET /api/v1/audit/log-key` answers. */
export function readLogKey(text: string) {
  const trimmed = text.trim();
  let pem = trimmed;
  if (trimmed.startsWith('{')) {
    const value = parseJson(trimmed, 'the public key file') as { publicKey?: unknown };
    if (typeof value.publicKey !== 'string') throw new OfflineInputError('the public key file has no publicKey');
    pem = value.publicKey;
  }
  try {
    return readPublicKey(pem);
  } catch (error) {
    throw new OfflineInputError(error instanceof Error ? error.message : String(error));
  }
}

/** A checkpoint as its signed note, or the JSON `GET /api/v1/audit/checkpoints/latest` answers. */
export function readCheckpoint(text: string, name: string): ParsedCheckpoint {
  let note = text;
  if (text.trimStart().startsWith('{')) {
    const value = parseJson(text, name) as { note?: unknown };
    if (typeof value.note !== 'string') throw new OfflineInputError(`${name} has no note`);
    note = value.note;
  }
  try {
    return parseCheckpoint(note);
  } catch (error) {
    if (error instanceof CheckpointFormatError) throw new OfflineInputError(`${name}: ${error.message}`);
    throw error;
  }
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new OfflineInputError(`${name} is not JSON`);
  }
}

interface Line {
  place: number;
  version: number | null;
  prevHash: string;
  hash: string;
  said: string | null;
}

const HEX32 = /^[0-9a-f]{64}$/;

function readLine(text: string, number: number): Line {
  const value = parseJson(text, `line ${number} of the log`) as Partial<Line>;
  const { place, version, prevHash, hash, said } = value;
  if (
    typeof place !== 'number' ||
    !Number.isSafeInteger(place) ||
    !(version === null || version === 1 || version === 2 || version === 3 || version === 4) ||
    typeof prevHash !== 'string' ||
    !HEX32.test(prevHash) ||
    typeof hash !== 'string' ||
    !HEX32.test(hash) ||
    !(said === null || typeof said === 'string')
  )
    throw new OfflineInputError(`line ${number} of the log is not a place of an exported log`);
  return { place, version, prevHash, hash, said };
}

/** Which group and place the bytes of a place claim, by chain version (null: they claim none that can be read). */
function claimed(line: Line): { groupId: unknown; seq?: unknown; prevHash?: unknown } | null {
  try {
    const said = JSON.parse(line.said!) as unknown;
    if (line.version === 4) return Array.isArray(said) ? { groupId: said[0] } : null;
    return said !== null && typeof said === 'object' ? (said as { groupId: unknown }) : null;
  } catch {
    return null;
  }
}

interface Found {
  place: number;
  kind: ChainProblem;
  detail: string;
}

const SEVERITY: ChainProblem[] = ['truncated', 'forked', 'rewritten', 'checkpoint_forged'];

/**
 * Verifies an export against checkpoints signed by the log key. The first line must be the
 * export's header; every other line a place of the chain, in order.
 */
export async function verifyExport(input: {
  log: Readable;
  checkpoints: Array<{ name: string; text: string }>;
  publicKey: string;
}): Promise<OfflineReport> {
  const key = readLogKey(input.publicKey);
  if (input.checkpoints.length === 0) throw new OfflineInputError('at least one checkpoint is needed');
  const checkpoints = input.checkpoints.map((c) => readCheckpoint(c.text, c.name));
  const lines = createInterface({ input: input.log, crlfDelay: Infinity });
  let number = 0;
  let groupId: string | null = null;
  const chain: Found[] = [];
  const tree = new TreeBuilder();
  const roots = new Map<number, Buffer>();
  const wanted = new Set(checkpoints.map((c) => c.treeSize));
  let previousHash = GENESIS_HASH;
  let expected = 1;
  for await (const text of lines) {
    number += 1;
    if (number === 1) {
      const header = parseJson(text, 'the first line of the log') as { format?: unknown; groupId?: unknown };
      if (header.format !== 'sigil-audit-log/1' || typeof header.groupId !== 'string')
        throw new OfflineInputError('the first line of the log is not the header of a sigil-audit-log/1 export');
      groupId = header.groupId;
      const other = checkpoints.find((c) => c.groupId !== groupId);
      if (other) throw new OfflineInputError(`a checkpoint is of group ${other.groupId}, the log of group ${groupId}`);
      continue;
    }
    if (text.length === 0) continue;
    const line = readLine(text, number);
    if (chain.length > 0) continue; // the first problem is enough; the rest is only read
    const at = (kind: ChainProblem, detail: string) => chain.push({ place: line.place, kind, detail });
    if (line.place !== expected) {
      if (line.place > expected)
        chain.push({ place: expected, kind: 'missing', detail: `places ${expected}..${line.place - 1} are missing` });
      else at('inserted', `place ${line.place} comes again after place ${expected - 1}`);
      continue;
    }
    if (line.prevHash !== previousHash) {
      at('inserted', `place ${line.place} does not follow place ${line.place - 1}`);
      continue;
    }
    if (line.said === null) {
      at('missing', `the event of place ${line.place} is missing`);
      continue;
    }
    const claim = claimed(line);
    const hash = line.version === 1 ? sha256Hex(line.said) : linkHash(line.prevHash, line.place, sha256Hex(line.said));
    if (
      hash !== line.hash ||
      !claim ||
      claim.groupId !== groupId ||
      (line.version === 1 && (claim.seq !== line.place || claim.prevHash !== line.prevHash))
    ) {
      at('altered', `place ${line.place} does not match its hash`);
      continue;
    }
    tree.push(leafHash(Buffer.from(hash, 'hex')));
    if (wanted.has(tree.size)) roots.set(tree.size, tree.root());
    previousHash = hash;
    expected += 1;
  }
  if (groupId === null) throw new OfflineInputError('the log is empty');

  const problems: Found[] = [];
  const report: OfflineReport['checkpoints'] = [];
  for (const checkpoint of [...checkpoints].sort((a, b) => a.treeSize - b.treeSize)) {
    const root = roots.get(checkpoint.treeSize);
    const signed = isSignedBy(checkpoint, key);
    report.push({
      treeSize: checkpoint.treeSize,
      signedAt: checkpoint.signedAt,
      rootHash: checkpoint.rootHash.toString('hex'),
      matches: signed && root !== undefined && root.equals(checkpoint.rootHash),
    });
    if (!signed)
      problems.push({
        place: checkpoint.treeSize,
        kind: 'checkpoint_forged',
        detail: `checkpoint ${checkpoint.treeSize} is not signed by this key`,
      });
    else if (checkpoint.treeSize > tree.size && chain.length === 0)
      problems.push({
        place: tree.size + 1,
        kind: 'truncated',
        detail: `checkpoint ${checkpoint.treeSize} (${checkpoint.signedAt.toISOString()}) was signed over ${checkpoint.treeSize} places; the log has ${tree.size}`,
      });
  }
  const genuine = checkpoints.filter((c) => isSignedBy(c, key) && roots.has(c.treeSize));
  const matching = genuine.filter((c) => roots.get(c.treeSize)!.equals(c.rootHash));
  const largestMatch = Math.max(0, ...matching.map((c) => c.treeSize));
  for (const checkpoint of genuine.filter((c) => !matching.includes(c))) {
    const twin = genuine.find((c) => c.treeSize === checkpoint.treeSize && !c.rootHash.equals(checkpoint.rootHash));
    const forked = twin !== undefined || largestMatch >= checkpoint.treeSize;
    problems.push({
      place: checkpoint.treeSize,
      kind: forked ? 'forked' : 'rewritten',
      detail: forked
        ? `checkpoint ${checkpoint.treeSize} (${checkpoint.signedAt.toISOString()}) and another checkpoint describe different histories`
        : `the log's first ${checkpoint.treeSize} places are not those checkpoint ${checkpoint.treeSize} (${checkpoint.signedAt.toISOString()}) signed`,
    });
  }
  const first =
    chain[0] ?? problems.sort((a, b) => SEVERITY.indexOf(a.kind) - SEVERITY.indexOf(b.kind) || a.place - b.place)[0];
  return {
    intact: first === undefined,
    groupId,
    checked: tree.size,
    checkpoints: report,
    uncovered: Math.max(0, tree.size - Math.max(0, ...matching.map((c) => c.treeSize))),
    firstProblem: first ? { kind: first.kind, seq: first.place, eventId: null, detail: first.detail } : null,
  };
}
