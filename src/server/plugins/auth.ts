import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate } from '../../modules/auth/index.js';
import type { Actor } from '../../modules/access/index.js';
import type { AppContext } from '../context.js';
import { AppError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `public`: no credentials needed. Absent: a live session or API key is required. */
    auth?: 'public';
    /**
     * The route answers a session whose password must be changed first (to change it, see who
     * one is, set one's language, sign out); every other route refuses it.
     */
    beforePasswordChange?: true;
  }
  interface FastifyRequest {
    actor: Actor | null;
    /** The caller must change their password before anything else (see `beforePasswordChange`). */
    passwordChangeRequired: boolean;
  }
}

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * Authentication runs on request, before the body is parsed or validated, so a caller
 * without credentials learns nothing about what the endpoint expects (401 before 400).
 */
export function registerAuth(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('actor', null);
  app.decorateRequest('passwordChangeRequired', false);
  app.addHook('onRequest', async (request) => {
    const routeAuth = request.routeOptions.config.auth;
    if (routeAuth === 'public' || !request.routeOptions.url?.startsWith('/api/v1/')) return;
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match?.[1]) throw new AppError('unauthenticated', 'Sign in first: send Authorization: Bearer <token>.');
    const resolved = await authenticate(ctx, match[1]);
    if (!resolved)
      throw new AppError('unauthenticated', 'Your session has ended or the key is not valid; sign in again.');
    if (resolved.mfaPending)
      throw new AppError('mfa_required', 'Finish signing in with your authenticator code first.');
    if (resolved.passwordChangeRequired && !request.routeOptions.config.beforePasswordChange)
      throw new AppError(
        'password_change_required',
        'Change the password you were given first (POST /api/v1/me/password); until then nothing else is answered.',
      );
    request.passwordChangeRequired = resolved.passwordChangeRequired;
    request.actor = {
      principal: resolved.principal,
      ip: request.ip ?? null,
      userAgent: request.headers['user-agent'] ?? null,
      requestId: String(request.id),
    };
  });
}

/** The authenticated caller; routes that are not public always have one. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError('unauthenticated', 'Sign in first: send Authorization: Bearer <token>.');
  return request.actor;
}

export function requestMeta(request: FastifyRequest) {
  return { ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null, requestId: String(request.id) };
}
