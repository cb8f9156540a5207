// The demo module's door: what the rest of Sigil may use of it. Anything else is its own.
export { seedDemo } from './demo.seed.js';
export type { DemoLogins } from './demo.seed.js';
