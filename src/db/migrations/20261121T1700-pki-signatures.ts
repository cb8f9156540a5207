import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table certificates (
      id uuid primary key,
      -- Null only for the deployment's own root CA and TSA, which belong to no tenant.
      group_id uuid references groups(id),
      purpose text not null check (purpose in ('root_ca', 'issuing_ca', 'tsa', 'seal', 'person')),
      -- The CA certificate that issued it; null for the root and for certificates from an outside CA.
      issuer_id uuid references certificates(id),
      seal_id uuid references seals(id),
      user_id uuid references users(id),
      source text not null check (source in ('issued', 'imported')),
      serial text not null,
      subject text not null,
      issuer text not null,
      key_spec text not null,
      not_before timestamptz not null,
      not_after timestamptz not null,
      der bytea not null,
      -- Imported certificates: the outside chain (base64 DER), nearest issuer first.
      chain jsonb not null default '[]',
      key_store text not null check (key_store in ('database', 'pkcs11')),
      -- database: the PKCS#8 key sealed with AES-256-GCM under the master key (never plaintext).
      sealed_key text,
      -- pkcs11: the token and the key's CKA_ID there.
      token_label text,
      token_key_id text,
      fingerprint text not null unique,
      status text not null default 'active' check (status in ('active', 'revoked')),
      revoked_at timestamptz,
      revocation_reason text check (revocation_reason in ('unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold')),
      -- CAs: bumped by every revocation change of a certificate they issued; a CRL made at an older revision is stale.
      revocation_revision bigint not null default 0,
      crl_number bigint not null default 0,
      created_at timestamptz not null default now(),
      check ((key_store = 'database') = (sealed_key is not null)),
      check ((key_store = 'pkcs11') = (token_key_id is not null)),
      check ((status = 'revoked') = (revoked_at is not null)),
      check ((purpose in ('root_ca', 'tsa')) = (group_id is null)),
      check (purpose <> 'seal' or seal_id is not null),
      check (purpose <> 'person' or user_id is not null)
    );
    create unique index certificates_deployment on certificates (purpose) where group_id is null and status = 'active';
    create unique index certificates_group_ca on certificates (group_id) where purpose = 'issuing_ca' and status = 'active';
    create unique index certificates_seal on certificates (seal_id) where purpose = 'seal' and status = 'active';
    create unique index certificates_person on certificates (user_id) where purpose = 'person' and status = 'active';
    create unique index certificates_serial on certificates (issuer_id, serial) where issuer_id is not null;
    create index certificates_revoked on certificates (issuer_id) where status = 'revoked';
    create index certificates_seal_all on certificates (seal_id, created_at) where seal_id is not null;
    create index certificates_user_all on certificates (user_id, created_at) where user_id is not null;

    -- The last CRL each CA published; regenerated when stale (a revocation since) or old.
    create table crls (
      issuer_id uuid primary key references certificates(id),
      group_id uuid references groups(id),
      crl_number bigint not null,
      revision bigint not null,
      this_update timestamptz not null,
      next_update timestamptz not null,
      der bytea not null
    );

    -- One row per signature Sigil applied: who, with which seal and certificate, on whose
    -- authority (grant or authorization), over which document and with which result.
    create table signatures (
      id uuid primary key,
      group_id uuid not null references groups(id),
      company_id uuid not null references companies(id),
      user_id uuid not null references users(id),
      seal_id uuid references seals(id),
      certificate_id uuid not null references certificates(id),
      authorization_id uuid references authorizations(id),
      grant_id uuid references seal_grants(id),
      category text,
      level text not null check (level in ('B-B', 'B-T', 'B-LT', 'B-LTA')),
      field_name text not null,
      reason text,
      document_name text,
      input_sha256 text not null,
      output_sha256 text not null,
      -- The document the chain of signatures started from (the one an application names).
      original_sha256 text not null,
      signed_at timestamptz not null,
      foreign key (group_id, input_sha256) references blobs (group_id, sha256),
      foreign key (group_id, output_sha256) references blobs (group_id, sha256),
      check (authorization_id is null or grant_id is null),
      check (seal_id is null or authorization_id is not null or grant_id is not null)
    );
    create index signatures_output on signatures (group_id, output_sha256);
    create index signatures_original on signatures (group_id, original_sha256);
    create index signatures_seal on signatures (seal_id, signed_at);
    create index signatures_user on signatures (user_id, signed_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table signatures;
    drop table crls;
    drop table certificates;
  `.execute(db);
}
