import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { isoDate, sendText, uuid, type RoutesPlugin } from '../../server/schemas.js';
import * as service from './grant.service.js';
import * as reports from './permission-report.service.js';
import { reportFlags } from './permission-report.service.js';
import {
  category,
  createGrantBody,
  grantParams,
  grantSchema,
  revokeGrantBody,
  useDecisionQuery,
  useDecisionSchema,
} from './grant.schema.js';
import { sealKinds, sealParams, sealTypes } from '../seals/index.js';

const tags = ['seals'];

export const grantRoutes: RoutesPlugin = async (app, { ctx }) => {
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
