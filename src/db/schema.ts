import type { ColumnType, Generated, Insertable, Selectable, Transaction as KyselyTransaction, Kysely, Updateable } from 'kysely';

/** The one typed description of Sigil's database. Every table carries `group_id`. */
export interface Database {
  groups: GroupsTable;
  companies: CompaniesTable;
  departments: DepartmentsTable;
  users: UsersTable;
  user_posts: UserPostsTable;
  role_assignments: RoleAssignmentsTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  audit_heads: AuditHeadsTable;
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
  prev_hash: string;
  hash: string;
}

export interface AuditHeadsTable {
  group_id: string;
  seq: number;
  hash: string;
}

export type CompanyRow = Selectable<CompaniesTable>;
export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
