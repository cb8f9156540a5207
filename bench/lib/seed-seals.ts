// The `seals` bench's data: one group of 1,000 companies (HQ → 10 regions → subsidiaries),
// 100,000 people, 10,000 seals and 1,000,000 grants, written by set-based SQL (INSERT … SELECT
// over generate_series) on a database the real migrations made, so every row satisfies the
// real schema. Nothing here goes through the services: there is no audit event for any of it
// (the bench never verifies the chain), and every choice is a hash of the row number, so two
// seedings of the same sizes make the same rows (ids included).
import { createHash } from 'node:crypto';
import type pg from 'pg';

/** Bump when the rows this file makes change, so a cached database is seeded anew. */
export const SEALS_SEED_VERSION = 1;

export interface SealsSeedSizes {
  companies: number;
  users: number;
  seals: number;
  grantsPerSeal: number;
}

export const FULL_SIZES: SealsSeedSizes = { companies: 1000, users: 100_000, seals: 10_000, grantsPerSeal: 100 };

export const REGIONS = 10;
/** Company numbers: 0 is the head office, 1…REGIONS the regions, LARGE the largest subsidiary. */
export const HQ = 0;
export const LARGE = REGIONS + 1;

/**
 * Deterministic ids: a UUID whose version nibble is 4 and variant 8, so the API's UUID
 * check accepts it. `bid('u', 17)` is user 17, `bid('c', 0)` the head office, and so on.
 */
export function benchId(kind: string, n: number): string {
  const hex = createHash('md5').update(`${kind}:${n}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface SeedFacts {
  groupId: string;
  hqId: string;
  hqPath: string;
  largeCompanyId: string;
  largeCompanyName: string;
  largeCompanyPath: string;
  /** A seal administrator at the head office who keeps no seal: sees every seal, may ask about anyone. */
  adminId: string;
  /** The largest subsidiary's own share. */
  large: { users: number; seals: number; grants: number; departments: number };
}

/**
 * How many people and seals each company gets: the head office 4 % of the people and 1 % of
 * the seals, each region 1 % and 0.2 %, the large subsidiary 3 % and 0.6 %, and the other
 * subsidiaries share the rest evenly (every n-th row, so the counts differ by one at most).
 */
export function companyPlan(sizes: SealsSeedSizes) {
  const small = sizes.companies - (REGIONS + 2);
  if (small < 1) throw new Error(`at least ${REGIONS + 3} companies`);
  const hqUsers = Math.round(sizes.users * 0.04);
  const regionUsers = Math.round(sizes.users * 0.01);
  const largeUsers = Math.round(sizes.users * 0.03);
  const hqSeals = Math.round(sizes.seals * 0.01);
  const regionSeals = Math.round(sizes.seals * 0.002);
  const largeSeals = Math.round(sizes.seals * 0.006);
  const firstSmallUser = hqUsers + REGIONS * regionUsers + largeUsers + 1;
  const firstSmallSeal = hqSeals + REGIONS * regionSeals + largeSeals + 1;
  if (firstSmallUser + small > sizes.users || firstSmallSeal + small > sizes.seals)
    throw new Error('too few users or seals for the companies');
  return { small, hqUsers, regionUsers, largeUsers, hqSeals, regionSeals, largeSeals, firstSmallUser, firstSmallSeal };
}

const SURNAMES = [
  '王',
  '李',
  '张',
  '刘',
  '陈',
  '杨',
  '黄',
  '赵',
  '吴',
  '周',
  '徐',
  '孙',
  '马',
  '朱',
  '胡',
  '郭',
  '何',
  '高',
  '林',
  '罗',
];
const GIVEN = [
  '伟',
  '芳',
  '娜',
  '秀英',
  '敏',
  '静',
  '丽',
  '强',
  '磊',
  '军',
  '洋',
  '勇',
  '艳',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '秀兰',
  '霞',
  '平',
  '刚',
  '桂英',
  '建华',
  '建国',
  '志强',
  '晓东',
  '海燕',
  '文博',
  '雨轩',
];
const REGION_NAMES = ['华北', '华东', '华南', '华中', '西南', '西北', '东北', '华西', '港澳', '海外'];
const TYPE_LABELS: Array<[string, string]> = [
  ['official', '公章'],
  ['contract', '合同专用章'],
  ['finance', '财务专用章'],
  ['invoice', '发票专用章'],
  ['hr', '人事章'],
  ['legal_representative', '法定代表人章'],
  ['custom', '投标专用章'],
];
const KINDS = ['physical', 'electronic', 'ukey', 'mobile'];
const CATEGORIES = ['personnel', 'procurement', 'sales', 'legal', 'finance'];

const textArray = (values: string[]) => `array[${values.map((v) => `'${v}'`).join(',')}]::text[]`;

/**
 * Writes the whole data set into an empty, migrated database. `log` gets one line per step
 * with its time. Foreign-key triggers are off during the inserts (session_replication_role),
 * which is what makes a million grants take seconds; `checkSeed` then proves the references.
 */
export async function seedSeals(
  client: pg.Client,
  sizes: SealsSeedSizes,
  passwordHash: string,
  log: (message: string) => void,
): Promise<SeedFacts> {
  const plan = companyPlan(sizes);
  const U = sizes.users;
  const step = async (label: string, text: string) => {
    const started = performance.now();
    const result = await client.query(text);
    const rows = Array.isArray(result)
      ? result.reduce((n, r: pg.QueryResult) => n + (r.rowCount ?? 0), 0)
      : (result.rowCount ?? 0);
    log(`  ${label}: ${rows.toLocaleString('en-US')} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };

  await client.query(`
    set synchronous_commit = off;
    set session_replication_role = replica;
    create or replace function pg_temp.bid(kind text, n bigint) returns uuid language sql immutable as
      $$ select overlay(overlay(md5(kind || ':' || n) placing '4' from 13) placing '8' from 17)::uuid $$;
    -- A non-negative pseudo-random integer from a row number and a salt: the same every run.
    create or replace function pg_temp.h(n bigint, salt int) returns bigint language sql immutable as
      $$ select (hashint8(n * 64 + salt)::bigint & 2147483647) $$;
  `);

  const groupId = benchId('g', 0);
  // The companies and what each gets: a plan table for this session only.
  await step(
    'plan',
    `
    create temporary table bc as
    with numbered as (select c from generate_series(0, ${sizes.companies - 1}) c)
    select c,
      pg_temp.bid('c', c) as id,
      case when c = 0 then null when c <= ${REGIONS} then 0 else 1 + (c - ${LARGE}) % ${REGIONS} end as parent,
      case when c = 0 then 0 when c <= ${REGIONS} then 1 else 2 end as depth,
      case when c = 0 then 1 when c <= ${REGIONS} then ${plan.hqUsers + 1} + (c - 1) * ${plan.regionUsers} when c = ${LARGE} then ${plan.hqUsers + REGIONS * plan.regionUsers + 1} else ${plan.firstSmallUser} + (c - ${LARGE + 1}) end as first_u,
      case when c > ${LARGE} then ${plan.small} else 1 end as stride_u,
      case when c = 0 then ${plan.hqUsers} when c <= ${REGIONS} then ${plan.regionUsers} when c = ${LARGE} then ${plan.largeUsers}
        else ceil((${U} - (${plan.firstSmallUser} + (c - ${LARGE + 1})) + 1)::numeric / ${plan.small})::int end as n_u,
      case when c = 0 then 1 when c <= ${REGIONS} then ${plan.hqSeals + 1} + (c - 1) * ${plan.regionSeals} when c = ${LARGE} then ${plan.hqSeals + REGIONS * plan.regionSeals + 1} else ${plan.firstSmallSeal} + (c - ${LARGE + 1}) end as first_s,
      case when c > ${LARGE} then ${plan.small} else 1 end as stride_s,
      case when c = 0 then ${plan.hqSeals} when c <= ${REGIONS} then ${plan.regionSeals} when c = ${LARGE} then ${plan.largeSeals}
        else ceil((${sizes.seals} - (${plan.firstSmallSeal} + (c - ${LARGE + 1})) + 1)::numeric / ${plan.small})::int end as n_s
    from numbered;
    alter table bc add column n_d int, add column path text, add column name text, add column code text;
    update bc set n_d = greatest(1, n_u / 30),
      code = case when c = 0 then 'HQ' when c <= ${REGIONS} then 'R' || c else 'S' || c end,
      name = case when c = 0 then '华夏控股集团' when c <= ${REGIONS} then '华夏' || (${textArray(REGION_NAMES)})[c] || '区域公司'
        when c = ${LARGE} then '华夏华东精密制造有限公司' else '华夏' || (${textArray(REGION_NAMES)})[1 + (c - ${LARGE}) % ${REGIONS}] || '第' || c || '子公司' end;
    update bc set path = case when c = 0 then '/' || id || '/' when c <= ${REGIONS} then '/' || pg_temp.bid('c', 0) || '/' || id || '/'
      else '/' || pg_temp.bid('c', 0) || '/' || pg_temp.bid('c', parent) || '/' || id || '/' end;
    create unique index on bc (c);
    analyze bc;
  `,
  );

  await step(
    'group and companies',
    `
    insert into groups (id, name, slug, sod_matrix)
    values ('${groupId}', '华夏控股集团（压测）', 'bench-seals', '[["seal_admin","security_auditor"],["seal_admin","system_admin"],["security_auditor","system_admin"]]');
    insert into companies (id, group_id, parent_id, name, code, path, depth)
    select id, '${groupId}', case when parent is null then null else pg_temp.bid('c', parent) end, name, code, path, depth from bc order by c;
  `,
  );

  await step(
    'departments',
    `
    insert into departments (id, group_id, company_id, name, head_user_id)
    select pg_temp.bid('d', bc.c::bigint * 100000 + j), '${groupId}', bc.id, '第' || (j + 1) || '部', null
    from bc cross join lateral generate_series(0, bc.n_d - 1) j;
  `,
  );

  // Person u of company c is its k-th: u = first_u + stride_u·k. 9 in 10 sit in a department
  // (round robin); 2 % have resigned and 1 % are suspended.
  await step(
    'users',
    `
    insert into users (id, group_id, company_id, department_id, email, name, phone, locale, status, password_hash, status_changed_at)
    select pg_temp.bid('u', u), '${groupId}', bc.id,
      case when k >= 3 and pg_temp.h(u, 1) % 10 = 0 then null else pg_temp.bid('d', bc.c::bigint * 100000 + k % bc.n_d) end,
      'u' || u || '@bench.sigil.local',
      (${textArray(SURNAMES)})[1 + pg_temp.h(u, 2) % ${SURNAMES.length}] || (${textArray(GIVEN)})[1 + pg_temp.h(u, 3) % ${GIVEN.length}],
      null, 'zh-CN',
      case when k < 3 then 'active' when pg_temp.h(u, 4) % 100 < 2 then 'resigned' when pg_temp.h(u, 4) % 100 < 3 then 'suspended' else 'active' end,
      '${passwordHash}', null
    from bc cross join lateral generate_series(0, bc.n_u - 1) k
    cross join lateral (select bc.first_u + bc.stride_u * k as u) x;
  `,
  );

  // Everyone is an employee of their company; the first three of each company are its seal
  // administrators (the first keeps no seal, the second and third are the custodians).
  await step(
    'role assignments',
    `
    insert into role_assignments (id, group_id, user_id, role, company_id, created_by)
    select pg_temp.bid('ra', u), '${groupId}', pg_temp.bid('u', u), 'employee', bc.id, null
    from bc cross join lateral generate_series(0, bc.n_u - 1) k cross join lateral (select bc.first_u + bc.stride_u * k as u) x;
    insert into role_assignments (id, group_id, user_id, role, company_id, created_by)
    select pg_temp.bid('rs', u), '${groupId}', pg_temp.bid('u', u), 'seal_admin', bc.id, null
    from bc cross join lateral generate_series(0, 2) k cross join lateral (select bc.first_u + bc.stride_u * k as u) x;
  `,
  );

  // One person in fifty holds a second post, in the first department of another company.
  await step(
    'additional posts',
    `
    insert into user_posts (id, group_id, user_id, company_id, department_id, title)
    select pg_temp.bid('p', u), '${groupId}', pg_temp.bid('u', u), other.id, pg_temp.bid('d', other.c::bigint * 100000), '兼职'
    from generate_series(1, ${U}) u
    join bc other on other.c = pg_temp.h(u, 5) % ${sizes.companies}
    where pg_temp.h(u, 6) % 50 = 0;
  `,
  );

  // Seal s of company c is its k-th: s = first_s + stride_s·k. 92 % active.
  await step(
    'seals and custodians',
    `
    insert into seals (id, group_id, company_id, code, name, kind, type, custom_type, status, image_sha256, image_media_type, description, needs_custodian, produced_at, status_changed_at, created_at)
    select pg_temp.bid('s', s), '${groupId}', bc.id, 'BS-' || s,
      bc.name || (${textArray(TYPE_LABELS.map(([, label]) => label))})[1 + s % ${TYPE_LABELS.length}] || case when k >= ${TYPE_LABELS.length} then '（' || (k / ${TYPE_LABELS.length} + 1) || '）' else '' end,
      (${textArray(KINDS)})[1 + pg_temp.h(s, 7) % ${KINDS.length}],
      (${textArray(TYPE_LABELS.map(([type]) => type))})[1 + s % ${TYPE_LABELS.length}],
      case when s % ${TYPE_LABELS.length} = ${TYPE_LABELS.length - 1} then '投标专用章' else null end,
      case when pg_temp.h(s, 8) % 100 < 92 then 'active' when pg_temp.h(s, 8) % 100 < 95 then 'suspended' when pg_temp.h(s, 8) % 100 < 98 then 'lost' else 'destroyed' end,
      null, null, null, false, now() - interval '400 days', null, now() - interval '400 days'
    from bc cross join lateral generate_series(0, bc.n_s - 1) k cross join lateral (select bc.first_s + bc.stride_s * k as s) x;
    insert into seal_custodians (group_id, seal_id, user_id)
    select '${groupId}', pg_temp.bid('s', s), pg_temp.bid('u', bc.first_u + bc.stride_u * (1 + s % 2))
    from bc cross join lateral generate_series(0, bc.n_s - 1) k cross join lateral (select bc.first_s + bc.stride_s * k as s) x;
  `,
  );

  // Grant n (0…per seal − 1) of seal s: the last of every hundred is to a role (employee one
  // time in ten, else seal_admin, over the seal's company), the four before it to a department
  // of the seal's company, the rest to a person — of the seal's company, or one time in twenty
  // anyone in the group. 1–5 business categories; windows: a tenth ended a month after they
  // began, three tenths end within a year, the rest never; three tenths limit the number of uses
  // (some used up); one grant in twenty is revoked.
  const P = sizes.grantsPerSeal;
  const roleFrom = P - Math.max(1, Math.round(P / 100));
  const departmentFrom = roleFrom - Math.max(1, Math.round((P * 4) / 100));
  await step(
    'grants',
    `
    insert into seal_grants (id, group_id, seal_id, grantee_type, grantee_user_id, grantee_department_id, grantee_role, grantee_company_id,
      categories, valid_from, valid_until, max_uses, used_count, created_by, created_at, revoked_at, revoked_by, revoke_reason)
    select pg_temp.bid('gr', g), '${groupId}', pg_temp.bid('s', s),
      t.kind,
      case when t.kind = 'user' then pg_temp.bid('u', case when pg_temp.h(g, 9) % 20 = 0 then 1 + pg_temp.h(g, 10) % ${U} else bc.first_u + bc.stride_u * (pg_temp.h(g, 10) % bc.n_u) end) end,
      case when t.kind = 'department' then pg_temp.bid('d', bc.c::bigint * 100000 + pg_temp.h(g, 11) % bc.n_d) end,
      case when t.kind = 'role' then case when pg_temp.h(g, 12) % 10 = 0 then 'employee' else 'seal_admin' end end,
      case when t.kind = 'role' then bc.id end,
      array(select (${textArray(CATEGORIES)})[i] from generate_series(1, 5) i where ((1 + pg_temp.h(g, 13) % 31) >> (i - 1)) & 1 = 1),
      w.valid_from,
      case when pg_temp.h(g, 14) % 10 = 0 then w.valid_from + interval '30 days'
        when pg_temp.h(g, 14) % 10 <= 3 then now() + (1 + pg_temp.h(g, 15) % 365) * interval '1 day' end,
      m.max_uses,
      case when m.max_uses is null then pg_temp.h(g, 16) % 20 else pg_temp.h(g, 16) % (m.max_uses + 1) end,
      null, w.valid_from,
      case when pg_temp.h(g, 17) % 20 = 0 then w.valid_from + interval '1 day' end,
      null,
      case when pg_temp.h(g, 17) % 20 = 0 then '岗位调整' end
    from bc
    cross join lateral generate_series(0, bc.n_s - 1) k
    cross join lateral (select bc.first_s + bc.stride_s * k as s) x
    cross join lateral generate_series(0, ${P - 1}) n
    cross join lateral (select (x.s - 1)::bigint * ${P} + n + 1 as g) y
    cross join lateral (select case when n >= ${roleFrom} then 'role' when n >= ${departmentFrom} then 'department' else 'user' end as kind) t
    cross join lateral (select now() - (1 + pg_temp.h(g, 18) % 365) * interval '1 day' as valid_from) w
    cross join lateral (select case when pg_temp.h(g, 19) % 10 < 3 then 1 + (pg_temp.h(g, 20) % 50)::int end as max_uses) m;
  `,
  );

  await client.query('set session_replication_role = origin');
  const large = (
    await client.query<{ users: number; seals: number; departments: number }>(
      `select n_u as users, n_s as seals, n_d as departments from bc where c = ${LARGE}`,
    )
  ).rows[0]!;
  const names = (await client.query<{ name: string; path: string }>(`select name, path from bc where c = ${LARGE}`))
    .rows[0]!;
  return {
    groupId,
    hqId: benchId('c', HQ),
    hqPath: `/${benchId('c', HQ)}/`,
    largeCompanyId: benchId('c', LARGE),
    largeCompanyName: names.name,
    largeCompanyPath: names.path,
    adminId: benchId('u', 1),
    large: { users: large.users, seals: large.seals, departments: large.departments, grants: large.seals * P },
  };
}

/**
 * After the inserts (made with foreign-key triggers off): every reference resolves, then
 * VACUUM ANALYZE so the planner and index-only scans see the data as a running system would.
 * Returns the row counts.
 */
export async function checkSeed(client: pg.Client, log: (message: string) => void): Promise<Record<string, number>> {
  const started = performance.now();
  const orphans = await client.query<{ what: string; n: number }>(`
    select 'grant→seal' as what, count(*)::int as n from seal_grants g where not exists (select 1 from seals s where s.id = g.seal_id)
    union all select 'grant→user', count(*)::int from seal_grants g where g.grantee_user_id is not null and not exists (select 1 from users u where u.id = g.grantee_user_id)
    union all select 'grant→department', count(*)::int from seal_grants g where g.grantee_department_id is not null and not exists (select 1 from departments d where d.id = g.grantee_department_id)
    union all select 'grant→company', count(*)::int from seal_grants g where g.grantee_company_id is not null and not exists (select 1 from companies c where c.id = g.grantee_company_id)
    union all select 'user→department', count(*)::int from users u where u.department_id is not null and not exists (select 1 from departments d where d.id = u.department_id)
    union all select 'user→company', count(*)::int from users u where not exists (select 1 from companies c where c.id = u.company_id)
    union all select 'custodian→user', count(*)::int from seal_custodians k where not exists (select 1 from users u where u.id = k.user_id)
    union all select 'post→department', count(*)::int from user_posts p where not exists (select 1 from departments d where d.id = p.department_id)
    union all select 'role→user', count(*)::int from role_assignments r where not exists (select 1 from users u where u.id = r.user_id)
  `);
  const broken = orphans.rows.filter((r) => r.n > 0);
  if (broken.length > 0)
    throw new Error(`seeded rows with dangling references: ${broken.map((r) => `${r.what} ${r.n}`).join(', ')}`);
  log(`  references checked in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const vacuumed = performance.now();
  await client.query('vacuum analyze');
  log(`  vacuum analyze in ${((performance.now() - vacuumed) / 1000).toFixed(1)} s`);
  const counts = await client.query<Record<string, number>>(`
    select (select count(*)::int from companies) as companies, (select count(*)::int from departments) as departments,
      (select count(*)::int from users) as users, (select count(*)::int from role_assignments) as "roleAssignments",
      (select count(*)::int from user_posts) as posts, (select count(*)::int from seals) as seals,
      (select count(*)::int from seal_custodians) as custodians, (select count(*)::int from seal_grants) as grants,
      (select count(*)::int from seal_grants where revoked_at is not null) as "revokedGrants",
      (select count(*)::int from seal_grants where grantee_type = 'department') as "departmentGrants",
      (select count(*)::int from seal_grants where grantee_type = 'role') as "roleGrants"
  `);
  return counts.rows[0]!;
}
