// Batch signing: one confirmation, each document its own signature, made by the job runner; a
// grant with fewer uses than documents signs what it covers and says why the rest failed; the
// session that confirmed it must stay live; nobody else sees the batch; documents signed side by
// side, one failing in the engine, leave the others signed and counted once each.
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

type User = Awaited<ReturnType<typeof buildUser>>;

let world: World;
let group: GroupFixture;
let keeper: User;
let clerk: User;
let colleague: User;
let seal: { id: string };
let tmp: ReturnType<typeof tempDir>;
let nss: string;

beforeAll(async () => {
  for (const tool of ['pdfsig', 'certutil']) requireTool(tool);
  tmp = tempDir('sigil-batch-');
  world = await createWorld();
  group = await buildGroup(world, 'Batch Group');
  const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
  keeper = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'seal_admin' }] });
  clerk = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'employee' }] });
  colleague = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'employee' }] });
  seal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: company.id,
    custodianIds: [keeper.id],
    name: '华夏贸易发票专用章',
  });
  const root = await world.app.inject({ method: 'GET', url: '/pki/root/certificate' });
  nss = nssDatabase(tmp.dir, root.rawPayload);
});
afterAll(async () => {
  await world?.close();
  tmp?.remove();
});

async function upload(user: User, seed: number): Promise<string> {
  const response = await world.app.inject({
    method: 'POST',
    url: `/api/v1/documents/uploads?name=invoice-${seed}.pdf`,
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
    payload: buildPdf({ seed, lines: [`Invoice ${seed}`] }),
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().sha256 as string;
}

describe('batch signing', () => {
  it('signs each document of the batch with its own signature, and a short grant fails the rest by name', async () => {
    const grant = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: clerk.id },
      categories: ['finance'],
      maxUses: 4,
    });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);
    const documents = [];
    for (let seed = 1; seed <= 6; seed++) documents.push(await upload(clerk, 1000 + seed));

    // Another person's file cannot ride along: refused before anything is queued.
    const foreign = await upload(colleague, 2000);
    const refused = await client(world, clerk.token).post('/api/v1/signatures/batches', {
      documents: [...documents, foreign],
      sealId: seal.id,
      category: 'finance',
    });
    expect(refused.status).toBe(404);
    const twice = await client(world, clerk.token).post('/api/v1/signatures/batches', {
      documents: [documents[0], documents[0]],
      sealId: seal.id,
      category: 'finance',
    });
    expect(twice.status).toBe(400);
    const ungranted = await client(world, colleague.token).post('/api/v1/signatures/batches', {
      documents: [foreign],
      sealId: seal.id,
      category: 'finance',
    });
    expect(ungranted.body.code).toBe('seal_not_granted');

    const started = await client(world, clerk.token).post('/api/v1/signatures/batches', {
      documents,
      sealId: seal.id,
      category: 'finance',
      level: 'B-T',
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body.status).toBe('running');
    expect(started.body.total).toBe(6);
    const id = started.body.id as string;

    await world.jobs.runDueJobs();
    const done = await client(world, clerk.token).get(`/api/v1/signatures/batches/${id}`);
    expect(done.body.status).toBe('done');
    expect(done.body.signed).toBe(4);
    expect(done.body.failed).toBe(2);
    const statuses = done.body.items.map((i: { status: string }) => i.status);
    expect(statuses).toEqual(['signed', 'signed', 'signed', 'signed', 'failed', 'failed']);
    expect(done.body.items[4].errorCode).toBe('seal_not_granted');

    // Each output is its own signature over its own document, valid and trusted for pdfsig.
    const outputs = new Set(done.body.items.slice(0, 4).map((i: { outputSha256: string }) => i.outputSha256));
    expect(outputs.size).toBe(4);
    const first = done.body.items[0];
    const file = join(tmp.dir, 'first.pdf');
    const download = await world.app.inject({
      method: 'GET',
      url: `/api/v1/signatures/${first.signatureId}/document`,
      headers: { authorization: `Bearer ${clerk.token}` },
    });
    writeFileSync(file, download.rawPayload);
    const [signature] = pdfsig(file, nss);
    expect(signature?.signatureValid).toBe(true);
    expect(signature?.certificateTrusted).toBe(true);

    // Running the job again signs nothing twice.
    await world.jobs.runDueJobs();
    const signatures = await world.db
      .selectFrom('signatures')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', clerk.id)
      .executeTakeFirstOrThrow();
    expect(Number(signatures.n)).toBe(4);

    expect((await client(world, colleague.token).get(`/api/v1/signatures/batches/${id}`)).status).toBe(404);
  });

  it('signs nothing once the session that confirmed the batch has ended', async () => {
    await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: colleague.id },
      categories: ['finance'],
    });
    const document = await upload(colleague, 3001);
    const started = await client(world, colleague.token).post('/api/v1/signatures/batches', {
      documents: [document],
      sealId: seal.id,
      category: 'finance',
    });
    expect(started.status).toBe(202);
    expect((await client(world, colleague.token).post('/api/v1/auth/sign-out', {})).status).toBe(200);
    await world.jobs.runDueJobs();
    const row = await world.db
      .selectFrom('signature_batch_items')
      .select(['status', 'error_code'])
      .where('batch_id', '=', started.body.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'failed', error_code: 'unauthenticated' });
  });

  it('never names a seal of another company to someone with no grant for it', async () => {
    const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Sibling Co' });
    const prober = await buildUser(world, {
      groupId: group.groupId,
      companyId: sibling.id,
      roles: [{ role: 'employee' }],
    });
    const own = await upload(prober, 4001);
    const batch = await client(world, prober.token).post('/api/v1/signatures/batches', {
      documents: [own],
      sealId: seal.id,
      category: 'finance',
    });
    const single = await client(world, prober.token).post('/api/v1/signatures', {
      documentSha256: own,
      sealId: seal.id,
      category: 'finance',
    });
    for (const answer of [batch, single]) {
      expect(answer.status).toBe(404);
      expect(answer.body.code).toBe('seal_not_found');
      expect(JSON.stringify(answer.body)).not.toContain('发票专用章');
    }
  });

  it('signs the others side by side when one document of the batch fails in the engine', async () => {
    const image = await client(world, keeper.token).post('/api/v1/seal-images/generate', {
      shape: 'round',
      company: '华夏贸易有限公司',
      type: '发票专用章',
    });
    expect(image.status).toBe(201);
    await world.db
      .updateTable('seals')
      .set({ image_sha256: image.body.sha256, image_media_type: image.body.mediaType })
      .where('id', '=', seal.id)
      .execute();
    const grant = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: clerk.id },
      categories: ['procurement'],
    });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);
    // Nine documents of two pages, but the fourth has one: the seal goes on page 2.
    const documents: string[] = [];
    const originals: Buffer[] = [];
    for (let n = 0; n < 9; n++) {
      const pdf = buildPdf({ seed: 5000 + n, pages: n === 3 ? 1 : 2, lines: [`Notice ${n}`] });
      originals.push(pdf);
      const response = await world.app.inject({
        method: 'POST',
        url: `/api/v1/documents/uploads?name=notice-${n}.pdf`,
        headers: { authorization: `Bearer ${clerk.token}`, 'content-type': 'application/pdf' },
        payload: pdf,
      });
      expect(response.statusCode, response.body).toBe(201);
      documents.push(response.json().sha256 as string);
    }
    const started = await client(world, clerk.token).post('/api/v1/signatures/batches', {
      documents,
      sealId: seal.id,
      category: 'procurement',
      level: 'B-T',
      appearance: { type: 'rect', page: 2, rect: [350, 80, 120, 120] },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const id = started.body.id as string;

    await world.jobs.runDueJobs();
    const done = await client(world, clerk.token).get(`/api/v1/signatures/batches/${id}`);
    expect(done.body.status).toBe('done');
    expect(done.body.signed).toBe(8);
    expect(done.body.failed).toBe(1);
    const items = done.body.items as Array<{
      status: string;
      errorCode: string | null;
      signatureId: string | null;
      outputSha256: string | null;
    }>;
    expect(items.map((i) => i.status)).toEqual(['signed', 'signed', 'signed', 'failed', ...Array(5).fill('signed')]);
    expect(items[3]!.errorCode).toBe('pdf_page_not_found');
    expect(items[3]!.signatureId).toBeNull();
    // The batch's row says the same once it is done.
    const row = await world.db
      .selectFrom('signature_batches')
      .select(['signed', 'failed'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ signed: 8, failed: 1 });

    // Eight signatures, eight uses of the grant: the failed document counted none.
    const used = await world.db
      .selectFrom('seal_grants')
      .select('used_count')
      .where('id', '=', grant.body.id)
      .executeTakeFirstOrThrow();
    expect(used.used_count).toBe(8);
    const outputs = new Set(items.filter((i) => i.status === 'signed').map((i) => i.outputSha256));
    expect(outputs.size).toBe(8);

    // Each output signs its own document: valid and trusted for pdfsig, the last and a middle one.
    for (const at of [2, 8]) {
      const download = await world.app.inject({
        method: 'GET',
        url: `/api/v1/signatures/${items[at]!.signatureId}/document`,
        headers: { authorization: `Bearer ${clerk.token}` },
      });
      const file = join(tmp.dir, `notice-${at}.pdf`);
      writeFileSync(file, download.rawPayload);
      // An incremental update of its own document, not of another one's.
      expect(download.rawPayload.subarray(0, originals[at]!.length).equals(originals[at]!)).toBe(true);
      const [signature] = pdfsig(file, nss);
      expect(signature?.signatureValid).toBe(true);
      expect(signature?.certificateTrusted).toBe(true);
    }
  });

  it('fails every document by its own check when the grant was revoked after the confirmation', async () => {
    const company = await world.db
      .selectFrom('users')
      .select('company_id')
      .where('id', '=', clerk.id)
      .executeTakeFirstOrThrow();
    const colleague = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.company_id,
      roles: [{ role: 'employee' }],
    });
    const grant = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: colleague.id },
      categories: ['legal'],
    });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);
    const documents = [await upload(colleague, 6001), await upload(colleague, 6002)];
    const started = await client(world, colleague.token).post('/api/v1/signatures/batches', {
      documents,
      sealId: seal.id,
      category: 'legal',
    });
    expect(started.status).toBe(202);
    const revoked = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants/${grant.body.id}/revoke`, {
      reason: 'Moved to another post',
    });
    expect(revoked.status, JSON.stringify(revoked.body)).toBeLessThan(300);
    await world.jobs.runDueJobs();
    const done = await client(world, colleague.token).get(`/api/v1/signatures/batches/${started.body.id}`);
    expect(done.body.status).toBe('done');
    expect(done.body.signed).toBe(0);
    expect(done.body.items.map((i: { errorCode: string }) => i.errorCode)).toEqual([
      'seal_not_granted',
      'seal_not_granted',
    ]);
  });
});
