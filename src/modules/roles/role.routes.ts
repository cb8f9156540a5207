import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { body, isoDate, okSchema, uuid, type RoutesPlugin } from '../../server/schemas.js';
import { roles } from '../access/index.js';
import * as service from './role.service.js';

const tags = ['roles'];
const role = z.enum(roles);

const assignmentSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    userName: z.string(),
    role: z.string(),
    companyId: z.string(),
    companyName: z.string(),
    createdAt: isoDate,
  })
  .meta({ id: 'RoleAssignment' });

export const roleRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/role-assignments', {
    schema: {
      tags,
      summary: 'Role assignments over companies you may see',
      querystring: z.strictObject({ userId: uuid.optional(), companyId: uuid.optional(), role: role.optional() }),
      response: { 200: z.object({ items: z.array(assignmentSchema) }) },
    },
    handler: async (request) => ({ items: await service.listAssignments(ctx, actorOf(request), request.query) }),
  });

  app.post('/role-assignments', {
    schema: {
      tags,
      summary: 'Assign a role over a company subtree (refused with sod_conflict when duties clash)',
      body: body({ userId: uuid, role, companyId: uuid }),
      response: { 201: assignmentSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.assignRole(ctx, actorOf(request), request.body)),
  });

  app.delete('/role-assignments/:assignmentId', {
    schema: {
      tags,
      summary: 'Revoke a role assignment',
      params: z.object({ assignmentId: uuid }),
      response: { 200: okSchema },
    },
    handler: async (request) => {
      await service.revokeRole(ctx, actorOf(request), request.params.assignmentId);
      return { ok: true as const };
    },
  });
};
