// Batch signing: one confirmation, each document its own signature, made by the job runner; a
// grant with fewer uses than documents signs what it covers and says why the rest failed; the
// session that confirmed it must stay live; nobody else sees the batch; documents signed side by
// side, one failing in the engine, leave the others signed and counted once each.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
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

  /** A new employee of the clerk's company, with a grant for the seal in one category. */
  async function grantee(category: string, maxUses?: number) {
    const company = await world.db
      .selectFrom('users')
      .select('company_id')
      .where('id', '=', clerk.id)
      .executeTakeFirstOrThrow();
    const user = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.company_id,
      roles: [{ role: 'employee' }],
    });
    const grant = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: user.id },
      categories: [category],
      ...(maxUses ? { maxUses } : {}),
    });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);
    return { user, grantId: grant.body.id as string };
  }

  async function kept(grantId: string) {
    const used = await world.db
      .selectFrom('seal_grants')
      .select('used_count')
      .where('id', '=', grantId)
      .executeTakeFirstOrThrow();
    const signatures = await world.db
      .selectFrom('signatures')
      .select(['id', 'input_sha256'])
      .where('grant_id', '=', grantId)
      .execute();
    const events = await world.db
      .selectFrom('audit_events')
      .select(['seq', 'changes', 'occurred_at'])
      .where('action', '=', 'document.signed')
      .where(sql<string>`changes->>'grantId'`, '=', grantId)
      .orderBy('seq')
      .execute();
    return { used: used.used_count, signatures, events };
  }

  it('signs exactly the first five of eight documents with a grant of five uses, and counts five', async () => {
    const { user, grantId } = await grantee('sales', 5);
    const documents: string[] = [];
    for (let seed = 0; seed < 8; seed++) documents.push(await upload(user, 7000 + seed));
    const started = await client(world, user.token).post('/api/v1/signatures/batches', {
      documents,
      sealId: seal.id,
      category: 'sales',
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    await world.jobs.runDueJobs();
    const done = await client(world, user.token).get(`/api/v1/signatures/batches/${started.body.id}`);
    expect(done.body.status).toBe('done');
    const items = done.body.items as Array<{ status: string; errorCode: string | null; errorDetail: string | null }>;
    expect(items.map((i) => i.status)).toEqual([...Array(5).fill('signed'), ...Array(3).fill('failed')]);
    expect(items.slice(5).map((i) => i.errorCode)).toEqual(Array(3).fill('seal_not_granted'));
    // The same message as when the documents are signed one by one.
    expect(items[5]!.errorDetail).toContain('You hold no grant for 华夏贸易发票专用章');

    const { used, signatures, events } = await kept(grantId);
    expect(used).toBe(5);
    expect(signatures.map((s) => s.input_sha256).sort()).toEqual(documents.slice(0, 5).sort());
    // One event per signature, in the batch's order, saying what was signed with which use.
    expect(events.map((e) => (e.changes as { inputSha256: string }).inputSha256)).toEqual(documents.slice(0, 5));
    expect(new Set(events.map((e) => (e.changes as { signatureId: string }).signatureId))).toEqual(
      new Set(signatures.map((s) => s.id)),
    );
  });

  /**
   * Runs the batch's job with `change` made in the transaction that keeps its first signatures
   * (a database trigger, dropped afterwards): as if a suspension or a revocation were approved
   * right after the first group was kept, while the rest are still being signed.
   */
  async function runChangingAfterFirstGroup(change: string): Promise<void> {
    await sql
      .raw(
        `create function test_batch_change() returns trigger language plpgsql as $$ begin ${change}; return null; end $$;
         create trigger test_batch_change after insert on signatures for each statement execute function test_batch_change()`,
      )
      .execute(world.db);
    try {
      await world.jobs.runDueJobs();
    } finally {
      await sql
        .raw('drop trigger test_batch_change on signatures; drop function test_batch_change()')
        .execute(world.db);
    }
  }

  async function startMany(category: string, count: number, seed: number) {
    const { user, grantId } = await grantee(category);
    const documents: string[] = [];
    for (let n = 0; n < count; n++) documents.push(await upload(user, seed + n));
    const started = await client(world, user.token).post('/api/v1/signatures/batches', {
      documents,
      sealId: seal.id,
      category,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    return { user, grantId, id: started.body.id as string };
  }

  /** The first documents signed, every later one failed with `code`; uses, signatures and events only for the signed. */
  async function expectStoppedAfterFirstGroup(q: {
    user: User;
    grantId: string;
    id: string;
    code: string;
    count: number;
  }) {
    const done = await client(world, q.user.token).get(`/api/v1/signatures/batches/${q.id}`);
    expect(done.body.status).toBe('done');
    const items = done.body.items as Array<{ status: string; errorCode: string | null }>;
    const signed = items.filter((i) => i.status === 'signed').length;
    expect(signed).toBeGreaterThan(0);
    expect(signed).toBeLessThan(q.count);
    expect(items.slice(0, signed).every((i) => i.status === 'signed')).toBe(true);
    expect(items.slice(signed).map((i) => i.errorCode)).toEqual(Array(q.count - signed).fill(q.code));
    const { used, signatures, events } = await kept(q.grantId);
    expect(used).toBe(signed);
    expect(signatures).toHaveLength(signed);
    expect(events).toHaveLength(signed);
  }

  it('fails the rest, counting nothing for them, when the seal is suspended while the batch runs', async () => {
    const batch = await startMany('custom:notices', 24, 8000);
    try {
      await runChangingAfterFirstGroup(`update seals set status = 'suspended' where id = '${seal.id}'`);
    } finally {
      await world.db.updateTable('seals').set({ status: 'active' }).where('id', '=', seal.id).execute();
    }
    await expectStoppedAfterFirstGroup({ ...batch, code: 'seal_not_usable', count: 24 });
  });

  it('fails the rest, counting nothing for them, when the certificate is revoked while the batch runs', async () => {
    const batch = await startMany('custom:receipts', 24, 9000);
    await runChangingAfterFirstGroup(
      `update certificates set status = 'revoked', revoked_at = now(), revocation_reason = 'keyCompromise'
         where id = (select certificate_id from signatures order by signed_at desc limit 1)`,
    );
    await expectStoppedAfterFirstGroup({ ...batch, code: 'certificate_revoked', count: 24 });
  });

  it('fails a document that is no longer the signer’s to read, and signs the others', async () => {
    const { user, grantId } = await grantee('custom:letters');
    const documents = [await upload(user, 9101), await upload(user, 9102), await upload(user, 9103)];
    const started = await client(world, user.token).post('/api/v1/signatures/batches', {
      documents,
      sealId: seal.id,
      category: 'custom:letters',
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    // The second file is now only another person's upload: the signer holds no upload of it.
    await upload(keeper, 9102);
    await world.db
      .deleteFrom('blob_uploads')
      .where('sha256', '=', documents[1]!)
      .where('uploaded_by', '=', user.id)
      .execute();
    await world.jobs.runDueJobs();
    const done = await client(world, user.token).get(`/api/v1/signatures/batches/${started.body.id}`);
    expect(done.body.items.map((i: { status: string }) => i.status)).toEqual(['signed', 'failed', 'signed']);
    expect(done.body.items[1].errorCode).toBe('blob_not_found');
    const { used, signatures } = await kept(grantId);
    expect(used).toBe(2);
    expect(signatures.map((s) => s.input_sha256).sort()).toEqual([documents[0], documents[2]].sort());
  });
});
