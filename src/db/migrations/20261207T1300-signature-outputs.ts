import { sql, type Kysely } from 'kysely';

/**
 * The public verification page asks whether the platform made a file, by its SHA-256 alone and
 * without knowing the group: the index on (group_id, output_sha256) cannot answer that without
 * reading all of it, so the output hash gets an index of its own.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index signatures_output_sha256 on signatures (output_sha256)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index signatures_output_sha256`.execute(db);
}
