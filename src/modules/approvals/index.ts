// The approvals module's door: what the rest of Sigil may use of it. Anything else is its own.
// Files that use no other module, directly or through their own, come first: they are evaluated
// before anything that could come back here through another module (schemas are read as modules load).
export { insertFlow, insertFlowVersion } from './flow.repository.js';
export { closeSealUseApplications } from './approval.closing.js';
export { approvalJobHandlers } from './approval.jobs.js';
export { tell } from './approval.notices.js';
export * as applications from './approval.repository.js';
export { linkApplicationSeal, takesPart } from './approval.repository.js';
export { applicationSchema, approvalRoutes, idempotencyHeader } from './approval.routes.js';
export {
  findPendingApplication,
  getApplication,
  mayNotStandIn,
  openLevel,
  planFor,
  submitApplication,
} from './approval.service.js';
export type { Plan, SealFacts } from './approval.service.js';
export { flowDefinition } from './flow.schema.js';
export type { FlowDefinition } from './flow.schema.js';
