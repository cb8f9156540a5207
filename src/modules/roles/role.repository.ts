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
