import { z } from 'zod';
import { actorOf, requestMeta } from '../../server/plugins/auth.js';
import { okSchema, uuid, type RoutesPlugin } from '../../server/schemas.js';
import * as service from './auth.service.js';
import {
  changePasswordBody,
  sessionSchema,
  signInBody,
  signInResponse,
  totpBody,
  totpCodeBody,
  totpSetupResponse,
} from './auth.schema.js';

const tags = ['sign-in'];

function answer(result: service.LoginResult) {
  return result.kind === 'session'
    ? {
        status: 'signed_in' as const,
        token: result.token,
        expiresAt: result.expiresAt,
        userId: result.userId,
        passwordChangeRequired: result.passwordChangeRequired,
      }
    : { status: 'mfa_required' as const, challengeToken: result.challengeToken, expiresAt: result.expiresAt };
}

export const authRoutes: RoutesPlugin = async (app, { ctx }) => {
  // Per-address limit on attempts, on top of the per-account lock-out kept in the database.
  const signInLimit = { rateLimit: { max: ctx.config.loginRatePerMinute, timeWindow: 60_000 } };

  app.post('/auth/sign-in', {
    config: { auth: 'public', ...signInLimit },
    schema: {
      tags,
      summary: 'Sign in with e-mail and password',
      security: [],
      body: signInBody,
      response: { 200: signInResponse },
    },
    handler: async (request) => answer(await service.signIn(ctx, request.body, requestMeta(request))),
  });

  app.post('/auth/totp', {
    config: { auth: 'public', ...signInLimit },
    schema: {
      tags,
      summary: 'Finish signing in with an authenticator code',
      security: [],
      body: totpBody,
      response: { 200: signInResponse },
    },
    handler: async (request) => answer(await service.completeTotpSignIn(ctx, request.body, requestMeta(request))),
  });

  app.post('/auth/sign-out', {
    config: { beforePasswordChange: true },
    schema: { tags, summary: 'End the current session', response: { 200: okSchema } },
    handler: async (request) => {
      await service.signOut(ctx, actorOf(request));
      return { ok: true as const };
    },
  });

  app.get('/auth/sessions', {
    schema: { tags, summary: 'My live sessions', response: { 200: z.object({ items: z.array(sessionSchema) }) } },
    handler: async (request) => ({ items: await service.listMySessions(ctx, actorOf(request)) }),
  });

  app.delete('/auth/sessions/:sessionId', {
    schema: {
      tags,
      summary: 'End one of my sessions',
      params: z.object({ sessionId: uuid }),
      response: { 200: okSchema },
    },
    handler: async (request) => {
      await service.revokeMySession(ctx, actorOf(request), request.params.sessionId);
      return { ok: true as const };
    },
  });

  app.post('/me/password', {
    config: { beforePasswordChange: true },
    schema: {
      tags,
      summary: 'Change my password (ends my other sessions)',
      body: changePasswordBody,
      response: { 200: okSchema },
    },
    handler: async (request) => {
      await service.changeOwnPassword(ctx, actorOf(request), request.body);
      return { ok: true as const };
    },
  });

  app.post('/me/totp/setup', {
    schema: { tags, summary: 'Start enrolling an authenticator (TOTP)', response: { 200: totpSetupResponse } },
    handler: async (request) => service.beginTotpSetup(ctx, actorOf(request)),
  });

  app.post('/me/totp/enable', {
    schema: {
      tags,
      summary: 'Turn on two-step sign-in with a first code',
      body: totpCodeBody,
      response: { 200: okSchema },
    },
    handler: async (request) => {
      await service.setTotpEnabled(ctx, actorOf(request), { code: request.body.code, enabled: true });
      return { ok: true as const };
    },
  });

  app.post('/me/totp/disable', {
    schema: {
      tags,
      summary: 'Turn off two-step sign-in with a current code',
      body: totpCodeBody,
      response: { 200: okSchema },
    },
    handler: async (request) => {
      await service.setTotpEnabled(ctx, actorOf(request), { code: request.body.code, enabled: false });
      return { ok: true as const };
    },
  });
};
