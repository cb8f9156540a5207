import type { FastifyPluginAsync } from 'fastify';
import { isDatabaseReachable } from '../../db/database.js';
import type { AppContext } from '../../server/context.js';

/** Liveness, and readiness meaning the database answers. */
export const healthRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get('/healthz', { config: { auth: 'public' }, schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    const ok = await isDatabaseReachable(ctx.db);
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'database unreachable', database: ctx.dbKind });
  });
};
