import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideSealUse } from '../src/modules/grants/seal-use.policy.js';
import { consumeGrantUse } from '../src/modules/grants/grant.repository.js';
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
let sealAdmin: Awaited<ReturnType<typeof buildUser>>;
let custodian: Awaited<ReturnType<typeof buildUser>>;

beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
  sealAdmin = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
  });
  custodian = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Keeper',
  });
});
afterAll(() => world.close());

const decide = (sealId: string, userId: string, category = 'sales', at = world.clock.now()) =>
  decideSealUse(world.db, { groupId: group.groupId, sealId, userId, category, at });

describe('seal library', () => {
  it('lists seals by company and type, filters, searches, counts, and shows the file card', async () => {
    const sub = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易' });
    const official = await buildSeal(world, {
      groupId: group.groupId,
      companyId: sub.id,
      type: 'official',
      kind: 'physical',
      name: '华夏贸易公章',
      code: 'TR-001',
      custodianIds: [custodian.id],
    });
    await buildSeal(world, {
      groupId: group.groupId,
      companyId: sub.id,
      type: 'finance',
      name: '华夏贸易财务专用章',
      code: 'TR-002',
    });
    const api = client(world, sealAdmin.token);
    const list = await api.get(`/api/v1/seals?under=${sub.id}`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((s: { code: string }) => s.code)).toEqual(['TR-001', 'TR-002']);
    expect(list.body.items[0]).toMatchObject({
      companyName: '华夏贸易',
      kind: 'physical',
      type: 'official',
      custodians: [{ userId: custodian.id, name: 'Keeper' }],
    });
    expect((await api.get(`/api/v1/seals?under=${sub.id}&type=finance`)).body.items).toHaveLength(1);
    expect(
      (await api.get(`/api/v1/seals?q=${encodeURIComponent('财务')}`)).body.items.map((s: { code: string }) => s.code),
    ).toEqual(['TR-002']);
    expect(
      (await api.get(`/api/v1/seals?custodianId=${custodian.id}`)).body.items.map((s: { code: string }) => s.code),
    ).toContain('TR-001');
    const stats = await api.get(`/api/v1/seals/statistics?under=${sub.id}`);
    expect(stats.body.total).toBe(2);
    const card = await api.get(`/api/v1/seals/${official.id}`);
    expect(card.body.seal.name).toBe('华夏贸易公章');
    expect(card.body.history.map((h: { action: string }) => h.action)).toEqual(['seal.created']);
  });

  it('is hidden from employees and system administrators (separation of duties)', async () => {
    const employee = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'employee' }],
    });
    expect((await client(world, employee.token).get('/api/v1/seals')).status).toBe(403);
    expect((await client(world, group.admin.token).get('/api/v1/seals')).status).toBe(403);
  });
});

describe('grants and the use decision', () => {
  it('allows use through a user grant for its categories only, and says which grant', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: group.hq.id });
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    expect(await decide(seal.id, user.id)).toEqual({ allowed: false, reason: 'no_grant' });
    const grant = await client(world, sealAdmin.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: user.id },
      categories: ['sales', 'custom:招投标'],
    });
    expect(grant.status).toBe(201);
    expect(grant.body).toMatchObject({
      granteeType: 'user',
      granteeUserId: user.id,
      categories: ['sales', 'custom:招投标'],
      usedCount: 0,
    });
    expect(await decide(seal.id, user.id, 'sales')).toMatchObject({
      allowed: true,
      grant: { id: grant.body.id, granteeType: 'user', remainingUses: null },
    });
    expect(await decide(seal.id, user.id, 'custom:招投标')).toMatchObject({ allowed: true });
    expect(await decide(seal.id, user.id, 'finance')).toEqual({ allowed: false, reason: 'no_grant' });
    const asked = await client(world, user.token).get(`/api/v1/seal-use/decision?sealId=${seal.id}&category=sales`);
    expect(asked.body).toMatchObject({ allowed: true, reason: null, grant: { id: grant.body.id } });
  });

  it('honours the validity window and the number of uses', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: group.hq.id });
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const start = new Date(world.clock.now().getTime() + 86_400_000);
    const end = new Date(start.getTime() + 86_400_000);
    const grant = (
      await client(world, sealAdmin.token).post(`/api/v1/seals/${seal.id}/grants`, {
        grantee: { type: 'user', userId: user.id },
        categories: ['legal'],
        validFrom: start.toISOString(),
        validUntil: end.toISOString(),
        maxUses: 2,
      })
    ).body;
    expect(await decide(seal.id, user.id, 'legal')).toEqual({ allowed: false, reason: 'no_grant' });
    const during = new Date(start.getTime() + 3_600_000);
    expect(await decide(seal.id, user.id, 'legal', during)).toMatchObject({
      allowed: true,
      grant: { remainingUses: 2 },
    });
    expect(await decide(seal.id, user.id, 'legal', new Date(end.getTime() + 1))).toEqual({
      allowed: false,
      reason: 'no_grant',
    });
    await world.db.transaction().execute(async (trx) => {
      expect(await consumeGrantUse(trx, grant.id)).toBe(true);
      expect(await consumeGrantUse(trx, grant.id)).toBe(true);
      expect(await consumeGrantUse(trx, grant.id)).toBe(false);
    });
    expect(await decide(seal.id, user.id, 'legal', during)).toEqual({ allowed: false, reason: 'no_grant' });
  });

  it('covers a department (with additional posts) and a role over a company subtree', async () => {
    const sub = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const subSub = await buildCompany(world, { groupId: group.groupId, parent: sub });
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: sub.id });
    const admin = client(world, group.admin.token);
    const dept = (await admin.post('/api/v1/departments', { companyId: sub.id, name: 'Sales' })).body;
    const member = await buildUser(world, { groupId: group.groupId, companyId: sub.id, departmentId: dept.id });
    const posted = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    await admin.post(`/api/v1/users/${posted.id}/posts`, {
      companyId: sub.id,
      departmentId: dept.id,
      title: '兼任销售',
    });
    const api = client(world, sealAdmin.token);
    await api.post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'department', departmentId: dept.id },
      categories: ['sales'],
    });
    expect(await decide(seal.id, member.id)).toMatchObject({ allowed: true, grant: { granteeType: 'department' } });
    expect(await decide(seal.id, posted.id)).toMatchObject({ allowed: true, grant: { granteeType: 'department' } });

    const deepEmployee = await buildUser(world, {
      groupId: group.groupId,
      companyId: subSub.id,
      roles: [{ role: 'employee' }],
    });
    const hqEmployee = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'employee' }],
    });
    await api.post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'role', role: 'employee', companyId: sub.id },
      categories: ['procurement'],
    });
    expect(await decide(seal.id, deepEmployee.id, 'procurement')).toMatchObject({
      allowed: true,
      grant: { granteeType: 'role' },
    });
    expect(await decide(seal.id, hqEmployee.id, 'procurement')).toEqual({ allowed: false, reason: 'no_grant' });
  });

  it('stops at once when a grant is revoked', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: group.hq.id });
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const api = client(world, sealAdmin.token);
    const grant = (
      await api.post(`/api/v1/seals/${seal.id}/grants`, {
        grantee: { type: 'user', userId: user.id },
        categories: ['sales'],
      })
    ).body;
    const revoked = await api.post(`/api/v1/seals/${seal.id}/grants/${grant.id}/revoke`, { reason: '岗位调整' });
    expect(revoked.body).toMatchObject({ revokeReason: '岗位调整' });
    expect(revoked.body.revokedAt).toBeTruthy();
    expect(await decide(seal.id, user.id)).toEqual({ allowed: false, reason: 'no_grant' });
    const card = await api.get(`/api/v1/seals/${seal.id}`);
    expect(card.body.history.map((h: { action: string }) => h.action)).toEqual([
      'seal.grant_revoked',
      'seal.grant_created',
      'seal.created',
    ]);
  });

  it.each(['suspended', 'lost', 'destroyed'] as const)('refuses use and new grants of a %s seal', async (status) => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: group.hq.id });
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const api = client(world, sealAdmin.token);
    await api.post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: user.id },
      categories: ['sales'],
    });
    await sql`update seals set status = ${status} where id = ${seal.id}`.execute(world.db);
    expect(await decide(seal.id, user.id)).toEqual({ allowed: false, reason: 'seal_not_usable', sealStatus: status });
    const other = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const refused = await api.post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: other.id },
      categories: ['sales'],
    });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('seal_not_usable');
  });
});

describe('separation of duties on seals', () => {
  it('refuses to grant a seal to its custodian, and refuses the custodian its use through any grant', async () => {
    const seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      custodianIds: [custodian.id],
    });
    const api = client(world, sealAdmin.token);
    const refused = await api.post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: custodian.id },
      categories: ['sales'],
    });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('sod_conflict');
    expect(refused.body.detail).toContain('keeps this seal');
    // Through their department the custodian is covered by a grant, yet still refused.
    const dept = (
      await client(world, group.admin.token).post('/api/v1/departments', { companyId: group.hq.id, name: 'Keepers' })
    ).body;
    await client(world, group.admin.token).patch(`/api/v1/users/${custodian.id}`, { departmentId: dept.id });
    expect(
      (
        await api.post(`/api/v1/seals/${seal.id}/grants`, {
          grantee: { type: 'department', departmentId: dept.id },
          categories: ['sales'],
        })
      ).status,
    ).toBe(201);
    expect(await decide(seal.id, custodian.id)).toEqual({ allowed: false, reason: 'custodian' });
  });

  it('refuses a seal administrator a grant to themselves, directly or through their department or role', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: group.hq.id });
    const admin = client(world, group.admin.token);
    const dept = (await admin.post('/api/v1/departments', { companyId: group.hq.id, name: 'Seal office' })).body;
    const granter = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'seal_admin' }],
      departmentId: dept.id,
    });
    const api = client(world, granter.token);
    const self = await api.post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: granter.id },
      categories: ['sales'],
    });
    expect(self.body.code).toBe('sod_conflict');
    const viaDept = await api.post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'department', departmentId: dept.id },
      categories: ['sales'],
    });
    expect(viaDept.body.code).toBe('sod_conflict');
    const viaRole = await api.post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'role', role: 'seal_admin', companyId: group.hq.id },
      categories: ['sales'],
    });
    expect(viaRole.body.code).toBe('sod_conflict');
  });

  it('lets a subsidiary seal administrator grant only within their subtree', async () => {
    const sub = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const subSealAdmin = await buildUser(world, {
      groupId: group.groupId,
      companyId: sub.id,
      roles: [{ role: 'seal_admin' }],
    });
    const subSeal = await buildSeal(world, { groupId: group.groupId, companyId: sub.id });
    const hqSeal = await buildSeal(world, { groupId: group.groupId, companyId: group.hq.id });
    const inside = await buildUser(world, { groupId: group.groupId, companyId: sub.id });
    const outside = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const api = client(world, subSealAdmin.token);
    expect(
      (
        await api.post(`/api/v1/seals/${subSeal.id}/grants`, {
          grantee: { type: 'user', userId: inside.id },
          categories: ['sales'],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api.post(`/api/v1/seals/${subSeal.id}/grants`, {
          grantee: { type: 'user', userId: outside.id },
          categories: ['sales'],
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await api.post(`/api/v1/seals/${hqSeal.id}/grants`, {
          grantee: { type: 'user', userId: inside.id },
          categories: ['sales'],
        })
      ).status,
    ).toBe(404);
    // HQ grants across its subtree.
    expect(
      (
        await client(world, sealAdmin.token).post(`/api/v1/seals/${subSeal.id}/grants`, {
          grantee: { type: 'user', userId: outside.id },
          categories: ['sales'],
        })
      ).status,
    ).toBe(201);
  });
});

describe('resignation', () => {
  it('stops the grants of a person who resigns and flags the seals they kept for a new custodian', async () => {
    const keeper = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'seal_admin' }],
    });
    const kept = await buildSeal(world, { groupId: group.groupId, companyId: group.hq.id, custodianIds: [keeper.id] });
    const used = await buildSeal(world, { groupId: group.groupId, companyId: group.hq.id });
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    await client(world, sealAdmin.token).post(`/api/v1/seals/${used.id}/grants`, {
      grantee: { type: 'user', userId: user.id },
      categories: ['sales'],
    });
    expect(await decide(used.id, user.id)).toMatchObject({ allowed: true });
    const admin = client(world, group.admin.token);
    await admin.post(`/api/v1/users/${user.id}/status`, { status: 'resigned' });
    await admin.post(`/api/v1/users/${keeper.id}/status`, { status: 'resigned' });
    expect(await decide(used.id, user.id)).toEqual({ allowed: false, reason: 'user_inactive' });
    const flagged = await client(world, sealAdmin.token).get('/api/v1/seals?needsCustodian=true');
    expect(flagged.body.items.map((s: { id: string }) => s.id)).toContain(kept.id);
    const card = await client(world, sealAdmin.token).get(`/api/v1/seals/${kept.id}`);
    expect(card.body.history[0]).toMatchObject({
      action: 'seal.custodian_needed',
      changes: { formerCustodianId: keeper.id },
    });
  });
});

describe('bad input on grants', () => {
  it('names a window that ends before it starts, a bad category, and an unknown seal', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: group.hq.id });
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const api = client(world, sealAdmin.token);
    const window = await api.post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: user.id },
      categories: ['sales'],
      validFrom: '2030-01-02T00:00:00Z',
      validUntil: '2030-01-01T00:00:00Z',
    });
    expect(window.status).toBe(400);
    expect(window.body.errors).toEqual([{ field: 'body.validUntil', message: 'must be later than validFrom' }]);
    const category = await api.post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: user.id },
      categories: ['gambling'],
    });
    expect(category.body.errors).toEqual([
      { field: 'body.categories.0', message: 'must be personnel, procurement, sales, legal, finance or custom:<name>' },
    ]);
    const uses = await api.post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: user.id },
      categories: ['sales'],
      maxUses: 0,
    });
    expect(uses.body.errors).toEqual([{ field: 'body.maxUses', message: 'must be at least 1' }]);
    const unknown = await api.post('/api/v1/seals/00000000-0000-4000-8000-000000000000/grants', {
      grantee: { type: 'user', userId: user.id },
      categories: ['sales'],
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('seal_not_found');
  });
});

describe('my seals', () => {
  it('lists the seals I may use, with the grant, and never one I keep', async () => {
    const usable = await buildSeal(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Usable' });
    const suspended = await buildSeal(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Suspended' });
    const admin = client(world, group.admin.token);
    const dept = (await admin.post('/api/v1/departments', { companyId: group.hq.id, name: 'My seals dept' })).body;
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, departmentId: dept.id });
    const kept = await buildSeal(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      name: 'Kept',
      custodianIds: [user.id],
    });
    const api = client(world, custodian.token);
    // The department's grant covers the person who keeps the seal: still not theirs to use.
    await api.post(`/api/v1/seals/${kept.id}/grants`, {
      grantee: { type: 'department', departmentId: dept.id },
      categories: ['legal'],
    });
    await api.post(`/api/v1/seals/${usable.id}/grants`, {
      grantee: { type: 'department', departmentId: dept.id },
      categories: ['legal'],
      maxUses: 4,
    });
    await api.post(`/api/v1/seals/${suspended.id}/grants`, {
      grantee: { type: 'user', userId: user.id },
      categories: ['legal'],
    });
    await sql`update seals set status = 'suspended' where id = ${suspended.id}`.execute(world.db);
    const mine = await client(world, user.token).get('/api/v1/me/seals');
    expect(mine.body.items.map((s: { name: string }) => s.name)).toEqual(['Usable']);
    expect(mine.body.items[0].grant).toMatchObject({ categories: ['legal'], remainingUses: 4 });
    expect((await client(world, user.token).get('/api/v1/me/seals?category=sales')).body.items).toEqual([]);
  });
});
