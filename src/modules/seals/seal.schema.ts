import { z } from 'zod';
import { body, cursorQuery, isoDate, limitQuery, uuid } from '../../server/schemas.js';
import { isBusinessCategory } from './seal-use.policy.js';

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

export const category = z
  .string()
  .trim()
  .refine(isBusinessCategory, { message: 'must be personnel, procurement, sales, legal, finance or custom:<name>' });

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

export const grantSchema = z
  .object({
    id: z.string(),
    sealId: z.string(),
    granteeType: z.enum(['user', 'department', 'role']),
    granteeUserId: z.string().nullable(),
    granteeDepartmentId: z.string().nullable(),
    granteeRole: z.string().nullable(),
    granteeCompanyId: z.string().nullable(),
    granteeName: z.string().nullable(),
    categories: z.array(z.string()),
    validFrom: isoDate,
    validUntil: isoDate.nullable(),
    maxUses: z.number().nullable(),
    usedCount: z.number(),
    createdBy: z.string().nullable(),
    createdAt: isoDate,
    revokedAt: isoDate.nullable(),
    revokeReason: z.string().nullable(),
  })
  .meta({ id: 'SealGrant' });

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

const dateTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
  .transform((v) => new Date(v));

export const grantee = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('user'), userId: uuid }),
  z.strictObject({ type: z.literal('department'), departmentId: uuid }),
  z.strictObject({
    type: z.literal('role'),
    role: z.enum(['system_admin', 'seal_admin', 'security_auditor', 'employee']),
    companyId: uuid,
  }),
]);

export const createGrantBody = body({
  grantee,
  categories: z.array(category).min(1, { message: 'must name at least one business category' }).max(20),
  validFrom: dateTime.optional(),
  validUntil: dateTime.optional(),
  maxUses: z
    .number()
    .int({ message: 'must be a whole number' })
    .min(1, { message: 'must be at least 1' })
    .max(1_000_000)
    .optional(),
});

export const revokeGrantBody = body({ reason: z.string().trim().max(500).optional() });

export const sealParams = z.object({ sealId: uuid });
export const grantParams = z.object({ sealId: uuid, grantId: uuid });

export const useDecisionQuery = z.strictObject({ sealId: uuid, userId: uuid.optional(), category });
export const useDecisionSchema = z.object({
  allowed: z.boolean(),
  reason: z.enum(['seal_not_found', 'seal_not_usable', 'user_inactive', 'custodian', 'no_grant']).nullable(),
  grant: z
    .object({
      id: z.string(),
      granteeType: z.string(),
      validUntil: isoDate.nullable(),
      remainingUses: z.number().nullable(),
    })
    .nullable(),
});

export type CreateGrantInput = z.infer<typeof createGrantBody>;
