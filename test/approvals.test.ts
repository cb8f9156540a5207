import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import type { FlowPurpose } from '../src/db/schema.js';
import type { Actor } from '../src/modules/access/index.js';
import { authenticate } from '../src/modules/auth/index.js';
import { purposeOf, sealUsePurpose, submitApplication } from '../src/modules/approvals/index.js';

let world: World;
let group: GroupFixture;
let sealAdmin: Awaited<ReturnType<typeof buildUser>>;

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

type User = Awaited<ReturnType<typeof buildUser>>;

/** A company with a department (and its head), a custodian keeping a seal, an applicant granted its use, and a two-level flow. */
async function scene(
  options: { kind?: 'electronic' | 'physical'; type?: 'contract' | 'official'; flowLevels?: unknown[] } = {},
) {
  const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
  const admin = client(world, group.admin.token);
  const head = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Head' });
  const dept = (await admin.post('/api/v1/departments', { companyId: company.id, name: 'Sales', headUserId: head.id }))
    .body;
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
    kind: options.kind ?? 'electronic',
    type: options.type ?? 'contract',
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
        { name: '部门负责人', mode: 'any', approvers: [{ type: 'department_head' }] },
        { name: '印章管理员', mode: 'any', approvers: [{ type: 'custodian' }] },
      ],
      cc: [{ type: 'user', userId: sealAdmin.id }],
    },
  });
  expect(flow.status).toBe(201);
  return { company, head, applicant, custodian, seal, flow: flow.body, dept };
}

const apply = (user: User, sealId: string, extra: Record<string, unknown> = {}) =>
  client(world, user.token).post('/api/v1/applications', {
    sealIds: [sealId],
    category: 'sales',
    reason: '销售合同用印',
    uses: 3,
    photosPerUse: 1,
    ...extra,
  });

async function pendingTask(user: User, applicationId: string): Promise<string> {
  const inbox = await client(world, user.token).get('/api/v1/tasks?status=pending');
  const task = inbox.body.items.find((t: { applicationId: string }) => t.applicationId === applicationId);
  expect(task, 'a pending task in the inbox').toBeDefined();
  return task.id;
}

describe('a two-level flow: department head, then custodian', () => {
  it('shows the resolved approvers and CC before submitting, then approves level by level into an authorization', async () => {
    const s = await scene();
    const preview = await client(world, s.applicant.token).post('/api/v1/applications/preview', {
      sealIds: [s.seal.id],
      category: 'sales',
      reason: 'x',
      uses: 3,
    });
    expect(preview.status).toBe(200);
    expect(
      preview.body.levels.map((l: { name: string; approvers: Array<{ name: string }> }) => [
        l.name,
        l.approvers.map((a) => a.name),
      ]),
    ).toEqual([
      ['部门负责人', ['Head']],
      ['印章管理员', ['Custodian']],
    ]);
    expect(preview.body.cc.map((c: { name: string }) => c.name)).toEqual(['Seal Admin']);

    const submitted = await apply(s.applicant, s.seal.id);
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({
      status: 'pending',
      currentLevel: 0,
      uses: 3,
      photosPerUse: 1,
      applicantName: 'Applicant',
      sealNames: [expect.stringMatching(/^Seal /)],
    });
    const inboxItem = (await client(world, s.head.token).get('/api/v1/tasks?status=pending')).body.items.find(
      (t: { applicationId: string }) => t.applicationId === submitted.body.id,
    );
    expect(inboxItem.sealNames).toEqual(submitted.body.sealNames);
    expect((await client(world, s.custodian.token).get('/api/v1/tasks?status=pending')).body.items).toEqual([]);

    const first = await client(world, s.head.token).post(
      `/api/v1/tasks/${await pendingTask(s.head, submitted.body.id)}/approve`,
      { comment: '同意' },
    );
    expect(first.body).toMatchObject({ status: 'pending', currentLevel: 1 });
    const second = await client(world, s.custodian.token).post(
      `/api/v1/tasks/${await pendingTask(s.custodian, submitted.body.id)}/approve`,
      {},
    );
    expect(second.body.status).toBe('approved');
    expect(second.body.authorizations).toEqual([
      expect.objectContaining({
        sealId: s.seal.id,
        holderId: s.applicant.id,
        kind: 'documents',
        usesTotal: 3,
        usesConsumed: 0,
        revokedAt: null,
      }),
    ]);

    const mine = await client(world, s.applicant.token).get(`/api/v1/applications/${submitted.body.id}`);
    expect(
      mine.body.tasks.map((t: { level: number; status: string; assigneeName: string }) => [
        t.level,
        t.status,
        t.assigneeName,
      ]),
    ).toEqual([
      [0, 'approved', 'Head'],
      [1, 'approved', 'Custodian'],
    ]);
    expect((await client(world, sealAdmin.token).get(`/api/v1/applications/${submitted.body.id}`)).status).toBe(200);
  });

  it('rejects at level two: final, with the reason', async () => {
    const s = await scene();
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    await client(world, s.head.token).post(`/api/v1/tasks/${await pendingTask(s.head, submitted.id)}/approve`, {});
    const taskId = await pendingTask(s.custodian, submitted.id);
    const noReason = await client(world, s.custodian.token).post(`/api/v1/tasks/${taskId}/reject`, {});
    expect(noReason.status).toBe(400);
    const rejected = await client(world, s.custodian.token).post(`/api/v1/tasks/${taskId}/reject`, {
      reason: '合同未经法务审核',
    });
    expect(rejected.body).toMatchObject({ status: 'rejected', authorizations: [] });
    expect(rejected.body.tasks.at(-1)).toMatchObject({ status: 'rejected', comment: '合同未经法务审核' });
    const again = await client(world, s.custodian.token).post(`/api/v1/tasks/${taskId}/approve`, {});
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('task_already_decided');
  });

  it('transfers a task to another approver, who then decides', async () => {
    const s = await scene();
    const deputy = await buildUser(world, { groupId: group.groupId, companyId: s.company.id, name: 'Deputy' });
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const taskId = await pendingTask(s.head, submitted.id);
    const transferred = await client(world, s.head.token).post(`/api/v1/tasks/${taskId}/transfer`, {
      toUserId: deputy.id,
      comment: '出差，请代为审批',
    });
    expect(transferred.status).toBe(200);
    expect(
      transferred.body.tasks.map((t: { status: string; assigneeName: string; via: string | null }) => [
        t.assigneeName,
        t.status,
        t.via,
      ]),
    ).toEqual([
      ['Head', 'transferred', null],
      ['Deputy', 'pending', 'transfer'],
    ]);
    const approved = await client(world, deputy.token).post(
      `/api/v1/tasks/${await pendingTask(deputy, submitted.id)}/approve`,
      {},
    );
    expect(approved.body.currentLevel).toBe(1);
  });

  it('lets a delegate decide while the approver is away, and the record shows both', async () => {
    const s = await scene();
    const delegate = await buildUser(world, { groupId: group.groupId, companyId: s.company.id, name: 'Stand-in' });
    const now = world.clock.now();
    const delegation = await client(world, s.head.token).post('/api/v1/delegations', {
      delegateId: delegate.id,
      startsAt: new Date(now.getTime() - 60_000).toISOString(),
      endsAt: new Date(now.getTime() + 86_400_000).toISOString(),
    });
    expect(delegation.status).toBe(201);
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    expect(
      (await client(world, s.head.token).get('/api/v1/tasks?status=pending')).body.items.filter(
        (t: { applicationId: string }) => t.applicationId === submitted.id,
      ),
    ).toEqual([]);
    const decided = await client(world, delegate.token).post(
      `/api/v1/tasks/${await pendingTask(delegate, submitted.id)}/approve`,
      {},
    );
    expect(decided.body.tasks[0]).toMatchObject({
      assigneeName: 'Stand-in',
      onBehalfOf: s.head.id,
      onBehalfOfName: 'Head',
      via: 'delegation',
      status: 'approved',
    });
    // The approver on whose behalf the delegate acted can follow the application.
    expect((await client(world, s.head.token).get(`/api/v1/applications/${submitted.id}`)).status).toBe(200);
  });

  it('sends the next level to the delegate of its approver when the level before is approved, and tells the delegate', async () => {
    const s = await scene();
    const delegate = await buildUser(world, {
      groupId: group.groupId,
      companyId: s.company.id,
      name: 'Custodian stand-in',
    });
    const now = world.clock.now();
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    // Set while the application waits at level one: level two is opened after it.
    expect(
      (
        await client(world, s.custodian.token).post('/api/v1/delegations', {
          delegateId: delegate.id,
          startsAt: new Date(now.getTime() - 60_000).toISOString(),
          endsAt: new Date(now.getTime() + 86_400_000).toISOString(),
        })
      ).status,
    ).toBe(201);
    const approved = await client(world, s.head.token).post(
      `/api/v1/tasks/${await pendingTask(s.head, submitted.id)}/approve`,
      {},
    );
    expect(approved.body.tasks.find((t: { level: number }) => t.level === 1)).toMatchObject({
      assigneeName: 'Custodian stand-in',
      onBehalfOf: s.custodian.id,
      via: 'delegation',
      status: 'pending',
    });
    const inbox = (await client(world, delegate.token).get('/api/v1/notifications')).body.items;
    expect(inbox.some((n: { link: string }) => n.link === `/applications/${submitted.id}`)).toBe(true);
  });

  it('answers each approval with the application exactly as reading it again gives it', async () => {
    const other = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Other' });
    const third = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Third' });
    const s = await scene({
      kind: 'physical',
      flowLevels: [
        { name: 'Both', mode: 'all', approvers: [{ type: 'department_head' }, { type: 'user', userId: other.id }] },
        { name: 'Either', mode: 'any', approvers: [{ type: 'custodian' }, { type: 'user', userId: third.id }] },
      ],
    });
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const steps: Array<[User, string]> = [
      [s.head, 'an all-of level waiting for its other approver'],
      [other, 'the all-of level completed, the next level opened to two approvers'],
      [third, 'the last level approved by one, the other task cancelled, a ticket given'],
    ];
    for (const [approver, what] of steps) {
      const answer = await client(world, approver.token).post(
        `/api/v1/tasks/${await pendingTask(approver, submitted.id)}/approve`,
        { comment: what },
      );
      expect(answer.status, what).toBe(200);
      const again = await client(world, approver.token).get(`/api/v1/applications/${submitted.id}`);
      expect(answer.body, what).toEqual(again.body);
    }
    const final = (await client(world, s.applicant.token).get(`/api/v1/applications/${submitted.id}`)).body;
    expect(final).toMatchObject({
      status: 'approved',
      authorizations: [{ kind: 'ticket', usesTotal: 3, usesConsumed: 0 }],
    });
    expect(final.tasks.map((t: { status: string }) => t.status).sort()).toEqual([
      'approved',
      'approved',
      'approved',
      'cancelled',
    ]);
  });

  it('lets the applicant withdraw before the final decision, not after', async () => {
    const s = await scene();
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const withdrawn = await client(world, s.applicant.token).post(`/api/v1/applications/${submitted.id}/withdraw`);
    expect(withdrawn.body.status).toBe('withdrawn');
    expect(withdrawn.body.tasks.every((t: { status: string }) => t.status === 'cancelled')).toBe(true);
    const twice = await client(world, s.applicant.token).post(`/api/v1/applications/${submitted.id}/withdraw`);
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('application_not_pending');
    // An approver may read the application, so learns why: only the applicant withdraws.
    expect((await client(world, s.head.token).post(`/api/v1/applications/${submitted.id}/withdraw`)).status).toBe(403);
  });
});

describe('flow rules', () => {
  it('adds a level when its condition holds (more than N uses, or a given seal type)', async () => {
    const s = await scene({
      type: 'official',
      flowLevels: [
        { name: 'Head', mode: 'any', approvers: [{ type: 'department_head' }] },
        {
          name: 'Many uses',
          mode: 'any',
          approvers: [{ type: 'user', userId: sealAdmin.id }],
          condition: { minUses: 5 },
        },
        {
          name: 'Official seal',
          mode: 'any',
          approvers: [{ type: 'custodian' }],
          condition: { sealTypes: ['official'] },
        },
      ],
    });
    const few = await client(world, s.applicant.token).post('/api/v1/applications/preview', {
      sealIds: [s.seal.id],
      category: 'sales',
      reason: 'x',
      uses: 5,
    });
    expect(few.body.levels.map((l: { name: string }) => l.name)).toEqual(['Head', 'Official seal']);
    const many = await client(world, s.applicant.token).post('/api/v1/applications/preview', {
      sealIds: [s.seal.id],
      category: 'sales',
      reason: 'x',
      uses: 6,
    });
    expect(many.body.levels.map((l: { name: string }) => l.name)).toEqual(['Head', 'Many uses', 'Official seal']);
  });

  it('needs every approver of an all-of level', async () => {
    const other = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Other' });
    const s = await scene({
      flowLevels: [
        { name: 'Both', mode: 'all', approvers: [{ type: 'department_head' }, { type: 'user', userId: other.id }] },
      ],
    });
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const one = await client(world, s.head.token).post(
      `/api/v1/tasks/${await pendingTask(s.head, submitted.id)}/approve`,
      {},
    );
    expect(one.body.status).toBe('pending');
    const two = await client(world, other.token).post(
      `/api/v1/tasks/${await pendingTask(other, submitted.id)}/approve`,
      {},
    );
    expect(two.body.status).toBe('approved');
  });

  it('keeps the flow version a running application started with after the flow changes', async () => {
    const s = await scene();
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const changed = await client(world, sealAdmin.token).put(`/api/v1/flows/${s.flow.id}`, {
      definition: { levels: [{ name: 'Only the custodian', mode: 'any', approvers: [{ type: 'custodian' }] }] },
    });
    expect(changed.body.version).toBe(2);
    await client(world, s.head.token).post(`/api/v1/tasks/${await pendingTask(s.head, submitted.id)}/approve`, {});
    const after = await client(world, s.applicant.token).get(`/api/v1/applications/${submitted.id}`);
    expect(after.body).toMatchObject({ flowVersionId: submitted.flowVersionId, currentLevel: 1 });
    expect(after.body.plan.levels.map((l: { name: string }) => l.name)).toEqual(['部门负责人', '印章管理员']);
    const fresh = (await apply(s.applicant, s.seal.id)).body;
    expect(fresh.plan.levels.map((l: { name: string }) => l.name)).toEqual(['Only the custodian']);
  });

  it('locks a bound seal to its own flow', async () => {
    const s = await scene();
    const bound = await client(world, sealAdmin.token).post('/api/v1/flows', {
      companyId: s.company.id,
      sealId: s.seal.id,
      name: 'Bound',
      definition: {
        levels: [{ name: 'HQ seal admin', mode: 'any', approvers: [{ type: 'user', userId: sealAdmin.id }] }],
      },
    });
    expect(bound.status).toBe(201);
    const preview = await client(world, s.applicant.token).post('/api/v1/applications/preview', {
      sealIds: [s.seal.id],
      category: 'sales',
      reason: 'x',
      uses: 1,
    });
    expect(preview.body).toMatchObject({ flowName: 'Bound', levels: [{ name: 'HQ seal admin' }] });
  });
});

describe('exactly once', () => {
  it('turns twenty simultaneous approvals of one task into one transition', async () => {
    const s = await scene({ flowLevels: [{ name: 'Head', mode: 'any', approvers: [{ type: 'department_head' }] }] });
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const taskId = await pendingTask(s.head, submitted.id);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => client(world, s.head.token).post(`/api/v1/tasks/${taskId}/approve`, {})),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(19);
    expect(refused[0]!.body).toMatchObject({
      code: 'task_already_decided',
      application: { id: submitted.id, status: 'approved' },
    });
    const events = await world.db
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', submitted.id)
      .execute();
    expect(events.filter((e) => e.action === 'application.approved')).toHaveLength(1);
    expect(
      (await world.db.selectFrom('authorizations').select('id').where('application_id', '=', submitted.id).execute())
        .length,
    ).toBe(1);
  });

  it('completes an all-of level once when its approvers approve at the same moment, and a rejection racing an approval leaves one outcome', async () => {
    const other = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Other' });
    const s = await scene({
      flowLevels: [
        { name: 'Both', mode: 'all', approvers: [{ type: 'department_head' }, { type: 'user', userId: other.id }] },
        { name: 'Custodian', mode: 'any', approvers: [{ type: 'custodian' }] },
      ],
    });
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const [headTask, otherTask] = [await pendingTask(s.head, submitted.id), await pendingTask(other, submitted.id)];
    const answers = await Promise.all([
      client(world, s.head.token).post(`/api/v1/tasks/${headTask}/approve`, {}),
      client(world, other.token).post(`/api/v1/tasks/${otherTask}/approve`, {}),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const events = await world.db
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', submitted.id)
      .execute();
    expect(events.filter((e) => e.action === 'application.level_completed')).toHaveLength(1);
    const custodianTasks = await world.db
      .selectFrom('approval_tasks')
      .select('status')
      .where('application_id', '=', submitted.id)
      .where('level', '=', 1)
      .execute();
    expect(custodianTasks).toEqual([{ status: 'pending' }]);

    const second = (await apply(s.applicant, s.seal.id)).body;
    const [approveTask, rejectTask] = [await pendingTask(s.head, second.id), await pendingTask(other, second.id)];
    const race = await Promise.all([
      client(world, s.head.token).post(`/api/v1/tasks/${approveTask}/approve`, {}),
      client(world, other.token).post(`/api/v1/tasks/${rejectTask}/reject`, { reason: '不同意' }),
    ]);
    const final = (await client(world, s.applicant.token).get(`/api/v1/applications/${second.id}`)).body;
    expect(final.status).toBe('rejected');
    expect(race[1]!.status).toBe(200);
    // Approved first (then the level waits for the other) or refused after the rejection: never both outcomes.
    expect([200, 409]).toContain(race[0]!.status);
    expect(final.tasks.filter((t: { status: string }) => t.status === 'pending')).toEqual([]);
  });

  it('answers 409 application_changed and writes nothing when the application changes under every attempt', async () => {
    const s = await scene({ flowLevels: [{ name: 'Head', mode: 'any', approvers: [{ type: 'department_head' }] }] });
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const taskId = await pendingTask(s.head, submitted.id);
    const eventsBefore = await world.db
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', submitted.id)
      .execute();
    // Every write to this application fails as a concurrent change would make it fail.
    await sql`create function test_always_changed() returns trigger language plpgsql as $$ begin raise exception using errcode = '40001', message = 'changed meanwhile'; end $$`.execute(
      world.db,
    );
    await sql
      .raw(
        `create trigger test_always_changed before update on applications for each row when (new.id = '${submitted.id}') execute function test_always_changed()`,
      )
      .execute(world.db);
    try {
      const answer = await client(world, s.head.token).post(`/api/v1/tasks/${taskId}/approve`, {});
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({
        code: 'application_changed',
        detail: expect.stringContaining('nothing was written'),
      });
    } finally {
      await sql`drop trigger test_always_changed on applications`.execute(world.db);
      await sql`drop function test_always_changed()`.execute(world.db);
    }
    const task = await world.db
      .selectFrom('approval_tasks')
      .select('status')
      .where('id', '=', taskId)
      .executeTakeFirstOrThrow();
    expect(task.status).toBe('pending');
    expect(
      await world.db.selectFrom('audit_events').select('action').where('target_id', '=', submitted.id).execute(),
    ).toEqual(eventsBefore);
    // Once nothing stands in the way, the same approval goes through.
    expect((await client(world, s.head.token).post(`/api/v1/tasks/${taskId}/approve`, {})).body.status).toBe(
      'approved',
    );
  });

  it('creates one application for a repeated idempotency key', async () => {
    const s = await scene();
    const send = () =>
      world.app.inject({
        method: 'POST',
        url: '/api/v1/applications',
        headers: { authorization: `Bearer ${s.applicant.token}`, 'idempotency-key': 'form-7f3a-0001' },
        payload: { sealIds: [s.seal.id], category: 'sales', reason: 'x', uses: 1 },
      });
    const [a, b, c] = await Promise.all([send(), send(), send()]);
    const ids = new Set([a, b, c].map((r) => r.json().id));
    expect(ids.size).toBe(1);
    expect([a, b, c].map((r) => r.statusCode).sort()).toEqual([200, 200, 201]);
  });
});

describe('authorizations', () => {
  it('gives a physical seal a ticket whose remaining uses an approver can revoke', async () => {
    const s = await scene({
      kind: 'physical',
      flowLevels: [{ name: 'Custodian', mode: 'any', approvers: [{ type: 'custodian' }] }],
    });
    const submitted = (await apply(s.applicant, s.seal.id, { uses: 5 })).body;
    const approved = (
      await client(world, s.custodian.token).post(
        `/api/v1/tasks/${await pendingTask(s.custodian, submitted.id)}/approve`,
        {},
      )
    ).body;
    const ticket = approved.authorizations[0];
    expect(ticket).toMatchObject({ kind: 'ticket', usesTotal: 5 });
    expect((await client(world, s.applicant.token).post(`/api/v1/authorizations/${ticket.id}/revoke`)).status).toBe(
      403,
    );
    const revoked = await client(world, s.custodian.token).post(`/api/v1/authorizations/${ticket.id}/revoke`);
    expect(revoked.body.authorizations[0].revokedAt).toBeTruthy();
  });
});

describe('bad input', () => {
  it('refuses a seal without a grant, zero or absurd uses, and approving a task that is not yours', async () => {
    const s = await scene();
    const stranger = await buildUser(world, { groupId: group.groupId, companyId: s.company.id });
    const noGrant = await apply(stranger, s.seal.id);
    expect(noGrant.status).toBe(403);
    expect(noGrant.body.code).toBe('seal_not_granted');
    expect((await apply(s.applicant, s.seal.id, { uses: 0 })).body.errors).toEqual([
      { field: 'body.uses', message: 'must be at least 1' },
    ]);
    expect((await apply(s.applicant, s.seal.id, { uses: 1_000_000 })).body.errors).toEqual([
      { field: 'body.uses', message: 'must be at most 1000' },
    ]);
    expect((await apply(s.applicant, s.seal.id, { category: 'finance' })).body.code).toBe('seal_not_granted');
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const taskId = await pendingTask(s.head, submitted.id);
    const notYours = await client(world, s.custodian.token).post(`/api/v1/tasks/${taskId}/approve`, {});
    expect(notYours.status).toBe(403);
    expect(notYours.body.code).toBe('task_not_yours');
  });

  it('refuses a transfer to someone outside the company, to the applicant, or to a resigned person', async () => {
    const s = await scene();
    const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const outsider = await buildUser(world, { groupId: group.groupId, companyId: sibling.id });
    const submitted = (await apply(s.applicant, s.seal.id)).body;
    const taskId = await pendingTask(s.head, submitted.id);
    const outside = await client(world, s.head.token).post(`/api/v1/tasks/${taskId}/transfer`, {
      toUserId: outsider.id,
    });
    expect(outside.status).toBe(400);
    expect(outside.body.errors[0].message).toContain('outside the company');
    expect(
      (await client(world, s.head.token).post(`/api/v1/tasks/${taskId}/transfer`, { toUserId: s.applicant.id })).body
        .errors[0].message,
    ).toContain('applicant');
  });

  it('names a level nobody can approve, and a missing flow', async () => {
    const s = await scene({
      flowLevels: [
        {
          name: 'Nobody',
          mode: 'any',
          approvers: [{ type: 'role', role: 'security_auditor', companyId: group.hq.id }],
        },
      ],
    });
    const answer = await apply(s.applicant, s.seal.id);
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ code: 'approver_unresolvable', level: 'Nobody' });
    await client(world, sealAdmin.token).post(`/api/v1/seals/${s.seal.id}/grants`, {
      grantee: { type: 'user', userId: s.applicant.id },
      categories: ['legal'],
    });
    const none = await apply(s.applicant, s.seal.id, { category: 'legal' });
    expect(none.body.code).toBe('no_flow_configured');
  });
});

describe('documents to stamp', () => {
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
  const upload = (user: User, bytes: Buffer, type = 'application/pdf') =>
    world.app.inject({
      method: 'POST',
      url: '/api/v1/documents/uploads?name=%E9%94%80%E5%94%AE%E5%90%88%E5%90%8C.pdf',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': type },
      payload: bytes,
    });

  it('names uploaded PDFs in the application; approvers download them, outsiders cannot', async () => {
    const s = await scene();
    const uploaded = await upload(s.applicant, pdf);
    expect(uploaded.statusCode).toBe(201);
    const doc = uploaded.json();
    expect(doc).toMatchObject({ mediaType: 'application/pdf', name: '销售合同.pdf', size: pdf.length });
    const submitted = await apply(s.applicant, s.seal.id, {
      documents: [{ sha256: doc.sha256, name: '销售合同.pdf' }],
    });
    expect(submitted.status).toBe(201);
    expect(submitted.body.documents).toEqual([
      { sha256: doc.sha256, name: '销售合同.pdf', size: pdf.length, mediaType: 'application/pdf' },
    ]);
    const byHead = await world.app.inject({
      method: 'GET',
      url: `/api/v1/applications/${submitted.body.id}/documents/${doc.sha256}`,
      headers: { authorization: `Bearer ${s.head.token}` },
    });
    expect(byHead.statusCode).toBe(200);
    expect(byHead.headers['content-type']).toBe('application/pdf');
    expect(byHead.rawPayload.equals(pdf)).toBe(true);
    const stranger = await buildUser(world, { groupId: group.groupId, companyId: s.company.id });
    expect(
      (await client(world, stranger.token).get(`/api/v1/applications/${submitted.body.id}/documents/${doc.sha256}`))
        .status,
    ).toBe(404);
  });

  it('refuses a file that is not a PDF, and a document hash the group does not hold', async () => {
    const s = await scene();
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const refused = await upload(s.applicant, png);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().code).toBe('file_type_mismatch');
    const unknown = await apply(s.applicant, s.seal.id, { documents: [{ sha256: 'a'.repeat(64), name: 'x.pdf' }] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('blob_not_found');
  });
});

describe('application purposes', () => {
  it('has a provider for every purpose an application can have, and none for a name that is not one', () => {
    // A record over FlowPurpose: a purpose added to the type without being listed here fails to compile.
    const every: Record<FlowPurpose, true> = { seal_use: true, lifecycle: true, sod_change: true };
    for (const name of Object.keys(every) as FlowPurpose[]) expect(purposeOf(name).name).toBe(name);
    expect(() => purposeOf('device_ticket' as FlowPurpose)).toThrow(/No module provides the application purpose/);
  });

  it('refuses a purpose that is not the provided one, before anything is written', async () => {
    const { applicant, seal } = await scene();
    const resolved = await authenticate(world.ctx, applicant.token);
    const actor: Actor = { principal: resolved!.principal, ip: null, userAgent: null, requestId: null };
    // The same name and rules, but a different object: an engine asking the registry on approval
    // would find other effects than the ones submitted with, so it is refused outright.
    const impostor = { ...sealUsePurpose, authorizesSeals: false };
    const draft = { sealIds: [seal.id], category: 'sales', reason: 'x', uses: 1, photosPerUse: 0 };
    await expect(submitApplication(world.ctx, actor, impostor, draft, null)).rejects.toThrow(/not the one provided/);
    const written = await world.db
      .selectFrom('applications')
      .select('id')
      .where('applicant_id', '=', applicant.id)
      .execute();
    expect(written).toEqual([]);
  });
});
