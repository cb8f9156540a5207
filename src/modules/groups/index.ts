// The groups module's door: what the rest of Sigil may use of it. Anything else is its own.
// Files that use no other module, directly or through their own, come first: they are evaluated
// before anything that could come back here through another module (schemas are read as modules load).
export { findGroupBySlug, lockGroup } from './group.repository.js';
export { createGroup, describePermissions, findSodConflict, getGroupOverview } from './group.service.js';
export { applySodChange, getSodSettings, proposeSodChange } from './sod-change.service.js';
export { sodChangeRoutes } from './sod-change.routes.js';
