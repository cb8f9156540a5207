import type { Db, JobStatus, Transaction } from '../db/schema.js';

export interface JobRecord {
  id: string;
  groupId: string | null;
  kind: string;
  payload: unknown;
  status: JobStatus;
  runAt: Date;
  attempts: number;
  maxAttempts: number;
  lockedUntil: Date | null;
  lastError: string | null;
  result: unknown;
  dedupeKey: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

const columns = [
  'id',
  'group_id as groupId',
  'kind',
  'payload',
  'status',
  'run_at as runAt',
  'attempts',
  'max_attempts as maxAttempts',
  'locked_until as lockedUntil',
  'last_error as lastError',
  'result',
  'dedupe_key as dedupeKey',
  'created_at as createdAt',
  'finished_at as finishedAt',
] as const;

/** Inserts a job; with a dedupe key already taken (in the same group) nothing is inserted and `undefined` returned. */
export type NewJobRow = {
  id: string;
  groupId: string | null;
  kind: string;
  payload: unknown;
  runAt: Date;
  maxAttempts: number;
  dedupeKey: string | null;
};

function jobValues(row: NewJobRow) {
  return {
    id: row.id,
    group_id: row.groupId,
    kind: row.kind,
    payload: JSON.stringify(row.payload),
    status: 'queued' as const,
    run_at: row.runAt,
    max_attempts: row.maxAttempts,
    locked_until: null,
    locked_by: null,
    last_error: null,
    result: null,
    dedupe_key: row.dedupeKey,
    updated_at: row.runAt,
    finished_at: null,
  };
}

/** The insert of one job, not yet run; with a dedupe key already taken (in the same group) it inserts nothing. */
export function jobInsert(trx: Db | Transaction, row: NewJobRow) {
  const insert = trx.insertInto('jobs').values(jobValues(row));
  return row.dedupeKey === null
    ? insert
    : insert.onConflict((oc) => oc.columns(['group_id', 'dedupe_key']).where('dedupe_key', 'is not', null).doNothing());
}

export async function insertJob(trx: Transaction, row: NewJobRow): Promise<string | undefined> {
  const insert = trx.insertInto('jobs').values(jobValues(row));
  if (row.dedupeKey === null) {
    await insert.execute();
    return row.id;
  }
  const inserted = await insert
    .onConflict((oc) => oc.columns(['group_id', 'dedupe_key']).where('dedupe_key', 'is not', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted?.id;
}

/** The insert of several jobs without dedupe keys, not yet run: another statement may carry it (a data-modifying WITH). */
export function jobsInsert(trx: Db | Transaction, rows: NewJobRow[]) {
  if (rows.some((row) => row.dedupeKey !== null))
    throw new Error('jobsInsert: jobs with a dedupe key go through insertJob one by one');
  return trx.insertInto('jobs').values(rows.map(jobValues));
}

export async function findJobByDedupeKey(
  db: Db | Transaction,
  groupId: string | null,
  dedupeKey: string,
): Promise<JobRecord | undefined> {
  let query = db.selectFrom('jobs').select(columns).where('dedupe_key', '=', dedupeKey);
  query = groupId === null ? query.where('group_id', 'is', null) : query.where('group_id', '=', groupId);
  return query.executeTakeFirst();
}

export async function findJob(db: Db | Transaction, id: string): Promise<JobRecord | undefined> {
  return db.selectFrom('jobs').select(columns).where('id', '=', id).executeTakeFirst();
}

export async function findJobs(
  db: Db,
  filter: { kind?: string; groupId?: string; status?: JobStatus },
): Promise<JobRecord[]> {
  let query = db.selectFrom('jobs').select(columns);
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  if (filter.groupId) query = query.where('group_id', '=', filter.groupId);
  if (filter.status) query = query.where('status', '=', filter.status);
  return query.orderBy('created_at').orderBy('id').execute();
}

/**
 * Claims up to `limit` jobs of the given kinds that are due, or whose lease ran out
 * (their process died), and leases them to `token` until `leaseUntil`.
 *
 * Race: two runners (processes) claim at the same moment. The candidate rows are
 * locked with FOR UPDATE SKIP LOCKED inside one transaction, so a row locked by the
 * other runner is skipped rather than waited for, and a row the other runner already
 * claimed and committed is re-checked against the condition (now `running` under a
 * live lease) and dropped. Each job is therefore leased to one runner at a time.
 */
export async function claimDueJobs(
  db: Db,
  options: { kinds: string[]; now: Date; leaseUntil: Date; token: string; limit: number },
): Promise<JobRecord[]> {
  if (options.kinds.length === 0) return [];
  const { now } = options;
  return db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('jobs')
      .select('id')
      .where('kind', 'in', options.kinds)
      .where((eb) =>
        eb.or([
          eb.and([eb('status', 'in', ['queued', 'failed']), eb('run_at', '<=', now)]),
          eb.and([eb('status', '=', 'running'), eb('locked_until', '<', now)]),
        ]),
      )
      .orderBy('run_at')
      .orderBy('id')
      .limit(options.limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (due.length === 0) return [];
    return trx
      .updateTable('jobs')
      .set((eb) => ({
        status: 'running',
        attempts: eb('attempts', '+', 1),
        locked_until: options.leaseUntil,
        locked_by: options.token,
        updated_at: now,
      }))
      .where(
        'id',
        'in',
        due.map((d) => d.id),
      )
      .returning(columns)
      .execute();
  });
}

/**
 * Ends a job this runner holds. The `locked_by` condition fences a runner whose lease ran
 * out and whose job another runner took over: its late answer changes nothing.
 */
export async function finishJob(
  db: Db,
  where: { id: string; token: string },
  outcome:
    | { status: 'done' | 'dead'; result: unknown; lastError: string | null; now: Date }
    | { status: 'failed'; lastError: string; runAt: Date; now: Date },
): Promise<boolean> {
  const common = { locked_until: null, locked_by: null, updated_at: outcome.now };
  const patch =
    outcome.status === 'failed'
      ? { ...common, status: 'failed' as const, last_error: outcome.lastError, run_at: outcome.runAt }
      : {
          ...common,
          status: outcome.status,
          last_error: outcome.lastError,
          result: outcome.result === undefined ? null : JSON.stringify(outcome.result),
          finished_at: outcome.now,
        };
  const updated = await db
    .updateTable('jobs')
    .set(patch)
    .where('id', '=', where.id)
    .where('locked_by', '=', where.token)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}
