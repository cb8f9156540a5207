import { WriteBatch } from '../db/batch.js';
import type { Db, Transaction } from '../db/schema.js';
import { AppError } from '../server/errors.js';
import { BlobMissingError, isSha256Hex, type BlobStore } from './blob-store.js';
import {
  blobInsert,
  blobsInsert,
  blobUploadInsert,
  findBlob,
  findBlobs,
  findUploadedAmong,
  hasUploaded,
  insertBlob,
  insertBlobUpload,
  type BlobRecord,
} from './blob.repository.js';

export type { BlobRecord } from './blob.repository.js';

function blobNotFound(sha256: string): AppError {
  return new AppError('blob_not_found', `No file with SHA-256 ${sha256} belongs to your group.`);
}

/** Bytes to store for a group, and who brought them (null: the platform made them). */
export interface BlobInput {
  groupId: string;
  bytes: Uint8Array;
  mediaType: string;
  originalName?: string | null;
  createdBy: string | null;
  at?: Date;
}

/**
 * Stores bytes for a group: the bytes go to the store first, then the ownership rows are
 * written in the caller's transaction: the group's (the first upload of a hash) and the
 * uploader's (every uploader of the same bytes holds them, not only the first). In that order a
 * committed row always has its bytes; a rolled-back transaction leaves at most unreferenced
 * bytes, which are harmless (and the next upload of the same content reuses them).
 */
export async function storeBlob(trx: Transaction, store: BlobStore, input: BlobInput): Promise<BlobRecord> {
  const { sha256, size } = await store.put(input.bytes);
  await insertBlob(trx, {
    groupId: input.groupId,
    sha256,
    size,
    mediaType: input.mediaType,
    originalName: input.originalName ?? null,
    createdBy: input.createdBy,
    at: input.at ?? new Date(),
  });
  if (input.createdBy !== null)
    await insertBlobUpload(trx, {
      groupId: input.groupId,
      sha256,
      uploadedBy: input.createdBy,
      originalName: input.originalName ?? null,
      at: input.at ?? new Date(),
    });
  const row = await findBlob(trx, { groupId: input.groupId, sha256 });
  if (!row) throw new Error(`blob ${sha256} was recorded but cannot be read back`);
  return row;
}

/**
 * The same as `storeBlob` for a caller that needs only the hash (a signed copy): both records are
 * written in one statement and nothing is read back; with `batch`, they join the caller's
 * statement instead (sent when the caller runs it).
 */
export async function storeBlobBytes(
  trx: Transaction,
  store: BlobStore,
  input: BlobInput,
  batch?: WriteBatch,
): Promise<{ sha256: string; size: number }> {
  const { sha256, size } = await store.put(input.bytes);
  const at = input.at ?? new Date();
  const originalName = input.originalName ?? null;
  const writes = (batch ?? new WriteBatch()).add(
    blobInsert(trx, {
      groupId: input.groupId,
      sha256,
      size,
      mediaType: input.mediaType,
      originalName,
      createdBy: input.createdBy,
      at,
    }),
    input.createdBy === null
      ? null
      : blobUploadInsert(trx, { groupId: input.groupId, sha256, uploadedBy: input.createdBy, originalName, at }),
  );
  if (!batch) await writes.run(trx);
  return { sha256, size };
}

/**
 * `storeBlobBytes` for several files at once (a batch's signed copies): every file goes to the
 * store first, then all their rows in one statement of the caller's transaction (or, with `batch`,
 * in the caller's statement), with the same effect as storing each. Answers each file's hash and
 * size, in the given order.
 */
export async function storeBlobs(
  trx: Transaction,
  store: BlobStore,
  inputs: readonly BlobInput[],
  batch?: WriteBatch,
): Promise<Array<{ sha256: string; size: number }>> {
  if (inputs.length === 0) return [];
  const stored = await Promise.all(inputs.map((input) => store.put(input.bytes)));
  const { blobs, uploads } = blobsInsert(
    trx,
    inputs.map((input, i) => ({
      groupId: input.groupId,
      sha256: stored[i]!.sha256,
      size: stored[i]!.size,
      mediaType: input.mediaType,
      originalName: input.originalName ?? null,
      createdBy: input.createdBy,
      at: input.at ?? new Date(),
    })),
  );
  const writes = (batch ?? new WriteBatch()).add(blobs, uploads);
  if (!batch) await writes.run(trx);
  return stored;
}

/** The group's blob records among these hashes, by hash (strings that are not a SHA-256 find nothing). */
export async function findGroupBlobs(
  db: Db | Transaction,
  where: { groupId: string; sha256s: readonly string[] },
): Promise<Map<string, BlobRecord>> {
  const rows = await findBlobs(db, {
    groupId: where.groupId,
    sha256s: [...new Set(where.sha256s)].filter(isSha256Hex),
  });
  return new Map(rows.map((row) => [row.sha256, row]));
}

/** Which of these blobs the person (or API key) stored themselves (`isUploadedBy` for many at once). */
export async function findUploadedBy(
  db: Db | Transaction,
  where: { groupId: string; sha256s: readonly string[]; userId: string },
): Promise<Set<string>> {
  return findUploadedAmong(db, {
    groupId: where.groupId,
    sha256s: [...new Set(where.sha256s)].filter(isSha256Hex),
    uploadedBy: where.userId,
  });
}

/** A group's blob record, or nothing (also for a string that is not a SHA-256). */
export async function findGroupBlob(
  db: Db | Transaction,
  where: { groupId: string; sha256: string },
): Promise<BlobRecord | undefined> {
  return isSha256Hex(where.sha256) ? findBlob(db, where) : undefined;
}

/**
 * A group's blob record, or `blob_not_found`. The same answer whether the hash is unknown
 * or belongs to another group: a hash must not work as a key to another tenant's file.
 */
export async function getGroupBlob(
  db: Db | Transaction,
  where: { groupId: string; sha256: string },
): Promise<BlobRecord> {
  const row = await findGroupBlob(db, where);
  if (!row) throw blobNotFound(where.sha256);
  return row;
}

/** Throws `blob_not_found` unless the group owns the blob: call it before saving a reference to a hash a client sent. */
export async function assertGroupBlob(db: Db | Transaction, where: { groupId: string; sha256: string }): Promise<void> {
  await getGroupBlob(db, where);
}

/** Whether the person (or API key) stored this blob of their group themselves: ownership is per upload, not per hash. */
export async function isUploadedBy(
  db: Db | Transaction,
  where: { groupId: string; sha256: string; userId: string },
): Promise<boolean> {
  if (!isSha256Hex(where.sha256)) return false;
  return hasUploaded(db, { groupId: where.groupId, sha256: where.sha256, uploadedBy: where.userId });
}

/** A group's blob with its bytes (checked against the hash). */
export async function readGroupBlob(
  db: Db | Transaction,
  store: BlobStore,
  where: { groupId: string; sha256: string },
): Promise<{ blob: BlobRecord; bytes: Buffer }> {
  const blob = await getGroupBlob(db, where);
  try {
    return { blob, bytes: await store.get(blob.sha256) };
  } catch (error) {
    // The row says the group owns it but the bytes are gone: an operator problem, not the caller's.
    if (error instanceof BlobMissingError)
      throw new Error(`blob ${blob.sha256} of group ${blob.groupId} is recorded but missing from the store`, {
        cause: error,
      });
    throw error;
  }
}
