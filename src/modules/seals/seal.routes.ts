import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { isoDate, sendText, uuid, type RoutesPlugin } from '../../server/schemas.js';
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
import * as reports from './permission-report.service.js';
import * as cards from './seal-card.service.js';
import { reportFlags } from './permission-report.service.js';

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

  app.get('/seals/:sealId/grants', {
    schema: {
      tags,
      summary: 'Grants of a seal',
      params: sealParams,
      querystring: z.strictObject({ includeRevoked: z.enum(['true', 'false']).default('false') }),
      response: { 200: z.object({ items: z.array(grantSchema) }) },
    },
    handler: async (request) => ({
      items: await service.listGrants(
        ctx,
        actorOf(request),
        request.params.sealId,
        request.query.includeRevoked === 'true',
      ),
    }),
  });

  app.post('/seals/:sealId/grants', {
    schema: {
      tags,
      summary: 'Grant use of a seal to a user, a department or a role',
      params: sealParams,
      body: createGrantBody,
      response: { 201: grantSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.createGrant(ctx, actorOf(request), request.params.sealId, request.body)),
  });

  app.post('/seals/:sealId/grants/:grantId/revoke', {
    schema: {
      tags,
      summary: 'Revoke a grant at once',
      params: grantParams,
      body: revokeGrantBody,
      response: { 200: grantSchema },
    },
    handler: async (request) =>
      service.revokeGrant(
        ctx,
        actorOf(request),
        request.params.sealId,
        request.params.grantId,
        request.body.reason ?? null,
      ),
  });

  app.get('/reports/seal-permissions', {
    schema: {
      tags,
      summary:
        'Who may use which seal through which grant, with flags (overlapping, single user, beyond company or function, expired, inactive grantee, custodian also user); JSON or CSV',
      querystring: z.strictObject({
        under: uuid.optional().describe('one company and its subtree'),
        sealId: uuid.optional(),
        userId: uuid.optional(),
        flag: z.enum(reportFlags).optional(),
        format: z.enum(['json', 'csv']).default('json'),
      }),
      response: {
        200: z.object({
          generatedAt: isoDate,
          summary: z.record(z.enum(reportFlags), z.number()),
          rows: z.array(
            z.object({
              sealId: z.string(),
              sealName: z.string(),
              sealCode: z.string(),
              sealType: z.string(),
              sealStatus: z.string(),
              companyName: z.string(),
              grantId: z.string().nullable(),
              granteeType: z.string().nullable(),
              granteeName: z.string().nullable(),
              categories: z.array(z.string()),
              validUntil: isoDate.nullable(),
              remainingUses: z.number().nullable(),
              personId: z.string().nullable(),
              personName: z.string().nullable(),
              personStatus: z.string().nullable(),
              flags: z.array(z.enum(reportFlags)),
            }),
          ),
        }),
      },
    },
    handler: async (request, reply) => {
      const { format, ...query } = request.query;
      const report = await reports.permissionReport(ctx, actorOf(request), query);
      if (format === 'csv') {
        return sendText(reply, {
          type: 'text/csv; charset=utf-8',
          filename: 'seal-permissions.csv',
          body: reports.toCsv(report.rows),
        });
      }
      return report;
    },
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
              grant: z.object({
                id: z.string(),
                categories: z.array(z.string()),
                validUntil: z.string().nullable(),
                remainingUses: z.number().nullable(),
              }),
            }),
          ),
        }),
      },
    },
    handler: async (request) => ({ items: await service.listMySeals(ctx, actorOf(request), request.query) }),
  });

  app.get('/seal-use/decision', {
    schema: {
      tags,
      summary: 'May this person use this seal for this business category now, and by which grant?',
      querystring: useDecisionQuery,
      response: { 200: useDecisionSchema },
    },
    handler: async (request) => {
      const decision = await service.checkUse(ctx, actorOf(request), request.query);
      return decision.allowed
        ? { allowed: true, reason: null, grant: decision.grant }
        : { allowed: false, reason: decision.reason, grant: null };
    },
  });
};
