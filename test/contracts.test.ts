// Contracts end to end through the API: an outside person signs first (single-use link, a
// one-time code to their phone, consent, a drawn signature under a one-time certificate), then our
// company seals under a grant; pdfsig checks every signature of the result. And the guards
// attacked: out of order, wrong and locked codes, reused links and sessions, no grant, fields off
// the page, another group.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
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
let company: { id: string; path: string };
let keeper: User;
let stamper: User;
let noGrant: User;
let stranger: User;
let seal: { id: string };
let signaturePng: string;
let tmp: ReturnType<typeof tempDir>;
let nss: string;

const pdf = () =>
  buildPdf({
    pages: 2,
    lines: ['Purchase contract No. 2026-007'],
    cjkLines: ['甲方（盖章）：华夏贸易有限公司', '乙方（签字）：'],
    compress: false,
  });

beforeAll(async () => {
  for (const tool of ['pdfsig', 'certutil', 'unzip', 'pdftotext', 'openssl']) requireTool(tool);
  tmp = tempDir('sigil-contracts-');
  world = await createWorld();
  group = await buildGroup(world, 'Huaxia Group');
  company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
  keeper = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'seal_admin' }] });
  stamper = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'employee' }] });
  noGrant = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'employee' }] });
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
  const png = await world.app.inject({
    method: 'GET',
    url: `/api/v1/seal-images/${image.body.sha256}`,
    headers: { authorization: `Bearer ${keeper.token}` },
  });
  signaturePng = png.rawPayload.toString('base64');
  const grant = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
    grantee: { type: 'user', userId: stamper.id },
    categories: ['procurement'],
  });
  expect(grant.status, JSON.stringify(grant.body)).toBe(201);
  const root = await world.app.inject({ method: 'GET', url: '/pki/root/certificate' });
  nss = nssDatabase(tmp.dir, root.rawPayload);
});
afterAll(async () => {
  await world?.close();
  tmp?.remove();
});

async function upload(user: User): Promise<string> {
  const response = await world.app.inject({
    method: 'POST',
    url: '/api/v1/documents/uploads?name=purchase.pdf',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
    payload: pdf(),
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().sha256 as string;
}

async function draft(sender: User, companySigner: User = stamper, extra: Record<string, unknown> = {}) {
  const documentSha256 = await upload(sender);
  return client(world, sender.token).post('/api/v1/contracts', {
    title: '采购合同',
    category: 'procurement',
    documentSha256,
    participants: [
      { role: 'signer', step: 1, kind: 'outside_person', name: '王五', phone: '13800138000' },
      { role: 'signer', step: 2, kind: 'company', companyId: company.id, sealId: seal.id, userId: companySigner.id },
    ],
    fields: [
      { participant: 0, type: 'signature', keyword: '乙方（签字）' },
      { participant: 1, type: 'company_seal', keyword: '甲方（盖章）' },
    ],
    ...extra,
  });
}

/** The text of the newest SMS queued for this phone: what the gateway would deliver. */
async function lastSms(phone: string): Promise<string> {
  const rows = await world.db
    .selectFrom('jobs')
    .select(['payload'])
    .where('kind', '=', 'sms.send')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  const payload = rows.map((r) => r.payload as { to: string; text: string }).find((p) => p.to === phone);
  return payload?.text ?? '';
}

/** Dark pixels inside a rect (PDF points from the bottom left) of page `page`, rendered by poppler at 72 dpi. */
function inkIn(file: string, page: number): (rect: readonly [number, number, number, number]) => number {
  const out = join(tmp.dir, `ink-${Math.random().toString(36).slice(2)}`);
  execFileSync('pdftoppm', ['-r', '72', '-f', String(page), '-l', String(page), '-singlefile', '-png', file, out]);
  const png = PNG.sync.read(readFileSync(`${out}.png`));
  return ([x, y, w, h]) => {
    let dark = 0;
    for (let row = Math.ceil(png.height - y - h); row < png.height - y; row++)
      for (let col = Math.ceil(x); col < x + w; col++) {
        const i = (row * png.width + col) * 4;
        if (png.data[i]! < 100 && png.data[i + 1]! < 100 && png.data[i + 2]! < 100) dark++;
      }
    return dark;
  };
}

/** Runs due jobs until none is left: earlier tests leave more than one batch queued. */
async function runAllDueJobs(): Promise<void> {
  for (let round = 0; round < 100; round++) if ((await world.jobs.runDueJobs()).length === 0) return;
  throw new Error('jobs keep coming due');
}

const codeIn = (text: string) => /验证码 (\d{6})/.exec(text)?.[1] ?? '';
const anon = () => client(world);

async function sendDraft(sender: User, id: string) {
  const sent = await client(world, sender.token).post(`/api/v1/contracts/${id}/send`, {});
  expect(sent.status, JSON.stringify(sent.body)).toBe(200);
  // The answer is the contract as sending left it: what a read right after shows.
  expect(sent.body.contract).toEqual((await client(world, sender.token).get(`/api/v1/contracts/${id}`)).body);
  const path = sent.body.invitations[0].path as string;
  return path.replace('/sign/', '');
}

describe('a purchase contract: the outside party signs first, then our company seals', () => {
  it('runs from draft to completed, and pdfsig finds both signatures valid and trusted', async () => {
    const created = await draft(stamper);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    expect(created.body.status).toBe('draft');
    // The answer is the draft as written: what a read right after shows.
    expect(created.body).toEqual((await client(world, stamper.token).get(`/api/v1/contracts/${id}`)).body);

    // Our signer cannot go first: the outside party's step is open.
    const early = await client(world, stamper.token).post(`/api/v1/contracts/${id}/sign`, {});
    expect(early.status).toBe(409);

    const token = await sendDraft(stamper, id);
    const early2 = await client(world, stamper.token).post(`/api/v1/contracts/${id}/sign`, {});
    expect(early2.body.code).toBe('contract_out_of_order');
    const invitation = await anon().get(`/api/v1/signing/${token}`);
    expect(invitation.status).toBe(200);
    expect(invitation.body.participant.phone).toBe('138****8000');
    expect(invitation.body.channels).toEqual(['sms']);

    expect((await anon().post(`/api/v1/signing/${token}/codes`, { channel: 'sms' })).status).toBe(200);
    const again = await anon().post(`/api/v1/signing/${token}/codes`, { channel: 'sms' });
    expect(again.status).toBe(429);
    expect(again.body.retryAfterSeconds).toBeGreaterThan(0);
    const code = codeIn(await lastSms('13800138000'));
    expect(code).toMatch(/^\d{6}$/);

    const wrong = code === '000000' ? '111111' : '000000';
    const bad = await anon().post(`/api/v1/signing/${token}/sessions`, { code: wrong, channel: 'sms', consent: true });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('signing_code_invalid');
    expect(bad.body.remainingAttempts).toBe(4);
    const noConsent = await anon().post(`/api/v1/signing/${token}/sessions`, { code, channel: 'sms', consent: false });
    expect(noConsent.body.code).toBe('consent_required');

    const opened = await anon().post(`/api/v1/signing/${token}/sessions`, { code, channel: 'sms', consent: true });
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    const session = { 'x-signing-session': opened.body.sessionToken as string };
    const reused = await anon().post(`/api/v1/signing/${token}/sessions`, { code, channel: 'sms', consent: true });
    expect(reused.body.code).toBe('signing_code_expired');

    const view = await world.app.inject({ method: 'GET', url: '/api/v1/signing/session', headers: session });
    expect(view.statusCode, view.body).toBe(200);
    expect(view.json().fields).toHaveLength(1);
    const notPng = await world.app.inject({
      method: 'POST',
      url: '/api/v1/signing/session/signatures',
      headers: session,
      payload: { signatureImage: Buffer.from('<svg/>').toString('base64') },
    });
    expect(notPng.statusCode).toBe(400);
    const signed = await world.app.inject({
      method: 'POST',
      url: '/api/v1/signing/session/signatures',
      headers: session,
      payload: { signatureImage: signaturePng },
    });
    expect(signed.statusCode, signed.body).toBe(200);
    const twice = await world.app.inject({
      method: 'POST',
      url: '/api/v1/signing/session/signatures',
      headers: session,
      payload: { signatureImage: signaturePng },
    });
    expect(twice.json().code).toBe('signing_session_invalid');
    // Spent once the signer has acted.
    expect((await anon().get(`/api/v1/signing/${token}`)).body.code).toBe('signing_link_used');
    expect((await anon().post(`/api/v1/signing/${token}/codes`, { channel: 'sms' })).body.code).toBe(
      'signing_link_used',
    );

    const middle = await client(world, stamper.token).get(`/api/v1/contracts/${id}`);
    expect(middle.body.status).toBe('signing');
    expect(middle.body.participants.map((p: { status: string }) => p.status)).toEqual(['done', 'active']);

    const done = await client(world, stamper.token).post(`/api/v1/contracts/${id}/sign`, {});
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.status).toBe('completed');

    const file = join(tmp.dir, 'completed.pdf');
    const download = await world.app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${id}/document`,
      headers: { authorization: `Bearer ${stamper.token}` },
    });
    expect(download.statusCode).toBe(200);
    expect(download.headers['x-content-sha256']).toBe(done.body.currentSha256);
    writeFileSync(file, download.rawPayload);
    const report = pdfsig(file, nss);
    expect(report).toHaveLength(2);
    for (const signature of report) {
      expect(signature.signatureValid).toBe(true);
      expect(signature.certificateTrusted).toBe(true);
    }
    expect(report.at(-1)!.totalDocumentSigned).toBe(true);

    // The evidence package: its files agree with what was signed, the trail names the outside
    // signer and how they proved who they were, openssl accepts the one-time certificate's chain,
    // and events sealed into a signed checkpoint carry their inclusion proofs.
    const auditor = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'security_auditor' }],
    });
    expect((await client(world, auditor.token).get('/api/v1/audit-events/verify')).body.intact).toBe(true);
    const evidence = await world.app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${id}/evidence`,
      headers: { authorization: `Bearer ${stamper.token}` },
    });
    expect(evidence.statusCode).toBe(200);
    expect(evidence.headers['content-type']).toContain('application/zip');
    const zip = join(tmp.dir, 'evidence.zip');
    writeFileSync(zip, evidence.rawPayload);
    const unpacked = join(tmp.dir, 'evidence');
    execFileSync('unzip', ['-q', zip, '-d', unpacked]);
    expect(
      createHash('sha256')
        .update(readFileSync(join(unpacked, 'contract.pdf')))
        .digest('hex'),
    ).toBe(done.body.currentSha256);
    const trail = execFileSync('pdftotext', [join(unpacked, 'audit-trail.pdf'), '-']).toString();
    expect(trail).toContain('审计追踪证书');
    expect(trail).toContain('王五');
    expect(trail).toContain('one-time code');
    const events = JSON.parse(readFileSync(join(unpacked, 'events.json'), 'utf8')).events as Array<{
      action: string;
      inclusionProof: { leafIndex: number } | null;
    }>;
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining([
        'contract.created',
        'contract.identity_verified',
        'contract.signed',
        'contract.completed',
      ]),
    );
    expect(events.filter((e) => e.inclusionProof).length).toBeGreaterThan(0);
    const certificates = readdirSync(join(unpacked, 'certificates'));
    const leaves = certificates.filter((f) => f !== 'root.pem' && !f.startsWith('ca-'));
    const cas = certificates.filter((f) => f.startsWith('ca-'));
    expect(leaves.length).toBe(2);
    for (const leaf of leaves)
      execFileSync('openssl', [
        'verify',
        '-CAfile',
        join(unpacked, 'certificates', 'root.pem'),
        ...cas.flatMap((ca) => ['-untrusted', join(unpacked, 'certificates', ca)]),
        '-purpose',
        'any',
        join(unpacked, 'certificates', leaf),
      ]);

    // The one-time certificate's key was never kept.
    const event = await world.db
      .selectFrom('certificates')
      .select(['sealed_key', 'subject'])
      .where('purpose', '=', 'event')
      .executeTakeFirstOrThrow();
    expect(event.sealed_key).toBeNull();
    expect(event.subject).toContain('王五');
  });

  it('refuses our seal to someone without a grant, and leaves the contract as it was', async () => {
    const created = await draft(stamper, noGrant, {
      participants: [
        { role: 'signer', step: 1, kind: 'company', companyId: company.id, sealId: seal.id, userId: noGrant.id },
      ],
      fields: [{ participant: 0, type: 'company_seal', keyword: '甲方（盖章）' }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await client(world, stamper.token).post(`/api/v1/contracts/${id}/send`, {});
    const refused = await client(world, noGrant.token).post(`/api/v1/contracts/${id}/sign`, {});
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('seal_not_granted');
    const after = await client(world, stamper.token).get(`/api/v1/contracts/${id}`);
    expect(after.body.currentSha256).toBe(created.body.sourceSha256);
    expect(after.body.participants[0].status).toBe('active');
  });

  it('locks a link after five wrong codes, even for the right one', async () => {
    const created = await draft(stamper);
    const token = await sendDraft(stamper, created.body.id);
    await anon().post(`/api/v1/signing/${token}/codes`, { channel: 'sms' });
    const code = codeIn(await lastSms('13800138000'));
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++)
      expect(
        (await anon().post(`/api/v1/signing/${token}/sessions`, { code: wrong, channel: 'sms', consent: true })).body
          .code,
      ).toBe('signing_code_invalid');
    const fifth = await anon().post(`/api/v1/signing/${token}/sessions`, {
      code: wrong,
      channel: 'sms',
      consent: true,
    });
    expect(fifth.body.code).toBe('signing_link_locked');
    const right = await anon().post(`/api/v1/signing/${token}/sessions`, { code, channel: 'sms', consent: true });
    expect(right.status).toBe(423);
    expect(right.body.code).toBe('signing_link_locked');
  });

  it("holds each client address to a rate on the outside signer's routes", async () => {
    const ask = (from: string) =>
      world.app.inject({ method: 'GET', url: `/api/v1/signing/${'x'.repeat(40)}`, remoteAddress: from });
    for (let i = 0; i < 60; i++) expect((await ask('10.7.7.7')).statusCode).toBe(404);
    const refused = await ask('10.7.7.7');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('rate_limited');
    expect((await ask('10.7.7.8')).statusCode).toBe(404);
  });

  it('ends every link when the sender voids the contract', async () => {
    const created = await draft(stamper);
    const token = await sendDraft(stamper, created.body.id);
    const voided = await client(world, stamper.token).post(`/api/v1/contracts/${created.body.id}/void`, {
      reason: '条款有误',
    });
    expect(voided.body.status).toBe('voided');
    expect((await anon().get(`/api/v1/signing/${token}`)).body.code).toBe('signing_link_used');
    expect((await anon().get('/api/v1/signing/not-a-real-token-at-all-xxxxxxxx')).body.code).toBe(
      'signing_link_invalid',
    );
  });

  it('draws the values each signer filled in, covered by their signature, and refuses malformed ones', async () => {
    const fields = {
      text: [60, 120, 200, 20],
      date: [300, 120, 110, 18],
      tick: [60, 90, 14, 14],
      ours: [300, 60, 110, 18],
    } as const;
    const created = await draft(stamper, stamper, {
      fields: [
        { participant: 0, type: 'signature', keyword: '乙方（签字）' },
        { participant: 0, type: 'text', page: 2, rect: fields.text, label: '联系地址' },
        { participant: 0, type: 'date', page: 2, rect: fields.date, label: '签署日期' },
        { participant: 0, type: 'checkbox', page: 2, rect: fields.tick, label: '已阅读' },
        { participant: 1, type: 'company_seal', keyword: '甲方（盖章）' },
        { participant: 1, type: 'date', page: 2, rect: fields.ours, label: '盖章日期' },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    // Fields placed by rect and keyword, in the order a read right after gives them.
    expect(created.body).toEqual((await client(world, stamper.token).get(`/api/v1/contracts/${id}`)).body);
    const ids = (created.body.fields as Array<{ id: string; label: string | null }>).reduce<Record<string, string>>(
      (all, f) => ({ ...all, [f.label ?? '']: f.id }),
      {},
    );
    const token = await sendDraft(stamper, id);
    await anon().post(`/api/v1/signing/${token}/codes`, { channel: 'sms' });
    const code = codeIn(await lastSms('13800138000'));
    const opened = await anon().post(`/api/v1/signing/${token}/sessions`, { code, channel: 'sms', consent: true });
    const headers = { 'x-signing-session': opened.body.sessionToken as string };
    const sign = (values: Array<{ id: string; value: string }>) =>
      world.app.inject({
        method: 'POST',
        url: '/api/v1/signing/session/signatures',
        headers,
        payload: { signatureImage: signaturePng, fields: values },
      });
    const good = [
      { id: ids['联系地址']!, value: '北京市朝阳区建国路 88 号' },
      { id: ids['签署日期']!, value: '2026-12-07' },
      { id: ids['已阅读']!, value: 'true' },
    ];
    for (const [value, problem] of [
      [{ ...good[1]!, value: '2026-02-30' }, 'YYYY-MM-DD'],
      [{ ...good[2]!, value: 'yes' }, '"true" or "false"'],
      [{ ...good[0]!, value: '地址 \u{1F600}' }, 'cannot draw'],
    ] as const) {
      const refused = await sign([good[0]!, good[1]!, good[2]!].map((g) => (g.id === value.id ? value : g)));
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json().detail).toContain(problem);
    }
    expect((await sign(good)).statusCode).toBe(200);
    const ours = await client(world, stamper.token).post(`/api/v1/contracts/${id}/sign`, {
      fields: [{ id: ids['盖章日期']!, value: '2026-12-08' }],
    });
    expect(ours.status, JSON.stringify(ours.body)).toBe(200);
    expect(ours.body.status).toBe('completed');
    expect(
      (ours.body.fields as Array<{ label: string; value: string | null }>).find((f) => f.label === '盖章日期')!.value,
    ).toBe('2026-12-08');
    // The answer is the contract as the signature left it (values, participants, status): what a read right after shows.
    expect(ours.body).toEqual((await client(world, stamper.token).get(`/api/v1/contracts/${id}`)).body);

    const download = await world.app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${id}/document`,
      headers: { authorization: `Bearer ${stamper.token}` },
    });
    const file = join(tmp.dir, 'values.pdf');
    writeFileSync(file, download.rawPayload);
    const report = pdfsig(file, nss);
    expect(report).toHaveLength(2);
    for (const signature of report) expect(signature.signatureValid).toBe(true);
    const verified = await world.app.inject({
      method: 'POST',
      url: '/api/v1/public/verifications',
      headers: { 'content-type': 'application/pdf' },
      payload: download.rawPayload,
    });
    expect(verified.json().verdict, verified.body).toBe('valid');
    // Each field's box on page 2 was blank and now has ink, as poppler draws it.
    const source = join(tmp.dir, 'values-source.pdf');
    writeFileSync(source, pdf());
    const before = inkIn(source, 2);
    const after = inkIn(file, 2);
    for (const [name, rect] of Object.entries(fields)) {
      expect(before(rect), `${name} blank before`).toBe(0);
      expect(after(rect), `${name} drawn after`).toBeGreaterThan(10);
    }
  });

  it('refuses fields off the page, a person signing with a seal field, and no signer', async () => {
    const documentSha256 = await upload(stamper);
    const base = {
      title: '采购合同',
      category: 'procurement',
      documentSha256,
      participants: [{ role: 'signer', step: 1, kind: 'outside_person', name: '王五', phone: '13800138000' }],
    };
    const off = await client(world, stamper.token).post('/api/v1/contracts', {
      ...base,
      fields: [{ participant: 0, type: 'signature', page: 1, rect: [500, 800, 200, 80] }],
    });
    expect(off.status).toBe(400);
    expect(off.body.errors[0].field).toBe('body.fields.0.rect');
    const page = await client(world, stamper.token).post('/api/v1/contracts', {
      ...base,
      fields: [{ participant: 0, type: 'signature', page: 9, rect: [10, 10, 20, 20] }],
    });
    expect(page.body.errors[0].field).toBe('body.fields.0.page');
    const sealForPerson = await client(world, stamper.token).post('/api/v1/contracts', {
      ...base,
      fields: [{ participant: 0, type: 'company_seal', keyword: '甲方' }],
    });
    expect(sealForPerson.body.errors[0].field).toBe('body.fields.0.type');
    const noSigner = await client(world, stamper.token).post('/api/v1/contracts', {
      ...base,
      participants: [{ role: 'cc', step: 1, kind: 'outside_person', name: '王五' }],
    });
    expect(noSigner.body.errors[0].field).toBe('body.participants');
  });

  it('is not found for another group, nor for a colleague who takes no part', async () => {
    const created = await draft(stamper);
    expect((await client(world, stranger.token).get(`/api/v1/contracts/${created.body.id}`)).status).toBe(404);
    expect((await client(world, noGrant.token).get(`/api/v1/contracts/${created.body.id}`)).status).toBe(404);
    expect((await client(world, keeper.token).get(`/api/v1/contracts/${created.body.id}`)).status).toBe(200);
    const listed = await client(world, stranger.token).get('/api/v1/contracts');
    expect(listed.body.items).toEqual([]);
  });

  it("does not let a sibling company's sender name our seal, nor tell it from a made-up one", async () => {
    const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏物流有限公司' });
    const outsider = await buildUser(world, {
      groupId: group.groupId,
      companyId: sibling.id,
      roles: [{ role: 'employee' }],
    });
    const named = (sealId: string) =>
      draft(outsider, stamper, {
        participants: [{ role: 'signer', step: 1, kind: 'company', companyId: company.id, sealId, userId: stamper.id }],
        fields: [{ participant: 0, type: 'company_seal', keyword: '甲方（盖章）' }],
      });
    const real = await named(seal.id);
    const madeUp = await named('01900000-0000-7000-8000-000000000000');
    expect(real.status).toBe(404);
    expect(real.body.code).toBe('seal_not_found');
    expect({ ...real.body, instance: null, requestId: null, detail: null }).toEqual({
      ...madeUp.body,
      instance: null,
      requestId: null,
      detail: null,
    });
    // Our own sender still can.
    expect((await draft(stamper)).status).toBe(201);
  });

  // Last: it moves this world's clock.
  it('reminds every day, lets the sender remind once an hour, and expires at the deadline', async () => {
    const deadline = new Date(world.clock.now().getTime() + 2.5 * 86_400_000).toISOString();
    const created = await draft(stamper, stamper, { deadline, remindEveryDays: 1 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const token = await sendDraft(stamper, id);
    const invitations = async () =>
      (
        await world.db
          .selectFrom('contract_links')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('contract_id', '=', id)
          .executeTakeFirstOrThrow()
      ).n;
    expect(Number(await invitations())).toBe(1);

    const manual = await client(world, stamper.token).post(`/api/v1/contracts/${id}/reminders`, {});
    expect(manual.status, JSON.stringify(manual.body)).toBe(200);
    expect(manual.body.reminded).toBe(1);
    const again = await client(world, stamper.token).post(`/api/v1/contracts/${id}/reminders`, {});
    expect(again.status).toBe(429);
    const fromOther = await client(world, keeper.token).post(`/api/v1/contracts/${id}/reminders`, {});
    expect(fromOther.status).toBe(429);
    const notSender = await client(world, noGrant.token).post(`/api/v1/contracts/${id}/reminders`, {});
    expect(notSender.status).toBe(404);
    expect(Number(await invitations())).toBe(2);

    world.clock.advance(86_400_000 + 60_000);
    await runAllDueJobs();
    expect(Number(await invitations())).toBe(3);
    expect((await client(world, stamper.token).get(`/api/v1/contracts/${id}`)).body.status).toBe('sent');

    world.clock.advance(2 * 86_400_000);
    await runAllDueJobs();
    const expired = await client(world, stamper.token).get(`/api/v1/contracts/${id}`);
    expect(expired.body.status).toBe('expired');
    expect((await anon().get(`/api/v1/signing/${token}`)).body.code).toBe('signing_link_used');
    const late = await client(world, stamper.token).post(`/api/v1/contracts/${id}/reminders`, {});
    expect(late.body.code).toBe('contract_state');
  });
});

describe('notices of the flow', () => {
  /** The e-mail deliveries of the notices that point at this contract, with whether a job sends them. */
  const mailOf = (id: string) =>
    world.db
      .selectFrom('notification_deliveries as d')
      .innerJoin('notifications as n', 'n.id', 'd.notification_id')
      .select(['d.user_id as userId', 'd.kind', 'd.status', 'd.detail', 'd.job_id as jobId'])
      .where('n.link', '=', `/contracts/${id}`)
      .where('d.channel', '=', 'email')
      .execute();
  const sealOnly = () => ({
    participants: [
      { role: 'signer', step: 1, kind: 'company', companyId: company.id, sealId: seal.id, userId: stamper.id },
    ],
    fields: [{ participant: 0, type: 'company_seal', keyword: '甲方（盖章）' }],
  });

  it('records the e-mail to a signer as skipped, with no job, when this server sends no mail', async () => {
    expect(world.ctx.mailer.kind).toBe('none');
    const created = await draft(keeper, stamper, sealOnly());
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    expect((await client(world, keeper.token).post(`/api/v1/contracts/${id}/send`, {})).status).toBe(200);
    expect(await mailOf(id)).toEqual([
      {
        userId: stamper.id,
        kind: 'contract.signature_requested',
        status: 'skipped',
        detail: 'e-mail is switched off on this server (SIGIL_MAILER=none)',
        jobId: null,
      },
    ]);
  });

  it('queues the e-mail to a signer when this server sends mail', async () => {
    const previous = world.ctx.mailer;
    const sent: string[] = [];
    world.ctx.mailer = {
      kind: 'smtp',
      send: async (message) => {
        sent.push(message.to);
        return { sent: true, detail: 'accepted' };
      },
      close: async () => {},
    };
    try {
      const created = await draft(keeper, stamper, sealOnly());
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.id as string;
      expect((await client(world, keeper.token).post(`/api/v1/contracts/${id}/send`, {})).status).toBe(200);
      const [queued] = await mailOf(id);
      expect(queued).toMatchObject({ userId: stamper.id, status: 'queued', detail: null });
      expect(queued?.jobId).not.toBeNull();
      await runAllDueJobs();
      expect(sent).toContain(stamper.email);
      expect((await mailOf(id))[0]).toMatchObject({ status: 'sent', detail: 'accepted' });
    } finally {
      world.ctx.mailer = previous;
    }
  });
});
