import { z } from 'zod';
import { body, isoDate, nonBlank, uuid } from '../../server/schemas.js';
import { category } from '../grants/index.js';
import { sealKinds, sealTypes } from '../seals/index.js';

const role = z.enum(['system_admin', 'seal_admin', 'security_auditor', 'employee']);

/** Who approves at a level (or is copied): named people, a role within a company, the applicant's department head, the seal's custodian. */
export const approverSpec = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('user'), userId: uuid }),
  z.strictObject({ type: z.literal('role'), role, companyId: uuid }),
  z.strictObject({ type: z.literal('department_head') }),
  z.strictObject({ type: z.literal('custodian') }),
]);
export type ApproverSpec = z.infer<typeof approverSpec>;

/** A level is added only when its condition holds (e.g. more than N uses, or a given seal type). */
export const levelCondition = z
  .strictObject({
    minUses: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .optional()
      .describe('the level applies when more than this many uses are asked for'),
    sealTypes: z.array(z.enum(sealTypes)).min(1).optional(),
    sealKinds: z.array(z.enum(sealKinds)).min(1).optional(),
  })
  .refine((c) => c.minUses !== undefined || c.sealTypes !== undefined || c.sealKinds !== undefined, {
    message: 'must state at least one of minUses, sealTypes, sealKinds',
  });

export const levelSpec = z.strictObject({
  name: nonBlank(100),
  mode: z.enum(['any', 'all']).describe('any: one approval completes the level; all: every approver must approve'),
  approvers: z.array(approverSpec).min(1, { message: 'a level needs at least one approver' }).max(50),
  condition: levelCondition.optional(),
  remindAfterHours: z
    .number()
    .min(0.01)
    .max(24 * 30)
    .optional(),
  escalateAfterHours: z
    .number()
    .min(0.01)
    .max(24 * 60)
    .optional(),
  deciderRole: z
    .strictObject({ role, companyId: uuid })
    .optional()
    .describe(
      'whoever decides this level must hold this role over this company (or above it) when deciding, also after a transfer; no delegate stands in',
    ),
});

export const flowDefinition = z.strictObject({
  levels: z.array(levelSpec).min(1, { message: 'a flow needs at least one level' }).max(20),
  cc: z.array(approverSpec).max(50).default([]),
  allowSameApproverAcrossLevels: z
    .boolean()
    .default(false)
    .describe(
      'true: one person may decide several levels of an application (named at several, or handed a later level); by default a person decides at most one level',
    ),
});
export type FlowDefinition = z.infer<typeof flowDefinition>;

export const flowSchema = z
  .object({
    id: z.string(),
    companyId: z.string(),
    purpose: z.enum(['seal_use', 'lifecycle']),
    category: z.string().nullable(),
    sealId: z.string().nullable(),
    name: z.string(),
    version: z.number(),
    status: z.enum(['active', 'archived']),
    definition: flowDefinition,
    createdAt: isoDate,
  })
  .meta({ id: 'Flow' });

export const createFlowBody = body({
  companyId: uuid,
  purpose: z.enum(['seal_use', 'lifecycle']).default('seal_use'),
  category: category.optional().describe('absent: every business category'),
  sealId: uuid.optional().describe('bind the flow to one seal: its use then goes through this flow only'),
  name: nonBlank(100),
  definition: flowDefinition,
});

export const updateFlowBody = body({ name: nonBlank(100).optional(), definition: flowDefinition });
export const flowParams = z.object({ flowId: uuid });
