import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideSealUse } from '../src/modules/grants/seal-use.policy.js';
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

let world: World;
let group: GroupFixture;
let applicant: Awaited<ReturnType<typeof buildUser>>;
let approver: Awaited<ReturnType<typeof buildUser>>;
let keeper: Awaited<ReturnType<typeof buildUser>>;
let company: { id: string; path: string };

beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
  company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易' });
  applicant = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Applicant admin',
  });
  approver = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
    name: 'HQ approver',
  });
  keeper = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Keeper',
  });
  const flow = await client(world, approver.token).post('/api/v1/flows', {
    companyId: group.hq.id,
    purpose: 'lifecycle',
    name: 'Seal lifecycle',
    definition: {
      levels: [{ name: 'HQ seal office', mode: 'any', approvers: [{ type: 'user', userId: approver.id }] }],
    },
  });
  expect(flow.status).toBe(201);
});
afterAll(() => world.close());

async function approveLatest(applicationId: string) {
  const task = (await client(world, approver.token).get('/api/v1/tasks?status=pending')).body.items.find(
    (t: { applicationId: string }) => t.applicationId === applicationId,
  );
  return client(world, approver.token).post(`/api/v1/tasks/${task.id}/approve`, {});
}

const statusOf = async (sealId: string) =>
  (await world.db.selectFrom('seals').select('status').where('id', '=', sealId).executeTakeFirstOrThrow()).status;

describe('seal lifecycle through approval', () => {
  it('makes a seal only when its production is approved; then it is active in the library with its file card', async () => {
    const applied = await client(world, applicant.token).post('/api/v1/seals/production-applications', {
      companyId: company.id,
      name: '华夏贸易合同专用章',
      code: 'TR-C-01',
      kind: 'electronic',
      type: 'contract',
      custodianIds: [keeper.id],
      reason: '新设合同专用章',
    });
    expect(applied.status).toBe(201);
    expect(applied.body).toMatchObject({ purpose: 'lifecycle', lifecycleAction: 'produce', status: 'pending' });
    expect((await client(world, approver.token).get('/api/v1/seals?q=TR-C-01')).body.items).toEqual([]);
    const approved = await approveLatest(applied.body.id);
    expect(approved.body.status).toBe('approved');
    const library = (await client(world, approver.token).get('/api/v1/seals?q=TR-C-01')).body.items;
    expect(library).toHaveLength(1);
    expect(library[0]).toMatchObject({
      status: 'active',
      companyName: '华夏贸易',
      custodians: [{ userId: keeper.id }],
    });
    const card = await client(world, approver.token).get(`/api/v1/seals/${library[0].id}`);
    expect(card.body.history.map((h: { action: string }) => h.action)).toContain('seal.created');
    expect(approved.body.seals.map((s: { id: string }) => s.id)).toEqual([library[0].id]);
  });

  it('makes a seal with the impression designed for it, and refuses an image the group does not hold', async () => {
    const designed = await client(world, applicant.token).post('/api/v1/seal-images/generate', {
      shape: 'round',
      company: '华夏贸易',
      type: '合同专用章',
    });
    expect(designed.status).toBe(201);
    const applied = await client(world, applicant.token).post('/api/v1/seals/production-applications', {
      companyId: company.id,
      name: '华夏贸易合同专用章（二）',
      code: 'TR-C-02',
      kind: 'electronic',
      type: 'contract',
      custodianIds: [keeper.id],
      imageSha256: designed.body.sha256,
      reason: '新设',
    });
    expect(applied.status).toBe(201);
    const approved = await approveLatest(applied.body.id);
    const sealId = approved.body.seals[0].id as string;
    const card = (await client(world, approver.token).get(`/api/v1/seals/${sealId}`)).body;
    expect(card.seal.imageSha256).toBe(designed.body.sha256);
    const unknown = await client(world, applicant.token).post('/api/v1/seals/production-applications', {
      companyId: company.id,
      name: 'X',
      code: 'TR-C-03',
      kind: 'electronic',
      type: 'contract',
      custodianIds: [keeper.id],
      imageSha256: 'b'.repeat(64),
      reason: 'x',
    });
    expect(unknown.status).toBe(404);
  });

  it('shows the impression of a seal to be made to its approver before approval, and not to others', async () => {
    const designed = await client(world, applicant.token).post('/api/v1/seal-images/generate', {
      shape: 'round',
      company: '华夏贸易',
      type: '合同专用章',
      code: '0042',
    });
    const path = `/api/v1/seal-images/${designed.body.sha256}`;
    const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏物流' });
    const outsider = await buildUser(world, {
      groupId: group.groupId,
      companyId: sibling.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Sibling admin',
    });
    expect((await client(world, approver.token).get(path)).status).toBe(404);
    const applied = await client(world, applicant.token).post('/api/v1/seals/production-applications', {
      companyId: company.id,
      name: '华夏贸易合同专用章（三）',
      code: 'TR-C-04',
      kind: 'electronic',
      type: 'contract',
      custodianIds: [keeper.id],
      imageSha256: designed.body.sha256,
      reason: '新设',
    });
    expect(applied.status).toBe(201);
    const shown = await client(world, approver.token).get(path);
    expect(shown.status).toBe(200);
    expect(shown.headers['content-type']).toBe('image/png');
    expect((await client(world, outsider.token).get(path)).status).toBe(404);
    await approveLatest(applied.body.id);
  });

  it('replaces the impression through a change only once it is approved, naming the former one in the history', async () => {
    const first = await client(world, applicant.token).post('/api/v1/seal-images/generate', {
      shape: 'round',
      company: '华夏贸易',
      type: '合同专用章',
      code: '0100',
    });
    const produced = await client(world, applicant.token).post('/api/v1/seals/production-applications', {
      companyId: company.id,
      name: '华夏贸易合同专用章（四）',
      code: 'TR-C-05',
      kind: 'electronic',
      type: 'contract',
      custodianIds: [keeper.id],
      imageSha256: first.body.sha256,
      reason: '新设',
    });
    const sealId = (await approveLatest(produced.body.id)).body.seals[0].id as string;
    const second = await client(world, applicant.token).post('/api/v1/seal-images/generate', {
      shape: 'round',
      company: '华夏贸易',
      type: '合同专用章',
      code: '0200',
    });
    expect(second.body.sha256).not.toBe(first.body.sha256);

    const applied = await client(world, applicant.token).post(`/api/v1/seals/${sealId}/lifecycle-applications`, {
      action: 'change',
      imageSha256: second.body.sha256,
      reason: '印模更新',
    });
    expect(applied.status).toBe(201);
    expect(applied.body.payload).toEqual({ sealId, imageSha256: second.body.sha256 });
    const imageOf = async () =>
      (await client(world, approver.token).get(`/api/v1/seals/${sealId}`)).body.seal.imageSha256;
    expect(await imageOf()).toBe(first.body.sha256);
    // The approver sees the impression asked for before deciding.
    expect((await client(world, approver.token).get(`/api/v1/seal-images/${second.body.sha256}`)).status).toBe(200);

    expect((await approveLatest(applied.body.id)).body.status).toBe('approved');
    const card = (await client(world, approver.token).get(`/api/v1/seals/${sealId}`)).body;
    expect(card.seal.imageSha256).toBe(second.body.sha256);
    expect(card.history[0]).toMatchObject({
      action: 'seal.lifecycle_applied',
      changes: { step: 'change', changes: { imageSha256: second.body.sha256, previousImageSha256: first.body.sha256 } },
    });
    const png = await client(world, approver.token).get(`/api/v1/seal-images/${second.body.sha256}`);
    expect(png.headers['content-type']).toBe('image/png');
  });

  it('refuses an image on a step other than a change, and an image the group does not hold', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [keeper.id] });
    const designed = await client(world, applicant.token).post('/api/v1/seal-images/generate', {
      shape: 'square',
      name: '张三之印',
    });
    const suspend = await client(world, applicant.token).post(`/api/v1/seals/${seal.id}/lifecycle-applications`, {
      action: 'suspend',
      imageSha256: designed.body.sha256,
      reason: 'x',
    });
    expect(suspend.status).toBe(400);
    expect(suspend.body.errors).toEqual([{ field: 'body.imageSha256', message: 'is only for a change' }]);
    const unknown = await client(world, applicant.token).post(`/api/v1/seals/${seal.id}/lifecycle-applications`, {
      action: 'change',
      imageSha256: 'c'.repeat(64),
      reason: 'x',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('blob_not_found');
    const malformed = await client(world, applicant.token).post(`/api/v1/seals/${seal.id}/lifecycle-applications`, {
      action: 'change',
      imageSha256: 'not-a-hash',
      reason: 'x',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0]).toEqual({
      field: 'body.imageSha256',
      message: 'must be a SHA-256 in lower-case hex',
    });
  });

  it('previews the approvers of a production and of a step without applying', async () => {
    const tasksBefore = (await client(world, approver.token).get('/api/v1/tasks?status=pending')).body.items.length;
    const production = await client(world, applicant.token).post('/api/v1/seals/production-applications/preview', {
      companyId: company.id,
      custodianIds: [keeper.id],
    });
    expect(production.status).toBe(200);
    expect(production.body).toMatchObject({ flowName: 'Seal lifecycle', flowVersion: 1, cc: [] });
    expect(
      production.body.levels.map((l: { name: string; approvers: Array<{ name: string }> }) => [
        l.name,
        l.approvers.map((a) => a.name),
      ]),
    ).toEqual([['HQ seal office', ['HQ approver']]]);
    // The whole draft may be sent as it will be submitted; the particulars that do not decide the approvers may still be missing.
    const draft = await client(world, applicant.token).post('/api/v1/seals/production-applications/preview', {
      companyId: company.id,
      custodianIds: [keeper.id],
      name: '华夏贸易财务专用章',
      kind: 'physical',
      type: 'finance',
    });
    expect(draft.status).toBe(200);
    const plain = await buildUser(world, { groupId: group.groupId, companyId: company.id });
    const badKeeper = await client(world, applicant.token).post('/api/v1/seals/production-applications/preview', {
      companyId: company.id,
      custodianIds: [plain.id],
    });
    expect(badKeeper.status).toBe(400);
    expect(badKeeper.body.errors[0].field).toBe('body.custodianIds');
    const noKeeper = await client(world, applicant.token).post('/api/v1/seals/production-applications/preview', {
      companyId: company.id,
      custodianIds: [],
    });
    expect(noKeeper.status).toBe(400);
    expect(noKeeper.body.errors).toEqual([{ field: 'body.custodianIds', message: 'must name at least one custodian' }]);
    expect(
      (
        await client(world, plain.token).post('/api/v1/seals/production-applications/preview', {
          companyId: company.id,
          custodianIds: [keeper.id],
        })
      ).status,
    ).toBe(403);

    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [keeper.id] });
    const step = await client(world, applicant.token).post(`/api/v1/seals/${seal.id}/lifecycle-applications/preview`, {
      action: 'suspend',
    });
    expect(step.status).toBe(200);
    expect(step.body.levels.map((l: { approvers: Array<{ name: string }> }) => l.approvers.map((a) => a.name))).toEqual(
      [['HQ approver']],
    );
    // The same checks as the application: a step that does not apply is refused before anyone is asked.
    const resume = await client(world, applicant.token).post(
      `/api/v1/seals/${seal.id}/lifecycle-applications/preview`,
      { action: 'resume' },
    );
    expect(resume.status).toBe(409);
    expect(resume.body).toMatchObject({ code: 'seal_not_usable', sealName: seal.name, sealStatus: 'active' });
    expect(
      (
        await client(world, applicant.token).post(`/api/v1/seals/${seal.id}/lifecycle-applications/preview`, {
          action: 'change',
          reason: 'x',
          extra: 1,
        })
      ).status,
    ).toBe(400);
    // The applicant is never their own approver: an HQ approver previewing sees the level without themselves, so nobody is left.
    const own = await client(world, approver.token).post(`/api/v1/seals/${seal.id}/lifecycle-applications/preview`, {
      action: 'suspend',
    });
    expect(own.status).toBe(409);
    expect(own.body.code).toBe('approver_unresolvable');
    expect(await statusOf(seal.id)).toBe('active');
    expect((await client(world, approver.token).get('/api/v1/tasks?status=pending')).body.items.length).toBe(
      tasksBefore,
    );
  });

  it('takes each step only after approval: suspend, resume, report loss, destroy (final)', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [keeper.id] });
    const step = (action: string) =>
      client(world, applicant.token).post(`/api/v1/seals/${seal.id}/lifecycle-applications`, {
        action,
        reason: `${action} by test`,
      });
    for (const [action, expected] of [
      ['suspend', 'suspended'],
      ['resume', 'active'],
      ['report_loss', 'lost'],
      ['destroy', 'destroyed'],
    ] as const) {
      const before = await statusOf(seal.id);
      const applied = await step(action);
      expect(applied.status, `${action}: ${JSON.stringify(applied.body)}`).toBe(201);
      expect(await statusOf(seal.id)).toBe(before);
      await approveLatest(applied.body.id);
      expect(await statusOf(seal.id)).toBe(expected);
    }
    const again = await step('resume');
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('seal_not_usable');
  });

  it('leaves the seal unchanged when a step is rejected, and refuses steps that do not apply', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [keeper.id] });
    const applied = await client(world, applicant.token).post(`/api/v1/seals/${seal.id}/lifecycle-applications`, {
      action: 'suspend',
      reason: 'x',
    });
    const task = (await client(world, approver.token).get('/api/v1/tasks?status=pending')).body.items.find(
      (t: { applicationId: string }) => t.applicationId === applied.body.id,
    );
    await client(world, approver.token).post(`/api/v1/tasks/${task.id}/reject`, { reason: '不同意停用' });
    expect(await statusOf(seal.id)).toBe('active');
    const resume = await client(world, applicant.token).post(`/api/v1/seals/${seal.id}/lifecycle-applications`, {
      action: 'resume',
      reason: 'x',
    });
    expect(resume.status).toBe(409);
  });

  it('changes custodians and transfers a seal to another company after approval', async () => {
    const other = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏建设' });
    const newKeeper = await buildUser(world, {
      groupId: group.groupId,
      companyId: other.id,
      roles: [{ role: 'seal_admin' }],
      name: 'New keeper',
    });
    const second = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Second approver',
    });
    const flows = (await client(world, approver.token).get('/api/v1/flows')).body.items;
    const lifecycleFlow = flows.find((f: { purpose: string }) => f.purpose === 'lifecycle');
    await client(world, approver.token).put(`/api/v1/flows/${lifecycleFlow.id}`, {
      definition: {
        levels: [
          {
            name: 'HQ seal office',
            mode: 'any',
            approvers: [
              { type: 'user', userId: approver.id },
              { type: 'user', userId: second.id },
            ],
          },
        ],
      },
    });
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [keeper.id] });
    // An HQ seal administrator moves the seal between subsidiaries; the other HQ approver decides.
    const transfer = await client(world, approver.token).post(`/api/v1/seals/${seal.id}/lifecycle-applications`, {
      action: 'transfer',
      reason: '移交华夏建设',
      companyId: other.id,
      custodianIds: [newKeeper.id],
    });
    expect(transfer.status).toBe(201);
    expect(transfer.body.plan.levels[0].approvers.map((a: { name: string }) => a.name)).toEqual(['Second approver']);
    const task = (await client(world, second.token).get('/api/v1/tasks?status=pending')).body.items.find(
      (t: { applicationId: string }) => t.applicationId === transfer.body.id,
    );
    expect((await client(world, second.token).post(`/api/v1/tasks/${task.id}/approve`, {})).body.status).toBe(
      'approved',
    );
    const card = (await client(world, approver.token).get(`/api/v1/seals/${seal.id}`)).body;
    expect(card.seal).toMatchObject({ companyId: other.id, custodians: [{ userId: newKeeper.id }] });
    expect(card.history[0]).toMatchObject({
      action: 'seal.lifecycle_applied',
      changes: { step: 'transfer', from: 'active' },
    });
  });

  it('refuses a custodian who is not a seal administrator of the company', async () => {
    const plain = await buildUser(world, { groupId: group.groupId, companyId: company.id });
    const refused = await client(world, applicant.token).post('/api/v1/seals/production-applications', {
      companyId: company.id,
      name: 'X',
      code: 'TR-X-09',
      kind: 'physical',
      type: 'official',
      custodianIds: [plain.id],
      reason: 'x',
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].field).toBe('body.custodianIds');
  });

  it('stops use of a suspended seal at once', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [keeper.id] });
    const user = await buildUser(world, { groupId: group.groupId, companyId: company.id });
    await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: user.id },
      categories: ['sales'],
    });
    expect(
      (
        await decideSealUse(world.db, {
          groupId: group.groupId,
          sealId: seal.id,
          userId: user.id,
          category: 'sales',
          at: new Date(),
        })
      ).allowed,
    ).toBe(true);
    const applied = await client(world, applicant.token).post(`/api/v1/seals/${seal.id}/lifecycle-applications`, {
      action: 'suspend',
      reason: 'x',
    });
    await approveLatest(applied.body.id);
    expect(
      await decideSealUse(world.db, {
        groupId: group.groupId,
        sealId: seal.id,
        userId: user.id,
        category: 'sales',
        at: new Date(),
      }),
    ).toEqual({ allowed: false, reason: 'seal_not_usable', sealStatus: 'suspended' });
  });
});
