import { z } from 'zod';
import { cursorQuery, isoDate, limitQuery, uuid } from '../../server/schemas.js';

export const sealKinds = ['electronic', 'physical', 'ukey', 'mobile'] as const;
export const sealTypes = [
  'official',
  'contract',
  'finance',
  'invoice',
  'hr',
  'legal_representative',
  'custom',
] as const;
export const sealStatuses = ['pending', 'active', 'suspended', 'lost', 'destroyed'] as const;

export const sealSchema = z
  .object({
    id: z.string(),
    companyId: z.string(),
    companyName: z.string(),
    code: z.string(),
    name: z.string(),
    kind: z.enum(sealKinds),
    type: z.enum(sealTypes),
    customType: z.string().nullable(),
    status: z.enum(sealStatuses),
    imageSha256: z.string().nullable(),
    description: z.string().nullable(),
    needsCustodian: z.boolean(),
    producedAt: isoDate.nullable(),
    statusChangedAt: isoDate.nullable(),
    createdAt: isoDate,
    custodians: z.array(z.object({ userId: z.string(), name: z.string() })),
    activeGrants: z.number(),
    certificate: z
      .object({
        id: z.string(),
        serialNumber: z.string().describe('hex'),
        subject: z.string(),
        issuer: z.string(),
        source: z.enum(['issued', 'imported']),
        keySpec: z.string(),
        fingerprint: z.string().describe('SHA-256 of the DER, hex'),
        notBefore: isoDate,
        notAfter: isoDate,
        status: z.enum(['active', 'revoked']),
        revocationReason: z.string().nullable(),
      })
      .nullable()
      .describe(
        'electronic seals: the newest certificate (issued on first signing, or imported); null before one exists',
      ),
  })
  .meta({ id: 'Seal' });

export const sealListQuery = z.strictObject({
  companyId: uuid.optional(),
  under: uuid.optional().describe('Seals of this company and every company below it'),
  kind: z.enum(sealKinds).optional(),
  type: z.enum(sealTypes).optional(),
  status: z.enum(sealStatuses).optional(),
  custodianId: uuid.optional(),
  needsCustodian: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  q: z.string().trim().min(1).max(100).optional(),
  limit: limitQuery,
  cursor: cursorQuery
    .pipe(z.object({ path: z.string(), code: z.string() }, { message: 'is not a cursor this server issued' }))
    .optional(),
});

export const sealParams = z.object({ sealId: uuid });
