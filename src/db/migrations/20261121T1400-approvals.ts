import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table flows (
      id uuid primary key,
      group_id uuid not null references groups(id),
      company_id uuid not null references companies(id),
      purpose text not null check (purpose in ('seal_use', 'lifecycle')),
      category text,
      seal_id uuid references seals(id),
      name text not null,
      current_version integer not null,
      status text not null default 'active' check (status in ('active', 'archived')),
      created_by uuid references users(id),
      created_at timestamptz not null default now()
    );
    create unique index flows_scope on flows (group_id, company_id, purpose, coalesce(category, '')) where seal_id is null and status = 'active';
    create unique index flows_seal on flows (seal_id, purpose) where seal_id is not null and status = 'active';

    create table flow_versions (
      id uuid primary key,
      group_id uuid not null references groups(id),
      flow_id uuid not null references flows(id),
      version integer not null,
      definition jsonb not null,
      created_by uuid references users(id),
      created_at timestamptz not null default now(),
      unique (flow_id, version)
    );

    create table applications (
      id uuid primary key,
      group_id uuid not null references groups(id),
      company_id uuid not null references companies(id),
      applicant_id uuid not null references users(id),
      purpose text not null check (purpose in ('seal_use', 'lifecycle')),
      category text,
      lifecycle_action text check (lifecycle_action in ('produce', 'change', 'transfer', 'suspend', 'resume', 'report_loss', 'destroy')),
      payload jsonb not null,
      reason text not null,
      uses integer not null check (uses between 0 and 10000),
      photos_per_use integer not null default 0 check (photos_per_use between 0 and 20),
      flow_version_id uuid not null references flow_versions(id),
      plan jsonb not null,
      current_level integer not null default 0,
      status text not null check (status in ('pending', 'approved', 'rejected', 'withdrawn')),
      idempotency_key text,
      created_at timestamptz not null default now(),
      decided_at timestamptz
    );
    create unique index applications_idempotency on applications (group_id, applicant_id, idempotency_key) where idempotency_key is not null;
    create index applications_applicant on applications (group_id, applicant_id, created_at desc);
    create index applications_company on applications (group_id, company_id, status);

    create table application_seals (
      group_id uuid not null references groups(id),
      application_id uuid not null references applications(id),
      seal_id uuid not null references seals(id),
      primary key (application_id, seal_id)
    );
    create index application_seals_seal on application_seals (seal_id);

    create table application_cc (
      group_id uuid not null references groups(id),
      application_id uuid not null references applications(id),
      user_id uuid not null references users(id),
      primary key (application_id, user_id)
    );

    create table approval_tasks (
      id uuid primary key,
      group_id uuid not null references groups(id),
      application_id uuid not null references applications(id),
      level integer not null,
      assignee_id uuid not null references users(id),
      -- Who the task was meant for, when a delegation or a transfer put it elsewhere.
      on_behalf_of uuid references users(id),
      via text check (via in ('delegation', 'transfer', 'escalation')),
      status text not null check (status in ('pending', 'approved', 'rejected', 'transferred', 'cancelled')),
      comment text,
      created_at timestamptz not null default now(),
      decided_at timestamptz,
      remind_at timestamptz,
      reminded_at timestamptz
    );
    create index approval_tasks_assignee on approval_tasks (assignee_id, status, created_at);
    create index approval_tasks_application on approval_tasks (application_id, level);

    create table delegations (
      id uuid primary key,
      group_id uuid not null references groups(id),
      user_id uuid not null references users(id),
      delegate_id uuid not null references users(id),
      starts_at timestamptz not null,
      ends_at timestamptz not null,
      created_at timestamptz not null default now(),
      revoked_at timestamptz,
      check (ends_at > starts_at),
      check (user_id <> delegate_id)
    );
    create index delegations_user on delegations (user_id) where revoked_at is null;

    create table authorizations (
      id uuid primary key,
      group_id uuid not null references groups(id),
      application_id uuid not null references applications(id),
      seal_id uuid not null references seals(id),
      holder_id uuid not null references users(id),
      kind text not null check (kind in ('documents', 'ticket')),
      uses_total integer not null,
      uses_consumed integer not null default 0,
      created_at timestamptz not null default now(),
      revoked_at timestamptz,
      revoked_by uuid references users(id),
      check (uses_consumed <= uses_total)
    );
    create index authorizations_holder on authorizations (holder_id, seal_id) where revoked_at is null;
    create index authorizations_application on authorizations (application_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table authorizations;
    drop table delegations;
    drop table approval_tasks;
    drop table application_cc;
    drop table application_seals;
    drop table applications;
    drop table flow_versions;
    drop table flows;
  `.execute(db);
}
