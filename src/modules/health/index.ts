// The health module's door: what the rest of Sigil may use of it. Anything else is its own.
export { healthRoutes } from './health.routes.js';
