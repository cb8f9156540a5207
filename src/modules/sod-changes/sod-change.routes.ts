// The separation-of-duties matrix over HTTP: what is in force, and a change proposed for a
// security auditor to approve (an application of purpose `sod_change`).
import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { body, isoDate, nonBlank, type RoutesPlugin } from '../../server/schemas.js';
import { roles } from '../access/index.js';
import { applicationSchema, getApplication, idempotencyHeader } from '../approvals/index.js';
import { getSodSettings, proposeSodChange } from './sod-change.service.js';

const tags = ['roles'];
const role = z.enum(roles);

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

export const sodChangeRoutes: RoutesPlugin = async (app, { ctx }) => {
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
