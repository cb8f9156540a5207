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

/** Each report flag is produced by a case built for it, and only by it. */
let world: World;
let group: GroupFixture;
let sealAdmin: Awaited<ReturnType<typeof buildUser>>;
let company: { id: string; path: string };

beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
  sealAdmin = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
  });
  company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '报告公司' });
});
afterAll(() => world.close());

const grant = (sealId: string, body: Record<string, unknown>) =>
  client(world, sealAdmin.token).post(`/api/v1/seals/${sealId}/grants`, { categories: ['sales'], ...body });
const report = async (query: string) =>
  (await client(world, sealAdmin.token).get(`/api/v1/reports/seal-permissions?${query}`)).body;
const flagsOf = (
  rows: Array<{ personName: string | null; granteeName: string | null; flags: string[] }>,
  name: string,
) => rows.filter((r) => r.personName === name || r.granteeName === name).flatMap((r) => r.flags);

describe('seal permission report', () => {
  it('flags one person holding a seal through several grants (overlapping)', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, name: 'Overlap seal' });
    const dept = (
      await client(world, group.admin.token).post('/api/v1/departments', {
        companyId: company.id,
        name: 'Overlap dept',
      })
    ).body;
    const user = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      departmentId: dept.id,
      name: 'Double Holder',
    });
    await buildUser(world, { groupId: group.groupId, companyId: company.id, departmentId: dept.id, name: 'Dept Mate' });
    await grant(seal.id, { grantee: { type: 'user', userId: user.id } });
    await grant(seal.id, { grantee: { type: 'department', departmentId: dept.id } });
    const body = await report(`sealId=${seal.id}`);
    const holderRows = body.rows.filter((r: { personName: string }) => r.personName === 'Double Holder');
    expect(holderRows).toHaveLength(2);
    expect(holderRows.every((r: { flags: string[] }) => r.flags.includes('overlapping'))).toBe(true);
    expect(flagsOf(body.rows, 'Dept Mate')).not.toContain('overlapping');
  });

  it('flags a seal only one person can use', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, name: 'Lonely seal' });
    const user = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Only One' });
    await grant(seal.id, { grantee: { type: 'user', userId: user.id } });
    expect(flagsOf((await report(`sealId=${seal.id}`)).rows, 'Only One')).toEqual(['single_user']);
  });

  it('flags a grant beyond the seal’s company and beyond its function', async () => {
    const seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      name: 'Finance seal',
      type: 'finance',
    });
    const outsider = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'HQ Outsider' });
    const insider = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Sales Insider' });
    await grant(seal.id, { grantee: { type: 'user', userId: outsider.id }, categories: ['finance'] });
    await grant(seal.id, { grantee: { type: 'user', userId: insider.id }, categories: ['sales'] });
    const rows = (await report(`sealId=${seal.id}`)).rows;
    expect(flagsOf(rows, 'HQ Outsider')).toEqual(['beyond_company']);
    expect(flagsOf(rows, 'Sales Insider')).toEqual(['beyond_function']);
  });

  it('flags expired and used-up grants', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, name: 'Aging seal' });
    const late = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Expired Holder' });
    const used = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Used Up' });
    const a = (
      await grant(seal.id, {
        grantee: { type: 'user', userId: late.id },
        validUntil: new Date(Date.now() + 60_000).toISOString(),
      })
    ).body;
    const b = (await grant(seal.id, { grantee: { type: 'user', userId: used.id }, maxUses: 1 })).body;
    await sql`update seal_grants set valid_from = now() - interval '2 days', valid_until = now() - interval '1 day' where id = ${a.id}`.execute(
      world.db,
    );
    await sql`update seal_grants set used_count = 1 where id = ${b.id}`.execute(world.db);
    const rows = (await report(`sealId=${seal.id}`)).rows;
    expect(flagsOf(rows, 'Expired Holder')).toEqual(['expired']);
    expect(flagsOf(rows, 'Used Up')).toEqual(['expired']);
  });

  it('flags grants held by resigned or suspended people, and custodians who are also users', async () => {
    const keeper = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Keeper User',
    });
    const seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      name: 'Kept seal',
      custodianIds: [keeper.id],
    });
    const gone = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Gone Person' });
    await grant(seal.id, { grantee: { type: 'user', userId: gone.id } });
    await grant(seal.id, { grantee: { type: 'role', role: 'seal_admin', companyId: company.id } });
    await client(world, group.admin.token).post(`/api/v1/users/${gone.id}/status`, { status: 'resigned' });
    const rows = (await report(`sealId=${seal.id}`)).rows;
    expect(flagsOf(rows, 'Gone Person')).toContain('inactive_grantee');
    expect(flagsOf(rows, 'Keeper User')).toContain('custodian_user');
  });

  it('reports per user and per company, filters by flag, and exports CSV with a byte-order mark', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: '张三' });
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, name: '报告合同章' });
    await grant(seal.id, { grantee: { type: 'user', userId: user.id } });
    const mine = await report(`userId=${user.id}`);
    expect(mine.rows.map((r: { sealName: string }) => r.sealName)).toEqual(['报告合同章']);
    const byCompany = await report(`under=${company.id}`);
    expect(byCompany.summary.overlapping).toBeGreaterThanOrEqual(2);
    const flagged = await report(`under=${company.id}&flag=expired`);
    expect(flagged.rows.every((r: { flags: string[] }) => r.flags.includes('expired'))).toBe(true);
    const csv = await client(world, sealAdmin.token).get(
      `/api/v1/reports/seal-permissions?userId=${user.id}&format=csv`,
    );
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(String(csv.body).startsWith('\ufeffseal_code,seal_name')).toBe(true);
    expect(String(csv.body)).toContain('报告合同章');
  });

  it('is for seal readers only, within their subtree', async () => {
    const employee = await buildUser(world, { groupId: group.groupId, companyId: company.id });
    expect((await client(world, employee.token).get('/api/v1/reports/seal-permissions')).status).toBe(403);
    const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const siblingAdmin = await buildUser(world, {
      groupId: group.groupId,
      companyId: sibling.id,
      roles: [{ role: 'seal_admin' }],
    });
    expect(
      (await client(world, siblingAdmin.token).get(`/api/v1/reports/seal-permissions?under=${company.id}`)).status,
    ).toBe(404);
    expect((await client(world, siblingAdmin.token).get('/api/v1/reports/seal-permissions')).body.rows).toEqual([]);
  });
});
