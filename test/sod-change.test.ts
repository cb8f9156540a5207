// Separation of duties that one administrator cannot dissolve: a change to the matrix is proposed
// by a head-company system administrator and takes effect only when a security auditor of the
// group approves it; a change that would leave a conflicting assignment standing is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCompany, buildGroup, buildUser, client, createWorld, type World } from './support/world.js';

type User = Awaited<ReturnType<typeof buildUser>>;

let world: World;

beforeAll(async () => {
  world = await createWorld();
});
afterAll(() => world.close());

/** A group with its first administrator, a second head-company administrator and a group security auditor. */
async function tenant() {
  const group = await buildGroup(world);
  const auditor = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'security_auditor' }],
    name: 'Group auditor',
  });
  const secondAdmin = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'system_admin' }],
    name: 'Second admin',
  });
  return { group, auditor, secondAdmin, admin: client(world, group.admin.token) };
}

const relaxed = (pairs: string[][]) =>
  pairs.filter((p) => !(p.includes('seal_admin') && p.includes('security_auditor')));

async function taskOf(user: User, applicationId: string): Promise<string> {
  const inbox = await client(world, user.token).get('/api/v1/tasks?status=pending');
  const task = inbox.body.items.find((t: { applicationId: string }) => t.applicationId === applicationId);
  expect(task, 'a pending task in the inbox').toBeDefined();
  return task.id;
}

async function rolesOf(userId: string) {
  const rows = await world.db.selectFrom('role_assignments').select('role').where('user_id', '=', userId).execute();
  return rows.map((r) => r.role).sort();
}

describe('a change to the separation-of-duties matrix', () => {
  it('cannot be made by one administrator alone: emptying the matrix leaves it in force, and a new account gets one duty', async () => {
    const t = await tenant();
    const before = (await t.admin.get('/api/v1/settings/separation-of-duties')).body.pairs;
    expect(before).toHaveLength(3);
    // The attack: empty the matrix, then give one new account all three duties.
    expect((await t.admin.put('/api/v1/settings/separation-of-duties', { pairs: [] })).status).toBe(404);
    const proposed = await t.admin.post('/api/v1/settings/separation-of-duties/proposals', {
      pairs: [],
      reason: 'restructuring',
    });
    expect(proposed.status).toBe(201);
    expect(proposed.body).toMatchObject({ purpose: 'sod_change', status: 'pending', payload: { pairs: [] } });
    const now = (await t.admin.get('/api/v1/settings/separation-of-duties')).body;
    expect(now.pairs).toEqual(before);
    expect(now.pending).toMatchObject({
      applicationId: proposed.body.id,
      pairs: [],
      proposedBy: { id: t.group.admin.id },
    });

    // The auditor who decides it sees it waiting; an employee sees the matrix in force only.
    expect(
      (await client(world, t.auditor.token).get('/api/v1/settings/separation-of-duties')).body.pending,
    ).toMatchObject({ applicationId: proposed.body.id });
    const employee = await buildUser(world, {
      groupId: t.group.groupId,
      companyId: t.group.hq.id,
      roles: [{ role: 'employee' }],
    });
    expect((await client(world, employee.token).get('/api/v1/settings/separation-of-duties')).body).toEqual({
      pairs: before,
      pending: null,
    });

    const account = await buildUser(world, { groupId: t.group.groupId, companyId: t.group.hq.id });
    const give = (role: string) =>
      t.admin.post('/api/v1/role-assignments', { userId: account.id, role, companyId: t.group.hq.id });
    expect((await give('system_admin')).status).toBe(201);
    expect((await give('seal_admin')).body.code).toBe('sod_conflict');
    expect((await give('security_auditor')).body.code).toBe('sod_conflict');
    expect(await rolesOf(account.id)).toEqual(['system_admin']);
  });

  it('takes effect when a security auditor of the group approves it, and is recorded', async () => {
    const t = await tenant();
    const before = (await t.admin.get('/api/v1/settings/separation-of-duties')).body.pairs;
    const proposed = (
      await t.admin.post('/api/v1/settings/separation-of-duties/proposals', {
        pairs: relaxed(before),
        reason: 'The small office needs its seal keeper to audit',
      })
    ).body;
    expect(proposed.plan.levels).toEqual([
      expect.objectContaining({ approvers: [{ id: t.auditor.id, name: 'Group auditor' }] }),
    ]);
    // The proposer has no task; another administrator has none either.
    expect((await client(world, t.group.admin.token).get('/api/v1/tasks?status=pending')).body.items).toEqual([]);
    expect((await client(world, t.secondAdmin.token).get('/api/v1/tasks?status=pending')).body.items).toEqual([]);
    const approved = await client(world, t.auditor.token).post(
      `/api/v1/tasks/${await taskOf(t.auditor, proposed.id)}/approve`,
      { comment: 'Reviewed the office plan' },
    );
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('approved');
    const after = (await t.admin.get('/api/v1/settings/separation-of-duties')).body;
    expect(after).toEqual({ pairs: relaxed(before), pending: null });
    const event = await world.db
      .selectFrom('audit_events')
      .select(['changes', 'actor_id'])
      .where('group_id', '=', t.group.groupId)
      .where('action', '=', 'group.sod_matrix_changed')
      .executeTakeFirstOrThrow();
    expect(event).toMatchObject({ actor_id: t.auditor.id, changes: { from: before, to: relaxed(before) } });
    const submitted = await world.db
      .selectFrom('audit_events')
      .select('actor_id')
      .where('target_id', '=', proposed.id)
      .where('action', '=', 'application.submitted')
      .executeTakeFirstOrThrow();
    expect(submitted.actor_id).toBe(t.group.admin.id);
  });

  it('is decided by a security auditor only: not transferred to an administrator, not by a delegate, not by one who lost the role', async () => {
    const t = await tenant();
    const now = world.clock.now();
    // The auditor is away and lets the second administrator stand in.
    expect(
      (
        await client(world, t.auditor.token).post('/api/v1/delegations', {
          delegateId: t.secondAdmin.id,
          startsAt: new Date(now.getTime() - 60_000).toISOString(),
          endsAt: new Date(now.getTime() + 86_400_000).toISOString(),
        })
      ).status,
    ).toBe(201);
    const before = (await t.admin.get('/api/v1/settings/separation-of-duties')).body.pairs;
    const proposed = (
      await t.admin.post('/api/v1/settings/separation-of-duties/proposals', { pairs: relaxed(before), reason: 'x' })
    ).body;
    expect(proposed.tasks).toEqual([expect.objectContaining({ assigneeId: t.auditor.id, onBehalfOf: null })]);
    const taskId = await taskOf(t.auditor, proposed.id);
    const handed = await client(world, t.auditor.token).post(`/api/v1/tasks/${taskId}/transfer`, {
      toUserId: t.secondAdmin.id,
    });
    expect(handed.status).toBe(400);
    expect(handed.body.errors[0]).toEqual({
      field: 'body.toUserId',
      message: 'Second admin does not hold security_auditor over the company this level requires',
    });
    const offered = await client(world, t.auditor.token).get(`/api/v1/tasks/${taskId}/transfer-candidates`);
    expect(offered.body.items).toEqual([]);
    // The auditor loses the role before deciding: the task is no longer theirs to decide.
    const assignment = (await t.admin.get(`/api/v1/role-assignments?userId=${t.auditor.id}&role=security_auditor`)).body
      .items[0];
    expect((await t.admin.delete(`/api/v1/role-assignments/${assignment.id}`)).status).toBe(200);
    const late = await client(world, t.auditor.token).post(`/api/v1/tasks/${taskId}/approve`, {});
    expect(late.status).toBe(403);
    expect(late.body.code).toBe('forbidden');
    expect((await t.admin.get('/api/v1/settings/separation-of-duties')).body.pairs).toEqual(before);
  });

  it('refuses a change that would leave a conflicting assignment standing, naming the accounts and pairs', async () => {
    const t = await tenant();
    const before = (await t.admin.get('/api/v1/settings/separation-of-duties')).body.pairs;
    const relax = (
      await t.admin.post('/api/v1/settings/separation-of-duties/proposals', { pairs: relaxed(before), reason: 'x' })
    ).body;
    await client(world, t.auditor.token).post(`/api/v1/tasks/${await taskOf(t.auditor, relax.id)}/approve`, {});
    const keeper = await buildUser(world, { groupId: t.group.groupId, companyId: t.group.hq.id, name: 'Keeper' });
    for (const role of ['seal_admin', 'security_auditor'])
      expect(
        (await t.admin.post('/api/v1/role-assignments', { userId: keeper.id, role, companyId: t.group.hq.id })).status,
      ).toBe(201);

    // Restoring the matrix while Keeper holds both duties: refused when proposed…
    const restore = await t.admin.post('/api/v1/settings/separation-of-duties/proposals', {
      pairs: before,
      reason: 'restore',
    });
    expect(restore.status).toBe(409);
    expect(restore.body).toMatchObject({
      code: 'sod_conflict',
      conflicts: [{ userId: keeper.id, userName: 'Keeper', roles: ['seal_admin', 'security_auditor'] }],
    });
    expect(restore.body.detail).toContain('Keeper');

    // …and when approved, for a conflict that arose while the proposal waited.
    const keeperRoles = (await t.admin.get(`/api/v1/role-assignments?userId=${keeper.id}`)).body.items;
    for (const a of keeperRoles.filter((r: { role: string }) => r.role === 'security_auditor'))
      await t.admin.delete(`/api/v1/role-assignments/${a.id}`);
    const proposal = await t.admin.post('/api/v1/settings/separation-of-duties/proposals', {
      pairs: before,
      reason: 'restore',
    });
    expect(proposal.status).toBe(201);
    const late = await buildUser(world, { groupId: t.group.groupId, companyId: t.group.hq.id, name: 'Latecomer' });
    for (const role of ['seal_admin', 'security_auditor'])
      await t.admin.post('/api/v1/role-assignments', { userId: late.id, role, companyId: t.group.hq.id });
    const answer = await client(world, t.auditor.token).post(
      `/api/v1/tasks/${await taskOf(t.auditor, proposal.body.id)}/approve`,
      {},
    );
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({
      code: 'sod_conflict',
      conflicts: [{ userId: late.id, userName: 'Latecomer', roles: ['seal_admin', 'security_auditor'] }],
    });
    expect((await t.admin.get('/api/v1/settings/separation-of-duties')).body.pairs).toEqual(relaxed(before));
    const still = await client(world, t.group.admin.token).get(`/api/v1/applications/${proposal.body.id}`);
    expect(still.body.status).toBe('pending');
  });

  it('waits one at a time, is refused to anyone but a head-company system administrator, and needs an auditor to exist', async () => {
    const t = await tenant();
    const before = (await t.admin.get('/api/v1/settings/separation-of-duties')).body.pairs;
    expect(
      (await t.admin.post('/api/v1/settings/separation-of-duties/proposals', { pairs: [], reason: 'x' })).status,
    ).toBe(201);
    const second = await client(world, t.secondAdmin.token).post('/api/v1/settings/separation-of-duties/proposals', {
      pairs: relaxed(before),
      reason: 'y',
    });
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('sod_change_pending');

    const sub = await buildCompany(world, { groupId: t.group.groupId, parent: t.group.hq });
    const subAdmin = await buildUser(world, {
      groupId: t.group.groupId,
      companyId: sub.id,
      roles: [{ role: 'system_admin' }],
    });
    for (const token of [subAdmin.token, t.auditor.token])
      expect(
        (await client(world, token).post('/api/v1/settings/separation-of-duties/proposals', { pairs: [], reason: 'x' }))
          .status,
      ).toBe(403);

    const lonely = await buildGroup(world);
    const none = await client(world, lonely.admin.token).post('/api/v1/settings/separation-of-duties/proposals', {
      pairs: [],
      reason: 'x',
    });
    expect(none.status).toBe(409);
    expect(none.body.code).toBe('approver_unresolvable');
  });

  it('names the field of a bad proposal', async () => {
    const t = await tenant();
    const bad = await t.admin.post('/api/v1/settings/separation-of-duties/proposals', {
      pairs: [['system_admin', 'janitor']],
      reason: 'x',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('body.pairs.0.1');
    const noReason = await t.admin.post('/api/v1/settings/separation-of-duties/proposals', { pairs: [] });
    expect(noReason.body.errors).toEqual([{ field: 'body.reason', message: 'is required' }]);
    const before = (await t.admin.get('/api/v1/settings/separation-of-duties')).body.pairs;
    const same = await t.admin.post('/api/v1/settings/separation-of-duties/proposals', {
      pairs: [...before].reverse().map((p: string[]) => [...p].reverse()),
      reason: 'x',
    });
    expect(same.status).toBe(400);
    expect(same.body.errors).toEqual([{ field: 'body.pairs', message: 'is the matrix already in force' }]);
  });
});
