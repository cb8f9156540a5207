// The approvals module's door: what the rest of Sigil may use of it. Anything else is its own.
// Files that use no other module, directly or through their own, come first: they are evaluated
// before anything that could come back here through another module (schemas are read as modules load).
export { insertFlow, insertFlowVersion } from './flow.repository.js';
export {
  applicationNamesDocument,
  consumeAuthorizationUse,
  countTicketUses,
  findAuthorizationForUse,
  type AuthorizationForUse,
} from './authorization.repository.js';
export { applicationPurposes, purposeOf } from './approval.purposes.js';
export type { ApplicationPurpose, ApprovalEffect, CheckedApplication, SealFacts } from './approval.purposes.js';
export { closeSealUseApplications } from './approval.closing.js';
export { approvalJobHandlers } from './approval.jobs.js';
export { tell } from './approval.notices.js';
export * as applications from './approval.repository.js';
export { isDocumentOfApplicationOf, linkApplicationSeal, takesPart } from './approval.repository.js';
export { applicationSchema, approvalRoutes, idempotencyHeader, planSchema } from './approval.routes.js';
export { mayNotStandIn, planFor, type Plan } from './approval.plan.js';
export { openLevel, submitApplication } from './approval.submit.js';
export { findPendingApplication, getApplication } from './approval.service.js';
export { sealUsePurpose } from './seal-use.purpose.js';
export { flowDefinition } from './flow.schema.js';
export type { FlowDefinition } from './flow.schema.js';
