import type { Transaction } from '../../db/schema.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { requireUser, type Actor } from '../access/index.js';
import { findSeal } from '../seals/index.js';
import { decideSealUse } from '../grants/index.js';
import { planFor } from './approval.plan.js';
import { canRead } from './approval.service.js';
import { submitApplication } from './approval.submit.js';
import type { ApplicationPurpose, SealFacts } from './approval.purposes.js';

export interface SealUseDraft {
  /** The files to stamp, uploaded first (POST /documents/uploads) and named here by hash. */
  documents?: Array<{ sha256: string; name: string }> | undefined;
  sealIds: string[];
  category: string;
  reason: string;
  uses: number;
  photosPerUse: number;
}

/**
 * The seals of a seal-use application, each checked with the use decision: the applicant
 * must hold a grant for every one of them, for the business category asked.
 */
async function checkSealsForUse(
  ctx: AppContext,
  db: AppContext['db'] | Transaction,
  actor: Actor,
  draft: SealUseDraft,
): Promise<SealFacts[]> {
  const { principal } = actor;
  const applicantId = requireUser(principal);
  const seals: SealFacts[] = [];
  for (const sealId of [...new Set(draft.sealIds)]) {
    const decision = await decideSealUse(db, {
      groupId: principal.groupId,
      sealId,
      userId: applicantId,
      category: draft.category,
      at: ctx.now(),
    });
    const seal = await findSeal(db, { groupId: principal.groupId, id: sealId });
    if (!seal || (decision.allowed === false && decision.reason === 'seal_not_found'))
      throw notFound('seal_not_found', sealId);
    if (!decision.allowed) {
      // Refusals name the seal only to those who may know it: its readers, and people of its
      // company or a company below it. A sibling company's seal stays unknown (404).
      const knows =
        (principal.companyPath !== null && principal.companyPath.startsWith(seal.companyPath)) ||
        canRead(principal, 'seals.read', seal.companyPath);
      if (!knows) throw notFound('seal_not_found', sealId);
      if (decision.reason === 'seal_not_usable')
        throw new AppError('seal_not_usable', `${seal.name} is ${seal.status}; it cannot be used.`, {
          sealId,
          sealName: seal.name,
          sealStatus: seal.status,
        });
      if (decision.reason === 'custodian')
        throw new AppError(
          'sod_conflict',
          `You keep ${seal.name}; a custodian cannot apply to use the seal they keep.`,
          { roles: ['custodian', 'seal_user'] },
        );
      if (decision.reason === 'user_inactive') throw new AppError('forbidden', 'Your account is not active.');
      throw new AppError(
        'seal_not_granted',
        `You hold no grant to use ${seal.name} for ${draft.category}; ask its seal administrator for one.`,
        { sealId, sealName: seal.name },
      );
    }
    seals.push({
      id: seal.id,
      name: seal.name,
      kind: seal.kind,
      type: seal.type,
      companyId: seal.companyId,
      companyPath: seal.companyPath,
      companyName: seal.companyName,
    });
  }
  if (new Set(seals.map((s) => s.companyId)).size > 1) {
    throw new AppError(
      'flow_conflict',
      'The seals you chose belong to different companies; apply for each company separately.',
    );
  }
  return seals;
}

export async function previewSealUse(ctx: AppContext, actor: Actor, draft: SealUseDraft) {
  const { principal } = actor;
  const applicantId = requireUser(principal);
  const seals = await checkSealsForUse(ctx, ctx.db, actor, draft);
  const first = seals[0]!;
  const { plan } = await planFor(ctx, ctx.db, {
    groupId: principal.groupId,
    applicantId,
    purpose: 'seal_use',
    category: draft.category,
    uses: draft.uses,
    seals,
    company: { path: first.companyPath, name: first.companyName },
  });
  return plan;
}

/**
 * Seal use (用印申请): every seal checked by the use decision in the submitting transaction; approving
 * gives the applicant the right to sign with each electronic seal, or a ticket for the physical ones.
 */
export const sealUsePurpose: ApplicationPurpose<SealUseDraft> = {
  name: 'seal_use',
  authorizesSeals: true,
  check: async (ctx, trx, actor, draft) => {
    const seals = await checkSealsForUse(ctx, trx, actor, draft);
    const first = seals[0]!;
    return {
      category: draft.category,
      lifecycleAction: null,
      payload: {},
      reason: draft.reason,
      uses: draft.uses,
      photosPerUse: draft.photosPerUse,
      documents: draft.documents,
      seals,
      company: { id: first.companyId, path: first.companyPath, name: first.companyName },
    };
  },
};

/** Submits a seal-use application. */
export async function submitSealUse(ctx: AppContext, actor: Actor, draft: SealUseDraft, idempotencyKey: string | null) {
  return submitApplication(ctx, actor, sealUsePurpose, draft, idempotencyKey);
}
