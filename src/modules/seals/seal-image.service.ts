import { ExtensionPoint } from '../../lib/extension-point.js';
import { findBlob } from '../../blobs/blob.repository.js';
import { isUploadedBy, readGroupBlob, storeBlob } from '../../blobs/blob.service.js';
import { isSha256Hex } from '../../blobs/blob-store.js';
import type { Db, Transaction } from '../../db/schema.js';
import { inspectSealImage, isSealImageType, type SealImageType } from '../../seal-image/inspect.js';
import { DEFAULT_PX_PER_MM, rasterizeSvg, renderSealPng, renderSealSvg } from '../../seal-image/render.js';
import type { SealImageSpec } from '../../seal-image/seal-svg.js';
import { checkSealImageSpec } from '../../seal-image/spec.js';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { scopeOf, type Actor } from '../access/index.js';
import * as repo from './seal-image.repository.js';
import { PREVIEW_PX_PER_MM, type SealImageRequest } from './seal-image.schema.js';

/** A seal image in the blob store, as the API answers it. */
export interface StoredSealImage {
  sha256: string;
  mediaType: SealImageType;
  size: number;
  width: number;
  height: number;
}

function sealImageNotFound(sha256: string): AppError {
  return new AppError('blob_not_found', `No seal image with SHA-256 ${sha256} exists that you may see.`);
}

function specOf(input: SealImageRequest): SealImageSpec {
  const { shape, company, type, code, name, color, sizeMm, star } = input;
  return checkSealImageSpec({ shape, company, type, code, name, color, sizeMm, star }, 'body.');
}

async function draw(
  input: SealImageRequest,
  defaultPxPerMm: number,
): Promise<{ bytes: Buffer; mediaType: SealImageType; width: number; height: number }> {
  const spec = specOf(input);
  if (input.format === 'svg') {
    const { svg, widthMm, heightMm } = renderSealSvg(spec);
    // CSS pixels of the SVG's own size (96 per inch), as an uploaded SVG is measured.
    return {
      bytes: Buffer.from(svg),
      mediaType: 'image/svg+xml',
      width: Math.round((widthMm / 25.4) * 96),
      height: Math.round((heightMm / 25.4) * 96),
    };
  }
  const png = await renderSealPng(spec, input.pxPerMm ?? defaultPxPerMm);
  return { bytes: png.png, mediaType: 'image/png', width: png.width, height: png.height };
}

/** The seal drawn from the designer's fields and not stored: what the console shows as someone types. */
export async function previewSealImage(
  _ctx: AppContext,
  actor: Actor,
  input: SealImageRequest,
): Promise<{ bytes: Buffer; mediaType: SealImageType }> {
  scopeOf(actor.principal, 'seals.manage');
  const { bytes, mediaType } = await draw(input, PREVIEW_PX_PER_MM);
  return { bytes, mediaType };
}

async function store(
  ctx: AppContext,
  actor: Actor,
  image: { bytes: Buffer; mediaType: SealImageType; width: number; height: number; fileName: string | null },
): Promise<StoredSealImage> {
  const { principal } = actor;
  const blob = await ctx.db.transaction().execute((trx) =>
    storeBlob(trx, ctx.blobs, {
      groupId: principal.groupId,
      bytes: image.bytes,
      mediaType: image.mediaType,
      originalName: image.fileName,
      createdBy: principal.id,
      at: ctx.now(),
    }),
  );
  return { sha256: blob.sha256, mediaType: image.mediaType, size: blob.size, width: image.width, height: image.height };
}

/** Draws the seal and stores it for the caller's group; the hash goes into a production or change application. */
export async function generateSealImage(
  ctx: AppContext,
  actor: Actor,
  input: SealImageRequest,
): Promise<StoredSealImage> {
  scopeOf(actor.principal, 'seals.manage');
  const image = await draw(input, DEFAULT_PX_PER_MM);
  return store(ctx, actor, { ...image, fileName: `${input.shape}-seal.${input.format}` });
}

/**
 * Stores an uploaded seal image after `inspectSealImage`: the content must be the PNG (with
 * transparency) or SVG (without anything active) it claims to be, and at most 2 MB.
 */
export async function uploadSealImage(
  ctx: AppContext,
  actor: Actor,
  input: { bytes: Buffer; claimedType: string | undefined; fileName?: string | undefined },
): Promise<StoredSealImage> {
  scopeOf(actor.principal, 'seals.manage');
  const inspected = inspectSealImage(input.bytes, input.claimedType);
  return store(ctx, actor, { bytes: input.bytes, ...inspected, fileName: input.fileName ?? null });
}

/**
 * Who else may see a stored seal image, beyond its uploader and readers of a seal showing it:
 * provided by the modules whose records name images (a lifecycle application's approvers).
 */
export type SealImageReader = (
  db: Db | Transaction,
  q: { groupId: string; sha256: string; userId: string },
) => Promise<boolean>;

export const sealImageReaders = new ExtensionPoint<SealImageReader>('seals.image-readers');

/**
 * A seal image the caller may see: whoever stored it, the people on a production application
 * naming it, or anyone holding seals.read over a company with a seal that shows it. Otherwise
 * (another group's hash, or one of this group's that the caller has no business with) the answer
 * is the same not-found as for a hash that does not exist: a hash must not work as a key to
 * someone else's seal.
 */
export async function getReadableSealImage(
  ctx: AppContext,
  actor: Actor,
  sha256: string,
): Promise<{ sha256: string; mediaType: SealImageType }> {
  const { principal } = actor;
  const blob = isSha256Hex(sha256) ? await findBlob(ctx.db, { groupId: principal.groupId, sha256 }) : undefined;
  // Ownership is per upload: whoever stored these bytes (first or again) holds them.
  const stored =
    blob !== undefined && (await isUploadedBy(ctx.db, { groupId: principal.groupId, sha256, userId: principal.id }));
  // Someone on an application naming the image (its approvers above all) sees the impression asked for.
  const onApplication =
    blob !== undefined &&
    !stored &&
    principal.kind === 'user' &&
    (await sealImageReaders.anyOf((reader) =>
      reader(ctx.db, { groupId: principal.groupId, sha256, userId: principal.id }),
    ));
  if (!stored && !onApplication) {
    // Asked for whether or not the blob exists, so a refusal says nothing about the hash.
    const scope = scopeOf(principal, 'seals.read');
    if (!blob || !(await repo.isImageOfSealInScope(ctx.db, { groupId: principal.groupId, sha256, scope })))
      throw sealImageNotFound(sha256);
  }
  if (!isSealImageType(blob.mediaType)) throw sealImageNotFound(sha256);
  return { sha256, mediaType: blob.mediaType };
}

/** A seal image's bytes for a caller who may see it (`getReadableSealImage`). */
export async function readSealImage(
  ctx: AppContext,
  actor: Actor,
  sha256: string,
): Promise<{ sha256: string; mediaType: SealImageType; bytes: Buffer }> {
  const image = await getReadableSealImage(ctx, actor, sha256);
  const { bytes } = await readGroupBlob(ctx.db, ctx.blobs, { groupId: actor.principal.groupId, sha256 });
  return { ...image, bytes };
}

/**
 * For attaching an image to a seal (production and change applications, their effects):
 * the group's stored seal image, or `blob_not_found`. Call it when the application is made
 * and again in the transaction that writes `seals.image_sha256` / `image_media_type`.
 */
export async function getSealImage(
  db: Db | Transaction,
  where: { groupId: string; sha256: string },
): Promise<{ sha256: string; mediaType: SealImageType; size: number }> {
  const blob = isSha256Hex(where.sha256) ? await findBlob(db, where) : undefined;
  if (!blob || !isSealImageType(blob.mediaType)) throw sealImageNotFound(where.sha256);
  return { sha256: blob.sha256, mediaType: blob.mediaType, size: blob.size };
}

/** A seal image as PNG bytes for stamping a document: a stored PNG as it is, an SVG rendered `widthPx` wide (480 by default, 40 mm at 12 px/mm). */
export async function sealImagePng(
  ctx: Pick<AppContext, 'db' | 'blobs'>,
  where: { groupId: string; sha256: string; widthPx?: number },
): Promise<Buffer> {
  const image = await getSealImage(ctx.db, where);
  const { bytes } = await readGroupBlob(ctx.db, ctx.blobs, { groupId: where.groupId, sha256: image.sha256 });
  if (image.mediaType === 'image/png') return bytes;
  return (await rasterizeSvg(bytes, where.widthPx ?? 40 * DEFAULT_PX_PER_MM)).png;
}
