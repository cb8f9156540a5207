import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sniffMediaType } from '../../blobs/sniff.js';
import { AppError } from '../../server/errors.js';
import { actorOf } from '../../server/plugins/auth.js';
import { sha256, uuid, type RoutesPlugin } from '../../server/schemas.js';
import {
  archiveSchema,
  outsideSignaturesSchema,
  signatureListQuery,
  signatureSchema,
  signBody,
  verificationSchema,
  ofdVerificationSchema,
} from './signature.schema.js';
import { looksLikeZip } from '../documents/index.js';
import * as service from './signature.service.js';
import * as batches from './signature.batch.js';
import { batchBody, batchSchema } from './signature.schema.js';

const tags = ['signatures'];
/** The same limit as documents uploaded to stamp. */
const VERIFY_LIMIT_BYTES = 20 * 1024 * 1024;

export const signatureRoutes: RoutesPlugin = async (app, { ctx }) => {
  const params = z.object({ signatureId: uuid });

  app.post('/signatures/batches', {
    schema: {
      tags: ['signatures'],
      summary:
        'Sign many documents with one seal after one confirmation: each gets its own signature, made in turn; follow the progress with GET',
      body: batchBody,
      response: { 202: batchSchema },
    },
    handler: async (request, reply) =>
      reply.status(202).send(await batches.startBatch(ctx, actorOf(request), request.body)),
  });
  app.get('/signatures/batches/:batchId', {
    schema: {
      tags: ['signatures'],
      summary: 'A signing batch of yours: how far it is, and each document’s signature or why it failed',
      params: z.object({ batchId: uuid }),
      response: { 200: batchSchema },
    },
    handler: async (request) => batches.getBatch(ctx, actorOf(request), request.params.batchId),
  });

  app.post('/signatures', {
    schema: {
      tags,
      summary:
        'Sign a stored PDF with a seal (under an approved authorization naming the document, or your grant for a business category) or personally; PAdES B-B…B-LTA, visible, keyword-placed or cross-page',
      body: signBody,
      response: { 201: signatureSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.signDocument(ctx, actorOf(request), request.body)),
  });
  app.get('/signatures', {
    schema: {
      tags,
      summary:
        'The signatures of the chain that started from a document (oldest first), those you may see: your own, or all over the companies whose seals you may read',
      querystring: signatureListQuery,
      response: { 200: z.object({ items: z.array(signatureSchema) }) },
    },
    handler: async (request) => ({ items: await service.listSignatures(ctx, actorOf(request), request.query) }),
  });
  app.get('/signatures/:signatureId', {
    schema: {
      tags,
      summary:
        'A signature record: who signed, with which seal, certificate and authority, over which document, and the result',
      params,
      response: { 200: signatureSchema },
    },
    handler: async (request) => service.getSignature(ctx, actorOf(request), request.params.signatureId),
  });
  app.get('/signatures/:signatureId/document', {
    schema: {
      tags,
      summary: 'Download the signed document (PDF, or OFD for a sealed OFD)',
      params,
      response: { 200: z.unknown().describe('the signed document (application/pdf or application/ofd)') },
    },
    handler: async (request, reply) => {
      const file = await service.readSignedDocument(ctx, actorOf(request), request.params.signatureId);
      return reply
        .type(file.mediaType)
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, no-cache')
        .send(file.bytes);
    },
  });
  app.get('/applications/:applicationId/document-signatures', {
    schema: {
      tags,
      summary:
        'Signatures made on an application’s documents outside it (under a standing grant, another application, or personally): who, when, which seal; for whoever may read the application',
      params: z.object({ applicationId: uuid }),
      response: { 200: outsideSignaturesSchema },
    },
    handler: async (request) =>
      service.listApplicationDocumentSignatures(ctx, actorOf(request), request.params.applicationId),
  });
  app.get('/archive/:sha256', {
    schema: {
      tags,
      summary:
        "Hash-only lookup: does your group's archive hold this file as a signed output, and from which signature?",
      params: z.object({ sha256 }),
      response: { 200: archiveSchema },
    },
    handler: async (request) => service.lookupArchive(ctx, actorOf(request), request.params.sha256),
  });

  // The PDF arrives as its own bytes, in a scope with its own parser and limit.
  await app.register(async (scope) => {
    const upload = scope.withTypeProvider<ZodTypeProvider>();
    upload.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, bytes, done) => done(null, bytes));
    upload.post('/verifications', {
      bodyLimit: VERIFY_LIMIT_BYTES,
      schema: {
        tags,
        summary:
          "Verify a PDF or OFD (raw body, at most 20 MB): per signature the signer, chain to the deployment root, validity, time-stamp, coverage and revocation (an OFD answers with format 'ofd' and its seal signatures); and whether the archive holds it",
        response: { 200: z.union([verificationSchema, ofdVerificationSchema]) },
      },
      handler: async (request) => {
        const bytes = request.body;
        if (!Buffer.isBuffer(bytes) || bytes.length === 0)
          throw new AppError('validation_failed', 'Send the PDF itself as the request body.', {
            errors: [{ field: 'body', message: 'is empty' }],
          });
        // An OFD (a zip package) is verified as one: its seal signatures against the SM2 root.
        if (looksLikeZip(bytes))
          return ofdVerificationSchema.parse(await service.verifyOfdUpload(ctx, actorOf(request), bytes));
        if (sniffMediaType(bytes) !== 'application/pdf')
          throw new AppError('pdf_malformed', 'The file is not a PDF: it does not begin with %PDF-.');
        const { report, archive } = await service.verifyUpload(ctx, actorOf(request), bytes);
        // Cut to the schema first: the response is a union (PDF or OFD), whose writer picks its
        // branch by checking the value against each, and the verifier's report holds more fields.
        return verificationSchema.parse({
          intact: report.intact,
          verdict: report.verdict,
          sha256: report.sha256,
          revisions: report.revisions,
          signatures: report.signatures,
          archive,
        });
      },
    });
  });
};
