import { isUniqueViolation } from '../../db/errors.js';
import type { Transaction, UserStatus } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import { hashPassword } from '../../lib/secrets.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { encodeCursor, jsonText } from '../../server/schemas.js';
import { recordAudit } from '../audit/index.js';
import { revokeUserSessions } from '../auth/index.js';
import { clearSignInFailures } from '../auth/index.js';
import { assertWithin, requireUser, scopeOf, type Actor } from '../access/index.js';
import { getCompany } from '../companies/index.js';
import { findDepartment } from './department.repository.js';
import { findCompanyPaths } from '../companies/index.js';
import * as repo from './user.repository.js';
import { ExtensionPoint } from '../../lib/extension-point.js';
import type { CreateServiceAccountInput, CreateUserInput, UpdateUserInput } from './user.schema.js';

/**
 * What a resignation also ends, in its transaction: provided by the modules holding what the
 * person held (pki: their signing certificates, revoked so the next CRL lists them; seals: the
 * seals they kept, flagged to wait for a new custodian).
 */
export type DepartureHook = (
  trx: Transaction,
  q: { groupId: string; userId: string; companyId: string; actor: Actor; at: Date },
) => Promise<unknown>;

export const departureHooks = new ExtensionPoint<DepartureHook>('users.departure');

export function presentUser(user: repo.UserRecord, now: Date) {
  const { companyPath: _path, lockedUntil, ...rest } = user;
  return { ...rest, locked: lockedUntil !== null && lockedUntil > now };
}

export async function getUser(ctx: AppContext, actor: Actor, userId: string): Promise<repo.UserRecord> {
  const { principal } = actor;
  const user = await repo.findUser(ctx.db, {
    groupId: principal.groupId,
    id: userId,
    scope: scopeOf(principal, 'org.read'),
  });
  if (!user) throw notFound('user_not_found', userId);
  return user;
}

export async function getUserDetail(ctx: AppContext, actor: Actor, userId: string) {
  const user = await getUser(ctx, actor, userId);
  const [posts, roles] = await Promise.all([
    repo.findPosts(ctx.db, actor.principal.groupId, userId),
    repo.findUserRoles(ctx.db, actor.principal.groupId, userId),
  ]);
  return { ...presentUser(user, ctx.now()), posts, roles };
}

export async function listUsers(
  ctx: AppContext,
  actor: Actor,
  query: {
    companyId?: string | undefined;
    under?: string | undefined;
    departmentId?: string | undefined;
    status?: UserStatus | undefined;
    q?: string | undefined;
    limit: number;
    cursor?: { name: string; id: string } | undefined;
  },
) {
  const { principal } = actor;
  const scope = scopeOf(principal, 'org.read');
  const under = query.under ? (await getCompany(ctx, actor, query.under)).path : undefined;
  const filter = {
    groupId: principal.groupId,
    scope,
    companyId: query.companyId,
    under,
    departmentId: query.departmentId,
    status: query.status,
    q: query.q,
    after: query.cursor,
    limit: query.limit,
  };
  const page = await repo.findUsersJson(ctx.db, filter, ctx.now());
  const nextCursor = page.count === query.limit && page.last ? encodeCursor(page.last) : null;
  return jsonText(`{"items":${page.items},"nextCursor":${JSON.stringify(nextCursor)}}`);
}

/** A department given with a company must belong to that company. */
async function assertDepartmentOf(
  ctx: AppContext,
  actor: Actor,
  departmentId: string,
  companyId: string,
  field: string,
): Promise<void> {
  const department = await findDepartment(ctx.db, {
    groupId: actor.principal.groupId,
    id: departmentId,
    scope: scopeOf(actor.principal, 'org.read'),
  });
  if (!department) throw notFound('department_not_found', departmentId);
  if (department.companyId !== companyId) {
    throw new AppError('validation_failed', `Department ${department.name} belongs to another company.`, {
      errors: [{ field, message: 'belongs to another company' }],
    });
  }
}

function emailTaken(email: string): AppError {
  return new AppError('email_taken', `Someone already signs in with ${email}.`, { email });
}

export async function createUser(ctx: AppContext, actor: Actor, input: CreateUserInput) {
  const { principal } = actor;
  const company = await getCompany(ctx, actor, input.companyId);
  assertWithin(principal, 'org.write', company.path);
  if (input.departmentId) await assertDepartmentOf(ctx, actor, input.departmentId, company.id, 'body.departmentId');
  const passwordHash = await hashPassword(input.password);
  const id = newId();
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await repo.insertUser(trx, {
        id,
        groupId: principal.groupId,
        companyId: company.id,
        departmentId: input.departmentId ?? null,
        email: input.email,
        name: input.name,
        phone: input.phone ?? null,
        locale: input.locale ?? 'zh-CN',
        passwordHash,
      });
      await recordAudit(trx, {
        groupId: principal.groupId,
        actor,
        event: {
          action: 'user.created',
          target: { type: 'user', id },
          companyId: company.id,
          changes: {
            email: input.email,
            name: input.name,
            companyId: company.id,
            departmentId: input.departmentId ?? null,
          },
        },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw emailTaken(input.email);
    throw error;
  }
  return getUserDetail(ctx, actor, id);
}

/**
 * A service account: a user record for an integration. It has no password anyone knows and no
 * e-mail that reaches a person, so nobody signs in as it; its API keys act as it, with the roles
 * and seal grants it is given like anyone else (and the same separation of duties).
 */
export async function createServiceAccount(ctx: AppContext, actor: Actor, input: CreateServiceAccountInput) {
  const { principal } = actor;
  const company = await getCompany(ctx, actor, input.companyId);
  assertWithin(principal, 'org.write', company.path);
  if (input.departmentId) await assertDepartmentOf(ctx, actor, input.departmentId, company.id, 'body.departmentId');
  const id = newId();
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertUser(trx, {
      id,
      groupId: principal.groupId,
      companyId: company.id,
      departmentId: input.departmentId ?? null,
      email: `${id}@${SERVICE_ACCOUNT_DOMAIN}`,
      name: input.name,
      phone: null,
      locale: 'zh-CN',
      passwordHash: SERVICE_ACCOUNT_PASSWORD,
      serviceAccount: true,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'user.created',
        target: { type: 'user', id },
        companyId: company.id,
        changes: {
          email: `${id}@${SERVICE_ACCOUNT_DOMAIN}`,
          name: input.name,
          companyId: company.id,
          departmentId: input.departmentId ?? null,
          serviceAccount: true,
        },
      },
    });
  });
  return getUserDetail(ctx, actor, id);
}

/** Service accounts' addresses: `.invalid` (RFC 2606) never reaches anyone. */
export const SERVICE_ACCOUNT_DOMAIN = 'service-account.invalid';
/** Not a password hash at all: no password verifies against it. */
const SERVICE_ACCOUNT_PASSWORD = 'service-account:no-password';

export async function updateUser(ctx: AppContext, actor: Actor, userId: string, input: UpdateUserInput) {
  const { principal } = actor;
  const before = await getUser(ctx, actor, userId);
  assertWithin(principal, 'org.write', before.companyPath);
  const companyId = input.companyId ?? before.companyId;
  if (input.companyId && input.companyId !== before.companyId) {
    const target = await getCompany(ctx, actor, input.companyId);
    assertWithin(principal, 'org.write', target.path);
  }
  const departmentId =
    input.departmentId !== undefined ? input.departmentId : companyId === before.companyId ? before.departmentId : null;
  if (departmentId) await assertDepartmentOf(ctx, actor, departmentId, companyId, 'body.departmentId');
  const next = {
    name: input.name ?? before.name,
    companyId,
    departmentId,
    phone: input.phone !== undefined ? input.phone : before.phone,
    locale: input.locale ?? before.locale,
  };
  const from: Record<string, unknown> = {};
  const to: Record<string, unknown> = {};
  for (const key of Object.keys(next) as Array<keyof typeof next>) {
    if (next[key] !== before[key]) {
      from[key] = before[key];
      to[key] = next[key];
    }
  }
  if (Object.keys(to).length === 0) return getUserDetail(ctx, actor, userId);
  await ctx.db.transaction().execute(async (trx) => {
    await repo.updateUser(trx, userId, {
      name: next.name,
      company_id: next.companyId,
      department_id: next.departmentId,
      phone: next.phone,
      locale: next.locale,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'user.updated',
        target: { type: 'user', id: userId },
        companyId: next.companyId,
        changes: { from, to },
      },
    });
  });
  return getUserDetail(ctx, actor, userId);
}

/**
 * Suspending or marking a user resigned ends every session they hold in the same
 * transaction, so their next request is refused. Resignation is final.
 */
export async function changeUserStatus(
  ctx: AppContext,
  actor: Actor,
  userId: string,
  input: { status: UserStatus; reason?: string | undefined },
) {
  const { principal } = actor;
  const before = await getUser(ctx, actor, userId);
  assertWithin(principal, 'org.write', before.companyPath);
  if (principal.kind === 'user' && principal.id === userId)
    throw new AppError('self_assignment_forbidden', 'You cannot change your own status; ask another administrator.');
  await ctx.db.transaction().execute(async (trx) => {
    // Re-read under lock: two administrators acting at once must not both see "active".
    const user = await repo.findUser(trx, { groupId: principal.groupId, id: userId }, { lock: true });
    if (!user) throw notFound('user_not_found', userId);
    if (user.status === input.status) return;
    if (user.status === 'resigned')
      throw new AppError(
        'user_resigned',
        `${user.name} has resigned; a resigned account cannot be reactivated. Create a new account instead.`,
        { name: user.name },
      );
    const now = ctx.now();
    await repo.updateUser(trx, userId, { status: input.status, status_changed_at: now });
    const sessionsEnded = input.status === 'active' ? 0 : await revokeUserSessions(trx, userId, now);
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at: now,
      event: {
        action: 'user.status_changed',
        target: { type: 'user', id: userId },
        companyId: user.companyId,
        changes: { from: user.status, to: input.status, reason: input.reason ?? null, sessionsEnded },
      },
    });
    // Their grants stop with their status (the use decision requires an active person); what
    // else they held ends in this transaction too (their signing certificate, the seals they kept).
    if (input.status === 'resigned')
      for (const hook of departureHooks.all())
        await hook(trx, { groupId: principal.groupId, userId, companyId: user.companyId, actor, at: now });
  });
  return getUserDetail(ctx, actor, userId);
}

export async function resetPassword(ctx: AppContext, actor: Actor, userId: string, password: string) {
  const { principal } = actor;
  const user = await getUser(ctx, actor, userId);
  assertWithin(principal, 'org.write', user.companyPath);
  if (principal.kind === 'user' && principal.id === userId)
    throw new AppError(
      'self_assignment_forbidden',
      'Change your own password under your profile, with your current password.',
    );
  const passwordHash = await hashPassword(password);
  await ctx.db.transaction().execute(async (trx) => {
    await repo.updateUser(trx, userId, { password_hash: passwordHash, failed_logins: 0, locked_until: null });
    await clearSignInFailures(trx, user.email);
    await revokeUserSessions(trx, userId, ctx.now());
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'user.password_changed',
        target: { type: 'user', id: userId },
        companyId: user.companyId,
        changes: { by: 'administrator' },
      },
    });
  });
}

export async function unlockUser(ctx: AppContext, actor: Actor, userId: string) {
  const { principal } = actor;
  const user = await getUser(ctx, actor, userId);
  assertWithin(principal, 'org.write', user.companyPath);
  await ctx.db.transaction().execute(async (trx) => {
    await repo.updateUser(trx, userId, { failed_logins: 0, locked_until: null });
    await clearSignInFailures(trx, user.email);
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: { action: 'user.unlocked', target: { type: 'user', id: userId }, companyId: user.companyId, changes: {} },
    });
  });
  return getUserDetail(ctx, actor, userId);
}

export async function addPost(
  ctx: AppContext,
  actor: Actor,
  userId: string,
  input: { companyId: string; departmentId?: string | null | undefined; title: string },
) {
  const { principal } = actor;
  await getUser(ctx, actor, userId);
  const company = await getCompany(ctx, actor, input.companyId);
  assertWithin(principal, 'org.write', company.path);
  if (input.departmentId) await assertDepartmentOf(ctx, actor, input.departmentId, company.id, 'body.departmentId');
  const postId = newId();
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertPost(trx, {
      id: postId,
      groupId: principal.groupId,
      userId,
      companyId: company.id,
      departmentId: input.departmentId ?? null,
      title: input.title,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'user.post_added',
        target: { type: 'user', id: userId },
        companyId: company.id,
        changes: { postId, companyId: company.id, departmentId: input.departmentId ?? null, title: input.title },
      },
    });
  });
  return getUserDetail(ctx, actor, userId);
}

export async function removePost(ctx: AppContext, actor: Actor, userId: string, postId: string) {
  const { principal } = actor;
  await getUser(ctx, actor, userId);
  const posts = await repo.findPosts(ctx.db, principal.groupId, userId);
  const post = posts.find((p) => p.id === postId);
  if (!post) throw new AppError('user_not_found', `User ${userId} holds no post ${postId}.`);
  const paths = await findCompanyPaths(ctx.db, principal.groupId, [post.companyId]);
  assertWithin(principal, 'org.write', paths.get(post.companyId) ?? '');
  await ctx.db.transaction().execute(async (trx) => {
    await repo.deletePost(trx, { groupId: principal.groupId, userId, postId });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'user.post_removed',
        target: { type: 'user', id: userId },
        companyId: post.companyId,
        changes: { postId },
      },
    });
  });
  return getUserDetail(ctx, actor, userId);
}

/** The signed-in person's own profile; needs no permission beyond being signed in. */
export async function getMe(ctx: AppContext, actor: Actor) {
  const { principal } = actor;
  const userId = requireUser(principal);
  const user = await repo.findUser(ctx.db, { groupId: principal.groupId, id: userId });
  if (!user) throw notFound('user_not_found', userId);
  return user;
}

export async function updateMe(
  ctx: AppContext,
  actor: Actor,
  input: { locale?: 'zh-CN' | 'en' | undefined; phone?: string | null | undefined },
) {
  const before = await getMe(ctx, actor);
  const { principal } = actor;
  const to: Record<string, unknown> = {};
  const from: Record<string, unknown> = {};
  if (input.locale && input.locale !== before.locale) {
    from.locale = before.locale;
    to.locale = input.locale;
  }
  if (input.phone !== undefined && input.phone !== before.phone) {
    from.phone = before.phone;
    to.phone = input.phone;
  }
  if (Object.keys(to).length > 0) {
    await ctx.db.transaction().execute(async (trx) => {
      await repo.updateUser(trx, before.id, {
        ...(to.locale ? { locale: input.locale } : {}),
        ...('phone' in to ? { phone: input.phone ?? null } : {}),
      });
      await recordAudit(trx, {
        groupId: principal.groupId,
        actor,
        event: {
          action: 'user.updated',
          target: { type: 'user', id: before.id },
          companyId: before.companyId,
          changes: { from, to },
        },
      });
    });
  }
  return getMe(ctx, actor);
}

/** The directory every signed-in person may search: active people of their own company line. */
export async function searchPeople(ctx: AppContext, actor: Actor, query: { q?: string | undefined; limit: number }) {
  const { principal } = actor;
  if (!principal.companyPath) return [];
  return repo.findPeople(ctx.db, {
    groupId: principal.groupId,
    path: principal.companyPath,
    q: query.q,
    limit: query.limit,
  });
}
