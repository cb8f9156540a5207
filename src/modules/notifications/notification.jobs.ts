import { z } from 'zod';
import type { AppContext } from '../../server/context.js';
import type { JobHandler, RunningJob } from '../../jobs/job.types.js';
import { updateDelivery } from './notification.repository.js';
import { linkLine, mailFooter } from './notification.templates.js';

/** The notifications module's job kinds (see JobPayloads in src/jobs/job.types.ts). */
declare module '../../jobs/job.types.js' {
  interface JobPayloads {
    'email.send': EmailJobPayload;
    'sms.send': SmsJobPayload;
  }
}

const locale = z.enum(['zh-CN', 'en']);

export const emailJobPayload = z.object({
  deliveryId: z.string(),
  groupId: z.string(),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  /** A console path such as `/applications/<id>`; made absolute with SIGIL_PUBLIC_URL when it is set. */
  link: z.string().nullable(),
  locale,
});
export type EmailJobPayload = z.infer<typeof emailJobPayload>;

export const smsJobPayload = z.object({
  deliveryId: z.string(),
  groupId: z.string(),
  to: z.string(),
  text: z.string(),
  link: z.string().nullable(),
  locale,
});
export type SmsJobPayload = z.infer<typeof smsJobPayload>;

export const EMAIL_MAX_ATTEMPTS = 8;
export const SMS_MAX_ATTEMPTS = 6;

function absoluteLink(ctx: AppContext, link: string | null): string | null {
  return link && ctx.config.publicUrl ? `${ctx.config.publicUrl}${link}` : null;
}

/** Marks the delivery after each failed attempt: `retrying` while attempts remain, then `dead`. */
async function recordFailure(
  ctx: AppContext,
  payload: { deliveryId: string; groupId: string },
  job: RunningJob,
  failure: { error: string; dead: boolean },
) {
  const detail = `attempt ${job.attempt} of ${job.maxAttempts}: ${failure.error}`;
  await updateDelivery(
    ctx.db,
    { id: payload.deliveryId, groupId: payload.groupId },
    { status: failure.dead ? 'dead' : 'retrying', detail, at: ctx.now() },
  );
}

/**
 * Sends what `notify` queued. Sending is not a change to the organisation, so it is not
 * audited; its outcome is kept on the job (result, last error) and on the delivery row.
 * Handlers read the mailer and gateway from the context when they run, so a test can
 * swap them.
 */
export function notificationJobHandlers(ctx: AppContext): JobHandler[] {
  const email: JobHandler<'email.send'> = {
    kind: 'email.send',
    payload: emailJobPayload,
    timeoutMs: 45_000,
    async run(payload, job) {
      const url = absoluteLink(ctx, payload.link);
      const text = [
        payload.text,
        ...(url ? ['', linkLine(payload.locale, url)] : []),
        '',
        '--',
        mailFooter(payload.locale),
      ].join('\n');
      const outcome = await ctx.mailer.send({ to: payload.to, subject: payload.subject, text }, { signal: job.signal });
      await updateDelivery(
        ctx.db,
        { id: payload.deliveryId, groupId: payload.groupId },
        { status: outcome.sent ? 'sent' : 'not_sent', detail: outcome.detail, at: ctx.now() },
      );
      return {
        channel: 'email',
        via: ctx.mailer.kind,
        sent: outcome.sent,
        messageId: outcome.messageId ?? null,
        detail: outcome.detail,
      };
    },
    onFailure: (payload, job, failure) => recordFailure(ctx, payload, job, failure),
  };
  const sms: JobHandler<'sms.send'> = {
    kind: 'sms.send',
    payload: smsJobPayload,
    timeoutMs: 45_000,
    async run(payload, job) {
      const url = absoluteLink(ctx, payload.link);
      const outcome = await ctx.sms.send(
        { to: payload.to, text: url ? `${payload.text} ${url}` : payload.text },
        { signal: job.signal },
      );
      await updateDelivery(
        ctx.db,
        { id: payload.deliveryId, groupId: payload.groupId },
        { status: outcome.sent ? 'sent' : 'not_sent', detail: outcome.detail, at: ctx.now() },
      );
      return {
        channel: 'sms',
        via: ctx.sms.kind,
        sent: outcome.sent,
        messageId: outcome.messageId ?? null,
        detail: outcome.detail,
      };
    },
    onFailure: (payload, job, failure) => recordFailure(ctx, payload, job, failure),
  };
  return [email, sms];
}
