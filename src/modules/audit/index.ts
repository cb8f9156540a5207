// The audit module's door: what the rest of Sigil may use of it. Anything else is its own.
// Files that use no other module, directly or through their own, come first: they are evaluated
// before anything that could come back here through another module (schemas are read as modules load).
export type { AuditEvent } from './audit.events.js';
export { OfflineInputError, verifyExport } from './audit.offline.js';
export { AuditSealer, sealAllPending } from './audit.sealer.js';
export { verifyLog } from './audit.verify.js';
export { auditActions } from './audit.events.js';
export { exportLog, getConsistencyProof, getLatestCheckpoint, getLogKey, proveInclusion } from './audit.proofs.js';
export { auditAppendStatement, parseStoredChanges, recordAudit, recordAudits } from './audit.service.js';
export type { AuditActor, SystemActor } from './audit.service.js';
