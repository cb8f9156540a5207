// A seal-use application whose seal is suspended, reported lost or destroyed while it waits:
// closed with a reason when the lifecycle step takes effect, and refused if it is approved
// anyway, also when the step lands between the approval's read and its write.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/schema.js';
import { approveTask } from '../src/modules/approvals/approval.decisions.js';
import { authenticate } from '../src/modules/auth/auth.service.js';
import type { Actor } from '../src/modules/access/principal.js';
import { AppError } from '../src/server/errors.js';
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
let sealOffice: User;
let lifecycleApprover: User;

beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
  sealOffice = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Seal office',
  });
  lifecycleApprover = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Lifecycle approver',
  });
  const flow = await client(world, sealOffice.token).post('/api/v1/flows', {
    companyId: group.hq.id,
    purpose: 'lifecycle',
    name: 'Seal lifecycle',
    definition: {
      levels: [{ name: 'HQ', mode: 'any', approvers: [{ type: 'user', userId: lifecycleApprover.id }] }],
    },
  });
  expect(flow.status).toBe(201);
});
afterAll(() => world.close());

/** A physical seal, its custodian, an applicant with a grant, a one-level flow (the custodian), and a pending application. */
async function pendingUse() {
  const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
  const custodian = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Custodian',
  });
  const applicant = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Applicant' });
  const seal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: company.id,
    custodianIds: [custodian.id],
    kind: 'physical',
    name: 'Physical contract seal',
  });
  const other = await buildSeal(world, {
    groupId: group.groupId,
    companyId: company.id,
    custodianIds: [custodian.id],
    kind: 'physical',
    name: 'Another seal',
  });
  for (const sealId of [seal.id, other.id]) {
    const granted = await client(world, sealOffice.token).post(`/api/v1/seals/${sealId}/grants`, {
      grantee: { type: 'user', userId: applicant.id },
      categories: ['sales'],
    });
    expect(granted.status).toBe(201);
  }
  const flow = await client(world, sealOffice.token).post('/api/v1/flows', {
    companyId: company.id,
    category: 'sales',
    name: 'Keeper approves',
    definition: { levels: [{ name: 'Keeper', mode: 'any', approvers: [{ type: 'custodian' }] }] },
  });
  expect(flow.status).toBe(201);
  const submit = async (sealId: string) => {
    const answer = await client(world, applicant.token).post('/api/v1/applications', {
      sealIds: [sealId],
      category: 'sales',
      reason: '盖章',
      uses: 2,
    });
    expect(answer.status).toBe(201);
    return answer.body.id as string;
  };
  const applicationId = await submit(seal.id);
  const otherApplicationId = await submit(other.id);
  const task = (await client(world, custodian.token).get('/api/v1/tasks?status=pending')).body.items.find(
    (t: { applicationId: string }) => t.applicationId === applicationId,
  );
  return { company, custodian, applicant, seal, other, applicationId, otherApplicationId, taskId: task.id as string };
}

/** Applies for a lifecycle step of the seal and approves it: the step takes effect. */
async function takeStep(sealId: string, action: 'suspend' | 'report_loss' | 'destroy') {
  const applied = await client(world, sealOffice.token).post(`/api/v1/seals/${sealId}/lifecycle-applications`, {
    action,
    reason: '印章遗失',
  });
  expect(applied.status).toBe(201);
  const task = (await client(world, lifecycleApprover.token).get('/api/v1/tasks?status=pending')).body.items.find(
    (t: { applicationId: string }) => t.applicationId === applied.body.id,
  );
  const approved = await client(world, lifecycleApprover.token).post(`/api/v1/tasks/${task.id}/approve`, {});
  expect(approved.status).toBe(200);
  expect(approved.body.status).toBe('approved');
  return applied.body.id as string;
}

const authorizationsOf = (applicationId: string) =>
  world.db.selectFrom('authorizations').select('id').where('application_id', '=', applicationId).execute();

async function actorOf(token: string): Promise<Actor> {
  const resolved = await authenticate(world.ctx, token);
  if (!resolved) throw new Error('no principal for the token');
  return { principal: resolved.principal, ip: null, userAgent: null, requestId: null };
}

/** The world's database, but `between` runs once, right after the first statement the caller makes has answered. */
function interleaved(between: () => Promise<void>): Db {
  let pending = true;
  return new Proxy(world.db, {
    get(target, property) {
      if (property === 'executeQuery') {
        return async (...args: Parameters<Db['executeQuery']>) => {
          const result = await target.executeQuery(...args);
          if (pending) {
            pending = false;
            await between();
          }
          return result;
        };
      }
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('a lifecycle step closes the seal-use applications waiting on its seal', () => {
  for (const action of ['suspend', 'report_loss', 'destroy'] as const) {
    it(`closes them with a reason when a ${action} takes effect, tells the applicant, and records it`, async () => {
      const s = await pendingUse();
      const stepId = await takeStep(s.seal.id, action);
      const closed = await client(world, s.applicant.token).get(`/api/v1/applications/${s.applicationId}`);
      expect(closed.body).toMatchObject({ status: 'closed', decidedAt: expect.any(String) });
      expect(closed.body.closedReason).toContain('Physical contract seal');
      expect(closed.body.closedReason).toContain(stepId);
      expect(closed.body.tasks.map((t: { status: string }) => t.status)).toEqual(['cancelled']);
      // The application for another seal waits on.
      const other = await client(world, s.applicant.token).get(`/api/v1/applications/${s.otherApplicationId}`);
      expect(other.body.status).toBe('pending');

      const notices = (await client(world, s.applicant.token).get('/api/v1/notifications')).body.items;
      expect(notices.find((n: { link: string }) => n.link === `/applications/${s.applicationId}`)).toMatchObject({
        kind: 'application.closed',
      });
      const event = await world.db
        .selectFrom('audit_events')
        .select('changes')
        .where('group_id', '=', group.groupId)
        .where('action', '=', 'seal.lifecycle_applied')
        .where('target_id', '=', s.seal.id)
        .executeTakeFirstOrThrow();
      expect(event.changes).toMatchObject({ step: action, changes: { closedApplicationIds: [s.applicationId] } });

      const late = await client(world, s.custodian.token).post(`/api/v1/tasks/${s.taskId}/approve`, {});
      expect(late.status).toBe(409);
      expect(late.body.code).toBe('task_already_decided');
      expect(await authorizationsOf(s.applicationId)).toEqual([]);
      const listed = await client(world, s.applicant.token).get('/api/v1/applications?status=closed');
      expect(listed.body.items.map((a: { id: string }) => a.id)).toEqual([s.applicationId]);
    });
  }

  it('refuses to approve an application whose seal is no longer active, however it slipped through', async () => {
    const s = await pendingUse();
    // Reported lost behind the approvals' back (by hand), so nothing closed the application.
    await sql`update seals set status = 'lost' where id = ${s.seal.id}`.execute(world.db);
    const answer = await client(world, s.custodian.token).post(`/api/v1/tasks/${s.taskId}/approve`, {});
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ code: 'seal_not_usable', sealStatus: 'lost' });
    expect(await authorizationsOf(s.applicationId)).toEqual([]);
  });

  it('refuses the approval when a suspension is approved between the decision’s read and its write', async () => {
    const s = await pendingUse();
    const actor = await actorOf(s.custodian.token);
    const db = interleaved(async () => {
      await takeStep(s.seal.id, 'suspend');
    });
    const error = await approveTask({ ...world.ctx, db }, actor, s.taskId, null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('task_already_decided');
    expect(await authorizationsOf(s.applicationId)).toEqual([]);
    const after = await client(world, s.applicant.token).get(`/api/v1/applications/${s.applicationId}`);
    expect(after.body.status).toBe('closed');
  });

  it('refuses the approval when the seal leaves the active state by hand between the read and the write', async () => {
    const s = await pendingUse();
    const actor = await actorOf(s.custodian.token);
    const db = interleaved(async () => {
      await sql`update seals set status = 'lost' where id = ${s.seal.id}`.execute(world.db);
    });
    const error = await approveTask({ ...world.ctx, db }, actor, s.taskId, null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('seal_not_usable');
    expect(await authorizationsOf(s.applicationId)).toEqual([]);
    const task = await world.db
      .selectFrom('approval_tasks')
      .select('status')
      .where('id', '=', s.taskId)
      .executeTakeFirstOrThrow();
    expect(task.status).toBe('pending');
  });
});
