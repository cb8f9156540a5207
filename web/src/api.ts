/**
 * Typed client for Sigil's HTTP API (/api/v1). Shapes mirror the server's response
 * schemas (src/modules/*\/*.schema.ts); dates arrive as ISO 8601 strings.
 */

export type Locale = 'zh-CN' | 'en';
export type Role = 'system_admin' | 'seal_admin' | 'security_auditor' | 'employee';
export type UserStatus = 'active' | 'suspended' | 'resigned';
export type CompanyStatus = 'active' | 'closed';
export type Permission =
  | 'org.read'
  | 'org.write'
  | 'roles.assign'
  | 'api_keys.manage'
  | 'audit.read'
  | 'settings.write'
  | 'seals.read'
  | 'seals.manage'
  | 'seals.grant'
  | 'flows.manage';

export const ROLES: readonly Role[] = ['system_admin', 'seal_admin', 'security_auditor', 'employee'];
export const USER_STATUSES: readonly UserStatus[] = ['active', 'suspended', 'resigned'];
export const PERMISSIONS: readonly Permission[] = [
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
];

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
  /** The password was chosen by someone else: it must be changed before anything else is answered. */
  passwordChangeRequired: boolean;
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
  /** Null for the moment until the sealer links the event into the chain. */
  hash: string | null;
}

export interface ChainVerification {
  intact: boolean;
  checked: number;
  headSeq: number;
  firstProblem: {
    kind:
      | 'altered'
      | 'inserted'
      | 'missing'
      | 'tree_altered'
      | 'truncated'
      | 'rewritten'
      | 'forked'
      | 'checkpoint_forged'
      | 'checkpoint_missing';
    seq: number;
    eventId: string | null;
    detail: string;
  } | null;
  /** The newest signed checkpoint the log matches; places after it are not yet covered by one. */
  checkpoint: { treeSize: number; rootHash: string; signedAt: string; keyId: string } | null;
  checkpointsChecked: number;
  signing: { outcome: 'signed' | 'current' | 'refused' | 'unavailable'; detail: string | null };
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

/* ---------- Seals ---------- */

export type SealKind = 'electronic' | 'physical' | 'ukey' | 'mobile';
export type SealType = 'official' | 'contract' | 'finance' | 'invoice' | 'hr' | 'legal_representative' | 'custom';
export type SealStatus = 'pending' | 'active' | 'suspended' | 'lost' | 'destroyed';

export const SEAL_KINDS: readonly SealKind[] = ['electronic', 'physical', 'ukey', 'mobile'];
export const SEAL_TYPES: readonly SealType[] = [
  'official',
  'contract',
  'finance',
  'invoice',
  'hr',
  'legal_representative',
  'custom',
];
export const SEAL_STATUSES: readonly SealStatus[] = ['pending', 'active', 'suspended', 'lost', 'destroyed'];

/** Business categories a grant and an application name: the five standard ones, or `custom:<name>`. */
export const STANDARD_CATEGORIES = ['personnel', 'procurement', 'sales', 'legal', 'finance'] as const;

export interface Seal {
  id: string;
  companyId: string;
  companyName: string;
  code: string;
  name: string;
  kind: SealKind;
  type: SealType;
  customType: string | null;
  status: SealStatus;
  imageSha256: string | null;
  description: string | null;
  needsCustodian: boolean;
  producedAt: string | null;
  statusChangedAt: string | null;
  createdAt: string;
  custodians: Array<{ userId: string; name: string }>;
  activeGrants: number;
}

export interface SealGrant {
  id: string;
  sealId: string;
  granteeType: 'user' | 'department' | 'role';
  granteeUserId: string | null;
  granteeDepartmentId: string | null;
  granteeRole: string | null;
  granteeCompanyId: string | null;
  granteeName: string | null;
  categories: string[];
  validFrom: string;
  validUntil: string | null;
  maxUses: number | null;
  usedCount: number;
  createdBy: string | null;
  createdAt: string;
  revokedAt: string | null;
  revokeReason: string | null;
}

export interface SealCard {
  seal: Seal;
  grants: SealGrant[];
  history: Array<{
    seq: number;
    occurredAt: string;
    action: string;
    actorName: string | null;
    changes: Record<string, unknown>;
  }>;
}

/** A seal the signed-in person may use now, with the grant that allows it (GET /me/seals). */
export interface MySeal {
  id: string;
  name: string;
  code: string;
  kind: SealKind;
  type: SealType;
  companyId: string;
  companyName: string;
  grant: { id: string; categories: string[]; validUntil: string | null; remainingUses: number | null };
}

/* ---------- Seal images, lifecycle, reports ---------- */

export type SealShape = 'round' | 'oval' | 'square';
export const SEAL_SHAPES: readonly SealShape[] = ['round', 'oval', 'square'];

/** What the designer draws (POST /seal-images/preview and /generate). */
export interface SealImageSpec {
  shape: SealShape;
  /** Round and oval: the company name along the upper arc. */
  company?: string;
  /** Round and oval: the seal type written across (合同专用章). */
  type?: string;
  /** Round: along the lower arc; oval: the middle line. */
  code?: string;
  /** Square: the person's name. */
  name?: string;
  format?: 'png' | 'svg';
}

export interface StoredSealImage {
  sha256: string;
  mediaType: 'image/png' | 'image/svg+xml';
  size: number;
  width: number;
  height: number;
}

export type LifecycleAction = 'produce' | 'change' | 'transfer' | 'suspend' | 'resume' | 'report_loss' | 'destroy';
export type LifecycleStep = Exclude<LifecycleAction, 'produce'>;
export const LIFECYCLE_STEPS: readonly LifecycleStep[] = [
  'change',
  'transfer',
  'suspend',
  'resume',
  'report_loss',
  'destroy',
];
/** The states each step starts from (the server's lifecycleMoves); destruction is final. */
export const LIFECYCLE_FROM: Record<LifecycleStep, readonly SealStatus[]> = {
  change: ['active', 'suspended'],
  transfer: ['active', 'suspended'],
  suspend: ['active'],
  resume: ['suspended'],
  report_loss: ['active', 'suspended'],
  destroy: ['active', 'suspended', 'lost'],
};

export interface ProductionDraft {
  companyId: string;
  name: string;
  code: string;
  kind: SealKind;
  type: SealType;
  customType?: string;
  description?: string;
  custodianIds: string[];
  imageSha256?: string;
  reason: string;
}

export interface LifecycleDraft {
  action: LifecycleStep;
  reason: string;
  name?: string;
  description?: string;
  custodianIds?: string[];
  /** transfer: the company the seal moves to. */
  companyId?: string;
  /** change: the new impression, stored first (POST /seal-images or /seal-images/generate). */
  imageSha256?: string;
}

export type GranteeSpec =
  | { type: 'user'; userId: string }
  | { type: 'department'; departmentId: string }
  | { type: 'role'; role: Role; companyId: string };

export interface GrantDraft {
  grantee: GranteeSpec;
  categories: string[];
  validFrom?: string;
  validUntil?: string;
  maxUses?: number;
}

export type ReportFlag =
  | 'overlapping'
  | 'single_user'
  | 'beyond_company'
  | 'beyond_function'
  | 'expired'
  | 'inactive_grantee'
  | 'custodian_user';
export const REPORT_FLAGS: readonly ReportFlag[] = [
  'overlapping',
  'single_user',
  'beyond_company',
  'beyond_function',
  'expired',
  'inactive_grantee',
  'custodian_user',
];

export interface PermissionReportRow {
  sealId: string;
  sealName: string;
  sealCode: string;
  sealType: string;
  sealStatus: string;
  companyName: string;
  grantId: string | null;
  granteeType: string | null;
  granteeName: string | null;
  categories: string[];
  validUntil: string | null;
  remainingUses: number | null;
  personId: string | null;
  personName: string | null;
  personStatus: string | null;
  flags: ReportFlag[];
}

export interface PermissionReport {
  generatedAt: string;
  summary: Record<ReportFlag, number>;
  rows: PermissionReportRow[];
}

export interface PermissionReportQuery {
  under?: string;
  sealId?: string;
  userId?: string;
  flag?: ReportFlag;
}

/* ---------- Approvals ---------- */

export interface Person {
  id: string;
  name: string;
}

export type ApprovalMode = 'any' | 'all';
export type FlowPurpose = 'seal_use' | 'lifecycle';

export interface PlannedLevel {
  name: string;
  mode: ApprovalMode;
  approvers: Person[];
  remindAfterHours: number | null;
  escalateAfterHours: number | null;
}

/** The approvers and CC an application gets, resolved from its flow. */
export interface Plan {
  flowId: string;
  flowName: string;
  flowVersion: number;
  levels: PlannedLevel[];
  cc: Person[];
  /** The flow let one person decide several levels; otherwise each person decides at most one. */
  allowSameApproverAcrossLevels: boolean;
}

export type ApplicationStatus = 'pending' | 'approved' | 'rejected' | 'withdrawn' | 'closed';
export type TaskStatus = 'pending' | 'approved' | 'rejected' | 'transferred' | 'cancelled';
export const APPLICATION_STATUSES: readonly ApplicationStatus[] = [
  'pending',
  'approved',
  'rejected',
  'withdrawn',
  'closed',
];

export interface ApprovalTask {
  id: string;
  applicationId: string;
  level: number;
  assigneeId: string;
  assigneeName: string;
  onBehalfOf: string | null;
  onBehalfOfName: string | null;
  via: 'delegation' | 'transfer' | 'escalation' | null;
  status: TaskStatus;
  comment: string | null;
  createdAt: string;
  decidedAt: string | null;
}

/** The separation-of-duties matrix in force, and a proposed change waiting for a security auditor. */
export interface SodSettings {
  pairs: Array<[Role, Role]>;
  pending: {
    applicationId: string;
    pairs: Array<[Role, Role]>;
    proposedBy: Person;
    proposedAt: string;
    reason: string;
  } | null;
}

export interface ApplicationSummary {
  id: string;
  companyId: string;
  applicantId: string;
  applicantName: string;
  purpose: 'seal_use' | 'lifecycle' | 'sod_change';
  category: string | null;
  lifecycleAction: LifecycleAction | null;
  payload: Record<string, unknown>;
  reason: string;
  uses: number;
  photosPerUse: number;
  flowVersionId: string;
  currentLevel: number;
  status: ApplicationStatus;
  /** closed: why (its seal was suspended, reported lost or destroyed while it waited). */
  closedReason: string | null;
  createdAt: string;
  decidedAt: string | null;
  /** The seals it is about; a seal still to be made is named by its production application. */
  sealNames: string[];
}

export interface Authorization {
  id: string;
  sealId: string;
  holderId: string;
  kind: 'documents' | 'ticket';
  usesTotal: number;
  usesConsumed: number;
  createdAt: string;
  revokedAt: string | null;
}

export interface Application extends ApplicationSummary {
  plan: Plan;
  seals: Array<{
    id: string;
    name: string;
    code: string;
    kind: string;
    type: string;
    status: string;
    companyId: string;
  }>;
  tasks: ApprovalTask[];
  cc: Person[];
  authorizations: Authorization[];
  documents: Array<DocumentRef & { mediaType: string }>;
}

/** A task in my inbox, with the headline of its application. */
export interface InboxTask extends ApprovalTask {
  reason: string;
  category: string | null;
  uses: number;
  purpose: string;
  applicationStatus: string;
  applicantName: string;
  submittedAt: string;
  sealNames: string[];
}

export interface DocumentRef {
  sha256: string;
  name: string;
  size: number;
}

export interface SealUseDraft {
  documents?: Array<{ sha256: string; name: string }>;
  sealIds: string[];
  category: string;
  reason: string;
  uses: number;
  photosPerUse: number;
}

export type ApproverSpec =
  | { type: 'user'; userId: string }
  | { type: 'role'; role: Role; companyId: string }
  | { type: 'department_head' }
  | { type: 'custodian' };

export interface LevelCondition {
  minUses?: number;
  sealTypes?: SealType[];
  sealKinds?: SealKind[];
}

export interface LevelSpec {
  name: string;
  mode: ApprovalMode;
  approvers: ApproverSpec[];
  condition?: LevelCondition;
  remindAfterHours?: number;
  escalateAfterHours?: number;
}

export interface FlowDefinition {
  levels: LevelSpec[];
  cc: ApproverSpec[];
  /** One person may decide several levels of an application; by default each decides at most one. */
  allowSameApproverAcrossLevels?: boolean;
}

export interface Flow {
  id: string;
  companyId: string;
  purpose: FlowPurpose;
  category: string | null;
  sealId: string | null;
  name: string;
  version: number;
  status: 'active' | 'archived';
  definition: FlowDefinition;
  createdAt: string;
}

export interface Delegation {
  id: string;
  delegateId: string;
  delegateName: string;
  startsAt: string;
  endsAt: string;
  revokedAt: string | null;
  createdAt: string;
}

/* ---------- Signing, verification, certificates ---------- */

/** PAdES baseline levels: B-T and above carry a trusted time-stamp. */
export type PadesLevel = 'B-B' | 'B-T' | 'B-LT' | 'B-LTA';
export const PADES_LEVELS: readonly PadesLevel[] = ['B-B', 'B-T', 'B-LT', 'B-LTA'];

/** Where a visible seal goes: a rectangle `[x, y, width, height]` in PDF points from the page's bottom-left, or over a keyword. */
export type Placement =
  | { type: 'rect'; page: number; rect: [number, number, number, number] }
  | { type: 'keyword'; keyword: string; page?: number; offset?: [number, number]; size?: [number, number] };

/** POST /signatures: under an approved authorization, or a grant for a category (then `sealId` and `category`). */
export interface SignDraft {
  documentSha256: string;
  sealId?: string;
  authorizationId?: string;
  category?: string;
  level: PadesLevel;
  appearance?: Placement;
  crossPage?: { pages?: number[]; width?: number };
  reason?: string;
}

/** A signature the platform made (who, with which seal and certificate, over which file). */
export interface SignatureRecord {
  id: string;
  companyId: string;
  userId: string;
  userName: string;
  sealId: string | null;
  sealName: string | null;
  certificateId: string;
  certificateSerial: string;
  authorizationId: string | null;
  grantId: string | null;
  category: string | null;
  level: PadesLevel;
  fieldName: string;
  reason: string | null;
  documentName: string | null;
  inputSha256: string;
  outputSha256: string;
  originalSha256: string;
  signedAt: string;
}

/** One signature of a verified PDF, as the verifier saw it. */
export interface SignatureCheck {
  index: number;
  fieldName: string;
  kind: 'signature' | 'document-timestamp';
  subFilter: string | null;
  valid: boolean;
  /** unknown-signer: intact, but the signer does not chain to a trusted root. */
  status: 'valid' | 'unknown-signer' | 'invalid';
  signer: { commonName: string | null; subject: string; issuer: string; serialNumber: string } | null;
  signedAt: string | null;
  claimedSigningTime: string | null;
  timestamped: boolean;
  timestampValid: boolean | null;
  timestampTrusted: boolean | null;
  coversWholeDocument: boolean;
  modifiedAfter: 'none' | 'signatures-and-validation-data' | 'altered';
  changesAfter: string[];
  digestMatches: boolean;
  signatureVerified: boolean;
  chainTrusted: boolean;
  chain: string[];
  certificateValidAtSigningTime: boolean;
  revoked: boolean;
  revocation: 'good' | 'revoked' | 'unknown';
  level: PadesLevel | null;
  byteRange: number[];
  /** The impressions the signature shows; `png` (base64) for the first few. */
  seals?: Array<{ page: number; rect: number[]; width: number; height: number; png?: string }>;
  problems: string[];
}

export interface ArchiveLookup {
  sha256: string;
  found: boolean;
  signatures: SignatureRecord[];
}

export interface VerificationReport {
  intact: boolean;
  verdict: 'valid' | 'unknown-signer' | 'invalid' | 'unsigned';
  sha256: string;
  revisions: number;
  signatures: SignatureCheck[];
  archive: ArchiveLookup;
}

export interface PageBox {
  /** [x, y, width, height] in points: the space of a placement's rect. */
  box: [number, number, number, number];
  rotate: number;
}

export interface DocumentPages {
  sha256: string;
  count: number;
  pages: PageBox[];
  last: PageBox;
}

export interface Certificate {
  id: string;
  purpose: 'root_ca' | 'issuing_ca' | 'tsa' | 'seal' | 'person';
  source: 'issued' | 'imported';
  serialNumber: string;
  subject: string;
  issuer: string;
  keySpec: string;
  keyStore: 'database' | 'pkcs11';
  fingerprint: string;
  notBefore: string;
  notAfter: string;
  status: 'active' | 'revoked';
  revokedAt: string | null;
  revocationReason: string | null;
  crlUrl: string | null;
  certificatePem: string;
  chainPem: string[];
}

/* ---------- Notifications ---------- */

export interface AppNotification {
  id: string;
  kind: string;
  title: string;
  body: string;
  /** A console path, e.g. `/applications/<id>`. */
  link: string | null;
  data: Record<string, unknown>;
  read: boolean;
  readAt: string | null;
  createdAt: string;
}

export type SignInResult =
  | { status: 'signed_in'; token: string; expiresAt: string; userId: string; passwordChangeRequired: boolean }
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

async function request<T>(
  method: string,
  path: string,
  options: { query?: Query; body?: unknown; signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<T> {
  const token = tokenStore.get();
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
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
        : {
            status: response.status,
            code: response.status >= 500 ? 'internal_error' : 'unknown_error',
            detail: response.statusText || `HTTP ${response.status}`,
          };
    if (response.status === 401 && token) onUnauthorized();
    throw new ApiError(problem);
  }
  return parsed as T;
}

const get = <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal });
const post = <T>(path: string, body: unknown = {}, headers?: Record<string, string>) =>
  request<T>('POST', path, { body, ...(headers ? { headers } : {}) });
const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, { body });
const put = <T>(path: string, body: unknown) => request<T>('PUT', path, { body });
const del = <T>(path: string) => request<T>('DELETE', path);

/** Uploads a PDF to stamp: the file itself is the body, so it does not go through `request`. */
async function uploadDocument(file: File): Promise<DocumentRef> {
  const token = tokenStore.get();
  const response = await fetch(`/api/v1/documents/uploads?name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      'content-type': file.type || 'application/pdf',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: file,
  });
  const parsed = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) {
    const problem: Problem =
      parsed && typeof parsed === 'object' && 'code' in parsed
        ? (parsed as Problem)
        : { status: response.status, code: 'unknown_error', detail: response.statusText || `HTTP ${response.status}` };
    if (response.status === 401 && token) onUnauthorized();
    throw new ApiError(problem);
  }
  return parsed as DocumentRef;
}

async function downloadDocument(applicationId: string, sha256: string): Promise<Blob> {
  const token = tokenStore.get();
  const response = await fetch(`/api/v1/applications/${applicationId}/documents/${sha256}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (!response.ok)
    throw new ApiError({
      status: response.status,
      code: 'unknown_error',
      detail: response.statusText || `HTTP ${response.status}`,
    });
  return response.blob();
}

/** Sends a file as the raw request body (a PDF to verify) and reads the JSON answer. */
async function postFile<T>(path: string, file: Blob, contentType: string): Promise<T> {
  const token = tokenStore.get();
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        'content-type': contentType,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: file,
    });
  } catch {
    throw new ApiError({ status: 0, code: 'network_error', detail: 'The server could not be reached.' });
  }
  const parsed = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) {
    const problem: Problem =
      parsed && typeof parsed === 'object' && 'code' in parsed
        ? (parsed as Problem)
        : {
            status: response.status,
            code: response.status >= 500 ? 'internal_error' : 'unknown_error',
            detail: response.statusText || `HTTP ${response.status}`,
          };
    if (response.status === 401 && token) onUnauthorized();
    throw new ApiError(problem);
  }
  return parsed as T;
}

/**
 * A request whose answer is a file (a seal image, a CSV): the session token goes in the
 * header, so images and downloads cannot be plain links; problems still arrive as JSON.
 */
async function requestBinary(
  method: string,
  path: string,
  options: { query?: Query; json?: unknown; signal?: AbortSignal } = {},
): Promise<Blob> {
  const token = tokenStore.get();
  const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}) };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  let response: Response;
  try {
    response = await fetch(`/api/v1${withQuery(path, options.query)}`, {
      method,
      headers,
      body,
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError({ status: 0, code: 'network_error', detail: 'The server could not be reached.' });
  }
  if (!response.ok) {
    const parsed = (await response.json().catch(() => undefined)) as unknown;
    const problem: Problem =
      parsed && typeof parsed === 'object' && 'code' in parsed
        ? (parsed as Problem)
        : {
            status: response.status,
            code: response.status >= 500 ? 'internal_error' : 'unknown_error',
            detail: response.statusText || `HTTP ${response.status}`,
          };
    if (response.status === 401 && token) onUnauthorized();
    throw new ApiError(problem);
  }
  return response.blob();
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
  return post<StoredSealImage>('/seal-images', { dataBase64: btoa(binary), mediaType, fileName: file.name });
}

export const api = {
  uploadDocument,
  downloadDocument,
  signIn: (body: { email: string; password: string }) => post<SignInResult>('/auth/sign-in', body),
  totp: (body: { challengeToken: string; code: string }) => post<SignInResult>('/auth/totp', body),
  signOut: () => post<{ ok: true }>('/auth/sign-out'),

  me: (signal?: AbortSignal) => get<Me>('/me', undefined, signal),
  changePassword: (body: { currentPassword: string; newPassword: string }) => post<{ ok: true }>('/me/password', body),
  updateMe: (body: { locale?: Locale }) => patch<User>('/me', body),

  companies: (
    query: { parentId?: string; under?: string; q?: string; limit?: number; cursor?: string },
    signal?: AbortSignal,
  ) => get<Page<Company>>('/companies', query, signal),
  createCompany: (body: { parentId: string; name: string; code: string }) => post<Company>('/companies', body),
  updateCompany: (id: string, body: { name?: string; code?: string; status?: CompanyStatus; parentId?: string }) =>
    patch<Company>(`/companies/${id}`, body),

  departments: (query: { companyId?: string }, signal?: AbortSignal) =>
    get<{ items: Department[] }>('/departments', query, signal),
  createDepartment: (body: { companyId: string; name: string; headUserId?: string | null }) =>
    post<Department>('/departments', body),
  updateDepartment: (id: string, body: { name?: string; headUserId?: string | null }) =>
    patch<Department>(`/departments/${id}`, body),

  users: (
    query: {
      companyId?: string;
      under?: string;
      departmentId?: string;
      status?: UserStatus;
      q?: string;
      limit?: number;
      cursor?: string;
    },
    signal?: AbortSignal,
  ) => get<Page<User>>('/users', query, signal),
  user: (id: string, signal?: AbortSignal) => get<UserDetail>(`/users/${id}`, undefined, signal),
  createUser: (body: {
    email: string;
    name: string;
    companyId: string;
    departmentId?: string | null;
    phone?: string | null;
    locale?: Locale;
    password: string;
  }) => post<UserDetail>('/users', body),
  updateUser: (
    id: string,
    body: { name?: string; companyId?: string; departmentId?: string | null; phone?: string | null; locale?: Locale },
  ) => patch<UserDetail>(`/users/${id}`, body),
  setUserStatus: (id: string, body: { status: UserStatus; reason?: string }) =>
    post<UserDetail>(`/users/${id}/status`, body),
  resetPassword: (id: string, password: string) => post<{ ok: true }>(`/users/${id}/password`, { password }),
  unlockUser: (id: string) => post<UserDetail>(`/users/${id}/unlock`),
  addPost: (id: string, body: { companyId: string; departmentId?: string | null; title: string }) =>
    post<UserDetail>(`/users/${id}/posts`, body),
  removePost: (id: string, postId: string) => del<UserDetail>(`/users/${id}/posts/${postId}`),

  roleAssignments: (query: { userId?: string; companyId?: string; role?: Role }, signal?: AbortSignal) =>
    get<{ items: RoleAssignment[] }>('/role-assignments', query, signal),
  assignRole: (body: { userId: string; role: Role; companyId: string }) =>
    post<RoleAssignment>('/role-assignments', body),
  revokeRole: (id: string) => del<{ ok: true }>(`/role-assignments/${id}`),
  sod: (signal?: AbortSignal) => get<SodSettings>('/settings/separation-of-duties', undefined, signal),
  /** A new matrix, in force only once a security auditor of the head company approves the application it makes. */
  proposeSod: (body: { pairs: Array<[Role, Role]>; reason: string }) =>
    post<Application>('/settings/separation-of-duties/proposals', body),

  auditEvents: (
    query: {
      actionPrefix?: string;
      action?: string;
      actorId?: string;
      targetId?: string;
      from?: string;
      to?: string;
      beforeSeq?: number;
      limit?: number;
    },
    signal?: AbortSignal,
  ) => get<{ items: AuditEvent[]; nextBeforeSeq: number | null }>('/audit-events', query, signal),
  verifyAudit: () => get<ChainVerification>('/audit-events/verify'),

  apiKeys: (signal?: AbortSignal) => get<{ items: ApiKey[] }>('/api-keys', undefined, signal),
  createApiKey: (body: { name: string; companyId: string; permissions: Permission[]; expiresAt?: string }) =>
    post<{ key: ApiKey; secret: string }>('/api-keys', body),
  revokeApiKey: (id: string) => del<{ ok: true }>(`/api-keys/${id}`),

  seals: (
    query: {
      companyId?: string;
      under?: string;
      kind?: SealKind;
      type?: SealType;
      status?: SealStatus;
      custodianId?: string;
      q?: string;
      limit?: number;
      cursor?: string;
    },
    signal?: AbortSignal,
  ) => get<Page<Seal>>('/seals', query, signal),
  sealCard: (id: string, signal?: AbortSignal) => get<SealCard>(`/seals/${id}`, undefined, signal),
  mySeals: (query: { category?: string }, signal?: AbortSignal) => get<{ items: MySeal[] }>('/me/seals', query, signal),
  createGrant: (sealId: string, body: GrantDraft) => post<SealGrant>(`/seals/${sealId}/grants`, body),
  revokeGrant: (sealId: string, grantId: string, body: { reason?: string }) =>
    post<SealGrant>(`/seals/${sealId}/grants/${grantId}/revoke`, body),

  /** The designer's live preview: a PNG drawn from the fields, not stored. */
  previewSealImage: (spec: SealImageSpec, signal?: AbortSignal) =>
    requestBinary('POST', '/seal-images/preview', { json: spec, ...(signal ? { signal } : {}) }),
  generateSealImage: (spec: SealImageSpec) => post<StoredSealImage>('/seal-images/generate', spec),
  uploadSealImage,
  sealImage: (sha256: string, signal?: AbortSignal) =>
    requestBinary('GET', `/seal-images/${sha256}`, signal ? { signal } : {}),
  /** `idempotencyKey`: one per form, so a double tap or a retry creates one application. */
  applyForProduction: (body: ProductionDraft, idempotencyKey: string) =>
    post<Application>('/seals/production-applications', body, { 'idempotency-key': idempotencyKey }),
  applyForLifecycleStep: (sealId: string, body: LifecycleDraft, idempotencyKey: string) =>
    post<Application>(`/seals/${sealId}/lifecycle-applications`, body, { 'idempotency-key': idempotencyKey }),
  /** Who would approve a production: the company and the custodians decide it. */
  previewProduction: (body: { companyId: string; custodianIds: string[] }, signal?: AbortSignal) =>
    request<Plan>('POST', '/seals/production-applications/preview', { body, ...(signal ? { signal } : {}) }),
  /** Who would approve a lifecycle step (the reason may still be empty). */
  previewLifecycleStep: (
    sealId: string,
    body: Omit<LifecycleDraft, 'reason'> & { reason?: string },
    signal?: AbortSignal,
  ) =>
    request<Plan>('POST', `/seals/${sealId}/lifecycle-applications/preview`, { body, ...(signal ? { signal } : {}) }),

  permissionReport: (query: PermissionReportQuery, signal?: AbortSignal) =>
    get<PermissionReport>('/reports/seal-permissions', { ...query }, signal),
  permissionReportCsv: (query: PermissionReportQuery) =>
    requestBinary('GET', '/reports/seal-permissions', { query: { ...query, format: 'csv' } }),

  previewApplication: (body: SealUseDraft, signal?: AbortSignal) =>
    request<Plan>('POST', '/applications/preview', { body, ...(signal ? { signal } : {}) }),
  /** `idempotencyKey`: one per form, so a double tap or a retry creates one application. */
  submitApplication: (body: SealUseDraft, idempotencyKey: string) =>
    post<Application>('/applications', body, { 'idempotency-key': idempotencyKey }),
  applications: (query: { status?: ApplicationStatus; limit?: number }, signal?: AbortSignal) =>
    get<{ items: ApplicationSummary[] }>('/applications', query, signal),
  application: (id: string, signal?: AbortSignal) => get<Application>(`/applications/${id}`, undefined, signal),
  withdrawApplication: (id: string) => post<Application>(`/applications/${id}/withdraw`),

  tasks: (query: { status?: TaskStatus; limit?: number }, signal?: AbortSignal) =>
    get<{ items: InboxTask[] }>('/tasks', query, signal),
  approveTask: (id: string, body: { comment?: string }) => post<Application>(`/tasks/${id}/approve`, body),
  rejectTask: (id: string, body: { reason: string }) => post<Application>(`/tasks/${id}/reject`, body),
  transferTask: (id: string, body: { toUserId: string; comment?: string }) =>
    post<Application>(`/tasks/${id}/transfer`, body),
  /** Who the holder of a task may transfer it to (only people who may take it), by name or e-mail. */
  transferCandidates: (id: string, query: { q?: string; limit?: number }, signal?: AbortSignal) =>
    get<{ items: Array<Person & { companyId: string; companyName: string }> }>(
      `/tasks/${id}/transfer-candidates`,
      query,
      signal,
    ),

  flows: (query: { companyId?: string; includeArchived?: boolean }, signal?: AbortSignal) =>
    get<{ items: Flow[] }>('/flows', query, signal),
  flow: (id: string, signal?: AbortSignal) => get<Flow>(`/flows/${id}`, undefined, signal),
  createFlow: (body: {
    companyId: string;
    purpose: FlowPurpose;
    category?: string;
    sealId?: string;
    name: string;
    definition: FlowDefinition;
  }) => post<Flow>('/flows', body),
  updateFlow: (id: string, body: { name?: string; definition: FlowDefinition }) => put<Flow>(`/flows/${id}`, body),
  archiveFlow: (id: string) => post<Flow>(`/flows/${id}/archive`),

  delegations: (signal?: AbortSignal) => get<{ items: Delegation[] }>('/delegations', undefined, signal),
  createDelegation: (body: { delegateId: string; startsAt: string; endsAt: string }) =>
    post<Delegation>('/delegations', body),
  endDelegation: (id: string) => del<{ ok: true }>(`/delegations/${id}`),

  /** Applies a seal to a stored PDF (or signs personally); the answer names the signed output. */
  sign: (body: SignDraft) => post<SignatureRecord>('/signatures', body),
  /** The signatures of the chain that started from a document, those I may see, oldest first. */
  signatures: (originalSha256: string, signal?: AbortSignal) =>
    get<{ items: SignatureRecord[] }>('/signatures', { originalSha256 }, signal),
  signature: (signatureId: string, signal?: AbortSignal) =>
    get<SignatureRecord>(`/signatures/${signatureId}`, undefined, signal),
  signedDocument: (signatureId: string, signal?: AbortSignal) =>
    requestBinary('GET', `/signatures/${signatureId}/document`, signal ? { signal } : {}),
  documentPages: (sha256: string, signal?: AbortSignal) =>
    get<DocumentPages>(`/documents/${sha256}/pages`, undefined, signal),
  /** The verifier's report on a PDF (sent as it is, at most 20 MB), with the archive lookup. */
  verifyPdf: (file: Blob) => postFile<VerificationReport>('/verifications', file, 'application/pdf'),
  sealCertificate: (sealId: string, signal?: AbortSignal) =>
    get<Certificate>(`/seals/${sealId}/certificate`, undefined, signal),
  issueSealCertificate: (sealId: string) => post<Certificate>(`/seals/${sealId}/certificate`, {}),

  notifications: (query: { unread?: boolean; limit?: number; cursor?: string }, signal?: AbortSignal) =>
    get<Page<AppNotification>>('/notifications', query, signal),
  unreadCount: (signal?: AbortSignal) => get<{ count: number }>('/notifications/unread-count', undefined, signal),
  readNotification: (id: string) => post<AppNotification>(`/notifications/${id}/read`),
  readAllNotifications: () => post<{ marked: number }>('/notifications/read-all'),
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
