import { sql, type RawBuilder } from 'kysely';
import type { Db, GranteeType, SealStatus, SealType, Transaction, UserStatus } from '../../db/schema.js';
import { escapeLike } from '../../db/scope.js';

export interface GrantCoverageRow {
  sealId: string;
  sealName: string;
  sealCode: string;
  sealType: SealType;
  sealStatus: SealStatus;
  sealCompanyId: string;
  sealCompanyName: string;
  sealCompanyPath: string;
  grantId: string | null;
  granteeType: GranteeType | null;
  granteeName: string | null;
  /** Where the grantee sits: the user's company, the department's company, or the role's company. */
  granteeCompanyPath: string | null;
  categories: string[] | null;
  validFrom: Date | null;
  validUntil: Date | null;
  maxUses: number | null;
  usedCount: number | null;
  personId: string | null;
  personName: string | null;
  personStatus: UserStatus | null;
  personIsCustodian: boolean;
}

/** At most this many rows: the report of a whole large group is an export job, not a page. */
export const COVERAGE_ROW_LIMIT = 200_000;

interface ScopeQuery {
  groupId: string;
  under: string[];
  sealId?: string | undefined;
  userId?: string | undefined;
}

/** The ids of the seals in scope, as a subquery each of the three reads below repeats. */
function sealIdsInScope(q: ScopeQuery): RawBuilder<unknown> {
  const scope = sql.join(
    q.under.map((root) => sql`c.path like ${`${escapeLike(root)}%`}`),
    sql` or `,
  );
  return sql`select s.id from seals s join companies c on c.id = s.company_id where s.group_id = ${q.groupId} and (${scope}) ${q.sealId ? sql`and s.id = ${q.sealId}` : sql``}`;
}

type SealPart = Pick<
  GrantCoverageRow,
  | 'sealId'
  | 'sealName'
  | 'sealCode'
  | 'sealType'
  | 'sealStatus'
  | 'sealCompanyId'
  | 'sealCompanyName'
  | 'sealCompanyPath'
>;
type GrantPart = Pick<
  GrantCoverageRow,
  | 'granteeType'
  | 'granteeName'
  | 'granteeCompanyPath'
  | 'categories'
  | 'validFrom'
  | 'validUntil'
  | 'maxUses'
  | 'usedCount'
> & { grantId: string; sealId: string };
interface PersonPart {
  grantId: string;
  personId: string;
  personName: string;
  personStatus: UserStatus;
  personIsCustodian: boolean;
}

/**
 * Every live grant of the seals in scope, expanded to the people it covers (a user grant
 * covers its user; a department grant, its members and those posted there; a role grant,
 * the role's holders at or below its company). Seals without grants appear once, empty.
 *
 * Read as three narrow result sets — the seals, their live grants, and (grant, person) pairs —
 * in one read-only snapshot, and joined here: one wide row per person repeated each seal's and
 * grant's columns (two company paths among them) thousands of times, which made the transfer
 * and its decoding cost more than the query, and made PostgreSQL sort megabytes on disk.
 * Order: seals by company (tree order) and code, grants by creation, people by name.
 */
export async function findGrantCoverage(db: Db, q: ScopeQuery): Promise<GrantCoverageRow[]> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const seals = await findSealsInScope(trx, q);
      if (seals.length === 0) return [];
      const [grants, people] = await Promise.all([findLiveGrants(trx, q), findCoveredPeople(trx, q)]);
      return joinCoverage(seals, grants, people, q.userId !== undefined);
    });
}

async function findSealsInScope(trx: Transaction, q: ScopeQuery): Promise<SealPart[]> {
  const scope = sql.join(
    q.under.map((root) => sql`c.path like ${`${escapeLike(root)}%`}`),
    sql` or `,
  );
  const result = await sql<SealPart>`
    select s.id as "sealId", s.name as "sealName", s.code as "sealCode", s.type as "sealType", s.status as "sealStatus",
      s.company_id as "sealCompanyId", c.name as "sealCompanyName", c.path as "sealCompanyPath"
    from seals s join companies c on c.id = s.company_id
    where s.group_id = ${q.groupId} and (${scope}) ${q.sealId ? sql`and s.id = ${q.sealId}` : sql``}
    order by c.path, s.code
  `.execute(trx);
  return result.rows;
}

async function findLiveGrants(trx: Transaction, q: ScopeQuery): Promise<GrantPart[]> {
  const result = await sql<GrantPart>`
    select g.id as "grantId", g.seal_id as "sealId", g.grantee_type as "granteeType",
      coalesce(u.name, d.name, g.grantee_role || '@' || gc.name) as "granteeName",
      coalesce(uc.path, dc.path, gc.path) as "granteeCompanyPath",
      g.categories, g.valid_from as "validFrom", g.valid_until as "validUntil", g.max_uses as "maxUses", g.used_count as "usedCount"
    from seal_grants g
    left join users u on u.id = g.grantee_user_id
    left join companies uc on uc.id = u.company_id
    left join departments d on d.id = g.grantee_department_id
    left join companies dc on dc.id = d.company_id
    left join companies gc on gc.id = g.grantee_company_id
    where g.seal_id in (${sealIdsInScope(q)}) and g.revoked_at is null
    order by g.seal_id, g.created_at, g.id
  `.execute(trx);
  return result.rows;
}

async function findCoveredPeople(trx: Transaction, q: ScopeQuery): Promise<PersonPart[]> {
  const result = await sql<PersonPart>`
    with live as (
      select g.id, g.seal_id, g.grantee_type, g.grantee_user_id, g.grantee_department_id, g.grantee_role, g.grantee_company_id
      from seal_grants g
      where g.seal_id in (${sealIdsInScope(q)}) and g.revoked_at is null
    ), covered as (
      select l.id as grant_id, l.seal_id, l.grantee_user_id as person_id from live l where l.grantee_type = 'user'
      union select l.id, l.seal_id, m.id from live l join users m on m.department_id = l.grantee_department_id where l.grantee_type = 'department'
      union select l.id, l.seal_id, p.user_id from live l join user_posts p on p.department_id = l.grantee_department_id where l.grantee_type = 'department'
      union select l.id, l.seal_id, r.user_id from live l
        join companies gc on gc.id = l.grantee_company_id
        join companies rc on rc.group_id = ${q.groupId} and rc.path like gc.path || '%'
        join role_assignments r on r.company_id = rc.id and r.role = l.grantee_role
        where l.grantee_type = 'role'
    )
    select cv.grant_id as "grantId", p.id as "personId", p.name as "personName", p.status as "personStatus",
      exists (select 1 from seal_custodians k where k.seal_id = cv.seal_id and k.user_id = p.id) as "personIsCustodian"
    from covered cv join users p on p.id = cv.person_id
    ${q.userId ? sql`where p.id = ${q.userId}` : sql``}
    order by cv.grant_id, p.name, p.id
  `.execute(trx);
  return result.rows;
}

/** Seal ⟕ grants ⟕ people, in report order, with the user filter's inner-join meaning. */
function joinCoverage(
  seals: SealPart[],
  grants: GrantPart[],
  people: PersonPart[],
  onlyPeople: boolean,
): GrantCoverageRow[] {
  const grantsBySeal = new Map<string, GrantPart[]>();
  for (const g of grants) {
    const list = grantsBySeal.get(g.sealId);
    if (list) list.push(g);
    else grantsBySeal.set(g.sealId, [g]);
  }
  const peopleByGrant = new Map<string, PersonPart[]>();
  for (const p of people) {
    const list = peopleByGrant.get(p.grantId);
    if (list) list.push(p);
    else peopleByGrant.set(p.grantId, [p]);
  }
  const rows: GrantCoverageRow[] = [];
  // One object literal of one shape per row: spreading three partial objects per row cost more
  // than the query (24,000 rows: 400 ms of copying and garbage).
  const push = (seal: SealPart, grant: GrantPart | null, person: PersonPart | null) =>
    rows.push({
      sealId: seal.sealId,
      sealName: seal.sealName,
      sealCode: seal.sealCode,
      sealType: seal.sealType,
      sealStatus: seal.sealStatus,
      sealCompanyId: seal.sealCompanyId,
      sealCompanyName: seal.sealCompanyName,
      sealCompanyPath: seal.sealCompanyPath,
      grantId: grant?.grantId ?? null,
      granteeType: grant?.granteeType ?? null,
      granteeName: grant?.granteeName ?? null,
      granteeCompanyPath: grant?.granteeCompanyPath ?? null,
      categories: grant?.categories ?? null,
      validFrom: grant?.validFrom ?? null,
      validUntil: grant?.validUntil ?? null,
      maxUses: grant?.maxUses ?? null,
      usedCount: grant?.usedCount ?? null,
      personId: person?.personId ?? null,
      personName: person?.personName ?? null,
      personStatus: person?.personStatus ?? null,
      personIsCustodian: person?.personIsCustodian ?? false,
    });
  for (const seal of seals) {
    const ofSeal = grantsBySeal.get(seal.sealId) ?? [];
    if (ofSeal.length === 0 && !onlyPeople) push(seal, null, null);
    for (const grant of ofSeal) {
      const covered = peopleByGrant.get(grant.grantId) ?? [];
      if (covered.length === 0 && !onlyPeople) push(seal, grant, null);
      for (const person of covered) push(seal, grant, person);
      if (rows.length >= COVERAGE_ROW_LIMIT) return rows.slice(0, COVERAGE_ROW_LIMIT);
    }
  }
  return rows;
}
