// The signatures module's door: what the rest of Sigil may use of it. Anything else is its own.
export { signatureRoutes } from './signature.routes.js';
export { findOriginal, hasSignedChain } from './signature.repository.js';
