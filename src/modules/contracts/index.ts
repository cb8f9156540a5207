// The contracts module's door: contracts (合同) with participants in steps, fields on the page,
// outside signers through single-use links and one-time codes, and who may read their PDFs.
export { findContractSources, isPartyToContractOf, isSealImageOfContractFor } from './contract.repository.js';
export { contractRoutes } from './contract.routes.js';
export { contractJobHandlers } from './contract.jobs.js';
export { templateRoutes } from './template.routes.js';
export { seedGroupTemplates } from './template.service.js';
export {
  registerIdentityProvider,
  type IdentityCheckKind,
  type IdentityCheckRequest,
  type IdentityProvider,
  type IdentityVerdict,
} from './contract.identity.js';
