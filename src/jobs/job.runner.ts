import { randomBytes } from 'node:crypto';
import type { Db } from '../db/schema.js';
import { claimDueJobs, finishJob, type JobRecord } from './job.repository.js';
import {
  PermanentJobError,
  type Backoff,
  type JobHandler,
  type JobResult,
  type JobStep,
  type RunningJob,
} from './job.types.js';

export interface JobLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

const silent: JobLogger = { info() {}, warn() {}, error() {} };

export interface JobRunnerOptions {
  db: Db;
  /** The clock due times are compared with (a test clock in tests). */
  now: () => Date;
  handlers: JobHandler[];
  /** Run at every poll before jobs are claimed (so what they enqueue runs in the same poll). */
  steps?: JobStep[];
  /** Pause between polls when nothing was due. */
  pollMs: number;
  /** Jobs claimed (and run side by side) per poll. */
  batchSize: number;
  /** How long a claimed job is reserved for this runner; after that another runner may take it over. */
  leaseMs: number;
  logger?: JobLogger;
  /** Retry delays for handlers that set none. */
  backoff?: Backoff;
}

export type JobOutcome =
  | { id: string; kind: string; status: 'done'; result: JobResult | null }
  | { id: string; kind: string; status: 'failed'; error: string; nextRunAt: Date }
  | { id: string; kind: string; status: 'dead'; error: string }
  /** The lease ran out before the job finished and another runner may hold it now; nothing was recorded. */
  | { id: string; kind: string; status: 'lost'; error: string | null };

export const DEFAULT_BACKOFF: Backoff = { baseMs: 30_000, maxMs: 60 * 60_000 };
const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_ERROR_LENGTH = 2000;

/** The delay before attempt `attempt + 1`, after `attempt` (from 1) failed: base·2^(attempt−1), capped. */
export function backoffDelay(backoff: Backoff, attempt: number): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}

/**
 * Runs due jobs of the kinds it has handlers for: polls the `jobs` table, claims a batch
 * under a lease, runs each with its handler, and records done, a retry with exponential
 * backoff, or dead after the last attempt. All state is in the table, so any number of
 * runners (processes) can share it, and a job leased by a process that died is taken
 * over once its lease runs out. Works on PGlite's single connection: the claim is one
 * short transaction and handlers run outside it.
 */
/** The runners polling in this process, which `wakeJobRunners` nudges. */
const polling = new Set<JobRunner>();

/**
 * Asks this process's runners to poll now rather than at their next tick: for a job a person waits
 * on (a batch just confirmed). Call it after the transaction that enqueued the job has committed;
 * runners in other processes still find it at their own next poll.
 */
export function wakeJobRunners(): void {
  for (const runner of polling) runner.wake();
}

export class JobRunner {
  private readonly handlers = new Map<string, JobHandler>();
  /** A wake that came while a poll was under way: poll again as soon as it ends. */
  private woken = false;
  private readonly logger: JobLogger;
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly options: JobRunnerOptions) {
    for (const handler of options.handlers) {
      if (this.handlers.has(handler.kind)) throw new Error(`two job handlers for ${handler.kind}`);
      const timeout = handler.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      // A handler that could outlive its lease could run twice at once.
      if (timeout >= options.leaseMs)
        throw new Error(
          `job handler ${handler.kind}: timeout ${timeout} ms must be shorter than the lease (${options.leaseMs} ms)`,
        );
      this.handlers.set(handler.kind, handler);
    }
    this.logger = options.logger ?? silent;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  get kinds(): string[] {
    return [...this.handlers.keys()];
  }

  /** Starts polling in the background (`sigil serve`); tests call `runDueJobs` instead. */
  start(): void {
    if (this.timer || this.tick || this.stopping) return;
    this.logger.info({ kinds: this.kinds, pollMs: this.options.pollMs }, 'job runner started');
    polling.add(this);
    this.schedule(0);
  }

  /** Polls now if waiting for the next tick, or once more right after the poll under way. */
  wake(): void {
    if (this.stopping) return;
    if (this.tick) {
      this.woken = true;
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.schedule(0);
    }
  }

  /**
   * Stops polling (for good) and waits for the jobs in hand, each bounded by its timeout.
   * They are not aborted: a mail cut off mid-send would be retried and could arrive twice.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    polling.delete(this);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.tick;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick = this.poll().finally(() => {
        this.tick = undefined;
      });
    }, delayMs);
    // The runner alone must not keep a process alive: the HTTP server does that.
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    let claimed = 0;
    try {
      claimed = (await this.runDueJobs(this.options.batchSize)).length;
    } catch (error) {
      // The database may be briefly unreachable: log and poll again, never crash the process.
      this.logger.error({ err: error }, 'job poll failed');
    }
    // A full batch suggests more are waiting: go again at once.
    const again = claimed >= this.options.batchSize || this.woken;
    this.woken = false;
    this.schedule(again ? 0 : this.options.pollMs);
  }

  /** Runs the steps, then claims up to `limit` due jobs, runs them side by side, and says how each ended. */
  async runDueJobs(limit = this.options.batchSize): Promise<JobOutcome[]> {
    for (const step of this.options.steps ?? []) {
      try {
        await step.run();
      } catch (error) {
        // A failing step (the database briefly away) must not stop the jobs already queued.
        this.logger.error({ err: error, step: step.name }, 'job step failed');
      }
    }
    const now = this.options.now();
    const token = randomBytes(12).toString('base64url');
    const claimed = await claimDueJobs(this.options.db, {
      kinds: this.kinds,
      now,
      leaseUntil: new Date(now.getTime() + this.options.leaseMs),
      token,
      limit,
    });
    return Promise.all(claimed.map((job) => this.execute(job, token)));
  }

  private async execute(job: JobRecord, token: string): Promise<JobOutcome> {
    const handler = this.handlers.get(job.kind);
    if (!handler) throw new Error(`claimed a job of kind ${job.kind} without a handler`);
    const base = { id: job.id, kind: job.kind };
    const controller = new AbortController();
    const running: RunningJob = {
      id: job.id,
      kind: job.kind,
      groupId: job.groupId,
      attempt: job.attempts,
      maxAttempts: job.maxAttempts,
      signal: controller.signal,
    };

    const parsed = handler.payload.safeParse(job.payload);
    if (!parsed.success) {
      return this.fail(
        base,
        handler,
        undefined,
        running,
        token,
        new PermanentJobError(
          `the payload does not match ${job.kind}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        ),
      );
    }
    // A job whose final attempt never finished (its process died, or it hung past the lease)
    // is not run again: a job that kills its process would otherwise do so forever.
    if (job.attempts > job.maxAttempts) {
      return this.fail(
        base,
        handler,
        parsed.data,
        running,
        token,
        new PermanentJobError(
          `the lease of attempt ${job.maxAttempts} ran out before it finished (did the process die?)`,
        ),
      );
    }

    const timeoutMs = handler.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    try {
      const aborted = new Promise<never>((_, reject) => {
        controller.signal.addEventListener(
          'abort',
          () => reject(controller.signal.reason instanceof Error ? controller.signal.reason : new Error('aborted')),
          { once: true },
        );
      });
      // A handler that ignores its signal is still abandoned at the timeout, so the lease cannot run out under it.
      const work = handler.run(parsed.data, running);
      // An abandoned handler may still fail later; that failure has already been recorded as the abort.
      work.catch(() => undefined);
      const result = (await Promise.race([work, aborted])) ?? null;
      const now = this.options.now();
      if (
        !(await finishJob(this.options.db, { id: job.id, token }, { status: 'done', result, lastError: null, now }))
      ) {
        this.logger.warn(
          { jobId: job.id, kind: job.kind },
          'job finished after its lease ran out; another runner may have run it again',
        );
        return { ...base, status: 'lost', error: null };
      }
      return { ...base, status: 'done', result };
    } catch (error) {
      return this.fail(base, handler, parsed.data, running, token, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** `payload` is undefined when it did not parse: the failure hook is then not called. */
  private async fail(
    base: { id: string; kind: string },
    handler: JobHandler,
    payload: unknown,
    job: RunningJob,
    token: string,
    error: unknown,
  ): Promise<JobOutcome> {
    const message = describe(error);
    const dead = error instanceof PermanentJobError || job.attempt >= job.maxAttempts;
    const now = this.options.now();
    const nextRunAt = dead
      ? null
      : new Date(now.getTime() + backoffDelay(handler.backoff ?? this.backoff, job.attempt));
    const recorded = await finishJob(
      this.options.db,
      { id: job.id, token },
      nextRunAt
        ? { status: 'failed', lastError: message, runAt: nextRunAt, now }
        : { status: 'dead', result: null, lastError: message, now },
    );
    if (!recorded) {
      this.logger.warn(
        { jobId: job.id, kind: job.kind, error: message },
        'job failed after its lease ran out; another runner may hold it',
      );
      return { ...base, status: 'lost', error: message };
    }
    const log = dead ? this.logger.error.bind(this.logger) : this.logger.warn.bind(this.logger);
    log(
      { jobId: job.id, kind: job.kind, attempt: job.attempt, maxAttempts: job.maxAttempts, error: message, nextRunAt },
      dead ? 'job is dead' : 'job failed; will retry',
    );
    if (handler.onFailure && payload !== undefined) {
      try {
        await handler.onFailure(payload as Parameters<typeof handler.onFailure>[0], job, {
          error: message,
          dead,
          nextRunAt,
        });
      } catch (hookError) {
        this.logger.error({ jobId: job.id, kind: job.kind, err: hookError }, 'job failure hook failed');
      }
    }
    return nextRunAt
      ? { ...base, status: 'failed', error: message, nextRunAt }
      : { ...base, status: 'dead', error: message };
  }
}
