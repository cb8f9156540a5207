import { z } from 'zod';
import { actorOf } from '../../server/plugins/auth.js';
import { okSchema, type RoutesPlugin } from '../../server/schemas.js';
import {
  createEndpointBody,
  deliveryListQuery,
  deliveryListSchema,
  deliveryParams,
  deliverySchema,
  endpointParams,
  endpointSchema,
  endpointWithSecretSchema,
  eventTypeListSchema,
  updateEndpointBody,
} from './webhook.schema.js';
import * as service from './webhook.service.js';

const tags = ['webhooks'];

export const webhookRoutes: RoutesPlugin = async (app, { ctx }) => {
  app.get('/webhook-event-types', {
    schema: {
      tags,
      summary: 'The public event types an endpoint can subscribe to',
      response: { 200: eventTypeListSchema },
    },
    handler: async (request) => service.listEventTypes(actorOf(request)),
  });

  app.get('/webhook-endpoints', {
    schema: {
      tags,
      summary: 'Webhook endpoints over companies you manage',
      response: { 200: z.object({ items: z.array(endpointSchema) }) },
    },
    handler: async (request) => ({ items: await service.listEndpoints(ctx, actorOf(request)) }),
  });

  app.post('/webhook-endpoints', {
    schema: {
      tags,
      summary: 'Create a webhook endpoint (its signing secret is shown once)',
      body: createEndpointBody,
      response: { 201: endpointWithSecretSchema },
    },
    handler: async (request, reply) =>
      reply.status(201).send(await service.createEndpoint(ctx, actorOf(request), request.body)),
  });

  app.get('/webhook-endpoints/:endpointId', {
    schema: { tags, summary: 'A webhook endpoint', params: endpointParams, response: { 200: endpointSchema } },
    handler: async (request) => service.getEndpoint(ctx, actorOf(request), request.params.endpointId),
  });

  app.patch('/webhook-endpoints/:endpointId', {
    schema: {
      tags,
      summary: 'Change a webhook endpoint: URL, description, event types, enabled',
      params: endpointParams,
      body: updateEndpointBody,
      response: { 200: endpointSchema },
    },
    handler: async (request) => service.updateEndpoint(ctx, actorOf(request), request.params.endpointId, request.body),
  });

  app.delete('/webhook-endpoints/:endpointId', {
    schema: {
      tags,
      summary: 'Delete a webhook endpoint and its deliveries',
      params: endpointParams,
      response: { 200: okSchema },
    },
    handler: async (request) => {
      await service.deleteEndpoint(ctx, actorOf(request), request.params.endpointId);
      return { ok: true as const };
    },
  });

  app.post('/webhook-endpoints/:endpointId/rotate-secret', {
    schema: {
      tags,
      summary: 'A new signing secret (shown once); the previous one keeps signing beside it for 24 hours',
      params: endpointParams,
      response: { 200: endpointWithSecretSchema },
    },
    handler: async (request) => service.rotateSecret(ctx, actorOf(request), request.params.endpointId),
  });

  app.post('/webhook-endpoints/:endpointId/test', {
    schema: {
      tags,
      summary: 'Send a webhook.test message to the endpoint',
      params: endpointParams,
      response: { 202: deliverySchema },
    },
    handler: async (request, reply) =>
      reply.status(202).send(await service.sendTestEvent(ctx, actorOf(request), request.params.endpointId)),
  });

  app.get('/webhook-endpoints/:endpointId/deliveries', {
    schema: {
      tags,
      summary: "An endpoint's deliveries, newest first",
      params: endpointParams,
      querystring: deliveryListQuery,
      response: { 200: deliveryListSchema },
    },
    handler: async (request) => service.listDeliveries(ctx, actorOf(request), request.params.endpointId, request.query),
  });

  app.post('/webhook-endpoints/:endpointId/deliveries/:deliveryId/redeliver', {
    schema: {
      tags,
      summary: 'Send a delivered or dead delivery again, with the same webhook-id',
      params: deliveryParams,
      response: { 202: deliverySchema },
    },
    handler: async (request, reply) =>
      reply.status(202).send(await service.redeliver(ctx, actorOf(request), request.params)),
  });
};
