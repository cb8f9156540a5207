// Signed checkpoints of every group's audit tree: the deployment's log key (made on first need,
// sealed under the master key or generated in the PKCS#11 token like the CA keys), signing a
// checkpoint only when the tree still extends every earlier one, and each server's file of the
// checkpoints it has seen, appended only after the same check.
import type { KeyObject } from 'node:crypto';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { type KeyVault, type KeySigner } from '../../signing/index.js';
import type { Transaction } from '../../db/schema.js';
import * as repo from './audit-tree.repository.js';
import { appendCheckpointFile, readLatestCheckpointFile } from './checkpoint.file.js';
import {
  checkpointBody,
  checkpointNote,
  isSignedBy,
  isValidSignature,
  keyIdOf,
  LOG_KEY_ALGORITHM,
  readPublicKey,
  type CheckpointStatement,
} from './checkpoint.note.js';
import { nodeKey, nodesOf, nodesOfAll, rangeHash, EMPTY_ROOT } from './merkle.js';

export type CheckpointContext = Pick<AppContext, 'db' | 'keys' | 'config' | 'now'>;
export type { StoredCheckpoint } from './audit-tree.repository.js';

export interface CheckpointLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

// ---------------------------------------------------------------- the log key

/**
 * The deployment's log key, made on first need: one key for every group, because a checkpoint
 * names its group in its origin line; relying parties pin one public key; and under PKCS#11 it is
 * one token object beside the root CA's, not one per tenant. Creators in several processes are
 * serialised by an advisory lock, and the unique index on the active key backs it.
 */
export async function ensureLogKey(ctx: CheckpointContext): Promise<repo.LogKeyRecord> {
  const found = await repo.findActiveLogKey(ctx.db);
  if (found) return found;
  await ctx.db.transaction().execute(async (trx) => {
    await repo.lockNamed(trx, 'sigil:audit:log-key');
    if (await repo.findActiveLogKey(trx)) return;
    const id = newId();
    const { reference, signer } = await ctx.keys.generate('ECDSA-P256', `audit-log:${id}`);
    await repo.insertLogKey(trx, {
      id,
      keyId: keyIdOf(signer.publicKey),
      algorithm: LOG_KEY_ALGORITHM,
      publicKey: signer.publicKey,
      reference,
    });
  });
  const key = await repo.findActiveLogKey(ctx.db);
  if (!key) throw new Error('the audit log key was created but cannot be read back');
  return key;
}

const openSigners = new WeakMap<KeyVault, Map<string, Promise<KeySigner>>>();

/** The log key's signer, opened once per vault (a sealed key is decrypted once, a token session kept). */
function logSigner(ctx: CheckpointContext, key: repo.LogKeyRecord): Promise<KeySigner> {
  let byKey = openSigners.get(ctx.keys);
  if (!byKey) openSigners.set(ctx.keys, (byKey = new Map()));
  let signer = byKey.get(key.keyId);
  if (!signer) {
    signer = ctx.keys.open(key.reference, `audit-log:${key.id}`);
    signer.catch(() => byKey.delete(key.keyId));
    byKey.set(key.keyId, signer);
  }
  return signer;
}

export type PublicKeys = Map<string, { record: repo.LogKeyRecord; key: KeyObject; keyId: string }>;

/** The public halves of every log key, by key id (older checkpoints keep the key they were signed with). */
export async function findLogPublicKeys(ctx: CheckpointContext): Promise<PublicKeys> {
  const keys = await repo.findLogKeys(ctx.db);
  return new Map(keys.map((k) => [k.keyId, { record: k, ...readPublicKey(k.publicKey) }]));
}

/** Whether a stored checkpoint's signature holds under the log key it names. */
export function isGenuine(checkpoint: repo.StoredCheckpoint, keys: PublicKeys): boolean {
  const key = keys.get(checkpoint.keyId);
  return key !== undefined && isValidSignature(checkpointBody(checkpoint), checkpoint.signature, key.key);
}

// ---------------------------------------------------------------- roots

export class TreeNodeMissing extends Error {}

/** MTH of the group's first `size` leaves, from the stored perfect subtrees (O(log n) rows). */
export async function treeRoot(
  db: CheckpointContext['db'] | Transaction,
  groupId: string,
  size: number,
): Promise<Buffer> {
  if (size === 0) return EMPTY_ROOT;
  const refs = nodesOf([0, size]);
  const nodes = await repo.findTreeNodes(db, groupId, refs);
  return rangeHash([0, size], (ref) => {
    const found = nodes.get(nodeKey(ref));
    if (!found) throw new TreeNodeMissing(`node (${ref.level}, ${ref.idx}) of the audit tree is missing`);
    return found;
  });
}

/** Nodes read per statement when many roots are wanted. */
const NODES_PER_READ = 20_000;

/**
 * MTH of the group's first `size` leaves for each size, from the stored perfect subtrees, each
 * node read once (many sizes share them); null for a size whose nodes are not all stored.
 */
export async function treeRoots(
  db: CheckpointContext['db'],
  groupId: string,
  sizes: number[],
): Promise<Map<number, Buffer | null>> {
  const distinct = [...new Set(sizes.filter((s) => s > 0))];
  const refs = nodesOfAll(distinct.map((s) => [0, s] as const));
  const nodes = new Map<string, Buffer>();
  for (let i = 0; i < refs.length; i += NODES_PER_READ)
    for (const [key, hash] of await repo.findTreeNodes(db, groupId, refs.slice(i, i + NODES_PER_READ)))
      nodes.set(key, hash);
  const roots = new Map<number, Buffer | null>([[0, EMPTY_ROOT]]);
  for (const size of distinct) {
    try {
      roots.set(
        size,
        rangeHash([0, size], (ref) => {
          const found = nodes.get(nodeKey(ref));
          if (!found) throw new TreeNodeMissing(`node (${ref.level}, ${ref.idx}) of the audit tree is missing`);
          return found;
        }),
      );
    } catch (error) {
      if (!(error instanceof TreeNodeMissing)) throw error;
      roots.set(size, null);
    }
  }
  return roots;
}

// ---------------------------------------------------------------- signing

export type SignOutcome =
  | { kind: 'signed'; checkpoint: repo.StoredCheckpoint; note: string }
  | { kind: 'current'; checkpoint: repo.StoredCheckpoint | undefined }
  | { kind: 'not_due' }
  | { kind: 'refused'; reason: string };

export const noteOf = (checkpoint: repo.StoredCheckpoint) => checkpointNote(checkpoint);

/**
 * Signs a checkpoint of the group's tree as it is now, when it grew since the newest one and
 * (without `force`) that one is old enough. The head is locked meanwhile, so the tree holds still.
 * Refused when the tree no longer extends the newest checkpoint of the table or of this server's
 * file (it was cut short or rewritten): a signature would vouch for the changed history.
 */
export async function signCheckpoint(
  ctx: CheckpointContext,
  groupId: string,
  options: { force: boolean },
): Promise<SignOutcome> {
  const key = await ensureLogKey(ctx);
  const signer = await logSigner(ctx, key);
  const keys = await findLogPublicKeys(ctx);
  const remembered = await rememberedCheckpoint(ctx, groupId, keys);
  const outcome = await ctx.db.transaction().execute(async (trx): Promise<SignOutcome> => {
    const head = await repo.lockHead(trx, groupId);
    const size = head?.size ?? 0;
    // The newest checkpoint whose signature holds: a row someone put in the database without the key is not one.
    const latest = (await repo.findNewestCheckpointsOf(trx, groupId, 10)).find((c) => isGenuine(c, keys));
    if (latest && latest.treeSize > size)
      return {
        kind: 'refused',
        reason: `the tree has ${size} leaves, fewer than checkpoint ${latest.treeSize} signed`,
      };
    if (size === 0 || latest?.treeSize === size) return { kind: 'current', checkpoint: latest };
    const now = ctx.now();
    if (
      !options.force &&
      latest &&
      now.getTime() - latest.signedAt.getTime() < ctx.config.audit.checkpointSeconds * 1000
    )
      return { kind: 'not_due' };
    for (const earlier of [latest, remembered]) {
      if (!earlier) continue;
      if (earlier.treeSize > size)
        return { kind: 'refused', reason: `the tree has ${size} leaves, fewer than checkpoint ${earlier.treeSize}` };
      const refusal = await extendsCheckpoint(trx, groupId, earlier);
      if (refusal) return { kind: 'refused', reason: refusal };
    }
    let rootHash: Buffer;
    try {
      rootHash = await treeRoot(trx, groupId, size);
    } catch (error) {
      if (error instanceof TreeNodeMissing) return { kind: 'refused', reason: error.message };
      throw error;
    }
    const statement: CheckpointStatement = { groupId, treeSize: size, rootHash, signedAt: now };
    const signature = await signer.sign(Buffer.from(checkpointBody(statement), 'utf8'), 'SHA-256');
    const checkpoint = { ...statement, keyId: key.keyId, signature };
    await repo.insertCheckpoint(trx, checkpoint);
    return { kind: 'signed', checkpoint, note: checkpointNote(checkpoint) };
  });
  if (outcome.kind === 'signed') await appendCheckpointFile(ctx.config.audit.dir, groupId, outcome.note);
  return outcome;
}

/** Why the tree no longer extends an earlier checkpoint, or null when it does. */
async function extendsCheckpoint(
  db: CheckpointContext['db'] | Transaction,
  groupId: string,
  earlier: { treeSize: number; rootHash: Buffer },
): Promise<string | null> {
  try {
    const root = await treeRoot(db, groupId, earlier.treeSize);
    return root.equals(earlier.rootHash)
      ? null
      : `the tree's first ${earlier.treeSize} leaves no longer have the root checkpoint ${earlier.treeSize} signed`;
  } catch (error) {
    if (error instanceof TreeNodeMissing) return error.message;
    throw error;
  }
}

/**
 * The newest checkpoint of this server's file whose signature holds. One that does not is left
 * out (someone wrote it who has the directory but not the key); verification reports it.
 */
async function rememberedCheckpoint(ctx: CheckpointContext, groupId: string, keys: PublicKeys) {
  const entry = await readLatestCheckpointFile(ctx.config.audit.dir, groupId);
  if (!entry || !('checkpoint' in entry)) return undefined;
  const { checkpoint } = entry;
  if (checkpoint.groupId !== groupId) return undefined;
  const signedBy = [...keys.values()].some((k) => isSignedBy(checkpoint, k));
  return signedBy ? checkpoint : undefined;
}

// ---------------------------------------------------------------- the server's file

export type WitnessOutcome =
  { groupId: string; kind: 'appended'; treeSize: number } | { groupId: string; kind: 'refused'; reason: string };

/**
 * Appends to this server's file the newest checkpoint of each group that it has not seen yet,
 * once its signature holds and the tree still matches both it and the newest one the file holds.
 * A server that has never seen a group's checkpoints takes the table's on first sight.
 */
export async function witnessCheckpoints(ctx: CheckpointContext): Promise<WitnessOutcome[]> {
  const outcomes: WitnessOutcome[] = [];
  const newest = await repo.findNewestCheckpoints(ctx.db);
  if (newest.length === 0) return outcomes;
  let keys: Awaited<ReturnType<typeof findLogPublicKeys>> | undefined;
  for (const checkpoint of newest) {
    const { groupId } = checkpoint;
    const entry = await readLatestCheckpointFile(ctx.config.audit.dir, groupId);
    const known = entry && 'checkpoint' in entry ? entry.checkpoint : undefined;
    if (known && known.treeSize >= checkpoint.treeSize) {
      if (known.treeSize > checkpoint.treeSize)
        outcomes.push({
          groupId,
          kind: 'refused',
          reason: `the newest checkpoint in the database (${checkpoint.treeSize}) is older than this server's (${known.treeSize})`,
        });
      continue;
    }
    keys ??= await findLogPublicKeys(ctx);
    if (!isGenuine(checkpoint, keys)) {
      outcomes.push({
        groupId,
        kind: 'refused',
        reason: `checkpoint ${checkpoint.treeSize} is not signed by a log key`,
      });
      continue;
    }
    const refusal =
      (await extendsCheckpoint(ctx.db, groupId, checkpoint)) ??
      (known && (await extendsCheckpoint(ctx.db, groupId, known)));
    if (refusal) {
      outcomes.push({ groupId, kind: 'refused', reason: refusal });
      continue;
    }
    await appendCheckpointFile(ctx.config.audit.dir, groupId, checkpointNote(checkpoint));
    outcomes.push({ groupId, kind: 'appended', treeSize: checkpoint.treeSize });
  }
  return outcomes;
}

/**
 * One round for a server: signs the checkpoints that are due (with `force`, of every tree that
 * grew), then brings its file up to date.
 * A refusal is an alarm (the log was changed under the server) and is logged as an error.
 */
export async function checkpointRound(
  ctx: CheckpointContext,
  logger: CheckpointLogger,
  options: { force: boolean } = { force: false },
): Promise<void> {
  const now = ctx.now().getTime();
  const due = await repo.findGroupsDueForCheckpoint(
    ctx.db,
    new Date(options.force ? now : now - ctx.config.audit.checkpointSeconds * 1000),
  );
  for (const groupId of due) {
    const outcome = await signCheckpoint(ctx, groupId, options);
    if (outcome.kind === 'refused')
      logger.error({ groupId, reason: outcome.reason }, 'audit: refused to sign a checkpoint; run sigil audit verify');
  }
  for (const outcome of await witnessCheckpoints(ctx))
    if (outcome.kind === 'refused')
      logger.error(
        { groupId: outcome.groupId, reason: outcome.reason },
        'audit: a checkpoint of the database was not recorded; run sigil audit verify',
      );
}
