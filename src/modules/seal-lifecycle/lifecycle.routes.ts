import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { body, nonBlank, sha256, uuid, type RoutesPlugin } from '../../server/schemas.js';
import { applicationSchema, getApplication, idempotencyHeader, planSchema } from '../approvals/index.js';
import { sealKinds, sealTypes } from '../seals/index.js';
import * as service from './lifecycle.service.js';

const productionBody = body({
  companyId: uuid,
  name: nonBlank(100),
  code: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, { message: 'must be 1–40 letters, digits, dot, dash or underscore' }),
  kind: z.enum(sealKinds),
  type: z.enum(sealTypes),
  customType: nonBlank(40).optional(),
  description: z.string().trim().max(500).optional(),
  custodianIds: z.array(uuid).min(1, { message: 'must name at least one custodian' }).max(5),
  imageSha256: sha256.optional().describe('a seal image stored with POST /seal-images or /seal-images/generate'),
  reason: nonBlank(1000),
});

/** Only the company and the custodians decide who approves a production: the other particulars may still be missing. */
const productionPreviewBody = productionBody
  .partial({ name: true, code: true, kind: true, type: true })
  .extend({ reason: z.string().trim().max(1000).optional() });

const stepBody = body({
  action: z.enum(['change', 'transfer', 'suspend', 'resume', 'report_loss', 'destroy']),
  reason: nonBlank(1000),
  name: nonBlank(100).optional(),
  description: z.string().trim().max(500).optional(),
  custodianIds: z.array(uuid).min(1).max(5).optional(),
  companyId: uuid.optional().describe('transfer: the company the seal moves to'),
  imageSha256: sha256
    .optional()
    .describe(
      'change: the new impression, a seal image stored with POST /seal-images or /seal-images/generate; the seal shows it once the change is approved',
    ),
});

const stepPreviewBody = stepBody.extend({ reason: z.string().trim().max(1000).optional() });

export const sealLifecycleRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.post('/seals/production-applications', {
    schema: {
      tags: ['seals'],
      summary: 'Apply to make a seal (制作); it appears in the library, active, once approved',
      headers: idempotencyHeader,
      body: productionBody,
      response: { 201: applicationSchema, 200: applicationSchema },
    },
    handler: async (request, reply) => {
      const actor = actorOf(request);
      const result = await service.applyForProduction(
        ctx,
        actor,
        request.body,
        request.headers['idempotency-key'] ?? null,
      );
      return reply.status(result.created ? 201 : 200).send(await getApplication(ctx, actor, result.id));
    },
  });
  app.post('/seals/production-applications/preview', {
    schema: {
      tags: ['seals'],
      summary:
        'The approvers and CC a production application would get, before submitting (only the company and the custodians decide them)',
      body: productionPreviewBody,
      response: { 200: planSchema },
    },
    handler: async (request) => service.previewProduction(ctx, actorOf(request), request.body),
  });
  app.post('/seals/:sealId/lifecycle-applications/preview', {
    schema: {
      tags: ['seals'],
      summary:
        'The approvers and CC a lifecycle application would get, before submitting (the reason may still be empty)',
      params: z.object({ sealId: uuid }),
      body: stepPreviewBody,
      response: { 200: planSchema },
    },
    handler: async (request) => service.previewStep(ctx, actorOf(request), request.params.sealId, request.body),
  });
  app.post('/seals/:sealId/lifecycle-applications', {
    schema: {
      tags: ['seals'],
      summary:
        'Apply to change (变更), transfer (移交), suspend (停用), resume, report lost (挂失) or destroy (销毁) a seal',
      params: z.object({ sealId: uuid }),
      headers: idempotencyHeader,
      body: stepBody,
      response: { 201: applicationSchema, 200: applicationSchema },
    },
    handler: async (request, reply) => {
      const actor = actorOf(request);
      const result = await service.applyForStep(
        ctx,
        actor,
        request.params.sealId,
        request.body,
        request.headers['idempotency-key'] ?? null,
      );
      return reply.status(result.created ? 201 : 200).send(await getApplication(ctx, actor, result.id));
    },
  });
};
