import type { FastifyPluginAsync } from 'fastify';
import { isDatabaseReachable } from '../../db/database.js';
import type { AppContext } from '../../server/context.js';
import type { Readiness } from '../../server/readiness.js';

/** Liveness, and readiness meaning start-up has finished (migrations, the demo seed) and the database answers. */
export const healthRoutes: FastifyPluginAsync<{ ctx: AppContext; readiness: Readiness }> = async (
  app,
  { ctx, readiness },
) => {
  app.get('/healthz', { config: { auth: 'public' }, schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    const waitingFor = readiness.waitingFor();
    if (waitingFor.length > 0) return reply.status(503).send({ status: 'starting', waitingFor, database: ctx.dbKind });
    const ok = await isDatabaseReachable(ctx.db);
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'database unreachable', database: ctx.dbKind });
  });
};
