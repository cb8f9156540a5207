/**
 * Typed client for Sigil's HTTP API (/api/v1). Shapes mirror the server's response
 * schemas (src/modules/*\/*.schema.ts); dates arrive as ISO 8601 strings.
 */

export type Locale = 'zh-CN' | 'en';
export type Role = 'system_admin' | 'seal_admin' | 'security_auditor' | 'employee';
export type UserStatus = 'active' | 'suspended' | 'resigned';
export type CompanyStatus = 'active' | 'closed';
export type Permission = 'org.read' | 'org.write' | 'roles.assign' | 'api_keys.manage' | 'audit.read' | 'settings.write';

export const ROLES: readonly Role[] = ['system_admin', 'seal_admin', 'security_auditor', 'employee'];
export const USER_STATUSES: readonly UserStatus[] = ['active', 'suspended', 'resigned'];
export const PERMISSIONS: readonly Permission[] = ['org.read', 'org.write', 'roles.assign', 'api_keys.manage', 'audit.read', 'settings.write'];

export interface Company {
  id: string;
  parentId: string | null;
  name: string;
  code: string;
  depth: number;
  status: CompanyStatus;
  childCount?: number;
  createdAt: string;
}

export interface Department {
  id: string;
  companyId: string;
  name: string;
  headUserId: string | null;
  headName: string | null;
  memberCount: number;
  createdAt: string;
}

export interface User {
  id: string;
  email: string;
  name: string;
  phone: string | null;
  locale: Locale;
  status: UserStatus;
  companyId: string;
  departmentId: string | null;
  totpEnabled: boolean;
  locked: boolean;
  createdAt: string;
  statusChangedAt: string | null;
}

export interface Post {
  id: string;
  companyId: string;
  departmentId: string | null;
  title: string;
  createdAt: string;
}

export interface UserRole {
  id: string;
  role: string;
  companyId: string;
  companyName: string;
  createdAt: string;
}

export interface UserDetail extends User {
  posts: Post[];
  roles: UserRole[];
}

export interface Me {
  user: User;
  group: { id: string; name: string; slug: string };
  company: { id: string; name: string };
  roles: UserRole[];
  permissions: Array<{ permission: string; companyId: string }>;
}

export interface RoleAssignment {
  id: string;
  userId: string;
  userName: string;
  role: string;
  companyId: string;
  companyName: string;
  createdAt: string;
}

export interface AuditEvent {
  id: string;
  seq: number;
  occurredAt: string;
  actor: { type: string; id: string | null; name: string | null };
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  action: string;
  target: { type: string; id: string | null };
  companyId: string | null;
  changes: Record<string, unknown>;
  valid: boolean;
  hash: string;
}

export interface ChainVerification {
  intact: boolean;
  checked: number;
  headSeq: number;
  firstProblem: { kind: 'altered' | 'inserted' | 'missing'; seq: number; eventId: string | null; detail: string } | null;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  companyId: string;
  permissions: string[];
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export type SignInResult =
  | { status: 'signed_in'; token: string; expiresAt: string; userId: string }
  | { status: 'mfa_required'; challengeToken: string; expiresAt: string };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** An RFC 9457 problem the server answered with. */
export interface Problem {
  status: number;
  code: string;
  detail: string;
  errors?: FieldProblem[];
  /** sod_conflict names the two roles that clash. */
  roles?: string[];
  [key: string]: unknown;
}

export class ApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail);
    this.name = 'ApiError';
    this.problem = problem;
  }
  get status(): number {
    return this.problem.status;
  }
  get code(): string {
    return this.problem.code;
  }
  /** Per-field messages keyed by the field name without its `body.`/`querystring.` prefix. */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.problem.errors ?? []) {
      const field = e.field.replace(/^(body|querystring|params)\./, '');
      out[field] ??= e.message;
    }
    return out;
  }
}

const TOKEN_KEY = 'sigil.token';

export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

let onUnauthorized: () => void = () => {};

/** Called whenever a signed-in request answers 401: the session is over. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

type Query = Record<string, string | number | boolean | null | undefined>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function request<T>(method: string, path: string, options: { query?: Query; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const token = tokenStore.get();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`/api/v1${withQuery(path, options.query)}`, {
      method,
      headers,
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError({ status: 0, code: 'network_error', detail: 'The server could not be reached.' });
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const problem: Problem =
      parsed && typeof parsed === 'object' && 'code' in parsed
        ? (parsed as Problem)
        : { status: response.status, code: response.status >= 500 ? 'internal_error' : 'unknown_error', detail: response.statusText || `HTTP ${response.status}` };
    if (response.status === 401 && token) onUnauthorized();
    throw new ApiError(problem);
  }
  return parsed as T;
}

const get = <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal });
const post = <T>(path: string, body: unknown = {}) => request<T>('POST', path, { body });
const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, { body });
const put = <T>(path: string, body: unknown) => request<T>('PUT', path, { body });
const del = <T>(path: string) => request<T>('DELETE', path);

export const api = {
  signIn: (body: { email: string; password: string }) => post<SignInResult>('/auth/sign-in', body),
  totp: (body: { challengeToken: string; code: string }) => post<SignInResult>('/auth/totp', body),
  signOut: () => post<{ ok: true }>('/auth/sign-out'),

  me: (signal?: AbortSignal) => get<Me>('/me', undefined, signal),
  updateMe: (body: { locale?: Locale }) => patch<User>('/me', body),

  companies: (query: { parentId?: string; under?: string; q?: string; limit?: number; cursor?: string }, signal?: AbortSignal) =>
    get<Page<Company>>('/companies', query, signal),
  createCompany: (body: { parentId: string; name: string; code: string }) => post<Company>('/companies', body),
  updateCompany: (id: string, body: { name?: string; code?: string; status?: CompanyStatus; parentId?: string }) => patch<Company>(`/companies/${id}`, body),

  departments: (query: { companyId?: string }, signal?: AbortSignal) => get<{ items: Department[] }>('/departments', query, signal),
  createDepartment: (body: { companyId: string; name: string; headUserId?: string | null }) => post<Department>('/departments', body),
  updateDepartment: (id: string, body: { name?: string; headUserId?: string | null }) => patch<Department>(`/departments/${id}`, body),

  users: (
    query: { companyId?: string; under?: string; departmentId?: string; status?: UserStatus; q?: string; limit?: number; cursor?: string },
    signal?: AbortSignal,
  ) => get<Page<User>>('/users', query, signal),
  user: (id: string, signal?: AbortSignal) => get<UserDetail>(`/users/${id}`, undefined, signal),
  createUser: (body: { email: string; name: string; companyId: string; departmentId?: string | null; phone?: string | null; locale?: Locale; password: string }) =>
    post<UserDetail>('/users', body),
  updateUser: (id: string, body: { name?: string; companyId?: string; departmentId?: string | null; phone?: string | null; locale?: Locale }) =>
    patch<UserDetail>(`/users/${id}`, body),
  setUserStatus: (id: string, body: { status: UserStatus; reason?: string }) => post<UserDetail>(`/users/${id}/status`, body),
  resetPassword: (id: string, password: string) => post<{ ok: true }>(`/users/${id}/password`, { password }),
  unlockUser: (id: string) => post<UserDetail>(`/users/${id}/unlock`),
  addPost: (id: string, body: { companyId: string; departmentId?: string | null; title: string }) => post<UserDetail>(`/users/${id}/posts`, body),
  removePost: (id: string, postId: string) => del<UserDetail>(`/users/${id}/posts/${postId}`),

  roleAssignments: (query: { userId?: string; companyId?: string; role?: Role }, signal?: AbortSignal) =>
    get<{ items: RoleAssignment[] }>('/role-assignments', query, signal),
  assignRole: (body: { userId: string; role: Role; companyId: string }) => post<RoleAssignment>('/role-assignments', body),
  revokeRole: (id: string) => del<{ ok: true }>(`/role-assignments/${id}`),
  sod: (signal?: AbortSignal) => get<{ pairs: Array<[Role, Role]> }>('/settings/separation-of-duties', undefined, signal),
  setSod: (pairs: Array<[Role, Role]>) => put<{ pairs: Array<[Role, Role]> }>('/settings/separation-of-duties', { pairs }),

  auditEvents: (query: { actionPrefix?: string; action?: string; actorId?: string; targetId?: string; from?: string; to?: string; beforeSeq?: number; limit?: number }, signal?: AbortSignal) =>
    get<{ items: AuditEvent[]; nextBeforeSeq: number | null }>('/audit-events', query, signal),
  verifyAudit: () => get<ChainVerification>('/audit-events/verify'),

  apiKeys: (signal?: AbortSignal) => get<{ items: ApiKey[] }>('/api-keys', undefined, signal),
  createApiKey: (body: { name: string; companyId: string; permissions: Permission[]; expiresAt?: string }) => post<{ key: ApiKey; secret: string }>('/api-keys', body),
  revokeApiKey: (id: string) => del<{ ok: true }>(`/api-keys/${id}`),
};
