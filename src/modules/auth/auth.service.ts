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
import { recordAudit } from '../audit/audit.service.js';
import type { Actor, Principal } from './principal.js';
import * as repo from './auth.repository.js';
import type { Permission } from './permissions.js';
import { PrincipalCache } from './principal-cache.js';

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

/**
 * Password sign-in. The password is checked before any row is locked (it is slow by
 * design); the failure count then moves under the user's row lock, so parallel guesses
 * all count. Failures are committed before the error is answered.
 */
export async function signIn(
  ctx: AppContext,
  input: { email: string; password: string },
  meta: RequestMeta,
): Promise<LoginResult> {
  const candidate = await repo.findLoginUser(ctx.db, { email: input.email }, { lock: false });
  const passwordOk = await verifyPassword(input.password, candidate?.passwordHash ?? UNMATCHABLE_PASSWORD_HASH);
  if (!candidate) throw new AppError('invalid_credentials', 'The e-mail address or the password is wrong.');

  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const user = await repo.findLoginUser(trx, { id: candidate.id }, { lock: true });
    if (!user) return { error: new AppError('invalid_credentials', 'The e-mail address or the password is wrong.') };
    const now = ctx.now();
    const actor = selfActor(user, meta);
    const audit = (event: Parameters<typeof recordAudit>[1]['event']) =>
      recordAudit(trx, { groupId: user.groupId, actor, event, at: now });
    const target = { type: 'user' as const, id: user.id };

    if (user.lockedUntil && user.lockedUntil > now) {
      await audit({
        action: 'auth.sign_in_failed',
        target,
        companyId: user.companyId,
        changes: { reason: 'locked', failedAttempts: user.failedLogins },
      });
      return { error: lockedError(user.lockedUntil, now) };
    }
    if (user.status !== 'active') {
      await audit({
        action: 'auth.sign_in_failed',
        target,
        companyId: user.companyId,
        changes: { reason: 'inactive', failedAttempts: user.failedLogins },
      });
      return { error: new AppError('invalid_credentials', 'The e-mail address or the password is wrong.') };
    }
    if (!passwordOk) {
      const lock = await countFailure(ctx, trx, user, now);
      await audit({
        action: 'auth.sign_in_failed',
        target,
        companyId: user.companyId,
        changes: { reason: 'bad_password', failedAttempts: lock.failedAttempts },
      });
      if (lock.until) {
        await audit({
          action: 'auth.locked_out',
          target,
          companyId: user.companyId,
          changes: { until: lock.until.toISOString(), failedAttempts: lock.failedAttempts },
        });
        return { error: lockedError(lock.until, now) };
      }
      return { error: new AppError('invalid_credentials', 'The e-mail address or the password is wrong.') };
    }

    await repo.resetFailedLogins(trx, user.id);
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
    await audit({
      action: 'auth.signed_in',
      target,
      companyId: user.companyId,
      changes: { sessionId, secondFactor: false },
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

function lockedError(until: Date, now: Date): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return new AppError(
    'account_locked',
    `Too many failed attempts: this account is locked until ${until.toISOString()}.`,
    { retryAfterSeconds },
  );
}

async function countFailure(
  ctx: AppContext,
  trx: Parameters<typeof repo.recordFailedLogin>[0],
  user: repo.LoginUserRow,
  now: Date,
): Promise<{ failedAttempts: number; until: Date | null }> {
  const failedAttempts = user.failedLogins + 1;
  const until =
    failedAttempts >= ctx.config.lockout.attempts
      ? new Date(now.getTime() + ctx.config.lockout.minutes * 60_000)
      : null;
  // Once locked, the count starts again, so the next lock needs another full run of failures.
  await repo.recordFailedLogin(trx, user.id, until ? 0 : failedAttempts, until);
  return { failedAttempts, until };
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
    if (user.lockedUntil && user.lockedUntil > now) return { error: lockedError(user.lockedUntil, now) };
    const secret = openSecret(ctx.masterKey, user.totpSecret, TOTP_CONTEXT).toString('utf8');
    const step = matchTotp(secret, input.code, now);
    if (step === null || (user.totpLastStep !== null && step <= user.totpLastStep)) {
      const lock = await countFailure(ctx, trx, user, now);
      await recordAudit(trx, {
        groupId: user.groupId,
        actor,
        at: now,
        event: {
          action: 'auth.sign_in_failed',
          target,
          companyId: user.companyId,
          changes: { reason: 'bad_totp', failedAttempts: lock.failedAttempts },
        },
      });
      if (lock.until) return { error: lockedError(lock.until, now) };
      return {
        error: new AppError(
          'invalid_totp',
          'That code is wrong or was already used; enter the current code from your authenticator.',
        ),
      };
    }
    await repo.setTotpLastStep(trx, user.id, step);
    await repo.resetFailedLogins(trx, user.id);
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
    const value = {
      mfaPending: false,
      passwordChangeRequired: false,
      principal: {
        kind: 'api_key' as const,
        id: key.id,
        name: key.name,
        groupId: key.groupId,
        companyId: key.companyId,
        companyPath: key.companyPath,
        sessionId: null,
        roles: [],
        keyGrants: key.permissions.map((permission: Permission) => ({ permission, companyPath: key.companyPath })),
      },
    };
    principals.set(hash, value, { readUnderEpoch, now, expiresAt: key.expiresAt });
    return value;
  }
  if (!token.startsWith(`${SESSION_PREFIX}_`)) return null;
  const row = await repo.findSessionPrincipal(ctx.db, hash, now);
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
