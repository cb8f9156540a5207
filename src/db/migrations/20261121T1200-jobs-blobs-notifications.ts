import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table jobs (
      id uuid primary key,
      -- Null only for system jobs that belong to no tenant (housekeeping, sweeps across every
      -- group); every job done on behalf of a group (a mail, a reminder) carries its group id.
      group_id uuid references groups(id),
      kind text not null,
      payload jsonb not null,
      status text not null default 'queued' check (status in ('queued', 'running', 'done', 'failed', 'dead')),
      run_at timestamptz not null,
      attempts integer not null default 0,
      max_attempts integer not null check (max_attempts >= 1),
      locked_until timestamptz,
      locked_by text,
      last_error text,
      result jsonb,
      dedupe_key text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      finished_at timestamptz
    );
    create unique index jobs_dedupe on jobs (group_id, dedupe_key) nulls not distinct where dedupe_key is not null;
    create index jobs_due on jobs (run_at) where status in ('queued', 'failed');
    create index jobs_leased on jobs (locked_until) where status = 'running';
    create index jobs_group on jobs (group_id, kind, created_at);

    create table blobs (
      group_id uuid not null references groups(id),
      sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
      size bigint not null check (size >= 0),
      media_type text not null,
      original_name text,
      created_by uuid,
      created_at timestamptz not null default now(),
      primary key (group_id, sha256)
    );

    create table notifications (
      id uuid primary key,
      group_id uuid not null references groups(id),
      user_id uuid not null references users(id),
      kind text not null,
      title text not null,
      body text not null,
      link text,
      data jsonb not null,
      read_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index notifications_inbox on notifications (group_id, user_id, created_at desc, id desc);
    create index notifications_unread on notifications (group_id, user_id) where read_at is null;

    create table notification_deliveries (
      id uuid primary key,
      group_id uuid not null references groups(id),
      user_id uuid not null references users(id),
      notification_id uuid references notifications(id),
      kind text not null,
      channel text not null check (channel in ('email', 'sms')),
      address text,
      status text not null check (status in ('queued', 'sent', 'not_sent', 'skipped', 'retrying', 'dead')),
      detail text,
      job_id uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index notification_deliveries_user on notification_deliveries (group_id, user_id, created_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table notification_deliveries;
    drop table notifications;
    drop table blobs;
    drop table jobs;
  `.execute(db);
}
