// The seals module's door: what the rest of Sigil may use of it. Anything else is its own.
// Files that use no other module, directly or through their own, come first: they are evaluated
// before anything that could come back here through another module (schemas are read as modules load).
export { findSeal, isSealCodeTaken, lockSeal } from './seal.repository.js';
export type { SealRecord } from './seal.repository.js';
/** The seal rows' writes that a lifecycle step makes, under the seal's lock (module `seal-lifecycle`). */
export * as sealRecords from './seal.repository.js';
export { sealKinds, sealParams, sealSchema, sealStatuses, sealTypes } from './seal.schema.js';
export { sealImageRoutes } from './seal-image.routes.js';
export { sealRoutes } from './seal.routes.js';
export { sealImagePng } from './seal-image.service.js';
export { getReadableSealImage, getSealImage } from './seal-image.service.js';
export { sealImageReaders } from './seal-image.service.js';
export { flagSealsOfResignedCustodian, getSeal, insertSealWithCustodians } from './seal.service.js';
export { isCustodian } from './seal.repository.js';
