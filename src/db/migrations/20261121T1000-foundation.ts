import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table groups (
      id uuid primary key,
      group_id uuid not null generated always as (id) stored,
      name text not null,
      slug text not null unique,
      sod_matrix jsonb not null,
      created_at timestamptz not null default now()
    );

    create table companies (
      id uuid primary key,
      group_id uuid not null references groups(id),
      parent_id uuid references companies(id),
      name text not null,
      code text not null,
      path text not null,
      depth integer not null,
      status text not null default 'active' check (status in ('active', 'closed')),
      created_at timestamptz not null default now(),
      unique (group_id, code)
    );
    create index companies_path on companies (group_id, path text_pattern_ops);
    create index companies_parent on companies (group_id, parent_id);

    create table departments (
      id uuid primary key,
      group_id uuid not null references groups(id),
      company_id uuid not null references companies(id),
      name text not null,
      head_user_id uuid,
      created_at timestamptz not null default now(),
      unique (company_id, name)
    );

    create table users (
      id uuid primary key,
      group_id uuid not null references groups(id),
      company_id uuid not null references companies(id),
      department_id uuid references departments(id),
      email text not null,
      name text not null,
      phone text,
      locale text not null default 'zh-CN' check (locale in ('zh-CN', 'en')),
      status text not null default 'active' check (status in ('active', 'suspended', 'resigned')),
      password_hash text not null,
      failed_logins integer not null default 0,
      locked_until timestamptz,
      totp_secret text,
      totp_enabled boolean not null default false,
      totp_last_step bigint,
      status_changed_at timestamptz,
      created_at timestamptz not null default now()
    );
    create unique index users_email on users (lower(email));
    create index users_company on users (group_id, company_id, name, id);

    alter table departments add constraint departments_head
      foreign key (head_user_id) references users(id);

    create table user_posts (
      id uuid primary key,
      group_id uuid not null references groups(id),
      user_id uuid not null references users(id),
      company_id uuid not null references companies(id),
      department_id uuid references departments(id),
      title text not null,
      created_at timestamptz not null default now()
    );
    create index user_posts_user on user_posts (user_id);
    create index user_posts_company on user_posts (group_id, company_id);

    create table role_assignments (
      id uuid primary key,
      group_id uuid not null references groups(id),
      user_id uuid not null references users(id),
      role text not null check (role in ('system_admin', 'seal_admin', 'security_auditor', 'employee')),
      company_id uuid not null references companies(id),
      created_by uuid references users(id),
      created_at timestamptz not null default now(),
      unique (user_id, role, company_id)
    );
    create index role_assignments_company on role_assignments (group_id, company_id);

    create table sessions (
      id uuid primary key,
      group_id uuid not null references groups(id),
      user_id uuid not null references users(id),
      token_hash text not null unique,
      mfa_pending boolean not null default false,
      ip text,
      user_agent text,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      revoked_at timestamptz
    );
    create index sessions_user on sessions (user_id) where revoked_at is null;

    create table api_keys (
      id uuid primary key,
      group_id uuid not null references groups(id),
      company_id uuid not null references companies(id),
      name text not null,
      prefix text not null,
      key_hash text not null unique,
      permissions jsonb not null,
      created_by uuid not null references users(id),
      created_at timestamptz not null default now(),
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz
    );
    create index api_keys_group on api_keys (group_id, company_id);

    create table audit_heads (
      group_id uuid primary key references groups(id),
      seq bigint not null,
      hash text not null
    );

    create table audit_events (
      group_id uuid not null references groups(id),
      seq bigint not null,
      id uuid not null unique,
      occurred_at timestamptz not null,
      actor_type text not null,
      actor_id uuid,
      actor_name text,
      ip text,
      user_agent text,
      request_id text,
      action text not null,
      target_type text not null,
      target_id uuid,
      company_id uuid,
      changes jsonb not null,
      prev_hash text not null,
      hash text not null,
      primary key (group_id, seq)
    );
    create index audit_events_action on audit_events (group_id, action, seq);
    create index audit_events_target on audit_events (group_id, target_id);
    create index audit_events_actor on audit_events (group_id, actor_id);
    create index audit_events_time on audit_events (group_id, occurred_at);
    create index audit_events_company on audit_events (group_id, company_id, seq);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table audit_events;
    drop table audit_heads;
    drop table api_keys;
    drop table sessions;
    drop table role_assignments;
    drop table user_posts;
    alter table departments drop constraint departments_head;
    drop table users;
    drop table departments;
    drop table companies;
    drop table groups;
  `.execute(db);
}
