import { z } from 'zod';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Text PostgreSQL cannot store: NUL (it ends a C string; `text` refuses it with 22021) and a UTF-16
 * surrogate without its other half (JSON's "\ud800" parses to one; it has no UTF-8 encoding, so a
 * driver either fails or silently stores U+FFFD instead of what was sent).
 */
const UNSAFE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const UNSAFE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';
export const UNSAFE_KEY_MESSAGE = 'has a field name with NUL characters or unpaired UTF-16 surrogates';

export function isSafeText(text: string): boolean {
  return !UNSAFE_TEXT.test(text);
}

/** Every place in a parsed JSON value (or query, or path parameters) that holds text PostgreSQL cannot store. */
export function findUnsafeText(
  value: unknown,
  path: Array<string | number> = [],
): Array<{ path: Array<string | number>; message: string }> {
  if (typeof value === 'string') return isSafeText(value) ? [] : [{ path, message: UNSAFE_TEXT_MESSAGE }];
  if (Array.isArray(value)) return value.flatMap((item, index) => findUnsafeText(item, [...path, index]));
  // Buffers are raw uploads (PDFs, images): bytes, not text.
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return [];
  return Object.entries(value).flatMap(([key, item]) =>
    isSafeText(key) ? findUnsafeText(item, [...path, key]) : [{ path, message: UNSAFE_KEY_MESSAGE }],
  );
}

/**
 * The route validator, with one check in front of every schema: no text input (body, query string,
 * path parameters, headers; nested, in arrays and records) may hold NUL or an unpaired surrogate.
 * It sits here, once, rather than in each of the schemas' strings, so a new route or field is
 * covered without anyone remembering to; it answers 400 naming each such field.
 */
export const guardedValidatorCompiler: FastifySchemaCompiler<z.ZodType> = (route) => {
  const guarded = z
    .unknown()
    .superRefine((data, ctx) => {
      for (const problem of findUnsafeText(data)) ctx.addIssue({ code: 'custom', ...problem });
    })
    .pipe(route.schema);
  return validatorCompiler({ ...route, schema: guarded });
};
