// The contracts archive through the API: filtering by status, category, party, number and the
// three date ranges (effective, expiry, completion), each against contracts made and completed
// through the real flow; the guards attacked: ranges turned round, malformed days and instants,
// unknown categories and parameters, LIKE wildcards smuggled into a filter, another group and a
// colleague who takes no part. And the evidence package the console offers beside each contract.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPdf } from './signing/pdf-fixtures.js';
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
let company: { id: string; path: string };
let sender: User;
let colleague: User;
let stranger: User;
let seal: { id: string };

/** The contracts made in beforeAll, by name. */
const ids: Record<'purchase' | 'sale' | 'completed' | 'voided', string> = {
  purchase: '',
  sale: '',
  completed: '',
  voided: '',
};
let completedAt: Date;
let voidedAt: Date;

const pdf = () =>
  buildPdf({
    pages: 1,
    lines: ['Contract for the archive'],
    cjkLines: ['甲方（盖章）：华夏贸易有限公司'],
    compress: false,
  });

async function upload(user: User): Promise<string> {
  const response = await world.app.inject({
    method: 'POST',
    url: '/api/v1/documents/uploads?name=archive.pdf',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
    payload: pdf(),
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().sha256 as string;
}

/** A draft sent by `sender`: our company seals it, and an outside party named `party` takes part as CC. */
async function draft(fields: {
  title: string;
  category: string;
  number: string;
  party: { name: string; orgName?: string };
  effectiveOn?: string;
  expiresOn?: string;
}): Promise<string> {
  const created = await client(world, sender.token).post('/api/v1/contracts', {
    title: fields.title,
    category: fields.category,
    number: fields.number,
    ...(fields.effectiveOn ? { effectiveOn: fields.effectiveOn } : {}),
    ...(fields.expiresOn ? { expiresOn: fields.expiresOn } : {}),
    documentSha256: await upload(sender),
    participants: [
      { role: 'signer', step: 1, kind: 'company', companyId: company.id, sealId: seal.id, userId: sender.id },
      fields.party.orgName
        ? {
            role: 'cc',
            step: 1,
            kind: 'outside_org',
            name: fields.party.name,
            orgName: fields.party.orgName,
            email: 'cc@example.com',
          }
        : { role: 'cc', step: 1, kind: 'outside_person', name: fields.party.name, email: 'cc@example.com' },
    ],
    fields: [{ participant: 0, type: 'company_seal', keyword: '甲方（盖章）' }],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id as string;
}

beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world, 'Huaxia Group');
  company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
  const keeper = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
  });
  sender = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'employee' }] });
  colleague = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'employee' }] });
  const other = await buildGroup(world, 'Other Group');
  stranger = await buildUser(world, {
    groupId: other.groupId,
    companyId: other.hq.id,
    roles: [{ role: 'seal_admin' }],
  });
  seal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: company.id,
    custodianIds: [keeper.id],
    name: '华夏贸易合同专用章',
  });
  const image = await client(world, keeper.token).post('/api/v1/seal-images/generate', {
    shape: 'round',
    company: '华夏贸易有限公司',
    type: '合同专用章',
  });
  expect(image.status).toBe(201);
  await world.db
    .updateTable('seals')
    .set({ image_sha256: image.body.sha256, image_media_type: image.body.mediaType })
    .where('id', '=', seal.id)
    .execute();
  const grant = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
    grantee: { type: 'user', userId: sender.id },
    categories: ['procurement', 'sales'],
  });
  expect(grant.status, JSON.stringify(grant.body)).toBe(201);

  ids.purchase = await draft({
    title: '采购合同',
    category: 'procurement',
    number: 'HT-2026-001',
    party: { name: '王五' },
    effectiveOn: '2026-01-01',
    expiresOn: '2026-12-31',
  });
  ids.sale = await draft({
    title: 'Sales agreement',
    category: 'sales',
    number: 'HT-2025-010',
    party: { name: 'Li Lei', orgName: 'Acme Trading Ltd' },
    effectiveOn: '2025-03-01',
    expiresOn: '2026-02-28',
  });
  // Completed through the real flow: sent, then sealed by its one signer under the grant.
  world.clock.advance(86_400_000);
  ids.completed = await draft({
    title: '框架采购合同',
    category: 'procurement',
    number: 'HT-2026-002',
    party: { name: 'Zhao Liu', orgName: '远方物流有限公司' },
    effectiveOn: '2026-06-01',
  });
  expect((await client(world, sender.token).post(`/api/v1/contracts/${ids.completed}/send`, {})).status).toBe(200);
  const signed = await client(world, sender.token).post(`/api/v1/contracts/${ids.completed}/sign`, {});
  expect(signed.status, JSON.stringify(signed.body)).toBe(200);
  expect(signed.body.status).toBe('completed');
  completedAt = new Date(signed.body.endedAt as string);
  // Ended (voided) just after the completion, but not completed.
  ids.voided = await draft({
    title: '作废的采购合同',
    category: 'procurement',
    number: 'HT-2026-003',
    party: { name: '王五' },
  });
  const voided = await client(world, sender.token).post(`/api/v1/contracts/${ids.voided}/void`, { reason: '重复' });
  expect(voided.status, JSON.stringify(voided.body)).toBe(200);
  voidedAt = new Date(voided.body.endedAt as string);
  expect(voidedAt.getTime()).toBeGreaterThanOrEqual(completedAt.getTime());
});
afterAll(async () => {
  await world?.close();
});

/** The ids (by name) of the sender's contracts the filter finds. */
async function found(query: string, user: User = sender): Promise<string[]> {
  const answer = await client(world, user.token).get(`/api/v1/contracts?${query}`);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
  return (answer.body.items as Array<{ id: string }>).map((c) => names[c.id] ?? c.id).sort();
}

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

describe('the contracts archive', () => {
  it('lists everything without a filter, and each status on its own', async () => {
    expect(await found('')).toEqual(['completed', 'purchase', 'sale', 'voided']);
    expect(await found('status=completed')).toEqual(['completed']);
    expect(await found('status=draft')).toEqual(['purchase', 'sale']);
    expect(await found('status=voided')).toEqual(['voided']);
  });

  it('filters by category, number prefix and party, alone and together', async () => {
    expect(await found('category=sales')).toEqual(['sale']);
    expect(await found('category=procurement')).toEqual(['completed', 'purchase', 'voided']);
    expect(await found(q({ number: 'HT-2026-' }))).toEqual(['completed', 'purchase', 'voided']);
    expect(await found(q({ number: 'ht-2025' }))).toEqual(['sale']);
    // A number's middle is not its beginning.
    expect(await found(q({ number: '2026-001' }))).toEqual([]);
    expect(await found(q({ party: '王五' }))).toEqual(['purchase', 'voided']);
    // An organisation by any part of its name, in any case.
    expect(await found(q({ party: 'acme' }))).toEqual(['sale']);
    expect(await found(q({ party: '远方物流' }))).toEqual(['completed']);
    // Our own company is a party too (its seal signs).
    expect(await found(q({ party: '华夏贸易' }))).toEqual(['completed', 'purchase', 'sale', 'voided']);
    expect(await found(q({ party: '王五', status: 'draft', category: 'procurement', number: 'HT-2026' }))).toEqual([
      'purchase',
    ]);
    expect(await found(q({ party: '王五', category: 'sales' }))).toEqual([]);
  });

  it('takes LIKE wildcards in a filter as the characters they are', async () => {
    expect(await found(q({ number: '%' }))).toEqual([]);
    expect(await found(q({ number: 'HT_2026' }))).toEqual([]);
    expect(await found(q({ party: '_' }))).toEqual([]);
    expect(await found(q({ party: '%王%' }))).toEqual([]);
  });

  it('filters by effective and expiry days, both ends inclusive', async () => {
    expect(await found(q({ effectiveFrom: '2026-01-01' }))).toEqual(['completed', 'purchase']);
    expect(await found(q({ effectiveFrom: '2026-01-02' }))).toEqual(['completed']);
    expect(await found(q({ effectiveTo: '2025-03-01' }))).toEqual(['sale']);
    expect(await found(q({ effectiveTo: '2025-02-28' }))).toEqual([]);
    expect(await found(q({ effectiveFrom: '2025-01-01', effectiveTo: '2026-01-01' }))).toEqual(['purchase', 'sale']);
    // Contracts that lapse in the first quarter of 2026: expiry tracking's question.
    expect(await found(q({ expiresFrom: '2026-01-01', expiresTo: '2026-03-31' }))).toEqual(['sale']);
    expect(await found(q({ expiresFrom: '2026-12-31' }))).toEqual(['purchase']);
    expect(await found(q({ expiresTo: '2026-12-30' }))).toEqual(['sale']);
  });

  it('finds by completion time only completed contracts, not one voided within the range', async () => {
    const at = completedAt.toISOString();
    const ended = q({ completedFrom: at, completedTo: new Date(voidedAt.getTime() + 1).toISOString() });
    expect(await found(ended)).toEqual(['completed']);
    const before = new Date(completedAt.getTime() - 1).toISOString();
    const after = new Date(completedAt.getTime() + 1).toISOString();
    expect(await found(q({ completedFrom: at, completedTo: at }))).toEqual(['completed']);
    expect(await found(q({ completedFrom: before }))).toEqual(['completed']);
    expect(await found(q({ completedTo: after }))).toEqual(['completed']);
    expect(await found(q({ completedFrom: after }))).toEqual([]);
    expect(await found(q({ completedTo: before }))).toEqual([]);
    // An offset other than Z names the same instant.
    const shanghai = new Date(completedAt.getTime() + 8 * 3_600_000).toISOString().replace('Z', '+08:00');
    expect(await found(q({ completedFrom: shanghai, completedTo: shanghai }))).toEqual(['completed']);
  });

  it('names each bad filter', async () => {
    const bad = async (query: string) => (await client(world, sender.token).get(`/api/v1/contracts?${query}`)).body;
    const field = async (query: string) => {
      const body = await bad(query);
      expect(body.status, JSON.stringify(body)).toBe(400);
      expect(body.code).toBe('validation_failed');
      return body.errors as Array<{ field: string; message: string }>;
    };
    expect(await field(q({ effectiveFrom: '2026-02-01', effectiveTo: '2026-01-31' }))).toEqual([
      { field: 'querystring.effectiveTo', message: 'must not be before effectiveFrom' },
    ]);
    expect(await field(q({ expiresFrom: '2026-02-01', expiresTo: '2026-01-31' }))).toEqual([
      { field: 'querystring.expiresTo', message: 'must not be before expiresFrom' },
    ]);
    expect(await field(q({ completedFrom: '2026-02-01T00:00:00Z', completedTo: '2026-01-31T23:59:59.999Z' }))).toEqual([
      { field: 'querystring.completedTo', message: 'must not be before completedFrom' },
    ]);
    expect(await field(q({ effectiveFrom: '2026-13-01' }))).toMatchObject([
      { field: 'querystring.effectiveFrom', message: 'must be a date as YYYY-MM-DD' },
    ]);
    expect(await field(q({ expiresTo: '2026-02-30' }))).toMatchObject([{ field: 'querystring.expiresTo' }]);
    expect(await field(q({ completedFrom: '2026-01-01' }))).toMatchObject([
      { field: 'querystring.completedFrom', message: 'must be an ISO 8601 date-time' },
    ]);
    expect(await field(q({ category: 'gambling' }))).toMatchObject([{ field: 'querystring.category' }]);
    expect(await field(q({ party: 'x'.repeat(101) }))).toMatchObject([
      { field: 'querystring.party', message: 'must be at most 100 characters' },
    ]);
    expect(await field(q({ number: 'x'.repeat(65) }))).toMatchObject([
      { field: 'querystring.number', message: 'must be at most 64 characters' },
    ]);
    expect(await field(q({ party: '   ' }))).toMatchObject([
      { field: 'querystring.party', message: 'must not be empty' },
    ]);
    expect(await field(q({ signedBy: 'me' }))).toMatchObject([{ field: 'querystring.signedBy' }]);
  });

  it('finds nothing for another group or a colleague who takes no part, whatever the filter', async () => {
    expect((await client(world).get(`/api/v1/contracts?${q({ party: '王五' })}`)).status).toBe(401);
    const filters = [q({ party: '王五' }), q({ number: 'HT' }), 'category=procurement', 'status=completed', ''];
    for (const filter of filters) {
      expect(await found(filter, stranger)).toEqual([]);
      expect(await found(filter, colleague)).toEqual([]);
    }
  });

  it('hands out the evidence package of a sent contract only, and only to those who may see it', async () => {
    const get = (id: string, user?: User) =>
      world.app.inject({
        method: 'GET',
        url: `/api/v1/contracts/${id}/evidence`,
        headers: user ? { authorization: `Bearer ${user.token}` } : {},
      });
    const zip = await get(ids.completed, sender);
    expect(zip.statusCode).toBe(200);
    expect(zip.headers['content-type']).toContain('application/zip');
    expect(zip.rawPayload.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');
    expect(decodeURIComponent(String(zip.headers['content-disposition']))).toContain('框架采购合同-证据包.zip');
    expect((await get(ids.purchase, sender)).json()).toMatchObject({ status: 409, code: 'contract_state' });
    expect((await get(ids.completed, stranger)).statusCode).toBe(404);
    expect((await get(ids.completed, colleague)).statusCode).toBe(404);
    expect((await get(ids.completed)).statusCode).toBe(401);
  });
});
