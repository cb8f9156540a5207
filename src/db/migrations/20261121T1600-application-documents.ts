import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table application_documents (
      group_id uuid not null references groups(id),
      application_id uuid not null references applications(id),
      sha256 text not null,
      name text not null,
      position integer not null,
      primary key (application_id, sha256),
      foreign key (group_id, sha256) references blobs (group_id, sha256)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table application_documents`.execute(db);
}
