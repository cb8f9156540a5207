import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import type { RoutesPlugin } from '../../server/schemas.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  applicationParams,
  applicationRecordsSchema,
  deviceListQuery,
  deviceParams,
  deviceSchema,
  eventListQuery,
  eventSchema,
  findingListQuery,
  findingSchema,
  issueTicketBody,
  photoParams,
  photoSchema,
  registerDeviceBody,
  remoteLockBody,
  syncAnswerSchema,
  syncBody,
  ticketKeySchema,
  ticketSchema,
} from './device.schema.js';
import * as service from './device.service.js';
import { syncDevice } from './device.sync.js';
import { usageRoutes } from './usage.routes.js';

const tags = ['devices'];

export const deviceRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/devices/ticket-key', {
    schema: {
      tags,
      summary: "The server's device-ticket public key, pinned on every device at provisioning",
      response: { 200: ticketKeySchema },
    },
    handler: async (request) => {
      actorOf(request);
      return service.getTicketKey(ctx);
    },
  });

  app.get('/devices', {
    schema: {
      tags,
      summary: 'Smart seal devices over companies whose seals you may read',
      querystring: deviceListQuery,
      response: { 200: z.object({ items: z.array(deviceSchema) }) },
    },
    handler: async (request) => ({ items: await service.listDevices(ctx, actorOf(request), request.query) }),
  });

  app.post('/devices', {
    schema: {
      tags,
      summary: "Register a device's public key (made on the device) and bind it to one physical seal",
      body: registerDeviceBody,
      response: { 201: deviceSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.registerDevice(ctx, actorOf(request), request.body)),
  });

  app.get('/devices/:deviceId', {
    schema: { tags, summary: 'A smart seal device', params: deviceParams, response: { 200: deviceSchema } },
    handler: async (request) => service.getDevice(ctx, actorOf(request), request.params.deviceId),
  });

  app.post('/devices/:deviceId/lock', {
    schema: {
      tags,
      summary: 'Lock the device from afar, or release it; the next relay or sync tells the device',
      params: deviceParams,
      body: remoteLockBody,
      response: { 200: deviceSchema },
    },
    handler: async (request) =>
      service.setRemoteLock(ctx, actorOf(request), request.params.deviceId, request.body.locked),
  });

  app.post('/devices/:deviceId/maintenance-tickets', {
    schema: {
      tags,
      summary: "A custodian's maintenance unlock: the body opens for an hour, the stamp stays pinned",
      params: deviceParams,
      response: { 201: ticketSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.issueMaintenanceTicket(ctx, actorOf(request), request.params.deviceId)),
  });

  app.get('/devices/:deviceId/events', {
    schema: {
      tags,
      summary: "A device's synced log, in sequence order",
      params: deviceParams,
      querystring: eventListQuery,
      response: { 200: z.object({ items: z.array(eventSchema) }) },
    },
    handler: async (request) => service.listEvents(ctx, actorOf(request), request.params.deviceId, request.query),
  });

  app.post('/device-tickets', {
    schema: {
      tags,
      summary: "Fetch the signed ticket of your approved physical seal's authorization, for the phone to relay",
      body: issueTicketBody,
      response: { 200: ticketSchema },
    },
    handler: async (request) => service.issueTicket(ctx, actorOf(request), request.body),
  });

  app.post('/device-sync', {
    schema: {
      tags,
      summary: "Relay a batch of a device's signed events; answered with the server's signed directive",
      body: syncBody,
      response: { 200: syncAnswerSchema },
    },
    handler: async (request) => syncDevice(ctx, actorOf(request), request.body),
  });

  app.get('/device-findings', {
    schema: {
      tags,
      summary: 'Discrepancies found reconciling device logs, per device, seal or application',
      querystring: findingListQuery,
      response: { 200: z.object({ items: z.array(findingSchema) }) },
    },
    handler: async (request) => service.listFindings(ctx, actorOf(request), request.query),
  });

  app.get('/applications/:applicationId/device-records', {
    schema: {
      tags,
      summary: "An application's stamps: who, where, when, how many, and their photos, with its findings",
      params: applicationParams,
      response: { 200: applicationRecordsSchema },
    },
    handler: async (request) => service.getApplicationRecords(ctx, actorOf(request), request.params.applicationId),
  });

  app.get('/devices/:deviceId/photos/:sha256', {
    schema: {
      tags,
      summary: 'A photo of stamped paper (JPEG or PNG)',
      params: photoParams,
      response: { 200: z.any().describe('the image bytes') },
    },
    handler: async (request, reply) => {
      const photo = await service.readPhoto(ctx, actorOf(request), request.params);
      return reply
        .type(photo.mediaType)
        .header('cache-control', 'private, max-age=31536000, immutable')
        .send(photo.bytes);
    },
  });

  // Photos arrive as their own bytes (image/jpeg, image/png): a parser and a body limit of their own.
  await app.register(async (scope) => {
    const upload = scope.withTypeProvider<ZodTypeProvider>();
    upload.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, bytes, done) => done(null, bytes));
    upload.post('/devices/:deviceId/photos', {
      bodyLimit: service.PHOTO_MAX_BYTES,
      schema: {
        tags,
        summary: 'Upload a photo of stamped paper named by a synced photo event (raw body, JPEG or PNG, at most 10 MB)',
        params: deviceParams,
        response: { 201: photoSchema },
      },
      handler: async (request, reply) =>
        reply.status(201).send(
          await service.uploadPhoto(ctx, actorOf(request), {
            deviceId: request.params.deviceId,
            bytes: request.body,
            claimedType: request.headers['content-type'],
          }),
        ),
    });
  });

  await usageRoutes(app, { ctx });
};
