import { sql, type Kysely } from 'kysely';

/**
 * Contracts (合同): a PDF from an upload or a template, its participants in signing order, the
 * fields placed on its pages, and the links that let an outside person in. Outside signers sign
 * with a one-time certificate issued for them after they prove who they are (`event`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table templates (
      id uuid primary key,
      group_id uuid not null references groups (id),
      company_id uuid not null references companies (id),
      name text not null,
      category text not null,
      latest_version integer not null,
      created_by uuid not null references users (id),
      created_at timestamptz not null default now(),
      archived_at timestamptz
    );
    create unique index templates_name on templates (group_id, company_id, name) where archived_at is null;
    create table template_versions (
      id uuid primary key,
      group_id uuid not null references groups (id),
      template_id uuid not null references templates (id),
      version integer not null,
      source jsonb not null,
      created_by uuid not null references users (id),
      created_at timestamptz not null default now(),
      unique (template_id, version)
    );
    create table contracts (
      id uuid primary key,
      group_id uuid not null references groups (id),
      company_id uuid not null references companies (id),
      title text not null,
      category text not null,
      number text,
      effective_on date,
      expires_on date,
      status text not null check (status in ('draft', 'sent', 'signing', 'completed', 'rejected', 'voided', 'expired')),
      source_sha256 text not null,
      current_sha256 text not null,
      template_version_id uuid references template_versions (id),
      values jsonb,
      current_step integer not null default 0,
      deadline timestamptz,
      remind_every_days integer,
      last_reminded_at timestamptz,
      created_by uuid not null references users (id),
      created_at timestamptz not null default now(),
      sent_at timestamptz,
      ended_at timestamptz,
      end_reason text
    );
    create unique index contracts_number on contracts (group_id, number) where number is not null;
    create index contracts_list on contracts (group_id, created_at desc, id desc);
    create index contracts_current on contracts (group_id, current_sha256);
    create index contracts_due on contracts (deadline) where status in ('sent', 'signing');
    create table contract_participants (
      id uuid primary key,
      group_id uuid not null references groups (id),
      contract_id uuid not null references contracts (id),
      position integer not null,
      step integer not null check (step >= 1),
      role text not null check (role in ('signer', 'approver', 'cc', 'receiver')),
      kind text not null check (kind in ('company', 'person', 'outside_person', 'outside_org')),
      company_id uuid references companies (id),
      seal_id uuid references seals (id),
      user_id uuid references users (id),
      name text not null,
      org_name text,
      phone text,
      email text,
      status text not null check (status in ('waiting', 'active', 'done', 'rejected')),
      acted_at timestamptz,
      acted_by uuid references users (id),
      reason text,
      consent_at timestamptz,
      identity jsonb,
      unique (contract_id, position)
    );
    create index contract_participants_user on contract_participants (user_id, status) where user_id is not null;
    create table contract_fields (
      id uuid primary key,
      group_id uuid not null references groups (id),
      contract_id uuid not null references contracts (id),
      participant_id uuid not null references contract_participants (id),
      type text not null check (type in ('company_seal', 'cross_page_seal', 'legal_rep_seal', 'signature', 'date', 'text', 'checkbox')),
      page integer,
      rect jsonb,
      keyword text,
      label text,
      required boolean not null default true,
      value text,
      filled_at timestamptz
    );
    create index contract_fields_contract on contract_fields (contract_id);
    create table contract_links (
      id uuid primary key,
      group_id uuid not null references groups (id),
      contract_id uuid not null references contracts (id),
      participant_id uuid not null references contract_participants (id),
      token_hash text not null unique,
      expires_at timestamptz not null,
      used_at timestamptz,
      session_hash text unique,
      session_expires_at timestamptz,
      code_hash text,
      code_expires_at timestamptz,
      code_sent_at timestamptz,
      codes_sent integer not null default 0,
      failed_attempts integer not null default 0,
      locked_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index contract_links_participant on contract_links (participant_id);
    create table contract_signatures (
      id uuid primary key,
      group_id uuid not null references groups (id),
      contract_id uuid not null references contracts (id),
      participant_id uuid not null references contract_participants (id),
      signature_id uuid references signatures (id),
      certificate_id uuid not null references certificates (id),
      field_name text not null,
      input_sha256 text not null,
      output_sha256 text not null,
      signed_at timestamptz not null
    );
    create index contract_signatures_contract on contract_signatures (contract_id, signed_at);
    alter table certificates drop constraint certificates_purpose_check;
    alter table certificates add constraint certificates_purpose_check
      check (purpose in ('root_ca', 'issuing_ca', 'tsa', 'seal', 'person', 'event'));
    alter table certificates drop constraint certificates_key_store_check;
    alter table certificates add constraint certificates_key_store_check
      check (key_store in ('database', 'pkcs11', 'none'));
    alter table notification_deliveries alter column user_id drop not null;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    delete from notification_deliveries where user_id is null;
    alter table notification_deliveries alter column user_id set not null;
    delete from certificates where purpose = 'event';
    alter table certificates drop constraint certificates_key_store_check;
    alter table certificates add constraint certificates_key_store_check check (key_store in ('database', 'pkcs11'));
    alter table certificates drop constraint certificates_purpose_check;
    alter table certificates add constraint certificates_purpose_check
      check (purpose in ('root_ca', 'issuing_ca', 'tsa', 'seal', 'person'));
    drop table contract_signatures;
    drop table contract_links;
    drop table contract_fields;
    drop table contract_participants;
    drop table contracts;
    drop table template_versions;
    drop table templates;
  `.execute(db);
}
