import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { body, isoDate, nonBlank, okSchema, uuid, type RoutesPlugin } from '../../server/schemas.js';
import { permissions } from '../access/index.js';
import * as service from './api-key.service.js';

const tags = ['integrations'];

const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    companyId: z.string(),
    permissions: z.array(z.string()),
    createdBy: z.string(),
    createdAt: isoDate,
    expiresAt: isoDate.nullable(),
    revokedAt: isoDate.nullable(),
    lastUsedAt: isoDate.nullable(),
    serviceAccountId: z
      .string()
      .nullable()
      .describe('the service account this key acts as, with its roles and seal grants'),
  })
  .meta({ id: 'ApiKey' });

export const apiKeyRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/api-keys', {
    schema: {
      tags,
      summary: 'API keys over companies you manage',
      response: { 200: z.object({ items: z.array(apiKeySchema) }) },
    },
    handler: async (request) => ({ items: await service.listApiKeys(ctx, actorOf(request)) }),
  });

  app.post('/api-keys', {
    schema: {
      tags,
      summary:
        'Create an API key (the secret is shown once): with its own permissions over a company, or acting as a service account',
      body: body({
        name: nonBlank(100),
        companyId: uuid
          .optional()
          .describe("required unless serviceAccountId is given (then it is the account's company)"),
        permissions: z.array(z.enum(permissions)).max(permissions.length).default([]),
        serviceAccountId: uuid
          .optional()
          .describe('the key acts as this service account, with its roles and seal grants; give no permissions then'),
        expiresAt: z.iso
          .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
          .transform((v) => new Date(v))
          .optional(),
      }),
      response: { 201: z.object({ key: apiKeySchema, secret: z.string() }) },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.createApiKey(ctx, actorOf(request), request.body)),
  });

  app.delete('/api-keys/:apiKeyId', {
    schema: { tags, summary: 'Revoke an API key', params: z.object({ apiKeyId: uuid }), response: { 200: okSchema } },
    handler: async (request) => {
      await service.revokeApiKey(ctx, actorOf(request), request.params.apiKeyId);
      return { ok: true as const };
    },
  });
};
