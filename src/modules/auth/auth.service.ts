import { newId } from '../../lib/ids.js';
import {
  hashPassword,
  newToken,
  openSecret,
  sealSecret,
  sha256Hex,
  UNMATCHABLE_PASSWORD_HASH,
  verifyPassword,
} from '../../lib/secrets.js';
import { matchTotp, newTotpSecret, otpauthUrl } from '../../lib/totp.js';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { recordAudit } from '../audit/index.js';
import type { Transaction } from '../../db/schema.js';
import type { Actor, Principal } from '../access/index.js';
import * as repo from './auth.repository.js';
import type { Permission } from '../access/index.js';
import { PrincipalCache } from '../access/index.js';

export const SESSION_PREFIX = 'sgs';
export const API_KEY_PREFIX = 'sgk';
const TOTP_CONTEXT = 'user.totp_secret';
const MFA_CHALLENGE_MINUTES = 5;

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** The person signing in, as the audit log names them before they hold a session. */
function selfActor(user: { id: string; groupId: string; name: string; companyId: string }, meta: RequestMeta): Actor {
  const principal: Principal = {
    kind: 'user',
    id: user.id,
    name: user.name,
    groupId: user.groupId,
    companyId: user.companyId,
    companyPath: null,
    sessionId: null,
    roles: [],
    keyGrants: [],
  };
  return { principal, ...meta };
}

export type LoginResult =
  | { kind: 'session'; token: string; expiresAt: Date; userId: string; passwordChangeRequired: boolean }
  | { kind: 'mfa_required'; challengeToken: string; expiresAt: Date };

/** A failure count starts again after a day without failures. */
const FAILURE_MEMORY_MS = 24 * 3_600_000;
/** A client the account signed in from within this many days is spared the all-clients slowdown. */
const KNOWN_CLIENT_DAYS = 30;

interface ThrottleKey {
  subject: string;
  client: string;
}

/** Failures are counted for the address typed, whether an account has it or not (no enumeration). */
function throttleKey(email: string, meta: RequestMeta): ThrottleKey {
  return { subject: sha256Hex(`sign-in:${email.trim().toLowerCase()}`), client: meta.ip ?? 'unknown' };
}

function invalidCredentials(): AppError {
  return new AppError('invalid_credentials', 'The e-mail address or the password is wrong.');
}

/**
 * Refuses an attempt while its client must wait: its own failures for this address, or the
 * address's failures from all clients unless this client has signed in to it before. Checked
 * before the password, and the same for every address, existing or not.
 */
async function assertMayTry(
  ctx: AppContext,
  executor: Parameters<typeof repo.findSignInThrottle>[0],
  key: ThrottleKey,
  email: string,
  now: Date,
): Promise<void> {
  const state = await repo.findSignInThrottle(executor, {
    ...key,
    email,
    knownSince: new Date(now.getTime() - KNOWN_CLIENT_DAYS * 86_400_000),
  });
  const waits = [state.pairWaitUntil, state.isKnownClient ? null : state.accountWaitUntil]
    .filter((until): until is Date => until !== null && until > now)
    .map((until) => until.getTime());
  if (waits.length === 0) return;
  const retryAfterSeconds = Math.max(1, Math.ceil((Math.max(...waits) - now.getTime()) / 1000));
  throw new AppError(
    'rate_limited',
    `Too many failed sign-ins for this address; try again in ${retryAfterSeconds} seconds.`,
    { retryAfterSeconds },
  );
}

/** After `threshold` failures each further one doubles the wait, from 1 s up to the ceiling. */
function delayAfter(failures: number, threshold: number, maxMs: number): number | null {
  if (failures < threshold) return null;
  return Math.min(maxMs, 1000 * 2 ** Math.min(failures - threshold, 30));
}

/** Counts a failed attempt from this client and from all clients, and sets the waits they earn. */
async function countFailure(
  ctx: AppContext,
  trx: Parameters<typeof repo.countSignInFailure>[0],
  key: ThrottleKey,
  now: Date,
): Promise<{ fromClient: number; fromAll: number; allClientsWaitUntil: Date | null }> {
  const counts = await repo.countSignInFailure(trx, {
    ...key,
    now,
    restartBefore: new Date(now.getTime() - FAILURE_MEMORY_MS),
  });
  const { freeAttempts, accountAttempts, maxDelayMinutes } = ctx.config.signIn;
  const maxMs = maxDelayMinutes * 60_000;
  const clientDelay = delayAfter(counts.pair, freeAttempts, maxMs);
  if (clientDelay !== null) await repo.setSignInWait(trx, { ...key, waitUntil: new Date(now.getTime() + clientDelay) });
  const allDelay = delayAfter(counts.account, accountAttempts, maxMs);
  const allClientsWaitUntil = allDelay === null ? null : new Date(now.getTime() + allDelay);
  if (allClientsWaitUntil)
    await repo.setSignInWait(trx, { subject: key.subject, client: repo.ALL_CLIENTS, waitUntil: allClientsWaitUntil });
  return { fromClient: counts.pair, fromAll: counts.account, allClientsWaitUntil };
}

/**
 * A failed attempt on a known account: counted for the client and for all clients, kept on the
 * account, and audited; when the slowdown for all clients begins, that is audited too, so
 * administrators see it (and may lift it).
 */
async function recordSignInFailure(
  ctx: AppContext,
  trx: Transaction,
  attempt: {
    user: NonNullable<Awaited<ReturnType<typeof repo.findLoginUser>>>;
    meta: RequestMeta;
    key: ThrottleKey;
    now: Date;
    reason: 'inactive' | 'bad_password' | 'bad_totp';
  },
): Promise<void> {
  const { user, meta, key, now, reason } = attempt;
  const failure = await countFailure(ctx, trx, key, now);
  const actor = selfActor(user, meta);
  const target = { type: 'user' as const, id: user.id };
  await repo.recordFailedLogin(trx, user.id, failure.fromAll, failure.allClientsWaitUntil);
  await recordAudit(trx, {
    groupId: user.groupId,
    actor,
    at: now,
    event: {
      action: 'auth.sign_in_failed',
      target,
      companyId: user.companyId,
      changes: { reason, failedAttempts: failure.fromClient },
    },
  });
  if (failure.allClientsWaitUntil && failure.fromAll === ctx.config.signIn.accountAttempts)
    await recordAudit(trx, {
      groupId: user.groupId,
      actor,
      at: now,
      event: {
        action: 'auth.locked_out',
        target,
        companyId: user.companyId,
        changes: { until: failure.allClientsWaitUntil.toISOString(), failedAttempts: failure.fromAll },
      },
    });
}

/**
 * Password sign-in. Failed attempts slow down, they never lock: one client's failures for an
 * address make only that client wait (exponentially), and only many failures from all clients
 * slow down the clients the account has not signed in from. So nobody can lock another person
 * out by guessing badly on purpose, and an unknown address answers exactly as a known one
 * (401 for a wrong guess, 429 while waiting). The password is checked before any row is locked
 * (it is slow by design); failures are counted in their own rows' updates, so parallel guesses
 * all count, and committed before the error is answered.
 */
export async function signIn(
  ctx: AppContext,
  input: { email: string; password: string },
  meta: RequestMeta,
): Promise<LoginResult> {
  const key = throttleKey(input.email, meta);
  await assertMayTry(ctx, ctx.db, key, input.email, ctx.now());
  const candidate = await repo.findLoginUser(ctx.db, { email: input.email }, { lock: false });
  const passwordOk = await verifyPassword(input.password, candidate?.passwordHash ?? UNMATCHABLE_PASSWORD_HASH);

  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const now = ctx.now();
    const user = candidate ? await repo.findLoginUser(trx, { id: candidate.id }, { lock: true }) : undefined;
    if (!user || user.status !== 'active' || !passwordOk) {
      if (user)
        await recordSignInFailure(ctx, trx, {
          user,
          meta,
          key,
          now,
          reason: user.status !== 'active' ? 'inactive' : 'bad_password',
        });
      else await countFailure(ctx, trx, key, now);
      return { error: invalidCredentials() };
    }
    const actor = selfActor(user, meta);
    const target = { type: 'user' as const, id: user.id };
    await repo.clearSignInThrottle(trx, key);
    const sessionId = newId();
    if (user.totpEnabled) {
      const challengeToken = newToken(SESSION_PREFIX);
      const expiresAt = new Date(now.getTime() + MFA_CHALLENGE_MINUTES * 60_000);
      await repo.insertSession(trx, {
        id: sessionId,
        groupId: user.groupId,
        userId: user.id,
        tokenHash: sha256Hex(challengeToken),
        mfaPending: true,
        ...meta,
        expiresAt,
      });
      return { result: { kind: 'mfa_required', challengeToken, expiresAt } satisfies LoginResult };
    }
    const token = newToken(SESSION_PREFIX);
    const expiresAt = new Date(now.getTime() + ctx.config.sessionTtlHours * 3_600_000);
    await repo.insertSession(trx, {
      id: sessionId,
      groupId: user.groupId,
      userId: user.id,
      tokenHash: sha256Hex(token),
      mfaPending: false,
      ...meta,
      expiresAt,
    });
    await recordAudit(trx, {
      groupId: user.groupId,
      actor,
      at: now,
      event: {
        action: 'auth.signed_in',
        target,
        companyId: user.companyId,
        changes: { sessionId, secondFactor: false },
      },
    });
    return {
      result: {
        kind: 'session',
        token,
        expiresAt,
        userId: user.id,
        passwordChangeRequired: user.mustChangePassword,
      } satisfies LoginResult,
    };
  });
  if ('error' in outcome) throw outcome.error;
  return outcome.result;
}

/** Forgets an address's failed sign-ins from every client: an administrator lifts a slowdown. */
export async function clearSignInFailures(trx: Transaction, email: string): Promise<void> {
  await repo.clearSignInThrottle(trx, {
    subject: throttleKey(email, { ip: null, userAgent: null, requestId: null }).subject,
  });
}

/** Second step of sign-in: the TOTP code for a pending challenge. A code is good once. */
export async function completeTotpSignIn(
  ctx: AppContext,
  input: { challengeToken: string; code: string },
  meta: RequestMeta,
): Promise<LoginResult> {
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const now = ctx.now();
    const pending = await repo.findPendingSessionForUpdate(trx, sha256Hex(input.challengeToken), now);
    if (!pending)
      return {
        error: new AppError('unauthenticated', 'This sign-in challenge is unknown or has expired; sign in again.'),
      };
    const user = await repo.findLoginUser(trx, { id: pending.userId }, { lock: true });
    if (!user || user.status !== 'active' || !user.totpSecret) {
      return {
        error: new AppError('unauthenticated', 'This sign-in challenge is unknown or has expired; sign in again.'),
      };
    }
    const actor = selfActor(user, meta);
    const target = { type: 'user' as const, id: user.id };
    const key = throttleKey(user.email, meta);
    try {
      await assertMayTry(ctx, trx, key, user.email, now);
    } catch (error) {
      return { error: error as AppError };
    }
    const secret = openSecret(ctx.masterKey, user.totpSecret, TOTP_CONTEXT).toString('utf8');
    const step = matchTotp(secret, input.code, now);
    if (step === null || (user.totpLastStep !== null && step <= user.totpLastStep)) {
      await recordSignInFailure(ctx, trx, { user, meta, key, now, reason: 'bad_totp' });
      return {
        error: new AppError(
          'invalid_totp',
          'That code is wrong or was already used; enter the current code from your authenticator.',
        ),
      };
    }
    await repo.setTotpLastStep(trx, user.id, step);
    await repo.clearSignInThrottle(trx, key);
    const token = newToken(SESSION_PREFIX);
    const expiresAt = new Date(now.getTime() + ctx.config.sessionTtlHours * 3_600_000);
    await repo.promoteSession(trx, pending.id, sha256Hex(token), expiresAt);
    await recordAudit(trx, {
      groupId: user.groupId,
      actor,
      at: now,
      event: {
        action: 'auth.signed_in',
        target,
        companyId: user.companyId,
        changes: { sessionId: pending.id, secondFactor: true },
      },
    });
    return {
      result: {
        kind: 'session',
        token,
        expiresAt,
        userId: user.id,
        passwordChangeRequired: user.mustChangePassword,
      } satisfies LoginResult,
    };
  });
  if ('error' in outcome) throw outcome.error;
  return outcome.result;
}

/**
 * Who a token stands for, and what they must do first: finish signing in with their second
 * factor (`mfaPending`), or change a password someone else chose (`passwordChangeRequired`).
 */
export interface Authenticated {
  principal: Principal;
  mfaPending: boolean;
  passwordChangeRequired: boolean;
}

/** Principals recently resolved in this process; see principal-cache.ts for why this stays correct. */
const principals = new PrincipalCache({ ttlMs: 5_000, maxEntries: 50_000 });

/** Resolves a bearer token to its principal, or null when it is unknown, expired or revoked. */
export async function authenticate(ctx: AppContext, token: string): Promise<Authenticated | null> {
  const now = ctx.now();
  const hash = sha256Hex(token);
  const cached = principals.get(hash, now);
  if (cached) return cached;
  const readUnderEpoch = principals.currentEpoch();
  if (token.startsWith(`${API_KEY_PREFIX}_`)) {
    const key = await repo.findApiKeyPrincipal(ctx.db, hash, now);
    if (!key) return null;
    await repo.touchApiKey(ctx.db, key.id, now);
    const { account } = key;
    // A key of a service account acts as it: a user with its roles (and, through them, its
    // grants); any other key has only its own permissions over its company.
    const principal: Principal = account
      ? {
          kind: 'user',
          id: account.id,
          name: account.name,
          groupId: key.groupId,
          companyId: account.companyId,
          companyPath: account.companyPath,
          sessionId: null,
          roles: account.roles,
          keyGrants: [],
          apiKeyId: key.id,
        }
      : {
          kind: 'api_key',
          id: key.id,
          name: key.name,
          groupId: key.groupId,
          companyId: key.companyId,
          companyPath: key.companyPath,
          sessionId: null,
          roles: [],
          keyGrants: key.permissions.map((permission: Permission) => ({ permission, companyPath: key.companyPath })),
        };
    const value = { mfaPending: false, passwordChangeRequired: false, principal };
    principals.set(hash, value, { readUnderEpoch, now, expiresAt: key.expiresAt });
    return value;
  }
  if (!token.startsWith(`${SESSION_PREFIX}_`)) return null;
  const row = await repo.findSessionPrincipal(ctx.db, { tokenHash: hash }, now);
  if (!row) return null;
  const value = {
    mfaPending: row.mfaPending,
    passwordChangeRequired: row.mustChangePassword,
    principal: {
      kind: 'user' as const,
      id: row.userId,
      name: row.name,
      groupId: row.groupId,
      companyId: row.companyId,
      companyPath: row.companyPath,
      sessionId: row.sessionId,
      roles: row.roles,
      keyGrants: [],
    },
  };
  principals.set(hash, value, { readUnderEpoch, now, expiresAt: row.expiresAt });
  return value;
}

/**
 * The principal of a session by its id, read afresh (no cache): work that runs later on a
 * person's behalf (a signing batch) acts only while the session that asked for it is live.
 */
export async function principalOfSession(ctx: AppContext, sessionId: string): Promise<Principal | null> {
  const row = await repo.findSessionPrincipal(ctx.db, { sessionId }, ctx.now());
  if (!row || row.mfaPending || row.mustChangePassword) return null;
  return {
    kind: 'user',
    id: row.userId,
    name: row.name,
    groupId: row.groupId,
    companyId: row.companyId,
    companyPath: row.companyPath,
    sessionId: row.sessionId,
    roles: row.roles,
    keyGrants: [],
  };
}

export async function signOut(ctx: AppContext, actor: Actor): Promise<void> {
  const { principal } = actor;
  if (!principal.sessionId)
    throw new AppError('forbidden', 'Only a session can be signed out; revoke an API key instead.');
  const sessionId = principal.sessionId;
  await ctx.db.transaction().execute(async (trx) => {
    await repo.revokeSession(trx, { id: sessionId, userId: principal.id }, ctx.now());
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'auth.signed_out',
        target: { type: 'session', id: sessionId },
        companyId: principal.companyId,
        changes: { sessionId },
      },
    });
  });
}

export async function listMySessions(ctx: AppContext, actor: Actor) {
  const sessions = await repo.findLiveSessions(ctx.db, actor.principal.id, ctx.now());
  return sessions.map((s) => ({ ...s, current: s.id === actor.principal.sessionId }));
}

export async function revokeMySession(ctx: AppContext, actor: Actor, sessionId: string): Promise<void> {
  const { principal } = actor;
  await ctx.db.transaction().execute(async (trx) => {
    const revoked = await repo.revokeSession(trx, { id: sessionId, userId: principal.id }, ctx.now());
    if (!revoked) throw new AppError('session_not_found', `No live session with id ${sessionId} is yours.`);
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'session.revoked',
        target: { type: 'session', id: sessionId },
        companyId: principal.companyId,
        changes: { sessionId },
      },
    });
  });
}

/** Starts TOTP enrolment: a new secret, sealed at rest, active only once a code confirms it. */
export async function beginTotpSetup(ctx: AppContext, actor: Actor): Promise<{ secret: string; otpauthUrl: string }> {
  const { principal } = actor;
  const secret = newTotpSecret();
  const email = await ctx.db.transaction().execute(async (trx) => {
    const user = await repo.findLoginUser(trx, { id: principal.id }, { lock: true });
    if (!user) throw new AppError('user_not_found', 'Your account no longer exists.');
    if (user.totpEnabled)
      throw new AppError(
        'totp_already_enabled',
        'Two-step sign-in is already on; turn it off first to enrol a new device.',
      );
    await repo.updateCredentials(trx, principal.id, { totp_secret: sealSecret(ctx.masterKey, secret, TOTP_CONTEXT) });
    return user.email;
  });
  return { secret, otpauthUrl: otpauthUrl({ secret, account: email, issuer: 'Sigil' }) };
}

export async function setTotpEnabled(
  ctx: AppContext,
  actor: Actor,
  input: { code: string; enabled: boolean },
): Promise<void> {
  const { principal } = actor;
  await ctx.db.transaction().execute(async (trx) => {
    const user = await repo.findLoginUser(trx, { id: principal.id }, { lock: true });
    if (!user) throw new AppError('user_not_found', 'Your account no longer exists.');
    if (input.enabled && user.totpEnabled)
      throw new AppError('totp_already_enabled', 'Two-step sign-in is already on.');
    if (!input.enabled && !user.totpEnabled) throw new AppError('totp_not_enabled', 'Two-step sign-in is not on.');
    if (!user.totpSecret)
      throw new AppError('totp_not_enabled', 'Start the set-up first: no authenticator secret has been issued.');
    const now = ctx.now();
    const step = matchTotp(openSecret(ctx.masterKey, user.totpSecret, TOTP_CONTEXT).toString('utf8'), input.code, now);
    if (step === null || (user.totpLastStep !== null && step <= user.totpLastStep)) {
      throw new AppError(
        'invalid_totp',
        'That code is wrong or was already used; enter the current code from your authenticator.',
      );
    }
    await repo.updateCredentials(trx, principal.id, {
      totp_enabled: input.enabled,
      totp_last_step: step,
      ...(input.enabled ? {} : { totp_secret: null }),
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: input.enabled ? 'user.totp_enabled' : 'user.totp_disabled',
        target: { type: 'user', id: principal.id },
        companyId: principal.companyId,
        changes: {},
      },
    });
  });
}

export async function changeOwnPassword(
  ctx: AppContext,
  actor: Actor,
  input: { currentPassword: string; newPassword: string },
): Promise<void> {
  const { principal } = actor;
  const current = await repo.findLoginUser(ctx.db, { id: principal.id }, { lock: false });
  if (!current || !(await verifyPassword(input.currentPassword, current.passwordHash))) {
    throw new AppError('invalid_credentials', 'Your current password is wrong.');
  }
  // Keeping a printed password is not changing it.
  if (input.newPassword === input.currentPassword)
    throw new AppError('validation_failed', 'Choose a new password, not the current one.', {
      errors: [{ field: 'body.newPassword', message: 'must differ from the current password' }],
    });
  const hash = await hashPassword(input.newPassword);
  await ctx.db.transaction().execute(async (trx) => {
    await repo.updateCredentials(trx, principal.id, { password_hash: hash, must_change_password: false });
    // Other sessions end: a changed password is often a response to a stolen one.
    await repo.revokeUserSessions(trx, principal.id, ctx.now(), { except: principal.sessionId });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'user.password_changed',
        target: { type: 'user', id: principal.id },
        companyId: principal.companyId,
        changes: { by: 'self' },
      },
    });
  });
}

/**
 * The second factor at the moment of signing (a contract): a person with an authenticator gives
 * its current code, each code good once (the step is kept, as at sign-in); where `required`, a
 * person without one is refused. Wrong codes are counted and slowed down as failed sign-ins are,
 * per person (the caller is signed in already, so every client counts alike), in their own
 * transaction, committed before the error is answered. Says which factor was checked, for the
 * caller's audit record.
 */
export async function confirmSigningFactor(
  ctx: AppContext,
  input: { userId: string; code: string | undefined; required: boolean },
): Promise<{ secondFactor: 'totp' | null }> {
  // Most signers have no authenticator: answered without a transaction or a lock.
  if (!input.required) {
    const seen = await repo.findLoginUser(ctx.db, { id: input.userId }, { lock: false });
    if (!seen?.totpEnabled) return { secondFactor: null };
  }
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const now = ctx.now();
    const user = await repo.findLoginUser(trx, { id: input.userId }, { lock: true });
    if (!user || !user.totpEnabled || !user.totpSecret) {
      if (!input.required) return { result: { secondFactor: null } };
      return {
        error: new AppError(
          'signing_totp_not_enrolled',
          'This contract is signed with a second factor: turn on two-step sign-in (an authenticator) first.',
        ),
      };
    }
    if (!input.code)
      return {
        error: new AppError(
          'signing_totp_required',
          'Give the current code from your authenticator (totp) to sign: you have two-step sign-in on.',
        ),
      };
    // Empty e-mail: no client is "known", so every wait applies.
    const key: ThrottleKey = { subject: sha256Hex(`contract-signing:${user.id}`), client: 'signing' };
    try {
      await assertMayTry(ctx, trx, key, '', now);
    } catch (error) {
      return { error: error as AppError };
    }
    const secret = openSecret(ctx.masterKey, user.totpSecret, TOTP_CONTEXT).toString('utf8');
    const step = matchTotp(secret, input.code, now);
    if (step === null || (user.totpLastStep !== null && step <= user.totpLastStep)) {
      const failure = await countFailure(ctx, trx, key, now);
      await recordAudit(trx, {
        groupId: user.groupId,
        actor: { system: 'contract-signing' },
        at: now,
        event: {
          action: 'auth.signing_factor_failed',
          target: { type: 'user', id: user.id },
          companyId: user.companyId,
          changes: { failedAttempts: failure.fromClient },
        },
      });
      return {
        error: new AppError(
          'signing_totp_invalid',
          'That code is wrong or was already used; enter the current code from your authenticator.',
        ),
      };
    }
    await repo.setTotpLastStep(trx, user.id, step);
    await repo.clearSignInThrottle(trx, key);
    return { result: { secondFactor: 'totp' as const } };
  });
  if ('error' in outcome) throw outcome.error;
  return outcome.result;
}
