import { sql, type Kysely } from 'kysely';

/**
 * A seal-use application can end `closed`: its seal was suspended, reported lost or destroyed
 * while it waited, and the lifecycle step closed it, saying why in `closed_reason`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table applications drop constraint applications_status_check;
    alter table applications add constraint applications_status_check
      check (status in ('pending', 'approved', 'rejected', 'withdrawn', 'closed'));
    alter table applications add column closed_reason text;
    alter table applications add constraint applications_closed_reason
      check ((status = 'closed') = (closed_reason is not null));
  `.execute(db);
}

/** Going back, a closed application reads as rejected (the nearest state before this migration). */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table applications drop constraint applications_closed_reason;
    update applications set status = 'rejected' where status = 'closed';
    alter table applications drop column closed_reason;
    alter table applications drop constraint applications_status_check;
    alter table applications add constraint applications_status_check
      check (status in ('pending', 'approved', 'rejected', 'withdrawn'));
  `.execute(db);
}
