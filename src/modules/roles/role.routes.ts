import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { body, isoDate, nonBlank, okSchema, uuid, type RoutesPlugin } from '../../server/schemas.js';
import { roles } from '../access/index.js';
import { getApplication } from '../approvals/index.js';
import { applicationSchema, idempotencyHeader } from '../approvals/index.js';
import { getSodSettings, proposeSodChange } from '../groups/index.js';
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

const pairs = z.array(z.tuple([role, role]));
const sodSchema = z
  .object({
    pairs,
    pending: z
      .object({
        applicationId: z.string(),
        pairs,
        proposedBy: z.object({ id: z.string(), name: z.string() }),
        proposedAt: isoDate,
        reason: z.string(),
      })
      .nullable()
      .describe(
        'a proposed change waiting for a security auditor: to those who propose (settings.write) or audit (audit.read); otherwise null',
      ),
  })
  .meta({ id: 'SeparationOfDuties' });

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

  app.get('/settings/separation-of-duties', {
    schema: {
      tags,
      summary: 'Pairs of roles one person may not hold together, and a proposed change waiting for an auditor',
      response: { 200: sodSchema },
    },
    handler: async (request) => getSodSettings(ctx, actorOf(request)),
  });

  app.post('/settings/separation-of-duties/proposals', {
    schema: {
      tags,
      summary:
        'Propose a new separation-of-duties matrix (head-company system administrators); it takes effect when a security auditor of the head company approves it',
      headers: idempotencyHeader,
      body: body({ pairs: pairs.max(20), reason: nonBlank(1000) }),
      response: { 201: applicationSchema, 200: applicationSchema },
    },
    handler: async (request, reply) => {
      const actor = actorOf(request);
      const result = await proposeSodChange(ctx, actor, request.body, request.headers['idempotency-key'] ?? null);
      return reply.status(result.created ? 201 : 200).send(await getApplication(ctx, actor, result.id));
    },
  });
};
