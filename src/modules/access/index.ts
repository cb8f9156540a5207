// The access module's door: who is acting (principals, the scope of each permission), the roles
// and permissions of the platform, and the cache of principals that every change to them drops.
// The lowest module: it depends on none of the others.
export * from './principal.js';
export * from './permissions.js';
export * from './principal-cache.js';
