import { errorCodes, problemParams, type ErrorCode } from './errors.js';
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from './context.js';
import { findUnsafeText } from './safe-text.js';

/** A capability's routes: a Fastify plugin given the app context. */
export type RoutesPlugin = FastifyPluginAsyncZod<{ ctx: AppContext }>;

export const uuid = z.uuid({ message: 'must be a UUID' });

/** A file's SHA-256 as the API names stored files: lower-case hex. */
export const sha256 = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be a SHA-256 in lower-case hex' });

/** Request bodies refuse fields they do not know: a typo must not be silently ignored. */
export const body = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape);

/** Dates leave as ISO 8601 strings (JSON.stringify of a Date); OpenAPI shows them as date-time. */
export const isoDate = z.date();

export const limitQuery = z.coerce.number().int().min(1).max(500).default(50);

export const nonBlank = (max: number) =>
  z
    .string()
    .trim()
    .min(1, { message: 'must not be empty' })
    .max(max, { message: `must be at most ${max} characters` });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    detail: z
      .string()
      .describe('what went wrong, in English; clients word it in their own language from `code` and its parameters'),
    code: z.enum(errorCodes as [ErrorCode, ...ErrorCode[]]),
    requestId: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .catchall(z.unknown())
  .describe(
    `An RFC 9457 problem. Some codes carry parameters beside \`detail\` (times in ISO 8601): ${Object.entries(
      problemParams,
    )
      .map(([code, names]) => `${code}: ${names.join(', ')}`)
      .join('; ')}`,
  )
  .meta({ id: 'Problem' });

export const okSchema = z.object({ ok: z.literal(true) });

export const emailSchema = z
  .string()
  .trim()
  .max(254, { message: 'must be at most 254 characters' })
  .pipe(z.email({ message: 'must be an e-mail address' }))
  .transform((v) => v.toLowerCase());

/** JSON already written, by the database for the hottest lists. The route's schema still documents it. */
export interface JsonText {
  readonly json: string;
}

export function jsonText(json: string): JsonText {
  return { json };
}

/** Sends JSON text as it is, past the response serializer (Fastify sends a JSON-typed string untouched). */
export function sendJsonText(reply: FastifyReply, text: JsonText): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(text.json);
}

/** Opaque keyset cursor: base64url of JSON. Unreadable cursors are a 400, not a crash. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export const cursorQuery = z
  .string()
  .max(512)
  .transform((raw, ctx) => {
    try {
      const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
      // What the cursor holds goes into SQL: text PostgreSQL cannot store would fail there (a 500).
      if (findUnsafeText(value).length === 0) return value;
    } catch {
      // Not JSON: answered below like any cursor this server did not issue.
    }
    ctx.addIssue({ code: 'custom', message: 'is not a cursor this server issued' });
    return z.NEVER;
  });

/** Answers with a text body (CSV, PEM…) instead of the route's JSON schema. */
export function sendText(
  reply: FastifyReply,
  options: { type: string; filename?: string; body: string },
): FastifyReply {
  reply.type(options.type);
  if (options.filename) reply.header('content-disposition', `attachment; filename="${options.filename}"`);
  return reply.send(options.body);
}
