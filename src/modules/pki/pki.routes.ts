import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { actorOf } from '../../server/plugins/auth.js';
import { uuid, type RoutesPlugin } from '../../server/schemas.js';
import { respondToTimeStampRequest } from '../../signing/index.js';
import {
  certificateSchema,
  eslSchema,
  importCertificateBody,
  issueCertificateBody,
  trustSchema,
} from './pki.schema.js';
import { getGroupSm2Ca, groupSm2Crl, ensureSm2RootCa, sm2RootCrl } from './sm2.service.js';
import * as certificates from './certificate.service.js';
import {
  ensureTsa,
  getGroupCaCertificate,
  getRootCertificate,
  groupCrl,
  rootCrl,
  timeStampAuthority,
} from './pki.service.js';

const tags = ['pki'];
/** RFC 3161 requests are a hash and a few fields: anything near this size is not one. */
const TSA_REQUEST_LIMIT = 64 * 1024;
const PKCS12_BODY_LIMIT = 128 * 1024;
const TSA_RATE_PER_MINUTE = 600;

const binary = (description: string) => z.unknown().describe(description);

// RFC 2585 §4: certificates and CRLs published over HTTP carry these types.
function sendDer(
  reply: FastifyReply,
  type: 'application/pkix-cert' | 'application/pkix-crl',
  filename: string,
  der: Buffer,
): FastifyReply {
  return (
    reply
      .type(type)
      .header('content-disposition', `inline; filename="${filename}"`)
      .header('x-content-type-options', 'nosniff')
      // A revocation must be seen at once, so caches revalidate every time.
      .header('cache-control', 'no-cache')
      .send(der)
  );
}

/**
 * What relying parties fetch without an account: the root and group CA certificates, their CRLs
 * (named in every certificate's CRL distribution point) and the RFC 3161 time-stamping service.
 */
export const pkiPublicRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (plain, { ctx }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();
  const open = { auth: 'public' as const };
  const groupParams = z.object({ groupId: uuid });

  app.get('/pki/root/certificate', {
    config: open,
    schema: {
      tags,
      summary: "The deployment's root CA certificate (DER): the trust anchor of every Sigil signature",
      security: [],
      response: { 200: binary('application/pkix-cert') },
    },
    handler: async (_request, reply) =>
      sendDer(reply, 'application/pkix-cert', 'sigil-root.cer', (await getRootCertificate(ctx)).der),
  });
  app.get('/pki/root/crl', {
    config: open,
    schema: {
      tags,
      summary: "The root CA's CRL (DER)",
      security: [],
      response: { 200: binary('application/pkix-crl') },
    },
    handler: async (_request, reply) => sendDer(reply, 'application/pkix-crl', 'sigil-root.crl', await rootCrl(ctx)),
  });
  app.get('/pki/tsa/certificate', {
    config: open,
    schema: {
      tags,
      summary: "The built-in TSA's certificate (DER; critical timeStamping EKU, issued by the root)",
      security: [],
      response: { 200: binary('application/pkix-cert') },
    },
    handler: async (_request, reply) =>
      sendDer(reply, 'application/pkix-cert', 'sigil-tsa.cer', (await ensureTsa(ctx)).der),
  });
  app.get('/pki/groups/:groupId/certificate', {
    config: open,
    schema: {
      tags,
      summary: "A group's issuing CA certificate (DER)",
      security: [],
      params: groupParams,
      response: { 200: binary('application/pkix-cert') },
    },
    handler: async (request, reply) =>
      sendDer(
        reply,
        'application/pkix-cert',
        'sigil-ca.cer',
        (await getGroupCaCertificate(ctx, request.params.groupId)).der,
      ),
  });
  app.get('/pki/groups/:groupId/crl', {
    config: open,
    schema: {
      tags,
      summary: "A group CA's CRL (DER): revoked seal and person certificates, listed as soon as the revocation commits",
      security: [],
      params: groupParams,
      response: { 200: binary('application/pkix-crl') },
    },
    handler: async (request, reply) =>
      sendDer(reply, 'application/pkix-crl', 'sigil-ca.crl', await groupCrl(ctx, request.params.groupId)),
  });

  app.get('/pki/sm2/root/certificate', {
    config: open,
    schema: {
      tags,
      summary: "The deployment's SM2 root CA certificate (DER): the trust anchor of .esl seals and OFD seal signatures",
      security: [],
      response: { 200: binary('application/pkix-cert') },
    },
    handler: async (_request, reply) =>
      sendDer(reply, 'application/pkix-cert', 'sigil-sm2-root.cer', (await ensureSm2RootCa(ctx)).der),
  });
  app.get('/pki/sm2/root/crl', {
    config: open,
    schema: {
      tags,
      summary: "The SM2 root CA's CRL (DER)",
      security: [],
      response: { 200: binary('application/pkix-crl') },
    },
    handler: async (_request, reply) =>
      sendDer(reply, 'application/pkix-crl', 'sigil-sm2-root.crl', await sm2RootCrl(ctx)),
  });
  app.get('/pki/groups/:groupId/sm2/certificate', {
    config: open,
    schema: {
      tags,
      summary: "A group's SM2 issuing CA certificate (DER): the maker of its .esl seals",
      security: [],
      params: groupParams,
      response: { 200: binary('application/pkix-cert') },
    },
    handler: async (request, reply) =>
      sendDer(
        reply,
        'application/pkix-cert',
        'sigil-sm2-ca.cer',
        (await getGroupSm2Ca(ctx, request.params.groupId)).der,
      ),
  });
  app.get('/pki/groups/:groupId/sm2/crl', {
    config: open,
    schema: {
      tags,
      summary: "A group SM2 CA's CRL (DER): revoked SM2 seal certificates",
      security: [],
      params: groupParams,
      response: { 200: binary('application/pkix-crl') },
    },
    handler: async (request, reply) =>
      sendDer(reply, 'application/pkix-crl', 'sigil-sm2-ca.crl', await groupSm2Crl(ctx, request.params.groupId)),
  });

  // The request arrives as its own bytes; a scope of its own gives it a parser and a small limit.
  await app.register(async (scope) => {
    const tsa = scope.withTypeProvider<ZodTypeProvider>();
    tsa.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, bytes, done) => done(null, bytes));
    tsa.post('/tsa', {
      bodyLimit: TSA_REQUEST_LIMIT,
      // Anyone may ask, so each client address is held to a rate that no signing workload needs to exceed.
      config: { ...open, rateLimit: { max: TSA_RATE_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        tags,
        summary:
          'RFC 3161 time-stamping (application/timestamp-query → application/timestamp-reply); what B-T and later levels use',
        security: [],
        response: { 200: binary('application/timestamp-reply: a TimeStampResp, granted or with a failure status') },
      },
      handler: async (request, reply) => {
        const type = String(request.headers['content-type'] ?? '')
          .split(';')[0]!
          .trim()
          .toLowerCase();
        if (type !== 'application/timestamp-query')
          throw new AppError('unsupported_media_type', 'Send an RFC 3161 TimeStampReq as application/timestamp-query.');
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        // Malformed or unacceptable requests get a rejection TimeStampResp (RFC 3161 §2.4.2), not an HTTP error.
        const answer = await respondToTimeStampRequest(await timeStampAuthority(ctx), body);
        return reply.type('application/timestamp-reply').header('cache-control', 'no-store').send(answer);
      },
    });
  });
};

export const pkiRoutes: RoutesPlugin = async (app, { ctx }) => {
  const sealParams = z.object({ sealId: uuid });

  app.get('/pki', {
    schema: {
      tags,
      summary: "The trust anchors: the deployment root, your group's CA and the TSA (to configure other verifiers)",
      response: { 200: trustSchema },
    },
    handler: async (request) => certificates.getTrust(ctx, actorOf(request)),
  });
  app.get('/seals/:sealId/certificate', {
    schema: {
      tags: ['seals', ...tags],
      summary: "The seal's certificate (the newest, whatever its status), with its chain",
      params: sealParams,
      response: { 200: certificateSchema },
    },
    handler: async (request) => certificates.getSealCertificate(ctx, actorOf(request), request.params.sealId),
  });
  app.post('/seals/:sealId/certificate', {
    schema: {
      tags: ['seals', ...tags],
      summary:
        'Issue the seal its certificate now (otherwise its first signature does); the subject is its company. Answers 200 with the current one unless replace is set',
      params: sealParams,
      body: issueCertificateBody,
      response: { 201: certificateSchema, 200: certificateSchema },
    },
    handler: async (request, reply) => {
      const result = await certificates.requestSealCertificate(
        ctx,
        actorOf(request),
        request.params.sealId,
        request.body,
      );
      return reply.status(result.created ? 201 : 200).send(result.certificate);
    },
  });
  app.post('/seals/:sealId/certificate/import', {
    bodyLimit: PKCS12_BODY_LIMIT,
    schema: {
      tags: ['seals', ...tags],
      summary:
        'Give the seal a certificate and key from an outside CA: a PKCS#12 file (base64, at most 64 KB) and its password; the current certificate is superseded',
      params: sealParams,
      body: importCertificateBody,
      response: { 201: certificateSchema },
    },
    handler: async (request, reply) =>
      reply
        .status(201)
        .send(await certificates.importSealCertificate(ctx, actorOf(request), request.params.sealId, request.body)),
  });
  app.post('/seals/:sealId/esl', {
    schema: {
      tags: ['seals', ...tags],
      summary:
        "Issue the seal's .esl (GB/T 38540 v4 electronic seal: made by the group's SM2 CA, with the seal's impression and its SM2 certificate on the list); answers 200 with the one in force when it still holds",
      params: sealParams,
      response: { 201: eslSchema, 200: eslSchema },
    },
    handler: async (request, reply) => {
      const result = await certificates.requestSealEsl(ctx, actorOf(request), request.params.sealId);
      return reply.status(result.created ? 201 : 200).send(result.esl);
    },
  });
  app.get('/seals/:sealId/esl', {
    schema: {
      tags: ['seals', ...tags],
      summary: "The seal's .esl in force (application/octet-stream, DER): for readers of the seal while it is in use",
      params: sealParams,
      response: { 200: binary('application/octet-stream: the .esl file') },
    },
    handler: async (request, reply) => {
      const file = await certificates.getSealEslFile(ctx, actorOf(request), request.params.sealId);
      return reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-store')
        .send(file.der);
    },
  });
  app.get('/me/certificate', {
    schema: { tags, summary: 'My personal signing certificate', response: { 200: certificateSchema } },
    handler: async (request) => certificates.getMyCertificate(ctx, actorOf(request)),
  });
  app.post('/me/certificate', {
    schema: {
      tags,
      summary: 'Issue my personal signing certificate now (otherwise my first personal signature does)',
      response: { 201: certificateSchema, 200: certificateSchema },
    },
    handler: async (request, reply) => {
      const result = await certificates.requestMyCertificate(ctx, actorOf(request));
      return reply.status(result.created ? 201 : 200).send(result.certificate);
    },
  });
};
