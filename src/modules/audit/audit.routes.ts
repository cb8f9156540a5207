import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { isoDate, uuid, type RoutesPlugin } from '../../server/schemas.js';
import { auditActions } from './audit.events.js';
import * as service from './audit.query.js';

const tags = ['audit'];

const eventSchema = z
  .object({
    id: z.string(),
    seq: z.number().describe("the event's place in the group's log (increasing, with gaps)"),
    occurredAt: isoDate,
    actor: z.object({ type: z.string(), id: z.string().nullable(), name: z.string().nullable() }),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string().nullable() }),
    companyId: z.string().nullable(),
    changes: z.record(z.string(), z.unknown()),
    valid: z.boolean().describe('false when the stored payload no longer matches its event schema'),
    hash: z
      .string()
      .nullable()
      .describe("the event's hash in the group's chain; null for the fraction of a second until the sealer links it"),
  })
  .meta({ id: 'AuditEvent' });

const dateTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
  .transform((v) => new Date(v));

export const auditRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/audit-events', {
    schema: {
      tags,
      summary: 'The audit log, newest first (security auditors)',
      querystring: z.strictObject({
        action: z.enum(auditActions).optional(),
        actionPrefix: z
          .string()
          .regex(/^[a-z_.]{1,40}$/, { message: 'must be the start of an action name, e.g. user.' })
          .optional(),
        actorId: uuid.optional(),
        targetId: uuid.optional(),
        companyId: uuid.optional(),
        from: dateTime.optional(),
        to: dateTime.optional(),
        beforeSeq: z.coerce.number().int().min(1).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
      response: { 200: z.object({ items: z.array(eventSchema), nextBeforeSeq: z.number().nullable() }) },
    },
    handler: async (request) => service.listAuditEvents(ctx, actorOf(request), request.query),
  });

  app.get('/audit-events/verify', {
    schema: {
      tags,
      summary: "Verify the group's audit hash chain",
      response: {
        200: z.object({
          intact: z.boolean(),
          checked: z.number(),
          headSeq: z.number(),
          firstProblem: z
            .object({
              kind: z.enum(['altered', 'inserted', 'missing']),
              seq: z.number(),
              eventId: z.string().nullable(),
              detail: z.string(),
            })
            .nullable(),
        }),
      },
    },
    handler: async (request) => service.verifyAuditChain(ctx, actorOf(request)),
  });
};
