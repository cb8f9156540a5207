import type { AppContext } from '../../server/context.js';
import { scopeOf, type Actor } from '../access/index.js';
import { findRootCompany } from '../companies/index.js';
import { getCompany } from '../companies/index.js';
import { parseStoredChanges, verifyLog } from '../audit/index.js';
import { findEvents } from './audit-views.repository.js';

export interface AuditQuery {
  action?: string | undefined;
  actionPrefix?: string | undefined;
  actorId?: string | undefined;
  targetId?: string | undefined;
  companyId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  beforeSeq?: number | undefined;
  limit: number;
}

/** The audit log as an auditor of a subtree sees it: events of their companies (and group-wide ones at the top). */
export async function listAuditEvents(ctx: AppContext, actor: Actor, query: AuditQuery) {
  const { principal } = actor;
  const scope = scopeOf(principal, 'audit.read');
  if (query.companyId) await getCompany(ctx, actor, query.companyId);
  const root = await findRootCompany(ctx.db, principal.groupId);
  const includeGroupWide = root !== undefined && scope.includes(root.path);
  const rows = await findEvents(ctx.db, { groupId: principal.groupId, scope, includeGroupWide, ...query });
  const items = rows.map((row) => {
    const { valid, changes } = parseStoredChanges(row);
    return {
      id: row.id,
      seq: row.seq,
      occurredAt: row.occurred_at,
      actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
      ip: row.ip,
      userAgent: row.user_agent,
      requestId: row.request_id,
      action: row.action,
      target: { type: row.target_type, id: row.target_id },
      companyId: row.company_id,
      changes,
      valid,
      hash: row.hash ?? row.link_hash,
    };
  });
  const last = rows.at(-1);
  return { items, nextBeforeSeq: rows.length === query.limit && last ? last.seq : null };
}

/** The chain, its tree and the checkpoints, for any auditor of the group (the report names places and seqs only). */
export async function verifyAuditChain(ctx: AppContext, actor: Actor) {
  scopeOf(actor.principal, 'audit.read');
  return verifyLog(ctx, actor.principal.groupId);
}
