// What the console's stamping and verification screens read besides signing itself: the signed
// copies of a document (GET /signatures?originalSha256=), a document's pages to place a seal by
// page and corner (GET /documents/{sha256}/pages), and the impressions in a verification report.
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
let keeper: User;
let signer: User;
let other: User;
let seal: { id: string };

beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world, 'Console Signing Group');
  const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
  keeper = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Keeper',
  });
  signer = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Zhang San' });
  other = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Li Si' });
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
  for (const user of [signer, other]) {
    expect(
      (
        await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
          grantee: { type: 'user', userId: user.id },
          categories: ['sales'],
        })
      ).status,
    ).toBe(201);
  }
});
afterAll(() => world?.close());

async function upload(user: User, bytes: Buffer, name = 'contract.pdf'): Promise<string> {
  const response = await world.app.inject({
    method: 'POST',
    url: `/api/v1/documents/uploads?name=${encodeURIComponent(name)}`,
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
    payload: bytes,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().sha256 as string;
}

const sign = (user: User, body: Record<string, unknown>) => client(world, user.token).post('/api/v1/signatures', body);

describe('the signed copies of a document', () => {
  it('lists the chain of signatures from the original, oldest first, to its signer only', async () => {
    const original = await upload(signer, buildPdf({ pages: 2, seed: 101 }));
    const first = await sign(signer, {
      documentSha256: original,
      sealId: seal.id,
      category: 'sales',
      level: 'B-B',
      appearance: { type: 'rect', page: 2, rect: [400, 60, 120, 120] },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const second = await sign(signer, {
      documentSha256: first.body.outputSha256,
      sealId: seal.id,
      category: 'sales',
      level: 'B-B',
      crossPage: {},
    });
    expect(second.status, JSON.stringify(second.body)).toBe(201);

    expect((await client(world).get(`/api/v1/signatures?originalSha256=${original}`)).status).toBe(401);
    const bad = await client(world, signer.token).get('/api/v1/signatures?originalSha256=XYZ');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      { field: 'querystring.originalSha256', message: 'must be a SHA-256 in lower-case hex' },
    ]);

    const listed = await client(world, signer.token).get(`/api/v1/signatures?originalSha256=${original}`);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((s: { id: string }) => s.id)).toEqual([first.body.id, second.body.id]);
    expect(listed.body.items[1]).toMatchObject({
      inputSha256: first.body.outputSha256,
      originalSha256: original,
      sealName: '华夏贸易合同专用章',
    });
    // Another employee of the company sees none of them; the seal administrator sees them all.
    expect((await client(world, other.token).get(`/api/v1/signatures?originalSha256=${original}`)).body.items).toEqual(
      [],
    );
    expect(
      (await client(world, keeper.token).get(`/api/v1/signatures?originalSha256=${original}`)).body.items,
    ).toHaveLength(2);
  });
});

describe("a document's pages", () => {
  it('answers the page count and boxes of a PDF the caller may stamp, and nothing of anyone else’s', async () => {
    const sha = await upload(signer, buildPdf({ pages: 3, seed: 102 }));
    expect((await client(world).get(`/api/v1/documents/${sha}/pages`)).status).toBe(401);
    expect((await client(world, signer.token).get('/api/v1/documents/abc/pages')).status).toBe(400);
    const pages = await client(world, signer.token).get(`/api/v1/documents/${sha}/pages`);
    expect(pages.status, JSON.stringify(pages.body)).toBe(200);
    expect(pages.body).toEqual({
      sha256: sha,
      format: 'pdf',
      count: 3,
      pages: Array(3).fill({ box: [0, 0, 595, 842], rotate: 0 }),
      last: { box: [0, 0, 595, 842], rotate: 0 },
    });
    const refused = await client(world, other.token).get(`/api/v1/documents/${sha}/pages`);
    expect(refused.status).toBe(404);
    expect(refused.body.code).toBe('blob_not_found');
  });
});

describe('verification reports', () => {
  it('carry the impression each signature shows, as a PNG', async () => {
    const sha = await upload(signer, buildPdf({ pages: 1, seed: 103 }));
    const signed = await sign(signer, {
      documentSha256: sha,
      sealId: seal.id,
      category: 'sales',
      level: 'B-B',
      appearance: { type: 'rect', page: 1, rect: [400, 60, 120, 120] },
    });
    expect(signed.status, JSON.stringify(signed.body)).toBe(201);
    const pdf = await world.app.inject({
      method: 'GET',
      url: `/api/v1/signatures/${signed.body.id}/document`,
      headers: { authorization: `Bearer ${signer.token}` },
    });
    const report = await world.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: `Bearer ${other.token}`, 'content-type': 'application/pdf' },
      payload: pdf.rawPayload,
    });
    expect(report.statusCode).toBe(200);
    const [signature] = report.json().signatures;
    expect(signature.seals).toHaveLength(1);
    expect(signature.seals[0]).toMatchObject({ page: 1, rect: [400, 60, 120, 120] });
    expect(Buffer.from(signature.seals[0].png, 'base64').subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});
