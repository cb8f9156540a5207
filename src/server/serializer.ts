import fastJson from 'fast-json-stringify';
import { z } from 'zod';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';

type AnySchema = z.ZodType;
type Serialize = (data: unknown) => string;

/** The fast-json-stringify writer of a schema, or null when JSON Schema cannot express it. */
function compileFastJson(schema: AnySchema): Serialize | null {
  try {
    const json = z.toJSONSchema(schema, {
      io: 'output',
      target: 'draft-7',
      unrepresentable: 'any',
      override: (ctx) => {
        const def = (ctx.zodSchema as { _zod?: { def?: { type?: string } } })._zod?.def;
        if (def?.type === 'date') {
          ctx.jsonSchema.type = 'string';
          ctx.jsonSchema.format = 'date-time';
        }
      },
    });
    return fastJson(json as unknown as Parameters<typeof fastJson>[0]) as Serialize;
  } catch {
    return null;
  }
}

/**
 * One writer per schema object, compiled when a response first needs it: the problem schema
 * every route declares for 4XX and 5XX is compiled once instead of twice per route, and the
 * routes an instance never answers cost no generated code (each writer is kilobytes of it).
 */
const writers = new WeakMap<AnySchema, Serialize | null>();

function writerOf(schema: AnySchema): Serialize | null {
  let writer = writers.get(schema);
  if (writer === undefined) {
    writer = compileFastJson(schema);
    writers.set(schema, writer);
  }
  return writer;
}

/**
 * Responses are written by fast-json-stringify from the JSON Schema of each route's zod
 * response schema: still an allow-list (undeclared fields are never written), but without
 * a zod parse of every response, which cost ~12 % of the CPU of a list request.
 * A schema JSON Schema cannot express falls back to the zod serializer.
 */
export const serializerCompiler: FastifySerializerCompiler<AnySchema> = (route) => {
  let serialize: Serialize | undefined;
  return (data) => {
    serialize ??=
      writerOf(route.schema) ??
      (zodSerializerCompiler(route as unknown as Parameters<typeof zodSerializerCompiler>[0]) as Serialize);
    return serialize(data);
  };
};
