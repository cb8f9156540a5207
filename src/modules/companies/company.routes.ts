import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import type { RoutesPlugin } from '../../server/schemas.js';
import {
  companyListQuery,
  companyParams,
  companySchema,
  createCompanyBody,
  updateCompanyBody,
} from './company.schema.js';
import * as service from './company.service.js';

const tags = ['organisation'];

export const companyRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/companies', {
    schema: {
      tags,
      summary: 'Companies you may see, in tree order',
      querystring: companyListQuery,
      response: { 200: z.object({ items: z.array(companySchema), nextCursor: z.string().nullable() }) },
    },
    handler: async (request) => service.listCompanies(ctx, actorOf(request), request.query),
  });

  app.get('/companies/:companyId', {
    schema: { tags, summary: 'One company', params: companyParams, response: { 200: companySchema } },
    handler: async (request) => service.getCompany(ctx, actorOf(request), request.params.companyId),
  });

  app.post('/companies', {
    schema: {
      tags,
      summary: 'Create a subsidiary under a company',
      body: createCompanyBody,
      response: { 201: companySchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.createCompany(ctx, actorOf(request), request.body)),
  });

  app.patch('/companies/:companyId', {
    schema: {
      tags,
      summary: 'Rename, re-code, close or move a company',
      params: companyParams,
      body: updateCompanyBody,
      response: { 200: companySchema },
    },
    handler: async (request) => service.updateCompany(ctx, actorOf(request), request.params.companyId, request.body),
  });
};
