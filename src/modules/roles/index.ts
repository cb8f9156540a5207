// The roles module's door: what the rest of Sigil may use of it. Anything else is its own.
// Files that use no other module, directly or through their own, come first: they are evaluated
// before anything that could come back here through another module (schemas are read as modules load).
export { findConflictingHolders, holdsRoleOver, insertAssignment } from './role.repository.js';
export { roleRoutes } from './role.routes.js';
