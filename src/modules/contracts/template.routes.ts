import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { body, uuid, type RoutesPlugin } from '../../server/schemas.js';
import type { TemplateSource } from '../../templates/index.js';
import { createTemplateBody, templateDetailSchema, templateSchema, templateSource } from './contract.schema.js';
import * as service from './template.service.js';

const tags = ['contracts'];
const params = z.object({ id: uuid });

export const templateRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/templates', {
    schema: {
      tags,
      summary: 'Contract templates you may use: your company’s, those above it, and those you manage',
      response: { 200: z.object({ items: z.array(templateSchema) }) },
    },
    handler: async (request) => ({ items: await service.listTemplates(ctx, actorOf(request)) }),
  });
  app.post('/templates', {
    schema: {
      tags,
      summary: 'Create a template (version 1): checked for unknown variables and markup problems first',
      body: createTemplateBody,
      response: { 201: templateDetailSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(
        await service.createTemplate(ctx, actorOf(request), {
          ...request.body,
          source: request.body.source as TemplateSource,
        }),
      ),
  });
  app.get('/templates/:id', {
    schema: {
      tags,
      summary: 'A template with the source of one version (the latest by default) and its versions',
      params,
      querystring: z.strictObject({ version: z.coerce.number().int().min(1).optional() }),
      response: { 200: templateDetailSchema },
    },
    handler: async (request) => service.getTemplate(ctx, actorOf(request), request.params.id, request.query.version),
  });
  app.post('/templates/:id/versions', {
    schema: {
      tags,
      summary: 'Add a version; contracts made from earlier versions keep theirs',
      params,
      body: body({ source: templateSource }),
      response: { 201: templateDetailSchema },
    },
    handler: async (request, reply) =>
      reply
        .status(201)
        .send(
          await service.addTemplateVersion(
            ctx,
            actorOf(request),
            request.params.id,
            request.body.source as TemplateSource,
          ),
        ),
  });
  app.post('/templates/:id/previews', {
    schema: {
      tags,
      summary: 'The PDF a version makes with these values (nothing is stored)',
      params,
      body: body({
        version: z.number().int().min(1).optional(),
        values: z.record(z.string(), z.unknown()),
      }),
    },
    handler: async (request, reply) => {
      const { pdf } = await service.renderVersion(ctx, actorOf(request), {
        templateId: request.params.id,
        version: request.body.version,
        values: request.body.values,
      });
      return reply.type('application/pdf').header('cache-control', 'no-store').send(pdf);
    },
  });
};
