import { sql, type Kysely } from 'kysely';

/**
 * Seals at scale (bench `seals`: 1,000 companies, 100,000 people, 10,000 seals, 1,000,000 grants).
 *
 * The use decision becomes a function, `sigil_seal_use_facts`, which `findUseFacts` calls.
 * PostgreSQL planned the decision's query at every call: 0.3 ms of planning for 0.08 ms of
 * execution (EXPLAIN, at that scale), and per-connection prepared statements do not help while
 * plan_cache_mode forces custom plans. A PL/pgSQL function keeps its query's plan for the
 * connection; `plan_cache_mode = auto`, set on the function alone, lets that be the generic plan,
 * which for these equality look-ups is the plan a custom one would be. The query also looks up
 * the person's own grant, their departments' grants and the role grants of the seal each by its
 * own index instead of filtering every live grant of the seal: the work no longer grows with the
 * number of grants a seal has. Measured on the bench data (PostgreSQL backend CPU per decision,
 * busy machine): 944 µs as the query was sent before, 322 µs as a function, 138 µs with the
 * indexes; 40,519 decisions gave the same answers before and after. It reads only, in the
 * caller's transaction: invariant 2 holds as before.
 *
 * The permission report expands department and role grants to people: without an index on
 * users.department_id and user_posts.department_id it read every person of every group per
 * report, and a role grant read every role assignment of its company to find that role's holders.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index users_department on users (department_id) where department_id is not null;
    create index user_posts_department on user_posts (department_id) where department_id is not null;
    create index role_assignments_company_role on role_assignments (company_id, role);
    create index seal_grants_seal_user on seal_grants (seal_id, grantee_user_id) where revoked_at is null and grantee_user_id is not null;
    create index seal_grants_seal_department on seal_grants (seal_id, grantee_department_id) where revoked_at is null and grantee_department_id is not null;
    create index seal_grants_seal_role on seal_grants (seal_id) where revoked_at is null and grantee_type = 'role';

    -- The facts of one use decision (decideSealUse): the seal's and the person's status, whether
    -- they keep the seal, and the best live grant covering them for the category at p_at — their
    -- own first, then their departments' (including additional posts), then their roles' (held at
    -- or below the role grant's company) — the oldest first within each.
    create function sigil_seal_use_facts(p_group uuid, p_seal uuid, p_user uuid, p_category text, p_at timestamptz)
    returns table ("sealStatus" text, "userStatus" text, "isCustodian" boolean, "grant" json)
    language plpgsql stable
    set plan_cache_mode = auto
    as $fn$
    #variable_conflict use_column
    begin
      return query
      with person as (
        select u.id, u.status, u.department_id from users u where u.id = p_user and u.group_id = p_group
      ), covering as (
        select g.id, g.grantee_type, g.valid_from, g.valid_until, g.categories, g.max_uses, g.used_count, g.created_at, g.group_id, 0 as rank
        from seal_grants g
        where g.seal_id = p_seal and g.grantee_user_id = p_user and g.revoked_at is null
        union all
        select g.id, g.grantee_type, g.valid_from, g.valid_until, g.categories, g.max_uses, g.used_count, g.created_at, g.group_id, 1
        from seal_grants g
        where g.seal_id = p_seal and g.revoked_at is null and g.grantee_department_id is not null
          and g.grantee_department_id = any (array(
            select department_id from person where department_id is not null
            union select p.department_id from user_posts p where p.user_id = p_user and p.department_id is not null
          ))
        union all
        select g.id, g.grantee_type, g.valid_from, g.valid_until, g.categories, g.max_uses, g.used_count, g.created_at, g.group_id, 2
        from seal_grants g
        join companies gc on gc.id = g.grantee_company_id
        where g.seal_id = p_seal and g.grantee_type = 'role' and g.revoked_at is null
          and exists (
            select 1 from role_assignments r join companies c on c.id = r.company_id
            where r.user_id = p_user and r.role = g.grantee_role and c.path like gc.path || '%'
          )
      )
      select
        (select s.status from seals s where s.id = p_seal and s.group_id = p_group),
        (select status from person),
        exists (select 1 from seal_custodians k where k.seal_id = p_seal and k.user_id = p_user),
        (
          select json_build_object('id', g.id, 'granteeType', g.grantee_type, 'validUntil', g.valid_until, 'maxUses', g.max_uses, 'usedCount', g.used_count)
          from covering g
          where g.group_id = p_group
            and g.valid_from <= p_at
            and (g.valid_until is null or g.valid_until > p_at)
            and p_category = any (g.categories)
            and (g.max_uses is null or g.used_count < g.max_uses)
          order by g.rank, g.created_at
          limit 1
        );
    end
    $fn$;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop function sigil_seal_use_facts(uuid, uuid, uuid, text, timestamptz);
    drop index seal_grants_seal_role;
    drop index seal_grants_seal_department;
    drop index seal_grants_seal_user;
    drop index role_assignments_company_role;
    drop index user_posts_department;
    drop index users_department;
  `.execute(db);
}
