import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { serializerCompiler } from './serializer.js';

const compile = (schema: z.ZodType) =>
  serializerCompiler({ schema, method: 'GET', url: '/t', httpStatus: '200' } as Parameters<
    typeof serializerCompiler
  >[0]) as (data: unknown) => string;

describe('response serializer', () => {
  it('writes only declared fields, dates as ISO 8601, through referenced schemas', () => {
    const item = z
      .object({ id: z.string(), at: z.date(), note: z.string().nullable() })
      .meta({ id: 'SerializerTestItem' });
    const write = compile(z.object({ items: z.array(item) }));
    const out = JSON.parse(write({ items: [{ id: 'a', at: new Date(0), note: null, passwordHash: 'scrypt$…' }] }));
    expect(out).toEqual({ items: [{ id: 'a', at: '1970-01-01T00:00:00.000Z', note: null }] });
  });

  it('refuses a response missing a required field instead of writing half of it', () => {
    const write = compile(z.object({ id: z.string(), name: z.string() }));
    expect(() => write({ id: 'a' })).toThrow(/name/);
  });
});
