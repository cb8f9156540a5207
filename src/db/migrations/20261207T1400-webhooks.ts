import { sql, type Kysely } from 'kysely';

/**
 * Webhooks. Endpoints belong to a company of a group (they receive the public events of its
 * subtree); their signing secrets are sealed (AES-GCM under the master key), the previous one kept
 * until the rotation overlap ends. A delivery is one message to one endpoint, with every attempt's
 * outcome. `outbox_claims` records which outbox entries a durable consumer has taken (the webhook
 * fan-out), once each across all processes; a claim goes with its entry.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table outbox_claims (
      consumer text not null,
      outbox_id bigint not null references outbox(id) on delete cascade,
      claimed_at timestamptz not null,
      primary key (consumer, outbox_id)
    );
    create index outbox_topic on outbox (topic, id);

    create table webhook_endpoints (
      id uuid primary key,
      group_id uuid not null references groups(id),
      company_id uuid not null references companies(id),
      url text not null,
      description text not null,
      event_types text[] not null,
      enabled boolean not null,
      secret_sealed text not null,
      previous_secret_sealed text,
      previous_secret_until timestamptz,
      created_by uuid not null,
      created_at timestamptz not null,
      updated_at timestamptz not null
    );
    create index webhook_endpoints_group on webhook_endpoints (group_id, company_id);

    create table webhook_deliveries (
      id uuid primary key,
      group_id uuid not null references groups(id),
      endpoint_id uuid not null references webhook_endpoints(id) on delete cascade,
      message_id text not null,
      event_type text not null,
      payload jsonb not null,
      status text not null check (status in ('pending', 'delivered', 'failed', 'dead')),
      attempts integer not null default 0,
      last_http_status integer,
      last_error text,
      last_attempt_at timestamptz,
      next_attempt_at timestamptz,
      delivered_at timestamptz,
      created_at timestamptz not null
    );
    create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, created_at desc, id desc);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table webhook_deliveries;
    drop table webhook_endpoints;
    drop index outbox_topic;
    drop table outbox_claims;
  `.execute(db);
}
