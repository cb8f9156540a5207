import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { rolePermissions, type Permission } from '../access/index.js';
import type { Actor } from '../access/index.js';
import * as repo from './group.repository.js';

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
