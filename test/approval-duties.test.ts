// Attacks on the approval rules that keep two-person control: one person decides at most one
// level (unless the flow says otherwise), nobody decides their own application, a transfer or a
// delegation cannot hand a later level to whoever decided an earlier one, and outsiders learn
// nothing about tasks they cannot see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/lib/ids.js';
import {
  buildCompany,
  buildGroup,
  buildSeal,
  buildUser,
  client,
  createWorld,
  type GroupFixture,
  type World,
} from './support/world.js';

type User = Awaited<ReturnType<typeof buildUser>>;

let world: World;
let group: GroupFixture;
let sealAdmin: User;

beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
  sealAdmin = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Seal Admin',
  });
});
afterAll(() => world.close());

/** A company with a department head, an applicant granted a seal kept by a custodian, and a flow (two levels by default). */
async function scene(options: { flowLevels?: unknown[]; allowSameApproverAcrossLevels?: boolean } = {}) {
  const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
  const head = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Head' });
  const dept = (
    await client(world, group.admin.token).post('/api/v1/departments', {
      companyId: company.id,
      name: 'Sales',
      headUserId: head.id,
    })
  ).body;
  const applicant = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    departmentId: dept.id,
    name: 'Applicant',
  });
  const custodian = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Custodian',
  });
  const seal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: company.id,
    custodianIds: [custodian.id],
    kind: 'physical',
  });
  const api = client(world, sealAdmin.token);
  expect(
    (
      await api.post(`/api/v1/seals/${seal.id}/grants`, {
        grantee: { type: 'user', userId: applicant.id },
        categories: ['sales'],
      })
    ).status,
  ).toBe(201);
  const flow = await api.post('/api/v1/flows', {
    companyId: company.id,
    category: 'sales',
    name: 'Sales seal use',
    definition: {
      levels: options.flowLevels ?? [
        { name: 'Head', mode: 'any', approvers: [{ type: 'department_head' }] },
        { name: 'Keeper', mode: 'any', approvers: [{ type: 'custodian' }] },
      ],
      ...(options.allowSameApproverAcrossLevels !== undefined
        ? { allowSameApproverAcrossLevels: options.allowSameApproverAcrossLevels }
        : {}),
    },
  });
  expect(flow.status).toBe(201);
  return { company, head, applicant, custodian, seal, dept, flow: flow.body };
}

const apply = (user: User, sealId: string, extra: Record<string, unknown> = {}) =>
  client(world, user.token).post('/api/v1/applications', {
    sealIds: [sealId],
    category: 'sales',
    reason: '销售合同用印',
    uses: 2,
    ...extra,
  });

async function pendingTask(user: User, applicationId: string): Promise<string> {
  const inbox = await client(world, user.token).get('/api/v1/tasks?status=pending');
  const task = inbox.body.items.find((t: { applicationId: string }) => t.applicationId === applicationId);
  expect(task, 'a pending task in the inbox').toBeDefined();
  return task.id;
}

const authorizationsOf = (applicationId: string) =>
  world.db.selectFrom('authorizations').select('id').where('application_id', '=', applicationId).execute();

describe('one person decides at most one level', () => {
  it('refuses to transfer a later level to the person who approved an earlier one', async () => {
    const s = await scene();
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    await client(world, s.head.token).post(`/api/v1/tasks/${await pendingTask(s.head, submitted.id)}/approve`, {});
    const keeperTask = await pendingTask(s.custodian, submitted.id);
    const handed = await client(world, s.custodian.token).post(`/api/v1/tasks/${keeperTask}/transfer`, {
      toUserId: s.head.id,
    });
    expect(handed.status).toBe(400);
    expect(handed.body.code).toBe('validation_failed');
    expect(handed.body.errors).toEqual([
      {
        field: 'body.toUserId',
        message: 'Head decided level 1 (Head) of this application; one person decides one level',
      },
    ]);
    expect(await authorizationsOf(submitted.id)).toEqual([]);
    // The keeper still holds the task and decides it.
    expect((await client(world, s.custodian.token).post(`/api/v1/tasks/${keeperTask}/approve`)).body.status).toBe(
      'approved',
    );
  });

  it('refuses a transfer within an all-of level to someone who already holds a task there', async () => {
    const other = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Other' });
    const s = await scene({
      flowLevels: [
        { name: 'Both', mode: 'all', approvers: [{ type: 'department_head' }, { type: 'user', userId: other.id }] },
      ],
    });
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const handed = await client(world, s.head.token).post(
      `/api/v1/tasks/${await pendingTask(s.head, submitted.id)}/transfer`,
      { toUserId: other.id },
    );
    expect(handed.status).toBe(400);
    expect(handed.body.errors[0]).toEqual({
      field: 'body.toUserId',
      message: 'Other already holds a task at level 1 (Both) of this application',
    });
  });

  it('does not let a delegate stand in at a later level for someone when they decided an earlier one', async () => {
    const s = await scene();
    const now = world.clock.now();
    // The keeper is away and lets the department head stand in: the head would then approve both levels.
    expect(
      (
        await client(world, s.custodian.token).post('/api/v1/delegations', {
          delegateId: s.head.id,
          startsAt: new Date(now.getTime() - 60_000).toISOString(),
          endsAt: new Date(now.getTime() + 86_400_000).toISOString(),
        })
      ).status,
    ).toBe(201);
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const approved = await client(world, s.head.token).post(
      `/api/v1/tasks/${await pendingTask(s.head, submitted.id)}/approve`,
      {},
    );
    expect(approved.status).toBe(200);
    expect(approved.body.tasks.find((t: { level: number }) => t.level === 1)).toMatchObject({
      assigneeId: s.custodian.id,
      onBehalfOf: null,
      via: null,
      status: 'pending',
    });
    const again = await client(world, s.head.token).get('/api/v1/tasks?status=pending');
    expect(again.body.items.filter((t: { applicationId: string }) => t.applicationId === submitted.id)).toEqual([]);
  });

  it('refuses an approval by someone who decided another level, even when a task reached them some other way', async () => {
    const s = await scene();
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    await client(world, s.head.token).post(`/api/v1/tasks/${await pendingTask(s.head, submitted.id)}/approve`, {});
    // A task for the head at level 2, written by hand as if it had slipped past every other guard.
    const slipped = newId();
    await world.db
      .insertInto('approval_tasks')
      .values({
        id: slipped,
        group_id: group.groupId,
        application_id: submitted.id,
        level: 1,
        assignee_id: s.head.id,
        on_behalf_of: null,
        via: null,
        status: 'pending',
        comment: null,
        decided_at: null,
        remind_at: null,
        reminded_at: null,
      })
      .execute();
    const answer = await client(world, s.head.token).post(`/api/v1/tasks/${slipped}/approve`, {});
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ code: 'approver_already_decided', decidedLevel: 0 });
    const rejected = await client(world, s.head.token).post(`/api/v1/tasks/${slipped}/reject`, { reason: 'x' });
    expect(rejected.body.code).toBe('approver_already_decided');
    expect(await authorizationsOf(submitted.id)).toEqual([]);
  });

  it('refuses an approval of an application by its own applicant, even through a task written by hand', async () => {
    const s = await scene();
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const own = newId();
    await world.db
      .insertInto('approval_tasks')
      .values({
        id: own,
        group_id: group.groupId,
        application_id: submitted.id,
        level: 0,
        assignee_id: s.applicant.id,
        on_behalf_of: null,
        via: null,
        status: 'pending',
        comment: null,
        decided_at: null,
        remind_at: null,
        reminded_at: null,
      })
      .execute();
    const answer = await client(world, s.applicant.token).post(`/api/v1/tasks/${own}/approve`, {});
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ code: 'sod_conflict', roles: ['applicant', 'approver'] });
    expect(answer.body.detail).toContain('your own application');
  });

  it('names each person at one level of the plan: the head who also keeps the seal approves once, another keeper the level after', async () => {
    const s = await scene();
    const second = await buildUser(world, {
      groupId: group.groupId,
      companyId: s.company.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Second keeper',
    });
    await world.db
      .insertInto('seal_custodians')
      .values([
        { group_id: group.groupId, seal_id: s.seal.id, user_id: s.head.id },
        { group_id: group.groupId, seal_id: s.seal.id, user_id: second.id },
      ])
      .execute();
    const preview = await client(world, s.applicant.token).post('/api/v1/applications/preview', {
      sealIds: [s.seal.id],
      category: 'sales',
      uses: 1,
    });
    expect(preview.status).toBe(200);
    expect(
      preview.body.levels.map((l: { approvers: Array<{ name: string }> }) => l.approvers.map((a) => a.name).sort()),
    ).toEqual([['Head'], ['Custodian', 'Second keeper']]);
  });

  it('refuses a flow whose only approver of two levels is one person, unless the flow explicitly allows it', async () => {
    const boss = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Boss' });
    const levels = [
      { name: 'First', mode: 'any', approvers: [{ type: 'user', userId: boss.id }] },
      { name: 'Second', mode: 'any', approvers: [{ type: 'user', userId: boss.id }] },
    ];
    const strict = await scene({ flowLevels: levels });
    expect(strict.flow.definition.allowSameApproverAcrossLevels).toBe(false);
    const refused = await apply(strict.applicant, strict.seal.id);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'approver_unresolvable', level: 'Second' });

    const lenient = await scene({ flowLevels: levels, allowSameApproverAcrossLevels: true });
    expect(lenient.flow.definition.allowSameApproverAcrossLevels).toBe(true);
    const submitted = (await apply(lenient.applicant, lenient.seal.id)).body;
    await client(world, boss.token).post(`/api/v1/tasks/${await pendingTask(boss, submitted.id)}/approve`, {});
    const done = await client(world, boss.token).post(
      `/api/v1/tasks/${await pendingTask(boss, submitted.id)}/approve`,
      {},
    );
    expect(done.body.status).toBe('approved');
  });

  it('keeps the option with the flow version: an application started under the strict version stays strict', async () => {
    const boss = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Boss' });
    const deputy = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Deputy' });
    const s = await scene({
      flowLevels: [
        { name: 'First', mode: 'any', approvers: [{ type: 'user', userId: boss.id }] },
        { name: 'Second', mode: 'any', approvers: [{ type: 'user', userId: deputy.id }] },
      ],
    });
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const changed = await client(world, sealAdmin.token).put(`/api/v1/flows/${s.flow.id}`, {
      definition: { ...s.flow.definition, allowSameApproverAcrossLevels: true },
    });
    expect(changed.body).toMatchObject({ version: 2, definition: { allowSameApproverAcrossLevels: true } });
    await client(world, boss.token).post(`/api/v1/tasks/${await pendingTask(boss, submitted.id)}/approve`, {});
    const handed = await client(world, deputy.token).post(
      `/api/v1/tasks/${await pendingTask(deputy, submitted.id)}/transfer`,
      { toUserId: boss.id },
    );
    expect(handed.status).toBe(400);
  });
});

describe('transfer candidates', () => {
  it('offers only people who may take the task: not the applicant, not the holder, not whoever decided another level', async () => {
    const s = await scene();
    const deputy = await buildUser(world, { groupId: group.groupId, companyId: s.company.id, name: 'Deputy keeper' });
    const resigned = await buildUser(world, { groupId: group.groupId, companyId: s.company.id, name: 'Gone keeper' });
    await client(world, group.admin.token).post(`/api/v1/users/${resigned.id}/status`, { status: 'resigned' });
    const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    await buildUser(world, { groupId: group.groupId, companyId: sibling.id, name: 'Sibling keeper' });
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    await client(world, s.head.token).post(`/api/v1/tasks/${await pendingTask(s.head, submitted.id)}/approve`, {});
    const taskId = await pendingTask(s.custodian, submitted.id);
    const offered = await client(world, s.custodian.token).get(`/api/v1/tasks/${taskId}/transfer-candidates`);
    expect(offered.status).toBe(200);
    const names = offered.body.items.map((p: { name: string }) => p.name);
    expect(names).toContain('Deputy keeper');
    expect(names).toContain('Admin');
    for (const excluded of ['Applicant', 'Custodian', 'Head', 'Gone keeper', 'Sibling keeper'])
      expect(names).not.toContain(excluded);
    const searched = await client(world, s.custodian.token).get(
      `/api/v1/tasks/${taskId}/transfer-candidates?q=deputy%20keeper`,
    );
    expect(searched.body.items.map((p: { id: string }) => p.id)).toEqual([deputy.id]);
    // Every candidate offered is taken by a transfer.
    expect(
      (await client(world, s.custodian.token).post(`/api/v1/tasks/${taskId}/transfer`, { toUserId: deputy.id })).status,
    ).toBe(200);
  });

  it('answers only the holder of the task', async () => {
    const s = await scene();
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const taskId = await pendingTask(s.head, submitted.id);
    expect((await client(world, s.custodian.token).get(`/api/v1/tasks/${taskId}/transfer-candidates`)).status).toBe(
      403,
    );
    const stranger = await buildUser(world, { groupId: group.groupId, companyId: s.company.id });
    expect((await client(world, stranger.token).get(`/api/v1/tasks/${taskId}/transfer-candidates`)).status).toBe(404);
  });
});

describe('what a task answers to someone who is not its holder', () => {
  it('answers a real task of an application the caller cannot see exactly as a made-up one', async () => {
    const s = await scene();
    const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const outsider = await buildUser(world, { groupId: group.groupId, companyId: sibling.id });
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const real = await pendingTask(s.head, submitted.id);
    const madeUp = newId();
    const api = client(world, outsider.token);
    for (const [action, body] of [
      ['approve', {}],
      ['reject', { reason: 'no' }],
      ['transfer', { toUserId: outsider.id }],
    ] as const) {
      const onReal = await api.post(`/api/v1/tasks/${real}/${action}`, body);
      const onMadeUp = await api.post(`/api/v1/tasks/${madeUp}/${action}`, body);
      expect([action, onReal.status, onReal.body.code]).toEqual([action, 404, 'task_not_found']);
      expect(onReal.body.detail.replace(real, 'ID')).toBe(onMadeUp.body.detail.replace(madeUp, 'ID'));
    }
  });

  it('still tells a participant who may see the application that the task is someone else’s', async () => {
    const s = await scene();
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const taskId = await pendingTask(s.head, submitted.id);
    const byApplicant = await client(world, s.applicant.token).post(`/api/v1/tasks/${taskId}/approve`, {});
    expect(byApplicant.status).toBe(403);
    expect(byApplicant.body.code).toBe('task_not_yours');
  });

  it('answers an approver who may read the application but tries to withdraw it with 403, not 404', async () => {
    const s = await scene();
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const byHead = await client(world, s.head.token).post(`/api/v1/applications/${submitted.id}/withdraw`);
    expect(byHead.status).toBe(403);
    expect(byHead.body.code).toBe('forbidden');
    expect(byHead.body.detail).toContain('applicant');
    const stranger = await buildUser(world, { groupId: group.groupId, companyId: s.company.id });
    const byStranger = await client(world, stranger.token).post(`/api/v1/applications/${submitted.id}/withdraw`);
    expect(byStranger.status).toBe(404);
  });

  it('approves without a request body, since the comment is optional', async () => {
    const s = await scene({ flowLevels: [{ name: 'Head', mode: 'any', approvers: [{ type: 'department_head' }] }] });
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const taskId = await pendingTask(s.head, submitted.id);
    const answer = await world.app.inject({
      method: 'POST',
      url: `/api/v1/tasks/${taskId}/approve`,
      headers: { authorization: `Bearer ${s.head.token}` },
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ status: 'approved' });
  });
});
