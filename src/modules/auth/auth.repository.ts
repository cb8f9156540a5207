import { sql } from 'kysely';
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres';
import { precompiled } from '../../db/precompiled.js';
import type { Db, Role, Transaction, UserStatus } from '../../db/schema.js';
import type { Permission } from '../access/index.js';

export interface SessionPrincipalRow {
  sessionId: string;
  mfaPending: boolean;
  expiresAt: Date;
  userId: string;
  groupId: string;
  name: string;
  companyId: string;
  companyPath: string;
  /** The user must change a password someone else chose before doing anything else. */
  mustChangePassword: boolean;
  roles: Array<{ role: Role; companyId: string; companyPath: string }>;
}

/**
 * A live session and everything authorisation needs about its user, in one
 * round trip: it runs on every request. A user who is no longer active has no session.
 */
export async function findSessionPrincipal(
  db: Db,
  session: { tokenHash: string } | { sessionId: string },
  now: Date,
): Promise<SessionPrincipalRow | undefined> {
  return db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .innerJoin('companies as c', 'c.id', 'u.company_id')
    .select((eb) => [
      's.id as sessionId',
      's.mfa_pending as mfaPending',
      's.expires_at as expiresAt',
      'u.id as userId',
      'u.group_id as groupId',
      'u.name as name',
      'u.company_id as companyId',
      'c.path as companyPath',
      'u.must_change_password as mustChangePassword',
      jsonArrayFrom(
        eb
          .selectFrom('role_assignments as r')
          .innerJoin('companies as rc', 'rc.id', 'r.company_id')
          .select(['r.role as role', 'r.company_id as companyId', 'rc.path as companyPath'])
          .whereRef('r.user_id', '=', 'u.id'),
      ).as('roles'),
    ])
    .where(
      'tokenHash' in session ? 's.token_hash' : 's.id',
      '=',
      'tokenHash' in session ? session.tokenHash : session.sessionId,
    )
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', now)
    .where('u.status', '=', 'active')
    .executeTakeFirst();
}

export interface ApiKeyPrincipalRow {
  id: string;
  groupId: string;
  name: string;
  companyId: string;
  companyPath: string;
  permissions: Permission[];
  expiresAt: Date | null;
  /** The service account the key acts as: its roles, company and name (null for a key with its own permissions). */
  account: {
    id: string;
    name: string;
    companyId: string;
    companyPath: string;
    roles: Array<{ role: Role; companyId: string; companyPath: string }>;
  } | null;
}

export async function findApiKeyPrincipal(db: Db, keyHash: string, now: Date): Promise<ApiKeyPrincipalRow | undefined> {
  return (
    db
      .selectFrom('api_keys as k')
      .innerJoin('companies as c', 'c.id', 'k.company_id')
      .select([
        'k.id as id',
        'k.group_id as groupId',
        'k.name as name',
        'k.company_id as companyId',
        'c.path as companyPath',
        sql<Permission[]>`k.permissions`.as('permissions'),
        'k.expires_at as expiresAt',
        (eb) =>
          jsonObjectFrom(
            eb
              .selectFrom('users as u')
              .innerJoin('companies as uc', 'uc.id', 'u.company_id')
              .select((inner) => [
                'u.id as id',
                'u.name as name',
                'u.company_id as companyId',
                'uc.path as companyPath',
                jsonArrayFrom(
                  inner
                    .selectFrom('role_assignments as r')
                    .innerJoin('companies as rc', 'rc.id', 'r.company_id')
                    .select(['r.role as role', 'r.company_id as companyId', 'rc.path as companyPath'])
                    .whereRef('r.user_id', '=', 'u.id'),
                ).as('roles'),
              ])
              .whereRef('u.id', '=', 'k.user_id'),
          ).as('account'),
      ])
      .where('k.key_hash', '=', keyHash)
      .where('k.revoked_at', 'is', null)
      // A key acting as a service account lives only while the account is active.
      .where((eb) =>
        eb.or([
          eb('k.user_id', 'is', null),
          eb.exists(
            eb
              .selectFrom('users as a')
              .select('a.id')
              .whereRef('a.id', '=', 'k.user_id')
              .where('a.status', '=', 'active')
              .where('a.service_account', '=', true),
          ),
        ]),
      )
      .where((eb) => eb.or([eb('k.expires_at', 'is', null), eb('k.expires_at', '>', now)]))
      .executeTakeFirst()
  );
}

export interface LoginUserRow {
  id: string;
  groupId: string;
  name: string;
  email: string;
  status: UserStatus;
  passwordHash: string;
  failedLogins: number;
  lockedUntil: Date | null;
  totpEnabled: boolean;
  totpSecret: string | null;
  totpLastStep: number | null;
  mustChangePassword: boolean;
  companyId: string;
}

/**
 * The user as sign-in needs them. With `lock`, the row is locked for the transaction:
 * concurrent wrong guesses must each count, not overwrite each other.
 */
const selectLoginUsers = (executor: Db | Transaction) =>
  executor
    .selectFrom('users as u')
    .select([
      'u.id as id',
      'u.group_id as groupId',
      'u.name as name',
      'u.email as email',
      'u.status as status',
      'u.password_hash as passwordHash',
      'u.failed_logins as failedLogins',
      'u.locked_until as lockedUntil',
      'u.totp_enabled as totpEnabled',
      'u.totp_secret as totpSecret',
      'u.totp_last_step as totpLastStep',
      'u.must_change_password as mustChangePassword',
      'u.company_id as companyId',
    ])
    // Nobody signs in as a service account: to sign-in it does not exist.
    .where('u.service_account', '=', false);

// By id, read at each signature (whether the signer has an authenticator): built once.
const selectLoginUserById = precompiled((executor, where: { id: string }) =>
  selectLoginUsers(executor).where('u.id', '=', where.id),
);
const lockLoginUserById = precompiled((executor, where: { id: string }) =>
  selectLoginUsers(executor).where('u.id', '=', where.id).forUpdate('u'),
);

export async function findLoginUser(
  executor: Db | Transaction,
  where: { email: string } | { id: string },
  options: { lock: boolean },
): Promise<LoginUserRow | undefined> {
  if (!('email' in where))
    return (await (options.lock ? lockLoginUserById : selectLoginUserById)(executor, { id: where.id }))[0];
  const query = selectLoginUsers(executor).where(sql`lower(u.email)`, '=', where.email.toLowerCase());
  return options.lock ? query.forUpdate('u').executeTakeFirst() : query.executeTakeFirst();
}

/** The row that counts an address's failures from every client. */
export const ALL_CLIENTS = '*';

export interface SignInThrottleState {
  /** This client's wait for this address. */
  pairWaitUntil: Date | null;
  /** The wait for this address from every client it has not signed in from. */
  accountWaitUntil: Date | null;
  /** Whether the account with this address has had a session from this client since `knownSince`. */
  isKnownClient: boolean;
}

export async function findSignInThrottle(
  db: Db | Transaction,
  key: { subject: string; client: string; email: string; knownSince: Date },
): Promise<SignInThrottleState> {
  const waitOf = (client: string) =>
    db
      .selectFrom('sign_in_throttles')
      .select('wait_until')
      .where('subject', '=', key.subject)
      .where('client', '=', client);
  const row = await db
    .selectNoFrom((eb) => [
      waitOf(key.client).as('pairWaitUntil'),
      waitOf(ALL_CLIENTS).as('accountWaitUntil'),
      eb
        .exists(
          eb
            .selectFrom('sessions as s')
            .innerJoin('users as u', 'u.id', 's.user_id')
            .select(sql<number>`1`.as('one'))
            .where(sql`lower(u.email)`, '=', key.email.toLowerCase())
            .where('s.ip', '=', key.client)
            .where('s.mfa_pending', '=', false)
            .where('s.created_at', '>', key.knownSince),
        )
        .as('isKnownClient'),
    ])
    .executeTakeFirstOrThrow();
  return {
    pairWaitUntil: row.pairWaitUntil ?? null,
    accountWaitUntil: row.accountWaitUntil ?? null,
    isKnownClient: Boolean(row.isKnownClient),
  };
}

/**
 * Counts one failure for the address from this client and from all clients, in one statement
 * (parallel guesses each count: the increment happens in the row's own update), restarting a
 * count whose last failure is older than `restartBefore`. Returns the new counts.
 */
export async function countSignInFailure(
  trx: Transaction,
  key: { subject: string; client: string; now: Date; restartBefore: Date },
): Promise<{ pair: number; account: number }> {
  const rows = await trx
    .insertInto('sign_in_throttles')
    .values(
      [key.client, ALL_CLIENTS].map((client) => ({
        subject: key.subject,
        client,
        failures: 1,
        last_failure_at: key.now,
        wait_until: null,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['subject', 'client']).doUpdateSet({
        failures: sql<number>`case when sign_in_throttles.last_failure_at < ${key.restartBefore} then 1 else sign_in_throttles.failures + 1 end`,
        last_failure_at: key.now,
      }),
    )
    .returning(['client', 'failures'])
    .execute();
  const count = (client: string) => rows.find((r) => r.client === client)?.failures ?? 1;
  return { pair: count(key.client), account: count(ALL_CLIENTS) };
}

/** Sets how long a client (or all clients) must wait; a later, longer wait wins over a shorter one. */
export async function setSignInWait(
  trx: Transaction,
  key: { subject: string; client: string; waitUntil: Date },
): Promise<void> {
  await trx
    .updateTable('sign_in_throttles')
    .set({ wait_until: sql<Date>`greatest(coalesce(wait_until, ${key.waitUntil}), ${key.waitUntil})` })
    .where('subject', '=', key.subject)
    .where('client', '=', key.client)
    .execute();
}

/** Forgets failures for the address: from one client (it signed in), or from all (an administrator lifted them). */
export async function clearSignInThrottle(
  executor: Db | Transaction,
  key: { subject: string; client?: string },
): Promise<void> {
  let query = executor.deleteFrom('sign_in_throttles').where('subject', '=', key.subject);
  if (key.client !== undefined) query = query.where('client', '=', key.client);
  await query.execute();
}

/** The account's own record of the slowdown from all clients, shown to administrators as `locked`. */
export async function recordFailedLogin(
  trx: Transaction,
  userId: string,
  failedLogins: number,
  lockedUntil: Date | null,
): Promise<void> {
  await trx
    .updateTable('users')
    .set({ failed_logins: failedLogins, locked_until: lockedUntil })
    .where('id', '=', userId)
    .execute();
}

export async function insertSession(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    userId: string;
    tokenHash: string;
    mfaPending: boolean;
    ip: string | null;
    userAgent: string | null;
    expiresAt: Date;
  },
): Promise<void> {
  await trx
    .insertInto('sessions')
    .values({
      id: row.id,
      group_id: row.groupId,
      user_id: row.userId,
      token_hash: row.tokenHash,
      mfa_pending: row.mfaPending,
      ip: row.ip,
      user_agent: row.userAgent,
      expires_at: row.expiresAt,
    })
    .execute();
}

export async function findPendingSessionForUpdate(trx: Transaction, tokenHash: string, now: Date) {
  return trx
    .selectFrom('sessions')
    .select(['id', 'user_id as userId', 'group_id as groupId'])
    .where('token_hash', '=', tokenHash)
    .where('mfa_pending', '=', true)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .forUpdate()
    .executeTakeFirst();
}

export async function promoteSession(
  trx: Transaction,
  sessionId: string,
  tokenHash: string,
  expiresAt: Date,
): Promise<void> {
  await trx
    .updateTable('sessions')
    .set({ mfa_pending: false, token_hash: tokenHash, expires_at: expiresAt })
    .where('id', '=', sessionId)
    .execute();
}

export async function updateCredentials(
  trx: Transaction,
  userId: string,
  patch: {
    password_hash?: string;
    must_change_password?: boolean;
    totp_secret?: string | null;
    totp_enabled?: boolean;
    totp_last_step?: number;
  },
): Promise<void> {
  await trx.updateTable('users').set(patch).where('id', '=', userId).execute();
}

export async function setTotpLastStep(trx: Transaction, userId: string, step: number): Promise<void> {
  await trx.updateTable('users').set({ totp_last_step: step }).where('id', '=', userId).execute();
}

/** Ends every live session of a user (but `except`, when given); returns how many. */
export async function revokeUserSessions(
  trx: Transaction,
  userId: string,
  now: Date,
  options: { except?: string | null } = {},
): Promise<number> {
  const except = options.except;
  const result = await trx
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .$if(Boolean(except), (q) => q.where('id', '!=', except!))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function revokeSession(
  trx: Transaction,
  where: { id: string; userId: string },
  now: Date,
): Promise<boolean> {
  const result = await trx
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('id', '=', where.id)
    .where('user_id', '=', where.userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function findLiveSessions(db: Db, userId: string, now: Date) {
  return db
    .selectFrom('sessions')
    .select(['id', 'ip', 'user_agent as userAgent', 'created_at as createdAt', 'expires_at as expiresAt'])
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('mfa_pending', '=', false)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .execute();
}

export async function touchApiKey(db: Db, id: string, now: Date): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute();
}
