import { sql, type Kysely } from 'kysely';

/**
 * Managing usage records (用印记录, issue 16 §9): corrections appended to a record (who, why,
 * what; the record itself is never changed), and sampling reviews (N records drawn at random for
 * a reviewer, each confirmed or flagged with a comment). A record is named by `record_id`:
 * `e-<signature id>` for an electronic signature, `p-<device id>-<event seq>` for a stamp a
 * smart seal logged. Each review item keeps what the record said when it was drawn.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table device_usage_corrections (
      id uuid primary key,
      group_id uuid not null references groups(id),
      company_id uuid not null references companies(id),
      seal_id uuid not null references seals(id),
      record_id text not null,
      what text not null,
      why text not null,
      corrected_by uuid not null references users(id),
      created_at timestamptz not null
    );
    create index device_usage_corrections_record on device_usage_corrections (group_id, record_id, created_at);

    create table device_usage_reviews (
      id uuid primary key,
      group_id uuid not null references groups(id),
      company_id uuid not null references companies(id),
      seal_id uuid references seals(id),
      period_from timestamptz not null,
      period_to timestamptz not null,
      size integer not null check (size between 1 and 200),
      population integer not null,
      reviewer_id uuid not null references users(id),
      created_by uuid not null references users(id),
      created_at timestamptz not null
    );
    create index device_usage_reviews_company on device_usage_reviews (group_id, company_id, created_at desc);
    create index device_usage_reviews_reviewer on device_usage_reviews (reviewer_id, created_at desc);

    create table device_usage_review_items (
      review_id uuid not null references device_usage_reviews(id),
      position integer not null,
      group_id uuid not null references groups(id),
      record_id text not null,
      kind text not null check (kind in ('electronic', 'physical')),
      seal_id uuid not null references seals(id),
      user_id uuid not null references users(id),
      used_at timestamptz not null,
      application_id uuid,
      reference text not null,
      decision text check (decision in ('confirmed', 'flagged')),
      comment text,
      decided_by uuid references users(id),
      decided_at timestamptz,
      primary key (review_id, position)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table device_usage_review_items;
    drop table device_usage_reviews;
    drop table device_usage_corrections;
  `.execute(db);
}
