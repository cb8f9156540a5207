import type { Role } from '../../db/schema.js';

/** What a caller may do; roles and API keys are granted sets of these over a company subtree. */
export const permissions = [
  'org.read',
  'org.write',
  'roles.assign',
  'api_keys.manage',
  'audit.read',
  'settings.write',
  'seals.read',
  'seals.manage',
  'seals.grant',
  'flows.manage',
  'webhooks.manage',
  'contracts.read',
  'templates.manage',
] as const;
export type Permission = (typeof permissions)[number];

/**
 * The three administrative roles split the power (三员分立): the system administrator
 * runs the organisation, the seal administrator keeps seals, the auditor reads records.
 */
export const rolePermissions: Record<Role, readonly Permission[]> = {
  system_admin: ['org.read', 'org.write', 'roles.assign', 'api_keys.manage', 'settings.write', 'webhooks.manage'],
  seal_admin: [
    'org.read',
    'seals.read',
    'seals.manage',
    'seals.grant',
    'flows.manage',
    'contracts.read',
    'templates.manage',
  ],
  security_auditor: ['org.read', 'audit.read', 'seals.read', 'contracts.read'],
  employee: [],
};

export const roles = ['system_admin', 'seal_admin', 'security_auditor', 'employee'] as const satisfies readonly Role[];

/** Pairs of roles one person may not hold together, unless a group configures otherwise. */
export const defaultSodMatrix: Array<[Role, Role]> = [
  ['system_admin', 'seal_admin'],
  ['system_admin', 'security_auditor'],
  ['seal_admin', 'security_auditor'],
];
