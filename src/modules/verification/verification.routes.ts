import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../server/errors.js';
import { sha256, type RoutesPlugin } from '../../server/schemas.js';
import { documentOfRequest } from './pdf-body.js';
import { publicLookupSchema, publicOfdVerificationSchema, publicVerificationSchema } from './verification.schema.js';
import * as service from './verification.service.js';

const tags = ['public verification'];
/** The same limit as the signed-in verification and documents uploaded to stamp. */
export const PUBLIC_VERIFY_LIMIT_BYTES = 20 * 1024 * 1024;
/** A multipart form wraps the file in a few hundred bytes of headers and delimiters. */
const FORM_ENVELOPE_BYTES = 64 * 1024;

function tooLarge(): AppError {
  return new AppError(
    'payload_too_large',
    `The file is larger than ${PUBLIC_VERIFY_LIMIT_BYTES / 1024 / 1024} MB, the most a verification takes.`,
  );
}

/**
 * Verification without an account (the `/verify` page and anyone's client). Each client address
 * is held to a small rate per route (SIGIL_PUBLIC_VERIFY_RATE_PER_MINUTE): a verification parses
 * up to 20 MB and checks every signature, and the look-up must not become a way to test hashes
 * in bulk. `GET /public/verifications?code=` is left for the verification codes printed on copies.
 */
export const publicVerificationRoutes: RoutesPlugin = async (app, { ctx }) => {
  const config = {
    auth: 'public' as const,
    rateLimit: { max: ctx.config.publicVerifyRatePerMinute, timeWindow: 60_000 },
  };

  app.get('/public/verifications/:sha256', {
    config,
    schema: {
      tags,
      summary:
        "Without an account: did the platform sign a document whose signed file has this SHA-256? When, and the certificate subjects of the platform's signatures in it; 404 document_not_found otherwise",
      security: [],
      params: z.object({ sha256 }),
      response: { 200: publicLookupSchema },
    },
    handler: async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return service.lookUpDocument(ctx, request.params.sha256);
    },
  });

  // The PDF arrives as bytes (or in a form), in a scope whose only parser reads every body as bytes.
  await app.register(async (scope) => {
    const upload = scope.withTypeProvider<ZodTypeProvider>();
    upload.removeAllContentTypeParsers();
    upload.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, bytes, done) => done(null, bytes));
    upload.post('/public/verifications', {
      bodyLimit: PUBLIC_VERIFY_LIMIT_BYTES + FORM_ENVELOPE_BYTES,
      config,
      // A declared length over the limit is refused before a byte is read, saying what the limit is.
      preParsing: async (request) => {
        const length = Number(request.headers['content-length']);
        if (Number.isFinite(length) && length > PUBLIC_VERIFY_LIMIT_BYTES + FORM_ENVELOPE_BYTES) throw tooLarge();
      },
      schema: {
        tags,
        summary:
          "Without an account: verify a PDF or an OFD (at most 20 MB; the body itself, or the file field of a multipart/form-data form); an OFD answers with format 'ofd' and its GB/T 38540 seal signatures. Per signature the certificate's names, times, time-stamp and its TSA, intactness, trust to the platform's root, revocation, PAdES level, the impression; changes after signing; one verdict; whether the platform made this exact file. Nothing is kept",
        security: [],
        response: { 200: z.union([publicVerificationSchema, publicOfdVerificationSchema]) },
      },
      handler: async (request, reply) => {
        const file = documentOfRequest(request.body, request.headers['content-type']);
        if (file.bytes.length > PUBLIC_VERIFY_LIMIT_BYTES) throw tooLarge();
        reply.header('cache-control', 'no-store');
        return file.format === 'ofd'
          ? service.verifyOfdPublicly(ctx, file.bytes)
          : service.verifyPublicly(ctx, file.bytes);
      },
    });
  });
};
