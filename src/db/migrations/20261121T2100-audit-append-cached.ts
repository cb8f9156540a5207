import { sql, type Kysely } from 'kysely';
import { APPEND_V3 } from './20261121T2000-audit-sealer.js';

/**
 * The audit append keeps its plan. As a SQL-language function it was parsed, analysed and planned
 * again at every call, inside every statement that records a change: a fifth of PostgreSQL's CPU
 * under the approvals bench (perf: `fmgr_sql`), half of it before a row was written. PL/pgSQL
 * prepares the same statement once per connection. What it writes is unchanged.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`${APPEND_CACHED}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`${APPEND_V3}`.execute(db);
}

/** The version 3 append as this migration made it, in PL/pgSQL (also restored by 20261206T1000's down). */
export const APPEND_CACHED = sql.raw(`
    create or replace function sigil_audit_append(p_group uuid, p_events jsonb) returns bigint
    language plpgsql
    as $fn$
    declare
      v_seq bigint;
    begin
      with added as (
        insert into audit_events (group_id, seq, id, occurred_at, actor_type, actor_id, actor_name, ip, user_agent, request_id,
                                  action, target_type, target_id, company_id, changes, content_hash, chain_version)
        select p_group, nextval('audit_event_seq'), e."id", e."occurredAt", e."actorType", e."actorId", e."actorName", e."ip",
               e."userAgent", e."requestId", e."action", e."targetType", e."targetId", e."companyId", e."changes", e."contentHash", 3
        from jsonb_to_recordset(p_events) as e("id" uuid, "occurredAt" timestamptz, "actorType" text, "actorId" uuid, "actorName" text,
                                               "ip" text, "userAgent" text, "requestId" text, "action" text, "targetType" text,
                                               "targetId" uuid, "companyId" uuid, "changes" jsonb, "contentHash" text)
        returning seq
      ), pending as (
        insert into audit_pending (group_id, seq) select p_group, seq from added returning seq
      )
      select max(seq) into v_seq from pending;
      return v_seq;
    end
    $fn$;
`);
