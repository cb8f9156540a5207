import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { notFound } from '../../server/errors.js';
import { encodeCursor } from '../../server/schemas.js';
import { recordAudit } from '../audit/index.js';
import { scopeOf, type Actor } from '../access/index.js';
import { getCompany } from '../companies/index.js';
import type { SealKind, SealStatus, SealType, Transaction } from '../../db/schema.js';
import * as repo from './seal.repository.js';

export async function getSeal(ctx: AppContext, actor: Actor, sealId: string): Promise<repo.SealRecord> {
  const { principal } = actor;
  const seal = await repo.findSeal(ctx.db, {
    groupId: principal.groupId,
    id: sealId,
    scope: scopeOf(principal, 'seals.read'),
  });
  if (!seal) throw notFound('seal_not_found', sealId);
  return seal;
}

export async function listSeals(
  ctx: AppContext,
  actor: Actor,
  query: Omit<repo.SealListFilter, 'groupId' | 'scope' | 'under' | 'after'> & {
    under?: string | undefined;
    cursor?: { path: string; code: string } | undefined;
  },
) {
  const { principal } = actor;
  const scope = scopeOf(principal, 'seals.read');
  const under = query.under ? (await getCompany(ctx, actor, query.under)).path : undefined;
  const items = await repo.findSeals(ctx.db, {
    ...query,
    groupId: principal.groupId,
    scope,
    under,
    after: query.cursor,
  });
  const last = items.at(-1);
  return {
    items,
    nextCursor: items.length === query.limit && last ? encodeCursor({ path: last.companyPath, code: last.code }) : null,
  };
}

/** How many seals each company has, by kind, type and status, over what the caller may see. */
export async function sealStatistics(ctx: AppContext, actor: Actor, query: { under?: string | undefined }) {
  const { principal } = actor;
  const scope = scopeOf(principal, 'seals.read');
  const under = query.under ? (await getCompany(ctx, actor, query.under)).path : undefined;
  const rows = await repo.countSeals(ctx.db, { groupId: principal.groupId, scope, under });
  const total = rows.reduce((sum, r) => sum + r.count, 0);
  return { total, rows };
}

/**
 * Records a seal that already exists in the physical world or was produced through
 * its application: used by demo seeding and, later, by the approved production step.
 */
export async function insertSealWithCustodians(
  trx: Transaction,
  options: {
    groupId: string;
    actor: Parameters<typeof recordAudit>[1]['actor'];
    seal: {
      companyId: string;
      code: string;
      name: string;
      kind: SealKind;
      type: SealType;
      customType?: string | null;
      status: SealStatus;
      description?: string | null;
      image?: { sha256: string; mediaType: string } | null;
    };
    custodianIds: string[];
    at: Date;
  },
): Promise<string> {
  const id = newId();
  const { seal } = options;
  await repo.insertSeal(trx, {
    id,
    groupId: options.groupId,
    companyId: seal.companyId,
    code: seal.code,
    name: seal.name,
    kind: seal.kind,
    type: seal.type,
    customType: seal.customType ?? null,
    status: seal.status,
    description: seal.description ?? null,
    imageSha256: seal.image?.sha256 ?? null,
    imageMediaType: seal.image?.mediaType ?? null,
    producedAt: seal.status === 'active' ? options.at : null,
  });
  for (const userId of options.custodianIds)
    await repo.insertCustodian(trx, { groupId: options.groupId, sealId: id, userId });
  await recordAudit(trx, {
    groupId: options.groupId,
    actor: options.actor,
    at: options.at,
    event: {
      action: 'seal.created',
      target: { type: 'seal', id },
      companyId: seal.companyId,
      changes: {
        name: seal.name,
        code: seal.code,
        kind: seal.kind,
        type: seal.type,
        companyId: seal.companyId,
        status: seal.status,
        custodianIds: options.custodianIds,
      },
    },
  });
  return id;
}

/** On resignation: every seal the person kept waits for a new custodian (same transaction as the status change). */
export async function flagSealsOfResignedCustodian(
  trx: Transaction,
  options: { groupId: string; userId: string; actor: Actor; at: Date },
): Promise<number> {
  const seals = await repo.flagSealsKeptBy(trx, options.groupId, options.userId);
  for (const seal of seals) {
    await recordAudit(trx, {
      groupId: options.groupId,
      actor: options.actor,
      at: options.at,
      event: {
        action: 'seal.custodian_needed',
        target: { type: 'seal', id: seal.id },
        companyId: seal.companyId,
        changes: { formerCustodianId: options.userId },
      },
    });
  }
  return seals.length;
}
