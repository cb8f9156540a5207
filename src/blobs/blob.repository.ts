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

/** The insert, not yet run, for a statement of the caller's (`WriteBatch`). */
export function blobInsert(trx: Db | Transaction, row: NewBlob) {
  return trx
    .insertInto('blobs')
    .values({
      group_id: row.groupId,
      sha256: row.sha256,
      size: row.size,
      media_type: row.mediaType,
      original_name: row.originalName,
      created_by: row.createdBy,
      created_at: row.at,
    })
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

/** The insert, not yet run, for a statement of the caller's (`WriteBatch`). */
export function blobUploadInsert(trx: Db | Transaction, row: NewBlobUpload) {
  return trx
    .insertInto('blob_uploads')
    .values({
      group_id: row.groupId,
      sha256: row.sha256,
      uploaded_by: row.uploadedBy,
      original_name: row.originalName,
      created_at: row.at,
    })
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
