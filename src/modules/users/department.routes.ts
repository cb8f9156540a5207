import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import type { RoutesPlugin } from '../../server/schemas.js';
import {
  createDepartmentBody,
  departmentListQuery,
  departmentParams,
  departmentSchema,
  updateDepartmentBody,
} from './department.schema.js';
import * as service from './department.service.js';

const tags = ['organisation'];

export const departmentRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/departments', {
    schema: {
      tags,
      summary: 'Departments you may see',
      querystring: departmentListQuery,
      response: { 200: z.object({ items: z.array(departmentSchema) }) },
    },
    handler: async (request) => ({ items: await service.listDepartments(ctx, actorOf(request), request.query) }),
  });
  app.get('/departments/:departmentId', {
    schema: { tags, summary: 'One department', params: departmentParams, response: { 200: departmentSchema } },
    handler: async (request) => service.getDepartment(ctx, actorOf(request), request.params.departmentId),
  });
  app.post('/departments', {
    schema: { tags, summary: 'Create a department', body: createDepartmentBody, response: { 201: departmentSchema } },
    handler: async (request, reply) =>
      reply.status(201).send(await service.createDepartment(ctx, actorOf(request), request.body)),
  });
  app.patch('/departments/:departmentId', {
    schema: {
      tags,
      summary: 'Rename a department or change its head',
      params: departmentParams,
      body: updateDepartmentBody,
      response: { 200: departmentSchema },
    },
    handler: async (request) =>
      service.updateDepartment(ctx, actorOf(request), request.params.departmentId, request.body),
  });
};
