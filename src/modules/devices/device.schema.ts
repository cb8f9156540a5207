import { z } from 'zod';
import { geofenceSchema, LIMITS, PHOTO_MODES } from '../../devices/protocol.js';
import { body, isoDate, limitQuery, sha256, uuid } from '../../server/schemas.js';

const serialField = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be 1 to 64 letters, digits, dots, dashes or underscores' });

const base64urlField = (max: number) =>
  z
    .string()
    .min(1, { message: 'must not be empty' })
    .max(max, { message: `must be at most ${max} characters` })
    .regex(/^[A-Za-z0-9_-]+$/, { message: 'must be base64url' });

export const signedMessageSchema = z
  .strictObject({
    payload: base64urlField(Math.ceil((LIMITS.payloadBytes * 4) / 3) + 4).describe('base64url of the canonical JSON'),
    sig: base64urlField(100).describe('base64url of the 64-byte ECDSA P-256 signature r‖s'),
  })
  .meta({ id: 'DeviceSignedMessage' });

export const geofenceField = geofenceSchema.describe('Micro-degrees (WGS 84) and a radius in metres');

export const registerDeviceBody = body({
  serial: serialField,
  sealId: uuid,
  publicKey: z
    .string()
    .min(1)
    .max(400, { message: 'must be at most 400 characters' })
    .describe('The device key: ECDSA P-256 SubjectPublicKeyInfo, DER, base64'),
  geofence: geofenceField.nullable().default(null),
});

export const deviceSchema = z
  .object({
    id: z.string(),
    serial: z.string(),
    sealId: z.string(),
    sealName: z.string(),
    companyId: z.string(),
    keyId: z.string().describe('First 16 hex digits of SHA-256 over the device public key'),
    geofence: geofenceSchema.nullable(),
    status: z.enum(['active', 'retired']),
    remoteLocked: z.boolean(),
    acknowledgedSeq: z.number().int(),
    lastSyncedAt: isoDate.nullable(),
    openFindings: z.number().int(),
    createdAt: isoDate,
  })
  .meta({ id: 'Device' });

export const deviceParams = z.object({ deviceId: uuid });
export const deviceListQuery = z.strictObject({ sealId: uuid.optional() });

export const ticketKeySchema = z.object({
  keyId: z.string(),
  algorithm: z.literal('ECDSA-P256-SHA256'),
  publicKey: z.string().describe('SubjectPublicKeyInfo, DER, base64: pinned on every device at provisioning'),
});

export const issueTicketBody = body({
  authorizationId: uuid,
  photoMode: z.enum(PHOTO_MODES).default('auto'),
});

export const ticketSchema = z
  .object({
    id: z.string(),
    deviceId: z.string(),
    serial: z.string(),
    mode: z.enum(['use', 'maintenance']),
    uses: z.number().int(),
    notBefore: isoDate,
    notAfter: isoDate,
    photoMode: z.enum(PHOTO_MODES),
    photosPerUse: z.number().int(),
    ticket: signedMessageSchema,
  })
  .meta({ id: 'DeviceTicket' });

export const remoteLockBody = body({ locked: z.boolean() });

export const syncBody = body({
  serial: serialField,
  events: z
    .array(signedMessageSchema)
    .max(LIMITS.eventsPerBatch, { message: `must hold at most ${LIMITS.eventsPerBatch} events` }),
});

export const syncAnswerSchema = z
  .object({
    acknowledged: z.number().int().describe('Every event up to this sequence is stored'),
    received: z.number().int(),
    duplicates: z.number().int(),
    findings: z.number().int().describe('New findings raised by this batch'),
    directive: signedMessageSchema,
  })
  .meta({ id: 'DeviceSyncAnswer' });

export const photoQuery = z.strictObject({});
export const photoParams = z.object({ deviceId: uuid, sha256 });

export const photoSchema = z.object({
  sha256: z.string(),
  mediaType: z.string(),
  size: z.number().int(),
  stored: z.boolean().describe('false when the same photo was stored before'),
});

export const eventSchema = z
  .object({
    seq: z.number().int(),
    type: z.string(),
    deviceTime: isoDate,
    ticketId: z.string().nullable(),
    use: z.number().int().nullable(),
    why: z.string().nullable(),
    location: z.object({ lat: z.number(), lon: z.number(), accuracy: z.number() }).nullable(),
    photoSha256: z.string().nullable(),
    hash: z.string(),
  })
  .meta({ id: 'DeviceEvent' });

export const eventListQuery = z.strictObject({
  afterSeq: z.coerce.number().int().min(0).default(0),
  limit: limitQuery,
});

export const findingSchema = z
  .object({
    id: z.string(),
    deviceId: z.string(),
    serial: z.string(),
    sealId: z.string(),
    applicationId: z.string().nullable(),
    ticketId: z.string().nullable(),
    seq: z.number().int().nullable(),
    kind: z.string(),
    severity: z.enum(['critical', 'high', 'medium', 'low']),
    detail: z.string(),
    createdAt: isoDate,
    resolvedAt: isoDate.nullable(),
  })
  .meta({ id: 'DeviceFinding' });

export const findingListQuery = z.strictObject({
  deviceId: uuid.optional(),
  sealId: uuid.optional(),
  applicationId: uuid.optional(),
  limit: limitQuery,
});

export const applicationParams = z.object({ applicationId: uuid });

export const stampRecordSchema = z.object({
  ticketId: z.string(),
  deviceId: z.string().describe('The device that logged the stamp: its photos are under /devices/{deviceId}/photos'),
  serial: z.string(),
  use: z.number().int().nullable(),
  deviceTime: isoDate,
  holderId: z.string(),
  location: z.object({ lat: z.number(), lon: z.number(), accuracy: z.number() }).nullable(),
  photos: z.array(z.object({ sha256: z.string(), uploaded: z.boolean() })),
});

export const applicationRecordsSchema = z
  .object({
    applicationId: z.string(),
    usesApproved: z.number().int(),
    stamps: z.array(stampRecordSchema),
    findings: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        severity: z.string(),
        detail: z.string(),
        seq: z.number().int().nullable(),
        createdAt: isoDate,
      }),
    ),
  })
  .meta({ id: 'ApplicationDeviceRecords' });

export const usageQuery = z
  .strictObject({
    sealId: uuid.optional(),
    companyId: uuid.optional(),
    userId: uuid.optional(),
    from: z.iso.datetime({ message: 'must be an ISO 8601 time' }).optional(),
    to: z.iso.datetime({ message: 'must be an ISO 8601 time' }).optional(),
    limit: limitQuery,
  })
  .refine((q) => !q.from || !q.to || q.from < q.to, { message: 'from must be earlier than to', path: ['to'] });
