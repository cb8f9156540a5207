// The verification module's door: verification for anyone, without an account.
export { publicVerificationRoutes } from './verification.routes.js';
