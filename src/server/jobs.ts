import { JobRunner, type JobLogger } from '../jobs/job.runner.js';
import type { JobHandler, JobStep } from '../jobs/job.types.js';
import { notificationJobHandlers } from '../modules/notifications/index.js';
import { approvalJobHandlers } from '../modules/approvals/index.js';
import { contractJobHandlers } from '../modules/contracts/index.js';
import { batchJobHandlers } from '../modules/signatures/index.js';
import { webhookJobHandlers, webhookJobSteps } from '../modules/webhooks/index.js';
import type { AppContext } from './context.js';

/** Every capability's job handlers, one entry per module (like the route list in app.ts). */
const jobModules: Array<(ctx: AppContext) => JobHandler[]> = [
  notificationJobHandlers,
  approvalJobHandlers,
  contractJobHandlers,
  batchJobHandlers,
  webhookJobHandlers,
];

/** What every runner does at each poll, per module (the webhook fan-out of the outbox's public events). */
const stepModules: Array<(ctx: AppContext) => JobStep[]> = [webhookJobSteps];

export function jobHandlers(ctx: AppContext): JobHandler[] {
  return jobModules.flatMap((handlers) => handlers(ctx));
}

/**
 * The runner with every module's handlers, configured by SIGIL_JOBS_*. `sigil serve` starts
 * it; tests build the app without starting it and drive it with `runDueJobs`.
 */
export function createJobRunner(
  ctx: AppContext,
  options: { logger?: JobLogger; extraHandlers?: JobHandler[] } = {},
): JobRunner {
  const { jobs } = ctx.config;
  return new JobRunner({
    db: ctx.db,
    now: ctx.now,
    handlers: [...jobHandlers(ctx), ...(options.extraHandlers ?? [])],
    steps: stepModules.flatMap((steps) => steps(ctx)),
    pollMs: jobs.pollMs,
    batchSize: jobs.batchSize,
    leaseMs: jobs.leaseSeconds * 1000,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
