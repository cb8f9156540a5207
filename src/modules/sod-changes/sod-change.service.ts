// A change to the group's separation-of-duties matrix (三员分立) is a two-person act: a head-company
// system administrator proposes it as an application, and it takes effect only when a security
// auditor of the head company approves it (the proposer never can: nobody decides their own
// application, and the matrix keeps administrators and auditors apart). A change that would leave
// an account holding a pair the new matrix keeps apart is refused, when proposed and again when it
// would take effect. One proposal waits at a time.
import { z } from 'zod';
import { isUniqueViolation } from '../../db/errors.js';
import type { Role, Transaction } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { recordAudit, type AuditActor } from '../audit/index.js';
import { rolePermissions, roles } from '../access/index.js';
import { assertWithin, type Actor } from '../access/index.js';
import { companies } from '../companies/index.js';
import { findPendingApplication, submitApplication, type ApplicationPurpose } from '../approvals/index.js';
import { insertFlow, insertFlowVersion } from '../approvals/index.js';
import type { FlowDefinition } from '../approvals/index.js';
import { findConflictingHolders } from '../roles/index.js';
import { groupRecords as repo, normaliseSodMatrix, type SodMatrix } from '../groups/index.js';

/** What a proposal's payload holds: the matrix asked for and the one in force when it was made. */
const sodPayload = z.object({
  pairs: z.array(z.tuple([z.enum(roles), z.enum(roles)])),
  from: z.array(z.tuple([z.enum(roles), z.enum(roles)])),
});

/** The name a proposal goes by where an application names what it is about (inbox, notices). */
const SUBJECT = '职责分离矩阵 (separation of duties)';

/** How many conflicting accounts a refusal lists. */
const CONFLICTS_LISTED = 100;

/**
 * The flow every group has for a change to its matrix: one level, decided only by a security
 * auditor of the head company. It is built in and fixed (flows people manage never include it);
 * migration 20261206T1120 gave existing groups the same definition.
 */
export function sodChangeFlowDefinition(headCompanyId: string): FlowDefinition {
  return {
    levels: [
      {
        name: '安全审计员审批 (security auditor)',
        mode: 'any',
        approvers: [{ type: 'role', role: 'security_auditor', companyId: headCompanyId }],
        deciderRole: { role: 'security_auditor', companyId: headCompanyId },
      },
    ],
    cc: [],
    allowSameApproverAcrossLevels: false,
  };
}

/** Gives a new group its separation-of-duties flow, in the transaction that creates the group. */
export async function installSodChangeFlow(
  trx: Transaction,
  q: { groupId: string; headCompanyId: string; actor: AuditActor },
): Promise<void> {
  const id = newId();
  const name = '职责分离矩阵变更 (separation of duties)';
  await insertFlow(trx, {
    id,
    groupId: q.groupId,
    companyId: q.headCompanyId,
    purpose: 'sod_change',
    category: null,
    sealId: null,
    name,
    createdBy: null,
  });
  await insertFlowVersion(trx, {
    id: newId(),
    groupId: q.groupId,
    flowId: id,
    version: 1,
    definition: sodChangeFlowDefinition(q.headCompanyId),
    createdBy: null,
  });
  await recordAudit(trx, {
    groupId: q.groupId,
    actor: q.actor,
    event: {
      action: 'flow.created',
      target: { type: 'flow', id },
      companyId: q.headCompanyId,
      changes: { name, purpose: 'sod_change', category: null, sealId: null, version: 1 },
    },
  });
}

function conflictError(
  conflicts: Array<{ userId: string; userName: string; roles: [Role, Role] }>,
  when: 'proposed' | 'approved',
): AppError {
  const named = conflicts
    .slice(0, 5)
    .map((c) => `${c.userName} (${c.roles.join(' and ')})`)
    .join(', ');
  const more = conflicts.length > 5 ? ` and ${conflicts.length - 5} more` : '';
  const fix =
    when === 'proposed'
      ? 'revoke one role of each first, then propose the change'
      : 'reject this proposal, or have one role of each revoked first';
  return new AppError(
    'sod_conflict',
    `This matrix would leave ${named}${more} holding duties it keeps apart; ${fix}.`,
    { conflicts },
  );
}

/** Who may see a proposal waiting: those who propose (settings.write) and those who audit (audit.read). */
function seesProposals(actor: Actor): boolean {
  const { principal } = actor;
  const held = [
    ...principal.roles.flatMap((g) => rolePermissions[g.role]),
    ...principal.keyGrants.map((g) => g.permission),
  ];
  return held.includes('settings.write') || held.includes('audit.read');
}

/**
 * The matrix in force (everyone of the group may read it), and the proposal waiting for an
 * auditor, if any, for those who propose or audit changes.
 */
export async function getSodSettings(ctx: AppContext, actor: Actor) {
  const { groupId } = actor.principal;
  const group = await repo.findGroup(ctx.db, groupId);
  if (!group) throw new AppError('group_not_found', 'Your group no longer exists.');
  const pending = seesProposals(actor)
    ? await findPendingApplication(ctx.db, { groupId, purpose: 'sod_change' })
    : undefined;
  return {
    pairs: group.sodMatrix,
    pending: pending
      ? {
          applicationId: pending.id,
          pairs: sodPayload.parse(pending.payload).pairs,
          proposedBy: { id: pending.applicantId, name: pending.applicantName },
          proposedAt: pending.createdAt,
          reason: pending.reason,
        }
      : null,
  };
}

/**
 * Proposes a new matrix: an application (purpose `sod_change`) that a security auditor of the
 * head company decides. Only a system administrator over the whole group (the head company) may
 * propose. Refused when it is the matrix in force, when another proposal waits, and when an
 * account would hold a pair it keeps apart (`sod_conflict`, naming the accounts and pairs).
 */
export async function proposeSodChange(
  ctx: AppContext,
  actor: Actor,
  input: { pairs: SodMatrix; reason: string },
  idempotencyKey: string | null,
): Promise<{ id: string; created: boolean }> {
  const { principal } = actor;
  const root = await companies.findRootCompany(ctx.db, principal.groupId);
  if (!root) throw new AppError('company_not_found', 'Your group has no head company.');
  assertWithin(principal, 'settings.write', root.path);
  try {
    return await submitApplication(
      ctx,
      actor,
      sodChangePurpose,
      { root, pairs: input.pairs, reason: input.reason },
      idempotencyKey,
    );
  } catch (error) {
    if (isUniqueViolation(error, 'applications_one_pending_sod_change'))
      throw new AppError(
        'sod_change_pending',
        'Another change to the separation of duties waits for a security auditor; it must be decided or withdrawn first.',
      );
    throw error;
  }
}

/**
 * A change to the separation of duties as an application purpose: checked under the group's lock
 * (the lock every role assignment takes, so what is read holds), the matrix in force recorded
 * beside the one proposed; approving it applies the change (`applySodChange`).
 */
export const sodChangePurpose: ApplicationPurpose<{
  root: { id: string; path: string; name: string };
  pairs: SodMatrix;
  reason: string;
}> = {
  name: 'sod_change',
  authorizesSeals: false,
  check: async (_ctx, trx, actor, input) => {
    const next = normaliseSodMatrix(input.pairs);
    const group = await repo.lockGroup(trx, actor.principal.groupId);
    if (JSON.stringify(normaliseSodMatrix(group.sodMatrix)) === JSON.stringify(next))
      throw new AppError('validation_failed', 'That is the matrix already in force.', {
        errors: [{ field: 'body.pairs', message: 'is the matrix already in force' }],
      });
    const conflicts = await findConflictingHolders(trx, {
      groupId: actor.principal.groupId,
      pairs: next,
      limit: CONFLICTS_LISTED,
    });
    if (conflicts.length > 0) throw conflictError(conflicts, 'proposed');
    const { root } = input;
    return {
      category: null,
      lifecycleAction: null,
      payload: { name: SUBJECT, pairs: next, from: group.sodMatrix },
      reason: input.reason,
      uses: 0,
      photosPerUse: 0,
      seals: [],
      company: { id: root.id, path: root.path, name: root.name },
    };
  },
  approved: applySodChange,
};

/**
 * The approved change takes effect, in the approving transaction and under the group's lock (the
 * lock every role assignment takes): refused when an account now holds a pair the new matrix keeps
 * apart, since one may have been assigned while the proposal waited. The refusal undoes the
 * approval; the auditor then rejects the proposal, or has a role revoked first.
 */
export async function applySodChange(
  _ctx: unknown,
  trx: Transaction,
  q: { groupId: string; actor: AuditActor; application: { payload: Record<string, unknown> }; at: Date },
): Promise<void> {
  const { pairs } = sodPayload.parse(q.application.payload);
  const next = normaliseSodMatrix(pairs);
  const group = await repo.lockGroup(trx, q.groupId);
  const conflicts = await findConflictingHolders(trx, { groupId: q.groupId, pairs: next, limit: CONFLICTS_LISTED });
  if (conflicts.length > 0) throw conflictError(conflicts, 'approved');
  await repo.updateSodMatrix(trx, q.groupId, next);
  await recordAudit(trx, {
    groupId: q.groupId,
    actor: q.actor,
    at: q.at,
    event: {
      action: 'group.sod_matrix_changed',
      target: { type: 'group', id: q.groupId },
      companyId: null,
      changes: { from: group.sodMatrix, to: next },
    },
  });
}
