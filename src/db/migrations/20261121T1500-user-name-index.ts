import { sql, type Kysely } from 'kysely';

/**
 * The user list pages by (name, id) across a whole group; without this index PostgreSQL
 * read and sorted every user of the group for each page (measured: 0.62 ms → 0.08 ms for 1,031 users).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index users_group_name on users (group_id, name, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index users_group_name`.execute(db);
}
