import type { Transaction } from '../../db/schema.js';
import type { AppContext } from '../../server/context.js';
import { enqueueJob } from '../../jobs/job.queue.js';
import { notify, type NotificationChannel } from '../notifications/notification.service.js';
import type { NotificationKind, NotificationParams } from '../notifications/notification.templates.js';
import * as repo from './approval.repository.js';

/** Approval news reaches people in the console, by e-mail and by SMS (each skipped when the person has no address for it). */
const CHANNELS: NotificationChannel[] = ['inbox', 'email', 'sms'];

export const applicationLink = (applicationId: string) => `/applications/${applicationId}`;

/** The seals an application is about; a seal still to be made is named by its application. */
export async function sealNamesOf(trx: Transaction, applicationId: string, pendingName?: string): Promise<string[]> {
  const names = (await repo.findApplicationSeals(trx, applicationId)).map((s) => s.name);
  return names.length > 0 || !pendingName ? names : [pendingName];
}

/** Outside channels this server has switched off: their deliveries are recorded as skipped, with no job to run. */
function channelsOff(ctx: Pick<AppContext, 'mailer' | 'sms'>): Partial<Record<'email' | 'sms', string>> {
  return {
    ...(ctx.mailer.kind === 'none' ? { email: 'e-mail is switched off on this server (SIGIL_MAILER=none)' } : {}),
    ...(ctx.sms.kind === 'none' ? { sms: 'text messages are switched off on this server (SIGIL_SMS=none)' } : {}),
  };
}

export async function tell<K extends NotificationKind>(ctx: Pick<AppContext, 'mailer' | 'sms'>, trx: Transaction, q: { groupId: string; userIds: string[]; kind: K; params: NotificationParams[K]; applicationId: string; at: Date }) {
  if (q.userIds.length === 0) return;
  await notify(trx, { groupId: q.groupId, userIds: q.userIds, kind: q.kind, params: q.params, link: applicationLink(q.applicationId), channels: CHANNELS, off: channelsOff(ctx), at: q.at });
}

/**
 * Schedules the overdue handling of a level's tasks as durable jobs, in the transaction that
 * opened them: a reminder per task, and one escalation of the level. They survive restarts.
 */
export async function scheduleOverdue(
  trx: Transaction,
  q: { groupId: string; applicationId: string; level: number; tasks: Array<{ id: string }>; openedAt: Date; remindAfterHours: number | null; escalateAfterHours: number | null },
) {
  if (q.remindAfterHours) {
    const runAt = new Date(q.openedAt.getTime() + q.remindAfterHours * 3_600_000);
    for (const task of q.tasks) {
      await enqueueJob(trx, { kind: 'approval.remind', groupId: q.groupId, payload: { taskId: task.id }, runAt, dedupeKey: `approval.remind:${task.id}` });
    }
  }
  if (q.escalateAfterHours) {
    const runAt = new Date(q.openedAt.getTime() + q.escalateAfterHours * 3_600_000);
    await enqueueJob(trx, { kind: 'approval.escalate', groupId: q.groupId, payload: { applicationId: q.applicationId, level: q.level }, runAt, dedupeKey: `approval.escalate:${q.applicationId}:${q.level}` });
  }
}
