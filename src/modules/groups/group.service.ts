import { newId } from '../../lib/ids.js';
import { hashPassword } from '../../lib/secrets.js';
import type { Db, Role } from '../../db/schema.js';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { recordAudit, type SystemActor } from '../audit/audit.service.js';
import { defaultSodMatrix, rolePermissions, type Permission } from '../auth/permissions.js';
import { assertWithin, type Actor } from '../auth/principal.js';
import * as companies from '../companies/company.repository.js';
import * as repo from './group.repository.js';
import { insertUser } from '../users/user.repository.js';
import { insertAssignment } from '../roles/role.repository.js';

export type SodMatrix = Array<[Role, Role]>;

/** Sorted pairs without duplicates, so the stored matrix has one spelling. */
export function normaliseSodMatrix(pairs: SodMatrix): SodMatrix {
  const seen = new Map<string, [Role, Role]>();
  for (const [a, b] of pairs) {
    if (a === b) continue;
    const pair: [Role, Role] = a < b ? [a, b] : [b, a];
    seen.set(pair.join('|'), pair);
  }
  return [...seen.values()].sort((x, y) => x.join('|').localeCompare(y.join('|')));
}

/** The first role a person already holds that conflicts with `role`, by the group's matrix. */
export function findSodConflict(matrix: SodMatrix, held: Role[], role: Role): Role | undefined {
  return held.find((h) => h !== role && matrix.some(([a, b]) => (a === h && b === role) || (a === role && b === h)));
}

export async function getGroupOverview(ctx: AppContext, groupId: string) {
  const group = await repo.findGroup(ctx.db, groupId);
  if (!group) throw new AppError('group_not_found', 'Your group no longer exists.');
  return group;
}

/** Effective permissions of the caller, per company, for the console to show what it may do. */
export function describePermissions(actor: Actor): Array<{ permission: Permission; companyPath: string }> {
  const out: Array<{ permission: Permission; companyPath: string }> = [];
  for (const grant of actor.principal.roles) {
    for (const permission of rolePermissions[grant.role]) out.push({ permission, companyPath: grant.companyPath });
  }
  return [...out, ...actor.principal.keyGrants];
}

/**
 * Changing separation of duties loosens or tightens the strongest control in the
 * system, so only a system administrator over the whole group (the head company) may.
 */
export async function setSodMatrix(ctx: AppContext, actor: Actor, pairs: SodMatrix): Promise<SodMatrix> {
  const { principal } = actor;
  const root = await companies.findRootCompany(ctx.db, principal.groupId);
  if (!root) throw new AppError('company_not_found', 'Your group has no head company.');
  assertWithin(principal, 'settings.write', root.path);
  const next = normaliseSodMatrix(pairs);
  return ctx.db.transaction().execute(async (trx) => {
    const group = await repo.lockGroup(trx, principal.groupId);
    await repo.updateSodMatrix(trx, principal.groupId, next);
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'group.sod_matrix_changed',
        target: { type: 'group', id: principal.groupId },
        companyId: null,
        changes: { from: group.sodMatrix, to: next },
      },
    });
    return next;
  });
}

export interface CreateGroupInput {
  name: string;
  slug: string;
  headCompany: { name: string; code: string };
  admin: { email: string; name: string; password: string };
}

/**
 * Creates a group with its head company and a first system administrator: the one
 * way in for a new tenant (CLI and demo seeding; no HTTP endpoint creates groups).
 */
export async function createGroup(db: Db, input: CreateGroupInput, actor: SystemActor) {
  const passwordHash = await hashPassword(input.admin.password);
  return db.transaction().execute(async (trx) => {
    const groupId = newId();
    const companyId = newId();
    const adminId = newId();
    const path = `/${companyId}/`;
    await repo.insertGroup(trx, {
      id: groupId,
      name: input.name,
      slug: input.slug,
      sodMatrix: normaliseSodMatrix(defaultSodMatrix),
    });
    await recordAudit(trx, {
      groupId,
      actor,
      event: {
        action: 'group.created',
        target: { type: 'group', id: groupId },
        companyId: null,
        changes: { name: input.name, slug: input.slug },
      },
    });
    await companies.insertCompany(trx, {
      id: companyId,
      groupId,
      parentId: null,
      name: input.headCompany.name,
      code: input.headCompany.code,
      path,
      depth: 0,
    });
    await recordAudit(trx, {
      groupId,
      actor,
      event: {
        action: 'company.created',
        target: { type: 'company', id: companyId },
        companyId,
        changes: { name: input.headCompany.name, code: input.headCompany.code, parentId: null },
      },
    });
    await insertUser(trx, {
      id: adminId,
      groupId,
      companyId,
      departmentId: null,
      email: input.admin.email.toLowerCase(),
      name: input.admin.name,
      phone: null,
      locale: 'zh-CN',
      passwordHash,
    });
    await recordAudit(trx, {
      groupId,
      actor,
      event: {
        action: 'user.created',
        target: { type: 'user', id: adminId },
        companyId,
        changes: { email: input.admin.email.toLowerCase(), name: input.admin.name, companyId, departmentId: null },
      },
    });
    const assignmentId = newId();
    await insertAssignment(trx, {
      id: assignmentId,
      groupId,
      userId: adminId,
      role: 'system_admin',
      companyId,
      createdBy: null,
    });
    await recordAudit(trx, {
      groupId,
      actor,
      event: {
        action: 'role.assigned',
        target: { type: 'role_assignment', id: assignmentId },
        companyId,
        changes: { assignmentId, role: 'system_admin', companyId },
      },
    });
    return { groupId, companyId, adminId };
  });
}
