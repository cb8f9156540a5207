import { z } from 'zod';
import { cursorQuery, isoDate, limitQuery, uuid } from '../../server/schemas.js';

export const notificationSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    title: z.string(),
    body: z.string(),
    /** A console path to open, e.g. `/applications/<id>`. */
    link: z.string().nullable(),
    /** The parameters the text was made from (application id, seal names…), for the console to use. */
    data: z.record(z.string(), z.unknown()),
    read: z.boolean(),
    readAt: isoDate.nullable(),
    createdAt: isoDate,
  })
  .meta({ id: 'Notification' });

export const notificationListQuery = z.strictObject({
  unread: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .transform((v) => v === 'true')
    .optional()
    .describe('Only unread notifications'),
  limit: limitQuery,
  cursor: cursorQuery
    .pipe(z.object({ createdAt: z.iso.datetime(), id: uuid }, { message: 'is not a cursor this server issued' }))
    .optional(),
});

export const notificationListSchema = z.object({
  items: z.array(notificationSchema),
  nextCursor: z.string().nullable(),
});
export const notificationParams = z.object({ notificationId: uuid });
export const readAllSchema = z.object({ marked: z.number().int().describe('How many were unread and are now read') });
export const unreadCountSchema = z.object({ count: z.number().int() });
