// The users module's door: what the rest of Sigil may use of it. Anything else is its own.
// Files that use no other module, directly or through their own, come first: they are evaluated
// before anything that could come back here through another module (schemas are read as modules load).
export * as users from './user.repository.js';
export { findPeople, findUser, findUserDepartmentIds, insertUser, updateUser } from './user.repository.js';
export { userRoutes } from './user.routes.js';
export { getUser } from './user.service.js';
