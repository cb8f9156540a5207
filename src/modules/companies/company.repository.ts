import { sql } from 'kysely';
import type { Db, Transaction } from '../../db/schema.js';
import { precompiled } from '../../db/precompiled.js';
import { escapeLike, inScope } from '../../db/scope.js';

const columns = [
  'c.id',
  'c.parent_id as parentId',
  'c.name',
  'c.code',
  'c.path',
  'c.depth',
  'c.status',
  'c.created_at as createdAt',
] as const;

export interface CompanyRecord {
  id: string;
  parentId: string | null;
  name: string;
  code: string;
  path: string;
  depth: number;
  status: 'active' | 'closed';
  createdAt: Date;
}

export async function insertCompany(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    parentId: string | null;
    name: string;
    code: string;
    path: string;
    depth: number;
  },
): Promise<void> {
  await trx
    .insertInto('companies')
    .values({
      id: row.id,
      group_id: row.groupId,
      parent_id: row.parentId,
      name: row.name,
      code: row.code,
      path: row.path,
      depth: row.depth,
    })
    .execute();
}

export async function findRootCompany(db: Db | Transaction, groupId: string): Promise<CompanyRecord | undefined> {
  return db
    .selectFrom('companies as c')
    .select(columns)
    .where('c.group_id', '=', groupId)
    .where('c.parent_id', 'is', null)
    .executeTakeFirst();
}

// By id alone, read at each contract created: built once.
const selectCompanyById = precompiled((db, where: { groupId: string; id: string }) =>
  db.selectFrom('companies as c').select(columns).where('c.group_id', '=', where.groupId).where('c.id', '=', where.id),
);

/** A company of the group, only if it lies in the scope (when one is given). */
export async function findCompany(
  db: Db | Transaction,
  where: { groupId: string; id: string; scope?: string[] },
  options: { lock?: boolean } = {},
): Promise<CompanyRecord | undefined> {
  if (!where.scope && !options.lock) return (await selectCompanyById(db, { groupId: where.groupId, id: where.id }))[0];
  let query = db
    .selectFrom('companies as c')
    .select(columns)
    .where('c.group_id', '=', where.groupId)
    .where('c.id', '=', where.id);
  if (where.scope) {
    const scope = where.scope;
    query = query.where((eb) => inScope(eb, 'c.path', scope));
  }
  return options.lock ? query.forUpdate().executeTakeFirst() : query.executeTakeFirst();
}

export interface CompanyListFilter {
  groupId: string;
  scope: string[];
  parentId?: string | undefined;
  /** Everything at or below this path. */
  under?: string | undefined;
  q?: string | undefined;
  afterPath?: string | undefined;
  limit: number;
}

/** Companies in tree order (by path), a page at a time. */
export async function findCompanies(
  db: Db,
  filter: CompanyListFilter,
): Promise<Array<CompanyRecord & { childCount: number }>> {
  let query = db
    .selectFrom('companies as c')
    .select(columns)
    .select((eb) =>
      eb
        .selectFrom('companies as k')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('k.parent_id', '=', 'c.id')
        .as('childCount'),
    )
    .where('c.group_id', '=', filter.groupId)
    .where((eb) => inScope(eb, 'c.path', filter.scope));
  if (filter.parentId) query = query.where('c.parent_id', '=', filter.parentId);
  if (filter.under) query = query.where('c.path', 'like', `${escapeLike(filter.under)}%`);
  if (filter.q) {
    const pattern = `%${escapeLike(filter.q)}%`;
    query = query.where((eb) => eb.or([eb('c.name', 'ilike', pattern), eb('c.code', 'ilike', pattern)]));
  }
  if (filter.afterPath) query = query.where('c.path', '>', filter.afterPath);
  const rows = await query.orderBy('c.path').limit(filter.limit).execute();
  return rows.map((r) => ({ ...r, childCount: Number(r.childCount ?? 0) }));
}

export async function updateCompany(
  trx: Transaction,
  id: string,
  patch: { name?: string; code?: string; status?: 'active' | 'closed' },
): Promise<void> {
  await trx.updateTable('companies').set(patch).where('id', '=', id).execute();
}

/** Re-roots a subtree: every path under `from` now starts with `to`, depths shift with it. */
export async function moveSubtree(
  trx: Transaction,
  groupId: string,
  move: { id: string; parentId: string; from: string; to: string; depthDelta: number },
): Promise<void> {
  await trx.updateTable('companies').set({ parent_id: move.parentId }).where('id', '=', move.id).execute();
  await trx
    .updateTable('companies')
    .set((eb) => ({
      path: sql<string>`${move.to} || substr(${eb.ref('path')}, ${move.from.length + 1})`,
      depth: sql<number>`${eb.ref('depth')} + ${move.depthDelta}`,
    }))
    .where('group_id', '=', groupId)
    .where('path', 'like', `${escapeLike(move.from)}%`)
    .execute();
}

export async function findCompanyPaths(
  db: Db | Transaction,
  groupId: string,
  ids: string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('companies')
    .select(['id', 'path'])
    .where('group_id', '=', groupId)
    .where('id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.id, r.path]));
}
