import { sql, type Kysely } from 'kysely';

/**
 * Service accounts: a user record that no person signs in as, held by an integration through
 * its API keys, so that an integration can be given roles and seal grants like a person and
 * apply, send and sign under them. A key bound to one acts as that account.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table users add column service_account boolean not null default false;
    alter table api_keys add column user_id uuid references users (id);
    create index api_keys_user on api_keys (user_id) where user_id is not null;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index api_keys_user;
    alter table api_keys drop column user_id;
    alter table users drop column service_account;
  `.execute(db);
}
