// What an auditor may have of the log beyond the list: the inclusion proof of an event they may
// see, and the whole log for an auditor of the whole group.
import type { Readable } from 'node:stream';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { scopeOf, type Actor } from '../access/index.js';
import { exportLog, proveInclusion } from '../audit/index.js';
import { findEvents } from './audit-views.repository.js';
import { findRootCompany } from '../companies/index.js';

/**
 * The audit path of an event in the group's tree at `treeSize` (default: the newest checkpoint's),
 * for an auditor who may see the event, with what recomputes its leaf: what it says and the
 * hash of the place before it.
 */
export async function getInclusionProof(
  ctx: AppContext,
  actor: Actor,
  query: { seq: number; treeSize?: number | undefined },
) {
  const { principal } = actor;
  const groupId = principal.groupId;
  const scope = scopeOf(principal, 'audit.read');
  const root = await findRootCompany(ctx.db, groupId);
  const visible = await findEvents(ctx.db, {
    groupId,
    scope,
    includeGroupWide: root !== undefined && scope.includes(root.path),
    seq: query.seq,
    limit: 1,
  });
  if (visible.length === 0)
    throw new AppError(
      'audit_event_not_found',
      `No audit event ${query.seq} exists or it is outside what you may see.`,
    );
  return proveInclusion(ctx.db, groupId, query);
}

/** The whole log of the group, for an auditor of the whole group only. */
export async function exportLogFor(ctx: AppContext, actor: Actor): Promise<Readable> {
  const { principal } = actor;
  const scope = scopeOf(principal, 'audit.read');
  const root = await findRootCompany(ctx.db, principal.groupId);
  if (!root || !scope.includes(root.path))
    throw new AppError(
      'forbidden',
      "Only an auditor of the whole group may export its log: it holds every company's events.",
    );
  return exportLog(ctx, principal.groupId);
}
