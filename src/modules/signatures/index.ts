// The signatures module's door: what the rest of Sigil may use of it. Anything else is its own.
export { signatureRoutes } from './signature.routes.js';
export { documentReaders, findReadableDocument } from './signature.service.js';
export type { DocumentReader } from './signature.service.js';
