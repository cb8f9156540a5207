import { z } from 'zod';
import { body, isoDate, nonBlank, uuid } from '../../server/schemas.js';

export const departmentSchema = z
  .object({
    id: z.string(),
    companyId: z.string(),
    name: z.string(),
    headUserId: z.string().nullable(),
    headName: z.string().nullable(),
    memberCount: z.number(),
    createdAt: isoDate,
  })
  .meta({ id: 'Department' });

export const departmentListQuery = z.strictObject({ companyId: uuid.optional() });
export const createDepartmentBody = body({
  companyId: uuid,
  name: nonBlank(100),
  headUserId: uuid.nullable().optional(),
});
export const updateDepartmentBody = body({ name: nonBlank(100).optional(), headUserId: uuid.nullable().optional() });
export const departmentParams = z.object({ departmentId: uuid });
