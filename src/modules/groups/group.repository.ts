import type { Db, Role, Transaction } from '../../db/schema.js';

export async function findGroup(db: Db | Transaction, groupId: string) {
  return db
    .selectFrom('groups')
    .select(['id', 'name', 'slug', 'sod_matrix as sodMatrix', 'created_at as createdAt'])
    .where('id', '=', groupId)
    .executeTakeFirst();
}

export async function findGroupBySlug(db: Db, slug: string) {
  return db.selectFrom('groups').select(['id', 'name', 'slug']).where('slug', '=', slug).executeTakeFirst();
}

export async function lockGroup(trx: Transaction, groupId: string) {
  return trx
    .selectFrom('groups')
    .select(['id', 'sod_matrix as sodMatrix'])
    .where('id', '=', groupId)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

export async function insertGroup(
  trx: Transaction,
  row: { id: string; name: string; slug: string; sodMatrix: Array<[Role, Role]> },
) {
  await trx
    .insertInto('groups')
    .values({ id: row.id, name: row.name, slug: row.slug, sod_matrix: JSON.stringify(row.sodMatrix) })
    .execute();
}

export async function updateSodMatrix(trx: Transaction, groupId: string, matrix: Array<[Role, Role]>) {
  await trx
    .updateTable('groups')
    .set({ sod_matrix: JSON.stringify(matrix) })
    .where('id', '=', groupId)
    .execute();
}
