import type { ColumnType, Generated, Transaction as KyselyTransaction, Kysely } from 'kysely';

/** The one typed description of Sigil's database. Every table carries `group_id`. */
export interface Database {
  groups: GroupsTable;
  companies: CompaniesTable;
  departments: DepartmentsTable;
  users: UsersTable;
  user_posts: UserPostsTable;
  role_assignments: RoleAssignmentsTable;
  sessions: SessionsTable;
  sign_in_throttles: SignInThrottlesTable;
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  audit_heads: AuditHeadsTable;
  audit_pending: AuditPendingTable;
  audit_links: AuditLinksTable;
  audit_tree_tiles: AuditTreeTilesTable;
  outbox: OutboxTable;
  outbox_claims: OutboxClaimsTable;
  audit_log_keys: AuditLogKeysTable;
  audit_checkpoints: AuditCheckpointsTable;
  jobs: JobsTable;
  blobs: BlobsTable;
  blob_uploads: BlobUploadsTable;
  notifications: NotificationsTable;
  notification_deliveries: NotificationDeliveriesTable;
  seals: SealsTable;
  seal_custodians: SealCustodiansTable;
  seal_grants: SealGrantsTable;
  flows: FlowsTable;
  flow_versions: FlowVersionsTable;
  applications: ApplicationsTable;
  application_seals: ApplicationSealsTable;
  application_cc: ApplicationCcTable;
  approval_tasks: ApprovalTasksTable;
  delegations: DelegationsTable;
  authorizations: AuthorizationsTable;
  application_documents: ApplicationDocumentsTable;
  certificates: CertificatesTable;
  crls: CrlsTable;
  electronic_seals: ElectronicSealsTable;
  signatures: SignaturesTable;
  signature_batches: SignatureBatchesTable;
  signature_batch_items: SignatureBatchItemsTable;
  templates: TemplatesTable;
  template_versions: TemplateVersionsTable;
  contracts: ContractsTable;
  contract_participants: ContractParticipantsTable;
  contract_fields: ContractFieldsTable;
  contract_links: ContractLinksTable;
  contract_signatures: ContractSignaturesTable;
  contract_attachments: ContractAttachmentsTable;
  contract_policies: ContractPoliciesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  device_ticket_keys: DeviceTicketKeysTable;
  devices: DevicesTable;
  device_tickets: DeviceTicketsTable;
  device_events: DeviceEventsTable;
  device_photos: DevicePhotosTable;
  device_findings: DeviceFindingsTable;
  device_usage_corrections: DeviceUsageCorrectionsTable;
  device_usage_reviews: DeviceUsageReviewsTable;
  device_usage_review_items: DeviceUsageReviewItemsTable;
}

export type Db = Kysely<Database>;
export type Transaction = KyselyTransaction<Database>;

type CreatedAt = ColumnType<Date, Date | undefined, never>;
type Json<T> = ColumnType<T, string, string>;

export interface GroupsTable {
  id: string;
  /** Equal to `id` (a generated column): the group row carries its group id like every other row. */
  group_id: ColumnType<string, never, never>;
  name: string;
  slug: string;
  sod_matrix: Json<Array<[Role, Role]>>;
  created_at: CreatedAt;
}

export interface CompaniesTable {
  id: string;
  group_id: string;
  parent_id: string | null;
  name: string;
  code: string;
  /** Materialised path of ids, `/<root>/<child>/…/<self>/`; a subtree is a prefix match. */
  path: string;
  depth: number;
  status: Generated<'active' | 'closed'>;
  created_at: CreatedAt;
}

export interface DepartmentsTable {
  id: string;
  group_id: string;
  company_id: string;
  name: string;
  head_user_id: string | null;
  created_at: CreatedAt;
}

export type UserStatus = 'active' | 'suspended' | 'resigned';

export interface UsersTable {
  id: string;
  group_id: string;
  company_id: string;
  department_id: string | null;
  email: string;
  name: string;
  phone: string | null;
  locale: 'zh-CN' | 'en';
  status: UserStatus;
  password_hash: string;
  failed_logins: Generated<number>;
  locked_until: Date | null;
  /** AES-256-GCM sealed TOTP secret; null while the second factor is off. */
  totp_secret: string | null;
  totp_enabled: Generated<boolean>;
  totp_last_step: number | null;
  /** The password was chosen by someone else (printed for a new group's first administrator): change it before anything else. */
  must_change_password: Generated<boolean>;
  /** A service account: held by an integration through its API keys; no person signs in as it. */
  service_account: Generated<boolean>;
  status_changed_at: Date | null;
  created_at: CreatedAt;
}

export interface UserPostsTable {
  id: string;
  group_id: string;
  user_id: string;
  company_id: string;
  department_id: string | null;
  title: string;
  created_at: CreatedAt;
}

export type Role = 'system_admin' | 'seal_admin' | 'security_auditor' | 'employee';

export interface RoleAssignmentsTable {
  id: string;
  group_id: string;
  user_id: string;
  role: Role;
  /** The role holds over this company and everything below it. */
  company_id: string;
  created_by: string | null;
  created_at: CreatedAt;
}

/**
 * Failed sign-ins per typed address (its SHA-256: `subject`) and client address (`'*'`: all
 * clients). No group id: the address typed may belong to no account at all.
 */
export interface SignInThrottlesTable {
  subject: string;
  client: string;
  failures: number;
  last_failure_at: Date;
  wait_until: Date | null;
}

export interface SessionsTable {
  id: string;
  group_id: string;
  user_id: string;
  token_hash: string;
  /** A session waiting for its second factor can do nothing but present it. */
  mfa_pending: boolean;
  ip: string | null;
  user_agent: string | null;
  created_at: CreatedAt;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface ApiKeysTable {
  id: string;
  group_id: string;
  company_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  permissions: Json<string[]>;
  created_by: string;
  created_at: CreatedAt;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  /** The service account this key acts as (with its roles and grants), or null: the key's own permissions. */
  user_id: string | null;
}

export interface AuditEventsTable {
  group_id: string;
  seq: number;
  id: string;
  occurred_at: Date;
  actor_type: 'user' | 'api_key' | 'system';
  actor_id: string | null;
  actor_name: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  /** Company the event concerns, so auditors of a subtree see only theirs; null for group-wide events. */
  company_id: string | null;
  changes: Json<Record<string, unknown>>;
  /** Versions 1 and 2: the chain is linked in the row. Versions 3 and 4: null (the link is in `audit_links`). */
  prev_hash: string | null;
  hash: string | null;
  /** Version 3: SHA-256 of what the event says (the server's `contentHash`), which the sealer links. Version 4: unused. */
  content_hash: string | null;
  /**
   * 1: hash over the whole row; 2: `sha256(prev_hash:seq:contentHash)`, linked in the row by
   * `sigil_audit_append` (migration 20261121T1900); 3: linked afterwards by the sealer (20261121T2000);
   * 4: the sealer also hashes what the event says, as `sigil_audit_said` renders it (20261206T1000).
   */
  chain_version: Generated<number>;
}

/** Version 3 events waiting for the sealer. */
export interface AuditPendingTable {
  group_id: string;
  seq: number;
}

/** The version 3 chain: place `seq` of the group's chain holds event `event_seq`, `hash = sha256(prev_hash:seq:content_hash)`. */
export interface AuditLinksTable {
  group_id: string;
  seq: number;
  event_seq: number;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadsTable {
  group_id: string;
  seq: number;
  hash: string;
  /** The right edge of the group's tree: one perfect subtree per set bit of `seq`, the highest first (32 bytes each). */
  tree_edge: Uint8Array | null;
}

/**
 * The group's Merkle tree (RFC 9162) in tiles of height 4: tile (tile_level k, idx n) holds the
 * hashes of the nodes of tree level 4k with indexes 16n … 16n + 15 that exist, 32 bytes each;
 * node (level, idx) covers leaves idx·2^level … (idx+1)·2^level − 1, level 0 the leaves.
 */
/** What a change told the rest of the platform, in its own transaction (read after commit by every process). */
export interface OutboxTable {
  id: Generated<number>;
  group_id: string;
  topic: string;
  payload: Record<string, unknown>;
  created_at: Generated<Date>;
}

/** Which outbox entries a durable consumer has taken (`claimOutboxEntries`), once each across all processes. */
export interface OutboxClaimsTable {
  consumer: string;
  outbox_id: number;
  claimed_at: Date;
}

export interface AuditTreeTilesTable {
  group_id: string;
  tile_level: number;
  idx: number;
  hashes: Uint8Array;
}

/** The deployment's audit log key: its public half, and where the private half lives (sealed or in the token). */
export interface AuditLogKeysTable {
  id: string;
  /** Lower-case hex SHA-256 of the SubjectPublicKeyInfo (DER). */
  key_id: string;
  algorithm: string;
  public_key: Uint8Array;
  key_store: 'database' | 'pkcs11';
  sealed_key: string | null;
  token_label: string | null;
  token_key_id: string | null;
  created_at: CreatedAt;
  retired_at: Date | null;
}

/** Signed tree heads: the size and root of a group's tree, signed by the log key. */
export interface AuditCheckpointsTable {
  group_id: string;
  tree_size: number;
  root_hash: Uint8Array;
  signed_at: Date;
  key_id: string;
  signature: Uint8Array;
}

export type SealKind = 'electronic' | 'physical' | 'ukey' | 'mobile';
export type SealType = 'official' | 'contract' | 'finance' | 'invoice' | 'hr' | 'legal_representative' | 'custom';
/** pending: applied for, not yet made (制作中); suspended 停用; lost 挂失; destroyed 销毁 (final). */
export type SealStatus = 'pending' | 'active' | 'suspended' | 'lost' | 'destroyed';

export interface SealsTable {
  id: string;
  group_id: string;
  company_id: string;
  code: string;
  name: string;
  kind: SealKind;
  type: SealType;
  custom_type: string | null;
  status: SealStatus;
  image_sha256: string | null;
  image_media_type: string | null;
  description: string | null;
  /** Set when a custodian resigns and the seal waits for a new keeper. */
  needs_custodian: Generated<boolean>;
  produced_at: Date | null;
  status_changed_at: Date | null;
  created_at: CreatedAt;
}

export interface SealCustodiansTable {
  group_id: string;
  seal_id: string;
  user_id: string;
  assigned_at: CreatedAt;
}

export type GranteeType = 'user' | 'department' | 'role';

export interface SealGrantsTable {
  id: string;
  group_id: string;
  seal_id: string;
  grantee_type: GranteeType;
  grantee_user_id: string | null;
  grantee_department_id: string | null;
  grantee_role: Role | null;
  /** For role grants: the role counts when held over this company (or above it). */
  grantee_company_id: string | null;
  /** Business categories: personnel, procurement, sales, legal, finance, or custom:<name>. */
  categories: string[];
  valid_from: Date;
  valid_until: Date | null;
  max_uses: number | null;
  used_count: Generated<number>;
  created_by: string | null;
  created_at: CreatedAt;
  revoked_at: Date | null;
  revoked_by: string | null;
  revoke_reason: string | null;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'dead';

export interface JobsTable {
  id: string;
  /** Null only for system jobs that belong to no tenant (housekeeping, sweeps across groups). */
  group_id: string | null;
  kind: string;
  payload: Json<unknown>;
  /** queued: waiting for its first run; failed: an attempt failed, retried at run_at; dead: gave up. */
  status: JobStatus;
  run_at: Date;
  attempts: Generated<number>;
  max_attempts: number;
  /** While running: the lease; a job whose lease ran out belonged to a process that died. */
  locked_until: Date | null;
  /** The claim token of the runner holding the lease, so a runner that lost it cannot finish it. */
  locked_by: string | null;
  last_error: string | null;
  result: Json<unknown> | null;
  dedupe_key: string | null;
  created_at: CreatedAt;
  updated_at: Date;
  finished_at: Date | null;
}

export interface BlobsTable {
  group_id: string;
  sha256: string;
  size: number;
  media_type: string;
  original_name: string | null;
  /** The user or API key that stored it first; null for the system. */
  created_by: string | null;
  created_at: CreatedAt;
}

/** Each person (or API key) who stored a blob: ownership is per upload, not per hash (migration 20261206T1100). */
export interface BlobUploadsTable {
  group_id: string;
  sha256: string;
  uploaded_by: string;
  original_name: string | null;
  created_at: CreatedAt;
}

export interface NotificationsTable {
  id: string;
  group_id: string;
  user_id: string;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  data: Json<Record<string, unknown>>;
  read_at: Date | null;
  created_at: CreatedAt;
}

export type DeliveryChannel = 'email' | 'sms';
export type DeliveryStatus = 'queued' | 'sent' | 'not_sent' | 'skipped' | 'retrying' | 'dead';

export interface NotificationDeliveriesTable {
  id: string;
  group_id: string;
  /** Null for a message to someone outside the group (an outside signer). */
  user_id: string | null;
  notification_id: string | null;
  kind: string;
  channel: DeliveryChannel;
  address: string | null;
  status: DeliveryStatus;
  detail: string | null;
  job_id: string | null;
  created_at: CreatedAt;
  updated_at: Date;
}

/** sod_change: a change to the group's separation-of-duties matrix (migration 20261206T1120). */
export type FlowPurpose = 'seal_use' | 'lifecycle' | 'sod_change';
export type LifecycleAction = 'produce' | 'change' | 'transfer' | 'suspend' | 'resume' | 'report_loss' | 'destroy';
/** closed: ended by a lifecycle step of its seal (suspended, lost, destroyed) while it waited (migration 20261206T1110). */
export type ApplicationStatus = 'pending' | 'approved' | 'rejected' | 'withdrawn' | 'closed';
export type TaskStatus = 'pending' | 'approved' | 'rejected' | 'transferred' | 'cancelled';

export interface FlowsTable {
  id: string;
  group_id: string;
  /** The flow serves applications for seals of this company's subtree, unless a nearer flow exists. */
  company_id: string;
  purpose: FlowPurpose;
  /** Business category; null serves every category. */
  category: string | null;
  /** A flow bound to one seal: that seal's use goes through this flow only. */
  seal_id: string | null;
  name: string;
  current_version: number;
  status: Generated<'active' | 'archived'>;
  created_by: string | null;
  created_at: CreatedAt;
}

export interface FlowVersionsTable {
  id: string;
  group_id: string;
  flow_id: string;
  version: number;
  definition: Json<unknown>;
  created_by: string | null;
  created_at: CreatedAt;
}

export interface ApplicationsTable {
  id: string;
  group_id: string;
  company_id: string;
  applicant_id: string;
  purpose: FlowPurpose;
  category: string | null;
  lifecycle_action: LifecycleAction | null;
  payload: Json<Record<string, unknown>>;
  reason: string;
  uses: number;
  photos_per_use: number;
  flow_version_id: string;
  /** The levels and approvers as resolved at submission: the application keeps them. */
  plan: Json<unknown>;
  current_level: Generated<number>;
  /** Moves with every change of the application or its tasks: a decision written optimistically names the version it read (migration 20261121T1900). */
  version: Generated<number>;
  status: ApplicationStatus;
  /** Why a closed application was closed; null otherwise. */
  closed_reason: Generated<string | null>;
  idempotency_key: string | null;
  created_at: CreatedAt;
  decided_at: Date | null;
}

export interface ApplicationSealsTable {
  group_id: string;
  application_id: string;
  seal_id: string;
}

export interface ApplicationCcTable {
  group_id: string;
  application_id: string;
  user_id: string;
}

export interface ApprovalTasksTable {
  id: string;
  group_id: string;
  application_id: string;
  level: number;
  assignee_id: string;
  on_behalf_of: string | null;
  via: 'delegation' | 'transfer' | 'escalation' | null;
  status: TaskStatus;
  comment: string | null;
  created_at: CreatedAt;
  decided_at: Date | null;
  remind_at: Date | null;
  reminded_at: Date | null;
}

export interface DelegationsTable {
  id: string;
  group_id: string;
  user_id: string;
  delegate_id: string;
  starts_at: Date;
  ends_at: Date;
  created_at: CreatedAt;
  revoked_at: Date | null;
}

export interface AuthorizationsTable {
  id: string;
  group_id: string;
  application_id: string;
  seal_id: string;
  holder_id: string;
  /** documents: the right to apply an electronic seal to the named documents; ticket: physical uses. */
  kind: 'documents' | 'ticket';
  uses_total: number;
  uses_consumed: Generated<number>;
  created_at: CreatedAt;
  revoked_at: Date | null;
  revoked_by: string | null;
}

/** The files an application asks to stamp; an electronic seal's authorization covers exactly these. */
export interface ApplicationDocumentsTable {
  group_id: string;
  application_id: string;
  sha256: string;
  name: string;
  position: number;
}

/** `event`: a one-time certificate for an outside signer, issued after they proved who they are; its key is never kept. */
export type CertificatePurpose =
  | 'root_ca'
  | 'issuing_ca'
  | 'tsa'
  | 'seal'
  | 'person'
  | 'event'
  /** National cryptography (issue 15): the SM2 root, a group's SM2 issuing CA, a seal's SM2 certificate (listed on its .esl). */
  | 'sm2_root_ca'
  | 'sm2_issuing_ca'
  /** The group's seal maker (制章者): signs its .esl seals; issued by its SM2 CA. */
  | 'sm2_seal_maker'
  | 'sm2_seal';
export type RevocationReasonName =
  'unspecified' | 'keyCompromise' | 'affiliationChanged' | 'superseded' | 'cessationOfOperation' | 'certificateHold';

/** Every certificate Sigil holds a key for: the deployment root and TSA, group CAs, seals, people. */
export interface CertificatesTable {
  id: string;
  /** Null only for the deployment's root CA and TSA. */
  group_id: string | null;
  purpose: CertificatePurpose;
  issuer_id: string | null;
  seal_id: string | null;
  user_id: string | null;
  source: 'issued' | 'imported';
  /** Lower-case hex. */
  serial: string;
  subject: string;
  issuer: string;
  key_spec: string;
  not_before: Date;
  not_after: Date;
  der: Uint8Array;
  chain: Json<string[]>;
  /** `none`: a one-time (event) certificate, whose key signed once in memory and was never kept. */
  key_store: 'database' | 'pkcs11' | 'none';
  /** AES-256-GCM sealed PKCS#8 (`v1.…`), bound to this row's id. */
  sealed_key: string | null;
  token_label: string | null;
  token_key_id: string | null;
  fingerprint: string;
  status: Generated<'active' | 'revoked'>;
  revoked_at: Date | null;
  revocation_reason: RevocationReasonName | null;
  revocation_revision: Generated<number>;
  crl_number: Generated<number>;
  created_at: CreatedAt;
}

/** A GB/T 38540 seal (.esl) the group's SM2 CA made for an electronic seal; one in force per seal. */
export interface ElectronicSealsTable {
  id: string;
  group_id: string;
  seal_id: string;
  /** The group's seal maker certificate (制章者), issued by its SM2 CA. */
  maker_id: string;
  /** The seal's SM2 certificate, on the seal's certificate list. */
  certificate_id: string;
  es_id: string;
  image_sha256: string;
  der: Uint8Array;
  sha256: string;
  valid_start: Date;
  valid_end: Date;
  status: Generated<'active' | 'superseded'>;
  created_at: CreatedAt;
}

export interface CrlsTable {
  issuer_id: string;
  group_id: string | null;
  crl_number: number;
  revision: number;
  this_update: Date;
  next_update: Date;
  der: Uint8Array;
}

export interface SignaturesTable {
  id: string;
  group_id: string;
  company_id: string;
  user_id: string;
  seal_id: string | null;
  certificate_id: string;
  authorization_id: string | null;
  grant_id: string | null;
  category: string | null;
  level: 'B-B' | 'B-T' | 'B-LT' | 'B-LTA';
  field_name: string;
  reason: string | null;
  document_name: string | null;
  input_sha256: string;
  output_sha256: string;
  original_sha256: string;
  signed_at: Date;
}

export interface TemplatesTable {
  id: string;
  group_id: string;
  company_id: string;
  name: string;
  category: string;
  latest_version: number;
  created_by: string;
  created_at: CreatedAt;
  archived_at: Date | null;
}

export interface TemplateVersionsTable {
  id: string;
  group_id: string;
  template_id: string;
  version: number;
  source: Json<unknown>;
  created_by: string;
  created_at: CreatedAt;
}

export type ContractStatus = 'draft' | 'sent' | 'signing' | 'completed' | 'rejected' | 'voided' | 'expired';
export type ParticipantRole = 'signer' | 'approver' | 'cc' | 'receiver';
export type ParticipantKind = 'company' | 'person' | 'outside_person' | 'outside_org';
export type ParticipantStatus = 'waiting' | 'active' | 'done' | 'rejected';
export type ContractFieldType =
  'company_seal' | 'cross_page_seal' | 'legal_rep_seal' | 'signature' | 'date' | 'text' | 'checkbox';

export interface ContractsTable {
  id: string;
  group_id: string;
  company_id: string;
  title: string;
  category: string;
  number: string | null;
  effective_on: ColumnType<string | null, string | null, string | null>;
  expires_on: ColumnType<string | null, string | null, string | null>;
  status: ContractStatus;
  source_sha256: string;
  current_sha256: string;
  template_version_id: string | null;
  values: Json<unknown> | null;
  current_step: Generated<number>;
  deadline: Date | null;
  remind_every_days: number | null;
  last_reminded_at: Date | null;
  created_by: string;
  created_at: CreatedAt;
  sent_at: Date | null;
  ended_at: Date | null;
  end_reason: string | null;
  /** A void agreement (作废协议): the completed contract it voids once it completes itself. */
  void_of: string | null;
  /** Internal signers give a current TOTP code when signing, and must have one enrolled. */
  require_second_factor: Generated<boolean>;
  /** Outside signers pass this check through the configured identity provider before signing. */
  identity_check: 'real_name' | 'face' | null;
}

export interface ContractParticipantsTable {
  id: string;
  group_id: string;
  contract_id: string;
  position: number;
  step: number;
  role: ParticipantRole;
  kind: ParticipantKind;
  company_id: string | null;
  seal_id: string | null;
  user_id: string | null;
  name: string;
  org_name: string | null;
  phone: string | null;
  email: string | null;
  status: ParticipantStatus;
  acted_at: Date | null;
  acted_by: string | null;
  reason: string | null;
  consent_at: Date | null;
  identity: Json<unknown> | null;
  /** The identity provider's check of an outside signer: its reference, verdict and evidence. */
  identity_check: Json<unknown> | null;
}

export interface ContractFieldsTable {
  id: string;
  group_id: string;
  contract_id: string;
  participant_id: string;
  type: ContractFieldType;
  page: number | null;
  rect: Json<[number, number, number, number]> | null;
  keyword: string | null;
  label: string | null;
  required: Generated<boolean>;
  value: string | null;
  filled_at: Date | null;
}

export interface ContractLinksTable {
  id: string;
  group_id: string;
  contract_id: string;
  participant_id: string;
  token_hash: string;
  expires_at: Date;
  used_at: Date | null;
  session_hash: string | null;
  session_expires_at: Date | null;
  code_hash: string | null;
  code_expires_at: Date | null;
  code_sent_at: Date | null;
  codes_sent: Generated<number>;
  failed_attempts: Generated<number>;
  locked_at: Date | null;
  created_at: CreatedAt;
  /** sign: an invitation to sign; download: a receiver's link to the completed PDF. */
  purpose: Generated<'sign' | 'download'>;
}

/** A file carried with a contract (a PDF or an image), its bytes in the blob store. */
export interface ContractAttachmentsTable {
  id: string;
  group_id: string;
  contract_id: string;
  sha256: string;
  media_type: 'application/pdf' | 'image/png' | 'image/jpeg';
  name: string;
  size: number;
  created_by: string;
  created_at: Date;
}

/** A company's policy for the contracts it and the companies below it send. */
export interface ContractPoliciesTable {
  company_id: string;
  group_id: string;
  require_second_factor: boolean;
  updated_by: string;
  updated_at: Date;
}

export interface ContractSignaturesTable {
  id: string;
  group_id: string;
  contract_id: string;
  participant_id: string;
  signature_id: string | null;
  certificate_id: string;
  field_name: string;
  input_sha256: string;
  output_sha256: string;
  signed_at: Date;
}

/** An integrator's URL receiving the public events of a company's subtree, signed (Standard Webhooks). */
export interface WebhookEndpointsTable {
  id: string;
  group_id: string;
  company_id: string;
  url: string;
  description: string;
  event_types: string[];
  enabled: boolean;
  /** The signing secret, sealed under the master key (context `webhook-secret:<id>`); never stored in clear. */
  secret_sealed: string;
  /** The secret before the last rotation, which still signs (beside the new one) until `previous_secret_until`. */
  previous_secret_sealed: string | null;
  previous_secret_until: Date | null;
  /** The user or API key that created it. */
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

/** pending: to be attempted; failed: the last attempt failed and another is due at `next_attempt_at`; dead: given up. */
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dead';

/** One message to one endpoint, with the outcome of its latest attempt. */
export interface WebhookDeliveriesTable {
  id: string;
  group_id: string;
  endpoint_id: string;
  /** `webhook-id`: the same for every attempt and redelivery of this message. */
  message_id: string;
  event_type: string;
  /** The body sent, `{ type, timestamp, data }`. */
  payload: Json<Record<string, unknown>>;
  status: WebhookDeliveryStatus;
  attempts: Generated<number>;
  last_http_status: number | null;
  /** Short text this server wrote (an HTTP status, a network error, a refusal); never the receiver's answer. */
  last_error: string | null;
  last_attempt_at: Date | null;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
  created_at: Date;
}

export interface SignatureBatchesTable {
  id: string;
  group_id: string;
  user_id: string;
  /** The session that confirmed the batch: it must still be live while the batch runs. */
  session_id: string | null;
  seal_id: string | null;
  spec: Json<unknown>;
  status: 'running' | 'done';
  total: number;
  signed: Generated<number>;
  failed: Generated<number>;
  created_at: CreatedAt;
  finished_at: Date | null;
}

export interface SignatureBatchItemsTable {
  batch_id: string;
  position: number;
  group_id: string;
  document_sha256: string;
  status: 'pending' | 'signed' | 'failed';
  signature_id: string | null;
  output_sha256: string | null;
  error_code: string | null;
  error_detail: string | null;
  done_at: Date | null;
}

/** The deployment's device-ticket signing keys (docs/device-protocol.md §2); the active one signs. */
export interface DeviceTicketKeysTable {
  id: string;
  /** First 16 hex digits of SHA-256 over the SubjectPublicKeyInfo: the `kid` of tickets and directives. */
  key_id: string;
  public_key: Uint8Array;
  /** The vault's `KeyReference` (sealed in the database or in the PKCS#11 token). */
  reference: Json<unknown>;
  active: boolean;
  created_at: Date;
}

export interface DevicesTable {
  id: string;
  group_id: string;
  company_id: string;
  seal_id: string;
  serial: string;
  public_key: Uint8Array;
  /** Where the seal may be used: `{ lat, lon, r }` in micro-degrees and metres; null: anywhere. */
  geofence: Json<unknown> | null;
  status: 'active' | 'retired';
  remote_locked: Generated<boolean>;
  /** The sequence of the last directive signed for the device (a directive is never reissued with an older one). */
  directive_seq: Generated<string | number>;
  /** Events 1..acknowledged_seq are all stored. */
  acknowledged_seq: Generated<string | number>;
  last_synced_at: Date | null;
  registered_by: string;
  created_at: Date;
}

export interface DeviceTicketsTable {
  id: string;
  group_id: string;
  device_id: string;
  seal_id: string;
  mode: 'use' | 'maintenance';
  authorization_id: string | null;
  application_id: string | null;
  holder_id: string;
  uses: number;
  not_before: Date;
  not_after: Date;
  photo_mode: 'auto' | 'manual';
  photos_per_use: number;
  geofence: Json<unknown> | null;
  payload: string;
  signature: string;
  stamps_counted: Generated<number>;
  revoked_at: Date | null;
  created_at: Date;
}

export interface DeviceEventsTable {
  group_id: string;
  device_id: string;
  seq: string | number;
  type: string;
  device_time: Date;
  ticket_id: string | null;
  use_no: number | null;
  why: string | null;
  lat: number | null;
  lon: number | null;
  accuracy: number | null;
  photo_sha256: string | null;
  prev_hash: string;
  hash: string;
  payload: string;
  signature: string;
  received_at: Date;
}

export interface DevicePhotosTable {
  group_id: string;
  device_id: string;
  sha256: string;
  media_type: string;
  size: number;
  uploaded_by: string;
  created_at: Date;
}

export interface DeviceFindingsTable {
  id: string;
  group_id: string;
  device_id: string;
  seal_id: string;
  application_id: string | null;
  ticket_id: string | null;
  seq: string | number | null;
  kind: string;
  severity: 'critical' | 'high' | 'medium' | 'low';
  detail: string;
  /** What makes a finding the same one when a batch is synced again. */
  dedupe_key: string;
  created_at: Date;
  resolved_at: Date | null;
}

/** A correction appended to a usage record (用印记录): who, why, what. The record is never changed. */
export interface DeviceUsageCorrectionsTable {
  id: string;
  group_id: string;
  company_id: string;
  seal_id: string;
  /** `e-<signature id>` or `p-<device id>-<event seq>`. */
  record_id: string;
  what: string;
  why: string;
  corrected_by: string;
  created_at: Date;
}

/** A sampling review: records drawn at random over a company (or one seal) and a period, for one reviewer. */
export interface DeviceUsageReviewsTable {
  id: string;
  group_id: string;
  company_id: string;
  seal_id: string | null;
  period_from: Date;
  period_to: Date;
  size: number;
  /** How many records the sample was drawn from (the reviewer's own excluded). */
  population: number;
  reviewer_id: string;
  created_by: string;
  created_at: Date;
}

/** One drawn record of a review, as it read when drawn, and the reviewer's verdict on it. */
export interface DeviceUsageReviewItemsTable {
  review_id: string;
  position: number;
  group_id: string;
  record_id: string;
  kind: 'electronic' | 'physical';
  seal_id: string;
  user_id: string;
  used_at: Date;
  application_id: string | null;
  reference: string;
  decision: 'confirmed' | 'flagged' | null;
  comment: string | null;
  decided_by: string | null;
  decided_at: Date | null;
}
