import { sql, type Kysely } from 'kysely';

/**
 * National cryptography in the platform (issue 15): an SM2 root beside the deployment's root, an
 * SM2 issuing CA per group beside its RSA/ECDSA one, the group's seal maker (制章者: a signing
 * certificate from that CA, since a CA certificate may only sign certificates and CRLs), an SM2
 * certificate per electronic seal (the
 * company as subject, listed on the seal's `.esl`), and the GB/T 38540 seals (`.esl`) that the
 * group's seal maker made, one in force per seal.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table certificates drop constraint certificates_purpose_check;
    alter table certificates add constraint certificates_purpose_check
      check (purpose in ('root_ca', 'issuing_ca', 'tsa', 'seal', 'person', 'event', 'sm2_root_ca', 'sm2_issuing_ca', 'sm2_seal_maker', 'sm2_seal'));
    -- certificates_check3 is the unnamed check of 20261121T1700 that only deployment certificates have no group.
    alter table certificates drop constraint certificates_check3;
    alter table certificates add constraint certificates_check3
      check ((purpose in ('root_ca', 'tsa', 'sm2_root_ca')) = (group_id is null));
    alter table certificates add constraint certificates_sm2_seal_check
      check (purpose <> 'sm2_seal' or seal_id is not null);
    create unique index certificates_group_sm2_ca on certificates (group_id)
      where purpose = 'sm2_issuing_ca' and status = 'active';
    create unique index certificates_sm2_seal on certificates (seal_id) where purpose = 'sm2_seal' and status = 'active';
    create unique index certificates_group_sm2_maker on certificates (group_id)
      where purpose = 'sm2_seal_maker' and status = 'active';

    create table electronic_seals (
      id uuid primary key,
      group_id uuid not null references groups(id),
      seal_id uuid not null references seals(id),
      maker_id uuid not null references certificates(id),
      certificate_id uuid not null references certificates(id),
      es_id text not null,
      image_sha256 text not null,
      der bytea not null,
      sha256 text not null,
      valid_start timestamptz not null,
      valid_end timestamptz not null,
      status text not null default 'active' check (status in ('active', 'superseded')),
      created_at timestamptz not null default now()
    );
    create unique index electronic_seals_current on electronic_seals (seal_id) where status = 'active';
    create index electronic_seals_group on electronic_seals (group_id, seal_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table electronic_seals;
    delete from crls where issuer_id in (select id from certificates where purpose in ('sm2_issuing_ca', 'sm2_root_ca'));
    delete from certificates where purpose in ('sm2_seal', 'sm2_seal_maker', 'sm2_issuing_ca', 'sm2_root_ca');
    drop index certificates_group_sm2_maker;
    drop index certificates_sm2_seal;
    drop index certificates_group_sm2_ca;
    alter table certificates drop constraint certificates_sm2_seal_check;
    alter table certificates drop constraint certificates_check3;
    alter table certificates add constraint certificates_check3
      check ((purpose in ('root_ca', 'tsa')) = (group_id is null));
    alter table certificates drop constraint certificates_purpose_check;
    alter table certificates add constraint certificates_purpose_check
      check (purpose in ('root_ca', 'issuing_ca', 'tsa', 'seal', 'person', 'event'));
  `.execute(db);
}
