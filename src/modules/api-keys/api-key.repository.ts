import { sql } from 'kysely';
import type { Db, Transaction } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';
import type { Permission } from '../access/index.js';

export interface ApiKeyRecord {
  id: string;
  name: string;
  prefix: string;
  companyId: string;
  companyPath: string;
  permissions: Permission[];
  createdBy: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  /** The service account the key acts as, or null. */
  serviceAccountId: string | null;
}

function selectKeys(db: Db | Transaction) {
  return db
    .selectFrom('api_keys as k')
    .innerJoin('companies as c', 'c.id', 'k.company_id')
    .select([
      'k.id',
      'k.name',
      'k.prefix',
      'k.company_id as companyId',
      'c.path as companyPath',
      sql<Permission[]>`k.permissions`.as('permissions'),
      'k.created_by as createdBy',
      'k.created_at as createdAt',
      'k.expires_at as expiresAt',
      'k.revoked_at as revokedAt',
      'k.last_used_at as lastUsedAt',
      'k.user_id as serviceAccountId',
    ]);
}

export async function findKeys(db: Db, filter: { groupId: string; scope: string[] }): Promise<ApiKeyRecord[]> {
  return selectKeys(db)
    .where('k.group_id', '=', filter.groupId)
    .where((eb) => inScope(eb, 'c.path', filter.scope))
    .orderBy('k.created_at', 'desc')
    .limit(1000)
    .execute();
}

export async function findKey(
  db: Db | Transaction,
  where: { groupId: string; id: string; scope: string[] },
): Promise<ApiKeyRecord | undefined> {
  return selectKeys(db)
    .where('k.group_id', '=', where.groupId)
    .where('k.id', '=', where.id)
    .where((eb) => inScope(eb, 'c.path', where.scope))
    .executeTakeFirst();
}

export async function insertKey(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    companyId: string;
    name: string;
    prefix: string;
    keyHash: string;
    permissions: Permission[];
    createdBy: string;
    expiresAt: Date | null;
    serviceAccountId: string | null;
  },
) {
  await trx
    .insertInto('api_keys')
    .values({
      id: row.id,
      group_id: row.groupId,
      company_id: row.companyId,
      name: row.name,
      prefix: row.prefix,
      key_hash: row.keyHash,
      permissions: JSON.stringify(row.permissions),
      created_by: row.createdBy,
      expires_at: row.expiresAt,
      revoked_at: null,
      last_used_at: null,
      user_id: row.serviceAccountId,
    })
    .execute();
}

export async function revokeKey(trx: Transaction, id: string, now: Date): Promise<boolean> {
  const result = await trx
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
