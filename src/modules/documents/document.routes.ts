import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { actorOf } from '../../server/plugins/auth.js';
import { nonBlank, sha256, type RoutesPlugin } from '../../server/schemas.js';
import { AppError } from '../../server/errors.js';
import { documentPagesSchema } from './document.schema.js';
import * as service from './document.service.js';

const tags = ['documents'];
const DOCUMENT_LIMIT_BYTES = 20 * 1024 * 1024;

export const documentRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/documents/:sha256/pages', {
    schema: {
      tags,
      summary: 'The page count and page boxes of a PDF you may stamp, to place a seal by page and position',
      params: z.object({ sha256 }),
      response: { 200: documentPagesSchema },
    },
    handler: async (request) => service.getDocumentPages(ctx, actorOf(request), request.params.sha256),
  });
  app.get('/documents/:sha256/pages/:page/image', {
    schema: {
      tags,
      summary:
        'One page of an OFD you may read, drawn with its seals: PNG (pxPerMm pixels per millimetre, default 4) or SVG',
      params: z.object({ sha256, page: z.coerce.number().int().min(1) }),
      querystring: z.strictObject({
        format: z.enum(['png', 'svg']).default('png'),
        pxPerMm: z.coerce.number().min(1).max(24).optional(),
      }),
      response: { 200: z.unknown().describe('image/png or image/svg+xml') },
    },
    handler: async (request, reply) => {
      const page = await service.renderDocumentPage(ctx, actorOf(request), {
        sha256: request.params.sha256,
        page: request.params.page,
        format: request.query.format,
        pxPerMm: request.query.pxPerMm,
      });
      return reply
        .type(page.type)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .header('cache-control', 'private, max-age=300')
        .send(page.body);
    },
  });
  // Documents arrive as their own bytes (application/pdf), so the upload gets a parser and
  // a body limit of its own, in a scope of its own: other routes keep answering 415.
  await app.register(async (scope) => {
    const upload = scope.withTypeProvider<ZodTypeProvider>();
    upload.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, bytes, done) => done(null, bytes));
    upload.post('/documents/uploads', {
      bodyLimit: DOCUMENT_LIMIT_BYTES,
      schema: {
        tags,
        summary:
          'Upload a PDF or OFD to stamp (raw body, Content-Type application/pdf or application/ofd, at most 20 MB); name it with ?name=',
        querystring: z.strictObject({ name: nonBlank(200).default('document.pdf') }),
        response: { 201: z.object({ sha256: z.string(), size: z.number(), mediaType: z.string(), name: z.string() }) },
      },
      handler: async (request, reply) => {
        const bytes = request.body;
        if (!Buffer.isBuffer(bytes) || bytes.length === 0)
          throw new AppError('validation_failed', 'Send the PDF or OFD itself as the request body.', {
            errors: [{ field: 'body', message: 'is empty' }],
          });
        return reply.status(201).send(
          await service.uploadDocument(ctx, actorOf(request), {
            bytes,
            name: request.query.name,
            claimed: request.headers['content-type'],
          }),
        );
      },
    });
  });
};
