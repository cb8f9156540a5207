// The devices module's door: smart seal devices on the platform (issue 16). The registry, tickets
// signed by the deployment's device-ticket key, the sync that reconciles device logs into findings,
// photos of stamped paper, and an application's stamp records. The protocol itself, without the
// database, is src/devices.
export { deviceRoutes } from './device.routes.js';
export { getTicketKey, issueTicket, registerDevice } from './device.service.js';
export { syncDevice } from './device.sync.js';
