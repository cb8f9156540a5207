import type { Role } from '../../db/schema.js';
import { AppError, forbidden } from '../../server/errors.js';
import { rolePermissions, type Permission } from './permissions.js';

export interface RoleGrant {
  role: Role;
  companyId: string;
  companyPath: string;
}

/** Who is calling: a signed-in user or an API key, always inside one group. */
export interface Principal {
  kind: 'user' | 'api_key';
  /** User id, or API key id. */
  id: string;
  name: string;
  groupId: string;
  /** The user's primary company, or the API key's company. */
  companyId: string | null;
  companyPath: string | null;
  sessionId: string | null;
  roles: RoleGrant[];
  /** Permissions of an API key over its company subtree. */
  keyGrants: Array<{ permission: Permission; companyPath: string }>;
  /** A service account acting through this API key (kind `user`, no session). */
  apiKeyId?: string;
}

/** Everything a service needs to know about the request it serves. */
export interface Actor {
  principal: Principal;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/**
 * The company subtrees (as path prefixes) over which the principal holds a permission,
 * with nested roots folded into their ancestors. Throws 403 when there are none.
 */
export function scopeOf(principal: Principal, permission: Permission): string[] {
  const paths: string[] = [];
  for (const grant of principal.roles) {
    if (rolePermissions[grant.role].includes(permission)) paths.push(grant.companyPath);
  }
  for (const grant of principal.keyGrants) {
    if (grant.permission === permission) paths.push(grant.companyPath);
  }
  if (paths.length === 0) throw forbidden(`You need the ${permission} permission for this.`);
  return foldPaths(paths);
}

export function foldPaths(paths: string[]): string[] {
  const sorted = [...new Set(paths)].sort();
  const out: string[] = [];
  for (const path of sorted) {
    if (!out.some((root) => path.startsWith(root))) out.push(path);
  }
  return out;
}

export function isWithin(scope: string[], companyPath: string): boolean {
  return scope.some((root) => companyPath.startsWith(root));
}

/** Throws 403 unless the company lies in the principal's scope for the permission. */
export function assertWithin(principal: Principal, permission: Permission, companyPath: string): void {
  if (!isWithin(scopeOf(principal, permission), companyPath)) {
    throw forbidden(`You do not hold ${permission} over that company.`);
  }
}

export function requireUser(principal: Principal): string {
  if (principal.kind !== 'user')
    throw new AppError('forbidden', 'Only a signed-in person may do this, not an API key.');
  return principal.id;
}
