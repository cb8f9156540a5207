import { newId } from '../../lib/ids.js';
import { newToken, sha256Hex } from '../../lib/secrets.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { recordAudit } from '../audit/index.js';
import { API_KEY_PREFIX } from '../auth/index.js';
import type { Permission } from '../access/index.js';
import { assertWithin, isWithin, requireUser, scopeOf, type Actor } from '../access/index.js';
import { getCompany } from '../companies/index.js';
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
  input: { name: string; companyId: string; permissions: Permission[]; expiresAt?: Date | undefined },
) {
  const { principal } = actor;
  const createdBy = requireUser(principal);
  const company = await getCompany(ctx, actor, input.companyId);
  assertWithin(principal, 'api_keys.manage', company.path);
  const missing = input.permissions.filter((p) => {
    try {
      return !isWithin(scopeOf(principal, p), company.path);
    } catch {
      return true;
    }
  });
  if (missing.length > 0)
    throw new AppError(
      'forbidden',
      `You cannot give a key permissions you do not hold over ${company.name}: ${missing.join(', ')}.`,
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
