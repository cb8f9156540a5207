import { sql, type Kysely } from 'kysely';

/**
 * Contracts, the rest of issue 14: a void agreement (作废协议) names the completed contract it
 * voids (at most one live agreement per contract); attachments (PDFs and images, in the blob
 * store); a second factor at signing required per contract; an identity check (real-name or face)
 * that outside signers pass through a configured provider, its verdict kept on the participant;
 * and download links for outside receivers beside the signing links; a company's signing policy
 * (a second factor for every contract it and the companies below it send).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table contracts add column void_of uuid references contracts (id);
    alter table contracts add column require_second_factor boolean not null default false;
    alter table contracts add column identity_check text check (identity_check in ('real_name', 'face'));
    create unique index contracts_void_of on contracts (void_of)
      where void_of is not null and status in ('draft', 'sent', 'signing', 'completed');
    alter table contract_participants add column identity_check jsonb;
    alter table contract_links add column purpose text not null default 'sign' check (purpose in ('sign', 'download'));
    create table contract_attachments (
      id uuid primary key,
      group_id uuid not null references groups (id),
      contract_id uuid not null references contracts (id),
      sha256 text not null,
      media_type text not null check (media_type in ('application/pdf', 'image/png', 'image/jpeg')),
      name text not null,
      size integer not null,
      created_by uuid not null references users (id),
      created_at timestamptz not null,
      unique (contract_id, sha256)
    );
    create index contract_attachments_contract on contract_attachments (contract_id, created_at);
    create table contract_policies (
      company_id uuid primary key references companies (id),
      group_id uuid not null references groups (id),
      require_second_factor boolean not null,
      updated_by uuid not null references users (id),
      updated_at timestamptz not null
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table contract_policies;
    drop table contract_attachments;
    delete from contract_links where purpose = 'download';
    alter table contract_links drop column purpose;
    alter table contract_participants drop column identity_check;
    drop index contracts_void_of;
    alter table contracts drop column identity_check;
    alter table contracts drop column require_second_factor;
    alter table contracts drop column void_of;
  `.execute(db);
}
