// Who holds a stored document: ownership is per upload, not per hash. Naming a hash one may
// not read attaches nothing (it would be a key to another company's file), and the same bytes
// uploaded by a second person are that person's too.
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
let sealOffice: User;

beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
  sealOffice = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Seal office',
  });
});
afterAll(() => world.close());

const upload = async (user: User, bytes: Buffer, name = 'contract.pdf') => {
  const answer = await world.app.inject({
    method: 'POST',
    url: `/api/v1/documents/uploads?name=${encodeURIComponent(name)}`,
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
    payload: bytes,
  });
  expect(answer.statusCode).toBe(201);
  return answer.json().sha256 as string;
};

/** A company whose employee holds a grant for its seal, with a one-level flow (its custodian). */
async function companyWithApplicant(name: string) {
  const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name });
  const custodian = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: `${name} keeper`,
  });
  const applicant = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: `${name} clerk` });
  const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [custodian.id] });
  expect(
    (
      await client(world, sealOffice.token).post(`/api/v1/seals/${seal.id}/grants`, {
        grantee: { type: 'user', userId: applicant.id },
        categories: ['sales'],
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await client(world, sealOffice.token).post('/api/v1/flows', {
        companyId: company.id,
        category: 'sales',
        name: `${name} flow`,
        definition: { levels: [{ name: 'Keeper', mode: 'any', approvers: [{ type: 'custodian' }] }] },
      })
    ).status,
  ).toBe(201);
  return { company, custodian, applicant, seal };
}

describe('documents named in an application', () => {
  it('refuses to attach another company’s document named by its hash, so it cannot be downloaded through one’s own application', async () => {
    const victim = await companyWithApplicant('Victim Co');
    const attacker = await companyWithApplicant('Attacker Co');
    const secret = await upload(victim.applicant, buildPdf({ seed: 7001, lines: ['Victim merger terms'] }));
    const attached = await client(world, attacker.applicant.token).post('/api/v1/applications', {
      sealIds: [attacker.seal.id],
      category: 'sales',
      reason: 'x',
      uses: 1,
      documents: [{ sha256: secret, name: 'stolen.pdf' }],
    });
    expect(attached.status).toBe(404);
    expect(attached.body.code).toBe('blob_not_found');
    expect(JSON.stringify(attached.body)).not.toContain('Victim');
    const applications = await world.db
      .selectFrom('application_documents')
      .select('application_id')
      .where('sha256', '=', secret)
      .execute();
    expect(applications).toEqual([]);
  });

  it('lets someone who took part in an application naming a document attach it to their own', async () => {
    const one = await companyWithApplicant('Reviewed Co');
    const reviewer = await buildUser(world, { groupId: group.groupId, companyId: one.company.id, name: 'Reviewer' });
    // The reviewer approves alongside the keeper, and may use the seal too.
    await client(world, sealOffice.token).post(`/api/v1/seals/${one.seal.id}/grants`, {
      grantee: { type: 'user', userId: reviewer.id },
      categories: ['legal'],
    });
    expect(
      (
        await client(world, sealOffice.token).post('/api/v1/flows', {
          companyId: one.company.id,
          category: 'legal',
          name: 'Legal review',
          definition: {
            levels: [
              {
                name: 'Review',
                mode: 'any',
                approvers: [{ type: 'user', userId: reviewer.id }, { type: 'custodian' }],
              },
            ],
          },
        })
      ).status,
    ).toBe(201);
    await client(world, sealOffice.token).post(`/api/v1/seals/${one.seal.id}/grants`, {
      grantee: { type: 'user', userId: one.applicant.id },
      categories: ['legal'],
    });
    const document = await upload(one.applicant, buildPdf({ seed: 7002 }));
    const first = await client(world, one.applicant.token).post('/api/v1/applications', {
      sealIds: [one.seal.id],
      category: 'legal',
      reason: 'x',
      uses: 1,
      documents: [{ sha256: document, name: 'contract.pdf' }],
    });
    expect(first.status).toBe(201);
    const own = await client(world, reviewer.token).post('/api/v1/applications', {
      sealIds: [one.seal.id],
      category: 'legal',
      reason: 'counter-signature',
      uses: 1,
      documents: [{ sha256: document, name: 'contract.pdf' }],
    });
    expect(own.status).toBe(201);
    expect(own.body.documents.map((d: { sha256: string }) => d.sha256)).toEqual([document]);
  });
});

describe('the same bytes uploaded twice', () => {
  it('belong to each uploader: the second one reads the pages and signs them', async () => {
    const a = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'First uploader' });
    const b = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Second uploader' });
    const bytes = buildPdf({ seed: 7003 });
    const first = await upload(a, bytes, 'first.pdf');
    const second = await upload(b, Buffer.from(bytes), 'second.pdf');
    expect(second).toBe(first);
    for (const user of [a, b]) {
      const pages = await client(world, user.token).get(`/api/v1/documents/${first}/pages`);
      expect(pages.status).toBe(200);
      expect(pages.body.count).toBe(1);
    }
    const signed = await client(world, b.token).post('/api/v1/signatures', { documentSha256: first, level: 'B-B' });
    expect(signed.status).toBe(201);
    // A third person, who never uploaded it, still may not.
    const c = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Third person' });
    expect((await client(world, c.token).get(`/api/v1/documents/${first}/pages`)).status).toBe(404);
  });

  it('lets the second uploader of the same seal image read it', async () => {
    const a = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Designer one',
    });
    const b = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Designer two',
    });
    const spec = { shape: 'square', name: '王五之印' };
    const one = await client(world, a.token).post('/api/v1/seal-images/generate', spec);
    const two = await client(world, b.token).post('/api/v1/seal-images/generate', spec);
    expect(two.body.sha256).toBe(one.body.sha256);
    const read = await world.app.inject({
      method: 'GET',
      url: `/api/v1/seal-images/${two.body.sha256}`,
      headers: { authorization: `Bearer ${b.token}` },
    });
    expect(read.statusCode).toBe(200);
  });

  it('refuses to name another company’s seal image in a production application', async () => {
    const a = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Image owner Co' });
    const b = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Image thief Co' });
    const owner = await buildUser(world, {
      groupId: group.groupId,
      companyId: a.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Owner designer',
    });
    const thief = await buildUser(world, {
      groupId: group.groupId,
      companyId: b.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Thief admin',
    });
    const image = await client(world, owner.token).post('/api/v1/seal-images/generate', {
      shape: 'round',
      company: '所有者有限公司',
      type: '合同专用章',
    });
    expect(image.status).toBe(201);
    const lifecycleFlow = await client(world, sealOffice.token).post('/api/v1/flows', {
      companyId: group.hq.id,
      purpose: 'lifecycle',
      name: 'Seal lifecycle',
      definition: { levels: [{ name: 'HQ', mode: 'any', approvers: [{ type: 'user', userId: sealOffice.id }] }] },
    });
    expect(lifecycleFlow.status).toBe(201);
    const applied = await client(world, thief.token).post('/api/v1/seals/production-applications', {
      companyId: b.id,
      name: '窃取章',
      code: 'THIEF-01',
      kind: 'electronic',
      type: 'contract',
      custodianIds: [thief.id],
      imageSha256: image.body.sha256,
      reason: 'x',
    });
    expect(applied.status).toBe(404);
    expect(applied.body.code).toBe('blob_not_found');
  });
});
