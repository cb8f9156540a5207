import { sql, type Kysely } from 'kysely';

/**
 * Batch signing: one person confirms once, and each document of the batch gets its own
 * signature, made by the job runner one after another. Each item keeps its own outcome, so a
 * failure leaves the others signed and says which one failed and why.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table signature_batches (
      id uuid primary key,
      group_id uuid not null references groups (id),
      user_id uuid not null references users (id),
      session_id uuid,
      seal_id uuid references seals (id),
      spec jsonb not null,
      status text not null check (status in ('running', 'done')),
      total integer not null,
      signed integer not null default 0,
      failed integer not null default 0,
      created_at timestamptz not null default now(),
      finished_at timestamptz
    );
    create index signature_batches_user on signature_batches (group_id, user_id, created_at desc);
    create table signature_batch_items (
      batch_id uuid not null references signature_batches (id),
      position integer not null,
      group_id uuid not null references groups (id),
      document_sha256 text not null,
      status text not null check (status in ('pending', 'signed', 'failed')),
      signature_id uuid references signatures (id),
      output_sha256 text,
      error_code text,
      error_detail text,
      done_at timestamptz,
      primary key (batch_id, position)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table signature_batch_items;
    drop table signature_batches;
  `.execute(db);
}
