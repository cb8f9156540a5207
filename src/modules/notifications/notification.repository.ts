import { sql } from 'kysely';
import type { Db, DeliveryChannel, DeliveryStatus, Transaction, UserStatus } from '../../db/schema.js';
import { WriteBatch, type PendingWrite } from '../../db/batch.js';
import { jobsInsert, type NewJobRow } from '../../jobs/job.repository.js';

export interface NotificationRecord {
  id: string;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  data: Record<string, unknown>;
  readAt: Date | null;
  createdAt: Date;
}

const columns = [
  'id',
  'kind',
  'title',
  'body',
  'link',
  'data',
  'read_at as readAt',
  'created_at as createdAt',
] as const;

export interface Recipient {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  locale: 'zh-CN' | 'en';
  status: UserStatus;
}

export async function findRecipients(trx: Transaction, groupId: string, userIds: string[]): Promise<Recipient[]> {
  if (userIds.length === 0) return [];
  return trx
    .selectFrom('users')
    .select(['id', 'name', 'email', 'phone', 'locale', 'status'])
    .where('group_id', '=', groupId)
    .where('id', 'in', userIds)
    .execute();
}

export interface NoticeRows {
  notifications: NewNotification[];
  jobs: NewJobRow[];
  deliveries: NewDelivery[];
}

type NewNotification = {
  id: string;
  groupId: string;
  userId: string;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  data: Record<string, unknown>;
  at: Date;
};
type NewDelivery = {
  id: string;
  groupId: string;
  /** Null for a person outside the group (an outside signer), known only by the address. */
  userId: string | null;
  notificationId: string | null;
  kind: string;
  channel: DeliveryChannel;
  address: string | null;
  status: DeliveryStatus;
  detail: string | null;
  jobId: string | null;
  at: Date;
};

/** Inbox rows, the jobs that send e-mail and SMS, and the deliveries that record them, as writes not yet run. */
export function noticeWrites(trx: Db | Transaction, rows: NoticeRows): PendingWrite[] {
  return [
    rows.notifications.length > 0
      ? trx.insertInto('notifications').values(
          rows.notifications.map((row) => ({
            id: row.id,
            group_id: row.groupId,
            user_id: row.userId,
            kind: row.kind,
            title: row.title,
            body: row.body,
            link: row.link,
            data: JSON.stringify(row.data),
            read_at: null,
            created_at: row.at,
          })),
        )
      : null,
    rows.jobs.length > 0 ? jobsInsert(trx, rows.jobs) : null,
    rows.deliveries.length > 0
      ? trx.insertInto('notification_deliveries').values(
          rows.deliveries.map((row) => ({
            id: row.id,
            group_id: row.groupId,
            user_id: row.userId,
            notification_id: row.notificationId,
            kind: row.kind,
            channel: row.channel,
            address: row.address,
            status: row.status,
            detail: row.detail,
            job_id: row.jobId,
            created_at: row.at,
            updated_at: row.at,
          })),
        )
      : null,
  ].filter((write) => write !== null);
}

/** The notices in one statement whatever the number of recipients (deliveries refer to the others; checked at its end). */
export async function insertNotices(trx: Transaction, rows: NoticeRows): Promise<void> {
  await new WriteBatch().add(...noticeWrites(trx, rows)).run(trx);
}

export async function updateDelivery(
  db: Db,
  where: { id: string; groupId: string },
  patch: { status: DeliveryStatus; detail: string | null; at: Date },
): Promise<void> {
  await db
    .updateTable('notification_deliveries')
    .set({ status: patch.status, detail: patch.detail, updated_at: patch.at })
    .where('id', '=', where.id)
    .where('group_id', '=', where.groupId)
    .execute();
}

export interface DeliveryRecord {
  id: string;
  userId: string | null;
  notificationId: string | null;
  kind: string;
  channel: DeliveryChannel;
  address: string | null;
  status: DeliveryStatus;
  detail: string | null;
  jobId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export async function findDeliveries(db: Db, where: { groupId: string; userId?: string }): Promise<DeliveryRecord[]> {
  let query = db
    .selectFrom('notification_deliveries')
    .select([
      'id',
      'user_id as userId',
      'notification_id as notificationId',
      'kind',
      'channel',
      'address',
      'status',
      'detail',
      'job_id as jobId',
      'created_at as createdAt',
      'updated_at as updatedAt',
    ])
    .where('group_id', '=', where.groupId);
  if (where.userId) query = query.where('user_id', '=', where.userId);
  return query.orderBy('created_at').orderBy('id').execute();
}

/** One person's inbox, newest first, keyset-paged on (created_at, id). */
export async function findNotifications(
  db: Db,
  filter: {
    groupId: string;
    userId: string;
    unreadOnly: boolean;
    before?: { createdAt: Date; id: string } | undefined;
    limit: number;
  },
): Promise<NotificationRecord[]> {
  let query = db
    .selectFrom('notifications')
    .select(columns)
    .where('group_id', '=', filter.groupId)
    .where('user_id', '=', filter.userId);
  if (filter.unreadOnly) query = query.where('read_at', 'is', null);
  if (filter.before) {
    const before = filter.before;
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(before.createdAt, before.id)));
  }
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

/** Marks one of the person's notifications read (keeping the first time it was read); undefined when it is not theirs. */
export async function markNotificationRead(
  db: Db,
  where: { groupId: string; userId: string; id: string },
  at: Date,
): Promise<NotificationRecord | undefined> {
  return db
    .updateTable('notifications')
    .set({ read_at: sql<Date>`coalesce(read_at, ${at})` })
    .where('group_id', '=', where.groupId)
    .where('user_id', '=', where.userId)
    .where('id', '=', where.id)
    .returning(columns)
    .executeTakeFirst();
}

export async function markAllNotificationsRead(
  db: Db,
  where: { groupId: string; userId: string },
  at: Date,
): Promise<number> {
  const result = await db
    .updateTable('notifications')
    .set({ read_at: at })
    .where('group_id', '=', where.groupId)
    .where('user_id', '=', where.userId)
    .where('read_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function countUnreadNotifications(db: Db, where: { groupId: string; userId: string }): Promise<number> {
  const row = await db
    .selectFrom('notifications')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('group_id', '=', where.groupId)
    .where('user_id', '=', where.userId)
    .where('read_at', 'is', null)
    .executeTakeFirstOrThrow();
  return row.n;
}
