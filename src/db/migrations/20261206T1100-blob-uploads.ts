import { sql, type Kysely } from 'kysely';

/**
 * Who stored each blob: one row per uploader of the same bytes, since ownership is per upload,
 * not per hash (the `blobs` row keeps only the first uploader). Filled from `blobs.created_by`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table blob_uploads (
      group_id uuid not null,
      sha256 text not null,
      uploaded_by uuid not null,
      original_name text,
      created_at timestamptz not null default now(),
      primary key (group_id, sha256, uploaded_by),
      foreign key (group_id, sha256) references blobs (group_id, sha256)
    );
    insert into blob_uploads (group_id, sha256, uploaded_by, original_name, created_at)
      select group_id, sha256, created_by, original_name, created_at from blobs where created_by is not null;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table blob_uploads`.execute(db);
}
