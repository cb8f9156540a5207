import { z } from 'zod';
import { body, emailSchema, isoDate } from '../../server/schemas.js';

export const passwordSchema = z
  .string()
  .min(10, { message: 'must be at least 10 characters' })
  .max(200, { message: 'must be at most 200 characters' });

export const signInBody = body({
  email: emailSchema,
  password: z.string().min(1, { message: 'must not be empty' }).max(200, { message: 'must be at most 200 characters' }),
});

export const totpBody = body({
  challengeToken: z.string().min(1).max(200),
  code: z.string().regex(/^\d{6}$/, { message: 'must be the 6-digit code from your authenticator' }),
});

export const signInResponse = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('signed_in'),
    token: z.string(),
    expiresAt: isoDate,
    userId: z.string(),
    passwordChangeRequired: z
      .boolean()
      .describe('the password was chosen by someone else: change it (POST /me/password) before anything else'),
  }),
  z.object({ status: z.literal('mfa_required'), challengeToken: z.string(), expiresAt: isoDate }),
]);

export const sessionSchema = z.object({
  id: z.string(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  createdAt: isoDate,
  expiresAt: isoDate,
  current: z.boolean(),
});

export const changePasswordBody = body({ currentPassword: z.string().min(1).max(200), newPassword: passwordSchema });
export const totpCodeBody = body({
  code: z.string().regex(/^\d{6}$/, { message: 'must be the 6-digit code from your authenticator' }),
});
export const totpSetupResponse = z.object({ secret: z.string(), otpauthUrl: z.string() });
