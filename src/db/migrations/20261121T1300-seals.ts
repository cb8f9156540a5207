import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table seals (
      id uuid primary key,
      group_id uuid not null references groups(id),
      company_id uuid not null references companies(id),
      code text not null,
      name text not null,
      kind text not null check (kind in ('electronic', 'physical', 'ukey', 'mobile')),
      type text not null check (type in ('official', 'contract', 'finance', 'invoice', 'hr', 'legal_representative', 'custom')),
      custom_type text,
      status text not null check (status in ('pending', 'active', 'suspended', 'lost', 'destroyed')),
      image_sha256 text,
      image_media_type text,
      description text,
      needs_custodian boolean not null default false,
      produced_at timestamptz,
      status_changed_at timestamptz,
      created_at timestamptz not null default now(),
      unique (group_id, code),
      check ((type = 'custom') = (custom_type is not null))
    );
    create index seals_company on seals (group_id, company_id, type);

    create table seal_custodians (
      group_id uuid not null references groups(id),
      seal_id uuid not null references seals(id),
      user_id uuid not null references users(id),
      assigned_at timestamptz not null default now(),
      primary key (seal_id, user_id)
    );
    create index seal_custodians_user on seal_custodians (user_id);

    create table seal_grants (
      id uuid primary key,
      group_id uuid not null references groups(id),
      seal_id uuid not null references seals(id),
      grantee_type text not null check (grantee_type in ('user', 'department', 'role')),
      grantee_user_id uuid references users(id),
      grantee_department_id uuid references departments(id),
      grantee_role text check (grantee_role in ('system_admin', 'seal_admin', 'security_auditor', 'employee')),
      grantee_company_id uuid references companies(id),
      categories text[] not null,
      valid_from timestamptz not null,
      valid_until timestamptz,
      max_uses integer check (max_uses > 0),
      used_count integer not null default 0,
      created_by uuid references users(id),
      created_at timestamptz not null default now(),
      revoked_at timestamptz,
      revoked_by uuid references users(id),
      revoke_reason text,
      check (valid_until is null or valid_until > valid_from),
      check (
        (grantee_type = 'user' and grantee_user_id is not null and grantee_department_id is null and grantee_role is null)
        or (grantee_type = 'department' and grantee_department_id is not null and grantee_user_id is null and grantee_role is null)
        or (grantee_type = 'role' and grantee_role is not null and grantee_company_id is not null and grantee_user_id is null and grantee_department_id is null)
      )
    );
    create index seal_grants_seal on seal_grants (seal_id) where revoked_at is null;
    create index seal_grants_user on seal_grants (grantee_user_id) where revoked_at is null;
    create index seal_grants_department on seal_grants (grantee_department_id) where revoked_at is null;
    create index seal_grants_group on seal_grants (group_id, seal_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table seal_grants;
    drop table seal_custodians;
    drop table seals;
  `.execute(db);
}
