import { sql, type Kysely } from 'kysely';

/**
 * Every verification looks for the events linked in their own row (chain versions 1 and 2) and
 * for version 3 events, whose content hash the server computed; a log written since version 4 has
 * none of either, and each look read the whole group's log through its primary key to find that
 * out (bench `audit`: 0.3 s each for a million events). These partial indexes hold only such
 * events, so a log of version 4 events answers at once. Writers of version 4 events add nothing
 * to them. The checks themselves are unchanged: an index that someone drops only makes them slow.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index audit_events_inline_chain on audit_events (group_id, seq) where chain_version < 3;
    create index audit_events_version3 on audit_events (group_id, seq) where chain_version = 3;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index audit_events_version3;
    drop index audit_events_inline_chain;
  `.execute(db);
}
