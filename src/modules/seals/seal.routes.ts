import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { uuid, type RoutesPlugin } from '../../server/schemas.js';
import { sealKinds, sealListQuery, sealSchema, sealStatuses, sealTypes } from './seal.schema.js';
import * as service from './seal.service.js';

const tags = ['seals'];

export const sealRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/seals', {
    schema: {
      tags,
      summary: 'The seal library: every seal you may see, by company and type',
      querystring: sealListQuery,
      response: { 200: z.object({ items: z.array(sealSchema), nextCursor: z.string().nullable() }) },
    },
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
          rows: z.array(
            z.object({
              companyId: z.string(),
              companyName: z.string(),
              kind: z.enum(sealKinds),
              type: z.enum(sealTypes),
              status: z.enum(sealStatuses),
              count: z.number(),
            }),
          ),
        }),
      },
    },
    handler: async (request) => service.sealStatistics(ctx, actorOf(request), request.query),
  });
};
