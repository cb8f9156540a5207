/**
 * Sigil's HTTP API (/api/v1) for the console: the types and the client come from the server's
 * OpenAPI document (docs/openapi.json, checked against the server by test/contract.test.ts),
 * generated into ./schema.d.ts by `npm run api:types` (checked against the document by
 * test/console-api-types.test.ts). Nothing here restates a shape the server already declares:
 * a route or field the server changes fails the console's type check. Dates arrive as ISO 8601.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

type Schemas = components['schemas'];
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Json<C> = C extends { content: { 'application/json': infer T } } ? T : never;

/** The JSON a route answers with when it succeeds (200 or 201), as the server declares it. */
export type Answer<P extends keyof paths, M extends Method> = paths[P][M] extends {
  responses: infer R;
}
  ? R extends { 200: infer C }
    ? Json<C>
    : R extends { 201: infer C }
      ? Json<C>
      : never
  : never;

/** The JSON body a route takes, as the server declares it. */
export type BodyOf<P extends keyof paths, M extends Method> = paths[P][M] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? B
  : paths[P][M] extends { requestBody?: { content: { 'application/json': infer B } } }
    ? B
    : never;

/** The query a route takes. */
export type QueryOf<P extends keyof paths, M extends Method> = paths[P][M] extends {
  parameters: { query?: infer Q };
}
  ? NonNullable<Q>
  : never;

/* ---------- The server's shapes ---------- */

export type Company = Schemas['Company'];
export type CompanyStatus = Company['status'];
export type Department = Schemas['Department'];
export type User = Schemas['User'];
export type Locale = User['locale'];
export type UserStatus = User['status'];
export type UserDetail = Schemas['UserDetail'];
export type Post = UserDetail['posts'][number];
export type UserRole = UserDetail['roles'][number];
export type Me = Answer<'/api/v1/me', 'get'>;
export type RoleAssignment = Schemas['RoleAssignment'];
export type Role = BodyOf<'/api/v1/role-assignments', 'post'>['role'];
export type Permission = NonNullable<BodyOf<'/api/v1/api-keys', 'post'>['permissions']>[number];
export type AuditEvent = Schemas['AuditEvent'];
export type ChainVerification = Answer<'/api/v1/audit-events/verify', 'get'>;
export type ApiKey = Schemas['ApiKey'];

export type Seal = Schemas['Seal'];
export type SealKind = Seal['kind'];
export type SealType = Seal['type'];
export type SealStatus = Seal['status'];
export type SealGrant = Schemas['SealGrant'];
export type SealCard = Answer<'/api/v1/seals/{sealId}', 'get'>;
export type MySeal = Answer<'/api/v1/me/seals', 'get'>['items'][number];
export type SealImageSpec = BodyOf<'/api/v1/seal-images/preview', 'post'>;
export type SealShape = SealImageSpec['shape'];
export type StoredSealImage = Schemas['SealImage'];
export type ProductionDraft = BodyOf<'/api/v1/seals/production-applications', 'post'>;
export type LifecycleDraft = BodyOf<'/api/v1/seals/{sealId}/lifecycle-applications', 'post'>;
export type LifecycleStep = LifecycleDraft['action'];
export type LifecycleAction = LifecycleStep | 'produce';
export type GrantDraft = BodyOf<'/api/v1/seals/{sealId}/grants', 'post'>;
export type GranteeSpec = GrantDraft['grantee'];
export type PermissionReport = Answer<'/api/v1/reports/seal-permissions', 'get'>;
export type PermissionReportRow = PermissionReport['rows'][number];
export type ReportFlag = PermissionReportRow['flags'][number];
export type PermissionReportQuery = Omit<QueryOf<'/api/v1/reports/seal-permissions', 'get'>, 'format'>;

export type Plan = Answer<'/api/v1/applications/preview', 'post'>;
export type PlannedLevel = Plan['levels'][number];
export type Person = Plan['cc'][number];
export type Application = Schemas['Application'];
export type ApplicationSummary = Answer<'/api/v1/applications', 'get'>['items'][number];
export type ApplicationStatus = Application['status'];
export type ApprovalTask = Application['tasks'][number];
export type TaskStatus = ApprovalTask['status'];
export type Authorization = Application['authorizations'][number];
export type InboxTask = Answer<'/api/v1/tasks', 'get'>['items'][number];
export type DocumentRef = Answer<'/api/v1/documents/uploads', 'post'>;
export type SealUseDraft = BodyOf<'/api/v1/applications', 'post'>;
export type SodSettings = Schemas['SeparationOfDuties'];
export type Flow = Schemas['Flow'];
export type FlowPurpose = BodyOf<'/api/v1/flows', 'post'>['purpose'];
export type FlowDefinition = BodyOf<'/api/v1/flows', 'post'>['definition'];
export type LevelSpec = FlowDefinition['levels'][number];
export type ApproverSpec = LevelSpec['approvers'][number];
export type LevelCondition = NonNullable<LevelSpec['condition']>;
export type ApprovalMode = LevelSpec['mode'];
export type Delegation = Answer<'/api/v1/delegations', 'get'>['items'][number];

export type SignDraft = BodyOf<'/api/v1/signatures', 'post'>;
export type PadesLevel = NonNullable<SignDraft['level']>;
export type Placement = NonNullable<SignDraft['appearance']>;
export type SignatureRecord = Schemas['Signature'];
export type VerificationReport = Schemas['VerificationReport'];
export type SignatureCheck = VerificationReport['signatures'][number];
export type ArchiveLookup = VerificationReport['archive'];
export type OfdVerificationReport = Schemas['OfdVerificationReport'];
export type OfdSignatureCheck = OfdVerificationReport['signatures'][number];
export type AnyVerificationReport = VerificationReport | OfdVerificationReport;
export type ElectronicSealFile = Answer<'/api/v1/seals/{sealId}/esl', 'post'>;
/** An OFD by its name or type (the server sniffs the bytes; this only picks what to send and show). */
export const isOfdFile = (file: { name?: string | null; type?: string }) =>
  /\.ofd$/i.test(file.name ?? '') || file.type === 'application/ofd';
export const isOfdReport = (report: AnyVerificationReport): report is OfdVerificationReport =>
  'format' in report && report.format === 'ofd';
export type DocumentPages = Answer<'/api/v1/documents/{sha256}/pages', 'get'>;
export type PageBox = DocumentPages['last'];
export type Certificate = Schemas['Certificate'];
export type AppNotification = Schemas['Notification'];

export type Contract = Schemas['Contract'];
export type ContractSummary = Answer<'/api/v1/contracts', 'get'>['items'][number];
export type ContractStatus = Contract['status'];
export type ContractParticipant = Schemas['ContractParticipant'];
export type ParticipantRole = ContractParticipant['role'];
export type ParticipantKind = ContractParticipant['kind'];
export type ParticipantStatus = ContractParticipant['status'];
export type ContractField = Schemas['ContractField'];
export type FieldType = ContractField['type'];
export type ContractInvitation = Schemas['ContractInvitation'];
export type ContractDraft = BodyOf<'/api/v1/contracts', 'post'>;
export type ContractSignBody = BodyOf<'/api/v1/contracts/{id}/sign', 'post'>;
export type SignatureBatch = Schemas['SignatureBatch'];
export type BatchItem = SignatureBatch['items'][number];
export type BatchDraft = BodyOf<'/api/v1/signatures/batches', 'post'>;
export type SignInResult = Answer<'/api/v1/auth/sign-in', 'post'>;

export type Device = Schemas['Device'];
export type DeviceTicket = Schemas['DeviceTicket'];
export type DeviceEvent = Schemas['DeviceEvent'];
export type DeviceFinding = Schemas['DeviceFinding'];
export type DeviceSyncAnswer = Schemas['DeviceSyncAnswer'];
export type SignedDeviceMessage = Schemas['DeviceSignedMessage'];
export type ApplicationDeviceRecords = Schemas['ApplicationDeviceRecords'];
export type StampRecord = ApplicationDeviceRecords['stamps'][number];
export type SealUsageRecord = Schemas['SealUsageRecord'];
export type SealUsageQuery = QueryOf<'/api/v1/seal-usage', 'get'>;
export type SealUsageCorrection = Schemas['SealUsageCorrection'];
export type SealUsageReview = Schemas['SealUsageReview'];
export type SealUsageReviewDetail = Schemas['SealUsageReviewDetail'];
export type SealUsageReviewItem = Schemas['SealUsageReviewItem'];
export type SealUsageRegisterCheck = Schemas['SealUsageRegisterCheck'];
export type SealUsageRegisterQuery = QueryOf<'/api/v1/seal-usage/register-checks', 'post'>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/* ---------- The console's lists of the server's words (each checked complete against the types) ---------- */

const every = <T extends string>(all: Record<T, true>): readonly T[] => Object.keys(all) as T[];

export const ROLES = every<Role>({ system_admin: true, seal_admin: true, security_auditor: true, employee: true });
export const USER_STATUSES = every<UserStatus>({ active: true, suspended: true, resigned: true });
export const PERMISSIONS = every<Permission>({
  'org.read': true,
  'org.write': true,
  'roles.assign': true,
  'api_keys.manage': true,
  'audit.read': true,
  'settings.write': true,
  'seals.read': true,
  'seals.manage': true,
  'seals.grant': true,
  'flows.manage': true,
  'webhooks.manage': true,
  'contracts.read': true,
  'templates.manage': true,
});
export const SEAL_KINDS = every<SealKind>({ electronic: true, physical: true, ukey: true, mobile: true });
export const SEAL_TYPES = every<SealType>({
  official: true,
  contract: true,
  finance: true,
  invoice: true,
  hr: true,
  legal_representative: true,
  custom: true,
});
export const SEAL_STATUSES = every<SealStatus>({
  pending: true,
  active: true,
  suspended: true,
  lost: true,
  destroyed: true,
});
/** Business categories a grant and an application name: the five standard ones, or `custom:<name>`. */
export const STANDARD_CATEGORIES = ['personnel', 'procurement', 'sales', 'legal', 'finance'] as const;
export const SEAL_SHAPES = every<SealShape>({ round: true, oval: true, square: true });
export const LIFECYCLE_STEPS = every<LifecycleStep>({
  change: true,
  transfer: true,
  suspend: true,
  resume: true,
  report_loss: true,
  destroy: true,
});
/** The states each step starts from (the server's lifecycleMoves); destruction is final. */
export const LIFECYCLE_FROM: Record<LifecycleStep, readonly SealStatus[]> = {
  change: ['active', 'suspended'],
  transfer: ['active', 'suspended'],
  suspend: ['active'],
  resume: ['suspended'],
  report_loss: ['active', 'suspended'],
  destroy: ['active', 'suspended', 'lost'],
};
export const REPORT_FLAGS = every<ReportFlag>({
  overlapping: true,
  single_user: true,
  beyond_company: true,
  beyond_function: true,
  expired: true,
  inactive_grantee: true,
  custodian_user: true,
});
export const APPLICATION_STATUSES = every<ApplicationStatus>({
  pending: true,
  approved: true,
  rejected: true,
  withdrawn: true,
  closed: true,
});
export const PADES_LEVELS = every<PadesLevel>({ 'B-B': true, 'B-T': true, 'B-LT': true, 'B-LTA': true });
export const CONTRACT_STATUSES = every<ContractStatus>({
  draft: true,
  sent: true,
  signing: true,
  completed: true,
  rejected: true,
  voided: true,
  expired: true,
});
export const PARTICIPANT_ROLES = every<ParticipantRole>({ signer: true, approver: true, cc: true, receiver: true });
export const PARTICIPANT_KINDS = every<ParticipantKind>({
  company: true,
  person: true,
  outside_person: true,
  outside_org: true,
});
export const FIELD_TYPES = every<FieldType>({
  company_seal: true,
  cross_page_seal: true,
  legal_rep_seal: true,
  signature: true,
  date: true,
  text: true,
  checkbox: true,
});

/* ---------- Problems ---------- */

export type FieldProblem = NonNullable<Schemas['Problem']['errors']>[number];

/** The server's problem codes, and two the console makes itself: no answer, or an answer that is not a problem. */
export type ProblemCode = Schemas['Problem']['code'] | 'network_error' | 'unknown_error';

/** An RFC 9457 problem the server answered with: its code, its English detail and the code's parameters. */
export interface Problem {
  status: number;
  code: ProblemCode;
  detail: string;
  errors?: FieldProblem[];
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

/** Query values that say nothing (undefined, null, '') are left out, as the forms leave fields empty. */
function serializeQuery(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  return params.toString();
}

const withSession: Middleware = {
  onRequest({ request }) {
    const token = tokenStore.get();
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    request.headers.set('accept', 'application/json');
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has('authorization')) onUnauthorized();
    return response;
  },
};

const client = createClient<paths>({ baseUrl: '', querySerializer: serializeQuery });
client.use(withSession);

function problemOf(response: Response, parsed: unknown): Problem {
  return parsed && typeof parsed === 'object' && 'code' in parsed
    ? (parsed as Problem)
    : {
        status: response.status,
        code: response.status >= 500 ? 'internal_error' : 'unknown_error',
        detail: response.statusText || `HTTP ${response.status}`,
      };
}

const unreachable = () =>
  new ApiError({ status: 0, code: 'network_error', detail: 'The server could not be reached.' });

/** The answer of a call through the client, or its problem as an ApiError. */
async function answer<D>(pending: Promise<{ data?: D; error?: unknown; response: Response }>): Promise<D> {
  let result: { data?: D; error?: unknown; response: Response };
  try {
    result = await pending;
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw unreachable();
  }
  if (!result.response.ok) throw new ApiError(problemOf(result.response, result.error));
  return result.data as D;
}

/** A file sent as the request body itself (a PDF to stamp or verify): the client's JSON body does not fit. */
async function sendFile<T>(path: string, file: Blob, contentType: string): Promise<T> {
  const token = tokenStore.get();
  let response: Response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        'content-type': contentType,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: file,
    });
  } catch {
    throw unreachable();
  }
  const parsed = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) {
    if (response.status === 401 && token) onUnauthorized();
    throw new ApiError(problemOf(response, parsed));
  }
  return parsed as T;
}

/**
 * A file the server answers with at a path the generated types do not list yet (a contract's PDF):
 * fetched with the session like the client does, its problem read as JSON.
 */
async function getFile(path: string, signal?: AbortSignal, accept = 'application/pdf'): Promise<Blob> {
  const token = tokenStore.get();
  let response: Response;
  try {
    response = await fetch(path, {
      headers: { accept: `${accept}, application/json`, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw unreachable();
  }
  if (!response.ok) {
    if (response.status === 401 && token) onUnauthorized();
    throw new ApiError(problemOf(response, (await response.json().catch(() => undefined)) as unknown));
  }
  return response.blob();
}

export type ContractAttachment = Schemas['ContractAttachment'];

/** A binary answer (a seal image, a CSV, a PDF) through the client: problems still arrive as JSON. */
async function blob(pending: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<Blob> {
  return (await answer(pending)) as Blob;
}

/** Uploads a seal image (PNG or SVG) as JSON with base64, so the file's own name and claimed type travel with it. */
async function uploadSealImage(file: File): Promise<StoredSealImage> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  // The browser's own type is sent as claimed (the server checks the content against it and names a wrong one).
  const mediaType =
    file.type ||
    (/\.svg$/i.test(file.name)
      ? 'image/svg+xml'
      : /\.png$/i.test(file.name)
        ? 'image/png'
        : 'application/octet-stream');
  // Sent as claimed even when it is neither type: the server names the wrong one rather than the console guessing.
  const claimed = mediaType as Exclude<BodyOf<'/api/v1/seal-images', 'post'>, string>['mediaType'];
  return answer(
    client.POST('/api/v1/seal-images', { body: { dataBase64: btoa(binary), mediaType: claimed, fileName: file.name } }),
  );
}

const idempotent = (key: string) => ({ header: { 'idempotency-key': key } });

export const api = {
  /** Uploads a PDF or OFD to stamp: the file itself is the body. */
  uploadDocument: (file: File) =>
    sendFile<DocumentRef>(
      `/api/v1/documents/uploads?name=${encodeURIComponent(file.name)}`,
      file,
      isOfdFile(file) ? 'application/ofd' : file.type || 'application/pdf',
    ),
  downloadDocument: (applicationId: string, sha256: string) =>
    blob(
      client.GET('/api/v1/applications/{applicationId}/documents/{sha256}', {
        params: { path: { applicationId, sha256 } },
        parseAs: 'blob',
      }),
    ),
  signIn: (body: BodyOf<'/api/v1/auth/sign-in', 'post'>) => answer(client.POST('/api/v1/auth/sign-in', { body })),
  totp: (body: BodyOf<'/api/v1/auth/totp', 'post'>) => answer(client.POST('/api/v1/auth/totp', { body })),
  signOut: () => answer(client.POST('/api/v1/auth/sign-out')),

  me: (signal?: AbortSignal) => answer(client.GET('/api/v1/me', { signal })),
  changePassword: (body: BodyOf<'/api/v1/me/password', 'post'>) => answer(client.POST('/api/v1/me/password', { body })),
  updateMe: (body: BodyOf<'/api/v1/me', 'patch'>) => answer(client.PATCH('/api/v1/me', { body })),

  companies: (query: QueryOf<'/api/v1/companies', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/companies', { params: { query }, signal })),
  createCompany: (body: BodyOf<'/api/v1/companies', 'post'>) => answer(client.POST('/api/v1/companies', { body })),
  updateCompany: (companyId: string, body: BodyOf<'/api/v1/companies/{companyId}', 'patch'>) =>
    answer(client.PATCH('/api/v1/companies/{companyId}', { params: { path: { companyId } }, body })),

  departments: (query: QueryOf<'/api/v1/departments', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/departments', { params: { query }, signal })),
  createDepartment: (body: BodyOf<'/api/v1/departments', 'post'>) =>
    answer(client.POST('/api/v1/departments', { body })),
  updateDepartment: (departmentId: string, body: BodyOf<'/api/v1/departments/{departmentId}', 'patch'>) =>
    answer(client.PATCH('/api/v1/departments/{departmentId}', { params: { path: { departmentId } }, body })),

  users: (query: QueryOf<'/api/v1/users', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/users', { params: { query }, signal })),
  user: (userId: string, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/users/{userId}', { params: { path: { userId } }, signal })),
  createUser: (body: BodyOf<'/api/v1/users', 'post'>) => answer(client.POST('/api/v1/users', { body })),
  updateUser: (userId: string, body: BodyOf<'/api/v1/users/{userId}', 'patch'>) =>
    answer(client.PATCH('/api/v1/users/{userId}', { params: { path: { userId } }, body })),
  setUserStatus: (userId: string, body: BodyOf<'/api/v1/users/{userId}/status', 'post'>) =>
    answer(client.POST('/api/v1/users/{userId}/status', { params: { path: { userId } }, body })),
  resetPassword: (userId: string, password: string) =>
    answer(client.POST('/api/v1/users/{userId}/password', { params: { path: { userId } }, body: { password } })),
  unlockUser: (userId: string) =>
    answer(client.POST('/api/v1/users/{userId}/unlock', { params: { path: { userId } } })),
  addPost: (userId: string, body: BodyOf<'/api/v1/users/{userId}/posts', 'post'>) =>
    answer(client.POST('/api/v1/users/{userId}/posts', { params: { path: { userId } }, body })),
  removePost: (userId: string, postId: string) =>
    answer(client.DELETE('/api/v1/users/{userId}/posts/{postId}', { params: { path: { userId, postId } } })),

  roleAssignments: (query: QueryOf<'/api/v1/role-assignments', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/role-assignments', { params: { query }, signal })),
  assignRole: (body: BodyOf<'/api/v1/role-assignments', 'post'>) =>
    answer(client.POST('/api/v1/role-assignments', { body })),
  revokeRole: (assignmentId: string) =>
    answer(client.DELETE('/api/v1/role-assignments/{assignmentId}', { params: { path: { assignmentId } } })),
  // openapi-fetch widens the pairs' tuples to arrays; the document declares [role, role].
  sod: (signal?: AbortSignal) =>
    answer(client.GET('/api/v1/settings/separation-of-duties', { signal })) as Promise<SodSettings>,
  /** A new matrix, in force only once a security auditor of the head company approves the application it makes. */
  proposeSod: (body: BodyOf<'/api/v1/settings/separation-of-duties/proposals', 'post'>) =>
    answer(client.POST('/api/v1/settings/separation-of-duties/proposals', { body })),

  auditEvents: (query: QueryOf<'/api/v1/audit-events', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/audit-events', { params: { query }, signal })),
  verifyAudit: () => answer(client.GET('/api/v1/audit-events/verify')),

  apiKeys: (signal?: AbortSignal) => answer(client.GET('/api/v1/api-keys', { signal })),
  createApiKey: (body: BodyOf<'/api/v1/api-keys', 'post'>) => answer(client.POST('/api/v1/api-keys', { body })),
  revokeApiKey: (apiKeyId: string) =>
    answer(client.DELETE('/api/v1/api-keys/{apiKeyId}', { params: { path: { apiKeyId } } })),

  seals: (query: QueryOf<'/api/v1/seals', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/seals', { params: { query }, signal })),
  sealCard: (sealId: string, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/seals/{sealId}', { params: { path: { sealId } }, signal })),
  mySeals: (query: QueryOf<'/api/v1/me/seals', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/me/seals', { params: { query }, signal })),
  createGrant: (sealId: string, body: GrantDraft) =>
    answer(client.POST('/api/v1/seals/{sealId}/grants', { params: { path: { sealId } }, body })),
  revokeGrant: (
    sealId: string,
    grantId: string,
    body: BodyOf<'/api/v1/seals/{sealId}/grants/{grantId}/revoke', 'post'>,
  ) =>
    answer(
      client.POST('/api/v1/seals/{sealId}/grants/{grantId}/revoke', { params: { path: { sealId, grantId } }, body }),
    ),

  /** The designer's live preview: a PNG drawn from the fields, not stored. */
  previewSealImage: (spec: SealImageSpec, signal?: AbortSignal) =>
    blob(client.POST('/api/v1/seal-images/preview', { body: spec, parseAs: 'blob', signal })),
  generateSealImage: (spec: BodyOf<'/api/v1/seal-images/generate', 'post'>) =>
    answer(client.POST('/api/v1/seal-images/generate', { body: spec })),
  uploadSealImage,
  sealImage: (sha256: string, signal?: AbortSignal) =>
    blob(client.GET('/api/v1/seal-images/{sha256}', { params: { path: { sha256 } }, parseAs: 'blob', signal })),
  /** `idempotencyKey`: one per form, so a double tap or a retry creates one application. */
  applyForProduction: (body: ProductionDraft, idempotencyKey: string) =>
    answer(client.POST('/api/v1/seals/production-applications', { params: idempotent(idempotencyKey), body })),
  applyForLifecycleStep: (sealId: string, body: LifecycleDraft, idempotencyKey: string) =>
    answer(
      client.POST('/api/v1/seals/{sealId}/lifecycle-applications', {
        params: { path: { sealId }, ...idempotent(idempotencyKey) },
        body,
      }),
    ),
  /** Who would approve a production: the company and the custodians decide it. */
  previewProduction: (body: BodyOf<'/api/v1/seals/production-applications/preview', 'post'>, signal?: AbortSignal) =>
    answer(client.POST('/api/v1/seals/production-applications/preview', { body, signal })),
  /** Who would approve a lifecycle step (the reason may still be empty). */
  previewLifecycleStep: (
    sealId: string,
    body: BodyOf<'/api/v1/seals/{sealId}/lifecycle-applications/preview', 'post'>,
    signal?: AbortSignal,
  ) =>
    answer(
      client.POST('/api/v1/seals/{sealId}/lifecycle-applications/preview', {
        params: { path: { sealId } },
        body,
        signal,
      }),
    ),

  permissionReport: (query: PermissionReportQuery, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/reports/seal-permissions', { params: { query }, signal })) as Promise<PermissionReport>,
  permissionReportCsv: (query: PermissionReportQuery) =>
    blob(
      client.GET('/api/v1/reports/seal-permissions', {
        params: { query: { ...query, format: 'csv' } },
        parseAs: 'blob',
      }),
    ),

  previewApplication: (body: BodyOf<'/api/v1/applications/preview', 'post'>, signal?: AbortSignal) =>
    answer(client.POST('/api/v1/applications/preview', { body, signal })),
  /** `idempotencyKey`: one per form, so a double tap or a retry creates one application. */
  submitApplication: (body: SealUseDraft, idempotencyKey: string) =>
    answer(client.POST('/api/v1/applications', { params: idempotent(idempotencyKey), body })),
  applications: (query: QueryOf<'/api/v1/applications', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/applications', { params: { query }, signal })),
  application: (applicationId: string, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/applications/{applicationId}', { params: { path: { applicationId } }, signal })),
  withdrawApplication: (applicationId: string) =>
    answer(client.POST('/api/v1/applications/{applicationId}/withdraw', { params: { path: { applicationId } } })),

  tasks: (query: QueryOf<'/api/v1/tasks', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/tasks', { params: { query }, signal })),
  approveTask: (taskId: string, body: BodyOf<'/api/v1/tasks/{taskId}/approve', 'post'>) =>
    answer(client.POST('/api/v1/tasks/{taskId}/approve', { params: { path: { taskId } }, body })),
  rejectTask: (taskId: string, body: BodyOf<'/api/v1/tasks/{taskId}/reject', 'post'>) =>
    answer(client.POST('/api/v1/tasks/{taskId}/reject', { params: { path: { taskId } }, body })),
  transferTask: (taskId: string, body: BodyOf<'/api/v1/tasks/{taskId}/transfer', 'post'>) =>
    answer(client.POST('/api/v1/tasks/{taskId}/transfer', { params: { path: { taskId } }, body })),
  /** Who the holder of a task may transfer it to (only people who may take it), by name or e-mail. */
  transferCandidates: (
    taskId: string,
    query: QueryOf<'/api/v1/tasks/{taskId}/transfer-candidates', 'get'>,
    signal?: AbortSignal,
  ) =>
    answer(client.GET('/api/v1/tasks/{taskId}/transfer-candidates', { params: { path: { taskId }, query }, signal })),

  flows: (query: QueryOf<'/api/v1/flows', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/flows', { params: { query }, signal })),
  flow: (flowId: string, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/flows/{flowId}', { params: { path: { flowId } }, signal })),
  createFlow: (body: BodyOf<'/api/v1/flows', 'post'>) => answer(client.POST('/api/v1/flows', { body })),
  updateFlow: (flowId: string, body: BodyOf<'/api/v1/flows/{flowId}', 'put'>) =>
    answer(client.PUT('/api/v1/flows/{flowId}', { params: { path: { flowId } }, body })),
  archiveFlow: (flowId: string) =>
    answer(client.POST('/api/v1/flows/{flowId}/archive', { params: { path: { flowId } } })),

  delegations: (signal?: AbortSignal) => answer(client.GET('/api/v1/delegations', { signal })),
  createDelegation: (body: BodyOf<'/api/v1/delegations', 'post'>) =>
    answer(client.POST('/api/v1/delegations', { body })),
  /** Whom I may name as my stand-in (my company line), by name or e-mail; needs no directory permission. */
  delegationCandidates: (query: QueryOf<'/api/v1/delegations/candidates', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/delegations/candidates', { params: { query }, signal })),
  endDelegation: (delegationId: string) =>
    answer(client.DELETE('/api/v1/delegations/{delegationId}', { params: { path: { delegationId } } })),

  /** What was signed on an application's documents outside it (under a grant, another application, personally). */
  applicationDocumentSignatures: (applicationId: string, signal?: AbortSignal) =>
    answer(
      client.GET('/api/v1/applications/{applicationId}/document-signatures', {
        params: { path: { applicationId } },
        signal,
      }),
    ),
  /** Starts signing many stored PDFs with one seal, after one confirmation: the job runner signs each in turn. */
  startBatch: (body: BatchDraft) => answer(client.POST('/api/v1/signatures/batches', { body })),
  /** A batch of mine: how far it has got, each document's signature or why it failed. */
  batch: (batchId: string, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/signatures/batches/{batchId}', { params: { path: { batchId } }, signal })),
  /** Applies a seal to a stored PDF (or signs personally); the answer names the signed output. */
  sign: (body: SignDraft) => answer(client.POST('/api/v1/signatures', { body })),
  /** The signatures of the chain that started from a document, those I may see, oldest first. */
  signatures: (originalSha256: string, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/signatures', { params: { query: { originalSha256 } }, signal })),
  signature: (signatureId: string, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/signatures/{signatureId}', { params: { path: { signatureId } }, signal })),
  signedDocument: (signatureId: string, signal?: AbortSignal) =>
    blob(
      client.GET('/api/v1/signatures/{signatureId}/document', {
        params: { path: { signatureId } },
        parseAs: 'blob',
        signal,
      }),
    ),
  // openapi-fetch widens the boxes' tuples to arrays; the document declares [x, y, width, height].
  documentPages: (sha256: string, signal?: AbortSignal) =>
    answer(
      client.GET('/api/v1/documents/{sha256}/pages', { params: { path: { sha256 } }, signal }),
    ) as Promise<DocumentPages>,
  /** The verifier's report on a PDF (sent as it is, at most 20 MB), with the archive lookup. */
  verifyPdf: (file: Blob) => sendFile<VerificationReport>('/api/v1/verifications', file, 'application/pdf'),
  /** The verifier's report on a PDF or an OFD (an OFD answers with format 'ofd' and its seal signatures). */
  verifyDocument: (file: Blob, ofd: boolean) =>
    sendFile<AnyVerificationReport>('/api/v1/verifications', file, ofd ? 'application/ofd' : 'application/pdf'),
  /** One page of an OFD, drawn by the server (PNG). */
  documentPageImage: (sha256: string, page: number, signal?: AbortSignal) =>
    blob(
      client.GET('/api/v1/documents/{sha256}/pages/{page}/image', {
        params: { path: { sha256, page }, query: { format: 'png' } },
        parseAs: 'blob',
        signal,
      }),
    ),
  /** Issues the seal's .esl (GB/T 38540), or answers with the one in force. */
  issueSealEsl: (sealId: string) => answer(client.POST('/api/v1/seals/{sealId}/esl', { params: { path: { sealId } } })),
  sealEsl: (sealId: string, signal?: AbortSignal) =>
    blob(client.GET('/api/v1/seals/{sealId}/esl', { params: { path: { sealId } }, parseAs: 'blob', signal })),
  sealCertificate: (sealId: string, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/seals/{sealId}/certificate', { params: { path: { sealId } }, signal })),
  issueSealCertificate: (sealId: string) =>
    answer(client.POST('/api/v1/seals/{sealId}/certificate', { params: { path: { sealId } }, body: {} })),

  contracts: (query: QueryOf<'/api/v1/contracts', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/contracts', { params: { query }, signal })),
  // openapi-fetch widens the fields' rect tuples to arrays; the document declares [x, y, width, height].
  contract: (id: string, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/contracts/{id}', { params: { path: { id } }, signal })) as Promise<Contract>,
  createContract: (body: ContractDraft) => answer(client.POST('/api/v1/contracts', { body })) as Promise<Contract>,
  /** The first step opens; the answer carries each outside signer's link (shown once, to pass on by hand too). */
  sendContract: (id: string) =>
    answer(client.POST('/api/v1/contracts/{id}/send', { params: { path: { id } } })) as Promise<{
      contract: Contract;
      invitations: ContractInvitation[];
    }>,
  signContract: (id: string, body: ContractSignBody) =>
    answer(client.POST('/api/v1/contracts/{id}/sign', { params: { path: { id } }, body })) as Promise<Contract>,
  approveContract: (id: string) =>
    answer(client.POST('/api/v1/contracts/{id}/approve', { params: { path: { id } } })) as Promise<Contract>,
  rejectContract: (id: string, body: BodyOf<'/api/v1/contracts/{id}/reject', 'post'>) =>
    answer(client.POST('/api/v1/contracts/{id}/reject', { params: { path: { id } }, body })) as Promise<Contract>,
  voidContract: (id: string, body: BodyOf<'/api/v1/contracts/{id}/void', 'post'>) =>
    answer(client.POST('/api/v1/contracts/{id}/void', { params: { path: { id } }, body })) as Promise<Contract>,
  /** 催签: at most once an hour (rate_limited names the seconds to wait). */
  remindContract: (id: string) => answer(client.POST('/api/v1/contracts/{id}/reminders', { params: { path: { id } } })),
  /** The contract's current PDF, with every signature so far (GET /contracts/{id}/document). */
  contractDocument: (id: string, signal?: AbortSignal) =>
    getFile(`/api/v1/contracts/${encodeURIComponent(id)}/document`, signal),
  /** The contract's attachments. */
  contractAttachments: (id: string, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/contracts/{id}/attachments', { params: { path: { id } }, signal })),
  contractAttachment: (id: string, attachmentId: string) =>
    getFile(`/api/v1/contracts/${encodeURIComponent(id)}/attachments/${encodeURIComponent(attachmentId)}`),
  /** Attaches a PDF, PNG or JPEG to a draft (the server reads its type from the bytes). */
  attachToContract: (id: string, file: File) =>
    sendFile<ContractAttachment>(
      `/api/v1/contracts/${encodeURIComponent(id)}/attachments?name=${encodeURIComponent(file.name)}`,
      file,
      file.type || 'application/octet-stream',
    ),
  /** 作废协议: voids a completed contract once the same parties sign it; sent at once. */
  startVoidAgreement: (id: string, body: { reason: string }) =>
    answer(client.POST('/api/v1/contracts/{id}/void-agreement', { params: { path: { id } }, body })) as Promise<{
      contract: Contract;
      invitations: ContractInvitation[];
    }>,
  /** The evidence package (zip) of a sent contract: a draft has none (contract_state). */
  contractEvidence: (id: string) =>
    blob(client.GET('/api/v1/contracts/{id}/evidence', { params: { path: { id } }, parseAs: 'blob' })),

  devices: (query: QueryOf<'/api/v1/devices', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/devices', { params: { query }, signal })),
  device: (deviceId: string, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/devices/{deviceId}', { params: { path: { deviceId } }, signal })),
  registerDevice: (body: BodyOf<'/api/v1/devices', 'post'>) => answer(client.POST('/api/v1/devices', { body })),
  /** Locks the device from afar (or releases it): the next relay or sync carries the directive to it. */
  lockDevice: (deviceId: string, locked: boolean) =>
    answer(client.POST('/api/v1/devices/{deviceId}/lock', { params: { path: { deviceId } }, body: { locked } })),
  deviceEvents: (deviceId: string, query: QueryOf<'/api/v1/devices/{deviceId}/events', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/devices/{deviceId}/events', { params: { path: { deviceId }, query }, signal })),
  deviceFindings: (query: QueryOf<'/api/v1/device-findings', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/device-findings', { params: { query }, signal })),
  /** The signed ticket of my approved physical-seal authorization: asked again, the same bytes. */
  deviceTicket: (body: BodyOf<'/api/v1/device-tickets', 'post'>) =>
    answer(client.POST('/api/v1/device-tickets', { body })),
  /** A batch of a device's signed events (idempotent per device and sequence), answered with a directive. */
  syncDevice: (body: BodyOf<'/api/v1/device-sync', 'post'>) => answer(client.POST('/api/v1/device-sync', { body })),
  /** A photo of stamped paper, as its own bytes; stored once by SHA-256 (`stored: false` when it was there). */
  uploadDevicePhoto: (deviceId: string, photo: Blob, mediaType: string) =>
    sendFile<{ sha256: string; mediaType: string; size: number; stored: boolean }>(
      `/api/v1/devices/${encodeURIComponent(deviceId)}/photos`,
      photo,
      mediaType,
    ),
  devicePhoto: (deviceId: string, sha256: string, signal?: AbortSignal) =>
    blob(
      client.GET('/api/v1/devices/{deviceId}/photos/{sha256}', {
        params: { path: { deviceId, sha256 } },
        parseAs: 'blob',
        signal,
      }),
    ),
  applicationDeviceRecords: (applicationId: string, signal?: AbortSignal) =>
    answer(
      client.GET('/api/v1/applications/{applicationId}/device-records', {
        params: { path: { applicationId } },
        signal,
      }),
    ) as Promise<ApplicationDeviceRecords>,
  sealUsage: (query: SealUsageQuery, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/seal-usage', { params: { query }, signal })),
  /**
   * A usage report (CSV, XLSX or PDF) from GET /seal-usage/reports: not in the generated types yet,
   * fetched with the session like any file.
   */
  sealUsageReport: (url: string) => getFile(url, undefined, '*/*'),
  correctUsageRecord: (recordId: string, body: BodyOf<'/api/v1/seal-usage/records/{recordId}/corrections', 'post'>) =>
    answer(client.POST('/api/v1/seal-usage/records/{recordId}/corrections', { params: { path: { recordId } }, body })),
  usageReviews: (query: QueryOf<'/api/v1/seal-usage/reviews', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/seal-usage/reviews', { params: { query }, signal })),
  usageReview: (reviewId: string, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/seal-usage/reviews/{reviewId}', { params: { path: { reviewId } }, signal })),
  startUsageReview: (body: BodyOf<'/api/v1/seal-usage/reviews', 'post'>) =>
    answer(client.POST('/api/v1/seal-usage/reviews', { body })),
  decideUsageReviewItem: (
    reviewId: string,
    position: number,
    body: BodyOf<'/api/v1/seal-usage/reviews/{reviewId}/items/{position}/decision', 'post'>,
  ) =>
    answer(
      client.POST('/api/v1/seal-usage/reviews/{reviewId}/items/{position}/decision', {
        params: { path: { reviewId, position } },
        body,
      }),
    ),
  /** A register (CSV, UTF-8) checked against usage records: the file itself is the body. */
  checkUsageRegister: (query: SealUsageRegisterQuery, file: Blob) =>
    sendFile<SealUsageRegisterCheck>(
      `/api/v1/seal-usage/register-checks?${serializeQuery(query as Record<string, unknown>)}`,
      file,
      'text/csv',
    ),

  notifications: (query: QueryOf<'/api/v1/notifications', 'get'>, signal?: AbortSignal) =>
    answer(client.GET('/api/v1/notifications', { params: { query }, signal })),
  unreadCount: (signal?: AbortSignal) => answer(client.GET('/api/v1/notifications/unread-count', { signal })),
  readNotification: (notificationId: string) =>
    answer(client.POST('/api/v1/notifications/{notificationId}/read', { params: { path: { notificationId } } })),
  readAllNotifications: () => answer(client.POST('/api/v1/notifications/read-all')),
};

/**
 * A fresh idempotency key. `crypto.randomUUID` exists only in secure contexts (a console
 * served over plain http on a LAN address is not one); `getRandomValues` works everywhere.
 */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
