import { z } from 'zod';
import { body, cursorQuery, isoDate, nonBlank, uuid } from '../../server/schemas.js';

const code = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, {
    message: 'must be 1–40 letters, digits, dot, dash or underscore, starting with a letter or digit',
  });

export const companySchema = z
  .object({
    id: z.string(),
    parentId: z.string().nullable(),
    name: z.string(),
    code: z.string(),
    depth: z.number(),
    status: z.enum(['active', 'closed']),
    childCount: z.number().optional(),
    createdAt: isoDate,
  })
  .meta({ id: 'Company' });

export const companyListQuery = z.strictObject({
  parentId: uuid.optional(),
  under: uuid.optional().describe('Only this company and everything below it'),
  q: z.string().trim().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  cursor: cursorQuery.pipe(z.string({ message: 'is not a cursor this server issued' })).optional(),
});

export const createCompanyBody = body({ parentId: uuid, name: nonBlank(200), code });
export const updateCompanyBody = body({
  name: nonBlank(200).optional(),
  code: code.optional(),
  status: z.enum(['active', 'closed']).optional(),
  parentId: uuid.optional().describe('Move the company (and its subtree) under another company'),
});

export const companyParams = z.object({ companyId: uuid });
export type CreateCompanyInput = z.infer<typeof createCompanyBody>;
export type UpdateCompanyInput = z.infer<typeof updateCompanyBody>;
