import { sql } from 'kysely';
import type { Db, Transaction } from '../../db/schema.js';
import { takesPart } from '../approvals/index.js';

/**
 * Whether a lifecycle application naming this image (the impression of a seal to be made) has
 * this person on it: as applicant, approver (or the one an approver stands in for) or copied
 * recipient. Approvers must see the impression they are asked to approve before any seal shows it.
 */
export async function isImageOfApplicationFor(
  db: Db | Transaction,
  where: { groupId: string; sha256: string; userId: string },
): Promise<boolean> {
  const row = await db
    .selectFrom('applications as a')
    .select('a.id')
    .where('a.group_id', '=', where.groupId)
    .where('a.purpose', '=', 'lifecycle')
    .where(sql<string>`a.payload->>'imageSha256'`, '=', where.sha256)
    .where(takesPart(where.userId))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
