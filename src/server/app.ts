import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyRateLimit from '@fastify/rate-limit';
import { jsonSchemaTransform, jsonSchemaTransformObject, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { serializerCompiler } from './serializer.js';
import { loggerOptions } from './logging.js';
import { guardedValidatorCompiler } from './safe-text.js';
import type { AppContext } from './context.js';
import { registerAuth } from './plugins/auth.js';
import { answerFrameworkError, MAX_PARAM_LENGTH, registerErrorHandling } from './plugins/errors.js';
import { registerMetrics } from './plugins/metrics.js';
import { registerConsole, registerSecurityHeaders } from './plugins/web.js';
import { newId } from '../lib/ids.js';
import { Readiness } from './readiness.js';
import { wireModules } from './wiring.js';
import { problemSchema } from './schemas.js';
import { healthRoutes } from '../modules/health/index.js';
import { authRoutes } from '../modules/auth/index.js';
import { companyRoutes } from '../modules/companies/index.js';
import { departmentRoutes } from '../modules/users/index.js';
import { userRoutes } from '../modules/users/index.js';
import { roleRoutes } from '../modules/roles/index.js';
import { sodChangeRoutes } from '../modules/sod-changes/index.js';
import { sealLifecycleRoutes } from '../modules/seal-lifecycle/index.js';
import { apiKeyRoutes } from '../modules/api-keys/index.js';
import { webhookRoutes } from '../modules/webhooks/index.js';
import { auditRoutes } from '../modules/audit-views/index.js';
import { notificationRoutes } from '../modules/notifications/index.js';
import { sealRoutes } from '../modules/seals/index.js';
import { sealImageRoutes } from '../modules/seals/index.js';
import { grantRoutes } from '../modules/grants/index.js';
import { sealCardRoutes } from '../modules/seal-cards/index.js';
import { approvalRoutes } from '../modules/approvals/index.js';
import { pkiPublicRoutes, pkiRoutes } from '../modules/pki/index.js';
import { signatureRoutes } from '../modules/signatures/index.js';
import { documentRoutes } from '../modules/documents/index.js';
import { contractRoutes, templateRoutes } from '../modules/contracts/index.js';
import { publicVerificationRoutes } from '../modules/verification/index.js';
import { deviceRoutes } from '../modules/devices/index.js';

export type App = FastifyInstance;

export interface RouteEntry {
  method: string;
  url: string;
  isPublic: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route the app serves, as registered: the isolation suite walks this list. */
    routeTable: RouteEntry[];
  }
}

export interface BuildAppOptions {
  /** `false` silences logs (tests); otherwise the level (default LOG_LEVEL) and where lines go (default stdout). */
  logger?: false | { level?: string; stream?: DestinationStream };
  /** Start-up work /readyz waits for; absent means ready as soon as the database answers. */
  readiness?: Readiness;
}

/** Everything under /api/v1, one plugin per capability. */
const apiModules = [
  authRoutes,
  companyRoutes,
  departmentRoutes,
  userRoutes,
  roleRoutes,
  sodChangeRoutes,
  apiKeyRoutes,
  webhookRoutes,
  auditRoutes,
  sealRoutes,
  sealCardRoutes,
  grantRoutes,
  sealImageRoutes,
  documentRoutes,
  contractRoutes,
  templateRoutes,
  approvalRoutes,
  sealLifecycleRoutes,
  notificationRoutes,
  pkiRoutes,
  signatureRoutes,
  publicVerificationRoutes,
  deviceRoutes,
];

/** Builds the whole application without listening; `sigil serve` listens, tests inject. */
export async function buildApp(ctx: AppContext, options: BuildAppOptions = {}): Promise<App> {
  wireModules();
  const app = Fastify({
    // Whoever asks for a log gets Sigil's serializers and redaction: no secret reaches a log line.
    logger:
      options.logger === false
        ? false
        : loggerOptions({ level: options.logger?.level ?? ctx.config.logLevel, stream: options.logger?.stream }),
    bodyLimit: ctx.config.bodyLimitBytes,
    trustProxy: ctx.config.trustProxy,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : newId();
    },
    ajv: { customOptions: { removeAdditional: false } },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: answerFrameworkError,
  });
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    // Every documented operation also documents its errors: problem+json with a stable code.
    if (route.schema?.response && typeof route.schema.response === 'object') {
      route.schema.response = { ...(route.schema.response as object), '4XX': problemSchema, '5XX': problemSchema };
    }
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routeTable.push({ method, url: route.url, isPublic: route.config?.auth === 'public' });
    }
  });
  app.setValidatorCompiler(guardedValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', String(request.id));
  });

  await registerSecurityHeaders(app, ctx.config.publicUrl);
  registerErrorHandling(app, ctx.config.consoleDir);
  registerMetrics(app, ctx.config.metricsToken);
  registerAuth(app, ctx);
  // Limits per route are set where they matter (sign-in); there is no global limit.
  await app.register(fastifyRateLimit, { global: false });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Sigil API',
        version: '1',
        description: 'Seal control and electronic signatures. Errors are RFC 9457 problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A session token (sgs_…) or an API key (sgk_…)' },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: { docExpansion: 'list' },
    // Swagger UI sets inline styles; the console's pages never get this allowance, only the docs'.
    transformStaticCSP: (header) => header.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
  });
  app.get('/api/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { ctx, readiness: options.readiness ?? new Readiness() });
  // Relying parties fetch CA certificates and CRLs and ask the TSA without an account.
  await app.register(pkiPublicRoutes, { ctx });
  const typed = app.withTypeProvider<ZodTypeProvider>();
  for (const module of apiModules) await typed.register(module, { prefix: '/api/v1', ctx });

  await registerConsole(app, ctx.config.consoleDir);
  return app;
}
