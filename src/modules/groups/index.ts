// The groups module's door: what the rest of Sigil may use of it. Anything else is its own.
// A group is a tenant; it keeps its separation-of-duties matrix, which role assignments are checked
// against (changed only through the `sod-changes` module's proposals) and which new groups start from.
export { findGroupBySlug, lockGroup } from './group.repository.js';
export * as groupRecords from './group.repository.js';
export { findSodConflict, normaliseSodMatrix, type SodMatrix } from './sod-matrix.js';
export { describePermissions, getGroupOverview } from './group.service.js';
