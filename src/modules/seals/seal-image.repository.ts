import type { Db, Transaction } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';

/** Whether a seal of a company inside `scope` shows this image: what lets someone other than its uploader read it. */
export async function isImageOfSealInScope(
  db: Db | Transaction,
  where: { groupId: string; sha256: string; scope: string[] },
): Promise<boolean> {
  const row = await db
    .selectFrom('seals as s')
    .innerJoin('companies as c', 'c.id', 's.company_id')
    .select('s.id')
    .where('s.group_id', '=', where.groupId)
    .where('s.image_sha256', '=', where.sha256)
    .where((eb) => inScope(eb, 'c.path', where.scope))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
