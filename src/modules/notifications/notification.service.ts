import type { Db, DeliveryChannel, Transaction } from '../../db/schema.js';
import { newJobRows, type NewJob } from '../../jobs/job.queue.js';
import type { JobKind, JobPayloads } from '../../jobs/job.types.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { notFound } from '../../server/errors.js';
import { encodeCursor } from '../../server/schemas.js';
import { requireUser, type Actor } from '../access/index.js';
import { EMAIL_MAX_ATTEMPTS, SMS_MAX_ATTEMPTS } from './notification.jobs.js';
import * as repo from './notification.repository.js';
import type { NoticeRows, Recipient } from './notification.repository.js';
import type { WriteBatch } from '../../db/batch.js';
import { renderNotification, type NotificationKind, type NotificationParams } from './notification.templates.js';

export type NotificationChannel = 'inbox' | DeliveryChannel;

export interface NotifyInput<K extends NotificationKind> {
  groupId: string;
  /** Users of `groupId`; repeats are notified once. An id outside the group is a bug and throws. */
  userIds: string[];
  kind: K;
  params: NotificationParams[K];
  /** A console path (`/applications/<id>`), never a full URL: mail and SMS make it absolute with SIGIL_PUBLIC_URL. */
  link?: string | null;
  channels: NotificationChannel[];
  /** Outside channels this server has switched off (SIGIL_MAILER=none…), with the reason recorded on their skipped deliveries; no job is queued for them. */
  off?: Partial<Record<DeliveryChannel, string>> | undefined;
  /** When it happened (the service's clock); default now. */
  at?: Date;
}

/**
 * The outside channels this server has switched off (`NotifyInput.off`): their deliveries are
 * recorded as skipped at once, with no job queued only to find there is nothing to send with.
 */
export function channelsOff(ctx: Pick<AppContext, 'mailer' | 'sms'>): Partial<Record<DeliveryChannel, string>> {
  return {
    ...(ctx.mailer.kind === 'none' ? { email: 'e-mail is switched off on this server (SIGIL_MAILER=none)' } : {}),
    ...(ctx.sms.kind === 'none' ? { sms: 'text messages are switched off on this server (SIGIL_SMS=none)' } : {}),
  };
}

export interface NotifyResult {
  /** One inbox row per recipient when `inbox` was asked for. */
  notifications: Array<{ userId: string; notificationId: string }>;
  /** One per recipient and outside channel: queued with its job, or skipped with the reason. */
  deliveries: Array<{
    userId: string;
    channel: DeliveryChannel;
    deliveryId: string;
    status: 'queued' | 'skipped';
    jobId: string | null;
    detail: string | null;
  }>;
}

/**
 * Tells users something, inside the caller's transaction: writes their inbox rows and
 * queues one e-mail and/or SMS job per recipient, each in the recipient's language. If the
 * transaction rolls back, nobody is told. A channel the user has no address for (no phone),
 * or any outside channel for a user who is no longer active, is skipped and recorded as such.
 */
export async function notify<K extends NotificationKind>(
  trx: Transaction,
  input: NotifyInput<K>,
): Promise<NotifyResult> {
  const recipients = await repo.findRecipients(trx, input.groupId, [...new Set(input.userIds)]);
  const { rows, result } = planNotices(input, recipients);
  await repo.insertNotices(trx, rows);
  return result;
}

/** The people `notifyInBatch` tells, read once for all the notices of a transaction. */
export function findRecipients(trx: Transaction, groupId: string, userIds: string[]): Promise<Recipient[]> {
  return repo.findRecipients(trx, groupId, [...new Set(userIds)]);
}

/**
 * The same, for a caller that has read the recipients already (with other facts it needed) and
 * writes everything of its transaction in one statement: the notices join `batch`.
 */
export function notifyInBatch<K extends NotificationKind>(
  trx: Db | Transaction,
  batch: WriteBatch,
  input: NotifyInput<K>,
  recipients: Recipient[],
): NotifyResult {
  const { rows, result } = planNotices(input, recipients);
  batch.add(...repo.noticeWrites(trx, rows));
  return result;
}

/** Who gets what: an inbox row, and per outside channel a job or a skipped delivery with the reason. */
function planNotices<K extends NotificationKind>(
  input: NotifyInput<K>,
  found: Recipient[],
): { rows: NoticeRows; result: NotifyResult } {
  const link = input.link ?? null;
  // Only paths of this console: a notification must never carry a link to somewhere else.
  if (link !== null && (!link.startsWith('/') || link.startsWith('//')))
    throw new Error(`notify: link must be a path of the console, not ${link}`);
  const userIds = [...new Set(input.userIds)];
  const recipients = userIds.map((id) => found.find((r) => r.id === id));
  const missing = userIds.filter((_, i) => !recipients[i]);
  if (missing.length > 0) throw new Error(`notify: no user ${missing.join(', ')} in group ${input.groupId}`);
  const at = input.at ?? new Date();
  const channels = new Set(input.channels);
  const data: Record<string, unknown> = { ...input.params };
  const result: NotifyResult = { notifications: [], deliveries: [] };

  const notifications: NoticeRows['notifications'] = [];
  const deliveries: Array<NoticeRows['deliveries'][number] & { userId: string }> = [];
  const jobs: Array<NewJob<JobKind>> = [];
  const jobOf = new Map<string, number>();
  for (const user of recipients as Recipient[]) {
    const message = renderNotification(input.kind, user.locale, input.params);
    let notificationId: string | null = null;
    if (channels.has('inbox')) {
      notificationId = newId();
      notifications.push({
        id: notificationId,
        groupId: input.groupId,
        userId: user.id,
        kind: input.kind,
        title: message.title,
        body: message.body,
        link,
        data,
        at,
      });
    }
    for (const channel of ['email', 'sms'] as const) {
      if (!channels.has(channel)) continue;
      const deliveryId = newId();
      const address = channel === 'email' ? user.email.trim() || null : (user.phone?.trim() ?? '') || null;
      const skip =
        input.off?.[channel] ??
        (user.status !== 'active'
          ? `the user is ${user.status}`
          : address === null
            ? channel === 'email'
              ? 'the user has no e-mail address'
              : 'the user has no phone number'
            : null);
      if (skip === null && address !== null) {
        const common = { deliveryId, groupId: input.groupId, to: address, link, locale: user.locale };
        jobOf.set(deliveryId, jobs.length);
        jobs.push(
          channel === 'email'
            ? ({
                kind: 'email.send',
                groupId: input.groupId,
                runAt: at,
                maxAttempts: EMAIL_MAX_ATTEMPTS,
                payload: { ...common, subject: message.title, text: message.body } satisfies JobPayloads['email.send'],
              } as NewJob<JobKind>)
            : ({
                kind: 'sms.send',
                groupId: input.groupId,
                runAt: at,
                maxAttempts: SMS_MAX_ATTEMPTS,
                payload: { ...common, text: message.sms } satisfies JobPayloads['sms.send'],
              } as NewJob<JobKind>),
        );
      }
      deliveries.push({
        id: deliveryId,
        groupId: input.groupId,
        userId: user.id,
        notificationId,
        kind: input.kind,
        channel,
        address,
        status: skip === null ? 'queued' : 'skipped',
        detail: skip,
        jobId: null,
        at,
      });
    }
  }
  const jobRows = newJobRows(jobs);
  for (const delivery of deliveries) {
    const index = jobOf.get(delivery.id);
    if (index !== undefined) delivery.jobId = jobRows[index]!.id;
  }
  for (const n of notifications) result.notifications.push({ userId: n.userId, notificationId: n.id });
  for (const d of deliveries)
    result.deliveries.push({
      userId: d.userId,
      channel: d.channel,
      deliveryId: d.id,
      status: d.status === 'queued' ? 'queued' : 'skipped',
      jobId: d.jobId,
      detail: d.detail,
    });
  return { rows: { notifications, jobs: jobRows, deliveries }, result };
}

function presentNotification(row: repo.NotificationRecord) {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    body: row.body,
    link: row.link,
    data: row.data,
    read: row.readAt !== null,
    readAt: row.readAt,
    createdAt: row.createdAt,
  };
}

/** The caller's own inbox; an API key has none. */
function inboxOf(actor: Actor) {
  return { groupId: actor.principal.groupId, userId: requireUser(actor.principal) };
}

export async function listNotifications(
  ctx: AppContext,
  actor: Actor,
  query: { unread?: boolean | undefined; limit: number; cursor?: { createdAt: string; id: string } | undefined },
) {
  const inbox = inboxOf(actor);
  const before = query.cursor ? { createdAt: new Date(query.cursor.createdAt), id: query.cursor.id } : undefined;
  const rows = await repo.findNotifications(ctx.db, {
    ...inbox,
    unreadOnly: query.unread ?? false,
    before,
    limit: query.limit,
  });
  const last = rows.at(-1);
  return {
    items: rows.map(presentNotification),
    nextCursor:
      rows.length === query.limit && last
        ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id })
        : null,
  };
}

export async function readNotification(ctx: AppContext, actor: Actor, notificationId: string) {
  const row = await repo.markNotificationRead(ctx.db, { ...inboxOf(actor), id: notificationId }, ctx.now());
  if (!row) throw notFound('notification_not_found', notificationId);
  return presentNotification(row);
}

export async function readAllNotifications(ctx: AppContext, actor: Actor): Promise<{ marked: number }> {
  return { marked: await repo.markAllNotificationsRead(ctx.db, inboxOf(actor), ctx.now()) };
}

export async function countUnread(ctx: AppContext, actor: Actor): Promise<{ count: number }> {
  return { count: await repo.countUnreadNotifications(ctx.db, inboxOf(actor)) };
}

/**
 * A message to someone outside the group, known only by an address (an outside signer's phone or
 * e-mail): a delivery row without a user and its job, in the caller's transaction. The text is
 * the caller's, already in the reader's language.
 */
export async function messageOutsider(
  trx: Transaction,
  input: {
    groupId: string;
    kind: string;
    channel: 'email' | 'sms';
    to: string;
    subject: string;
    text: string;
    link: string | null;
    locale: 'zh-CN' | 'en';
    at: Date;
  },
): Promise<{ deliveryId: string }> {
  const deliveryId = newId();
  const common = { deliveryId, groupId: input.groupId, to: input.to, link: input.link, locale: input.locale };
  const job =
    input.channel === 'email'
      ? ({
          kind: 'email.send',
          groupId: input.groupId,
          runAt: input.at,
          maxAttempts: EMAIL_MAX_ATTEMPTS,
          payload: { ...common, subject: input.subject, text: input.text } satisfies JobPayloads['email.send'],
        } as NewJob<JobKind>)
      : ({
          kind: 'sms.send',
          groupId: input.groupId,
          runAt: input.at,
          maxAttempts: SMS_MAX_ATTEMPTS,
          payload: { ...common, text: input.text } satisfies JobPayloads['sms.send'],
        } as NewJob<JobKind>);
  const jobRows = newJobRows([job]);
  await repo.insertNotices(trx, {
    notifications: [],
    jobs: jobRows,
    deliveries: [
      {
        id: deliveryId,
        groupId: input.groupId,
        userId: null,
        notificationId: null,
        kind: input.kind,
        channel: input.channel,
        address: input.to,
        status: 'queued',
        detail: null,
        jobId: jobRows[0]!.id,
        at: input.at,
      },
    ],
  });
  return { deliveryId };
}
