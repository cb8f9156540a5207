// The seals module's door: what the rest of Sigil may use of it. Anything else is its own.
// Files that use no other module, directly or through their own, come first: they are evaluated
// before anything that could come back here through another module (schemas are read as modules load).
export { decideSealUse } from './seal-use.policy.js';
export type { UseDecision } from './seal-use.policy.js';
export { consumeGrantUse, findSeal, insertGrant, isSealCodeTaken, lockSeal } from './seal.repository.js';
/** The seal rows' writes that a lifecycle step makes, under the seal's lock (module `seal-lifecycle`). */
export * as sealRecords from './seal.repository.js';
export { category, sealKinds, sealTypes } from './seal.schema.js';
export { sealImageRoutes } from './seal-image.routes.js';
export { sealRoutes } from './seal.routes.js';
export { sealImagePng } from './seal-image.service.js';
export { getReadableSealImage, getSealImage } from './seal-image.service.js';
export { sealImageReaders } from './seal-image.service.js';
export { flagSealsOfResignedCustodian, getSeal, insertSealWithCustodians } from './seal.service.js';
