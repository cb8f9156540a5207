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

let world: World;
let group: GroupFixture;
beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
});
afterAll(() => world.close());

describe('company tree', () => {
  it('builds a tree of any depth and lists it in tree order', async () => {
    const api = client(world, group.admin.token);
    const a = await api.post('/api/v1/companies', { parentId: group.hq.id, name: '华东公司', code: 'EAST' });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ parentId: group.hq.id, name: '华东公司', code: 'EAST', depth: 1, status: 'active' });
    let parent = a.body.id as string;
    for (let depth = 2; depth <= 6; depth++) {
      const child = await api.post('/api/v1/companies', {
        parentId: parent,
        name: `Level ${depth}`,
        code: `L${depth}`,
      });
      expect(child.body.depth).toBe(depth);
      parent = child.body.id;
    }
    const under = await api.get(`/api/v1/companies?under=${a.body.id}`);
    expect(under.body.items.map((c: { depth: number }) => c.depth)).toEqual([1, 2, 3, 4, 5, 6]);
    const children = await api.get(`/api/v1/companies?parentId=${group.hq.id}`);
    expect(children.body.items.map((c: { code: string }) => c.code)).toContain('EAST');
  });

  it('pages through companies with a cursor', async () => {
    const api = client(world, group.admin.token);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await api.get(
        `/api/v1/companies?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.items.map((c) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    const all = await api.get('/api/v1/companies?limit=1000');
    expect(seen).toEqual(all.body.items.map((c: { id: string }) => c.id));
    expect((await api.get('/api/v1/companies?cursor=!!!')).status).toBe(400);
  });

  it('refuses a duplicate code, naming it', async () => {
    const api = client(world, group.admin.token);
    await api.post('/api/v1/companies', { parentId: group.hq.id, name: 'One', code: 'DUP-1' });
    const again = await api.post('/api/v1/companies', { parentId: group.hq.id, name: 'Two', code: 'DUP-1' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('company_code_taken');
    expect(again.body.detail).toContain('DUP-1');
    expect(again.body.companyCode).toBe('DUP-1');
  });

  it('moves a subtree, and refuses to move a company under itself', async () => {
    const api = client(world, group.admin.token);
    const north = (await api.post('/api/v1/companies', { parentId: group.hq.id, name: 'North', code: 'NORTH' })).body;
    const city = (await api.post('/api/v1/companies', { parentId: north.id, name: 'City', code: 'CITY' })).body;
    const branch = (await api.post('/api/v1/companies', { parentId: city.id, name: 'Branch', code: 'BRANCH' })).body;
    const south = (await api.post('/api/v1/companies', { parentId: group.hq.id, name: 'South', code: 'SOUTH' })).body;
    const cycle = await api.patch(`/api/v1/companies/${north.id}`, { parentId: branch.id });
    expect(cycle.status).toBe(409);
    expect(cycle.body.code).toBe('company_move_cycle');
    const moved = await api.patch(`/api/v1/companies/${city.id}`, { parentId: south.id });
    expect(moved.status).toBe(200);
    expect(moved.body.parentId).toBe(south.id);
    const underSouth = await api.get(`/api/v1/companies?under=${south.id}`);
    expect(underSouth.body.items.map((c: { code: string; depth: number }) => [c.code, c.depth])).toEqual([
      ['SOUTH', 1],
      ['CITY', 2],
      ['BRANCH', 3],
    ]);
  });

  it('lets a subsidiary administrator manage only their own subtree', async () => {
    const sub = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Sub' });
    const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Sibling' });
    const subAdmin = await buildUser(world, {
      groupId: group.groupId,
      companyId: sub.id,
      roles: [{ role: 'system_admin' }],
    });
    const api = client(world, subAdmin.token);
    expect((await api.post('/api/v1/companies', { parentId: sub.id, name: 'Sub child', code: 'SUBC' })).status).toBe(
      201,
    );
    expect((await api.post('/api/v1/companies', { parentId: sibling.id, name: 'Nope', code: 'NOPE' })).status).toBe(
      404,
    );
    expect((await api.post('/api/v1/companies', { parentId: group.hq.id, name: 'Nope', code: 'NOPE' })).status).toBe(
      404,
    );
    const visible = await api.get('/api/v1/companies');
    expect(visible.body.items.map((c: { name: string }) => c.name)).toEqual(['Sub', 'Sub child']);
  });

  it('lets a seal administrator read but not change the organisation', async () => {
    const sealAdmin = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'seal_admin' }],
    });
    const api = client(world, sealAdmin.token);
    expect((await api.get('/api/v1/companies')).status).toBe(200);
    const refused = await api.post('/api/v1/companies', { parentId: group.hq.id, name: 'X', code: 'X' });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('org.write');
  });

  it('refuses an employee any organisation list', async () => {
    const employee = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'employee' }],
    });
    expect((await client(world, employee.token).get('/api/v1/users')).status).toBe(403);
    expect((await client(world, employee.token).get('/api/v1/me')).status).toBe(200);
  });
});

describe('departments and users', () => {
  it('creates a department with a head and users in it', async () => {
    const api = client(world, group.admin.token);
    const head = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Head Person' });
    const dept = await api.post('/api/v1/departments', { companyId: group.hq.id, name: '法务部', headUserId: head.id });
    expect(dept.status).toBe(201);
    expect(dept.body).toMatchObject({ name: '法务部', headUserId: head.id, headName: 'Head Person' });
    const user = await api.post('/api/v1/users', {
      email: 'New.Person@Example.test',
      name: '新人',
      companyId: group.hq.id,
      departmentId: dept.body.id,
      password: 'long enough password',
    });
    expect(user.status).toBe(201);
    expect(user.body).toMatchObject({
      email: 'new.person@example.test',
      departmentId: dept.body.id,
      status: 'active',
      posts: [],
      roles: [],
    });
    const dup = await api.post('/api/v1/users', {
      email: 'new.person@example.test',
      name: 'Again',
      companyId: group.hq.id,
      password: 'long enough password',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('email_taken');
    // The parameters a client words the problem with in its own language (the console's Chinese).
    expect(dup.body.email).toBe('new.person@example.test');
    const sameName = await api.post('/api/v1/departments', { companyId: group.hq.id, name: '法务部' });
    expect(sameName.body).toMatchObject({ code: 'department_name_taken', name: '法务部' });
  });

  it('refuses a department of another company', async () => {
    const api = client(world, group.admin.token);
    const other = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const dept = (await api.post('/api/v1/departments', { companyId: other.id, name: 'Ops' })).body;
    const answer = await api.post('/api/v1/users', {
      email: 'wrongdept@example.test',
      name: 'X',
      companyId: group.hq.id,
      departmentId: dept.id,
      password: 'long enough password',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ field: 'body.departmentId', message: 'belongs to another company' }]);
  });

  it('adds and removes an additional post in another company', async () => {
    const api = client(world, group.admin.token);
    const other = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const added = await api.post(`/api/v1/users/${user.id}/posts`, { companyId: other.id, title: '兼任法务' });
    expect(added.status).toBe(201);
    expect(added.body.posts).toHaveLength(1);
    const removed = await api.delete(`/api/v1/users/${user.id}/posts/${added.body.posts[0].id}`);
    expect(removed.body.posts).toEqual([]);
  });

  it('lists each user exactly as the user detail gives them (the list is serialised by the database)', async () => {
    const api = client(world, group.admin.token);
    const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const plain = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: '王"引号\\斜杠' });
    const locked = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Locked' });
    const suspended = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Suspended' });
    await world.db
      .updateTable('users')
      .set({ locked_until: new Date(world.clock.now().getTime() + 60_000), phone: '+86 138 0000 0000' })
      .where('id', '=', locked.id)
      .execute();
    expect(
      (await api.post(`/api/v1/users/${suspended.id}/status`, { status: 'suspended', reason: '调岗' })).status,
    ).toBe(200);

    const list = await api.get(`/api/v1/users?companyId=${company.id}`);
    expect(list.status).toBe(200);
    expect(String(list.headers['content-type'])).toMatch(/^application\/json/);
    expect(list.body.nextCursor).toBeNull();
    expect(list.body.items.map((u: { id: string }) => u.id)).toEqual([locked.id, suspended.id, plain.id]);
    for (const item of list.body.items) {
      const { posts: _posts, roles: _roles, ...detail } = (await api.get(`/api/v1/users/${item.id}`)).body;
      expect(item).toEqual(detail);
    }
    expect(list.body.items[0]).toMatchObject({ locked: true, phone: '+86 138 0000 0000' });
    expect(list.body.items[1].statusChangedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('filters and pages users by name', async () => {
    const api = client(world, group.admin.token);
    const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    // A name that looks like the start of an item must not confuse the cursor of the page it ends.
    for (const name of ['Carol', 'alice', 'Bob', 'Dave {"id":"x"}', 'Eve'])
      await buildUser(world, { groupId: group.groupId, companyId: company.id, name });
    const first = await api.get(`/api/v1/users?companyId=${company.id}&limit=2`);
    const second = await api.get(`/api/v1/users?companyId=${company.id}&limit=2&cursor=${first.body.nextCursor}`);
    const third = await api.get(`/api/v1/users?companyId=${company.id}&limit=2&cursor=${second.body.nextCursor}`);
    const names = [...first.body.items, ...second.body.items, ...third.body.items].map((u: { name: string }) => u.name);
    expect(names).toHaveLength(5);
    expect(new Set(names).size).toBe(5);
    const oneByOne: string[] = [];
    for (let cursor = '', i = 0; i < 6; i++) {
      const page = await api.get(`/api/v1/users?companyId=${company.id}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      oneByOne.push(...page.body.items.map((u: { name: string }) => u.name));
      if (!page.body.nextCursor) break;
      cursor = page.body.nextCursor;
    }
    expect(oneByOne).toEqual(names);
    const search = await api.get(`/api/v1/users?companyId=${company.id}&q=ar`);
    expect(search.body.items.map((u: { name: string }) => u.name)).toEqual(['Carol']);
  });
});

describe('user status', () => {
  it('marking a user resigned ends their sessions at once and is final', async () => {
    const api = client(world, group.admin.token);
    const user = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'employee' }],
    });
    expect((await client(world, user.token).get('/api/v1/me')).status).toBe(200);
    const resigned = await api.post(`/api/v1/users/${user.id}/status`, { status: 'resigned', reason: '个人原因' });
    expect(resigned.status).toBe(200);
    expect(resigned.body.status).toBe('resigned');
    expect((await client(world, user.token).get('/api/v1/me')).status).toBe(401);
    const live = await world.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toEqual([]);
    const back = await api.post(`/api/v1/users/${user.id}/status`, { status: 'active' });
    expect(back.status).toBe(409);
    expect(back.body.code).toBe('user_resigned');
    const event = await world.db
      .selectFrom('audit_events')
      .select('changes')
      .where('target_id', '=', user.id)
      .where('action', '=', 'user.status_changed')
      .executeTakeFirstOrThrow();
    expect(event.changes).toMatchObject({ from: 'active', to: 'resigned', reason: '个人原因', sessionsEnded: 1 });
  });

  it('suspension ends sessions; reactivation lets the person sign in again', async () => {
    const api = client(world, group.admin.token);
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    await api.post(`/api/v1/users/${user.id}/status`, { status: 'suspended' });
    expect((await client(world, user.token).get('/api/v1/me')).status).toBe(401);
    await api.post(`/api/v1/users/${user.id}/status`, { status: 'active' });
    expect(
      (await client(world).post('/api/v1/auth/sign-in', { email: user.email, password: user.password })).status,
    ).toBe(200);
  });

  it('an administrator cannot change their own status', async () => {
    const answer = await client(world, group.admin.token).post(`/api/v1/users/${group.admin.id}/status`, {
      status: 'suspended',
    });
    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('self_assignment_forbidden');
  });
});

describe('people directory', () => {
  it('lets any employee find active people of their company line, never a sibling company', async () => {
    const sub = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Line sub' });
    const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Line sibling' });
    const employee = await buildUser(world, { groupId: group.groupId, companyId: sub.id, name: 'Line Employee' });
    await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Line Boss' });
    await buildUser(world, { groupId: group.groupId, companyId: sibling.id, name: 'Line Stranger' });
    const found = await client(world, employee.token).get('/api/v1/people?q=Line');
    expect(found.status).toBe(200);
    expect(found.body.items.map((p: { name: string }) => p.name).sort()).toEqual(['Line Boss', 'Line Employee']);
  });
});
