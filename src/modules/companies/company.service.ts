import { isUniqueViolation } from '../../db/errors.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { encodeCursor } from '../../server/schemas.js';
import { recordAudit } from '../audit/index.js';
import { assertWithin, scopeOf, type Actor } from '../access/index.js';
import * as repo from './company.repository.js';
import type { CreateCompanyInput, UpdateCompanyInput } from './company.schema.js';

function codeTaken(code: string): AppError {
  return new AppError('company_code_taken', `Another company of your group already has the code ${code}.`, {
    companyCode: code,
  });
}

/** A company the caller may read, or company_not_found (also for other groups' and sibling companies). */
export async function getCompany(ctx: AppContext, actor: Actor, companyId: string): Promise<repo.CompanyRecord> {
  const { principal } = actor;
  const company = await repo.findCompany(ctx.db, {
    groupId: principal.groupId,
    id: companyId,
    scope: scopeOf(principal, 'org.read'),
  });
  if (!company) throw notFound('company_not_found', companyId);
  return company;
}

export async function listCompanies(
  ctx: AppContext,
  actor: Actor,
  query: {
    parentId?: string | undefined;
    under?: string | undefined;
    q?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
) {
  const { principal } = actor;
  const scope = scopeOf(principal, 'org.read');
  const under = query.under ? (await getCompany(ctx, actor, query.under)).path : undefined;
  const items = await repo.findCompanies(ctx.db, {
    groupId: principal.groupId,
    scope,
    parentId: query.parentId,
    under,
    q: query.q,
    afterPath: query.cursor,
    limit: query.limit,
  });
  const last = items.at(-1);
  return { items, nextCursor: items.length === query.limit && last ? encodeCursor(last.path) : null };
}

export async function createCompany(
  ctx: AppContext,
  actor: Actor,
  input: CreateCompanyInput,
): Promise<repo.CompanyRecord> {
  const { principal } = actor;
  const parent = await getCompany(ctx, actor, input.parentId);
  assertWithin(principal, 'org.write', parent.path);
  const id = newId();
  const record = {
    id,
    groupId: principal.groupId,
    parentId: parent.id,
    name: input.name,
    code: input.code,
    path: `${parent.path}${id}/`,
    depth: parent.depth + 1,
  };
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await repo.insertCompany(trx, record);
      await recordAudit(trx, {
        groupId: principal.groupId,
        actor,
        event: {
          action: 'company.created',
          target: { type: 'company', id },
          companyId: id,
          changes: { name: input.name, code: input.code, parentId: parent.id },
        },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw codeTaken(input.code);
    throw error;
  }
  return getCompany(ctx, actor, id);
}

export async function updateCompany(
  ctx: AppContext,
  actor: Actor,
  companyId: string,
  input: UpdateCompanyInput,
): Promise<repo.CompanyRecord> {
  const { principal } = actor;
  const before = await getCompany(ctx, actor, companyId);
  assertWithin(principal, 'org.write', before.path);
  const newParent =
    input.parentId && input.parentId !== before.parentId ? await getCompany(ctx, actor, input.parentId) : undefined;
  if (input.parentId && before.parentId === null)
    throw new AppError('company_move_cycle', 'The head company cannot be moved under another company.');
  if (newParent) {
    assertWithin(principal, 'org.write', newParent.path);
    if (newParent.path.startsWith(before.path)) {
      throw new AppError(
        'company_move_cycle',
        `${newParent.name} lies inside ${before.name}; a company cannot move under its own subtree.`,
      );
    }
  }
  const patch = { name: input.name, code: input.code, status: input.status };
  const from: Record<string, unknown> = {};
  const to: Record<string, unknown> = {};
  for (const key of ['name', 'code', 'status'] as const) {
    if (patch[key] !== undefined && patch[key] !== before[key]) {
      from[key] = before[key];
      to[key] = patch[key];
    }
  }
  if (newParent) {
    from.parentId = before.parentId;
    to.parentId = newParent.id;
  }
  if (Object.keys(to).length === 0) return before;
  try {
    await ctx.db.transaction().execute(async (trx) => {
      // Lock the company so a concurrent move of the same subtree cannot interleave.
      const locked = await repo.findCompany(trx, { groupId: principal.groupId, id: companyId }, { lock: true });
      if (!locked) throw notFound('company_not_found', companyId);
      const changes = Object.fromEntries(Object.entries(patch).filter(([k, v]) => v !== undefined && k in to));
      if (Object.keys(changes).length > 0) await repo.updateCompany(trx, companyId, changes);
      if (newParent) {
        const target = `${newParent.path}${companyId}/`;
        await repo.moveSubtree(trx, principal.groupId, {
          id: companyId,
          parentId: newParent.id,
          from: locked.path,
          to: target,
          depthDelta: newParent.depth + 1 - locked.depth,
        });
      }
      await recordAudit(trx, {
        groupId: principal.groupId,
        actor,
        event: {
          action: 'company.updated',
          target: { type: 'company', id: companyId },
          companyId,
          changes: { from, to },
        },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw codeTaken(input.code ?? '');
    throw error;
  }
  return getCompany(ctx, actor, companyId);
}
