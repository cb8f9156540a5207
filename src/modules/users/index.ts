// The users module's door: people, their posts and the departments they belong to (one module:
// a person's department is checked against it, and a department's head is a person).
// Files that use no other module, directly or through their own, come first: they are evaluated
// before anything that could come back here through another module (schemas are read as modules load).
export * as users from './user.repository.js';
export {
  findPeople,
  findUser,
  findUserDepartmentIds,
  findUsersById,
  insertUser,
  updateUser,
} from './user.repository.js';
export { findDepartment, insertDepartment, updateDepartment } from './department.repository.js';
export { departmentRoutes } from './department.routes.js';
export { userRoutes } from './user.routes.js';
export { departureHooks, getUser } from './user.service.js';
export type { DepartureHook } from './user.service.js';
