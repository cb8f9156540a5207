import { newId } from '../../lib/ids.js';
import { newToken, sha256Hex } from '../../lib/secrets.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { recordAudit } from '../audit/index.js';
import { API_KEY_PREFIX } from '../auth/index.js';
import type { Permission } from '../access/index.js';
import { assertWithin, isWithin, requireUser, rolePermissions, scopeOf, type Actor } from '../access/index.js';
import { findCompany, getCompany } from '../companies/index.js';
import { findUser, users } from '../users/index.js';
import * as repo from './api-key.repository.js';

export async function listApiKeys(ctx: AppContext, actor: Actor) {
  const { principal } = actor;
  return repo.findKeys(ctx.db, { groupId: principal.groupId, scope: scopeOf(principal, 'api_keys.manage') });
}

/**
 * Creates a key for an integration. A key can never do more than its creator: each
 * permission asked for must be one the creator holds over the key's company.
 * The secret is shown once; only its hash is stored.
 */
export async function createApiKey(
  ctx: AppContext,
  actor: Actor,
  input: {
    name: string;
    companyId?: string | undefined;
    permissions: Permission[];
    serviceAccountId?: string | undefined;
    expiresAt?: Date | undefined;
  },
) {
  const { principal } = actor;
  const createdBy = requireUser(principal);
  if (principal.apiKeyId) throw new AppError('forbidden', 'An API key cannot make API keys; a person does.');
  const account = input.serviceAccountId ? await serviceAccountFor(ctx, actor, input) : null;
  const companyId = account?.companyId ?? input.companyId;
  if (!companyId) throw invalid('body.companyId', 'is required for a key with its own permissions');
  if (!account && input.permissions.length === 0)
    throw invalid('body.permissions', 'must name at least one permission');
  const company = await getCompany(ctx, actor, companyId);
  assertWithin(principal, 'api_keys.manage', company.path);
  // A key can never do more than its creator: what it may do (its permissions, or its account's
  // roles over their companies) must be what the creator holds over the same companies.
  const asked = account
    ? account.roles.flatMap((r) =>
        rolePermissions[r.role].map((permission) => ({ permission, path: r.companyPath, name: r.companyName })),
      )
    : input.permissions.map((permission) => ({ permission, path: company.path, name: company.name }));
  const missing = asked.filter(({ permission, path }) => {
    try {
      return !isWithin(scopeOf(principal, permission), path);
    } catch {
      return true;
    }
  });
  if (missing.length > 0)
    throw new AppError(
      'forbidden',
      `You cannot give a key permissions you do not hold: ${[...new Set(missing.map((m) => `${m.permission} over ${m.name}`))].join(', ')}.`,
    );
  if (input.expiresAt && input.expiresAt <= ctx.now()) {
    throw new AppError('validation_failed', 'The expiry must lie in the future.', {
      errors: [{ field: 'body.expiresAt', message: 'must lie in the future' }],
    });
  }
  const id = newId();
  const secret = newToken(API_KEY_PREFIX);
  const permissions = [...new Set(input.permissions)].sort();
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertKey(trx, {
      id,
      groupId: principal.groupId,
      companyId: company.id,
      name: input.name,
      prefix: secret.slice(0, 12),
      keyHash: sha256Hex(secret),
      permissions,
      createdBy,
      expiresAt: input.expiresAt ?? null,
      serviceAccountId: account?.id ?? null,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'api_key.created',
        target: { type: 'api_key', id },
        companyId: company.id,
        changes: {
          name: input.name,
          companyId: company.id,
          permissions,
          expiresAt: input.expiresAt?.toISOString() ?? null,
          ...(account ? { serviceAccountId: account.id } : {}),
        },
      },
    });
  });
  const key = await repo.findKey(ctx.db, {
    groupId: principal.groupId,
    id,
    scope: scopeOf(principal, 'api_keys.manage'),
  });
  if (!key) throw notFound('api_key_not_found', id);
  return { key, secret };
}

function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field} ${message}.`, { errors: [{ field, message }] });
}

/**
 * The service account a new key will act as, with its roles and their companies: only a service
 * account (never a person: a key must not let anyone act as someone who signs in), of this group,
 * and given no permissions of the key's own.
 */
async function serviceAccountFor(
  ctx: AppContext,
  actor: Actor,
  input: { serviceAccountId?: string | undefined; permissions: Permission[] },
) {
  const { groupId } = actor.principal;
  const id = input.serviceAccountId!;
  if (input.permissions.length > 0)
    throw invalid('body.permissions', "must be empty: a service account's key acts with the account's roles");
  // Only within the creator's reach: outside it, the account is not there (not even its kind).
  const account = await findUser(ctx.db, { groupId, id, scope: scopeOf(actor.principal, 'api_keys.manage') });
  if (!account) throw notFound('user_not_found', id);
  if (!account.serviceAccount)
    throw invalid('body.serviceAccountId', 'must name a service account: a key never acts as a person');
  if (account.status !== 'active') throw invalid('body.serviceAccountId', `names an account that is ${account.status}`);
  const roles = [];
  for (const role of await users.findUserRoles(ctx.db, groupId, id)) {
    const company = await findCompany(ctx.db, { groupId, id: role.companyId });
    if (company) roles.push({ role: role.role, companyPath: company.path, companyName: company.name });
  }
  return { id: account.id, companyId: account.companyId, roles };
}

export async function revokeApiKey(ctx: AppContext, actor: Actor, apiKeyId: string) {
  const { principal } = actor;
  const key = await repo.findKey(ctx.db, {
    groupId: principal.groupId,
    id: apiKeyId,
    scope: scopeOf(principal, 'api_keys.manage'),
  });
  if (!key) throw notFound('api_key_not_found', apiKeyId);
  await ctx.db.transaction().execute(async (trx) => {
    if (!(await repo.revokeKey(trx, apiKeyId, ctx.now()))) return;
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'api_key.revoked',
        target: { type: 'api_key', id: apiKeyId },
        companyId: key.companyId,
        changes: { name: key.name },
      },
    });
  });
}
