// The pki module's door: what the rest of Sigil may use of it. Anything else is its own.
// Files that use no other module, directly or through their own, come first: they are evaluated
// before anything that could come back here through another module (schemas are read as modules load).
export {
  findDeploymentCertificate,
  findGroupCa,
  findIssuingCasBySubject,
  lockCertificateForUse,
} from './pki.repository.js';
export type { CertificateRecord } from './pki.repository.js';
export { pkiPublicRoutes, pkiRoutes } from './pki.routes.js';
export * as pki from './pki.service.js';
export { reinstateSealCertificates, revokePersonCertificates, revokeSealCertificates } from './pki.service.js';
export * as sm2Pki from './sm2.service.js';
