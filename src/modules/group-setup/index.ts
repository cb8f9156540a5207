// The group-setup module's door: a new tenant, founded in one transaction with its head company, its
// first system administrator and its built-in flows. The top of the modules: it uses several of them.
export { createGroup } from './group-setup.service.js';
export type { CreateGroupInput } from './group-setup.service.js';
