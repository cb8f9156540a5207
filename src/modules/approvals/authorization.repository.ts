import type { Db, Transaction } from '../../db/schema.js';

// Authorizations as the signing transaction uses them: looked up, checked against the document,
// and counted. They are approvals' rows, so the statements live here and signing calls them.

export async function applicationNamesDocument(
  db: Db | Transaction,
  where: { applicationId: string; sha256: string },
): Promise<boolean> {
  const row = await db
    .selectFrom('application_documents')
    .select('sha256')
    .where('application_id', '=', where.applicationId)
    .where('sha256', '=', where.sha256)
    .executeTakeFirst();
  return row !== undefined;
}

export interface AuthorizationForUse {
  id: string;
  applicationId: string;
  sealId: string;
  holderId: string;
  kind: 'documents' | 'ticket';
  usesTotal: number;
  usesConsumed: number;
  revokedAt: Date | null;
  category: string | null;
}

export async function findAuthorizationForUse(
  db: Db | Transaction,
  where: { groupId: string; id: string },
): Promise<AuthorizationForUse | undefined> {
  return db
    .selectFrom('authorizations as z')
    .innerJoin('applications as a', 'a.id', 'z.application_id')
    .select([
      'z.id',
      'z.application_id as applicationId',
      'z.seal_id as sealId',
      'z.holder_id as holderId',
      'z.kind',
      'z.uses_total as usesTotal',
      'z.uses_consumed as usesConsumed',
      'z.revoked_at as revokedAt',
      'a.category',
    ])
    .where('z.group_id', '=', where.groupId)
    .where('z.id', '=', where.id)
    .executeTakeFirst();
}

/**
 * Counts one use against an approved authorization, in the signing transaction. One statement
 * decides and counts, and its row lock holds until commit, so two signatures racing for the
 * last use cannot both have it.
 */
export async function consumeAuthorizationUse(trx: Transaction, id: string): Promise<boolean> {
  const result = await trx
    .updateTable('authorizations')
    .set((eb) => ({ uses_consumed: eb('uses_consumed', '+', 1) }))
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where((eb) => eb('uses_consumed', '<', eb.ref('uses_total')))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Counts uses a smart seal made under a ticket, as its synced log reports them (issue 16). Unlike a
 * signature's use, these happened already, offline, perhaps before a revocation reached the device:
 * they are counted whatever the revocation, up to the approved total; the caller flags any beyond
 * it. The row is locked first so that two syncs of one authorization count one after the other.
 */
export async function countTicketUses(trx: Transaction, where: { id: string; uses: number }): Promise<number> {
  const row = await trx
    .selectFrom('authorizations')
    .select(['uses_total as usesTotal', 'uses_consumed as usesConsumed'])
    .where('id', '=', where.id)
    .where('kind', '=', 'ticket')
    .forUpdate()
    .executeTakeFirst();
  if (!row) return 0;
  const counted = Math.max(0, Math.min(where.uses, row.usesTotal - row.usesConsumed));
  if (counted > 0)
    await trx
      .updateTable('authorizations')
      .set((eb) => ({ uses_consumed: eb('uses_consumed', '+', counted) }))
      .where('id', '=', where.id)
      .execute();
  return counted;
}
