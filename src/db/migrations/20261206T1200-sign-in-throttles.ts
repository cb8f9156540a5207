import { sql, type Kysely } from 'kysely';

/**
 * Failed sign-ins counted per e-mail address and client address (and per address from all
 * clients, `client = '*'`), instead of a hard lock on the account that anyone could set off by
 * guessing badly on purpose. Keyed by the SHA-256 of the address typed, whether or not such an
 * account exists, so unknown and existing addresses are slowed alike (no enumeration); the
 * address itself is not stored. Rows are in the database, not process memory: every server
 * process sees the same counts.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table sign_in_throttles (
      subject text not null,
      client text not null,
      failures integer not null,
      last_failure_at timestamptz not null,
      wait_until timestamptz,
      primary key (subject, client)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table sign_in_throttles`.execute(db);
}
