// The webhooks module's door: what the rest of Sigil may use of it. Anything else is its own.
// Integrators' endpoints receive the public events (src/outbox/events.ts), signed per Standard
// Webhooks, through the fan-out step and the delivery jobs of the job runner.
export { webhookJobHandlers, webhookJobSteps } from './webhook.jobs.js';
export { webhookRoutes } from './webhook.routes.js';
