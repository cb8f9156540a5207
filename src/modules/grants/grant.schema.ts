import { z } from 'zod';
import { body, isoDate, uuid } from '../../server/schemas.js';
import { isBusinessCategory } from './seal-use.policy.js';

export const category = z
  .string()
  .trim()
  .refine(isBusinessCategory, { message: 'must be personnel, procurement, sales, legal, finance or custom:<name>' });

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
