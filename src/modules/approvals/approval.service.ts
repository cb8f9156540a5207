import type { ApplicationStatus, Db, FlowPurpose, Transaction } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { recordAudit } from '../audit/index.js';
import { isWithin, requireUser, scopeOf, type Actor } from '../access/index.js';
import { findPeople, findUser } from '../users/index.js';
import * as repo from './approval.repository.js';
import { readGroupBlob } from '../../blobs/blob.service.js';
import { planOf } from './approval.plan.js';

/** Whether the principal holds this permission over the company (or above it). */
export function canRead(
  principal: Actor['principal'],
  permission: 'seals.read' | 'seals.manage',
  companyPath: string,
): boolean {
  try {
    return isWithin(scopeOf(principal, permission), companyPath);
  } catch {
    return false;
  }
}

type ApplicationDetail = NonNullable<Awaited<ReturnType<typeof repo.findApplicationDetail>>>;

/** Visible to its applicant, its approvers (and those they stand in for), its copied recipients, and seal readers over its company. */
export function canView(principal: Actor['principal'], detail: ApplicationDetail): boolean {
  const me = principal.kind === 'user' ? principal.id : null;
  const participant =
    me !== null &&
    (me === detail.applicantId ||
      detail.tasks.some((t) => t.assigneeId === me || t.onBehalfOf === me) ||
      detail.cc.some((c) => c.id === me));
  return participant || canRead(principal, 'seals.read', detail.companyPath);
}

async function findVisibleApplication(
  ctx: AppContext,
  actor: Actor,
  applicationId: string,
  known: { participant?: boolean } = {},
): Promise<ApplicationDetail> {
  const detail = await repo.findApplicationDetail(ctx.db, { groupId: actor.principal.groupId, id: applicationId });
  if (!detail || (known.participant !== true && !canView(actor.principal, detail)))
    throw notFound('application_not_found', applicationId);
  return detail;
}

/**
 * An application with its seals, tasks, copied people, authorizations and documents, read in
 * one statement; `participant` when the caller has just decided on it.
 */
export async function getApplication(
  ctx: AppContext,
  actor: Actor,
  applicationId: string,
  known: { participant?: boolean } = {},
) {
  const { companyPath: _path, plan, ...rest } = await findVisibleApplication(ctx, actor, applicationId, known);
  return { ...rest, plan: planOf(plan) };
}

/** Stores a document to stamp (a PDF, checked by its bytes) for the caller's group. */

/** A document of an application, for whoever may see the application (approvers review it before deciding). */
export async function readApplicationDocument(ctx: AppContext, actor: Actor, applicationId: string, sha256: string) {
  const { principal } = actor;
  const application = await findVisibleApplication(ctx, actor, applicationId);
  const document = application.documents.find((d) => d.sha256 === sha256);
  if (!document) throw new AppError('blob_not_found', `Application ${applicationId} names no document ${sha256}.`);
  const { bytes } = await readGroupBlob(ctx.db, ctx.blobs, { groupId: principal.groupId, sha256 });
  return { ...document, bytes };
}

/** The group's pending application of a purpose that waits one at a time (a separation-of-duties change), if any. */
export async function findPendingApplication(db: Db | Transaction, where: { groupId: string; purpose: FlowPurpose }) {
  return repo.findPendingOfPurpose(db, where);
}

export async function listMyApplications(
  ctx: AppContext,
  actor: Actor,
  query: { status?: ApplicationStatus | undefined; limit: number },
) {
  const { principal } = actor;
  const rows = await repo.findApplicationsOf(ctx.db, {
    groupId: principal.groupId,
    applicantId: requireUser(principal),
    ...query,
  });
  return rows.map(({ companyPath: _path, plan: _plan, ...rest }) => rest);
}

export async function listMyTasks(
  ctx: AppContext,
  actor: Actor,
  query: { status?: 'pending' | 'approved' | 'rejected' | 'transferred' | 'cancelled' | undefined; limit: number },
) {
  const { principal } = actor;
  return repo.findTasksOf(ctx.db, { groupId: principal.groupId, assigneeId: requireUser(principal), ...query });
}

/**
 * Revokes what remains of an authorization: the approvers of the application, or a seal
 * administrator over its seal, may stop the uses not yet made (e.g. 用章结束后剩余次数).
 */
export async function revokeAuthorization(ctx: AppContext, actor: Actor, authorizationId: string) {
  const { principal } = actor;
  const userId = requireUser(principal);
  const found = await repo.findAuthorization(ctx.db, { groupId: principal.groupId, id: authorizationId });
  if (!found) throw notFound('authorization_not_found', authorizationId);
  const application = await repo.findApplicationDetail(ctx.db, { groupId: principal.groupId, id: found.applicationId });
  if (!application) throw notFound('authorization_not_found', authorizationId);
  const approved = application.tasks.some(
    (t) => t.status === 'approved' && (t.assigneeId === userId || t.onBehalfOf === userId),
  );
  if (!approved && !canRead(principal, 'seals.manage', application.companyPath)) {
    if (!canView(principal, application)) throw notFound('application_not_found', application.id);
    throw new AppError(
      'forbidden',
      'Only an approver of this application or a seal administrator over its seal can revoke the remaining uses.',
    );
  }
  await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.findAuthorization(
      trx,
      { groupId: principal.groupId, id: authorizationId },
      { lock: true },
    );
    if (!locked || locked.revokedAt) return;
    const now = ctx.now();
    await repo.revokeAuthorization(trx, authorizationId, { at: now, by: userId });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at: now,
      event: {
        action: 'authorization.revoked',
        target: { type: 'application', id: application.id },
        companyId: application.companyId,
        changes: { authorizationId, remainingUses: locked.usesTotal - locked.usesConsumed },
      },
    });
  });
  return getApplication(ctx, actor, application.id);
}

/** Sets a stand-in for a date range: tasks opened in that range go to the delegate. */
export async function createDelegation(
  ctx: AppContext,
  actor: Actor,
  input: { delegateId: string; startsAt: Date; endsAt: Date },
) {
  const { principal } = actor;
  const userId = requireUser(principal);
  const field = (name: string, message: string) =>
    new AppError('validation_failed', message, { errors: [{ field: `body.${name}`, message }] });
  if (input.endsAt <= input.startsAt) throw field('endsAt', 'must be later than startsAt');
  if (input.delegateId === userId) throw field('delegateId', 'cannot be yourself');
  const delegate = await findUser(ctx.db, { groupId: principal.groupId, id: input.delegateId });
  // A delegate works in the delegator's company tree (above or below it), as a transfer target does.
  const own = principal.companyPath ?? '';
  if (!delegate || !(delegate.companyPath.startsWith(own) || own.startsWith(delegate.companyPath)))
    throw notFound('user_not_found', input.delegateId);
  if (delegate.status !== 'active') throw field('delegateId', `${delegate.name} is ${delegate.status}`);
  const id = newId();
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertDelegation(trx, {
      id,
      groupId: principal.groupId,
      userId,
      delegateId: delegate.id,
      startsAt: input.startsAt,
      endsAt: input.endsAt,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'delegation.created',
        target: { type: 'delegation', id },
        companyId: principal.companyId,
        changes: {
          delegationId: id,
          delegateId: delegate.id,
          startsAt: input.startsAt.toISOString(),
          endsAt: input.endsAt.toISOString(),
        },
      },
    });
  });
  return (await repo.findDelegationsOf(ctx.db, principal.groupId, userId)).find((d) => d.id === id)!;
}

/**
 * Whom I may name as my stand-in, by name or e-mail: active people of my company line (above or
 * below my company), the rule `createDelegation` checks. It needs no directory permission, so an
 * approver without org.read can still choose a colleague; it shows no more than a name and company.
 */
export async function listDelegationCandidates(
  ctx: AppContext,
  actor: Actor,
  query: { q?: string | undefined; limit: number },
) {
  const { principal } = actor;
  const userId = requireUser(principal);
  // No company, no line: an empty path would match every company of the group.
  if (!principal.companyPath) return [];
  return findPeople(ctx.db, {
    groupId: principal.groupId,
    path: principal.companyPath,
    q: query.q,
    limit: query.limit,
    exclude: [userId],
  });
}

export async function listDelegations(ctx: AppContext, actor: Actor) {
  const { principal } = actor;
  return repo.findDelegationsOf(ctx.db, principal.groupId, requireUser(principal));
}

export async function revokeDelegation(ctx: AppContext, actor: Actor, delegationId: string) {
  const { principal } = actor;
  const userId = requireUser(principal);
  await ctx.db.transaction().execute(async (trx) => {
    const revoked = await repo.revokeDelegation(
      trx,
      { groupId: principal.groupId, userId, id: delegationId },
      ctx.now(),
    );
    if (!revoked) throw notFound('delegation_not_found', delegationId);
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'delegation.revoked',
        target: { type: 'delegation', id: delegationId },
        companyId: principal.companyId,
        changes: { delegationId },
      },
    });
  });
}
