import { sql } from 'kysely';
import type { Db, GranteeType, Role, SealKind, SealStatus, SealType, Transaction } from '../../db/schema.js';

export interface GrantRecord {
  id: string;
  sealId: string;
  granteeType: GranteeType;
  granteeUserId: string | null;
  granteeDepartmentId: string | null;
  granteeRole: Role | null;
  granteeCompanyId: string | null;
  granteeName: string | null;
  categories: string[];
  validFrom: Date;
  validUntil: Date | null;
  maxUses: number | null;
  usedCount: number;
  createdBy: string | null;
  createdAt: Date;
  revokedAt: Date | null;
  revokeReason: string | null;
}

function selectGrants(db: Db | Transaction) {
  return db
    .selectFrom('seal_grants as g')
    .leftJoin('users as gu', 'gu.id', 'g.grantee_user_id')
    .leftJoin('departments as gd', 'gd.id', 'g.grantee_department_id')
    .leftJoin('companies as gc', 'gc.id', 'g.grantee_company_id')
    .select([
      'g.id',
      'g.seal_id as sealId',
      'g.grantee_type as granteeType',
      'g.grantee_user_id as granteeUserId',
      'g.grantee_department_id as granteeDepartmentId',
      'g.grantee_role as granteeRole',
      'g.grantee_company_id as granteeCompanyId',
      sql<string | null>`coalesce(gu.name, gd.name, gc.name)`.as('granteeName'),
      'g.categories',
      'g.valid_from as validFrom',
      'g.valid_until as validUntil',
      'g.max_uses as maxUses',
      'g.used_count as usedCount',
      'g.created_by as createdBy',
      'g.created_at as createdAt',
      'g.revoked_at as revokedAt',
      'g.revoke_reason as revokeReason',
    ]);
}

export async function findGrants(
  db: Db,
  where: { groupId: string; sealId: string; includeRevoked: boolean },
): Promise<GrantRecord[]> {
  let query = selectGrants(db).where('g.group_id', '=', where.groupId).where('g.seal_id', '=', where.sealId);
  if (!where.includeRevoked) query = query.where('g.revoked_at', 'is', null);
  return query.orderBy('g.created_at', 'desc').limit(2000).execute();
}

export async function findGrant(
  db: Db | Transaction,
  where: { groupId: string; sealId: string; id: string },
): Promise<GrantRecord | undefined> {
  return selectGrants(db)
    .where('g.group_id', '=', where.groupId)
    .where('g.seal_id', '=', where.sealId)
    .where('g.id', '=', where.id)
    .executeTakeFirst();
}

export async function insertGrant(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    sealId: string;
    granteeType: GranteeType;
    granteeUserId: string | null;
    granteeDepartmentId: string | null;
    granteeRole: Role | null;
    granteeCompanyId: string | null;
    categories: string[];
    validFrom: Date;
    validUntil: Date | null;
    maxUses: number | null;
    createdBy: string | null;
  },
): Promise<void> {
  await trx
    .insertInto('seal_grants')
    .values({
      id: row.id,
      group_id: row.groupId,
      seal_id: row.sealId,
      grantee_type: row.granteeType,
      grantee_user_id: row.granteeUserId,
      grantee_department_id: row.granteeDepartmentId,
      grantee_role: row.granteeRole,
      grantee_company_id: row.granteeCompanyId,
      categories: row.categories,
      valid_from: row.validFrom,
      valid_until: row.validUntil,
      max_uses: row.maxUses,
      created_by: row.createdBy,
      revoked_at: null,
      revoked_by: null,
      revoke_reason: null,
    })
    .execute();
}

export async function revokeGrant(
  trx: Transaction,
  where: { id: string },
  change: { at: Date; by: string | null; reason: string | null },
): Promise<boolean> {
  const result = await trx
    .updateTable('seal_grants')
    .set({ revoked_at: change.at, revoked_by: change.by, revoke_reason: change.reason })
    .where('id', '=', where.id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export interface UseFacts {
  sealStatus: SealStatus | null;
  userStatus: string | null;
  isCustodian: boolean;
  grant: {
    id: string;
    granteeType: GranteeType;
    validUntil: string | null;
    maxUses: number | null;
    usedCount: number;
  } | null;
}

/**
 * Everything the use decision needs, in one round trip: the seal's and the person's
 * status, whether they keep the seal, and the best live grant that covers them
 * (their own first, then their departments', then their roles'). The query itself is the
 * database function `sigil_seal_use_facts` (migration 20261121T1800-seal-scale), so that
 * PostgreSQL plans it once per connection instead of at every decision.
 */
export async function findUseFacts(
  db: Db | Transaction,
  q: { groupId: string; sealId: string; userId: string; category: string; at: Date },
): Promise<UseFacts> {
  const result = await sql<UseFacts>`
    select * from sigil_seal_use_facts(${q.groupId}::uuid, ${q.sealId}::uuid, ${q.userId}::uuid, ${q.category}::text, ${q.at}::timestamptz)
  `.execute(db);
  const row = result.rows[0];
  if (!row) return { sealStatus: null, userStatus: null, isCustodian: false, grant: null };
  return row;
}

/** Counts one use against a grant with a limit; false when the limit was already reached (a racing use took it). */
export async function consumeGrantUse(trx: Transaction, grantId: string): Promise<boolean> {
  const result = await trx
    .updateTable('seal_grants')
    .set((eb) => ({ used_count: eb('used_count', '+', 1) }))
    .where('id', '=', grantId)
    .where((eb) => eb.or([eb('max_uses', 'is', null), eb('used_count', '<', eb.ref('max_uses'))]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Counts up to `n` uses against a grant at once (a batch's documents committed together): as
 * many as its limit leaves, under the grant row's lock so a racing use cannot take the same ones.
 * Answers how many were counted (0 when none was left).
 */
export async function consumeGrantUses(trx: Transaction, grantId: string, n: number): Promise<number> {
  if (n <= 0) return 0;
  const result = await sql<{ taken: number }>`
    with g as (select id, used_count, max_uses from seal_grants where id = ${grantId} for update),
    taking as (
      select id, case when max_uses is null then ${n}::int else least(${n}::int, greatest(max_uses - used_count, 0)) end as taken from g
    ),
    counted as (
      update seal_grants s set used_count = s.used_count + t.taken from taking t where s.id = t.id and t.taken > 0 returning t.taken
    )
    select coalesce((select taken from counted), 0)::int as taken
  `.execute(trx);
  return Number(result.rows[0]?.taken ?? 0);
}

export interface UsableSeal {
  id: string;
  name: string;
  code: string;
  kind: SealKind;
  type: SealType;
  companyId: string;
  companyName: string;
  grant: { id: string; categories: string[]; validUntil: string | null; remainingUses: number | null };
}

/**
 * The seals a person may use now: active seals with a live grant covering them (their own,
 * their departments', their roles'), the best grant per seal; never seals they keep.
 */
export async function findUsableSeals(
  db: Db,
  q: { groupId: string; userId: string; category?: string | undefined; at: Date },
): Promise<UsableSeal[]> {
  const result = await sql<UsableSeal>`
    with departments_of as (
      select department_id from users where id = ${q.userId} and department_id is not null
      union select department_id from user_posts where user_id = ${q.userId} and department_id is not null
    ), roles_of as (
      select r.role, c.path from role_assignments r join companies c on c.id = r.company_id where r.user_id = ${q.userId}
    ), covering as (
      select distinct on (g.seal_id) g.*
      from seal_grants g
      left join companies gc on gc.id = g.grantee_company_id
      where g.group_id = ${q.groupId}
        and g.revoked_at is null
        and g.valid_from <= ${q.at}
        and (g.valid_until is null or g.valid_until > ${q.at})
        and (g.max_uses is null or g.used_count < g.max_uses)
        and (${q.category ?? null}::text is null or ${q.category ?? null}::text = any (g.categories))
        and (
          g.grantee_user_id = ${q.userId}
          or g.grantee_department_id in (select department_id from departments_of)
          or (g.grantee_type = 'role' and exists (select 1 from roles_of r where r.role = g.grantee_role and r.path like gc.path || '%'))
        )
      order by g.seal_id, case g.grantee_type when 'user' then 0 when 'department' then 1 else 2 end, g.created_at
    )
    select s.id, s.name, s.code, s.kind, s.type, s.company_id as "companyId", c.name as "companyName",
      json_build_object('id', g.id, 'categories', g.categories, 'validUntil', g.valid_until,
        'remainingUses', case when g.max_uses is null then null else g.max_uses - g.used_count end) as grant
    from covering g
    join seals s on s.id = g.seal_id and s.status = 'active'
    join companies c on c.id = s.company_id
    join users u on u.id = ${q.userId} and u.status = 'active'
    where not exists (select 1 from seal_custodians k where k.seal_id = s.id and k.user_id = ${q.userId})
    order by c.path, s.code
    limit 500
  `.execute(db);
  return result.rows;
}
