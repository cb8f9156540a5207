import { isUniqueViolation } from '../../db/errors.js';
import type { FlowPurpose, Transaction } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { recordAudit } from '../audit/index.js';
import { assertWithin, scopeOf, type Actor } from '../access/index.js';
import { getCompany } from '../companies/index.js';
import { findSeal } from '../seals/index.js';
import * as repo from './flow.repository.js';
import { flowDefinition, type FlowDefinition } from './flow.schema.js';

export interface Flow {
  id: string;
  companyId: string;
  purpose: FlowPurpose;
  category: string | null;
  sealId: string | null;
  name: string;
  version: number;
  versionId: string;
  status: 'active' | 'archived';
  definition: FlowDefinition;
  createdAt: Date;
}

/** Definitions are re-validated when read, so a hand-edited row cannot steer approvals. */
function toFlow<R extends repo.FlowRecord>(record: R): Omit<R, 'definition'> & { definition: FlowDefinition } {
  return { ...record, definition: flowDefinition.parse(record.definition) };
}

export async function getFlow(ctx: AppContext, actor: Actor, flowId: string) {
  const { principal } = actor;
  const flow = await repo.findFlow(ctx.db, {
    groupId: principal.groupId,
    id: flowId,
    scope: scopeOf(principal, 'seals.read'),
  });
  if (!flow) throw notFound('flow_not_found', flowId);
  return toFlow(flow);
}

export async function listFlows(
  ctx: AppContext,
  actor: Actor,
  query: { companyId?: string | undefined; includeArchived: boolean },
) {
  const { principal } = actor;
  const rows = await repo.findFlows(ctx.db, {
    groupId: principal.groupId,
    scope: scopeOf(principal, 'seals.read'),
    ...query,
  });
  return rows.map(toFlow);
}

function conflict(category: string | null, sealId: string | null): AppError {
  return new AppError(
    'flow_conflict',
    sealId
      ? 'That seal is already bound to an active flow; change that flow instead.'
      : `The company already has an active flow for ${category ?? 'every category'}; change that flow instead.`,
  );
}

export async function createFlow(
  ctx: AppContext,
  actor: Actor,
  input: {
    companyId: string;
    purpose: FlowPurpose;
    category?: string | undefined;
    sealId?: string | undefined;
    name: string;
    definition: FlowDefinition;
  },
) {
  const { principal } = actor;
  const company = await getCompany(ctx, actor, input.companyId);
  assertWithin(principal, 'flows.manage', company.path);
  if (input.sealId) {
    const seal = await findSeal(ctx.db, {
      groupId: principal.groupId,
      id: input.sealId,
      scope: scopeOf(principal, 'seals.read'),
    });
    if (!seal) throw notFound('seal_not_found', input.sealId);
    if (!seal.companyPath.startsWith(company.path)) {
      throw new AppError('validation_failed', `${seal.name} belongs to a company outside ${company.name}.`, {
        errors: [{ field: 'body.sealId', message: 'belongs to a company outside the flow company' }],
      });
    }
  }
  const id = newId();
  const createdBy = principal.kind === 'user' ? principal.id : null;
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await repo.insertFlow(trx, {
        id,
        groupId: principal.groupId,
        companyId: company.id,
        purpose: input.purpose,
        category: input.category ?? null,
        sealId: input.sealId ?? null,
        name: input.name,
        createdBy,
      });
      await repo.insertFlowVersion(trx, {
        id: newId(),
        groupId: principal.groupId,
        flowId: id,
        version: 1,
        definition: input.definition,
        createdBy,
      });
      await recordAudit(trx, {
        groupId: principal.groupId,
        actor,
        event: {
          action: 'flow.created',
          target: { type: 'flow', id },
          companyId: company.id,
          changes: {
            name: input.name,
            purpose: input.purpose,
            category: input.category ?? null,
            sealId: input.sealId ?? null,
            version: 1,
          },
        },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(input.category ?? null, input.sealId ?? null);
    throw error;
  }
  return getFlow(ctx, actor, id);
}

/**
 * A change makes a new version; applications already running keep the version they
 * started with (they reference it), so a flow edit never changes a decision under way.
 */
export async function updateFlow(
  ctx: AppContext,
  actor: Actor,
  flowId: string,
  input: { name?: string | undefined; definition: FlowDefinition },
) {
  const { principal } = actor;
  const before = await getFlow(ctx, actor, flowId);
  assertWithin(principal, 'flows.manage', before.companyPath);
  await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.findFlow(trx, { groupId: principal.groupId, id: flowId }, { lock: true });
    if (!locked || locked.status !== 'active') throw notFound('flow_not_found', flowId);
    const version = locked.version + 1;
    await repo.insertFlowVersion(trx, {
      id: newId(),
      groupId: principal.groupId,
      flowId,
      version,
      definition: input.definition,
      createdBy: principal.kind === 'user' ? principal.id : null,
    });
    await repo.updateFlow(trx, flowId, { current_version: version, ...(input.name ? { name: input.name } : {}) });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'flow.updated',
        target: { type: 'flow', id: flowId },
        companyId: before.companyId,
        changes: { name: input.name ?? before.name, version },
      },
    });
  });
  return getFlow(ctx, actor, flowId);
}

export async function archiveFlow(ctx: AppContext, actor: Actor, flowId: string) {
  const { principal } = actor;
  const flow = await getFlow(ctx, actor, flowId);
  assertWithin(principal, 'flows.manage', flow.companyPath);
  await ctx.db.transaction().execute(async (trx) => {
    await repo.updateFlow(trx, flowId, { status: 'archived' });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'flow.archived',
        target: { type: 'flow', id: flowId },
        companyId: flow.companyId,
        changes: { name: flow.name },
      },
    });
  });
  return getFlow(ctx, actor, flowId);
}

/**
 * The flow that serves an application: one bound to its seal locks the seal's use to
 * it; otherwise the nearest company on the way up from the seal's company, preferring a
 * flow for the exact business category over one for every category.
 */
export async function resolveFlow(
  db: AppContext['db'] | Transaction,
  q: {
    groupId: string;
    purpose: FlowPurpose;
    category: string | null;
    sealIds: string[];
    companyPath: string;
    companyName: string;
  },
): Promise<Flow> {
  const ancestors = q.companyPath.split('/').filter(Boolean);
  const candidates = (
    await repo.findCandidateFlows(db, {
      groupId: q.groupId,
      purpose: q.purpose,
      sealIds: q.sealIds,
      companyIds: ancestors,
    })
  ).map(toFlow);
  const bound = candidates.filter((f) => f.sealId !== null);
  if (bound.length > 0) {
    if (new Set(bound.map((f) => f.id)).size > 1 || bound.length < q.sealIds.length) {
      throw new AppError(
        'flow_conflict',
        'The seals you chose go through different approval flows; apply for them separately.',
      );
    }
    return bound[0]!;
  }
  for (const companyId of [...ancestors].reverse()) {
    const here = candidates.filter((f) => f.companyId === companyId && f.sealId === null);
    const exact = here.find((f) => f.category === q.category);
    const general = here.find((f) => f.category === null);
    if (exact ?? general) return (exact ?? general)!;
  }
  throw new AppError(
    'no_flow_configured',
    `No approval flow serves ${q.category ?? 'this step'} for ${q.companyName} or any company above it; ask a seal administrator to configure one.`,
  );
}
