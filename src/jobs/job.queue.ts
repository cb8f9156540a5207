import type { Db, Transaction } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import { findJobByDedupeKey, insertJob, jobInsert, type NewJobRow } from './job.repository.js';
import type { JobKind, JobPayloads } from './job.types.js';

export const DEFAULT_MAX_ATTEMPTS = 5;

export interface NewJob<K extends JobKind> {
  kind: K;
  payload: JobPayloads[K];
  /** The group the job works for; null only for system jobs that belong to no tenant. */
  groupId: string | null;
  /** When it becomes due; default now (the job runs on the next poll). */
  runAt?: Date;
  maxAttempts?: number;
  /**
   * At most one job per (group, key) ever exists: enqueueing the same key again returns the
   * first job (whatever its status) and adds nothing. Build keys from ids, e.g. `remind:<taskId>:1`.
   */
  dedupeKey?: string;
}

/**
 * Adds a job inside the caller's transaction (a transactional outbox): it exists only if
 * the change that asked for it commits, and then it survives any restart.
 */
export async function enqueueJob<K extends JobKind>(
  trx: Transaction,
  job: NewJob<K>,
): Promise<{ id: string; created: boolean }> {
  const maxAttempts = attemptsOf(job);
  const id = newId();
  const dedupeKey = job.dedupeKey ?? null;
  const inserted = await insertJob(trx, {
    id,
    groupId: job.groupId,
    kind: job.kind,
    payload: job.payload,
    runAt: job.runAt ?? new Date(),
    maxAttempts,
    dedupeKey,
  });
  if (inserted) return { id: inserted, created: true };
  const existing = dedupeKey === null ? undefined : await findJobByDedupeKey(trx, job.groupId, dedupeKey);
  if (!existing) throw new Error(`enqueueJob(${job.kind}): dedupe key ${dedupeKey} conflicted but no job holds it`);
  return { id: existing.id, created: false };
}

/**
 * The same job as a write for a statement of the caller's (a `WriteBatch`): with a dedupe key
 * already taken it adds nothing, and the caller learns no id.
 */
export function jobWrite<K extends JobKind>(trx: Db | Transaction, job: NewJob<K>) {
  return jobInsert(trx, {
    id: newId(),
    groupId: job.groupId,
    kind: job.kind,
    payload: job.payload,
    runAt: job.runAt ?? new Date(),
    maxAttempts: attemptsOf(job),
    dedupeKey: job.dedupeKey ?? null,
  });
}

function attemptsOf(job: NewJob<JobKind>): number {
  const maxAttempts = job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new Error(`enqueueJob(${job.kind}): maxAttempts must be a positive integer`);
  return maxAttempts;
}

/** The rows of new jobs without dedupe keys, ids given: for a caller that inserts them within a statement of its own. */
export function newJobRows(jobs: Array<NewJob<JobKind>>): NewJobRow[] {
  return jobs.map((job) => {
    if (job.dedupeKey !== undefined)
      throw new Error(`newJobRows(${job.kind}): a job with a dedupe key goes through enqueueJob`);
    return {
      id: newId(),
      groupId: job.groupId,
      kind: job.kind,
      payload: job.payload,
      runAt: job.runAt ?? new Date(),
      maxAttempts: attemptsOf(job),
      dedupeKey: null,
    };
  });
}
