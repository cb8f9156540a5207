import { z } from 'zod';
import { body, emailSchema, isoDate, nonBlank, sha256, uuid } from '../../server/schemas.js';
import { category } from '../grants/index.js';

const dateOnly = z.iso.date({ message: 'must be a date as YYYY-MM-DD' });
const dateTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
  .transform((v) => new Date(v));
const phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9 -]{5,20}$/, { message: 'must be a phone number of 5–20 digits' });
const finite = z.number({ message: 'must be a number' }).refine(Number.isFinite, { message: 'must be finite' });
const extent = z
  .number({ message: 'must be a number' })
  .positive({ message: 'must be greater than 0' })
  .max(14_400, { message: 'must be at most 14400 points' });

export const participantRoles = ['signer', 'approver', 'cc', 'receiver'] as const;
export const participantKinds = ['company', 'person', 'outside_person', 'outside_org'] as const;
export const fieldTypes = [
  'company_seal',
  'cross_page_seal',
  'legal_rep_seal',
  'signature',
  'date',
  'text',
  'checkbox',
] as const;
export const contractStatuses = ['draft', 'sent', 'signing', 'completed', 'rejected', 'voided', 'expired'] as const;

/** Seal fields belong to a company participant; the others to a person (inside or outside). */
export const SEAL_FIELDS: ReadonlySet<string> = new Set(['company_seal', 'cross_page_seal', 'legal_rep_seal']);

export const participantInput = z.strictObject({
  role: z.enum(participantRoles),
  step: z
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(1, { message: 'must be at least 1' })
    .max(50, { message: 'must be at most 50' })
    .describe('signing order: every participant of step 1 acts (in any order) before step 2 opens'),
  kind: z.enum(participantKinds),
  companyId: uuid.optional().describe('kind company: the signing company'),
  sealId: uuid.optional().describe('kind company: the electronic seal it signs with'),
  userId: uuid
    .optional()
    .describe('kind person: the person; kind company: who applies the seal (needs a grant or an approved application)'),
  name: nonBlank(100).optional().describe('outside participants: the person'),
  orgName: nonBlank(200).optional().describe('kind outside_org: the organisation'),
  phone: phone.optional(),
  email: emailSchema.optional(),
});

export const fieldInput = z.strictObject({
  participant: z
    .number()
    .int({ message: 'must be a whole number' })
    .min(0, { message: 'must be at least 0' })
    .describe('index into participants'),
  type: z.enum(fieldTypes),
  page: z
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(1, { message: 'must be at least 1 (pages count from 1)' })
    .optional(),
  rect: z
    .tuple([finite, finite, extent, extent])
    .optional()
    .describe('[x, y, width, height] in PDF points from the bottom-left corner of the page'),
  keyword: nonBlank(100).optional().describe('text of the page to centre the field on, e.g. 甲方（盖章）'),
  label: nonBlank(100).optional(),
  required: z.boolean().default(true),
});

export const createContractBody = body({
  title: nonBlank(200),
  category: category.describe(
    'the business category (personnel for a labour contract, procurement for a purchase): a seal is applied under a grant for it',
  ),
  number: nonBlank(64).optional().describe('the contract number, unique in the group'),
  companyId: uuid.optional().describe('the company sending it; by default your own'),
  effectiveOn: dateOnly.optional(),
  expiresOn: dateOnly.optional(),
  documentSha256: sha256.optional().describe('a PDF uploaded with POST /documents/uploads (or give template)'),
  template: z
    .strictObject({
      templateId: uuid,
      version: z.number().int().min(1).optional().describe('by default the latest'),
      values: z.record(z.string(), z.unknown()).describe('a value for each of the template’s variables'),
    })
    .optional()
    .describe('make the PDF from a template instead of an upload'),
  deadline: dateTime.optional().describe('signing must end by then, or the contract expires'),
  remindEveryDays: z.number().int().min(1).max(30).optional(),
  requireSecondFactor: z
    .boolean()
    .default(false)
    .describe('internal signers must give a current authenticator code (totp) when signing, and have one enrolled'),
  identityCheck: z
    .enum(['real_name', 'face'])
    .optional()
    .describe('outside signers pass this check through the configured identity provider before signing'),
  participants: z
    .array(participantInput)
    .min(1, { message: 'must name at least one participant' })
    .max(50, { message: 'must name at most 50 participants' }),
  fields: z.array(fieldInput).max(200, { message: 'must place at most 200 fields' }).default([]),
}).refine((b) => (b.documentSha256 === undefined) !== (b.template === undefined), {
  message: 'give either documentSha256 or template',
  path: ['documentSha256'],
});
export type CreateContractInput = z.infer<typeof createContractBody>;

export const participantSchema = z
  .object({
    id: z.string(),
    position: z.number(),
    step: z.number(),
    role: z.enum(participantRoles),
    kind: z.enum(participantKinds),
    companyId: z.string().nullable(),
    sealId: z.string().nullable(),
    sealImageSha256: z
      .string()
      .nullable()
      .describe('the seal’s impression, readable by its stamper: GET /seal-images/{sha256}'),
    userId: z.string().nullable(),
    name: z.string(),
    orgName: z.string().nullable(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    status: z.enum(['waiting', 'active', 'done', 'rejected']),
    actedAt: isoDate.nullable(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'ContractParticipant' });

export const fieldSchema = z
  .object({
    id: z.string(),
    participantId: z.string(),
    type: z.enum(fieldTypes),
    page: z.number().nullable(),
    rect: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
    keyword: z.string().nullable(),
    label: z.string().nullable(),
    required: z.boolean(),
    value: z.string().nullable(),
  })
  .meta({ id: 'ContractField' });

export const contractSchema = z
  .object({
    id: z.string(),
    companyId: z.string(),
    companyName: z.string(),
    title: z.string(),
    category: z.string(),
    number: z.string().nullable(),
    effectiveOn: z.string().nullable(),
    expiresOn: z.string().nullable(),
    status: z.enum(contractStatuses),
    sourceSha256: z.string(),
    currentSha256: z.string(),
    currentStep: z.number(),
    deadline: isoDate.nullable(),
    createdBy: z.string(),
    createdAt: isoDate,
    sentAt: isoDate.nullable(),
    endedAt: isoDate.nullable(),
    endReason: z.string().nullable(),
    voidOf: z
      .string()
      .nullable()
      .describe('a void agreement (作废协议): the completed contract it voids when it completes'),
    requireSecondFactor: z.boolean(),
    identityCheck: z.enum(['real_name', 'face']).nullable(),
    participants: z.array(participantSchema),
    fields: z.array(fieldSchema),
  })
  .meta({ id: 'Contract' });

export const invitationSchema = z
  .object({
    participantId: z.string(),
    name: z.string(),
    path: z.string().describe('the signing page, with the single-use token; also sent by SMS or e-mail'),
    expiresAt: isoDate,
  })
  .meta({ id: 'ContractInvitation' });

export const signBody = body({
  category: category
    .optional()
    .describe("under a grant: the business category (by default the contract's own category)"),
  authorizationId: uuid.optional().describe("an approved application's authorization naming this contract's PDF"),
  fields: z
    .array(z.strictObject({ id: uuid, value: nonBlank(500) }))
    .max(50)
    .default([])
    .describe('values for your date, text and checkbox fields'),
  totp: z
    .string()
    .regex(/^[0-9]{6}$/, { message: 'must be the 6 digits your authenticator shows' })
    .optional()
    .describe('the current code of your authenticator: needed when you have one, or the contract requires it'),
});
export type ContractSignInput = z.infer<typeof signBody>;

export const rejectBody = body({ reason: nonBlank(500) });
export const voidBody = body({ reason: nonBlank(500) });

const templateVariable = z.union([
  z.strictObject({
    name: z.string().max(64),
    label: z.string().max(100),
    type: z.enum(['text', 'date', 'amount', 'number']),
    required: z.boolean().optional(),
  }),
  z.strictObject({
    name: z.string().max(64),
    label: z.string().max(100),
    type: z.literal('table'),
    columns: z
      .array(
        z.strictObject({
          name: z.string().max(64),
          label: z.string().max(20),
          type: z.enum(['text', 'date', 'amount', 'number']).optional(),
        }),
      )
      .max(12),
    required: z.boolean().optional(),
  }),
]);

export const templateSource = z
  .strictObject({
    title: z.string().max(100),
    variables: z.array(templateVariable).max(200),
    body: z
      .string()
      .max(210_000)
      .describe('the text: # title, ## clause heading, - list item, {{variable}}, {{#table name}}, --- page break'),
  })
  .meta({ id: 'TemplateSource' });

export const createTemplateBody = body({
  companyId: uuid
    .optional()
    .describe('the company it belongs to (its companies below use it too); by default your own'),
  name: nonBlank(100),
  category: category.describe('the business category of contracts made from it'),
  source: templateSource,
});

export const templateSchema = z
  .object({
    id: z.string(),
    companyId: z.string(),
    companyName: z.string(),
    name: z.string(),
    category: z.string(),
    latestVersion: z.number(),
    createdBy: z.string(),
    createdAt: isoDate,
  })
  .meta({ id: 'Template' });

export const templateDetailSchema = templateSchema
  .extend({
    version: z.number(),
    source: templateSource,
    versions: z.array(z.object({ id: z.string(), version: z.number(), createdAt: isoDate, createdBy: z.string() })),
  })
  .meta({ id: 'TemplateDetail' });

export const attachmentSchema = z
  .object({
    id: z.string(),
    sha256: z.string(),
    mediaType: z.enum(['application/pdf', 'image/png', 'image/jpeg']),
    name: z.string(),
    size: z.number(),
    createdBy: z.string(),
    createdAt: isoDate,
  })
  .meta({ id: 'ContractAttachment' });
