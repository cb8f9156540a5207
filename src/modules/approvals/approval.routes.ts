import { z } from 'zod';
import type { LifecycleAction } from '../../db/schema.js';
import { actorOf } from '../../server/plugins/auth.js';
import { body, isoDate, nonBlank, okSchema, uuid, type RoutesPlugin, sha256 } from '../../server/schemas.js';

import { category } from '../grants/index.js';
import * as service from './approval.service.js';
import * as decisions from './approval.decisions.js';
import * as sealUse from './seal-use.purpose.js';
import * as flows from './flow.service.js';
import { createFlowBody, flowParams, flowSchema, updateFlowBody } from './flow.schema.js';

const tags = ['approvals'];
const person = z.object({ id: z.string(), name: z.string() });

export const planSchema = z.object({
  flowId: z.string(),
  flowName: z.string(),
  flowVersion: z.number(),
  levels: z.array(
    z.object({
      name: z.string(),
      mode: z.enum(['any', 'all']),
      approvers: z.array(person),
      remindAfterHours: z.number().nullable(),
      escalateAfterHours: z.number().nullable(),
    }),
  ),
  cc: z.array(person),
  allowSameApproverAcrossLevels: z
    .boolean()
    .describe('the flow let one person decide several levels; otherwise each person decides at most one'),
});

const taskSchema = z.object({
  id: z.string(),
  applicationId: z.string(),
  level: z.number(),
  assigneeId: z.string(),
  assigneeName: z.string(),
  onBehalfOf: z.string().nullable(),
  onBehalfOfName: z.string().nullable(),
  via: z.enum(['delegation', 'transfer', 'escalation']).nullable(),
  status: z.enum(['pending', 'approved', 'rejected', 'transferred', 'cancelled']),
  comment: z.string().nullable(),
  createdAt: isoDate,
  decidedAt: isoDate.nullable(),
});

const applicationSummary = z.object({
  id: z.string(),
  companyId: z.string(),
  applicantId: z.string(),
  applicantName: z.string(),
  purpose: z.enum(['seal_use', 'lifecycle', 'sod_change']),
  category: z.string().nullable(),
  lifecycleAction: z
    .enum(['produce', 'change', 'transfer', 'suspend', 'resume', 'report_loss', 'destroy'] satisfies LifecycleAction[])
    .nullable(),
  payload: z.record(z.string(), z.unknown()),
  reason: z.string(),
  uses: z.number(),
  photosPerUse: z.number(),
  flowVersionId: z.string(),
  currentLevel: z.number(),
  status: z.enum(['pending', 'approved', 'rejected', 'withdrawn', 'closed']),
  closedReason: z
    .string()
    .nullable()
    .describe('closed: why (its seal was suspended, reported lost or destroyed while it waited)'),
  createdAt: isoDate,
  decidedAt: isoDate.nullable(),
  sealNames: z.array(z.string()),
});

export const applicationSchema = applicationSummary
  .extend({
    plan: planSchema,
    seals: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        code: z.string(),
        kind: z.string(),
        type: z.string(),
        status: z.string(),
        companyId: z.string(),
      }),
    ),
    tasks: z.array(taskSchema),
    cc: z.array(person),
    authorizations: z.array(
      z.object({
        id: z.string(),
        sealId: z.string(),
        holderId: z.string(),
        kind: z.enum(['documents', 'ticket']),
        usesTotal: z.number(),
        usesConsumed: z.number(),
        createdAt: isoDate,
        revokedAt: isoDate.nullable(),
      }),
    ),
    documents: z.array(z.object({ sha256: z.string(), name: z.string(), size: z.number(), mediaType: z.string() })),
  })
  .meta({ id: 'Application' });

const sealUseBody = body({
  documents: z
    .array(z.strictObject({ sha256, name: nonBlank(200) }))
    .max(20)
    .default([])
    .describe('the files to stamp, uploaded first with POST /documents/uploads'),
  sealIds: z.array(uuid).min(1, { message: 'must name at least one seal' }).max(20),
  category,
  reason: nonBlank(1000),
  uses: z
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(1, { message: 'must be at least 1' })
    .max(1000, { message: 'must be at most 1000' }),
  photosPerUse: z.number().int().min(0).max(20).default(0),
});

const previewBody = sealUseBody.extend({ reason: z.string().trim().max(1000).optional() });

export const idempotencyHeader = z.object({
  'idempotency-key': z.string().min(8, { message: 'must be at least 8 characters' }).max(200).optional(),
});

export const approvalRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/flows', {
    schema: {
      tags,
      summary: 'Approval flows over companies you may see',
      querystring: z.strictObject({
        companyId: uuid.optional(),
        includeArchived: z.enum(['true', 'false']).default('false'),
      }),
      response: { 200: z.object({ items: z.array(flowSchema) }) },
    },
    handler: async (request) => ({
      items: await flows.listFlows(ctx, actorOf(request), {
        companyId: request.query.companyId,
        includeArchived: request.query.includeArchived === 'true',
      }),
    }),
  });
  app.get('/flows/:flowId', {
    schema: { tags, summary: 'One flow, at its current version', params: flowParams, response: { 200: flowSchema } },
    handler: async (request) => flows.getFlow(ctx, actorOf(request), request.params.flowId),
  });
  app.post('/flows', {
    schema: {
      tags,
      summary: 'Create a flow for a company and business category, or bound to one seal',
      body: createFlowBody,
      response: { 201: flowSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await flows.createFlow(ctx, actorOf(request), request.body)),
  });
  app.put('/flows/:flowId', {
    schema: {
      tags,
      summary: 'Change a flow (a new version; running applications keep theirs)',
      params: flowParams,
      body: updateFlowBody,
      response: { 200: flowSchema },
    },
    handler: async (request) => flows.updateFlow(ctx, actorOf(request), request.params.flowId, request.body),
  });
  app.post('/flows/:flowId/archive', {
    schema: { tags, summary: 'Archive a flow', params: flowParams, response: { 200: flowSchema } },
    handler: async (request) => flows.archiveFlow(ctx, actorOf(request), request.params.flowId),
  });

  app.post('/applications/preview', {
    schema: {
      tags,
      summary: 'The approvers and CC an application would get, before submitting (the reason may still be empty)',
      body: previewBody,
      response: { 200: planSchema },
    },
    handler: async (request) =>
      sealUse.previewSealUse(ctx, actorOf(request), { ...request.body, reason: request.body.reason ?? '' }),
  });
  app.post('/applications', {
    schema: {
      tags,
      summary: 'Apply to use seals (用印申请); send an Idempotency-Key header to make retries safe',
      headers: idempotencyHeader,
      body: sealUseBody,
      response: { 201: applicationSchema, 200: applicationSchema },
    },
    handler: async (request, reply) => {
      const actor = actorOf(request);
      const result = await sealUse.submitSealUse(ctx, actor, request.body, request.headers['idempotency-key'] ?? null);
      return reply.status(result.created ? 201 : 200).send(await service.getApplication(ctx, actor, result.id));
    },
  });
  app.get('/applications/:applicationId/documents/:sha256', {
    schema: {
      tags,
      summary: 'Download a document of an application (to review it before deciding)',
      params: z.object({ applicationId: uuid, sha256 }),
      response: { 200: z.unknown().describe('the document itself (application/pdf)') },
    },
    handler: async (request, reply) => {
      const document = await service.readApplicationDocument(
        ctx,
        actorOf(request),
        request.params.applicationId,
        request.params.sha256,
      );
      return reply
        .type(document.mediaType)
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(document.name)}`)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, no-cache')
        .send(document.bytes);
    },
  });

  app.get('/applications', {
    schema: {
      tags,
      summary: 'My applications',
      querystring: z.strictObject({
        status: z.enum(['pending', 'approved', 'rejected', 'withdrawn', 'closed']).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
      response: { 200: z.object({ items: z.array(applicationSummary) }) },
    },
    handler: async (request) => ({ items: await service.listMyApplications(ctx, actorOf(request), request.query) }),
  });
  app.get('/applications/:applicationId', {
    schema: {
      tags,
      summary: 'An application with its plan, tasks (timeline), CC and authorizations',
      params: z.object({ applicationId: uuid }),
      response: { 200: applicationSchema },
    },
    handler: async (request) => service.getApplication(ctx, actorOf(request), request.params.applicationId),
  });
  app.post('/applications/:applicationId/withdraw', {
    schema: {
      tags,
      summary: 'Withdraw my application before the final decision',
      params: z.object({ applicationId: uuid }),
      response: { 200: applicationSchema },
    },
    handler: async (request) => decisions.withdrawApplication(ctx, actorOf(request), request.params.applicationId),
  });

  app.get('/tasks', {
    schema: {
      tags,
      summary: 'My approval inbox',
      querystring: z.strictObject({
        status: z.enum(['pending', 'approved', 'rejected', 'transferred', 'cancelled']).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
      response: {
        200: z.object({
          items: z.array(
            taskSchema.extend({
              reason: z.string(),
              category: z.string().nullable(),
              uses: z.number(),
              purpose: z.string(),
              applicationStatus: z.string(),
              applicantName: z.string(),
              submittedAt: isoDate,
              sealNames: z.array(z.string()),
            }),
          ),
        }),
      },
    },
    handler: async (request) => ({ items: await service.listMyTasks(ctx, actorOf(request), request.query) }),
  });
  app.post('/tasks/:taskId/approve', {
    schema: {
      tags,
      summary: 'Approve (with an optional comment)',
      params: z.object({ taskId: uuid }),
      // Fastify gives a request without a body as null: an approval needs none.
      body: body({ comment: z.string().trim().max(1000).optional() })
        .nullish()
        .describe('optional: an approval needs no body'),
      response: { 200: applicationSchema },
    },
    handler: async (request) =>
      decisions.approveTask(ctx, actorOf(request), request.params.taskId, request.body?.comment ?? null),
  });
  app.post('/tasks/:taskId/reject', {
    schema: {
      tags,
      summary: 'Reject (final; a reason is required)',
      params: z.object({ taskId: uuid }),
      body: body({ reason: nonBlank(1000) }),
      response: { 200: applicationSchema },
    },
    handler: async (request) => decisions.rejectTask(ctx, actorOf(request), request.params.taskId, request.body.reason),
  });
  app.post('/tasks/:taskId/transfer', {
    schema: {
      tags,
      summary: 'Transfer (转交) the task to another approver',
      params: z.object({ taskId: uuid }),
      body: body({ toUserId: uuid, comment: z.string().trim().max(1000).optional() }),
      response: { 200: applicationSchema },
    },
    handler: async (request) =>
      decisions.transferTask(ctx, actorOf(request), request.params.taskId, {
        toUserId: request.body.toUserId,
        comment: request.body.comment ?? null,
      }),
  });

  app.get('/tasks/:taskId/transfer-candidates', {
    schema: {
      tags,
      summary:
        'Who the holder of a task may transfer it to: active people of the application’s company line who may take it (not the applicant, nobody deciding another level of it), by name or e-mail',
      params: z.object({ taskId: uuid }),
      querystring: z.strictObject({
        q: z.string().trim().min(1).max(100).optional(),
        limit: z.coerce.number().int().min(1).max(50).default(20),
      }),
      response: {
        200: z.object({
          items: z.array(
            z.object({ id: z.string(), name: z.string(), companyId: z.string(), companyName: z.string() }),
          ),
        }),
      },
    },
    handler: async (request) => ({
      items: await decisions.listTransferCandidates(ctx, actorOf(request), request.params.taskId, request.query),
    }),
  });

  app.post('/authorizations/:authorizationId/revoke', {
    schema: {
      tags,
      summary: 'Revoke the remaining uses of an authorization',
      params: z.object({ authorizationId: uuid }),
      response: { 200: applicationSchema },
    },
    handler: async (request) => service.revokeAuthorization(ctx, actorOf(request), request.params.authorizationId),
  });

  const dateTime = z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
    .transform((v) => new Date(v));
  const delegationSchema = z.object({
    id: z.string(),
    delegateId: z.string(),
    delegateName: z.string(),
    startsAt: isoDate,
    endsAt: isoDate,
    revokedAt: isoDate.nullable(),
    createdAt: isoDate,
  });
  app.get('/delegations', {
    schema: { tags, summary: 'My delegations', response: { 200: z.object({ items: z.array(delegationSchema) }) } },
    handler: async (request) => ({ items: await service.listDelegations(ctx, actorOf(request)) }),
  });
  app.get('/delegations/candidates', {
    schema: {
      tags,
      summary:
        'Whom I may name as my stand-in: active people of my company line (above or below my company), by name or e-mail',
      querystring: z.strictObject({
        q: z.string().trim().min(1).max(100).optional(),
        limit: z.coerce.number().int().min(1).max(50).default(20),
      }),
      response: {
        200: z.object({
          items: z.array(
            z.object({ id: z.string(), name: z.string(), companyId: z.string(), companyName: z.string() }),
          ),
        }),
      },
    },
    handler: async (request) => ({
      items: await service.listDelegationCandidates(ctx, actorOf(request), request.query),
    }),
  });
  app.post('/delegations', {
    schema: {
      tags,
      summary: 'Let someone decide my approval tasks for a date range',
      body: body({ delegateId: uuid, startsAt: dateTime, endsAt: dateTime }),
      response: { 201: delegationSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.createDelegation(ctx, actorOf(request), request.body)),
  });
  app.delete('/delegations/:delegationId', {
    schema: {
      tags,
      summary: 'End a delegation',
      params: z.object({ delegationId: uuid }),
      response: { 200: okSchema },
    },
    handler: async (request) => {
      await service.revokeDelegation(ctx, actorOf(request), request.params.delegationId);
      return { ok: true as const };
    },
  });
};
