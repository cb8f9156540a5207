import { actorOf } from '../../server/plugins/auth.js';
import type { RoutesPlugin } from '../../server/schemas.js';
import {
  notificationListQuery,
  notificationListSchema,
  notificationParams,
  notificationSchema,
  readAllSchema,
  unreadCountSchema,
} from './notification.schema.js';
import * as service from './notification.service.js';

const tags = ['me'];

/** The signed-in person's own inbox: nobody, not even an administrator, reads another's. */
export const notificationRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/notifications', {
    schema: {
      tags,
      summary: 'My notifications, newest first',
      querystring: notificationListQuery,
      response: { 200: notificationListSchema },
    },
    handler: async (request) => service.listNotifications(ctx, actorOf(request), request.query),
  });

  app.get('/notifications/unread-count', {
    schema: { tags, summary: 'How many of my notifications are unread', response: { 200: unreadCountSchema } },
    handler: async (request) => service.countUnread(ctx, actorOf(request)),
  });

  app.post('/notifications/:notificationId/read', {
    schema: {
      tags,
      summary: 'Mark one of my notifications read',
      params: notificationParams,
      response: { 200: notificationSchema },
    },
    handler: async (request) => service.readNotification(ctx, actorOf(request), request.params.notificationId),
  });

  app.post('/notifications/read-all', {
    schema: { tags, summary: 'Mark all my notifications read', response: { 200: readAllSchema } },
    handler: async (request) => service.readAllNotifications(ctx, actorOf(request)),
  });
};
