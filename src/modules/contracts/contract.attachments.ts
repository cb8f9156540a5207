// Attachments of a contract (附件): PDFs and images carried beside the contract's own PDF, added
// by its sender while it is a draft, read by whoever may see the contract (and by its outside
// signers in their session), and filed in its evidence package. The type is read from the bytes,
// never from what the client claims; the bytes live in the blob store like every other file.
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { readGroupBlob, storeBlob } from '../../blobs/blob.service.js';
import { sniffMediaType } from '../../blobs/sniff.js';
import { requireUser, type Actor } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import * as repo from './contract.repository.js';
import { assertSender, getVisibleContract } from './contract.service.js';

/** At most this many bytes per attachment. */
export const ATTACHMENT_LIMIT_BYTES = 10 * 1024 * 1024;
/** At most this many attachments per contract. */
export const MAX_ATTACHMENTS = 20;

type MediaType = repo.AttachmentRecord['mediaType'];

/** The type the bytes are (the blob store's sniffing), or null: PDF, PNG and JPEG only (no SVG, which can carry script). */
function sniffAttachment(bytes: Uint8Array): MediaType | null {
  const type = sniffMediaType(bytes);
  return type === 'application/pdf' || type === 'image/png' || type === 'image/jpeg' ? type : null;
}

function view({ contractId: _contract, ...rest }: repo.AttachmentRecord) {
  return rest;
}

export async function addAttachment(
  ctx: AppContext,
  actor: Actor,
  id: string,
  input: { bytes: Buffer | null; name: string },
) {
  const userId = requireUser(actor.principal);
  const { contract } = await getVisibleContract(ctx, actor, id);
  assertSender(actor, contract);
  const bytes = input.bytes;
  if (!bytes || bytes.length === 0)
    throw new AppError('validation_failed', 'Send the file itself as the request body.', {
      errors: [{ field: 'body', message: 'is empty' }],
    });
  if (bytes.length > ATTACHMENT_LIMIT_BYTES)
    throw new AppError('payload_too_large', `An attachment is at most ${ATTACHMENT_LIMIT_BYTES / 1024 / 1024} MB.`);
  const mediaType = sniffAttachment(bytes);
  if (!mediaType)
    throw new AppError(
      'unsupported_media_type',
      'An attachment is a PDF, a PNG or a JPEG image; these bytes are none of them.',
    );
  const now = ctx.now();
  const attachment = await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.lockContract(trx, { groupId: contract.groupId, id });
    if (locked?.status !== 'draft')
      throw new AppError(
        'contract_state',
        `The contract is ${locked?.status ?? 'gone'}; attachments are added to a draft only.`,
        { contractStatus: locked?.status ?? 'gone' },
      );
    if ((await repo.countAttachments(trx, id)) >= MAX_ATTACHMENTS)
      throw new AppError('validation_failed', `A contract carries at most ${MAX_ATTACHMENTS} attachments.`, {
        errors: [{ field: 'body', message: `at most ${MAX_ATTACHMENTS} attachments` }],
      });
    const stored = await storeBlob(trx, ctx.blobs, {
      groupId: contract.groupId,
      bytes: bytes,
      mediaType,
      originalName: input.name,
      createdBy: userId,
      at: now,
    });
    if ((await repo.findAttachments(trx, id)).some((a) => a.sha256 === stored.sha256))
      throw new AppError('validation_failed', 'This file is already attached to the contract.', {
        errors: [{ field: 'body', message: 'is already attached' }],
      });
    const row: repo.AttachmentRecord = {
      id: newId(),
      contractId: id,
      sha256: stored.sha256,
      mediaType,
      name: input.name,
      size: bytes.length,
      createdBy: userId,
      createdAt: now,
    };
    await repo.insertAttachment(trx, { ...row, groupId: contract.groupId });
    await recordAudit(trx, {
      groupId: contract.groupId,
      actor,
      at: now,
      event: {
        action: 'contract.attachment_added',
        target: { type: 'contract', id },
        companyId: contract.companyId,
        changes: { attachmentId: row.id, sha256: row.sha256, name: row.name, mediaType, size: row.size },
      },
    });
    return row;
  });
  return view(attachment);
}

export async function listAttachments(ctx: AppContext, actor: Actor, id: string) {
  await getVisibleContract(ctx, actor, id);
  return (await repo.findAttachments(ctx.db, id)).map(view);
}

/** An attachment's bytes, for whoever may see the contract (or an outside signer of it, through `contractId`). */
export async function readAttachment(ctx: AppContext, where: { groupId: string; contractId: string; id: string }) {
  const attachment = (await repo.findAttachments(ctx.db, where.contractId)).find((a) => a.id === where.id);
  if (!attachment) throw notFound('attachment_not_found', where.id);
  const { bytes } = await readGroupBlob(ctx.db, ctx.blobs, { groupId: where.groupId, sha256: attachment.sha256 });
  return { ...attachment, bytes: Buffer.from(bytes) };
}

export async function readVisibleAttachment(ctx: AppContext, actor: Actor, id: string, attachmentId: string) {
  const { contract } = await getVisibleContract(ctx, actor, id);
  return readAttachment(ctx, { groupId: contract.groupId, contractId: id, id: attachmentId });
}
