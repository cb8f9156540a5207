// The api-keys module's door: what the rest of Sigil may use of it. Anything else is its own.
export { apiKeyRoutes } from './api-key.routes.js';
