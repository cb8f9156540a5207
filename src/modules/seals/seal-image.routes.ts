import type { FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import type { RoutesPlugin } from '../../server/schemas.js';
import { SEAL_IMAGE_LIMITS, SEAL_IMAGE_TYPES, type SealImageType } from '../../seal-image/inspect.js';
import {
  binaryImage,
  sealImageParams,
  sealImageSchema,
  sealImageSpecBody,
  sealImageUploadBody,
} from './seal-image.schema.js';
import * as service from './seal-image.service.js';

const tags = ['seals'];

const imageContent = (description: string) => ({
  description,
  content: Object.fromEntries(SEAL_IMAGE_TYPES.map((type) => [type, { schema: binaryImage }])),
});

/** An SVG shown straight from the API must not be able to run or load anything, even if one slipped past the upload check. */
function sendImage(reply: FastifyReply, image: { bytes: Buffer; mediaType: SealImageType }): FastifyReply {
  reply.header('x-content-type-options', 'nosniff');
  if (image.mediaType === 'image/svg+xml') {
    reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
    return reply.type('image/svg+xml; charset=utf-8').send(image.bytes);
  }
  return reply.type(image.mediaType).send(image.bytes);
}

/** Whether an If-None-Match header names this strong ETag (RFC 9110 §13.1.2: weak comparison, `*` matches). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

export const sealImageRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.post('/seal-images/preview', {
    schema: {
      tags,
      summary: 'Draw a seal image (round, oval, square) without storing it: the designer’s live preview',
      body: sealImageSpecBody,
      response: { 200: imageContent('The seal as a transparent PNG, or as SVG with every character an outline') },
    },
    handler: async (request, reply) => {
      const image = await service.previewSealImage(ctx, actorOf(request), request.body);
      reply.header('cache-control', 'no-store');
      return sendImage(reply, image);
    },
  });

  app.post('/seal-images/generate', {
    schema: {
      tags,
      summary:
        'Draw a seal image and store it for your group; reference its SHA-256 in a production or change application',
      body: sealImageSpecBody,
      response: { 201: sealImageSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.generateSealImage(ctx, actorOf(request), request.body)),
  });

  app.get('/seal-images/:sha256', {
    schema: {
      tags,
      summary: 'A seal image you stored, or the image of a seal you may see',
      params: sealImageParams,
      response: {
        200: imageContent('The image; ETag is its SHA-256'),
        304: z.null().describe('Not modified: If-None-Match named this image'),
      },
    },
    handler: async (request, reply) => {
      const image = await service.readSealImage(ctx, actorOf(request), request.params.sha256);
      const etag = `"${image.sha256}"`;
      // Revalidated on every use (no-cache), so an image stops showing once access to it ends.
      reply.header('etag', etag).header('cache-control', 'private, no-cache');
      if (matchesEtag(request.headers['if-none-match'], etag)) return reply.status(304).send(null);
      return sendImage(reply, image);
    },
  });

  // The upload takes the image itself as the body, so it gets parsers of its own, in a scope
  // of its own: the other routes keep answering 415 to anything but JSON.
  await app.register(async (scope) => {
    const upload = scope.withTypeProvider<ZodTypeProvider>();
    // Any other type also arrives as bytes, so the answer can say what the file really is.
    upload.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, bytes, done) => done(null, bytes));
    upload.post('/seal-images', {
      // Room for a 2 MB image as base64 in JSON; a larger raw image is refused by inspectSealImage with its size.
      bodyLimit: Math.ceil(SEAL_IMAGE_LIMITS.maxBytes / 3) * 4 + 4096,
      schema: {
        tags,
        summary:
          'Upload a seal image (PNG with transparency, or SVG), checked by content, size and dimensions, and store it for your group',
        consumes: ['image/png', 'image/svg+xml', 'application/json'],
        body: sealImageUploadBody,
        response: { 201: sealImageSchema },
      },
      handler: async (request, reply) => {
        const { bytes, claimedType, fileName } = request.body;
        // A raw body claims its type in Content-Type; application/octet-stream claims nothing.
        const header = request.headers['content-type'];
        const claimed = claimedType ?? (header && !/^application\/octet-stream\b/i.test(header) ? header : undefined);
        return reply
          .status(201)
          .send(await service.uploadSealImage(ctx, actorOf(request), { bytes, claimedType: claimed, fileName }));
      },
    });
  });
};
