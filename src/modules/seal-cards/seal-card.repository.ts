import { sql } from 'kysely';
import type { ApplicationStatus, Db, LifecycleAction } from '../../db/schema.js';
import { escapeLike } from '../../db/scope.js';

export interface SealApplicationRecord {
  id: string;
  applicantName: string;
  category: string | null;
  lifecycleAction: LifecycleAction | null;
  reason: string;
  /** Uses asked for (seal use); 0 for a lifecycle step. */
  uses: number;
  status: ApplicationStatus;
  createdAt: Date;
  decidedAt: Date | null;
  /** What its authorizations for this seal allow and have used; null before approval. */
  usesGranted: number | null;
  usesConsumed: number | null;
  authorizationRevoked: boolean;
}

/**
 * The applications that name a seal, newest first, at most `limit`, with how many there are in
 * all: its uses (purpose seal_use) or its lifecycle steps (purpose lifecycle, production included).
 */
export async function findSealApplications(
  db: Db,
  q: { groupId: string; sealId: string; purpose: 'seal_use' | 'lifecycle'; limit: number },
): Promise<{ total: number; items: SealApplicationRecord[] }> {
  const result = await sql<SealApplicationRecord & { total: number }>`
    select a.id, u.name as "applicantName", a.category, a.lifecycle_action as "lifecycleAction", a.reason, a.uses, a.status,
      a.created_at as "createdAt", a.decided_at as "decidedAt",
      z.granted as "usesGranted", z.consumed as "usesConsumed", coalesce(z.revoked, false) as "authorizationRevoked",
      count(*) over ()::int as total
    from application_seals x
    join applications a on a.id = x.application_id
    join users u on u.id = a.applicant_id
    left join lateral (
      select sum(z.uses_total)::int as granted, sum(z.uses_consumed)::int as consumed, bool_or(z.revoked_at is not null) as revoked
      from authorizations z where z.application_id = a.id and z.seal_id = x.seal_id
      having count(*) > 0
    ) z on true
    where x.seal_id = ${q.sealId} and x.group_id = ${q.groupId} and a.purpose = ${q.purpose}
    order by a.created_at desc, a.id desc
    limit ${q.limit}
  `.execute(db);
  return { total: result.rows[0]?.total ?? 0, items: result.rows.map(({ total: _total, ...row }) => row) };
}

/** How many audit events concern a seal, counted over the same companies the file card reads them from. */
export async function countSealEvents(
  db: Db,
  q: { groupId: string; sealId: string; scope: string[] },
): Promise<number> {
  const scope = sql.join(
    q.scope.map((root) => sql`c.path like ${`${escapeLike(root)}%`}`),
    sql` or `,
  );
  const result = await sql<{ n: number }>`
    select count(*)::int as n from audit_events e join companies c on c.id = e.company_id
    where e.group_id = ${q.groupId} and e.target_id = ${q.sealId} and (${scope})
  `.execute(db);
  return result.rows[0]?.n ?? 0;
}

/** How many grants a seal has ever had, revoked ones included. */
export async function countSealGrants(db: Db, q: { groupId: string; sealId: string }): Promise<number> {
  const result = await db
    .selectFrom('seal_grants')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('group_id', '=', q.groupId)
    .where('seal_id', '=', q.sealId)
    .executeTakeFirst();
  return result?.n ?? 0;
}
