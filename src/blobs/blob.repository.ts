import type { Db, Transaction } from '../db/schema.js';

export interface BlobRecord {
  groupId: string;
  sha256: string;
  size: number;
  mediaType: string;
  originalName: string | null;
  createdBy: string | null;
  createdAt: Date;
}

const columns = [
  'group_id as groupId',
  'sha256',
  'size',
  'media_type as mediaType',
  'original_name as originalName',
  'created_by as createdBy',
  'created_at as createdAt',
] as const;

export interface NewBlob {
  groupId: string;
  sha256: string;
  size: number;
  mediaType: string;
  originalName: string | null;
  createdBy: string | null;
  at: Date;
}

/** Records that a group owns a blob; the first record of a (group, hash) stays, a repeat changes nothing. */
export async function insertBlob(trx: Transaction, row: NewBlob): Promise<void> {
  await blobInsert(trx, row).execute();
}

/** A blob's row as the table holds it. */
const blobValues = (row: NewBlob) => ({
  group_id: row.groupId,
  sha256: row.sha256,
  size: row.size,
  media_type: row.mediaType,
  original_name: row.originalName,
  created_by: row.createdBy,
  created_at: row.at,
});

/** The insert, not yet run, for a statement of the caller's (`WriteBatch`). */
export function blobInsert(trx: Db | Transaction, row: NewBlob) {
  return trx
    .insertInto('blobs')
    .values(blobValues(row))
    .onConflict((oc) => oc.columns(['group_id', 'sha256']).doNothing());
}

/** Records that someone stored the blob (again): the first upload by each person stays, a repeat changes nothing. */
export async function insertBlobUpload(trx: Transaction, row: NewBlobUpload): Promise<void> {
  await blobUploadInsert(trx, row).execute();
}

export interface NewBlobUpload {
  groupId: string;
  sha256: string;
  uploadedBy: string;
  originalName: string | null;
  at: Date;
}

/** An upload's row as the table holds it. */
const uploadValues = (row: NewBlobUpload) => ({
  group_id: row.groupId,
  sha256: row.sha256,
  uploaded_by: row.uploadedBy,
  original_name: row.originalName,
  created_at: row.at,
});

/** The insert, not yet run, for a statement of the caller's (`WriteBatch`). */
export function blobUploadInsert(trx: Db | Transaction, row: NewBlobUpload) {
  return trx
    .insertInto('blob_uploads')
    .values(uploadValues(row))
    .onConflict((oc) => oc.columns(['group_id', 'sha256', 'uploaded_by']).doNothing());
}

/** Whether this person (or API key) stored the blob themselves, at any time. */
export async function hasUploaded(
  db: Db | Transaction,
  where: { groupId: string; sha256: string; uploadedBy: string },
): Promise<boolean> {
  const row = await db
    .selectFrom('blob_uploads')
    .select('sha256')
    .where('group_id', '=', where.groupId)
    .where('sha256', '=', where.sha256)
    .where('uploaded_by', '=', where.uploadedBy)
    .executeTakeFirst();
  return row !== undefined;
}

export async function findBlob(
  db: Db | Transaction,
  where: { groupId: string; sha256: string },
): Promise<BlobRecord | undefined> {
  return db
    .selectFrom('blobs')
    .select(columns)
    .where('group_id', '=', where.groupId)
    .where('sha256', '=', where.sha256)
    .executeTakeFirst();
}

/** A group's blob records among these hashes (one statement for many). */
export async function findBlobs(
  db: Db | Transaction,
  where: { groupId: string; sha256s: readonly string[] },
): Promise<BlobRecord[]> {
  if (where.sha256s.length === 0) return [];
  return db
    .selectFrom('blobs')
    .select(columns)
    .where('group_id', '=', where.groupId)
    .where('sha256', 'in', [...where.sha256s])
    .execute();
}

/** Which of these blobs this person (or API key) stored themselves, at any time. */
export async function findUploadedAmong(
  db: Db | Transaction,
  where: { groupId: string; sha256s: readonly string[]; uploadedBy: string },
): Promise<Set<string>> {
  if (where.sha256s.length === 0) return new Set();
  const rows = await db
    .selectFrom('blob_uploads')
    .select('sha256')
    .where('group_id', '=', where.groupId)
    .where('uploaded_by', '=', where.uploadedBy)
    .where('sha256', 'in', [...where.sha256s])
    .execute();
  return new Set(rows.map((r) => r.sha256));
}

/** The rows of several stored blobs and their uploads, not yet run: two writes for one statement (`WriteBatch`). */
export function blobsInsert(trx: Transaction, rows: readonly NewBlob[]) {
  // One row per (group, hash): the same bytes twice in one insert would be refused by ON CONFLICT.
  const unique = [...new Map(rows.map((r) => [`${r.groupId}:${r.sha256}`, r])).values()];
  const uploads = [
    ...new Map(
      rows.flatMap((r) => (r.createdBy === null ? [] : [[`${r.groupId}:${r.sha256}:${r.createdBy}`, r] as const])),
    ).values(),
  ];
  return {
    blobs: trx
      .insertInto('blobs')
      .values(unique.map(blobValues))
      .onConflict((oc) => oc.columns(['group_id', 'sha256']).doNothing()),
    uploads:
      uploads.length === 0
        ? null
        : trx
            .insertInto('blob_uploads')
            .values(uploads.map((row) => uploadValues({ ...row, uploadedBy: row.createdBy! })))
            .onConflict((oc) => oc.columns(['group_id', 'sha256', 'uploaded_by']).doNothing()),
  };
}
