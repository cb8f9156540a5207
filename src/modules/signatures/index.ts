// The signatures module's door: what the rest of Sigil may use of it. Anything else is its own.
export { signatureRoutes } from './signature.routes.js';
export { findOriginals, findPlatformOutput, hasSignedChain } from './signature.repository.js';
export type { PlatformOutput } from './signature.repository.js';
export { verifyAgainstPlatform } from './signature.service.js';
export { verifyOfdAgainstPlatform, type OfdPlatformReport, type OfdSignatureCheck } from './signature.ofd-verify.js';
export {
  mayKnowSeal,
  signDocument,
  signPdfOffThread,
  type SignOptions,
  type SignedInTransaction,
} from './signature.service.js';
export { ofdPlatformReportSchema, ofdSignatureCheckSchema, type SignInput } from './signature.schema.js';
export { batchJobHandlers } from './signature.batch.js';
