import type { Db } from '../../db/schema.js';
import { findPendingGroups, lastAppendTime, sealPending } from './audit.repository.js';
import { checkpointRound, type CheckpointContext } from './checkpoint.service.js';

export interface SealerLogger {
  warn(details: object, message: string): void;
  error?(details: object, message: string): void;
}

/** Links every group's committed pending events; with `wait`, also those a sealer at work on a group holds now. */
export async function sealAllPending(db: Db, options: { wait: boolean }): Promise<void> {
  for (const groupId of await findPendingGroups(db)) await sealPending(db, groupId, options);
}

/** How often a server links what its writers committed, for a while after it wrote (an event is unprotected until then). */
export const SEAL_INTERVAL_MS = 200;
/** For how long after this process last wrote events it keeps looking that often (its transactions commit within it). */
const FOLLOW_MS = 2_000;
/** How often it looks anyway, for what other processes left pending, and when idle. */
const SWEEP_MS = 5_000;
/** How often at most it signs the checkpoints that are due and brings its file up to date. */
const CHECKPOINT_MS = 1_000;

/**
 * Links every group's committed audit events into its chain: a few times a second while this
 * process writes events, every few seconds otherwise (an idle server barely touches the database).
 * Every server runs one; two at work on one group take turns (the second gives way for that
 * round). A failed round is logged and the next one tries again: the events wait, nothing is lost.
 * Given `checkpoints`, it also signs each group's checkpoint when due (a second at most between
 * looks) and appends what it signs or sees to its own file.
 */
export class AuditSealer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastRound = 0;
  private lastCheckpoints = 0;

  constructor(
    private readonly db: Db,
    private readonly logger: SealerLogger,
    private readonly intervalMs = SEAL_INTERVAL_MS,
    private readonly checkpoints?: CheckpointContext,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const now = Date.now();
      if (now - lastAppendTime() > FOLLOW_MS && now - this.lastRound < SWEEP_MS) return;
      this.lastRound = now;
      this.running ??= this.sealAll().finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * One round: every group with pending events, then (at most once a second) the checkpoints that
   * are due. `final`: the last round before the server stops, which signs every tree that grew.
   */
  async sealAll(options: { final?: boolean } = {}): Promise<void> {
    try {
      await sealAllPending(this.db, { wait: false });
    } catch (error) {
      this.logger.warn({ err: error }, 'audit sealer: this round failed; the next one tries again');
    }
    const now = Date.now();
    if (!this.checkpoints || (!options.final && now - this.lastCheckpoints < CHECKPOINT_MS)) return;
    this.lastCheckpoints = now;
    try {
      await checkpointRound(
        this.checkpoints,
        {
          warn: (details, message) => this.logger.warn(details, message),
          error: (details, message) => (this.logger.error ?? this.logger.warn).call(this.logger, details, message),
        },
        { force: options.final === true },
      );
    } catch (error) {
      this.logger.warn({ err: error }, 'audit sealer: signing checkpoints failed; the next round tries again');
    }
  }
}
