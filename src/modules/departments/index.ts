// The departments module's door: what the rest of Sigil may use of it. Anything else is its own.
// Files that use no other module, directly or through their own, come first: they are evaluated
// before anything that could come back here through another module (schemas are read as modules load).
export { findDepartment, insertDepartment, updateDepartment } from './department.repository.js';
export { departmentRoutes } from './department.routes.js';
