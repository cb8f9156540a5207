import { z } from 'zod';
import { body, cursorQuery, emailSchema, isoDate, limitQuery, nonBlank, uuid } from '../../server/schemas.js';
import { passwordSchema } from '../auth/index.js';

const locale = z.enum(['zh-CN', 'en']);
const phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9 -]{5,20}$/, { message: 'must be a phone number of 5–20 digits' });

export const userSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    phone: z.string().nullable(),
    locale,
    status: z.enum(['active', 'suspended', 'resigned']),
    companyId: z.string(),
    departmentId: z.string().nullable(),
    totpEnabled: z.boolean(),
    serviceAccount: z.boolean().describe('held by an integration through its API keys; nobody signs in as it'),
    locked: z.boolean(),
    createdAt: isoDate,
    statusChangedAt: isoDate.nullable(),
  })
  .meta({ id: 'User' });

export const postSchema = z.object({
  id: z.string(),
  companyId: z.string(),
  departmentId: z.string().nullable(),
  title: z.string(),
  createdAt: isoDate,
});
export const userRoleSchema = z.object({
  id: z.string(),
  role: z.string(),
  companyId: z.string(),
  companyName: z.string(),
  createdAt: isoDate,
});
export const userDetailSchema = userSchema
  .extend({ posts: z.array(postSchema), roles: z.array(userRoleSchema) })
  .meta({ id: 'UserDetail' });

export const userListQuery = z.strictObject({
  companyId: uuid.optional(),
  under: uuid.optional().describe('Users of this company and every company below it'),
  departmentId: uuid.optional(),
  status: z.enum(['active', 'suspended', 'resigned']).optional(),
  q: z.string().trim().min(1).max(100).optional(),
  limit: limitQuery,
  cursor: cursorQuery
    .pipe(z.object({ name: z.string(), id: z.string() }, { message: 'is not a cursor this server issued' }))
    .optional(),
});

export const createUserBody = body({
  email: emailSchema,
  name: nonBlank(100),
  companyId: uuid,
  departmentId: uuid.nullable().optional(),
  phone: phone.nullable().optional(),
  locale: locale.optional(),
  password: passwordSchema,
});

export const createServiceAccountBody = body({
  name: nonBlank(100),
  companyId: uuid,
  departmentId: uuid.nullable().optional(),
});

export const updateUserBody = body({
  name: nonBlank(100).optional(),
  companyId: uuid.optional(),
  departmentId: uuid.nullable().optional(),
  phone: phone.nullable().optional(),
  locale: locale.optional(),
});

export const statusBody = body({
  status: z.enum(['active', 'suspended', 'resigned']),
  reason: z.string().trim().max(500).optional(),
});

export const resetPasswordBody = body({ password: passwordSchema });
export const addPostBody = body({ companyId: uuid, departmentId: uuid.nullable().optional(), title: nonBlank(100) });
export const userParams = z.object({ userId: uuid });
export const postParams = z.object({ userId: uuid, postId: uuid });

export const meSchema = z.object({
  user: userSchema,
  group: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
  company: z.object({ id: z.string(), name: z.string() }),
  roles: z.array(userRoleSchema),
  permissions: z.array(z.object({ permission: z.string(), companyId: z.string() })),
  passwordChangeRequired: z
    .boolean()
    .describe('the password was chosen by someone else: change it (POST /me/password) before anything else'),
});

export const updateMeBody = body({ locale: locale.optional(), phone: phone.nullable().optional() });

export type CreateUserInput = z.infer<typeof createUserBody>;
export type CreateServiceAccountInput = z.infer<typeof createServiceAccountBody>;
export type UpdateUserInput = z.infer<typeof updateUserBody>;
