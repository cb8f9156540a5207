import type { Db, Transaction } from '../../db/schema.js';
import type { AppContext } from '../../server/context.js';
import type { WriteBatch } from '../../db/batch.js';
import { jobWrite } from '../../jobs/job.queue.js';
import type { Recipient } from '../notifications/index.js';
import { channelsOff, notify, notifyInBatch, type NotificationChannel } from '../notifications/index.js';
import type { NotificationKind, NotificationParams } from '../notifications/index.js';

/** Approval news reaches people in the console, by e-mail and by SMS (each skipped when the person has no address for it). */
const CHANNELS: NotificationChannel[] = ['inbox', 'email', 'sms'];

export const applicationLink = (applicationId: string) => `/applications/${applicationId}`;

type Telling<K extends NotificationKind> = {
  groupId: string;
  userIds: string[];
  kind: K;
  params: NotificationParams[K];
  applicationId: string;
  at: Date;
};

export async function tell<K extends NotificationKind>(
  ctx: Pick<AppContext, 'mailer' | 'sms'>,
  trx: Transaction,
  q: Telling<K>,
) {
  if (q.userIds.length === 0) return;
  await notify(trx, {
    groupId: q.groupId,
    userIds: q.userIds,
    kind: q.kind,
    params: q.params,
    link: applicationLink(q.applicationId),
    channels: CHANNELS,
    off: channelsOff(ctx),
    at: q.at,
  });
}

/** The same news, to people already read (with their addresses), written with the rest of `batch`. */
export function tellInBatch<K extends NotificationKind>(
  ctx: Pick<AppContext, 'mailer' | 'sms'>,
  trx: Db | Transaction,
  batch: WriteBatch,
  q: Telling<K>,
  people: Recipient[],
) {
  if (q.userIds.length === 0) return;
  notifyInBatch(
    trx,
    batch,
    {
      groupId: q.groupId,
      userIds: q.userIds,
      kind: q.kind,
      params: q.params,
      link: applicationLink(q.applicationId),
      channels: CHANNELS,
      off: channelsOff(ctx),
      at: q.at,
    },
    people,
  );
}

/**
 * Schedules the overdue handling of a level's tasks as durable jobs, written with the rest of the
 * transaction that opened them: a reminder per task, and one escalation of the level. They survive restarts.
 */
export function scheduleOverdue(
  trx: Db | Transaction,
  batch: WriteBatch,
  q: {
    groupId: string;
    applicationId: string;
    level: number;
    tasks: Array<{ id: string }>;
    openedAt: Date;
    remindAfterHours: number | null;
    escalateAfterHours: number | null;
  },
) {
  if (q.remindAfterHours) {
    const runAt = new Date(q.openedAt.getTime() + q.remindAfterHours * 3_600_000);
    for (const task of q.tasks) {
      batch.add(
        jobWrite(trx, {
          kind: 'approval.remind',
          groupId: q.groupId,
          payload: { taskId: task.id },
          runAt,
          dedupeKey: `approval.remind:${task.id}`,
        }),
      );
    }
  }
  if (q.escalateAfterHours) {
    const runAt = new Date(q.openedAt.getTime() + q.escalateAfterHours * 3_600_000);
    batch.add(
      jobWrite(trx, {
        kind: 'approval.escalate',
        groupId: q.groupId,
        payload: { applicationId: q.applicationId, level: q.level },
        runAt,
        dedupeKey: `approval.escalate:${q.applicationId}:${q.level}`,
      }),
    );
  }
}
