// Text PostgreSQL cannot store (NUL; a UTF-16 surrogate without its other half), sent in every
// string input of every operation the OpenAPI document describes: JSON bodies (nested fields,
// arrays), query strings, path parameters. The walk is generated from the document, so a new
// route or field is attacked without anyone adding it here. Each must answer 400 problem+json
// naming the field, never 500. Also the router's own errors: a bad percent-escape, an over-long
// path parameter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNSAFE_KEY_MESSAGE, UNSAFE_TEXT_MESSAGE } from '../src/server/safe-text.js';
import { buildGroup, client, createWorld, type GroupFixture, type World } from './support/world.js';

let world: World;
let group: GroupFixture;
beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
});
afterAll(() => world.close());

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  minItems?: number;
  minLength?: number;
  pattern?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  prefixItems?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};
interface Operation {
  parameters?: Array<{ in: string; name: string; schema?: Schema }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const SAMPLE_UUID = '00000000-0000-4000-8000-000000000000';
const NUL = 'left\u0000right';
const LONE_SURROGATE = 'left\ud800right';

function resolve(document: OpenApi, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  return resolve(document, document.components?.schemas?.[name] ?? {});
}

/**
 * A value the schema accepts where that is easy to tell, with every optional field present, so
 * each string leaf exists to be replaced; `pick` chooses which branch of a union to take.
 */
function sample(document: OpenApi, raw: Schema, pick: 'first' | 'last', key = ''): unknown {
  const schema = resolve(document, raw);
  const options = (schema.anyOf ?? schema.oneOf)?.filter((o) => resolve(document, o).type !== 'null');
  if (options?.length) return sample(document, (pick === 'first' ? options[0] : options.at(-1))!, pick, key);
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => sample(document, s, pick, key)));
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const type = [schema.type ?? (schema.properties ? 'object' : 'string')].flat().find((t) => t !== 'null');
  switch (type) {
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([name, value]) => [name, sample(document, value, pick, name)]),
      );
    case 'array':
      if (schema.prefixItems) return schema.prefixItems.map((item) => sample(document, item, pick));
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () =>
        sample(document, schema.items ?? {}, pick),
      );
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    default:
      // Ids of things that exist, where the name tells what they are: more requests get as far as SQL.
      if (schema.format === 'uuid')
        return /compan|parent|under/i.test(key)
          ? group.hq.id
          : /user|approver|custodian/i.test(key)
            ? group.admin.id
            : SAMPLE_UUID;
      if (schema.format === 'email') return 'someone@example.test';
      if (schema.format === 'date-time') return '2030-01-01T00:00:00.000Z';
      if (schema.pattern === '^[0-9a-f]{64}$') return 'a'.repeat(64);
      // A usage record's id: a signature's (e-…) or a device event's (p-…-seq).
      if (schema.pattern?.startsWith('^(e-')) return `e-${SAMPLE_UUID}`;
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
  }
}

/** Paths of every string in a value. */
function stringLeaves(value: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringLeaves(item, [...path, i]));
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([key, item]) => stringLeaves(item, [...path, key]));
  return [];
}

function replaced(value: unknown, path: Array<string | number>, text: string): unknown {
  if (path.length === 0) return text;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  copy[head!] = replaced(copy[head!], rest, text);
  return copy;
}

interface Attack {
  label: string;
  method: string;
  url: string;
  payload?: string;
  field: string;
}

/** Every string input of every operation, with NUL and with a lone surrogate. */
function attacks(document: OpenApi): Attack[] {
  const out: Attack[] = [];
  for (const [template, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const parameters = operation.parameters ?? [];
      const pathParams = parameters.filter((p) => p.in === 'path');
      const url = (override?: { name: string; value: string }) =>
        template.replace(/\{(\w+)\}/g, (_, name: string) => {
          if (override?.name === name) return encodeURIComponent(override.value);
          const schema = pathParams.find((p) => p.name === name)?.schema;
          return encodeURIComponent(String(sample(document, schema ?? {}, 'first', name)));
        });
      const json = operation.requestBody?.content['application/json']?.schema;
      const bodies = json ? [sample(document, json, 'first'), sample(document, json, 'last')] : [];
      const body = bodies[0] === undefined ? undefined : JSON.stringify(bodies[0]);
      for (const [kind, text] of [
        ['NUL', NUL],
        ['lone surrogate', LONE_SURROGATE],
      ] as const) {
        const seen = new Set<string>();
        for (const sampleBody of bodies) {
          for (const leaf of stringLeaves(sampleBody)) {
            const field = ['body', ...leaf].join('.');
            if (seen.has(field)) continue;
            seen.add(field);
            // JSON.stringify writes NUL as \u0000 and a lone surrogate as \ud800: valid JSON both.
            out.push({
              label: `${kind} in ${field}`,
              method,
              url: url(),
              payload: JSON.stringify(replaced(sampleBody, leaf, text)),
              field,
            });
          }
        }
        // A surrogate has no UTF-8 form to percent-encode: in URLs only NUL can be sent as text.
        if (kind !== 'NUL') continue;
        for (const parameter of parameters.filter((p) => p.in === 'query')) {
          out.push({
            label: `NUL in querystring.${parameter.name}`,
            method,
            url: `${url()}?${parameter.name}=${encodeURIComponent(text)}`,
            ...(body !== undefined ? { payload: body } : {}),
            field: `querystring.${parameter.name}`,
          });
        }
        for (const parameter of pathParams) {
          out.push({
            label: `NUL in params.${parameter.name}`,
            method,
            url: url({ name: parameter.name, value: text }),
            ...(body !== undefined ? { payload: body } : {}),
            field: `params.${parameter.name}`,
          });
        }
      }
    }
  }
  return out;
}

describe('text PostgreSQL cannot store', () => {
  it('is refused with 400 naming the field in every string input of every operation', async () => {
    const document = world.app.swagger() as unknown as OpenApi;
    const all = attacks(document);
    // The walk must reach the inputs the issue names, or it walks nothing.
    const labels = new Set(all.map((a) => `${a.method.toUpperCase()} ${a.url.split('?')[0]} ${a.field}`));
    expect(all.length).toBeGreaterThan(200);
    expect([...labels].some((l) => l.startsWith('POST /api/v1/documents/uploads querystring.name'))).toBe(true);
    expect([...labels].some((l) => l.startsWith('GET /api/v1/users querystring.q'))).toBe(true);

    const failures: string[] = [];
    for (const attack of all) {
      const answer = await client(world, group.admin.token).raw(
        attack.method.toUpperCase() as 'GET',
        attack.url,
        attack.payload,
        attack.payload !== undefined ? { 'content-type': 'application/json' } : {},
      );
      const named = (answer.body?.errors ?? []) as Array<{ field: string; message: string }>;
      const ok =
        answer.status === 400 &&
        String(answer.headers['content-type']).startsWith('application/problem+json') &&
        named.some((e) => e.field === attack.field && e.message === UNSAFE_TEXT_MESSAGE);
      if (!ok)
        failures.push(
          `${attack.method.toUpperCase()} ${attack.url} (${attack.label}): ${answer.status} ${JSON.stringify(answer.body).slice(0, 160)}`,
        );
    }
    expect(failures).toEqual([]);
  });

  it('names a record key holding NUL, and refuses a cursor that decodes to such text', async () => {
    const api = client(world, group.admin.token);
    const key = await api.raw(
      'POST',
      '/api/v1/companies',
      JSON.stringify({ parentId: group.hq.id, name: 'Keyed', code: 'K1', 'x\u0000': 1 }),
      { 'content-type': 'application/json' },
    );
    expect(key.status).toBe(400);
    expect(key.body.errors).toEqual([{ field: 'body', message: UNSAFE_KEY_MESSAGE }]);
    // A cursor is base64url JSON the server issued; one made by hand must not carry NUL into SQL.
    for (const path of ['/api/v1/companies', '/api/v1/users', '/api/v1/seals', '/api/v1/notifications']) {
      for (const forged of ['a\u0000b', { name: 'a\u0000b', id: SAMPLE_UUID, createdAt: 'x\u0000' }]) {
        const cursor = Buffer.from(JSON.stringify(forged)).toString('base64url');
        const answer = await api.get(`${path}?cursor=${cursor}`);
        expect(answer.status, `${path} ${JSON.stringify(answer.body)}`).toBe(400);
        expect(answer.body.errors).toEqual([
          { field: 'querystring.cursor', message: 'is not a cursor this server issued' },
        ]);
      }
    }
  });
});

describe("the router's own errors are problem+json too", () => {
  it('answers a percent-escape that is not UTF-8 with 400 naming the URL', async () => {
    for (const url of ['/api/v1/companies/%zz', '/api/v1/companies/%ED%A0%80', '/pki/groups/%C0%80/crl']) {
      const answer = await client(world, group.admin.token).get(url);
      expect(answer.status, url).toBe(400);
      expect(String(answer.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({
        code: 'validation_failed',
        errors: [{ field: 'url', message: 'has a percent-escape that is not UTF-8 text' }],
      });
      expect(answer.headers['x-request-id']).toBeTruthy();
    }
  });

  it('answers a path parameter over 100 characters with 400 naming the URL', async () => {
    for (const url of [`/api/v1/companies/${'a'.repeat(101)}`, `/pki/groups/${'b'.repeat(150)}/crl`]) {
      const answer = await client(world, group.admin.token).get(url);
      expect(answer.status, url).toBe(400);
      expect(String(answer.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({
        code: 'validation_failed',
        errors: [{ field: 'url', message: 'has a path segment longer than 100 characters' }],
      });
    }
  });
});
