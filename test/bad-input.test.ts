import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/server/app.js';
import { buildGroup, client, createWorld, type GroupFixture, type World } from './support/world.js';

let world: World;
let group: GroupFixture;
beforeAll(async () => {
  world = await createWorld({ SIGIL_BODY_LIMIT_BYTES: '4096' });
  group = await buildGroup(world);
});
afterAll(() => world.close());

const isProblem = (answer: { headers: Record<string, unknown> }) =>
  String(answer.headers['content-type']).startsWith('application/problem+json');

describe('bad input gets a 4xx problem naming the field or reason, and writes nothing', () => {
  it('names an unknown field', async () => {
    const answer = await client(world, group.admin.token).post('/api/v1/companies', {
      parentId: group.hq.id,
      name: 'X',
      code: 'X1',
      colour: 'red',
    });
    expect(answer.status).toBe(400);
    expect(isProblem(answer)).toBe(true);
    expect(answer.body.code).toBe('validation_failed');
    expect(answer.body.errors).toEqual([{ field: 'body.colour', message: 'is not a known field' }]);
  });

  it('names wrong types and missing fields', async () => {
    const answer = await client(world, group.admin.token).post('/api/v1/users', {
      email: 'not-an-email',
      name: 42,
      companyId: group.hq.id,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      { field: 'body.email', message: 'must be an e-mail address' },
      { field: 'body.name', message: 'expected string, received number' },
      { field: 'body.password', message: 'is required' },
    ]);
  });

  it('refuses malformed JSON', async () => {
    const answer = await client(world, group.admin.token).raw('POST', '/api/v1/companies', '{"parentId": ', {
      'content-type': 'application/json',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('malformed_json');
  });

  it('refuses a body larger than the limit with 413', async () => {
    const answer = await client(world, group.admin.token).post('/api/v1/companies', {
      parentId: group.hq.id,
      name: 'x'.repeat(10_000),
      code: 'BIG',
    });
    expect(answer.status).toBe(413);
    expect(answer.body.code).toBe('payload_too_large');
  });

  it('refuses a body that is not JSON', async () => {
    const answer = await client(world, group.admin.token).raw('POST', '/api/v1/companies', 'name=x', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(answer.status).toBe(415);
    expect(answer.body.code).toBe('unsupported_media_type');
  });

  it('names an id that is not a UUID, and answers 404 for one that does not exist', async () => {
    const api = client(world, group.admin.token);
    const malformed = await api.get('/api/v1/companies/123');
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors).toEqual([{ field: 'params.companyId', message: 'must be a UUID' }]);
    const missing = await api.get('/api/v1/users/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('user_not_found');
  });

  it('names an unknown query parameter and a bad value', async () => {
    const answer = await client(world, group.admin.token).get('/api/v1/users?limit=0&sort=name');
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'querystring.limit',
      'querystring.sort',
    ]);
  });

  it('answers unknown routes with a problem, not an HTML page', async () => {
    const answer = await client(world, group.admin.token).get('/api/v1/nothing-here');
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('route_not_found');
  });

  it('answers 401 before looking at the body', async () => {
    const answer = await client(world).raw('POST', '/api/v1/companies', '{broken', {
      'content-type': 'application/json',
    });
    expect(answer.status).toBe(401);
  });

  it('leaves nothing half-written when a request fails', async () => {
    const before = await world.db.selectFrom('companies').select('id').execute();
    const events = () =>
      world.db.selectFrom('audit_events').select('action').where('group_id', '=', group.groupId).execute();
    const eventsBefore = await events();
    const api = client(world, group.admin.token);
    await api.post('/api/v1/companies', { parentId: group.hq.id, name: 'First', code: 'SAME' });
    await api.post('/api/v1/companies', { parentId: group.hq.id, name: 'Second', code: 'SAME' });
    const after = await world.db.selectFrom('companies').select('id').execute();
    expect(after.length).toBe(before.length + 1);
    expect((await events()).length).toBe(eventsBefore.length + 1);
  });

  it('hides internal failures behind a plain 500 that leaks nothing', async () => {
    const app = await buildApp(world.ctx, { logger: false });
    app.get('/api/v1/__explode', async () => {
      throw new Error('relation "secret_table" does not exist at /srv/sigil/src/x.ts:12');
    });
    const answer = await client({ ...world, app }, group.admin.token).get('/api/v1/__explode');
    await app.close();
    expect(answer.status).toBe(500);
    expect(answer.body.code).toBe('internal_error');
    expect(JSON.stringify(answer.body)).not.toMatch(/secret_table|\/srv|\.ts/);
    expect(answer.body.requestId).toBeTruthy();
  });
});
