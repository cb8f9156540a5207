import type { Db, Transaction } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';

export interface DepartmentRecord {
  id: string;
  companyId: string;
  companyPath: string;
  name: string;
  headUserId: string | null;
  headName: string | null;
  memberCount: number;
  createdAt: Date;
}

function selectDepartments(db: Db | Transaction) {
  return db
    .selectFrom('departments as d')
    .innerJoin('companies as c', 'c.id', 'd.company_id')
    .leftJoin('users as h', 'h.id', 'd.head_user_id')
    .select((eb) => [
      'd.id',
      'd.company_id as companyId',
      'c.path as companyPath',
      'd.name',
      'd.head_user_id as headUserId',
      'h.name as headName',
      eb
        .selectFrom('users as m')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('m.department_id', '=', 'd.id')
        .as('memberCount'),
      'd.created_at as createdAt',
    ]);
}

function normalise(
  row: Omit<DepartmentRecord, 'memberCount'> & { memberCount: number | string | null },
): DepartmentRecord {
  return { ...row, memberCount: Number(row.memberCount ?? 0) };
}

export async function findDepartment(
  db: Db | Transaction,
  where: { groupId: string; id: string; scope?: string[] },
): Promise<DepartmentRecord | undefined> {
  let query = selectDepartments(db).where('d.group_id', '=', where.groupId).where('d.id', '=', where.id);
  if (where.scope) {
    const scope = where.scope;
    query = query.where((eb) => inScope(eb, 'c.path', scope));
  }
  const row = await query.executeTakeFirst();
  return row ? normalise(row) : undefined;
}

export async function findDepartments(
  db: Db,
  filter: { groupId: string; scope: string[]; companyId?: string | undefined },
): Promise<DepartmentRecord[]> {
  let query = selectDepartments(db)
    .where('d.group_id', '=', filter.groupId)
    .where((eb) => inScope(eb, 'c.path', filter.scope));
  if (filter.companyId) query = query.where('d.company_id', '=', filter.companyId);
  const rows = await query.orderBy('c.path').orderBy('d.name').limit(5000).execute();
  return rows.map(normalise);
}

export async function insertDepartment(
  trx: Transaction,
  row: { id: string; groupId: string; companyId: string; name: string; headUserId: string | null },
) {
  await trx
    .insertInto('departments')
    .values({
      id: row.id,
      group_id: row.groupId,
      company_id: row.companyId,
      name: row.name,
      head_user_id: row.headUserId,
    })
    .execute();
}

export async function updateDepartment(
  trx: Transaction,
  id: string,
  patch: { name?: string; head_user_id?: string | null },
) {
  await trx.updateTable('departments').set(patch).where('id', '=', id).execute();
}
