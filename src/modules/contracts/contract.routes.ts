import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { body, isoDate, limitQuery, nonBlank, uuid, type RoutesPlugin } from '../../server/schemas.js';
import {
  attachmentSchema,
  contractSchema,
  contractStatuses,
  createContractBody,
  invitationSchema,
  rejectBody,
  signBody,
  voidBody,
} from './contract.schema.js';
import * as service from './contract.service.js';
import * as signer from './contract.signer.js';
import { buildEvidencePackage } from './contract.evidence.js';
import * as attachments from './contract.attachments.js';
import { startVoidAgreement } from './contract.void.js';
import { getPolicy, setPolicy } from './contract.policy.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { category } from '../grants/index.js';

const tags = ['contracts'];
const params = z.object({ id: uuid });
const day = z.iso.date({ message: 'must be a date as YYYY-MM-DD' });
const dateTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
  .transform((v) => new Date(v));

export const contractRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.post('/contracts', {
    schema: {
      tags,
      summary: 'Create a contract (a draft) from an uploaded PDF, with its participants and fields',
      body: createContractBody,
      response: { 201: contractSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.createContract(ctx, actorOf(request), request.body)),
  });
  app.get('/contracts', {
    schema: {
      tags,
      summary: 'Contracts you sent or take part in, and all of those over companies whose contracts you read',
      querystring: z.strictObject({
        status: z.enum(contractStatuses).optional(),
        q: nonBlank(100).optional().describe('title, number or a party’s name'),
        category: category.optional(),
        party: nonBlank(100).optional().describe('a party’s name or organisation, any part of it'),
        number: nonBlank(64).optional().describe('the contract number’s beginning'),
        effectiveFrom: day.optional().describe('effective on or after this day'),
        effectiveTo: day.optional().describe('effective on or before this day'),
        expiresFrom: day.optional().describe('expiring on or after this day'),
        expiresTo: day.optional().describe('expiring on or before this day'),
        completedFrom: dateTime.optional().describe('completed at or after this instant'),
        completedTo: dateTime.optional().describe('completed at or before this instant'),
        limit: limitQuery,
      }),
      response: { 200: z.object({ items: z.array(contractSchema.omit({ participants: true, fields: true })) }) },
    },
    handler: async (request) => ({ items: await service.listContracts(ctx, actorOf(request), request.query) }),
  });
  app.get('/contracts/:id', {
    schema: { tags, summary: 'A contract', params, response: { 200: contractSchema } },
    handler: async (request) => service.getContract(ctx, actorOf(request), request.params.id),
  });
  app.get('/contracts/:id/document', {
    schema: {
      tags,
      summary: 'The contract’s current PDF, with every signature made so far',
      params,
    },
    handler: async (request, reply) => {
      const file = await service.readContractDocument(ctx, actorOf(request), request.params.id);
      return reply
        .type('application/pdf')
        .header('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(file.name)}`)
        .header('x-content-sha256', file.sha256)
        .header('cache-control', 'private, no-store')
        .send(file.bytes);
    },
  });
  app.get('/contracts/:id/evidence', {
    schema: {
      tags,
      summary:
        'The evidence package (zip): the signed PDF and its original, the audit-trail certificate, every certificate, the events with their inclusion proofs',
      params,
    },
    handler: async (request, reply) => {
      const file = await buildEvidencePackage(ctx, actorOf(request), request.params.id);
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`)
        .header('cache-control', 'private, no-store')
        .send(file.bytes);
    },
  });
  app.post('/contracts/:id/send', {
    schema: {
      tags,
      summary: 'Send a draft: the first step opens; outside participants get a single-use link',
      params,
      response: { 200: z.object({ contract: contractSchema, invitations: z.array(invitationSchema) }) },
    },
    handler: async (request) => service.sendContract(ctx, actorOf(request), request.params.id),
  });
  app.post('/contracts/:id/sign', {
    schema: {
      tags,
      summary:
        'Sign your part: a company’s seal fields (under a grant or an approved application), or your own signature',
      params,
      body: signBody,
      response: { 200: contractSchema },
    },
    handler: async (request) => service.signContract(ctx, actorOf(request), request.params.id, request.body),
  });
  app.post('/contracts/:id/approve', {
    schema: {
      tags,
      summary: 'Approve the contract (later signers wait for it)',
      params,
      response: { 200: contractSchema },
    },
    handler: async (request) => service.approveContract(ctx, actorOf(request), request.params.id),
  });
  app.post('/contracts/:id/reject', {
    schema: {
      tags,
      summary: 'Refuse to sign or approve; the contract ends',
      params,
      body: rejectBody,
      response: { 200: contractSchema },
    },
    handler: async (request) => service.rejectContract(ctx, actorOf(request), request.params.id, request.body.reason),
  });
  app.post('/contracts/:id/reminders', {
    schema: {
      tags,
      summary: '催签: remind everyone whose turn it is (outside signers get a fresh link); at most once an hour',
      params,
      response: { 200: z.object({ reminded: z.number() }) },
    },
    handler: async (request) => service.remindContract(ctx, actorOf(request), request.params.id),
  });
  app.post('/contracts/:id/void', {
    schema: {
      tags,
      summary: 'Withdraw a contract not yet complete',
      params,
      body: voidBody,
      response: { 200: contractSchema },
    },
    handler: async (request) => service.voidContract(ctx, actorOf(request), request.params.id, request.body.reason),
  });
  app.post('/contracts/:id/void-agreement', {
    schema: {
      tags,
      summary:
        'Void a completed contract: a void agreement (作废协议) naming it, sent at once to the same participants; the contract is voided when the agreement completes',
      params,
      body: voidBody,
      response: { 201: z.object({ contract: contractSchema, invitations: z.array(invitationSchema) }) },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await startVoidAgreement(ctx, actorOf(request), request.params.id, request.body.reason)),
  });
  const policy = z
    .object({
      companyId: z.string(),
      requireSecondFactor: z.boolean().describe('set on this company'),
      effective: z.object({
        requireSecondFactor: z.boolean().describe('set on this company or one above it'),
        setBy: z.object({ id: z.string(), name: z.string() }).nullable(),
      }),
    })
    .meta({ id: 'ContractPolicy' });
  const companyParams = z.object({ companyId: uuid });
  app.get('/contract-policies/:companyId', {
    schema: {
      tags,
      summary: 'The signing policy for contracts a company (or one below it) sends',
      params: companyParams,
      response: { 200: policy },
    },
    handler: async (request) => getPolicy(ctx, actorOf(request), request.params.companyId),
  });
  app.put('/contract-policies/:companyId', {
    schema: {
      tags,
      summary:
        'Set the signing policy (settings.write): a second factor for every internal signer of contracts this company and those below it send from now on',
      params: companyParams,
      body: body({ requireSecondFactor: z.boolean() }),
      response: { 200: policy },
    },
    handler: async (request) => setPolicy(ctx, actorOf(request), request.params.companyId, request.body),
  });
  app.get('/contracts/:id/attachments', {
    schema: {
      tags,
      summary: 'The contract’s attachments',
      params,
      response: { 200: z.object({ items: z.array(attachmentSchema) }) },
    },
    handler: async (request) => ({
      items: await attachments.listAttachments(ctx, actorOf(request), request.params.id),
    }),
  });
  app.get('/contracts/:id/attachments/:attachmentId', {
    schema: {
      tags,
      summary: 'An attachment’s file',
      params: z.object({ id: uuid, attachmentId: uuid }),
    },
    handler: async (request, reply) => {
      const file = await attachments.readVisibleAttachment(
        ctx,
        actorOf(request),
        request.params.id,
        request.params.attachmentId,
      );
      return sendAttachment(reply, file);
    },
  });
  await app.register(async (scope) => {
    const upload = scope.withTypeProvider<ZodTypeProvider>();
    upload.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, bytes, done) => done(null, bytes));
    upload.post('/contracts/:id/attachments', {
      bodyLimit: attachments.ATTACHMENT_LIMIT_BYTES,
      schema: {
        tags,
        summary:
          'Attach a file to a draft (raw body: a PDF, PNG or JPEG, at most 10 MB, its type read from the bytes); name it with ?name=',
        params,
        querystring: z.strictObject({ name: nonBlank(200).default('attachment') }),
        response: { 201: attachmentSchema },
      },
      handler: async (request, reply) => {
        // A JSON body (the JSON parser wins for its type) is no file: refused once the contract is known.
        const bytes = Buffer.isBuffer(request.body) ? request.body : null;
        return reply.status(201).send(
          await attachments.addAttachment(ctx, actorOf(request), request.params.id, {
            bytes,
            name: request.query.name,
          }),
        );
      },
    });
  });

  // The outside signer's routes: no account; the link's token, then the signing session.
  // Without an account, so each client address is held to a rate per route: links, codes and
  // sessions are guessed at, and every signing attempt issues a certificate.
  const open = {
    auth: 'public' as const,
    rateLimit: { max: ctx.config.publicSigningRatePerMinute, timeWindow: 60_000 },
  };
  const token = z.object({ token: z.string().min(20).max(100) });
  const session = z.object({ 'x-signing-session': z.string().max(100).optional() });
  const channel = z.enum(['sms', 'email']);
  const summary = z.object({
    title: z.string(),
    companyName: z.string(),
    number: z.string().nullable(),
    participant: z.object({
      name: z.string(),
      orgName: z.string().nullable(),
      phone: z.string().nullable(),
      email: z.string().nullable(),
      role: z.string(),
    }),
    channels: z.array(channel),
    expiresAt: isoDate,
  });
  app.get('/signing/:token', {
    config: open,
    schema: { tags, summary: 'What an invitation link is for', params: token, response: { 200: summary } },
    handler: async (request) => signer.openInvitation(ctx, request.params.token),
  });
  app.post('/signing/:token/codes', {
    config: open,
    schema: {
      tags,
      summary: 'Send a one-time code to the invited phone or e-mail (one a minute, five per link)',
      params: token,
      body: body({ channel }),
      response: { 200: z.object({ sentTo: z.string().nullable(), expiresInSeconds: z.number() }) },
    },
    handler: async (request) => signer.sendCode(ctx, request.params.token, request.body.channel),
  });
  app.post('/signing/:token/sessions', {
    config: open,
    schema: {
      tags,
      summary: 'Enter the code and consent to sign electronically: spends the link, opens a 30-minute signing session',
      params: token,
      body: body({
        code: z.string().regex(/^\s*[0-9]{6}\s*$/, { message: 'must be the 6 digits sent to you' }),
        channel,
        consent: z.boolean().describe('I agree to sign this contract electronically'),
      }),
      response: { 200: z.object({ sessionToken: z.string(), expiresAt: isoDate }) },
    },
    handler: async (request) =>
      signer.verifyCode(ctx, request.params.token, { ...request.body, ip: request.ip ?? null }),
  });
  app.get('/signing/session', {
    config: open,
    schema: {
      tags,
      summary: 'The contract as the outside signer sees it: pages and their fields (header X-Signing-Session)',
      headers: session,
      response: {
        200: summary.extend({
          sha256: z.string(),
          identityCheck: z.enum(['real_name', 'face']).nullable(),
          attachments: z.array(
            z.object({
              id: z.string(),
              name: z.string(),
              mediaType: z.string(),
              size: z.number(),
              sha256: z.string(),
            }),
          ),
          pageCount: z.number(),
          pages: z.array(z.object({ width: z.number(), height: z.number(), rotate: z.number() })),
          fields: z.array(
            z.object({
              id: z.string(),
              type: z.string(),
              page: z.number().nullable(),
              rect: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
              keyword: z.string().nullable(),
              label: z.string().nullable(),
              required: z.boolean(),
              value: z.string().nullable(),
            }),
          ),
        }),
      },
    },
    handler: async (request) => signer.getSignerView(ctx, request.headers['x-signing-session']),
  });
  app.get('/signing/session/document', {
    config: open,
    schema: { tags, summary: 'The current PDF, for the outside signer to read before signing', headers: session },
    handler: async (request, reply) =>
      reply
        .type('application/pdf')
        .header('cache-control', 'no-store')
        .send(await signer.getSignerPdf(ctx, request.headers['x-signing-session'])),
  });
  app.post('/signing/session/signatures', {
    config: open,
    bodyLimit: 1024 * 1024,
    schema: {
      tags,
      summary: 'Sign with a drawn signature (a PNG, base64): one signature per signature field',
      headers: session,
      body: body({
        signatureImage: z.string().max(800_000).describe('the drawn signature, a PNG in base64'),
        fields: z
          .array(z.strictObject({ id: uuid, value: nonBlank(500) }))
          .max(50)
          .default([]),
      }),
      response: { 200: z.object({ signatures: z.number() }) },
    },
    handler: async (request) => signer.signAsOutsider(ctx, request.headers['x-signing-session'], request.body),
  });
  const identityCheck = z.object({
    kind: z.enum(['real_name', 'face']).nullable(),
    status: z.enum(['none', 'pending', 'passed', 'failed']),
    reason: z.string().nullable(),
    redirectUrl: z.string().nullable().describe('where to take the check (a face check in the provider’s app)'),
  });
  app.post('/signing/session/identity-checks', {
    config: open,
    schema: {
      tags,
      summary: 'Start the identity check (real-name or face) the contract asks for, with the configured provider',
      headers: session,
      response: { 200: identityCheck },
    },
    handler: async (request) => signer.startIdentityCheck(ctx, request.headers['x-signing-session']),
  });
  app.get('/signing/session/identity-checks', {
    config: open,
    schema: {
      tags,
      summary: 'The identity check’s verdict so far',
      headers: session,
      response: { 200: identityCheck },
    },
    handler: async (request) => signer.getIdentityCheck(ctx, request.headers['x-signing-session']),
  });
  app.get('/signing/session/attachments/:attachmentId', {
    config: open,
    schema: {
      tags,
      summary: 'An attachment of the contract, for the outside signer',
      headers: session,
      params: z.object({ attachmentId: uuid }),
    },
    handler: async (request, reply) =>
      sendAttachment(
        reply,
        await signer.getSignerAttachment(ctx, request.headers['x-signing-session'], request.params.attachmentId),
      ),
  });
  app.get('/signing/:token/document', {
    config: open,
    schema: {
      tags,
      summary: 'An outside receiver downloads the completed contract through the link sent to them',
      params: token,
    },
    handler: async (request, reply) => {
      const file = await signer.downloadAsReceiver(ctx, request.params.token);
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`)
        .header('x-content-sha256', file.sha256)
        .header('cache-control', 'no-store')
        .send(file.bytes);
    },
  });
  app.post('/signing/session/rejection', {
    config: open,
    schema: {
      tags,
      summary: 'Refuse to sign, with a reason; the contract ends',
      headers: session,
      body: rejectBody,
      response: { 200: z.object({ rejected: z.boolean() }) },
    },
    handler: async (request) => signer.rejectAsOutsider(ctx, request.headers['x-signing-session'], request.body.reason),
  });
};

function sendAttachment(
  reply: import('fastify').FastifyReply,
  file: { bytes: Buffer; name: string; mediaType: string; sha256: string },
) {
  return reply
    .type(file.mediaType)
    .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`)
    .header('x-content-sha256', file.sha256)
    .header('cache-control', 'private, no-store')
    .send(file.bytes);
}
