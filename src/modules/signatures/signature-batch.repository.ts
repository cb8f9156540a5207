import { sql, type RawBuilder } from 'kysely';
import type { Db, Transaction } from '../../db/schema.js';

export interface BatchRecord {
  id: string;
  userId: string;
  sealId: string | null;
  status: 'running' | 'done';
  total: number;
  signed: number;
  failed: number;
  createdAt: Date;
  finishedAt: Date | null;
}

export async function insertBatch(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    userId: string;
    sessionId: string;
    sealId: string;
    spec: unknown;
    documents: string[];
    at: Date;
  },
): Promise<void> {
  await trx
    .insertInto('signature_batches')
    .values({
      id: row.id,
      group_id: row.groupId,
      user_id: row.userId,
      session_id: row.sessionId,
      seal_id: row.sealId,
      spec: JSON.stringify(row.spec),
      status: 'running',
      total: row.documents.length,
      created_at: row.at,
      finished_at: null,
    })
    .execute();
  await trx
    .insertInto('signature_batch_items')
    .values(
      row.documents.map((sha256, position) => ({
        batch_id: row.id,
        position,
        group_id: row.groupId,
        document_sha256: sha256,
        status: 'pending' as const,
        signature_id: null,
        output_sha256: null,
        error_code: null,
        error_detail: null,
        done_at: null,
      })),
    )
    .execute();
}

const batchColumns = [
  'id',
  'user_id as userId',
  'seal_id as sealId',
  'status',
  'total',
  'signed',
  'failed',
  'created_at as createdAt',
  'finished_at as finishedAt',
] as const;

export async function findBatch(db: Db, where: { groupId: string; id: string }): Promise<BatchRecord | undefined> {
  return db
    .selectFrom('signature_batches')
    .select(batchColumns)
    .where('group_id', '=', where.groupId)
    .where('id', '=', where.id)
    .executeTakeFirst();
}

export async function findBatchForRun(db: Db, id: string) {
  return db
    .selectFrom('signature_batches')
    .select([...batchColumns, 'spec', 'session_id as sessionId'])
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function findItems(db: Db, batchId: string) {
  return db
    .selectFrom('signature_batch_items')
    .select([
      'position',
      'document_sha256 as documentSha256',
      'status',
      'signature_id as signatureId',
      'output_sha256 as outputSha256',
      'error_code as errorCode',
      'error_detail as errorDetail',
      'done_at as doneAt',
    ])
    .where('batch_id', '=', batchId)
    .orderBy('position')
    .execute();
}

export async function findPendingItems(db: Db, batchId: string) {
  return db
    .selectFrom('signature_batch_items')
    .select(['position', 'document_sha256 as documentSha256'])
    .where('batch_id', '=', batchId)
    .where('status', '=', 'pending')
    .orderBy('position')
    .execute();
}

/** Marks an item signed in its signature's transaction; false when it was no longer pending. */
export async function markSigned(
  trx: Transaction,
  q: { batchId: string; position: number; signatureId: string; outputSha256: string; signedAt: Date },
): Promise<boolean> {
  const result = await trx
    .updateTable('signature_batch_items')
    .set({ status: 'signed', signature_id: q.signatureId, output_sha256: q.outputSha256, done_at: q.signedAt })
    .where('batch_id', '=', q.batchId)
    .where('position', '=', q.position)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  // The batch's own counts follow when it ends (`finishIfDone`); readers count the items.
  return Number(result.numUpdatedRows) === 1;
}

export async function markFailed(
  db: Db,
  q: { batchId: string; position: number; code: string; detail: string; at: Date },
): Promise<void> {
  await db
    .updateTable('signature_batch_items')
    .set({ status: 'failed', error_code: q.code, error_detail: q.detail.slice(0, 500), done_at: q.at })
    .where('batch_id', '=', q.batchId)
    .where('position', '=', q.position)
    .where('status', '=', 'pending')
    .execute();
}

export async function failPending(db: Db, batchId: string, q: { code: string; detail: string; at: Date }) {
  await db
    .updateTable('signature_batch_items')
    .set({ status: 'failed', error_code: q.code, error_detail: q.detail, done_at: q.at })
    .where('batch_id', '=', batchId)
    .where('status', '=', 'pending')
    .execute();
}

/** The batch is done when no item is pending. */
export async function finishIfDone(db: Db, batchId: string, at: Date): Promise<void> {
  const counted = (status: 'signed' | 'failed') =>
    db
      .selectFrom('signature_batch_items')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('batch_id', '=', batchId)
      .where('status', '=', status);
  await db
    .updateTable('signature_batches')
    .set({ status: 'done', finished_at: at, signed: counted('signed'), failed: counted('failed') })
    .where('id', '=', batchId)
    .where('status', '=', 'running')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('signature_batch_items')
            .select(sql`1`.as('one'))
            .where('batch_id', '=', batchId)
            .where('status', '=', 'pending'),
        ),
      ),
    )
    .execute();
}

/** Locks these items for a group's commit; answers the positions still pending (another run may have done the rest). */
export async function lockPendingItems(
  trx: Transaction,
  q: { batchId: string; positions: readonly number[] },
): Promise<Set<number>> {
  if (q.positions.length === 0) return new Set();
  const rows = await trx
    .selectFrom('signature_batch_items')
    .select('position')
    .where('batch_id', '=', q.batchId)
    .where('position', 'in', [...q.positions])
    .where('status', '=', 'pending')
    .forUpdate()
    .execute();
  return new Set(rows.map((r) => r.position));
}

/** What became of an item: signed (with its signature) or failed (with its reason). */
export type ItemOutcome =
  | { position: number; status: 'signed'; signatureId: string; outputSha256: string; at: Date }
  | { position: number; status: 'failed'; code: string; detail: string; at: Date };

/**
 * Marks several items done in one update, each as its outcome says, only those still pending;
 * not yet run (a `WriteBatch` write of a group's commit, or run alone).
 */
export function itemsDoneUpdate(db: Db | Transaction, batchId: string, outcomes: readonly ItemOutcome[]) {
  const column = (value: (o: ItemOutcome) => RawBuilder<unknown>) =>
    sql`case position ${sql.join(
      outcomes.map((o) => sql`when ${o.position}::int then ${value(o)}`),
      sql` `,
    )} end`;
  return db
    .updateTable('signature_batch_items')
    .set({
      status: column((o) => sql`${o.status}::text`) as RawBuilder<'signed' | 'failed'>,
      signature_id: column((o) => sql`${o.status === 'signed' ? o.signatureId : null}::uuid`) as RawBuilder<
        string | null
      >,
      output_sha256: column((o) => sql`${o.status === 'signed' ? o.outputSha256 : null}::text`) as RawBuilder<
        string | null
      >,
      error_code: column((o) => sql`${o.status === 'failed' ? o.code : null}::text`) as RawBuilder<string | null>,
      error_detail: column((o) => sql`${o.status === 'failed' ? o.detail.slice(0, 500) : null}::text`) as RawBuilder<
        string | null
      >,
      done_at: column((o) => sql`${o.at}::timestamptz`) as RawBuilder<Date>,
    })
    .where('batch_id', '=', batchId)
    .where(
      'position',
      'in',
      outcomes.map((o) => o.position),
    )
    .where('status', '=', 'pending');
}
