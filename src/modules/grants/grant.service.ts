import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { recordAudit } from '../audit/index.js';
import { assertWithin, isWithin, scopeOf, type Actor } from '../access/index.js';
import { getCompany } from '../companies/index.js';
import { findDepartment } from '../users/index.js';
import { findUser, findUserDepartmentIds } from '../users/index.js';
import * as repo from './grant.repository.js';
import { getSeal, isCustodian, lockSeal } from '../seals/index.js';
import { decideSealUse, type UseDecision } from './seal-use.policy.js';
import type { CreateGrantInput } from './grant.schema.js';

function refusedGrant(message: string, field: string, fieldMessage: string): AppError {
  return new AppError('validation_failed', message, { errors: [{ field, message: fieldMessage }] });
}

/**
 * Grants use of a seal. The seal must be usable, the grantee inside the granter's
 * subtree, and duties stay separate: nobody grants to themselves (directly or through
 * their department or role), and a seal's custodian is never granted its use.
 */
export async function createGrant(ctx: AppContext, actor: Actor, sealId: string, input: CreateGrantInput) {
  const { principal } = actor;
  const seal = await getSeal(ctx, actor, sealId);
  assertWithin(principal, 'seals.grant', seal.companyPath);
  const grantScope = scopeOf(principal, 'seals.grant');
  const orgScope = scopeOf(principal, 'org.read');
  const now = ctx.now();
  const validFrom = input.validFrom ?? now;
  if (input.validUntil && input.validUntil <= validFrom) {
    throw refusedGrant('The validity window ends before it starts.', 'body.validUntil', 'must be later than validFrom');
  }
  if (input.validUntil && input.validUntil <= now)
    throw refusedGrant('The validity window has already ended.', 'body.validUntil', 'must lie in the future');

  const grantee = input.grantee;
  const row = {
    granteeUserId: null as string | null,
    granteeDepartmentId: null as string | null,
    granteeRole: null as null | 'system_admin' | 'seal_admin' | 'security_auditor' | 'employee',
    granteeCompanyId: null as string | null,
  };
  const self = principal.kind === 'user' ? principal.id : null;
  if (grantee.type === 'user') {
    const user = await findUser(ctx.db, { groupId: principal.groupId, id: grantee.userId, scope: orgScope });
    if (!user) throw notFound('user_not_found', grantee.userId);
    if (!isWithin(grantScope, user.companyPath))
      throw new AppError('forbidden', `${user.name} works outside the companies where you may grant seals.`);
    if (user.status !== 'active')
      throw refusedGrant(
        `${user.name} is ${user.status}; only active people can be granted a seal.`,
        'body.grantee.userId',
        `user is ${user.status}`,
      );
    if (user.id === self)
      throw new AppError('sod_conflict', 'A seal administrator cannot grant a seal to themselves.', {
        roles: ['seal_admin', 'seal_user'],
      });
    if (await isCustodian(ctx.db, sealId, user.id)) {
      throw new AppError('sod_conflict', `${user.name} keeps this seal; a custodian cannot also be granted its use.`, {
        roles: ['custodian', 'seal_user'],
      });
    }
    row.granteeUserId = user.id;
  } else if (grantee.type === 'department') {
    const department = await findDepartment(ctx.db, {
      groupId: principal.groupId,
      id: grantee.departmentId,
      scope: orgScope,
    });
    if (!department) throw notFound('department_not_found', grantee.departmentId);
    if (!isWithin(grantScope, department.companyPath))
      throw new AppError('forbidden', `${department.name} lies outside the companies where you may grant seals.`);
    if (self && (await findUserDepartmentIds(ctx.db, self)).includes(department.id)) {
      throw new AppError(
        'sod_conflict',
        `You belong to ${department.name}; granting the seal to it would grant it to yourself.`,
        { roles: ['seal_admin', 'seal_user'] },
      );
    }
    row.granteeDepartmentId = department.id;
  } else {
    const company = await getCompany(ctx, actor, grantee.companyId);
    if (!isWithin(grantScope, company.path))
      throw new AppError('forbidden', `${company.name} lies outside the companies where you may grant seals.`);
    if (principal.roles.some((r) => r.role === grantee.role && r.companyPath.startsWith(company.path))) {
      throw new AppError(
        'sod_conflict',
        `You hold ${grantee.role} in ${company.name}; granting the seal to that role would grant it to yourself.`,
        { roles: ['seal_admin', 'seal_user'] },
      );
    }
    row.granteeRole = grantee.role;
    row.granteeCompanyId = company.id;
  }

  const id = newId();
  const categories = [...new Set(input.categories)];
  await ctx.db.transaction().execute(async (trx) => {
    // Checked again under the seal's lock: a suspension racing this grant must win.
    const locked = await lockSeal(trx, principal.groupId, sealId);
    if (!locked) throw notFound('seal_not_found', sealId);
    if (locked.status !== 'active' && locked.status !== 'pending') {
      throw new AppError('seal_not_usable', `The seal is ${locked.status}; it cannot be granted.`, {
        sealName: locked.name,
        sealStatus: locked.status,
      });
    }
    await repo.insertGrant(trx, {
      id,
      groupId: principal.groupId,
      sealId,
      granteeType: grantee.type,
      ...row,
      categories,
      validFrom,
      validUntil: input.validUntil ?? null,
      maxUses: input.maxUses ?? null,
      createdBy: self,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at: now,
      event: {
        action: 'seal.grant_created',
        target: { type: 'seal', id: sealId },
        companyId: seal.companyId,
        changes: {
          grantId: id,
          grantee: {
            type: grantee.type,
            id: row.granteeUserId ?? row.granteeDepartmentId ?? row.granteeCompanyId,
            role: row.granteeRole,
          },
          categories,
          validFrom: validFrom.toISOString(),
          validUntil: input.validUntil?.toISOString() ?? null,
          maxUses: input.maxUses ?? null,
        },
      },
    });
  });
  const created = await repo.findGrant(ctx.db, { groupId: principal.groupId, sealId, id });
  if (!created) throw notFound('grant_not_found', id);
  return created;
}

export async function listGrants(ctx: AppContext, actor: Actor, sealId: string, includeRevoked: boolean) {
  await getSeal(ctx, actor, sealId);
  return repo.findGrants(ctx.db, { groupId: actor.principal.groupId, sealId, includeRevoked });
}

/** Revokes a grant at once; the next use decision no longer finds it. */
export async function revokeGrant(
  ctx: AppContext,
  actor: Actor,
  sealId: string,
  grantId: string,
  reason: string | null,
) {
  const { principal } = actor;
  const seal = await getSeal(ctx, actor, sealId);
  assertWithin(principal, 'seals.grant', seal.companyPath);
  const grant = await repo.findGrant(ctx.db, { groupId: principal.groupId, sealId, id: grantId });
  if (!grant) throw notFound('grant_not_found', grantId);
  await ctx.db.transaction().execute(async (trx) => {
    const revoked = await repo.revokeGrant(
      trx,
      { id: grantId },
      { at: ctx.now(), by: principal.kind === 'user' ? principal.id : null, reason },
    );
    if (!revoked) return;
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'seal.grant_revoked',
        target: { type: 'seal', id: sealId },
        companyId: seal.companyId,
        changes: { grantId, reason },
      },
    });
  });
  const after = await repo.findGrant(ctx.db, { groupId: principal.groupId, sealId, id: grantId });
  if (!after) throw notFound('grant_not_found', grantId);
  return after;
}

/**
 * The use decision as an endpoint: anyone may ask about themselves; asking about
 * someone else needs seals.read over the seal.
 */
export async function checkUse(
  ctx: AppContext,
  actor: Actor,
  query: { sealId: string; userId?: string | undefined; category: string },
): Promise<UseDecision> {
  const { principal } = actor;
  const self = principal.kind === 'user' ? principal.id : null;
  const userId = query.userId ?? self;
  if (!userId)
    throw new AppError('validation_failed', 'An API key must name the user to ask about.', {
      errors: [{ field: 'querystring.userId', message: 'is required for API keys' }],
    });
  if (userId !== self) {
    await getSeal(ctx, actor, query.sealId);
    const user = await findUser(ctx.db, {
      groupId: principal.groupId,
      id: userId,
      scope: scopeOf(principal, 'org.read'),
    });
    if (!user) throw notFound('user_not_found', userId);
  }
  const decision = await decideSealUse(ctx.db, {
    groupId: principal.groupId,
    sealId: query.sealId,
    userId,
    category: query.category,
    at: ctx.now(),
  });
  if (decision.allowed) return decision;
  // Asking about yourself must not reveal seals you neither hold a grant for nor may see.
  const visible = await canSee(ctx, actor, query.sealId);
  if (decision.reason === 'seal_not_found' || !visible) throw notFound('seal_not_found', query.sealId);
  return decision;
}

async function canSee(ctx: AppContext, actor: Actor, sealId: string): Promise<boolean> {
  try {
    await getSeal(ctx, actor, sealId);
    return true;
  } catch (error) {
    if (error instanceof AppError && (error.code === 'seal_not_found' || error.code === 'forbidden')) return false;
    throw error;
  }
}

/** The seals the caller may use now, with the grant that allows it: what the application form offers. */
export async function listMySeals(ctx: AppContext, actor: Actor, query: { category?: string | undefined }) {
  const { principal } = actor;
  if (principal.kind !== 'user')
    throw new AppError('forbidden', 'Only a signed-in person has seals of their own to use.');
  return repo.findUsableSeals(ctx.db, {
    groupId: principal.groupId,
    userId: principal.id,
    category: query.category,
    at: ctx.now(),
  });
}
