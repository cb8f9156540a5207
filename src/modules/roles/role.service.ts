import type { Role } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { recordAudit } from '../audit/index.js';
import { assertWithin, scopeOf, type Actor } from '../access/index.js';
import { getCompany } from '../companies/index.js';
import { findSodConflict } from '../groups/index.js';
import { lockGroup } from '../groups/index.js';
import { users } from '../users/index.js';
import { getUser } from '../users/index.js';
import * as repo from './role.repository.js';

export async function listAssignments(
  ctx: AppContext,
  actor: Actor,
  query: { userId?: string | undefined; companyId?: string | undefined; role?: Role | undefined },
) {
  const { principal } = actor;
  return repo.findAssignments(ctx.db, { groupId: principal.groupId, scope: scopeOf(principal, 'org.read'), ...query });
}

/**
 * Assigns a role over a company subtree. Refused when it would give one person two
 * duties the group keeps apart (sod_conflict), or when the assigner is the assignee.
 */
export async function assignRole(
  ctx: AppContext,
  actor: Actor,
  input: { userId: string; role: Role; companyId: string },
): Promise<repo.AssignmentRecord> {
  const { principal } = actor;
  const company = await getCompany(ctx, actor, input.companyId);
  assertWithin(principal, 'roles.assign', company.path);
  const target = await getUser(ctx, actor, input.userId);
  if (principal.kind === 'user' && principal.id === input.userId) {
    throw new AppError(
      'self_assignment_forbidden',
      'You cannot assign a role to yourself; another administrator must.',
    );
  }
  if (target.status !== 'active')
    throw new AppError('validation_failed', `${target.name} is ${target.status}; only active users can hold roles.`, {
      errors: [{ field: 'body.userId', message: `user is ${target.status}` }],
    });
  const id = newId();
  await ctx.db.transaction().execute(async (trx) => {
    // Lock the person: two assignments racing for one user must see each other,
    // or both could pass the check below and together break separation of duties.
    await users.findUser(trx, { groupId: principal.groupId, id: input.userId }, { lock: true });
    const { sodMatrix } = await lockGroup(trx, principal.groupId);
    const held = await repo.findHeldRoles(trx, input.userId);
    if (held.some((h) => h.role === input.role && h.companyId === input.companyId)) {
      throw new AppError('role_already_assigned', `${target.name} already holds ${input.role} over ${company.name}.`);
    }
    const conflict = findSodConflict(
      sodMatrix,
      held.map((h) => h.role),
      input.role,
    );
    if (conflict) {
      throw new AppError(
        'sod_conflict',
        `${target.name} already holds ${conflict}; ${conflict} and ${input.role} may not be held by one person (separation of duties).`,
        { roles: [conflict, input.role] },
      );
    }
    await repo.insertAssignment(trx, {
      id,
      groupId: principal.groupId,
      userId: input.userId,
      role: input.role,
      companyId: company.id,
      createdBy: principal.kind === 'user' ? principal.id : null,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'role.assigned',
        target: { type: 'role_assignment', id },
        companyId: company.id,
        changes: { assignmentId: id, role: input.role, companyId: company.id },
      },
    });
  });
  const created = await repo.findAssignment(ctx.db, {
    groupId: principal.groupId,
    id,
    scope: scopeOf(principal, 'org.read'),
  });
  if (!created) throw notFound('role_assignment_not_found', id);
  return created;
}

export async function revokeRole(ctx: AppContext, actor: Actor, assignmentId: string): Promise<void> {
  const { principal } = actor;
  const assignment = await repo.findAssignment(ctx.db, {
    groupId: principal.groupId,
    id: assignmentId,
    scope: scopeOf(principal, 'org.read'),
  });
  if (!assignment) throw notFound('role_assignment_not_found', assignmentId);
  assertWithin(principal, 'roles.assign', assignment.companyPath);
  if (principal.kind === 'user' && principal.id === assignment.userId) {
    throw new AppError('self_assignment_forbidden', 'You cannot revoke your own role; another administrator must.');
  }
  await ctx.db.transaction().execute(async (trx) => {
    await repo.deleteAssignment(trx, assignmentId);
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'role.revoked',
        target: { type: 'role_assignment', id: assignmentId },
        companyId: assignment.companyId,
        changes: { assignmentId, role: assignment.role, companyId: assignment.companyId },
      },
    });
  });
}
