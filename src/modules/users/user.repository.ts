import { sql } from 'kysely';
import type { Db, Role, Transaction, UserStatus, UsersTable } from '../../db/schema.js';
import { escapeLike, inScope } from '../../db/scope.js';
import { isoTimestamp, readJsonPage, Statement, type JsonPage } from '../../db/json-page.js';
import type { Updateable } from 'kysely';

export interface UserRecord {
  id: string;
  companyId: string;
  companyPath: string;
  departmentId: string | null;
  email: string;
  name: string;
  phone: string | null;
  locale: 'zh-CN' | 'en';
  status: UserStatus;
  totpEnabled: boolean;
  serviceAccount: boolean;
  lockedUntil: Date | null;
  createdAt: Date;
  statusChangedAt: Date | null;
}

function selectUsers(db: Db | Transaction) {
  return db
    .selectFrom('users as u')
    .innerJoin('companies as c', 'c.id', 'u.company_id')
    .select([
      'u.id',
      'u.company_id as companyId',
      'c.path as companyPath',
      'u.department_id as departmentId',
      'u.email',
      'u.name',
      'u.phone',
      'u.locale',
      'u.status',
      'u.totp_enabled as totpEnabled',
      'u.service_account as serviceAccount',
      'u.locked_until as lockedUntil',
      'u.created_at as createdAt',
      'u.status_changed_at as statusChangedAt',
    ]);
}

export async function findUser(
  db: Db | Transaction,
  where: { groupId: string; id: string; scope?: string[] },
  options: { lock?: boolean } = {},
): Promise<UserRecord | undefined> {
  let query = selectUsers(db).where('u.group_id', '=', where.groupId).where('u.id', '=', where.id);
  if (where.scope) {
    const scope = where.scope;
    query = query.where((eb) => inScope(eb, 'c.path', scope));
  }
  return options.lock ? query.forUpdate('u').executeTakeFirst() : query.executeTakeFirst();
}

export interface UserListFilter {
  groupId: string;
  scope: string[];
  companyId?: string | undefined;
  /** Users of this company and every company below it. */
  under?: string | undefined;
  departmentId?: string | undefined;
  status?: UserStatus | undefined;
  q?: string | undefined;
  after?: { name: string; id: string } | undefined;
  limit: number;
}

/**
 * A page of users by name, keyset-paged on (name, id) so deep pages cost what the first does,
 * serialised by the database: the list is the console's most-read page, and building its JSON in
 * PostgreSQL spares the server parsing fifty rows only to write them out again. The fields are
 * those of `userSchema`, as `presentUser` gives them (test/organisation.test.ts holds them equal).
 */
export async function findUsersJson(
  db: Db,
  filter: UserListFilter,
  now: Date,
): Promise<Omit<JsonPage, 'last'> & { last: { name: string; id: string } | null }> {
  const st = new Statement();
  const where = [`u.group_id = ${st.add(filter.groupId)}`, st.withinPaths('c.path', filter.scope)];
  if (filter.companyId) where.push(`u.company_id = ${st.add(filter.companyId)}`);
  if (filter.under) where.push(st.withinPaths('c.path', [filter.under]));
  if (filter.departmentId) where.push(`u.department_id = ${st.add(filter.departmentId)}`);
  if (filter.status) where.push(`u.status = ${st.add(filter.status)}`);
  if (filter.q) {
    const pattern = st.add(`%${escapeLike(filter.q)}%`);
    where.push(`(u.name ilike ${pattern} or u.email ilike ${pattern})`);
  }
  if (filter.after) where.push(`(u.name, u.id) > (${st.add(filter.after.name)}, ${st.add(filter.after.id)})`);
  // Each row of the page becomes one JSON object, its keys the columns' names.
  const text = `select coalesce(json_agg(p order by p.name, p.id), '[]')::text as items, count(*) as count
    from (
      select u.id, u.email, u.name, u.phone, u.locale, u.status, u.company_id as "companyId", u.department_id as "departmentId",
        u.totp_enabled as "totpEnabled", u.service_account as "serviceAccount", coalesce(u.locked_until > ${st.add(now)}, false) as locked,
        ${isoTimestamp('u.created_at')} as "createdAt", ${isoTimestamp('u.status_changed_at')} as "statusChangedAt"
      from users u join companies c on c.id = u.company_id
      where ${where.join(' and ')}
      order by u.name, u.id limit ${st.add(filter.limit)}
    ) p`;
  const page = await readJsonPage(db, st, text);
  return { ...page, last: page.last ? { name: String(page.last.name), id: String(page.last.id) } : null };
}

export async function insertUser(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    companyId: string;
    departmentId: string | null;
    email: string;
    name: string;
    phone: string | null;
    locale: 'zh-CN' | 'en';
    passwordHash: string;
    /** Someone else chose the password: the person must change it before anything else. */
    mustChangePassword?: boolean;
    /** Held by an integration; nobody signs in as it. */
    serviceAccount?: boolean;
  },
): Promise<void> {
  await trx
    .insertInto('users')
    .values({
      id: row.id,
      group_id: row.groupId,
      company_id: row.companyId,
      department_id: row.departmentId,
      email: row.email,
      name: row.name,
      phone: row.phone,
      locale: row.locale,
      status: 'active',
      password_hash: row.passwordHash,
      must_change_password: row.mustChangePassword ?? false,
      service_account: row.serviceAccount ?? false,
      locked_until: null,
      totp_secret: null,
      totp_last_step: null,
      status_changed_at: null,
    })
    .execute();
}

export async function updateUser(trx: Transaction, id: string, patch: Updateable<UsersTable>): Promise<void> {
  await trx.updateTable('users').set(patch).where('id', '=', id).execute();
}

export async function findPosts(db: Db | Transaction, groupId: string, userId: string) {
  return db
    .selectFrom('user_posts')
    .select(['id', 'company_id as companyId', 'department_id as departmentId', 'title', 'created_at as createdAt'])
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .execute();
}

export async function insertPost(
  trx: Transaction,
  row: { id: string; groupId: string; userId: string; companyId: string; departmentId: string | null; title: string },
) {
  await trx
    .insertInto('user_posts')
    .values({
      id: row.id,
      group_id: row.groupId,
      user_id: row.userId,
      company_id: row.companyId,
      department_id: row.departmentId,
      title: row.title,
    })
    .execute();
}

export async function deletePost(
  trx: Transaction,
  where: { groupId: string; userId: string; postId: string },
): Promise<boolean> {
  const result = await trx
    .deleteFrom('user_posts')
    .where('group_id', '=', where.groupId)
    .where('user_id', '=', where.userId)
    .where('id', '=', where.postId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function findUserRoles(db: Db | Transaction, groupId: string, userId: string) {
  return db
    .selectFrom('role_assignments as r')
    .innerJoin('companies as c', 'c.id', 'r.company_id')
    .select(['r.id', 'r.role', 'r.company_id as companyId', 'c.name as companyName', 'r.created_at as createdAt'])
    .where('r.group_id', '=', groupId)
    .where('r.user_id', '=', userId)
    .orderBy('r.created_at')
    .execute();
}

/** The departments a person belongs to: their own and those of their additional posts. */
export async function findUserDepartmentIds(db: Db | Transaction, userId: string): Promise<string[]> {
  const own = await db
    .selectFrom('users')
    .select('department_id as id')
    .where('id', '=', userId)
    .where('department_id', 'is not', null)
    .execute();
  const posts = await db
    .selectFrom('user_posts')
    .select('department_id as id')
    .where('user_id', '=', userId)
    .where('department_id', 'is not', null)
    .execute();
  return [...new Set([...own, ...posts].map((r) => r.id).filter((id): id is string => id !== null))];
}

/**
 * Active people in the company line of `path`: its company, the companies below it and those
 * above it (never a sibling's). The directory any employee may search to pick an approver.
 */
/** Active people of a company line (the company at `path`, those below and above it), by name or e-mail; `exclude` leaves people out. */
/** The group's users among `ids`, in one read (those not found are left out). */
export async function findUsersById(
  db: Db | Transaction,
  where: { groupId: string; ids: string[] },
): Promise<UserRecord[]> {
  if (where.ids.length === 0) return [];
  return selectUsers(db).where('u.group_id', '=', where.groupId).where('u.id', 'in', where.ids).execute();
}

export async function findPeople(
  db: Db,
  q: {
    groupId: string;
    path: string;
    q?: string | undefined;
    limit: number;
    exclude?: string[];
    /** Only people holding this role over the company at `companyPath` (assigned there or above it). */
    holding?: { role: Role; companyPath: string };
  },
) {
  let query = db
    .selectFrom('users as u')
    .innerJoin('companies as c', 'c.id', 'u.company_id')
    .select(['u.id', 'u.name', 'u.company_id as companyId', 'c.name as companyName'])
    .where('u.group_id', '=', q.groupId)
    .where('u.status', '=', 'active')
    .where((eb) => eb.or([eb('c.path', 'like', `${escapeLike(q.path)}%`), sql<boolean>`${q.path} like c.path || '%'`]));
  if (q.q) {
    const pattern = `%${escapeLike(q.q)}%`;
    query = query.where((eb) => eb.or([eb('u.name', 'ilike', pattern), eb('u.email', 'ilike', pattern)]));
  }
  if (q.exclude && q.exclude.length > 0) query = query.where('u.id', 'not in', q.exclude);
  const holding = q.holding;
  if (holding)
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('role_assignments as r')
          .innerJoin('companies as rc', 'rc.id', 'r.company_id')
          .select('r.id')
          .whereRef('r.user_id', '=', 'u.id')
          .where('r.role', '=', holding.role)
          .where(sql<boolean>`${holding.companyPath} like rc.path || '%'`),
      ),
    );
  return query.orderBy('u.name').orderBy('u.id').limit(q.limit).execute();
}
