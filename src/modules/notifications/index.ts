// The notifications module's door: what the rest of Sigil may use of it. Anything else is its own.
// Files that use no other module, directly or through their own, come first: they are evaluated
// before anything that could come back here through another module (schemas are read as modules load).
export { notificationJobHandlers } from './notification.jobs.js';
export type { Recipient } from './notification.repository.js';
export type { Locale, NotificationKind, NotificationParams } from './notification.templates.js';
export { notificationRoutes } from './notification.routes.js';
export { channelsOff, findRecipients, messageOutsider, notify, notifyInBatch } from './notification.service.js';
export type { NotificationChannel } from './notification.service.js';
