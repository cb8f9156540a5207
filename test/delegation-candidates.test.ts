import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCompany,
  buildGroup,
  buildUser,
  client,
  createWorld,
  type GroupFixture,
  type World,
} from './support/world.js';

/**
 * Choosing a stand-in without the people directory: `GET /delegations/candidates` offers the
 * people `POST /delegations` would accept (active, of the asker's company line, not the asker),
 * by name or e-mail, to an approver who holds no org.read.
 */

let world: World;
let group: GroupFixture;
let other: GroupFixture;

beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
  other = await buildGroup(world);
});
afterAll(() => world.close());

let scenes = 0;

/** People named `Dora <where> <n>`, unique to this scene (people of earlier scenes sit in the same HQ). */
async function scene() {
  const n = ++scenes;
  const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Line Co.' });
  const below = await buildCompany(world, { groupId: group.groupId, parent: company, name: 'Below Co.' });
  const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Sibling Co.' });
  const approver = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    name: `Dora Approver ${n}`,
  });
  const colleague = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    name: `Dora Colleague ${n}`,
  });
  const downstream = await buildUser(world, { groupId: group.groupId, companyId: below.id, name: `Dora Below ${n}` });
  const upstream = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    name: `Dora Upstream ${n}`,
  });
  const aside = await buildUser(world, { groupId: group.groupId, companyId: sibling.id, name: `Dora Sibling ${n}` });
  const foreign = await buildUser(world, { groupId: other.groupId, companyId: other.hq.id, name: `Dora Foreign ${n}` });
  const suspended = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    name: `Dora Suspended ${n}`,
  });
  const suspend = await client(world, group.admin.token).post(`/api/v1/users/${suspended.id}/status`, {
    status: 'suspended',
  });
  expect(suspend.status).toBe(200);
  return { n, approver, colleague, downstream, upstream, aside, foreign, suspended };
}

const names = (body: { items: Array<{ name: string }> }) => body.items.map((p) => p.name).sort();

describe('GET /delegations/candidates', () => {
  it('answers 401 without a token', async () => {
    expect((await client(world).get('/api/v1/delegations/candidates')).status).toBe(401);
  });

  it('refuses a query out of range, naming the field', async () => {
    const s = await scene();
    const api = client(world, s.approver.token);
    const tooMany = await api.get('/api/v1/delegations/candidates?limit=51');
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify(tooMany.body)).toContain('limit');
    const tooLong = await api.get(`/api/v1/delegations/candidates?q=${'x'.repeat(101)}`);
    expect(tooLong.status).toBe(400);
    expect(JSON.stringify(tooLong.body)).toContain('q');
    const unknown = await api.get('/api/v1/delegations/candidates?companyId=x');
    expect(unknown.status).toBe(400);
  });

  it('offers an approver without the directory the active people of their company line, never themselves', async () => {
    const s = await scene();
    const api = client(world, s.approver.token);
    // The approver cannot search the directory…
    expect((await api.get('/api/v1/users?q=Dora')).status).toBe(403);
    // …but may choose a stand-in among those a delegation would accept.
    const found = await api.get('/api/v1/delegations/candidates?q=Dora&limit=50');
    expect(found.status).toBe(200);
    const mine = names(found.body).filter((name) => name.endsWith(` ${s.n}`));
    expect(mine).toEqual([`Dora Below ${s.n}`, `Dora Colleague ${s.n}`, `Dora Upstream ${s.n}`]);
    expect(Object.keys(found.body.items[0]).sort()).toEqual(['companyId', 'companyName', 'id', 'name']);
    const byEmail = await api.get(`/api/v1/delegations/candidates?q=${encodeURIComponent(s.colleague.email)}`);
    expect(names(byEmail.body)).toEqual([`Dora Colleague ${s.n}`]);
  });

  it('offers nobody a delegation would refuse: each one left out is refused when named directly', async () => {
    const s = await scene();
    const api = client(world, s.approver.token);
    const offered = new Set(
      ((await api.get('/api/v1/delegations/candidates?q=Dora&limit=50')).body.items as Array<{ id: string }>).map(
        (p) => p.id,
      ),
    );
    const range = { startsAt: '2026-01-01T00:00:00Z', endsAt: '2036-01-01T00:00:00Z' };
    for (const person of [s.aside, s.foreign, s.suspended, s.approver]) {
      expect(offered.has(person.id)).toBe(false);
      const tried = await api.post('/api/v1/delegations', { delegateId: person.id, ...range });
      expect([400, 404]).toContain(tried.status);
    }
    for (const person of [s.colleague, s.downstream, s.upstream]) {
      expect(offered.has(person.id)).toBe(true);
      const made = await api.post('/api/v1/delegations', { delegateId: person.id, ...range });
      expect(made.status).toBe(201);
    }
  });

  it('treats the search text as text, not as a pattern', async () => {
    const s = await scene();
    const api = client(world, s.approver.token);
    const wildcard = await api.get('/api/v1/delegations/candidates?q=%25');
    expect(wildcard.status).toBe(200);
    expect(wildcard.body.items).toEqual([]);
  });
});
