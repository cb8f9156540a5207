import { sql, type Kysely } from 'kysely';

/**
 * The outbox: what a change tells the rest of the platform, written in the change's own
 * transaction beside its audit events, and read by every server process after the commit
 * (`src/outbox/`). Rows are kept a day, long enough for a process that was briefly away.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table outbox (
      id bigserial primary key,
      group_id uuid not null,
      topic text not null,
      payload jsonb not null default '{}'::jsonb,
      created_at timestamptz not null default now()
    );
    create index outbox_created on outbox (created_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table outbox`.execute(db);
}
