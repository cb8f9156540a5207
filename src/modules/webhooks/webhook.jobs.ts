import { z } from 'zod';
import { PermanentJobError, type JobHandler, type JobStep } from '../../jobs/job.types.js';
import { openSecret } from '../../lib/secrets.js';
import type { AppContext } from '../../server/context.js';
import { UrlRefusedError } from './webhook.address.js';
import { fanOutEvents } from './webhook.fanout.js';
import { DELIVERY_BACKOFF, REQUEST_TIMEOUT_MS } from './webhook.messages.js';
import * as repo from './webhook.repository.js';
import { sendWebhook } from './webhook.sender.js';
import { secretContext, signatureHeader } from './webhook.signature.js';

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * Attempts a delivery: signs the stored body with the endpoint's secret (and the previous one
 * while the rotation overlap lasts) and POSTs it. Every attempt's outcome is recorded on the
 * delivery; 2xx delivers it, anything else is retried by the queue with backoff until the last
 * attempt, and a refused target or a disabled endpoint ends it at once. Idempotent: a delivered
 * message is not sent again by a job that runs twice (a process that died before marking it done).
 */
export function webhookJobHandlers(ctx: AppContext): JobHandler[] {
  const deliver: JobHandler<'webhook.deliver'> = {
    kind: 'webhook.deliver',
    payload: z.object({ deliveryId: z.string() }),
    // The attempt's own limit, plus resolving the name and recording the outcome.
    timeoutMs: REQUEST_TIMEOUT_MS + 10_000,
    backoff: DELIVERY_BACKOFF,
    async run(payload, job) {
      if (!job.groupId) throw new PermanentJobError('a webhook delivery belongs to a group');
      const where = { groupId: job.groupId, id: payload.deliveryId };
      const target = await repo.findDeliveryTarget(ctx.db, where);
      if (!target) return { sent: false, reason: 'the delivery or its endpoint was deleted' };
      if (target.status === 'delivered') return { sent: false, reason: 'already delivered' };
      const at = ctx.now();
      const failed = async (error: string, options: { permanent: boolean; httpStatus?: number }) => {
        await repo.recordAttempt(ctx.db, where, {
          at,
          httpStatus: options.httpStatus ?? null,
          error,
          delivered: false,
        });
        return options.permanent ? new PermanentJobError(error) : new Error(error);
      };
      if (!target.enabled) throw await failed('the endpoint is disabled', { permanent: true });

      const context = secretContext(target.endpointId);
      const keys = [openSecret(ctx.masterKey, target.secretSealed, context)];
      if (target.previousSecretSealed && target.previousSecretUntil && target.previousSecretUntil > at)
        keys.push(openSecret(ctx.masterKey, target.previousSecretSealed, context));
      const body = JSON.stringify(target.payload);
      const timestamp = Math.floor(at.getTime() / 1000);
      let status: number;
      try {
        ({ status } = await sendWebhook({
          url: new URL(target.url),
          body,
          headers: {
            'webhook-id': target.messageId,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signatureHeader(keys, { id: target.messageId, timestamp, body }),
          },
          allowPrivate: ctx.config.webhooks.allowPrivate,
          timeoutMs: REQUEST_TIMEOUT_MS,
          signal: job.signal,
        }));
      } catch (error) {
        // A refused target stays refused: retrying would only ask the resolver again.
        if (error instanceof UrlRefusedError) throw await failed(`refused: ${error.message}`, { permanent: true });
        throw await failed(describe(error), { permanent: false });
      }
      if (status < 200 || status > 299)
        throw await failed(`the endpoint answered HTTP ${status}`, { permanent: false, httpStatus: status });
      await repo.recordAttempt(ctx.db, where, { at, httpStatus: status, error: null, delivered: true });
      return { sent: true, status, messageId: target.messageId };
    },
    async onFailure(payload, job, failure) {
      if (!job.groupId) return;
      await repo.markFailed(
        ctx.db,
        { groupId: job.groupId, id: payload.deliveryId },
        { dead: failure.dead, nextAttemptAt: failure.nextRunAt },
      );
    },
  };
  return [deliver];
}

/** The fan-out of public events into deliveries, at every poll of every runner (see `fanOutEvents`). */
export function webhookJobSteps(ctx: AppContext): JobStep[] {
  return [
    {
      name: 'webhooks.fan-out',
      run: async () => {
        await fanOutEvents(ctx);
      },
    },
  ];
}
