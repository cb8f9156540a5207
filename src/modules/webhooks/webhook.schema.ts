import { z } from 'zod';
import { publicEventTypes } from '../../outbox/events.js';
import { body, cursorQuery, isoDate, limitQuery, uuid } from '../../server/schemas.js';

export const eventTypeSchema = z.enum(publicEventTypes, {
  message: `must be one of ${publicEventTypes.join(', ')}`,
});

/** Parsed here, refused (scheme, credentials, addresses) by the service, which knows the configuration. */
const urlField = z
  .string()
  .trim()
  .min(1, { message: 'must not be empty' })
  .max(2048, { message: 'must be at most 2048 characters' })
  .refine((v) => URL.canParse(v), { message: 'must be an absolute URL' });

const eventTypesField = z
  .array(eventTypeSchema)
  .min(1, { message: 'must name at least one event type' })
  .max(publicEventTypes.length);

const descriptionField = z.string().trim().max(500, { message: 'must be at most 500 characters' });

export const endpointSchema = z
  .object({
    id: z.string(),
    companyId: z.string(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(z.string()),
    enabled: z.boolean(),
    /** While set, the secret before the last rotation still signs, beside the current one. */
    previousSecretValidUntil: isoDate.nullable(),
    createdBy: z.string(),
    createdAt: isoDate,
    updatedAt: isoDate,
  })
  .meta({ id: 'WebhookEndpoint' });

export const endpointWithSecretSchema = z.object({
  endpoint: endpointSchema,
  secret: z
    .string()
    .describe('The signing secret, `whsec_<base64>`: shown this once, never again (rotate to get a new one)'),
});

export const createEndpointBody = body({
  companyId: uuid.describe('Events of this company and the companies below it are sent'),
  url: urlField,
  description: descriptionField.default(''),
  eventTypes: eventTypesField,
  enabled: z.boolean().default(true),
});

export const updateEndpointBody = body({
  url: urlField.optional(),
  description: descriptionField.optional(),
  eventTypes: eventTypesField.optional(),
  enabled: z.boolean().optional(),
});

export const endpointParams = z.object({ endpointId: uuid });
export const deliveryParams = z.object({ endpointId: uuid, deliveryId: uuid });

export const deliverySchema = z
  .object({
    id: z.string(),
    endpointId: z.string(),
    messageId: z.string().describe('The `webhook-id` header: the same for every attempt and redelivery'),
    eventType: z.string(),
    payload: z.record(z.string(), z.unknown()).describe('The body sent: `{ type, timestamp, data }`'),
    status: z.enum(['pending', 'delivered', 'failed', 'dead']),
    attempts: z.number().int(),
    lastHttpStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastAttemptAt: isoDate.nullable(),
    nextAttemptAt: isoDate.nullable(),
    deliveredAt: isoDate.nullable(),
    createdAt: isoDate,
  })
  .meta({ id: 'WebhookDelivery' });

export const deliveryListQuery = z.strictObject({
  limit: limitQuery,
  cursor: cursorQuery
    .pipe(z.object({ createdAt: z.iso.datetime(), id: uuid }, { message: 'is not a cursor this server issued' }))
    .optional(),
});

export const deliveryListSchema = z.object({ items: z.array(deliverySchema), nextCursor: z.string().nullable() });

export const eventTypeListSchema = z.object({ items: z.array(z.enum(publicEventTypes)) });
