import { newId } from '../../lib/ids.js';
import { hashPassword } from '../../lib/secrets.js';
import type { Db } from '../../db/schema.js';
import { recordAudit, type SystemActor } from '../audit/index.js';
import { defaultSodMatrix } from '../access/index.js';
import { companies } from '../companies/index.js';
import { groupRecords, normaliseSodMatrix } from '../groups/index.js';
import { insertUser } from '../users/index.js';
import { insertAssignment } from '../roles/index.js';
import { installSodChangeFlow } from '../sod-changes/index.js';
import { seedGroupTemplates } from '../contracts/index.js';

export interface CreateGroupInput {
  name: string;
  slug: string;
  headCompany: { name: string; code: string };
  /**
   * `mustChangePassword`: the password is printed for someone else to hand on (`sigil group
   * create`), so the administrator must change it at first sign-in; the demo's stay as printed.
   */
  admin: { email: string; name: string; password: string; mustChangePassword: boolean };
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
    await groupRecords.insertGroup(trx, {
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
    await installSodChangeFlow(trx, { groupId, headCompanyId: companyId, actor });
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
      mustChangePassword: input.admin.mustChangePassword,
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
    // A new group starts with a labour contract, a purchase contract and a non-disclosure agreement.
    await seedGroupTemplates(trx, { groupId, companyId, createdBy: adminId, actor, at: new Date() });
    return { groupId, companyId, adminId };
  });
}
