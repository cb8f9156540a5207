// What a delivery is made of before it is attempted: its job, its message id, the retry schedule.
import type { NewJob } from '../../jobs/job.queue.js';
import type { Backoff } from '../../jobs/job.types.js';

/** The webhooks module's job kinds (see JobPayloads in src/jobs/job.types.ts). */
declare module '../../jobs/job.types.js' {
  interface JobPayloads {
    'webhook.deliver': { deliveryId: string };
  }
}

/** Attempts of one delivery (and of each redelivery) before it is dead. */
export const DELIVERY_MAX_ATTEMPTS = 10;
/** 1 min after the first failure, doubling up to 6 h: the last attempt comes about 8½ h after the first. */
export const DELIVERY_BACKOFF: Backoff = { baseMs: 60_000, maxMs: 6 * 3600_000 };
/** How long one attempt waits for the receiver's answer. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** The job that attempts a delivery: its payload names the delivery, whose row holds everything else. */
export function deliveryJob(q: { groupId: string; deliveryId: string; at: Date }): NewJob<'webhook.deliver'> {
  return {
    kind: 'webhook.deliver',
    groupId: q.groupId,
    payload: { deliveryId: q.deliveryId },
    runAt: q.at,
    maxAttempts: DELIVERY_MAX_ATTEMPTS,
  };
}

/** The `webhook-id` of a delivery: made from its id, so it stays the same across attempts and redeliveries. */
export const messageIdOf = (deliveryId: string) => `msg_${deliveryId.replaceAll('-', '')}`;
