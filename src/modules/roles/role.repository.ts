import { sql } from 'kysely';
import type { Db, Role, Transaction } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';

export interface AssignmentRecord {
  id: string;
  userId: string;
  userName: string;
  role: Role;
  companyId: string;
  companyName: string;
  companyPath: string;
  createdAt: Date;
}

function selectAssignments(db: Db | Transaction) {
  return db
    .selectFrom('role_assignments as r')
    .innerJoin('companies as c', 'c.id', 'r.company_id')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select([
      'r.id',
      'r.user_id as userId',
      'u.name as userName',
      'r.role',
      'r.company_id as companyId',
      'c.name as companyName',
      'c.path as companyPath',
      'r.created_at as createdAt',
    ]);
}

export async function findAssignments(
  db: Db,
  filter: {
    groupId: string;
    scope: string[];
    userId?: string | undefined;
    companyId?: string | undefined;
    role?: Role | undefined;
  },
): Promise<AssignmentRecord[]> {
  let query = selectAssignments(db)
    .where('r.group_id', '=', filter.groupId)
    .where((eb) => inScope(eb, 'c.path', filter.scope));
  if (filter.userId) query = query.where('r.user_id', '=', filter.userId);
  if (filter.companyId) query = query.where('r.company_id', '=', filter.companyId);
  if (filter.role) query = query.where('r.role', '=', filter.role);
  return query.orderBy('c.path').orderBy('u.name').limit(5000).execute();
}

export async function findAssignment(
  db: Db | Transaction,
  where: { groupId: string; id: string; scope: string[] },
): Promise<AssignmentRecord | undefined> {
  return selectAssignments(db)
    .where('r.group_id', '=', where.groupId)
    .where('r.id', '=', where.id)
    .where((eb) => inScope(eb, 'c.path', where.scope))
    .executeTakeFirst();
}

/** Every role the user holds anywhere in the group: separation of duties looks at the person, not one company. */
export async function findHeldRoles(
  trx: Transaction,
  userId: string,
): Promise<Array<{ role: Role; companyId: string }>> {
  return trx
    .selectFrom('role_assignments')
    .select(['role', 'company_id as companyId'])
    .where('user_id', '=', userId)
    .execute();
}

export async function insertAssignment(
  trx: Transaction,
  row: { id: string; groupId: string; userId: string; role: Role; companyId: string; createdBy: string | null },
) {
  await trx
    .insertInto('role_assignments')
    .values({
      id: row.id,
      group_id: row.groupId,
      user_id: row.userId,
      role: row.role,
      company_id: row.companyId,
      created_by: row.createdBy,
    })
    .execute();
}

export async function deleteAssignment(trx: Transaction, id: string) {
  await trx.deleteFrom('role_assignments').where('id', '=', id).execute();
}

/** Whether the person holds the role over the company at `companyPath` (assigned there or above it). */
export async function holdsRoleOver(
  db: Db | Transaction,
  q: { userId: string; role: Role; companyPath: string },
): Promise<boolean> {
  const row = await db
    .selectFrom('role_assignments as r')
    .innerJoin('companies as c', 'c.id', 'r.company_id')
    .select('r.id')
    .where('r.user_id', '=', q.userId)
    .where('r.role', '=', q.role)
    .where(sql<boolean>`${q.companyPath} like c.path || '%'`)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Everyone of the group who holds both roles of a pair the matrix keeps apart (anywhere in the
 * group: separation of duties looks at the person), with the pair, at most `limit` of them.
 */
export async function findConflictingHolders(
  db: Db | Transaction,
  q: { groupId: string; pairs: Array<[Role, Role]>; limit: number },
): Promise<Array<{ userId: string; userName: string; roles: [Role, Role] }>> {
  if (q.pairs.length === 0) return [];
  const rows = await db
    .selectFrom('role_assignments as a')
    .innerJoin('role_assignments as b', (join) => join.onRef('b.user_id', '=', 'a.user_id'))
    .innerJoin('users as u', 'u.id', 'a.user_id')
    .select(['a.user_id as userId', 'u.name as userName', 'a.role as first', 'b.role as second'])
    .distinct()
    .where('a.group_id', '=', q.groupId)
    .where(sql<boolean>`(a.role, b.role) in (${sql.join(q.pairs.map(([x, y]) => sql`(${x}, ${y})`))})`)
    .orderBy('u.name')
    .orderBy('a.user_id')
    .orderBy('a.role')
    .orderBy('b.role')
    .limit(q.limit)
    .execute();
  return rows.map((r) => ({ userId: r.userId, userName: r.userName, roles: [r.first, r.second] }));
}
