import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { isoDate, type RoutesPlugin } from '../../server/schemas.js';
import * as service from './seal-card.service.js';
import * as cards from './seal-card.service.js';
import { grantSchema } from '../grants/index.js';
import { sealParams, sealSchema } from '../seals/index.js';

const tags = ['seals'];

export const sealCardRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/seals/:sealId', {
    schema: {
      tags,
      summary: 'The seal file card (档案卡): attributes, custodians, grants, history',
      params: sealParams,
      response: {
        200: z.object({
          seal: sealSchema,
          grants: z.array(grantSchema),
          history: z.array(
            z.object({
              seq: z.number(),
              occurredAt: isoDate,
              action: z.string(),
              actorName: z.string().nullable(),
              changes: z.record(z.string(), z.unknown()),
            }),
          ),
        }),
      },
    },
    handler: async (request) => service.getSealCard(ctx, actorOf(request), request.params.sealId),
  });

  app.get('/seals/:sealId/file-card.pdf', {
    schema: {
      tags,
      summary:
        'The seal file card (档案卡) as a PDF: attributes, impression, grants, lifecycle, uses and audit history, with Chinese or English labels',
      params: sealParams,
      querystring: z.strictObject({
        lang: z
          .enum(['zh-CN', 'en'])
          .optional()
          .describe('language of the labels; else the first zh or en of Accept-Language; else zh-CN'),
      }),
      response: {
        200: z
          .unknown()
          .describe('the file card (application/pdf); long lists are cut to the newest entries, and the card says so'),
      },
    },
    handler: async (request, reply) => {
      const lang = cards.chooseCardLanguage(request.query.lang, request.headers['accept-language']);
      const { pdf, fileName } = await cards.exportSealCard(ctx, actorOf(request), request.params.sealId, { lang });
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="${fileName}"`)
        .header('content-language', lang)
        .header('cache-control', 'no-store')
        .send(pdf);
    },
  });
};
