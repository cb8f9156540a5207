// The audit-views module's door: the audit log as auditors see it over HTTP (the list within
// their companies, proofs of events they may see, the export, checkpoints and the log key). The
// log itself, below the companies, is the audit module's; what an auditor may see needs them.
export { findEvents, type AuditFilter } from './audit-views.repository.js';
export { auditRoutes } from './audit-views.routes.js';
