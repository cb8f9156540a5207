// Integrators through the API: a service account (a user nobody signs in as) holds a seal grant,
// and an API key acting as it uploads, sends, seals and downloads a contract; pdfsig checks the
// result. And the guards attacked: a key acting as a person, a key with more power than its
// maker, a service account signing in, a suspended account's key, a key making keys.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPdf } from './signing/pdf-fixtures.js';
import { nssDatabase, pdfsig, requireTool, tempDir } from './signing/support.js';
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
let company: { id: string; path: string };
let keeper: Awaited<ReturnType<typeof buildUser>>;
let person: Awaited<ReturnType<typeof buildUser>>;
let seal: { id: string };
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  requireTool('pdfsig');
  tmp = tempDir('sigil-service-accounts-');
  world = await createWorld();
  group = await buildGroup(world, 'Integrators Group');
  company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '发票中心有限公司' });
  keeper = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'seal_admin' }] });
  person = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'employee' }] });
  seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [keeper.id] });
});
afterAll(async () => {
  await world?.close();
  tmp?.remove();
});

const admin = () => client(world, group.admin.token);

async function serviceAccount(name: string): Promise<string> {
  const created = await admin().post('/api/v1/service-accounts', { name, companyId: company.id });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body.serviceAccount).toBe(true);
  return created.body.id as string;
}

async function keyFor(serviceAccountId: string, maker = group.admin.token) {
  return client(world, maker).post('/api/v1/api-keys', { name: 'ERP', serviceAccountId });
}

describe('an integration acting as a service account', () => {
  it('uploads, sends and seals a contract under its grant, and downloads what pdfsig accepts', async () => {
    const accountId = await serviceAccount('ERP 开票接口');
    const grant = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: accountId },
      categories: ['finance'],
    });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);
    const key = await keyFor(accountId);
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    expect(key.body.key.serviceAccountId).toBe(accountId);
    const erp = client(world, key.body.secret);

    const upload = await world.app.inject({
      method: 'POST',
      url: '/api/v1/documents/uploads?name=invoice.pdf',
      headers: { authorization: `Bearer ${key.body.secret}`, 'content-type': 'application/pdf' },
      payload: buildPdf({ pages: 1, lines: ['Invoice 2026-12-0001'] }),
    });
    expect(upload.statusCode, upload.body).toBe(201);
    const created = await erp.post('/api/v1/contracts', {
      title: '发票 2026-12-0001',
      category: 'finance',
      documentSha256: upload.json().sha256,
      participants: [
        { role: 'signer', step: 1, kind: 'company', companyId: company.id, sealId: seal.id, userId: accountId },
      ],
      // No placed field: the seal signs without an impression (this seal has no image).
      fields: [],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    expect((await erp.post(`/api/v1/contracts/${id}/send`, {})).status).toBe(200);
    const signed = await erp.post(`/api/v1/contracts/${id}/sign`, {});
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    expect(signed.body.status).toBe('completed');

    const download = await world.app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${id}/document`,
      headers: { authorization: `Bearer ${key.body.secret}` },
    });
    expect(download.statusCode).toBe(200);
    const file = join(tmp.dir, 'invoice.pdf');
    writeFileSync(file, download.rawPayload);
    const root = await world.app.inject({ method: 'GET', url: '/pki/root/certificate' });
    const report = pdfsig(file, nssDatabase(tmp.dir, root.rawPayload));
    expect(report).toHaveLength(1);
    expect(report[0]!.signatureValid).toBe(true);
    expect(report[0]!.certificateTrusted).toBe(true);

    // The audit log names the account as the one who sealed.
    const events = await world.db
      .selectFrom('audit_events')
      .select(['actor_id'])
      .where('action', '=', 'contract.signed')
      .execute();
    expect(events.map((e) => e.actor_id)).toContain(accountId);

    // Suspended, the account's keys stop at once.
    const suspended = await admin().post(`/api/v1/users/${accountId}/status`, { status: 'suspended' });
    expect(suspended.status, JSON.stringify(suspended.body)).toBe(200);
    expect((await erp.get('/api/v1/contracts')).status).toBe(401);
  });

  it('never acts as a person: a key for someone who signs in is refused', async () => {
    const refused = await keyFor(person.id);
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toContain('service account');
    expect(await world.db.selectFrom('api_keys').select('id').where('user_id', '=', person.id).execute()).toEqual([]);
  });

  it("cannot give its maker more power: an administrator's key for a seal administrator's account is refused", async () => {
    const accountId = await serviceAccount('Seal robot');
    // The administrator may assign the seal administrator's role to another account, but holds
    // none of its powers (separation of duties); a key acting as that account would give them.
    const assigned = await admin().post('/api/v1/role-assignments', {
      userId: accountId,
      role: 'seal_admin',
      companyId: company.id,
    });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
    const refused = await keyFor(accountId);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('seals.manage');
  });

  it('is not a way to sign in, and its key cannot make keys', async () => {
    const accountId = await serviceAccount('Robot');
    const account = await admin().get(`/api/v1/users/${accountId}`);
    const signIn = (email: string) =>
      client(world).post('/api/v1/auth/sign-in', { email, password: 'service-account:no-password' });
    const asAccount = await signIn(account.body.email);
    const unknown = await signIn('nobody-at-all@example.test');
    expect(asAccount.status).toBe(401);
    expect(asAccount.body.code).toBe(unknown.body.code);
    const maker = await keyFor(accountId);
    expect(maker.status).toBe(201);
    const nested = await client(world, maker.body.secret).post('/api/v1/api-keys', {
      name: 'nested',
      serviceAccountId: accountId,
    });
    expect(nested.status).toBe(403);
  });
});
