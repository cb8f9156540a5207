import { sql, type Kysely } from 'kysely';

/**
 * An account whose password someone else chose and printed (a new group's first administrator)
 * must change it at first sign-in: until then its sessions may do nothing but change it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users add column must_change_password boolean not null default false`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users drop column must_change_password`.execute(db);
}
