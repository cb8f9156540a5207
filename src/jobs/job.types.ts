import type { z } from 'zod';

/**
 * The payload of every job kind, keyed by kind. Each module that owns job kinds adds
 * them by declaration merging, next to its handlers:
 *
 *   declare module '../../jobs/job.types.js' {
 *     interface JobPayloads { 'approval.remind': { taskId: string } }
 *   }
 *
 * so `enqueueJob` accepts only known kinds with their payload type.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface JobPayloads {}

export type JobKind = keyof JobPayloads & string;

/** What a handler may return: stored on the job row as its result (delivery status and the like). */
export type JobResult = Record<string, unknown>;

/** The job a handler is running, as the runner claimed it. */
export interface RunningJob {
  id: string;
  kind: string;
  groupId: string | null;
  /** This attempt's number, from 1. */
  attempt: number;
  maxAttempts: number;
  /** Aborted when the handler's time is up: pass it to I/O. */
  signal: AbortSignal;
}

export interface Backoff {
  /** Delay after the first failed attempt; it doubles with each further failure. */
  baseMs: number;
  /** The delay never grows beyond this. */
  maxMs: number;
}

/**
 * Runs one kind of job. Handlers must be idempotent: delivery is at least once, since a
 * process can die after the work and before the job is marked done.
 * (Method syntax on purpose: handlers of different kinds share one list.)
 */
export interface JobHandler<K extends JobKind = JobKind> {
  kind: K;
  /** The payload is re-validated when the job runs; a payload that fails is dead at once. */
  payload: z.ZodType<JobPayloads[K]>;
  /** How long one attempt may take; it must be shorter than the runner's lease. Default 60 s. */
  timeoutMs?: number;
  backoff?: Backoff;
  run(payload: JobPayloads[K], job: RunningJob): Promise<JobResult | void>;
  /** Told of every failed attempt (`dead`: no retry follows), e.g. to mark a delivery. Its own failure is logged, never thrown. */
  onFailure?(
    payload: JobPayloads[K],
    job: RunningJob,
    failure: { error: string; dead: boolean; nextRunAt: Date | null },
  ): Promise<void>;
}

/**
 * Work the runner does at every poll, before it claims jobs: e.g. turning committed outbox entries
 * into jobs. Every process's runner does it, so it must be safe to run in many at once (claim what
 * it takes in a transaction). A step that throws is logged; the poll goes on with the jobs.
 */
export interface JobStep {
  name: string;
  run(): Promise<void>;
}

/** Thrown by a handler when retrying cannot help (a refused address, a malformed request): the job dies at once. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}
