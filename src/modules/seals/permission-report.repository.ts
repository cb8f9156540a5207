import { sql } from 'kysely';
import type { Db, GranteeType, SealStatus, SealType, UserStatus } from '../../db/schema.js';
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

/**
 * Every live grant of the seals in scope, expanded to the people it covers (a user grant
 * covers its user; a department grant, its members and those posted there; a role grant,
 * the role's holders at or below its company). Seals without grants appear once, empty.
 */
export async function findGrantCoverage(db: Db, q: { groupId: string; under: string[]; sealId?: string | undefined; userId?: string | undefined }): Promise<GrantCoverageRow[]> {
  const scope = sql.join(q.under.map((root) => sql`c.path like ${`${escapeLike(root)}%`}`), sql` or `);
  const result = await sql<GrantCoverageRow>`
    with seals_in_scope as (
      select s.id, s.name, s.code, s.type, s.status, s.company_id, c.name as company_name, c.path as company_path
      from seals s join companies c on c.id = s.company_id
      where s.group_id = ${q.groupId} and (${scope}) ${q.sealId ? sql`and s.id = ${q.sealId}` : sql``}
    ), live as (
      select g.*, coalesce(uc.path, dc.path, gc.path) as grantee_company_path, coalesce(u.name, d.name, g.grantee_role || '@' || gc.name) as grantee_name
      from seal_grants g
      join seals_in_scope si on si.id = g.seal_id
      left join users u on u.id = g.grantee_user_id
      left join companies uc on uc.id = u.company_id
      left join departments d on d.id = g.grantee_department_id
      left join companies dc on dc.id = d.company_id
      left join companies gc on gc.id = g.grantee_company_id
      where g.revoked_at is null
    ), covered as (
      select l.id as grant_id, l.grantee_user_id as person_id from live l where l.grantee_type = 'user'
      union select l.id, m.id from live l join users m on m.department_id = l.grantee_department_id where l.grantee_type = 'department'
      union select l.id, p.user_id from live l join user_posts p on p.department_id = l.grantee_department_id where l.grantee_type = 'department'
      union select l.id, r.user_id from live l
        join companies gc on gc.id = l.grantee_company_id
        join role_assignments r on r.role = l.grantee_role and r.group_id = ${q.groupId}
        join companies rc on rc.id = r.company_id
        where l.grantee_type = 'role' and rc.path like gc.path || '%'
    )
    select si.id as "sealId", si.name as "sealName", si.code as "sealCode", si.type as "sealType", si.status as "sealStatus",
      si.company_id as "sealCompanyId", si.company_name as "sealCompanyName", si.company_path as "sealCompanyPath",
      l.id as "grantId", l.grantee_type as "granteeType", l.grantee_name as "granteeName", l.grantee_company_path as "granteeCompanyPath",
      l.categories, l.valid_from as "validFrom", l.valid_until as "validUntil", l.max_uses as "maxUses", l.used_count as "usedCount",
      p.id as "personId", p.name as "personName", p.status as "personStatus",
      exists (select 1 from seal_custodians k where k.seal_id = si.id and k.user_id = p.id) as "personIsCustodian"
    from seals_in_scope si
    left join live l on l.seal_id = si.id
    left join covered cv on cv.grant_id = l.id
    left join users p on p.id = cv.person_id
    ${q.userId ? sql`where p.id = ${q.userId}` : sql``}
    order by si.company_path, si.code, l.created_at, p.name
    limit 200000
  `.execute(db);
  return result.rows;
}
