// The auth module's door: signing in, sessions and API keys. Who someone is and what they may do
// once signed in (principals, roles, permissions) is the access module's.
// Files that use no other module, directly or through their own, come first: they are evaluated
// before anything that could come back here through another module (schemas are read as modules load).
export { passwordSchema } from './auth.schema.js';
export { authRoutes } from './auth.routes.js';
export { revokeUserSessions } from './auth.repository.js';
export {
  API_KEY_PREFIX,
  authenticate,
  clearSignInFailures,
  confirmSigningFactor,
  principalOfSession,
} from './auth.service.js';
