import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { isoDate, uuid, type RoutesPlugin } from '../../server/schemas.js';
import {
  category,
  createGrantBody,
  grantParams,
  grantSchema,
  revokeGrantBody,
  sealKinds,
  sealListQuery,
  sealParams,
  sealSchema,
  sealStatuses,
  sealTypes,
  useDecisionQuery,
  useDecisionSchema,
} from './seal.schema.js';
import * as service from './seal.service.js';

const tags = ['seals'];

export const sealRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/seals', {
    schema: { tags, summary: 'The seal library: every seal you may see, by company and type', querystring: sealListQuery, response: { 200: z.object({ items: z.array(sealSchema), nextCursor: z.string().nullable() }) } },
    handler: async (request) => service.listSeals(ctx, actorOf(request), request.query),
  });

  app.get('/seals/statistics', {
    schema: {
      tags,
      summary: 'How many seals, which company made them, of which kind, type and status',
      querystring: z.strictObject({ under: uuid.optional() }),
      response: {
        200: z.object({
          total: z.number(),
          rows: z.array(z.object({ companyId: z.string(), companyName: z.string(), kind: z.enum(sealKinds), type: z.enum(sealTypes), status: z.enum(sealStatuses), count: z.number() })),
        }),
      },
    },
    handler: async (request) => service.sealStatistics(ctx, actorOf(request), request.query),
  });

  app.get('/seals/:sealId', {
    schema: {
      tags,
      summary: 'The seal file card (档案卡): attributes, custodians, grants, history',
      params: sealParams,
      response: {
        200: z.object({
          seal: sealSchema,
          grants: z.array(grantSchema),
          history: z.array(z.object({ seq: z.number(), occurredAt: isoDate, action: z.string(), actorName: z.string().nullable(), changes: z.record(z.string(), z.unknown()) })),
        }),
      },
    },
    handler: async (request) => service.getSealCard(ctx, actorOf(request), request.params.sealId),
  });

  app.get('/seals/:sealId/grants', {
    schema: { tags, summary: 'Grants of a seal', params: sealParams, querystring: z.strictObject({ includeRevoked: z.enum(['true', 'false']).default('false') }), response: { 200: z.object({ items: z.array(grantSchema) }) } },
    handler: async (request) => ({ items: await service.listGrants(ctx, actorOf(request), request.params.sealId, request.query.includeRevoked === 'true') }),
  });

  app.post('/seals/:sealId/grants', {
    schema: { tags, summary: 'Grant use of a seal to a user, a department or a role', params: sealParams, body: createGrantBody, response: { 201: grantSchema } },
    handler: async (request, reply) => reply.status(201).send(await service.createGrant(ctx, actorOf(request), request.params.sealId, request.body)),
  });

  app.post('/seals/:sealId/grants/:grantId/revoke', {
    schema: { tags, summary: 'Revoke a grant at once', params: grantParams, body: revokeGrantBody, response: { 200: grantSchema } },
    handler: async (request) => service.revokeGrant(ctx, actorOf(request), request.params.sealId, request.params.grantId, request.body.reason ?? null),
  });

  app.get('/me/seals', {
    schema: {
      tags,
      summary: 'The seals I may use now (optionally for one business category), with the grant that allows each',
      querystring: z.strictObject({ category: category.optional() }),
      response: {
        200: z.object({
          items: z.array(
            z.object({
              id: z.string(),
              name: z.string(),
              code: z.string(),
              kind: z.enum(sealKinds),
              type: z.enum(sealTypes),
              companyId: z.string(),
              companyName: z.string(),
              grant: z.object({ id: z.string(), categories: z.array(z.string()), validUntil: z.string().nullable(), remainingUses: z.number().nullable() }),
            }),
          ),
        }),
      },
    },
    handler: async (request) => ({ items: await service.listMySeals(ctx, actorOf(request), request.query) }),
  });

  app.get('/seal-use/decision', {
    schema: { tags, summary: 'May this person use this seal for this business category now, and by which grant?', querystring: useDecisionQuery, response: { 200: useDecisionSchema } },
    handler: async (request) => {
      const decision = await service.checkUse(ctx, actorOf(request), request.query);
      return decision.allowed ? { allowed: true, reason: null, grant: decision.grant } : { allowed: false, reason: decision.reason, grant: null };
    },
  });
};
