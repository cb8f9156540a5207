import { z } from 'zod';
import { body, isoDate, limitQuery, nonBlank, uuid } from '../../server/schemas.js';

/** The longest period a review draws from or a register is checked against. */
export const MAX_PERIOD_DAYS = 366;

const isoTime = z.iso.datetime({ message: 'must be an ISO 8601 time' });

/** A calendar day, YYYY-MM-DD, that exists (2026-02-30 does not). */
export const calendarDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date as YYYY-MM-DD' })
  .refine(
    (v) => {
      const d = new Date(`${v}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
    },
    { message: 'must be a date that exists' },
  );

const periodRefinement = <T extends { from: string; to: string }>(q: T) => {
  const days = (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000;
  return days > 0 && days <= MAX_PERIOD_DAYS;
};
const periodMessage = { message: `from must be earlier than to, at most ${MAX_PERIOD_DAYS} days apart`, path: ['to'] };

// ---------------------------------------------------------------- records and corrections

export const usageRecordParams = z.object({
  recordId: z.string().regex(/^(e-[0-9a-f-]{36}|p-[0-9a-f-]{36}-\d{1,15})$/, {
    message: 'must be a usage record id (e-<signature id> or p-<device id>-<seq>)',
  }),
});

export const correctionSchema = z
  .object({
    id: z.string(),
    what: z.string().describe('What the record should have said'),
    why: z.string(),
    correctedBy: z.string(),
    correctedByName: z.string(),
    createdAt: isoDate,
  })
  .meta({ id: 'SealUsageCorrection' });

export const usageRecordSchema = z
  .object({
    recordId: z.string().describe('e-<signature id> or p-<device id>-<event seq>: names the record for good'),
    kind: z.enum(['electronic', 'physical']),
    sealId: z.string(),
    sealName: z.string(),
    companyId: z.string(),
    userId: z.string(),
    userName: z.string(),
    at: isoDate,
    applicationId: z.string().nullable(),
    reference: z.string().describe("electronic: the signed output's SHA-256; physical: <device serial>#<event seq>"),
    location: z.object({ lat: z.number(), lon: z.number() }).nullable(),
    corrections: z.array(correctionSchema).describe('Appended, oldest first; the record above is as it was made'),
  })
  .meta({ id: 'SealUsageRecord' });

export const correctionBody = body({
  what: nonBlank(500).describe('What is wrong in the record and what it should say'),
  why: nonBlank(1000).describe('Why: the evidence or the reason for the correction'),
});

// ---------------------------------------------------------------- reports

export const reportPeriods = ['week', 'month'] as const;
export const reportFormats = ['json', 'csv', 'xlsx', 'pdf'] as const;

export const reportQuery = z.strictObject({
  period: z.enum(reportPeriods, { message: 'must be week or month' }),
  from: calendarDay.describe('The first day of the period (Beijing time)'),
  companyId: uuid.optional().describe('A company and its subsidiaries; all you may read when left out'),
  format: z.enum(reportFormats, { message: 'must be json, csv, xlsx or pdf' }).default('json'),
});

const counts = { electronic: z.number().int(), physical: z.number().int(), total: z.number().int() };

export const reportSchema = z
  .object({
    period: z.enum(reportPeriods),
    from: z.string().describe('First day, YYYY-MM-DD'),
    to: z.string().describe('Last day, YYYY-MM-DD (inclusive)'),
    timeZone: z.literal('UTC+08:00'),
    companyId: z.string().nullable(),
    companyName: z.string().nullable(),
    generatedAt: isoDate,
    totals: z.object(counts),
    bySeal: z.array(z.object({ sealId: z.string(), sealName: z.string(), companyName: z.string(), ...counts })),
    byCompany: z.array(z.object({ companyId: z.string(), companyName: z.string(), ...counts })),
    byPerson: z.array(z.object({ userId: z.string(), userName: z.string(), ...counts })),
    byDay: z.array(z.object({ date: z.string(), ...counts })),
  })
  .meta({ id: 'SealUsageReport' });

export type UsageReport = z.infer<typeof reportSchema>;

// ---------------------------------------------------------------- sampling reviews

export const reviewBody = body({
  companyId: uuid.describe('Records of this company and its subsidiaries'),
  sealId: uuid.optional().describe('Only this seal'),
  from: isoTime,
  to: isoTime,
  size: z.number().int().min(1, { message: 'must be at least 1' }).max(200, { message: 'must be at most 200' }),
  reviewerId: uuid.describe(
    'Who reviews: a person who may read the seals of the company, never one whose records are drawn',
  ),
}).refine(periodRefinement, periodMessage);

export const reviewParams = z.object({ reviewId: uuid });
export const reviewItemParams = z.object({
  reviewId: uuid,
  position: z.coerce
    .number()
    .int()
    .min(1, { message: 'must be at least 1' })
    .max(200, { message: 'must be at most 200' }),
});

export const reviewListQuery = z.strictObject({
  mine: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .optional()
    .transform((v) => v === 'true')
    .describe('Only the reviews given to me'),
  limit: limitQuery,
});

export const decisionBody = body({
  decision: z.enum(['confirmed', 'flagged'], { message: 'must be confirmed or flagged' }),
  comment: nonBlank(1000).nullable().default(null),
}).refine((b) => b.decision !== 'flagged' || b.comment !== null, {
  message: 'a flagged record needs a comment saying what is wrong',
  path: ['comment'],
});

export const reviewSchema = z
  .object({
    id: z.string(),
    companyId: z.string(),
    companyName: z.string(),
    sealId: z.string().nullable(),
    from: isoDate,
    to: isoDate,
    size: z.number().int(),
    population: z.number().int().describe('How many records the sample was drawn from'),
    reviewerId: z.string(),
    reviewerName: z.string(),
    createdBy: z.string(),
    createdAt: isoDate,
    decided: z.number().int(),
    flagged: z.number().int(),
  })
  .meta({ id: 'SealUsageReview' });

export const reviewItemSchema = z
  .object({
    position: z.number().int(),
    recordId: z.string(),
    kind: z.enum(['electronic', 'physical']),
    sealId: z.string(),
    sealName: z.string(),
    userId: z.string(),
    userName: z.string(),
    at: isoDate,
    applicationId: z.string().nullable(),
    reference: z.string(),
    decision: z.enum(['confirmed', 'flagged']).nullable(),
    comment: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: isoDate.nullable(),
  })
  .meta({ id: 'SealUsageReviewItem' });

export const reviewDetailSchema = reviewSchema
  .extend({ items: z.array(reviewItemSchema) })
  .meta({ id: 'SealUsageReviewDetail' });

// ---------------------------------------------------------------- cross-checks against a register

/** A register's upload: at most 1 MB and 5,000 rows. */
export const REGISTER_MAX_BYTES = 1024 * 1024;
export const REGISTER_MAX_ROWS = 5000;

export const registerCheckQuery = z
  .strictObject({
    companyId: uuid,
    sealId: uuid.optional(),
    from: isoTime,
    to: isoTime,
    toleranceDays: z.coerce
      .number()
      .int()
      .min(0, { message: 'must be 0 or more' })
      .max(60, { message: 'must be at most 60' })
      .default(7)
      .describe("How far a record's day may lie from the register row's date"),
  })
  .refine(periodRefinement, periodMessage);

const registerRowSchema = z.object({
  line: z.number().int().describe('The line of the CSV file (the header is line 1)'),
  number: z.string(),
  date: z.string(),
  counterparty: z.string().nullable(),
  amount: z.string().nullable(),
});

const checkedRecordSchema = z.object({
  recordId: z.string(),
  kind: z.enum(['electronic', 'physical']),
  sealId: z.string(),
  sealName: z.string(),
  userId: z.string(),
  userName: z.string(),
  at: isoDate,
  applicationId: z.string().nullable(),
  reference: z.string(),
});

export const registerCheckSchema = z
  .object({
    rule: z.string().describe('How a record and a register row were matched'),
    rows: z.number().int(),
    records: z.number().int(),
    matched: z.array(registerRowSchema.extend({ recordIds: z.array(z.string()) })),
    rowsWithoutRecord: z.array(registerRowSchema),
    recordsWithoutRow: z.array(checkedRecordSchema),
  })
  .meta({ id: 'SealUsageRegisterCheck' });
