import { sql, type Kysely } from 'kysely';

/**
 * A link's group was checked against `groups` for every link the sealer wrote: a look-up that
 * locks the group's row (FOR KEY SHARE) per row, while the appends lock it too for each event
 * (bench `audit`: 81,000 such checks in 10 s, half of them the links'). It checked nothing the
 * link does not already owe to its event: the sealer writes a link only for an event of the same
 * group it has just read, (group, event) is unique among links, and the event's own key to
 * `groups` keeps a group with events from being deleted. The events keep theirs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table audit_links drop constraint audit_links_group_id_fkey`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table audit_links add constraint audit_links_group_id_fkey foreign key (group_id) references groups (id)`.execute(
    db,
  );
}
