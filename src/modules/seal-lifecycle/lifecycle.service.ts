import type { LifecycleAction, SealKind, SealType } from '../../db/schema.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { assertWithin, requireUser, scopeOf, type Actor } from '../access/index.js';
import { getCompany } from '../companies/index.js';
import {
  planFor,
  submitApplication,
  type ApplicationPurpose,
  type CheckedApplication,
  type Plan,
} from '../approvals/index.js';
import { findUser } from '../users/index.js';
import { holdsRoleOver } from '../roles/index.js';
import { getReadableSealImage, getSeal, isSealCodeTaken } from '../seals/index.js';
import { applyLifecycleStep, lifecycleMoves, type ProductionPayload, type StepPayload } from './lifecycle.effects.js';

/** Custodians are seal administrators over the seal's company (or above it), and active. */
async function checkCustodians(
  ctx: AppContext,
  actor: Actor,
  custodianIds: string[],
  companyPath: string,
): Promise<void> {
  const { principal } = actor;
  for (const userId of custodianIds) {
    const user = await findUser(ctx.db, {
      groupId: principal.groupId,
      id: userId,
      scope: scopeOf(principal, 'org.read'),
    });
    if (!user) throw notFound('user_not_found', userId);
    const field = (message: string) =>
      new AppError('validation_failed', `${user.name} ${message}.`, {
        errors: [{ field: 'body.custodianIds', message: `${user.name} ${message}` }],
      });
    if (user.status !== 'active') throw field(`is ${user.status}`);
    if (!(await holdsRoleOver(ctx.db, { userId, role: 'seal_admin', companyPath })))
      throw field('is not a seal administrator of that company, so cannot keep its seals');
  }
}

export interface ProductionInput {
  companyId: string;
  name: string;
  code: string;
  kind: SealKind;
  type: SealType;
  customType?: string | undefined;
  description?: string | undefined;
  custodianIds: string[];
  imageSha256?: string | undefined;
  reason: string;
}

/** The checks of a production application: the company, the type, the code, the custodians, the image. */
async function checkProduction(ctx: AppContext, actor: Actor, input: ProductionInput): Promise<CheckedApplication> {
  const { principal } = actor;
  const company = await getCompany(ctx, actor, input.companyId);
  assertWithin(principal, 'seals.manage', company.path);
  if ((input.type === 'custom') !== (input.customType !== undefined)) {
    throw new AppError('validation_failed', 'A custom seal type needs its name, and only a custom type has one.', {
      errors: [
        {
          field: 'body.customType',
          message: input.type === 'custom' ? 'is required for a custom type' : 'is only for the custom type',
        },
      ],
    });
  }
  if (await isSealCodeTaken(ctx.db, principal.groupId, input.code)) {
    throw new AppError('validation_failed', `Another seal of your group has the code ${input.code}.`, {
      errors: [{ field: 'body.code', message: 'is taken' }],
    });
  }
  await checkCustodians(ctx, actor, input.custodianIds, company.path);
  // Only an image the applicant may see can be named: a hash is not a key to another company's impression.
  if (input.imageSha256) await getReadableSealImage(ctx, actor, input.imageSha256);
  const payload: ProductionPayload = {
    companyId: company.id,
    name: input.name,
    code: input.code,
    kind: input.kind,
    type: input.type,
    customType: input.customType ?? null,
    description: input.description ?? null,
    custodianIds: input.custodianIds,
    imageSha256: input.imageSha256 ?? null,
  };
  return {
    category: null,
    lifecycleAction: 'produce',
    payload: { ...payload },
    reason: input.reason,
    uses: 0,
    photosPerUse: 0,
    seals: [],
    company: { id: company.id, path: company.path, name: company.name },
    custodianIds: input.custodianIds,
  };
}

/** Applies to make a seal (制作). The seal exists, active, only once the application is approved. */
export async function applyForProduction(
  ctx: AppContext,
  actor: Actor,
  input: ProductionInput,
  idempotencyKey: string | null,
) {
  return submitApplication(ctx, actor, sealLifecyclePurpose, { action: 'produce', input }, idempotencyKey);
}

/**
 * The approvers and CC a production application would get, before it is sent: the company
 * and the designated custodians (standing for the seal's custodians) decide them.
 */
export async function previewProduction(
  ctx: AppContext,
  actor: Actor,
  input: { companyId: string; custodianIds: string[] },
): Promise<Plan> {
  const { principal } = actor;
  const applicantId = requireUser(principal);
  const company = await getCompany(ctx, actor, input.companyId);
  assertWithin(principal, 'seals.manage', company.path);
  await checkCustodians(ctx, actor, input.custodianIds, company.path);
  const { plan } = await planFor(ctx, ctx.db, {
    groupId: principal.groupId,
    applicantId,
    purpose: 'lifecycle',
    category: null,
    uses: 0,
    seals: [],
    company: { path: company.path, name: company.name },
    custodianIds: input.custodianIds,
  });
  return plan;
}

export interface StepInput {
  action: Exclude<LifecycleAction, 'produce'>;
  reason: string;
  name?: string | undefined;
  description?: string | undefined;
  custodianIds?: string[] | undefined;
  companyId?: string | undefined;
  /** change: the new impression, stored first with POST /seal-images or /seal-images/generate. */
  imageSha256?: string | undefined;
}

/** The checks of a step, shared by its application and its preview: the seal, the move, the target company, the custodians, the image. */
async function checkStep(ctx: AppContext, actor: Actor, sealId: string, input: Omit<StepInput, 'reason'>) {
  const { principal } = actor;
  const seal = await getSeal(ctx, actor, sealId);
  assertWithin(principal, 'seals.manage', seal.companyPath);
  const move = lifecycleMoves[input.action];
  if (!move.from.includes(seal.status)) {
    throw new AppError(
      'seal_not_usable',
      `${seal.name} is ${seal.status}; ${input.action.replace('_', ' ')} applies only to a seal that is ${move.from.join(' or ')}.`,
      { sealName: seal.name, sealStatus: seal.status },
    );
  }
  let targetPath = seal.companyPath;
  if (input.companyId) {
    const target = await getCompany(ctx, actor, input.companyId);
    assertWithin(principal, 'seals.manage', target.path);
    targetPath = target.path;
  }
  if (input.custodianIds) await checkCustodians(ctx, actor, input.custodianIds, targetPath);
  if (input.imageSha256 !== undefined) {
    if (input.action !== 'change') {
      throw new AppError('validation_failed', 'Only a change (变更) replaces the seal’s impression.', {
        errors: [{ field: 'body.imageSha256', message: 'is only for a change' }],
      });
    }
    // One the applicant may see; checked again (as the group's) when the change is approved, as for production.
    await getReadableSealImage(ctx, actor, input.imageSha256);
  }
  const payload: StepPayload = {
    sealId,
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.custodianIds ? { custodianIds: input.custodianIds } : {}),
    ...(input.companyId ? { companyId: input.companyId } : {}),
    ...(input.imageSha256 !== undefined ? { imageSha256: input.imageSha256 } : {}),
  };
  const facts = {
    seals: [
      {
        id: seal.id,
        name: seal.name,
        kind: seal.kind,
        type: seal.type,
        companyId: seal.companyId,
        companyPath: seal.companyPath,
        companyName: seal.companyName,
      },
    ],
    company: { id: seal.companyId, path: seal.companyPath, name: seal.companyName },
  };
  return { payload, facts };
}

/** Applies for a change, transfer, suspension, resumption, loss report or destruction of a seal. */
export async function applyForStep(
  ctx: AppContext,
  actor: Actor,
  sealId: string,
  input: StepInput,
  idempotencyKey: string | null,
) {
  return submitApplication(ctx, actor, sealLifecyclePurpose, { action: input.action, sealId, input }, idempotencyKey);
}

/** What a lifecycle application is asked with: making a seal, or a step of an existing one. */
export type LifecycleInput =
  { action: 'produce'; input: ProductionInput } | { action: StepInput['action']; sealId: string; input: StepInput };

/**
 * The lifecycle of a seal as an application purpose: checked in the submitting transaction;
 * approving it makes the step (`applyLifecycleStep`) under the seal's lock.
 */
export const sealLifecyclePurpose: ApplicationPurpose<LifecycleInput> = {
  name: 'lifecycle',
  authorizesSeals: false,
  check: async (ctx, trx, actor, asked) => {
    // The checks read through the submitting transaction.
    const inTransaction: AppContext = { ...ctx, db: trx };
    if (asked.action === 'produce') return checkProduction(inTransaction, actor, asked.input);
    const { payload, facts } = await checkStep(inTransaction, actor, asked.sealId, asked.input);
    return {
      category: null,
      lifecycleAction: asked.input.action,
      payload: { ...payload },
      reason: asked.input.reason,
      uses: 0,
      photosPerUse: 0,
      ...facts,
    };
  },
  approved: applyLifecycleStep,
};

/** The approvers and CC a step would get, before it is sent, after the same checks as its application (the reason may still be empty). */
export async function previewStep(
  ctx: AppContext,
  actor: Actor,
  sealId: string,
  input: Omit<StepInput, 'reason'>,
): Promise<Plan> {
  const { principal } = actor;
  const applicantId = requireUser(principal);
  const { facts } = await checkStep(ctx, actor, sealId, input);
  const { plan } = await planFor(ctx, ctx.db, {
    groupId: principal.groupId,
    applicantId,
    purpose: 'lifecycle',
    category: null,
    uses: 0,
    ...facts,
  });
  return plan;
}
