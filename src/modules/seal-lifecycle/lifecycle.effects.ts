import type { LifecycleAction, SealKind, SealStatus, SealType, Transaction } from '../../db/schema.js';
import { AppError } from '../../server/errors.js';
import { recordAudit, type AuditActor } from '../audit/index.js';
import { closeSealUseApplications, linkApplicationSeal } from '../approvals/index.js';
import type { AppContext } from '../../server/context.js';
import { getSealImage, insertSealWithCustodians, sealRecords as repo } from '../seals/index.js';
import { reinstateSealCertificates, revokeSealCertificates } from '../pki/index.js';

/** The states from which each step may start, and where it leaves the seal. Destruction is final. */
export const lifecycleMoves: Record<
  Exclude<LifecycleAction, 'produce'>,
  { from: SealStatus[]; to: SealStatus | null }
> = {
  change: { from: ['active', 'suspended'], to: null },
  transfer: { from: ['active', 'suspended'], to: null },
  suspend: { from: ['active'], to: 'suspended' },
  resume: { from: ['suspended'], to: 'active' },
  report_loss: { from: ['active', 'suspended'], to: 'lost' },
  destroy: { from: ['active', 'suspended', 'lost'], to: 'destroyed' },
};

export interface ProductionPayload {
  companyId: string;
  name: string;
  code: string;
  kind: SealKind;
  type: SealType;
  customType: string | null;
  description: string | null;
  custodianIds: string[];
  /** The impression (a stored PNG or SVG of the group), when one was designed or uploaded. */
  imageSha256?: string | null;
}

export interface StepPayload {
  sealId: string;
  name?: string;
  description?: string | null;
  custodianIds?: string[];
  companyId?: string;
  /** change: the new impression (a stored PNG or SVG of the group). */
  imageSha256?: string;
}

/**
 * What an approved lifecycle application does to its seal, in the approving transaction:
 * the seal changes state only here, after the last approval. The state is checked again
 * under the seal's lock, since a seal may have moved on while the application waited.
 */
export async function applyLifecycleStep(
  ctx: Pick<AppContext, 'mailer' | 'sms'>,
  trx: Transaction,
  q: {
    groupId: string;
    actor: AuditActor;
    application: { id: string; lifecycleAction: LifecycleAction | null; payload: Record<string, unknown> };
    at: Date;
  },
): Promise<void> {
  const action = q.application.lifecycleAction;
  if (!action) throw new Error('a lifecycle application without an action');
  if (action === 'produce') {
    const p = q.application.payload as unknown as ProductionPayload;
    if (await repo.isSealCodeTaken(trx, q.groupId, p.code)) {
      throw new AppError(
        'seal_code_taken',
        `Another seal took the code ${p.code} while this production waited; reject it and apply again with another code.`,
        { sealCode: p.code },
      );
    }
    // The image is checked again here: the blob must still be a seal image of this group.
    const image = p.imageSha256 ? await getSealImage(trx, { groupId: q.groupId, sha256: p.imageSha256 }) : null;
    const sealId = await insertSealWithCustodians(trx, {
      groupId: q.groupId,
      actor: q.actor,
      at: q.at,
      custodianIds: p.custodianIds,
      seal: {
        companyId: p.companyId,
        code: p.code,
        name: p.name,
        kind: p.kind,
        type: p.type,
        customType: p.customType,
        status: 'active',
        description: p.description,
        image,
      },
    });
    await linkApplicationSeal(trx, { groupId: q.groupId, applicationId: q.application.id, sealId });
    return;
  }
  const p = q.application.payload as unknown as StepPayload;
  const locked = await repo.lockSeal(trx, q.groupId, p.sealId);
  if (!locked) throw new AppError('seal_not_found', `The seal of this application no longer exists.`);
  const move = lifecycleMoves[action];
  if (!move.from.includes(locked.status)) {
    throw new AppError(
      'seal_not_usable',
      `The seal is now ${locked.status}; ${action} no longer applies. Reject the application.`,
      { sealName: locked.name, sealStatus: locked.status },
    );
  }
  const changes: Record<string, unknown> = {};
  if (action === 'suspend' || action === 'report_loss' || action === 'destroy') {
    // Seal-use applications still waiting for the seal end with it (closed, with the reason): none
    // of them may be approved now, and for a physical seal an approval would issue a stamping ticket.
    changes.closedApplicationIds = await closeSealUseApplications(ctx, trx, {
      groupId: q.groupId,
      seal: { id: p.sealId, name: locked.name },
      step: action,
      lifecycleApplicationId: q.application.id,
      at: q.at,
    });
  }
  if (move.to) {
    await repo.updateSeal(trx, p.sealId, { status: move.to, status_changed_at: q.at });
    changes.status = move.to;
  }
  if (action === 'change' || action === 'transfer') {
    const patch: { name?: string; description?: string | null; company_id?: string } = {};
    if (p.name !== undefined) patch.name = changes.name = p.name;
    if (p.description !== undefined) patch.description = changes.description = p.description;
    if (p.companyId !== undefined) patch.company_id = changes.companyId = p.companyId;
    if (Object.keys(patch).length > 0) await repo.updateSeal(trx, p.sealId, patch);
    if (p.custodianIds) {
      await repo.replaceCustodians(trx, { groupId: q.groupId, sealId: p.sealId, userIds: p.custodianIds });
      await repo.updateSeal(trx, p.sealId, { needs_custodian: false });
      changes.custodianIds = p.custodianIds;
    }
    if (action === 'change' && p.imageSha256 !== undefined) {
      // Checked again here, as for production: the blob must still be a seal image of this group.
      // The former impression stays in the blob store and this event names it: the seal's history keeps both.
      const image = await getSealImage(trx, { groupId: q.groupId, sha256: p.imageSha256 });
      await repo.updateSeal(trx, p.sealId, { image_sha256: image.sha256, image_media_type: image.mediaType });
      changes.imageSha256 = image.sha256;
      changes.previousImageSha256 = locked.imageSha256;
    }
  }
  await applyCertificateEffect(trx, {
    groupId: q.groupId,
    actor: q.actor,
    at: q.at,
    action,
    sealId: p.sealId,
    companyId: p.companyId ?? locked.companyId,
    renamed: p.name !== undefined,
    moved: p.companyId !== undefined && p.companyId !== locked.companyId,
  });
  await recordAudit(trx, {
    groupId: q.groupId,
    actor: q.actor,
    at: q.at,
    event: {
      action: 'seal.lifecycle_applied',
      target: { type: 'seal', id: p.sealId },
      companyId: p.companyId ?? locked.companyId,
      changes: { step: action, applicationId: q.application.id, from: locked.status, changes },
    },
  });
}

/**
 * The seal's certificate follows the seal, in the approving transaction, so the next CRL already
 * says so: a suspension puts it on hold (lifted on resumption), a loss revokes it as a key
 * compromise, destruction as cessation; a new name or company makes its subject wrong, so it is
 * superseded and the next signature gets a new one.
 */
async function applyCertificateEffect(
  trx: Transaction,
  q: {
    groupId: string;
    actor: AuditActor;
    at: Date;
    action: Exclude<LifecycleAction, 'produce'>;
    sealId: string;
    companyId: string;
    renamed: boolean;
    moved: boolean;
  },
): Promise<void> {
  const base = { groupId: q.groupId, sealId: q.sealId, companyId: q.companyId, actor: q.actor, at: q.at };
  if (q.action === 'suspend')
    await revokeSealCertificates(trx, { ...base, reason: 'certificateHold', cause: 'seal suspended' });
  else if (q.action === 'resume') await reinstateSealCertificates(trx, { ...base, cause: 'seal resumed' });
  else if (q.action === 'report_loss')
    await revokeSealCertificates(trx, { ...base, reason: 'keyCompromise', cause: 'seal reported lost' });
  else if (q.action === 'destroy')
    await revokeSealCertificates(trx, { ...base, reason: 'cessationOfOperation', cause: 'seal destroyed' });
  else if ((q.action === 'change' || q.action === 'transfer') && (q.renamed || q.moved))
    await revokeSealCertificates(trx, {
      ...base,
      reason: 'superseded',
      cause: q.moved ? 'seal moved to another company' : 'seal renamed',
    });
}
