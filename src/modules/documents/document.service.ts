// Documents: PDFs stored to be stamped or signed, who may read each, and their pages. Ownership is
// per upload (src/blobs: `blob_uploads`); others may read a document through what the modules
// above provide (signing it, taking part in an application naming it).
import type { Db, Transaction } from '../../db/schema.js';
import { ExtensionPoint } from '../../lib/extension-point.js';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { findGroupBlob, isUploadedBy, readGroupBlob, storeBlob, type BlobRecord } from '../../blobs/blob.service.js';
import { assertMediaType } from '../../blobs/sniff.js';
import { describePages } from '../../signing/index.js';
import { requireUser, type Actor } from '../access/index.js';
import { PAGE_BOXES_LISTED } from './document.schema.js';

export interface ReadableDocument {
  sha256: string;
  originalSha256: string;
  name: string | null;
}

/**
 * Who else may read a stored document (by the hash of its original), beyond whoever uploaded it:
 * provided by the modules whose records name documents (who signed a version of it; the people on
 * an application naming it).
 */
export type DocumentReader = (
  db: Db | Transaction,
  q: { groupId: string; sha256: string; userId: string },
) => Promise<boolean>;

export const documentReaders = new ExtensionPoint<DocumentReader>('documents.readers');

/** The original a stored file was made from (a signed output's input), provided by the signing module. */
export type DocumentOrigin = (
  db: Db | Transaction,
  q: { groupId: string; sha256: string },
) => Promise<string | undefined>;

export const documentOrigins = new ExtensionPoint<DocumentOrigin>('documents.origins');

async function originOf(db: Db | Transaction, q: { groupId: string; sha256: string }): Promise<string> {
  for (const origin of documentOrigins.all()) {
    const found = await origin(db, q);
    if (found) return found;
  }
  return q.sha256;
}

/**
 * Whether a person may read a stored file of their group, and the original it was signed from:
 * they uploaded it (or that original) themselves, or a module above allows it for the original
 * (they signed in its chain, take part in an application naming it). Ownership is per upload: the
 * second person to upload the same bytes holds them as much as the first.
 */
export async function findReadableDocument(
  db: Db | Transaction,
  q: { groupId: string; userId: string; sha256: string },
): Promise<{ blob: BlobRecord; original: BlobRecord } | undefined> {
  const { groupId, userId, sha256 } = q;
  const blob = await findGroupBlob(db, { groupId, sha256 });
  if (!blob) return undefined;
  const originalSha256 = await originOf(db, { groupId, sha256 });
  const original = originalSha256 === sha256 ? blob : await findGroupBlob(db, { groupId, sha256: originalSha256 });
  if (!original) return undefined;
  const readable =
    (await isUploadedBy(db, { groupId, sha256, userId })) ||
    (originalSha256 !== sha256 && (await isUploadedBy(db, { groupId, sha256: originalSha256, userId }))) ||
    (await documentReaders.anyOf((reader) => reader(db, { groupId, sha256: originalSha256, userId })));
  return readable ? { blob, original } : undefined;
}

/**
 * A PDF of the caller's group that the caller may read (`findReadableDocument`). Anything else
 * answers as not found, like another group's file.
 */
export async function getReadableDocument(ctx: AppContext, actor: Actor, sha256: string): Promise<ReadableDocument> {
  const { principal } = actor;
  const userId = requireUser(principal);
  const found = await findReadableDocument(ctx.db, { groupId: principal.groupId, userId, sha256 });
  if (!found) throw new AppError('blob_not_found', `No file with SHA-256 ${sha256} belongs to your group.`);
  const { blob, original } = found;
  if (blob.mediaType !== 'application/pdf')
    throw new AppError(
      'file_type_mismatch',
      `The file is ${blob.mediaType}, not a PDF; only PDF documents can be signed.`,
      { errors: [{ field: 'body.documentSha256', message: 'is not a PDF' }] },
    );
  return { sha256, originalSha256: original.sha256, name: original.originalName };
}

/** Stores a PDF to stamp; whoever uploads it holds it. */
export async function uploadDocument(
  ctx: AppContext,
  actor: Actor,
  input: { bytes: Buffer; name: string; claimed?: string | undefined },
) {
  const { principal } = actor;
  const createdBy = requireUser(principal);
  const mediaType = assertMediaType(input.bytes, {
    accepted: ['application/pdf'],
    claimed: input.claimed,
    field: 'body',
  });
  const blob = await ctx.db.transaction().execute((trx) =>
    storeBlob(trx, ctx.blobs, {
      groupId: principal.groupId,
      bytes: input.bytes,
      mediaType,
      originalName: input.name,
      createdBy,
      at: ctx.now(),
    }),
  );
  return { sha256: blob.sha256, size: blob.size, mediaType, name: input.name };
}

/** The page count and page boxes of a PDF the caller may read, to place a seal by page and position. */
export async function getDocumentPages(ctx: AppContext, actor: Actor, sha256: string) {
  const document = await getReadableDocument(ctx, actor, sha256);
  const { bytes } = await readGroupBlob(ctx.db, ctx.blobs, {
    groupId: actor.principal.groupId,
    sha256: document.sha256,
  });
  return { sha256, ...describePages(bytes, PAGE_BOXES_LISTED) };
}
