import { sql, type Kysely } from 'kysely';

/**
 * Smart seal devices (issue 16, docs/device-protocol.md). The deployment's device-ticket keys
 * (sealed like the other platform keys); devices bound to one physical seal each; the tickets the
 * server signed; every device event as synced (one row per device and sequence, so a repeated
 * batch changes nothing); the photos of stamped paper (bytes in the blob store); and findings,
 * each discrepancy that reconciliation found, once per device and key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table device_ticket_keys (
      id uuid primary key,
      key_id text not null unique,
      public_key bytea not null,
      reference jsonb not null,
      active boolean not null,
      created_at timestamptz not null
    );
    create unique index device_ticket_keys_active on device_ticket_keys (active) where active;

    create table devices (
      id uuid primary key,
      group_id uuid not null references groups(id),
      company_id uuid not null references companies(id),
      seal_id uuid not null references seals(id),
      serial text not null,
      public_key bytea not null,
      geofence jsonb,
      status text not null check (status in ('active', 'retired')),
      remote_locked boolean not null default false,
      directive_seq bigint not null default 0,
      acknowledged_seq bigint not null default 0,
      last_synced_at timestamptz,
      registered_by uuid not null references users(id),
      created_at timestamptz not null
    );
    create unique index devices_serial on devices (serial);
    create unique index devices_seal on devices (seal_id) where status = 'active';
    create index devices_group on devices (group_id, company_id);

    create table device_tickets (
      id uuid primary key,
      group_id uuid not null references groups(id),
      device_id uuid not null references devices(id),
      seal_id uuid not null references seals(id),
      mode text not null check (mode in ('use', 'maintenance')),
      authorization_id uuid references authorizations(id),
      application_id uuid references applications(id),
      holder_id uuid not null references users(id),
      uses integer not null,
      not_before timestamptz not null,
      not_after timestamptz not null,
      photo_mode text not null check (photo_mode in ('auto', 'manual')),
      photos_per_use integer not null,
      geofence jsonb,
      payload text not null,
      signature text not null,
      stamps_counted integer not null default 0,
      revoked_at timestamptz,
      created_at timestamptz not null
    );
    create unique index device_tickets_live on device_tickets (authorization_id, device_id) where mode = 'use';
    create index device_tickets_device on device_tickets (device_id, created_at);
    create index device_tickets_application on device_tickets (application_id);

    create table device_events (
      group_id uuid not null references groups(id),
      device_id uuid not null references devices(id),
      seq bigint not null,
      type text not null,
      device_time timestamptz not null,
      ticket_id uuid,
      use_no integer,
      why text,
      lat integer,
      lon integer,
      accuracy integer,
      photo_sha256 text,
      prev_hash text not null,
      hash text not null,
      payload text not null,
      signature text not null,
      received_at timestamptz not null,
      primary key (device_id, seq)
    );
    create index device_events_ticket on device_events (ticket_id, seq) where ticket_id is not null;
    create index device_events_photo on device_events (device_id, photo_sha256) where photo_sha256 is not null;

    create table device_photos (
      group_id uuid not null references groups(id),
      device_id uuid not null references devices(id),
      sha256 text not null,
      media_type text not null,
      size integer not null,
      uploaded_by uuid not null references users(id),
      created_at timestamptz not null,
      primary key (device_id, sha256)
    );

    create table device_findings (
      id uuid primary key,
      group_id uuid not null references groups(id),
      device_id uuid not null references devices(id),
      seal_id uuid not null references seals(id),
      application_id uuid references applications(id),
      ticket_id uuid,
      seq bigint,
      kind text not null,
      severity text not null check (severity in ('critical', 'high', 'medium', 'low')),
      detail text not null,
      dedupe_key text not null,
      created_at timestamptz not null,
      resolved_at timestamptz
    );
    create unique index device_findings_once on device_findings (device_id, dedupe_key);
    create index device_findings_seal on device_findings (group_id, seal_id, created_at desc);
    create index device_findings_application on device_findings (application_id) where application_id is not null;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table device_findings;
    drop table device_photos;
    drop table device_events;
    drop table device_tickets;
    drop table devices;
    drop table device_ticket_keys;
  `.execute(db);
}
