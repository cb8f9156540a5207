// The grants module's door: standing permissions to use a seal for business categories (授权),
// the one use decision (`decideSealUse`), the seals a person may use now, and the permission report.
// Above seals: a grant names a seal; below the modules that decide and record a use.
export { businessCategories, decideSealUse, isBusinessCategory } from './seal-use.policy.js';
export type { UseDecision } from './seal-use.policy.js';
export { consumeGrantUse, consumeGrantUses, findGrants, insertGrant } from './grant.repository.js';
export type { GrantRecord } from './grant.repository.js';
export { category, grantSchema } from './grant.schema.js';
export { grantRoutes } from './grant.routes.js';
