// Signing through the API: a stored document signed with a seal under an approved authorization
// or a grant (checked and counted in the signing transaction), at B-B…B-LTA, visible, keyword-
// placed and cross-page; the output checked by pdfsig and by Sigil's verifier; later signatures
// incremental; refusals; verification uploads and the hash-only archive lookup.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { buildApp } from '../src/server/app.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPdf } from '../src/signing/pades.js';
import { sha256Of } from '../src/signing/verify.js';
import { buildPdf } from './signing/pdf-fixtures.js';
import { nssDatabase, pdfsig, requireTool, run, tempDir, testPki } from './signing/support.js';
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
let keeper: User;
let approver: User;
let applicant: User;
let outsider: User;
let seal: { id: string };
let officialSeal: { id: string };
let grantId: string;
let tmp: ReturnType<typeof tempDir>;
let nss: string;

const contract = () =>
  buildPdf({
    pages: 3,
    lines: ['Sales contract No. 2026-001', 'Sigil test document'],
    cjkLines: ['甲方（盖章）：华夏贸易有限公司', '乙方（盖章）：'],
    compress: false,
  });

beforeAll(async () => {
  for (const tool of ['pdfsig', 'certutil', 'openssl', 'qpdf']) requireTool(tool);
  tmp = tempDir('sigil-sign-api-');
  world = await createWorld({ SIGIL_PUBLIC_URL: 'https://sigil.example.test' });
  group = await buildGroup(world, 'Huaxia Group');
  company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
  keeper = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Keeper',
  });
  approver = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
    name: 'HQ approver',
  });
  applicant = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'employee' }],
    name: 'Zhang San',
  });
  outsider = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'employee' }],
    name: 'No Grant',
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
  officialSeal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: company.id,
    custodianIds: [keeper.id],
    name: '华夏贸易公章',
    type: 'official',
  });
  await world.db
    .updateTable('seals')
    .set({ image_sha256: image.body.sha256, image_media_type: image.body.mediaType })
    .where('id', '=', officialSeal.id)
    .execute();
  expect(
    (
      await client(world, keeper.token).post(`/api/v1/seals/${officialSeal.id}/grants`, {
        grantee: { type: 'user', userId: applicant.id },
        categories: ['sales'],
      })
    ).status,
  ).toBe(201);
  const grant = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
    grantee: { type: 'user', userId: applicant.id },
    categories: ['sales'],
  });
  expect(grant.status).toBe(201);
  grantId = grant.body.id;
  const flow = await client(world, approver.token).post('/api/v1/flows', {
    companyId: group.hq.id,
    category: 'sales',
    name: 'Sales seal use',
    definition: { levels: [{ name: 'HQ', mode: 'any', approvers: [{ type: 'user', userId: approver.id }] }] },
  });
  expect(flow.status, JSON.stringify(flow.body)).toBe(201);
  const lifecycleFlow = await client(world, approver.token).post('/api/v1/flows', {
    companyId: group.hq.id,
    purpose: 'lifecycle',
    name: 'Lifecycle',
    definition: { levels: [{ name: 'HQ', mode: 'any', approvers: [{ type: 'user', userId: approver.id }] }] },
  });
  expect(lifecycleFlow.status).toBe(201);
  const root = await world.app.inject({ method: 'GET', url: '/pki/root/certificate' });
  nss = nssDatabase(tmp.dir, root.rawPayload);
});
afterAll(async () => {
  await world?.close();
  tmp?.remove();
});

async function upload(user: User, bytes: Buffer, name = '销售合同.pdf') {
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

async function download(user: User, signatureId: string): Promise<Buffer> {
  const response = await world.app.inject({
    method: 'GET',
    url: `/api/v1/signatures/${signatureId}/document`,
    headers: { authorization: `Bearer ${user.token}` },
  });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toBe('application/pdf');
  return response.rawPayload;
}

async function verify(user: User, bytes: Buffer, type = 'application/pdf') {
  const response = await world.app.inject({
    method: 'POST',
    url: '/api/v1/verifications',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': type },
    payload: bytes,
  });
  return { status: response.statusCode, body: response.json() };
}

async function approve(applicationId: string) {
  const task = (await client(world, approver.token).get('/api/v1/tasks?status=pending')).body.items.find(
    (t: { applicationId: string }) => t.applicationId === applicationId,
  );
  const approved = await client(world, approver.token).post(`/api/v1/tasks/${task.id}/approve`, {});
  expect(approved.body.status).toBe('approved');
  return approved.body;
}

let counter = 0;
const file = (bytes: Buffer) => tmp.file(`doc-${++counter}.pdf`, bytes);

describe('signing with an approved authorization', () => {
  it('signs the named document over its keyword at B-T, counts the use, and refuses when the uses are spent', async () => {
    const original = contract();
    const sha = await upload(applicant, original);
    const applied = await client(world, applicant.token).post('/api/v1/applications', {
      sealIds: [seal.id],
      category: 'sales',
      reason: '签署销售合同',
      uses: 1,
      documents: [{ sha256: sha, name: '销售合同.pdf' }],
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    const approved = await approve(applied.body.id);
    const authorizationId = approved.authorizations[0].id as string;

    const signed = await sign(applicant, {
      documentSha256: sha,
      authorizationId,
      level: 'B-T',
      appearance: { type: 'keyword', keyword: '甲方（盖章）', offset: [40, 0] },
      reason: '合同盖章',
    });
    expect(signed.status, JSON.stringify(signed.body)).toBe(201);
    expect(signed.body).toMatchObject({
      sealId: seal.id,
      userId: applicant.id,
      authorizationId,
      grantId: null,
      level: 'B-T',
      inputSha256: sha,
      originalSha256: sha,
      category: 'sales',
      reason: '合同盖章',
      documentName: '销售合同.pdf',
    });
    const output = await download(applicant, signed.body.id);
    expect(sha256Of(output)).toBe(signed.body.outputSha256);
    expect(output.subarray(0, original.length).equals(original)).toBe(true);

    const seen = pdfsig(file(output), nss);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ signatureValid: true, certificateTrusted: true, totalDocumentSigned: true });
    const report = await verify(applicant, output);
    expect(report.status).toBe(200);
    expect(report.body.intact).toBe(true);
    expect(report.body.signatures[0]).toMatchObject({
      valid: true,
      chainTrusted: true,
      timestamped: true,
      timestampValid: true,
      timestampTrusted: true,
      coversWholeDocument: true,
      revocation: 'good',
      level: 'B-T',
      revoked: false,
    });
    expect(report.body.signatures[0].signer.subject).toBe('CN=华夏贸易合同专用章, O=华夏贸易有限公司');
    expect(report.body.archive).toMatchObject({ found: true, signatures: [{ id: signed.body.id }] });

    const application = (await client(world, applicant.token).get(`/api/v1/applications/${applied.body.id}`)).body;
    expect(application.authorizations[0]).toMatchObject({ usesTotal: 1, usesConsumed: 1 });
    const again = await sign(applicant, { documentSha256: signed.body.outputSha256, authorizationId, level: 'B-B' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('authorization_exhausted');
    const history = (await client(world, keeper.token).get(`/api/v1/seals/${seal.id}`)).body.history;
    expect(history.find((h: { action: string }) => h.action === 'document.signed').changes).toMatchObject({
      signatureId: signed.body.id,
      authorizationId,
      outputSha256: signed.body.outputSha256,
    });
  });

  it('refuses a document the application does not name, and a revoked authorization', async () => {
    const named = await upload(applicant, contract());
    const other = await upload(applicant, buildPdf({ seed: 9 }));
    const applied = await client(world, applicant.token).post('/api/v1/applications', {
      sealIds: [seal.id],
      category: 'sales',
      reason: 'x',
      uses: 2,
      documents: [{ sha256: named, name: 'a.pdf' }],
    });
    const authorizationId = (await approve(applied.body.id)).authorizations[0].id as string;
    const wrongDocument = await sign(applicant, { documentSha256: other, authorizationId });
    expect(wrongDocument.status).toBe(403);
    expect(wrongDocument.body.code).toBe('document_not_authorized');
    // Someone else cannot use the applicant's authorization, even on a document of theirs.
    const borrowed = await sign(outsider, {
      documentSha256: await upload(outsider, buildPdf({ seed: 23 })),
      authorizationId,
    });
    expect(borrowed.status).toBe(404);
    expect(borrowed.body.code).toBe('authorization_not_found');
    await client(world, approver.token).post(`/api/v1/authorizations/${authorizationId}/revoke`, {});
    const revoked = await sign(applicant, { documentSha256: named, authorizationId });
    expect(revoked.status).toBe(409);
    expect(revoked.body.code).toBe('authorization_revoked');
  });
});

describe('signing under a grant', () => {
  it('signs at B-LT with a placed seal, then again with a cross-page seal at B-LTA as an incremental update; every signature still verifies', async () => {
    const original = contract();
    const sha = await upload(applicant, original);
    const first = await sign(applicant, {
      documentSha256: sha,
      sealId: seal.id,
      category: 'sales',
      level: 'B-LT',
      appearance: { type: 'rect', page: 3, rect: [380, 80, 120, 120] },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ grantId, authorizationId: null, level: 'B-LT' });
    const once = await download(applicant, first.body.id);
    // The second party's seal, across the page edges (骑缝章).
    const second = await sign(applicant, {
      documentSha256: first.body.outputSha256,
      sealId: officialSeal.id,
      category: 'sales',
      level: 'B-LTA',
      crossPage: {},
    });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(second.body).toMatchObject({ inputSha256: first.body.outputSha256, originalSha256: sha });
    const twice = await download(applicant, second.body.id);
    // Incremental: the earlier file is a prefix of the later one, byte for byte.
    expect(twice.subarray(0, once.length).equals(once)).toBe(true);
    expect(run('qpdf', ['--check', file(twice)]).out).toContain('No syntax or stream encoding errors');

    // pdfsig 22.12 cannot check the document time-stamp (ETSI.RFC3161); both seals it checks in full.
    const seen = pdfsig(file(twice), nss).filter((s) => s.type === 'ETSI.CAdES.detached');
    expect(seen).toHaveLength(2);
    for (const signature of seen)
      expect(signature, signature.raw).toMatchObject({
        signatureValid: true,
        certificateTrusted: true,
        totalDocumentSigned: false,
      });
    const report = (await verify(applicant, twice)).body;
    expect(report.intact).toBe(true);
    const signatures = report.signatures.filter((s: { kind: string }) => s.kind === 'signature');
    expect(signatures).toHaveLength(2);
    for (const s of signatures) expect(s).toMatchObject({ valid: true, chainTrusted: true, revocation: 'good' });
    expect(signatures.map((s: { level: string }) => s.level)).toEqual(['B-LTA', 'B-LTA']);
    expect(
      report.signatures.some((s: { kind: string; valid: boolean }) => s.kind === 'document-timestamp' && s.valid),
    ).toBe(true);
    expect(signatures[0].coversWholeDocument).toBe(false);
    expect(signatures[0].modifiedAfter).toBe('signatures-and-validation-data');
  });

  it('refuses without a grant, to the custodian, without a category, and when the grant has no uses left', async () => {
    // Distinct bytes: the blob store keeps the first uploader of identical content.
    const sha = await upload(outsider, buildPdf({ seed: 21 }));
    const none = await sign(outsider, { documentSha256: sha, sealId: seal.id, category: 'sales' });
    expect(none.status).toBe(403);
    expect(none.body.code).toBe('seal_not_granted');
    const keeperDoc = await upload(keeper, buildPdf({ seed: 22 }));
    const custodian = await sign(keeper, { documentSha256: keeperDoc, sealId: seal.id, category: 'sales' });
    expect(custodian.status).toBe(409);
    expect(custodian.body.code).toBe('sod_conflict');
    const noCategory = await sign(applicant, { documentSha256: await upload(applicant, contract()), sealId: seal.id });
    expect(noCategory.status).toBe(400);
    expect(noCategory.body.errors).toEqual([
      { field: 'body.category', message: 'is required when signing under a grant' },
    ]);

    const limited = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: outsider.id },
      categories: ['legal'],
      maxUses: 1,
    });
    expect(limited.status).toBe(201);
    const ok = await sign(outsider, { documentSha256: sha, sealId: seal.id, category: 'legal', level: 'B-B' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    const spent = await sign(outsider, {
      documentSha256: ok.body.outputSha256,
      sealId: seal.id,
      category: 'legal',
      level: 'B-B',
    });
    expect(spent.status).toBe(403);
    expect(spent.body.code).toBe('seal_not_granted');
    const grant = (await client(world, keeper.token).get(`/api/v1/seals/${seal.id}/grants`)).body.items.find(
      (g: { id: string }) => g.id === limited.body.id,
    );
    expect(grant.usedCount).toBe(1);
  });

  it('refuses a document the caller may not read, as not found', async () => {
    const mine = await upload(applicant, contract());
    const answer = await sign(outsider, { documentSha256: mine, sealId: seal.id, category: 'sales' });
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('blob_not_found');
  });

  it('refuses a suspended seal; its certificate is on the CRL; once resumed it signs again with the same certificate', async () => {
    const own = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [keeper.id],
      name: 'Suspended seal',
    });
    await client(world, keeper.token).post(`/api/v1/seals/${own.id}/grants`, {
      grantee: { type: 'user', userId: applicant.id },
      categories: ['sales'],
    });
    const sha = await upload(applicant, contract());
    const before = await sign(applicant, { documentSha256: sha, sealId: own.id, category: 'sales', level: 'B-T' });
    expect(before.status).toBe(201);
    const step = async (action: string) => {
      const applied = await client(world, keeper.token).post(`/api/v1/seals/${own.id}/lifecycle-applications`, {
        action,
        reason: action,
      });
      expect(applied.status, JSON.stringify(applied.body)).toBe(201);
      await approve(applied.body.id);
    };
    await step('suspend');
    const refused = await sign(applicant, { documentSha256: sha, sealId: own.id, category: 'sales', level: 'B-B' });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('seal_not_usable');
    const crl = await world.app.inject({ method: 'GET', url: `/pki/groups/${group.groupId}/crl` });
    const serial = before.body.certificateSerial.toUpperCase();
    expect(
      run('openssl', ['crl', '-inform', 'DER', '-in', tmp.file('suspended.crl', crl.rawPayload), '-noout', '-text'])
        .out,
    ).toContain(serial.length % 2 ? `0${serial}` : serial);
    // A signature time-stamped before the suspension still verifies (the hold dates from after it).
    expect((await verify(applicant, await download(applicant, before.body.id))).body.signatures[0]).toMatchObject({
      valid: true,
      revocation: 'good',
    });
    await step('resume');
    const after = await sign(applicant, { documentSha256: sha, sealId: own.id, category: 'sales', level: 'B-B' });
    expect(after.status).toBe(201);
    expect(after.body.certificateId).toBe(before.body.certificateId);
  });

  it('never signs with a revoked certificate: the seal gets a new one and the old serial stays on the CRL', async () => {
    const sha = await upload(applicant, contract());
    const first = await sign(applicant, { documentSha256: sha, sealId: seal.id, category: 'sales', level: 'B-T' });
    const replaced = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/certificate`, { replace: true });
    expect(replaced.status).toBe(201);
    const second = await sign(applicant, { documentSha256: sha, sealId: seal.id, category: 'sales', level: 'B-B' });
    expect(second.body.certificateId).toBe(replaced.body.id);
    expect(second.body.certificateId).not.toBe(first.body.certificateId);
    const report = (await verify(applicant, await download(applicant, first.body.id))).body;
    // Superseded after it was time-stamped: the earlier signature stays valid, its serial is on the CRL.
    expect(report.signatures[0]).toMatchObject({ valid: true, revocation: 'good' });
    const crl = await world.app.inject({ method: 'GET', url: `/pki/groups/${group.groupId}/crl` });
    const serial = first.body.certificateSerial.toUpperCase();
    expect(
      run('openssl', ['crl', '-inform', 'DER', '-in', tmp.file('superseded.crl', crl.rawPayload), '-noout', '-text'])
        .out,
    ).toContain(serial.length % 2 ? `0${serial}` : serial);
  });
});

describe('an outside time-stamp authority', () => {
  it('is asked before the seal is locked: a slow TSA holds no lock and no database connection', async () => {
    // A TSA that answers (through the built-in one) only when released.
    let arrived!: () => void;
    const asked = new Promise<void>((resolve) => (arrived = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const tsa = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        arrived();
        await released;
        const answer = await world.app.inject({
          method: 'POST',
          url: '/tsa',
          headers: { 'content-type': 'application/timestamp-query' },
          payload: Buffer.concat(chunks),
        });
        response
          .writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type']) })
          .end(answer.rawPayload);
      });
    });
    await new Promise<void>((resolve) => tsa.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(tsa.address() as AddressInfo).port}/tsa`;
    const app = await buildApp(
      { ...world.ctx, config: { ...world.ctx.config, pki: { ...world.ctx.config.pki, tsaUrls: [url] } } },
      { logger: false },
    );
    try {
      const sha = await upload(applicant, contract());
      const signing = app.inject({
        method: 'POST',
        url: '/api/v1/signatures',
        headers: { authorization: `Bearer ${applicant.token}` },
        payload: { documentSha256: sha, sealId: seal.id, category: 'sales', level: 'B-T' },
      });
      await asked;
      // While the TSA is thinking, the seal can be locked for a change at once.
      const locking = world.db.transaction().execute(async (trx) => {
        await sql`select id from seals where id = ${seal.id} for update nowait`.execute(trx);
        return 'locked';
      });
      const outcome = await Promise.race([
        locking,
        new Promise((resolve) => setTimeout(() => resolve('still waiting'), 3000)),
      ]);
      release();
      expect(outcome).toBe('locked');
      const signed = await signing;
      expect(signed.statusCode, signed.body).toBe(201);
      expect((await verify(applicant, await download(applicant, signed.json().id))).body.signatures[0]).toMatchObject({
        valid: true,
        timestamped: true,
        timestampValid: true,
      });
    } finally {
      release();
      await app.close();
      await new Promise((resolve) => tsa.close(resolve));
    }
  });
});

describe('personal signatures', () => {
  it("signs with the person's own certificate; pdfsig names them and trusts the chain", async () => {
    const sha = await upload(applicant, contract());
    const signed = await sign(applicant, { documentSha256: sha, level: 'B-T', reason: '本人签署' });
    expect(signed.status, JSON.stringify(signed.body)).toBe(201);
    expect(signed.body).toMatchObject({ sealId: null, grantId: null, authorizationId: null });
    const seen = pdfsig(file(await download(applicant, signed.body.id)), nss);
    expect(seen[0]).toMatchObject({ signatureValid: true, certificateTrusted: true });
    expect(seen[0]!.raw).toContain('Zhang San');
    const visible = await sign(applicant, {
      documentSha256: sha,
      appearance: { type: 'rect', page: 1, rect: [0, 0, 50, 50] },
    });
    expect(visible.status).toBe(400);
  });
});

describe('bad input', () => {
  it('names the problem with a 4xx for malformed, truncated, encrypted files, missing pages and keywords', async () => {
    const good = contract();
    const truncated = await upload(applicant, good.subarray(0, Math.floor(good.length / 2)));
    const encryptedFile = tmp.file('encrypted.pdf');
    run('qpdf', ['--encrypt', 'user', 'owner', '256', '--', file(good), encryptedFile]);
    const encrypted = await upload(applicant, readFileSync(encryptedFile));
    const plain = await upload(applicant, good);
    const cases: Array<[string, Record<string, unknown>, number, string]> = [
      ['a truncated PDF', { documentSha256: truncated }, 422, 'pdf_malformed'],
      ['an encrypted PDF', { documentSha256: encrypted }, 422, 'pdf_encrypted'],
      [
        'a page that does not exist',
        { documentSha256: plain, appearance: { type: 'rect', page: 9, rect: [10, 10, 100, 100] } },
        422,
        'pdf_page_not_found',
      ],
      [
        'a keyword that does not occur',
        { documentSha256: plain, appearance: { type: 'keyword', keyword: '丙方（盖章）' } },
        422,
        'pdf_keyword_not_found',
      ],
      ['an unknown document', { documentSha256: 'c'.repeat(64) }, 404, 'blob_not_found'],
      ['a non-hash', { documentSha256: 'nope' }, 400, 'validation_failed'],
      [
        'a negative rectangle',
        { documentSha256: plain, appearance: { type: 'rect', page: 1, rect: [10, 10, -5, 100] } },
        400,
        'validation_failed',
      ],
      [
        'both placements',
        { documentSha256: plain, appearance: { type: 'rect', page: 1, rect: [10, 10, 50, 50] }, crossPage: {} },
        400,
        'validation_failed',
      ],
      [
        'a physical seal',
        {
          documentSha256: plain,
          sealId: (
            await buildSeal(world, {
              groupId: group.groupId,
              companyId: company.id,
              kind: 'physical',
              custodianIds: [keeper.id],
            })
          ).id,
        },
        409,
        'seal_not_electronic',
      ],
    ];
    for (const [what, extra, status, code] of cases) {
      const answer = await sign(applicant, { sealId: seal.id, category: 'sales', level: 'B-B', ...extra });
      expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(status);
      expect(answer.headers['content-type'], what).toContain('application/problem+json');
      expect(answer.body.code, what).toBe(code);
      expect(answer.body.detail.length, what).toBeGreaterThan(10);
      // The parameters a client words these with in its reader's language.
      if (code === 'pdf_page_not_found') expect(answer.body.page, what).toBe(9);
      if (code === 'pdf_keyword_not_found') expect(answer.body.keyword, what).toBe('丙方（盖章）');
    }
    // Refused signatures counted nothing.
    const grant = (await client(world, keeper.token).get(`/api/v1/seals/${seal.id}/grants`)).body.items.find(
      (g: { id: string }) => g.id === grantId,
    );
    const records = await world.db.selectFrom('signatures').select('id').where('grant_id', '=', grantId).execute();
    expect(grant.usedCount).toBe(records.length);
  });

  it('verification: a tampered byte is invalid; non-PDF, truncated, encrypted and oversized uploads get a 4xx', async () => {
    const sha = await upload(applicant, contract());
    const signed = await sign(applicant, { documentSha256: sha, sealId: seal.id, category: 'sales', level: 'B-T' });
    const bytes = await download(applicant, signed.body.id);
    const tampered = Buffer.from(bytes);
    const at = tampered.indexOf('Sales contract No. 2026-001');
    expect(at).toBeGreaterThan(0);
    tampered[at + 'Sales contract No. 2026-00'.length] = '9'.charCodeAt(0);
    const report = await verify(applicant, tampered);
    expect(report.status).toBe(200);
    expect(report.body.intact).toBe(false);
    expect(report.body.signatures[0]).toMatchObject({ valid: false, digestMatches: false });
    expect(report.body.signatures[0].problems.join(' ')).toContain('digest mismatch');
    expect(report.body.archive.found).toBe(false);
    expect(report.body.verdict).toBe('invalid');

    // The platform's own signature: valid, and the one verdict says so.
    const good = await verify(applicant, bytes);
    expect(good.body).toMatchObject({ intact: true, verdict: 'valid' });
    expect(good.body.signatures[0]).toMatchObject({ valid: true, status: 'valid', chainTrusted: true });
    // Intact, but by a signer under a root the platform does not trust: never valid.
    const stranger = await testPki();
    const foreign = await verify(applicant, await signPdf(contract(), { signer: stranger.sealRsa.signer }));
    expect(foreign.body).toMatchObject({ intact: false, verdict: 'unknown-signer' });
    expect(foreign.body.signatures[0]).toMatchObject({
      digestMatches: true,
      signatureVerified: true,
      chainTrusted: false,
      valid: false,
      status: 'unknown-signer',
    });

    const encryptedFile = tmp.file('enc2.pdf');
    run('qpdf', ['--encrypt', 'user', 'owner', '256', '--', file(contract()), encryptedFile]);
    const bad: Array<[string, Buffer, number, string]> = [
      ['a PNG', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), 422, 'pdf_malformed'],
      ['a truncated PDF', bytes.subarray(0, Math.floor(bytes.length / 3)), 422, 'pdf_malformed'],
      ['an encrypted PDF', readFileSync(encryptedFile), 422, 'pdf_encrypted'],
      ['nothing', Buffer.alloc(0), 400, 'validation_failed'],
      ['21 MB', Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(21 * 1024 * 1024)]), 413, 'payload_too_large'],
    ];
    for (const [what, body, status, code] of bad) {
      const answer = await verify(applicant, body);
      expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(status);
      expect(answer.body.code, what).toBe(code);
    }
  });
});

describe('hash-only archive lookup', () => {
  it('finds a signed output and the signature that made it, not a random hash, and not for another group', async () => {
    const sha = await upload(applicant, contract());
    const signed = await sign(applicant, { documentSha256: sha, sealId: seal.id, category: 'sales', level: 'B-B' });
    const found = await client(world, applicant.token).get(`/api/v1/archive/${signed.body.outputSha256}`);
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({
      found: true,
      signatures: [{ id: signed.body.id, sealName: '华夏贸易合同专用章', userName: 'Zhang San', inputSha256: sha }],
    });
    expect(
      (await client(world, approver.token).get(`/api/v1/archive/${signed.body.outputSha256}`)).body.signatures,
    ).toHaveLength(1);
    // In the group, someone who may not see the signature learns only that the archive holds the file.
    expect((await client(world, outsider.token).get(`/api/v1/archive/${signed.body.outputSha256}`)).body).toEqual({
      sha256: signed.body.outputSha256,
      found: true,
      signatures: [],
    });
    const random = await client(world, applicant.token).get(`/api/v1/archive/${'0'.repeat(64)}`);
    expect(random.body).toEqual({ sha256: '0'.repeat(64), found: false, signatures: [] });
    // The unsigned original is not a signed output.
    expect((await client(world, applicant.token).get(`/api/v1/archive/${sha}`)).body.found).toBe(false);
    const other = await buildGroup(world, 'Other Group');
    const elsewhere = await client(world, other.admin.token).get(`/api/v1/archive/${signed.body.outputSha256}`);
    expect(elsewhere.body).toEqual({ sha256: signed.body.outputSha256, found: false, signatures: [] });
    expect((await client(world, other.admin.token).get(`/api/v1/signatures/${signed.body.id}`)).status).toBe(404);
    expect((await client(world).get(`/api/v1/archive/${sha}`)).status).toBe(401);
  });
});

describe('external time-stamping authorities (SIGIL_TSA_URLS)', () => {
  it('fails over from a TSA that does not answer to the next; when none answers, refuses with 502 and counts nothing', async () => {
    const { createServer } = await import('node:http');
    const { respondToTimeStampRequest } = await import('../src/signing/tsa.js');
    const { testPki } = await import('./signing/support.js');
    const outside = await testPki();
    let asked = 0;
    const live = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        asked++;
        void respondToTimeStampRequest(outside.tsa, Buffer.concat(chunks)).then((answer) =>
          response.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(answer),
        );
      });
    });
    const dead = createServer();
    const portOf = (server: ReturnType<typeof createServer>) =>
      new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
      );
    const livePort = await portOf(live);
    const deadPort = await portOf(dead);
    await new Promise((resolve) => dead.close(resolve));
    const external = await createWorld({
      SIGIL_TSA_URLS: `http://127.0.0.1:${deadPort}/tsa, http://127.0.0.1:${livePort}/tsa`,
      SIGIL_TSA_TIMEOUT_MS: '2000',
    });
    try {
      const g = await buildGroup(external);
      const keeper2 = await buildUser(external, {
        groupId: g.groupId,
        companyId: g.hq.id,
        roles: [{ role: 'seal_admin' }],
      });
      const user = await buildUser(external, { groupId: g.groupId, companyId: g.hq.id, roles: [{ role: 'employee' }] });
      const s = await buildSeal(external, { groupId: g.groupId, companyId: g.hq.id, custodianIds: [keeper2.id] });
      const granted = await client(external, keeper2.token).post(`/api/v1/seals/${s.id}/grants`, {
        grantee: { type: 'user', userId: user.id },
        categories: ['sales'],
      });
      const uploaded = await external.app.inject({
        method: 'POST',
        url: '/api/v1/documents/uploads',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
        payload: buildPdf({ seed: 77 }),
      });
      const body = { documentSha256: uploaded.json().sha256, sealId: s.id, category: 'sales', level: 'B-T' };
      const signed = await client(external, user.token).post('/api/v1/signatures', body);
      expect(signed.status, JSON.stringify(signed.body)).toBe(201);
      expect(asked).toBe(1);
      const pdf = (
        await external.app.inject({
          method: 'GET',
          url: `/api/v1/signatures/${signed.body.id}/document`,
          headers: { authorization: `Bearer ${user.token}` },
        })
      ).rawPayload;
      const report = (
        await external.app.inject({
          method: 'POST',
          url: '/api/v1/verifications',
          headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
          payload: pdf,
        })
      ).json();
      // The outside TSA's token is sound; its root is not this deployment's, so it is not trusted here.
      expect(report.signatures[0]).toMatchObject({
        timestamped: true,
        timestampValid: true,
        timestampTrusted: false,
        chainTrusted: true,
      });

      await new Promise((resolve) => live.close(resolve));
      const usedBefore = (await client(external, keeper2.token).get(`/api/v1/seals/${s.id}/grants`)).body.items.find(
        (x: { id: string }) => x.id === granted.body.id,
      ).usedCount;
      const refused = await client(external, user.token).post('/api/v1/signatures', body);
      expect(refused.status).toBe(502);
      expect(refused.body.code).toBe('timestamp_unavailable');
      expect(refused.body.detail).toContain(`127.0.0.1:${deadPort}`);
      expect(refused.body.detail).toContain(`127.0.0.1:${livePort}`);
      const usedAfter = (await client(external, keeper2.token).get(`/api/v1/seals/${s.id}/grants`)).body.items.find(
        (x: { id: string }) => x.id === granted.body.id,
      ).usedCount;
      expect(usedAfter).toBe(usedBefore);
    } finally {
      live.close();
      await external.close();
    }
  });
});

describe('the built-in TSA certificate a process keeps', () => {
  it('is never used past its end: a signature a moment later is time-stamped by its successor', async () => {
    const stampOnce = async () => {
      const sha = await upload(applicant, contract(), `tsa-${++counter}.pdf`);
      const signed = await sign(applicant, { documentSha256: sha, sealId: seal.id, category: 'sales', level: 'B-T' });
      expect(signed.status, JSON.stringify(signed.body)).toBe(201);
      return (await download(applicant, signed.body.id)).toString('latin1').toLowerCase();
    };
    const tsaRows = () =>
      world.db
        .selectFrom('certificates')
        .select(['id', 'der', 'status'])
        .where('purpose', '=', 'tsa')
        .orderBy('created_at')
        .execute();
    // The current TSA certificate ends a second from now (its row says so, read once the process's
    // copy is older than it keeps one); a signature then keeps it.
    await stampOnce();
    world.clock.advance(6_000);
    const [current] = (await tsaRows()).filter((r) => r.status === 'active');
    await world.db
      .updateTable('certificates')
      .set({ not_after: new Date(world.clock.now().getTime() + 1_000) })
      .where('id', '=', current!.id)
      .execute();
    const kept = await stampOnce();
    expect(kept).toContain(Buffer.from(current!.der).toString('hex'));
    // Two seconds on, well within the time a process keeps it, it has ended: a new one signs.
    world.clock.advance(2_000);
    const after = await stampOnce();
    const rows = await tsaRows();
    const successor = rows.find((r) => r.status === 'active');
    expect(successor?.id).not.toBe(current!.id);
    expect(after).toContain(Buffer.from(successor!.der).toString('hex'));
    expect(after).not.toContain(Buffer.from(current!.der).toString('hex'));
  });
});
