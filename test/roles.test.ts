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

describe('separation of duties', () => {
  it('refuses a seal administrator the system administrator role, naming both roles', async () => {
    const api = client(world, group.admin.token);
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    expect(
      (await api.post('/api/v1/role-assignments', { userId: user.id, role: 'seal_admin', companyId: group.hq.id }))
        .status,
    ).toBe(201);
    const refused = await api.post('/api/v1/role-assignments', {
      userId: user.id,
      role: 'system_admin',
      companyId: group.hq.id,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('sod_conflict');
    expect(refused.body.roles).toEqual(['seal_admin', 'system_admin']);
    expect(refused.body.detail).toContain('seal_admin');
    expect(refused.body.detail).toContain('system_admin');
    const held = await api.get(`/api/v1/role-assignments?userId=${user.id}`);
    expect(held.body.items.map((a: { role: string }) => a.role)).toEqual(['seal_admin']);
  });

  it('holds across companies: an auditor of one subsidiary cannot keep seals in another', async () => {
    const api = client(world, group.admin.token);
    const a = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const b = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const user = await buildUser(world, { groupId: group.groupId, companyId: a.id });
    expect(
      (await api.post('/api/v1/role-assignments', { userId: user.id, role: 'security_auditor', companyId: a.id }))
        .status,
    ).toBe(201);
    const refused = await api.post('/api/v1/role-assignments', {
      userId: user.id,
      role: 'seal_admin',
      companyId: b.id,
    });
    expect(refused.body.code).toBe('sod_conflict');
    expect(refused.body.roles).toEqual(['security_auditor', 'seal_admin']);
  });

  it('lets the employee role go with any administrative role', async () => {
    const api = client(world, group.admin.token);
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    expect(
      (await api.post('/api/v1/role-assignments', { userId: user.id, role: 'employee', companyId: group.hq.id }))
        .status,
    ).toBe(201);
    expect(
      (
        await api.post('/api/v1/role-assignments', {
          userId: user.id,
          role: 'security_auditor',
          companyId: group.hq.id,
        })
      ).status,
    ).toBe(201);
    const again = await api.post('/api/v1/role-assignments', {
      userId: user.id,
      role: 'employee',
      companyId: group.hq.id,
    });
    expect(again.body.code).toBe('role_already_assigned');
  });

  it('of twenty simultaneous conflicting assignments, lets exactly one through', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const admins = await Promise.all(
      Array.from({ length: 2 }, () =>
        buildUser(world, { groupId: group.groupId, companyId: group.hq.id, roles: [{ role: 'system_admin' }] }),
      ),
    );
    const roles = ['system_admin', 'seal_admin', 'security_auditor'] as const;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client(world, admins[i % 2]!.token).post('/api/v1/role-assignments', {
          userId: user.id,
          role: roles[i % 3],
          companyId: group.hq.id,
        }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.every((a) => a.status === 201 || a.status === 409)).toBe(true);
    const held = await world.db.selectFrom('role_assignments').select('role').where('user_id', '=', user.id).execute();
    expect(held).toHaveLength(1);
  });

  it('follows a changed matrix: a group may allow a pair once a security auditor approves, and only a head-company system administrator may propose it', async () => {
    const api = client(world, group.admin.token);
    const sub = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const subAdmin = await buildUser(world, {
      groupId: group.groupId,
      companyId: sub.id,
      roles: [{ role: 'system_admin' }],
    });
    const auditor = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'security_auditor' }],
    });
    const propose = (token: string, pairs: unknown) =>
      client(world, token).post('/api/v1/settings/separation-of-duties/proposals', { pairs, reason: 'office plan' });
    const approve = async (applicationId: string) => {
      const task = (await client(world, auditor.token).get('/api/v1/tasks?status=pending')).body.items.find(
        (t: { applicationId: string }) => t.applicationId === applicationId,
      );
      return client(world, auditor.token).post(`/api/v1/tasks/${task.id}/approve`, {});
    };
    expect((await propose(subAdmin.token, [])).status).toBe(403);

    const current = (await api.get('/api/v1/settings/separation-of-duties')).body.pairs;
    expect(current).toHaveLength(3);
    const relaxed = current.filter((p: string[]) => !(p.includes('seal_admin') && p.includes('security_auditor')));
    const proposed = await propose(group.admin.token, relaxed);
    expect(proposed.status).toBe(201);
    expect((await api.get('/api/v1/settings/separation-of-duties')).body.pairs).toHaveLength(3);
    expect((await approve(proposed.body.id)).status).toBe(200);
    expect((await api.get('/api/v1/settings/separation-of-duties')).body.pairs).toHaveLength(2);
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    await api.post('/api/v1/role-assignments', { userId: user.id, role: 'seal_admin', companyId: group.hq.id });
    const second = await api.post('/api/v1/role-assignments', {
      userId: user.id,
      role: 'security_auditor',
      companyId: group.hq.id,
    });
    expect(second.status).toBe(201);
    // The matrix comes back only once nobody holds the pair it keeps apart.
    const early = await propose(group.admin.token, current);
    expect(early.status).toBe(409);
    expect(early.body.conflicts).toEqual([
      { userId: user.id, userName: expect.any(String), roles: ['seal_admin', 'security_auditor'] },
    ]);
    expect((await api.delete(`/api/v1/role-assignments/${second.body.id}`)).status).toBe(200);
    const restored = await propose(group.admin.token, current);
    expect((await approve(restored.body.id)).status).toBe(200);
    expect((await api.get('/api/v1/settings/separation-of-duties')).body.pairs).toEqual(current);
    const event = await world.db
      .selectFrom('audit_events')
      .select('changes')
      .where('action', '=', 'group.sod_matrix_changed')
      .orderBy('seq')
      .executeTakeFirstOrThrow();
    expect(event.changes).toMatchObject({ to: relaxed });
  });

  it('refuses to let anyone assign or revoke their own roles', async () => {
    const api = client(world, group.admin.token);
    const self = await api.post('/api/v1/role-assignments', {
      userId: group.admin.id,
      role: 'employee',
      companyId: group.hq.id,
    });
    expect(self.status).toBe(403);
    expect(self.body.code).toBe('self_assignment_forbidden');
    const mine = (await api.get(`/api/v1/role-assignments?userId=${group.admin.id}`)).body.items[0];
    expect((await api.delete(`/api/v1/role-assignments/${mine.id}`)).body.code).toBe('self_assignment_forbidden');
  });

  it('revokes a role, and the permission goes with it at the next request', async () => {
    const api = client(world, group.admin.token);
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const assignment = (
      await api.post('/api/v1/role-assignments', { userId: user.id, role: 'security_auditor', companyId: group.hq.id })
    ).body;
    expect((await client(world, user.token).get('/api/v1/audit-events')).status).toBe(200);
    expect((await api.delete(`/api/v1/role-assignments/${assignment.id}`)).status).toBe(200);
    expect((await client(world, user.token).get('/api/v1/audit-events')).status).toBe(403);
  });

  it('refuses roles for a resigned person', async () => {
    const api = client(world, group.admin.token);
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    await api.post(`/api/v1/users/${user.id}/status`, { status: 'resigned' });
    const answer = await api.post('/api/v1/role-assignments', {
      userId: user.id,
      role: 'employee',
      companyId: group.hq.id,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ field: 'body.userId', message: 'user is resigned' }]);
  });
});
