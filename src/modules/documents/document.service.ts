// Documents: PDFs stored to be stamped or signed, who may read each, and their pages. Ownership is
// per upload (src/blobs: `blob_uploads`); others may read a document through what the modules
// above provide (signing it, taking part in an application naming it).
import type { Db, Transaction } from '../../db/schema.js';
import { ExtensionPoint } from '../../lib/extension-point.js';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import {
  findGroupBlob,
  findGroupBlobs,
  findUploadedBy,
  isUploadedBy,
  readGroupBlob,
  storeBlob,
  type BlobRecord,
} from '../../blobs/blob.service.js';
import { assertMediaType } from '../../blobs/sniff.js';
import { describePages } from '../../signing/index.js';
import { requireUser, type Actor } from '../access/index.js';
import { PAGE_BOXES_LISTED } from './document.schema.js';
import { looksLikeZip, OFD_MEDIA_TYPE, ofdProblem, openPlatformOfd } from './document.ofd.js';
import { PNG_LIMITS, renderPagePng, renderPageSvg, pageStamps } from '../../ofd/index.js';

export type DocumentFormat = 'pdf' | 'ofd';

/** Media types a client may claim for an OFD: none is registered, so browsers send these or nothing. */
const OFD_CLAIMS = new Set([
  OFD_MEDIA_TYPE,
  'application/zip',
  'application/x-zip-compressed',
  'application/octet-stream',
]);

export interface ReadableDocument {
  sha256: string;
  originalSha256: string;
  name: string | null;
  format: DocumentFormat;
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

/**
 * The originals stored files were made from (a signed output's input), by hash of the file, for
 * those it knows; provided by the signing modules. Asked for many files at once (a batch's).
 */
export type DocumentOrigin = (
  db: Db | Transaction,
  q: { groupId: string; sha256s: readonly string[] },
) => Promise<Map<string, string>>;

export const documentOrigins = new ExtensionPoint<DocumentOrigin>('documents.origins');

/** Each file's original: the first origin that knows it answers, in order; else the file itself. */
async function originsOf(
  db: Db | Transaction,
  q: { groupId: string; sha256s: readonly string[] },
): Promise<Map<string, string>> {
  const origins = new Map<string, string>();
  let unknown = [...new Set(q.sha256s)];
  for (const origin of documentOrigins.all()) {
    if (unknown.length === 0) break;
    const found = await origin(db, { groupId: q.groupId, sha256s: unknown });
    for (const [sha256, original] of found) if (unknown.includes(sha256)) origins.set(sha256, original);
    unknown = unknown.filter((sha256) => !origins.has(sha256));
  }
  for (const sha256 of unknown) origins.set(sha256, sha256);
  return origins;
}

async function originOf(db: Db | Transaction, q: { groupId: string; sha256: string }): Promise<string> {
  return (await originsOf(db, { groupId: q.groupId, sha256s: [q.sha256] })).get(q.sha256) ?? q.sha256;
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
 * `findReadableDocument` for many files at once, by the same rules in the same order (the file,
 * its original, uploaded by the person; else a module above allows the original), in a few
 * statements for all of them; only files the person did not upload ask the readers one by one.
 */
export async function findReadableDocuments(
  db: Db | Transaction,
  q: { groupId: string; userId: string; sha256s: readonly string[] },
): Promise<Map<string, { blob: BlobRecord; original: BlobRecord }>> {
  const { groupId, userId } = q;
  const blobs = await findGroupBlobs(db, { groupId, sha256s: q.sha256s });
  const present = [...blobs.keys()];
  const origins = await originsOf(db, { groupId, sha256s: present });
  const elsewhere = [...new Set(present.map((sha256) => origins.get(sha256)!).filter((o) => !blobs.has(o)))];
  const originals = new Map([...blobs, ...(await findGroupBlobs(db, { groupId, sha256s: elsewhere }))]);
  const uploaded = await findUploadedBy(db, { groupId, userId, sha256s: [...present, ...elsewhere] });
  const readable = new Map<string, { blob: BlobRecord; original: BlobRecord }>();
  for (const sha256 of present) {
    const blob = blobs.get(sha256)!;
    const originalSha256 = origins.get(sha256)!;
    const original = originals.get(originalSha256);
    if (!original) continue;
    const may =
      uploaded.has(sha256) ||
      (originalSha256 !== sha256 && uploaded.has(originalSha256)) ||
      (await documentReaders.anyOf((reader) => reader(db, { groupId, sha256: originalSha256, userId })));
    if (may) readable.set(sha256, { blob, original });
  }
  return readable;
}

function refuseUnreadable(sha256: string): AppError {
  return new AppError('blob_not_found', `No file with SHA-256 ${sha256} belongs to your group.`);
}

function readableAs(
  sha256: string,
  found: { blob: BlobRecord; original: BlobRecord },
  formats: readonly DocumentFormat[],
): ReadableDocument {
  const { blob, original } = found;
  const format: DocumentFormat | undefined =
    blob.mediaType === 'application/pdf' ? 'pdf' : blob.mediaType === OFD_MEDIA_TYPE ? 'ofd' : undefined;
  if (!format || !formats.includes(format))
    throw new AppError(
      'file_type_mismatch',
      `The file is ${blob.mediaType}; only ${formats.map((f) => f.toUpperCase()).join(' and ')} documents are accepted here.`,
      {
        errors: [
          { field: 'body.documentSha256', message: `is not ${formats.map((f) => f.toUpperCase()).join(' or ')}` },
        ],
      },
    );
  return { sha256, originalSha256: original.sha256, name: original.originalName, format };
}

/**
 * A PDF of the caller's group that the caller may read (`findReadableDocument`). Anything else
 * answers as not found, like another group's file.
 */
export async function getReadableDocument(
  ctx: AppContext,
  actor: Actor,
  sha256: string,
  options: { formats?: readonly DocumentFormat[] } = {},
): Promise<ReadableDocument> {
  const { principal } = actor;
  const userId = requireUser(principal);
  const found = await findReadableDocument(ctx.db, { groupId: principal.groupId, userId, sha256 });
  if (!found) throw refuseUnreadable(sha256);
  // Callers that handle OFD say so; every other (contracts, batches) keeps taking PDFs only.
  return readableAs(sha256, found, options.formats ?? ['pdf']);
}

/**
 * `getReadableDocument` for many files (a batch's): each file's document, or the error
 * `getReadableDocument` would have thrown for it, by hash.
 */
export async function checkReadableDocuments(
  ctx: AppContext,
  actor: Actor,
  sha256s: readonly string[],
  options: { formats?: readonly DocumentFormat[] } = {},
): Promise<Map<string, ReadableDocument | AppError>> {
  const { principal } = actor;
  const userId = requireUser(principal);
  const found = await findReadableDocuments(ctx.db, { groupId: principal.groupId, userId, sha256s });
  const answers = new Map<string, ReadableDocument | AppError>();
  for (const sha256 of sha256s) {
    const one = found.get(sha256);
    if (!one) {
      answers.set(sha256, refuseUnreadable(sha256));
      continue;
    }
    try {
      answers.set(sha256, readableAs(sha256, one, options.formats ?? ['pdf']));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      answers.set(sha256, error);
    }
  }
  return answers;
}

/**
 * The type of an uploaded document by its content: a PDF (`%PDF-` at byte 0), or an OFD (a zip
 * with OFD.xml at its root, read whole within the platform's limits, so a zip bomb, a path out of
 * the package or XML with entities is refused now, not when it is signed).
 */
function documentTypeOf(bytes: Buffer, claimed: string | undefined): string {
  if (looksLikeZip(bytes)) {
    const type = claimed?.split(';')[0]!.trim().toLowerCase();
    if (type && !OFD_CLAIMS.has(type))
      throw new AppError('file_type_mismatch', `The file claims to be ${type} but its content is a zip package.`, {
        errors: [{ field: 'body', message: `claims ${type}, is a zip package` }],
      });
    openPlatformOfd(bytes);
    return OFD_MEDIA_TYPE;
  }
  return assertMediaType(bytes, { accepted: ['application/pdf'], claimed, field: 'body' });
}

/** Stores a PDF or OFD to stamp; whoever uploads it holds it. */
export async function uploadDocument(
  ctx: AppContext,
  actor: Actor,
  input: { bytes: Buffer; name: string; claimed?: string | undefined },
) {
  const { principal } = actor;
  const createdBy = requireUser(principal);
  const mediaType = documentTypeOf(input.bytes, input.claimed);
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

const MM_TO_POINTS = 72 / 25.4;

/**
 * The page count and page boxes of a PDF or OFD the caller may read, to place a seal by page and
 * position. An OFD's pages are given in points too (from its millimetres), so one placement
 * works for both.
 */
export async function getDocumentPages(ctx: AppContext, actor: Actor, sha256: string) {
  const document = await getReadableDocument(ctx, actor, sha256, { formats: ['pdf', 'ofd'] });
  const { bytes } = await readGroupBlob(ctx.db, ctx.blobs, {
    groupId: actor.principal.groupId,
    sha256: document.sha256,
  });
  if (document.format === 'pdf') return { sha256, format: document.format, ...describePages(bytes, PAGE_BOXES_LISTED) };
  const file = openPlatformOfd(bytes);
  const count = file.document.pages.length;
  const boxOf = (index: number) => {
    try {
      const [x, y, w, h] = file.page(index).physicalBox;
      return {
        box: [x, y, w, h].map((v) => Math.round(v * MM_TO_POINTS * 100) / 100) as [number, number, number, number],
        rotate: 0,
      };
    } catch (error) {
      throw ofdProblem(error);
    }
  };
  const pages = Array.from({ length: Math.min(count, PAGE_BOXES_LISTED) }, (_, i) => boxOf(i));
  return { sha256, format: document.format, count, pages, last: boxOf(count - 1) };
}

/**
 * One page of an OFD the caller may read, drawn as PNG or SVG with the seals already on it: the
 * preview for placing a seal and for reading a signed copy.
 */
export async function renderDocumentPage(
  ctx: AppContext,
  actor: Actor,
  q: { sha256: string; page: number; format: 'png' | 'svg'; pxPerMm?: number | undefined },
): Promise<{ type: 'image/png' | 'image/svg+xml'; body: Buffer }> {
  const document = await getReadableDocument(ctx, actor, q.sha256, { formats: ['pdf', 'ofd'] });
  if (document.format !== 'ofd')
    throw new AppError(
      'file_type_mismatch',
      'Pages are drawn for OFD documents; a PDF is shown by the browser itself.',
      {
        errors: [{ field: 'sha256', message: 'is a PDF' }],
      },
    );
  const { bytes } = await readGroupBlob(ctx.db, ctx.blobs, { groupId: actor.principal.groupId, sha256: q.sha256 });
  const file = openPlatformOfd(bytes);
  const index = q.page - 1;
  if (index >= file.document.pages.length)
    throw new AppError('validation_failed', `The document has ${file.document.pages.length} page(s).`, {
      errors: [{ field: 'page', message: `must be at most ${file.document.pages.length}` }],
    });
  try {
    const stamps = pageStamps(file, index);
    if (q.format === 'svg')
      return { type: 'image/svg+xml', body: Buffer.from(renderPageSvg(file, index, { stamps }).svg) };
    const pxPerMm = Math.min(PNG_LIMITS.maxPxPerMm, Math.max(PNG_LIMITS.minPxPerMm, q.pxPerMm ?? 4));
    return { type: 'image/png', body: (await renderPagePng(file, index, { stamps, pxPerMm })).png };
  } catch (error) {
    throw ofdProblem(error);
  }
}
