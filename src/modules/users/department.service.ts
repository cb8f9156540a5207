import { isUniqueViolation } from '../../db/errors.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { recordAudit } from '../audit/index.js';
import { assertWithin, scopeOf, type Actor } from '../access/index.js';
import { getCompany } from '../companies/index.js';
import * as users from './user.repository.js';
import * as repo from './department.repository.js';

export async function getDepartment(
  ctx: AppContext,
  actor: Actor,
  departmentId: string,
): Promise<repo.DepartmentRecord> {
  const { principal } = actor;
  const department = await repo.findDepartment(ctx.db, {
    groupId: principal.groupId,
    id: departmentId,
    scope: scopeOf(principal, 'org.read'),
  });
  if (!department) throw notFound('department_not_found', departmentId);
  return department;
}

export async function listDepartments(ctx: AppContext, actor: Actor, query: { companyId?: string | undefined }) {
  const { principal } = actor;
  if (query.companyId) await getCompany(ctx, actor, query.companyId);
  return repo.findDepartments(ctx.db, {
    groupId: principal.groupId,
    scope: scopeOf(principal, 'org.read'),
    companyId: query.companyId,
  });
}

/** A department head must be an active member of the same group whom the caller may see. */
async function assertHead(ctx: AppContext, actor: Actor, headUserId: string): Promise<void> {
  const { principal } = actor;
  const head = await users.findUser(ctx.db, {
    groupId: principal.groupId,
    id: headUserId,
    scope: scopeOf(principal, 'org.read'),
  });
  if (!head) throw notFound('user_not_found', headUserId);
  if (head.status !== 'active')
    throw new AppError('validation_failed', `${head.name} is ${head.status} and cannot head a department.`, {
      errors: [{ field: 'body.headUserId', message: `user is ${head.status}` }],
    });
}

function nameTaken(name: string): AppError {
  return new AppError('department_name_taken', `The company already has a department named ${name}.`, {
    name,
  });
}

export async function createDepartment(
  ctx: AppContext,
  actor: Actor,
  input: { companyId: string; name: string; headUserId?: string | null | undefined },
) {
  const { principal } = actor;
  const company = await getCompany(ctx, actor, input.companyId);
  assertWithin(principal, 'org.write', company.path);
  if (input.headUserId) await assertHead(ctx, actor, input.headUserId);
  const id = newId();
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await repo.insertDepartment(trx, {
        id,
        groupId: principal.groupId,
        companyId: company.id,
        name: input.name,
        headUserId: input.headUserId ?? null,
      });
      await recordAudit(trx, {
        groupId: principal.groupId,
        actor,
        event: {
          action: 'department.created',
          target: { type: 'department', id },
          companyId: company.id,
          changes: { name: input.name, companyId: company.id, headUserId: input.headUserId ?? null },
        },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(input.name);
    throw error;
  }
  return getDepartment(ctx, actor, id);
}

export async function updateDepartment(
  ctx: AppContext,
  actor: Actor,
  departmentId: string,
  input: { name?: string | undefined; headUserId?: string | null | undefined },
) {
  const { principal } = actor;
  const before = await getDepartment(ctx, actor, departmentId);
  assertWithin(principal, 'org.write', before.companyPath);
  if (input.headUserId) await assertHead(ctx, actor, input.headUserId);
  const from: Record<string, unknown> = {};
  const to: Record<string, unknown> = {};
  if (input.name !== undefined && input.name !== before.name) {
    from.name = before.name;
    to.name = input.name;
  }
  if (input.headUserId !== undefined && input.headUserId !== before.headUserId) {
    from.headUserId = before.headUserId;
    to.headUserId = input.headUserId;
  }
  if (Object.keys(to).length === 0) return before;
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await repo.updateDepartment(trx, departmentId, {
        ...(to.name !== undefined ? { name: input.name } : {}),
        ...('headUserId' in to ? { head_user_id: input.headUserId ?? null } : {}),
      });
      await recordAudit(trx, {
        groupId: principal.groupId,
        actor,
        event: {
          action: 'department.updated',
          target: { type: 'department', id: departmentId },
          companyId: before.companyId,
          changes: { from, to },
        },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(input.name ?? '');
    throw error;
  }
  return getDepartment(ctx, actor, departmentId);
}
