import type { Selectable } from 'kysely';
import type { AuditEventsTable, Db } from '../../db/schema.js';
import { escapeLike } from '../../db/scope.js';

// The auditor's query. It scopes events by the company tree, which sits above the log, so it
// lives here rather than in audit/.

type AuditRow = Selectable<AuditEventsTable>;

export interface AuditFilter {
  groupId: string;
  scope: string[];
  /** Events that concern the whole group (no company); only for callers scoped at the top. */
  includeGroupWide: boolean;
  action?: string | undefined;
  actionPrefix?: string | undefined;
  actorId?: string | undefined;
  targetId?: string | undefined;
  companyId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  beforeSeq?: number | undefined;
  /** One event by its place in the log. */
  seq?: number | undefined;
  limit: number;
}

/**
 * Newest first; events without a company (group-wide) are visible only to whole-group scopes.
 * `link_hash` is the version 3 chain's hash of the event (null until it is sealed).
 */
export async function findEvents(db: Db, filter: AuditFilter): Promise<Array<AuditRow & { link_hash: string | null }>> {
  let query = db
    .selectFrom('audit_events as e')
    .leftJoin('companies as c', 'c.id', 'e.company_id')
    .leftJoin('audit_links as l', (join) =>
      join.onRef('l.group_id', '=', 'e.group_id').onRef('l.event_seq', '=', 'e.seq'),
    )
    .selectAll('e')
    .select('l.hash as link_hash')
    .where('e.group_id', '=', filter.groupId)
    .where((eb) =>
      eb.or([
        ...filter.scope.map((root) => eb('c.path', 'like', `${escapeLike(root)}%`)),
        ...(filter.includeGroupWide ? [eb('e.company_id', 'is', null)] : []),
      ]),
    );
  if (filter.action) query = query.where('e.action', '=', filter.action);
  if (filter.actionPrefix) query = query.where('e.action', 'like', `${escapeLike(filter.actionPrefix)}%`);
  if (filter.actorId) query = query.where('e.actor_id', '=', filter.actorId);
  if (filter.targetId) query = query.where('e.target_id', '=', filter.targetId);
  if (filter.companyId) query = query.where('e.company_id', '=', filter.companyId);
  if (filter.from) query = query.where('e.occurred_at', '>=', filter.from);
  if (filter.to) query = query.where('e.occurred_at', '<', filter.to);
  if (filter.beforeSeq !== undefined) query = query.where('e.seq', '<', filter.beforeSeq);
  if (filter.seq !== undefined) query = query.where('e.seq', '=', filter.seq);
  return query.orderBy('e.seq', 'desc').limit(filter.limit).execute();
}
