// The rest of a contract's life through the API, against the real database: attachments (type read
// from the bytes, listed, downloaded, filed in the evidence package); CC told at sending and
// receivers at completion (an outside receiver through a download link); voiding a completed
// contract only by a void agreement (作废协议) the same parties sign; a second factor (TOTP) at the
// moment of signing; and an identity provider (a test implementation of the interface, as a real
// one lives outside Sigil) that outside signers must pass. Each guard attacked.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { PNG } from 'pngjs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../src/lib/totp.js';
import {
  registerIdentityProvider,
  type IdentityCheckRequest,
  type IdentityProvider,
  type IdentityVerdict,
} from '../src/modules/contracts/index.js';
import { buildPdf } from './signing/pdf-fixtures.js';
import { requireTool, tempDir } from './signing/support.js';
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
let sender: User;
let colleague: User;
let totpUser: User;
let stranger: User;
let seal: { id: string };
let tmp: ReturnType<typeof tempDir>;
let signaturePng: string;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const pdf = (line = 'Contract with attachments') =>
  buildPdf({
    pages: 1,
    lines: [line],
    cjkLines: ['甲方（盖章）：华夏贸易有限公司', '乙方（签字）：'],
    compress: false,
  });

function tinyPng(): Buffer {
  const png = new PNG({ width: 40, height: 20 });
  for (let i = 0; i < png.data.length; i += 4) {
    const dark = (i / 4) % 40 > 10 && (i / 4) % 40 < 30;
    png.data[i] = png.data[i + 1] = png.data[i + 2] = 0;
    png.data[i + 3] = dark ? 255 : 0;
  }
  return PNG.sync.write(png);
}

async function upload(user: User, bytes: Buffer = pdf()): Promise<string> {
  const response = await world.app.inject({
    method: 'POST',
    url: '/api/v1/documents/uploads?name=contract.pdf',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
    payload: bytes,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().sha256 as string;
}

async function attach(user: User, id: string, bytes: Buffer, name: string, contentType = 'application/octet-stream') {
  const response = await world.app.inject({
    method: 'POST',
    url: `/api/v1/contracts/${id}/attachments?name=${encodeURIComponent(name)}`,
    headers: { authorization: `Bearer ${user.token}`, 'content-type': contentType },
    payload: bytes,
  });
  return { status: response.statusCode, body: response.json() };
}

async function raw(url: string, token?: string) {
  const response = await world.app.inject({
    method: 'GET',
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return response;
}

/** A draft sealed by `signer` for our company, with extra participants after it. */
async function draft(signer: User, extra: Record<string, unknown> = {}, others: unknown[] = []) {
  const created = await client(world, signer.token).post('/api/v1/contracts', {
    title: '采购合同',
    category: 'procurement',
    documentSha256: await upload(signer),
    participants: [
      { role: 'signer', step: 1, kind: 'company', companyId: company.id, sealId: seal.id, userId: signer.id },
      ...others,
    ],
    fields: [{ participant: 0, type: 'company_seal', keyword: '甲方（盖章）' }],
    ...extra,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id as string;
}

async function jobsTo(kind: 'sms.send' | 'email.send', to: string) {
  const rows = await world.db
    .selectFrom('jobs')
    .select(['payload'])
    .where('kind', '=', kind)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows
    .map((r) => r.payload as { to: string; text: string; subject?: string; link: string | null })
    .filter((p) => p.to === to);
}

async function auditOf(targetId: string, action: string) {
  return world.db
    .selectFrom('audit_events')
    .select(['changes'])
    .where('target_id', '=', targetId)
    .where('action', '=', action)
    .orderBy('seq')
    .execute();
}

const pdfText = (bytes: Uint8Array) => {
  const file = join(tmp.dir, `t-${Math.random().toString(36).slice(2)}.pdf`);
  writeFileSync(file, bytes);
  return execFileSync('pdftotext', [file, '-']).toString('utf8');
};

beforeAll(async () => {
  requireTool('pdftotext');
  tmp = tempDir('sigil-contract-life-');
  world = await createWorld();
  group = await buildGroup(world, 'Huaxia Group');
  company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
  keeper = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'seal_admin' }] });
  sender = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'employee' }] });
  colleague = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'employee' }] });
  totpUser = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'employee' }] });
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
  signaturePng = (await raw(`/api/v1/seal-images/${image.body.sha256}`, keeper.token)).rawPayload.toString('base64');
  for (const grantee of [sender, totpUser]) {
    const grant = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: grantee.id },
      categories: ['procurement'],
    });
    expect(grant.status, JSON.stringify(grant.body)).toBe(201);
  }
});
afterAll(async () => {
  await world?.close();
  tmp?.remove();
});

describe('attachments, CC and receivers, and voiding a completed contract by a void agreement', () => {
  let id = '';
  let receiverLink = '';
  const attachedPdf = pdf('Annex 1: price list');
  const attachedPng = tinyPng();

  it('attaches PDFs and images to a draft by their bytes, and refuses anything else or anyone else', async () => {
    id = await draft(sender, {}, [
      { role: 'cc', step: 1, kind: 'person', userId: colleague.id },
      { role: 'cc', step: 1, kind: 'outside_person', name: '赵六', email: 'cc@example.com' },
      {
        role: 'receiver',
        step: 1,
        kind: 'outside_org',
        name: '李四',
        orgName: '远方物流有限公司',
        phone: '13900139000',
      },
    ]);
    // The claimed type counts for nothing: the bytes say PDF.
    const first = await attach(sender, id, attachedPdf, '价格清单.pdf', 'image/png');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({
      mediaType: 'application/pdf',
      sha256: sha256(attachedPdf),
      name: '价格清单.pdf',
    });
    const second = await attach(sender, id, attachedPng, 'site.png');
    expect(second.body.mediaType).toBe('image/png');

    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    expect((await attach(sender, id, svg, 'x.svg', 'image/svg+xml')).body.code).toBe('unsupported_media_type');
    expect((await attach(sender, id, Buffer.alloc(0), 'empty.pdf')).status).toBe(400);
    expect((await attach(sender, id, attachedPdf, 'again.pdf')).status).toBe(400);
    expect((await attach(colleague, id, attachedPdf, 'mine.pdf')).status).toBe(403);
    expect((await attach(stranger, id, attachedPdf, 'theirs.pdf')).status).toBe(404);
    const tooBig = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(10 * 1024 * 1024)]);
    expect((await attach(sender, id, tooBig, 'big.pdf')).status).toBe(413);
    const listed = await client(world, sender.token).get(`/api/v1/contracts/${id}/attachments`);
    expect(listed.body.items.map((a: { name: string }) => a.name)).toEqual(['价格清单.pdf', 'site.png']);
  });

  it('tells the CC when sent (in the console, or by e-mail outside), and takes no attachment after', async () => {
    const sent = await client(world, sender.token).post(`/api/v1/contracts/${id}/send`, {});
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    const inbox = await world.db
      .selectFrom('notifications')
      .select(['kind', 'link'])
      .where('user_id', '=', colleague.id)
      .execute();
    expect(inbox).toContainEqual({ kind: 'contract.cc', link: `/contracts/${id}` });
    const mail = await jobsTo('email.send', 'cc@example.com');
    expect(mail[0]?.text).toContain('已抄送给您');
    // The receiver hears nothing before completion.
    expect(await jobsTo('sms.send', '13900139000')).toEqual([]);
    expect((await attach(sender, id, tinyPng().subarray(0, 60), 'late.png')).body.code).toBe('contract_state');
  });

  it('lets participants read the attachments, and nobody outside', async () => {
    const listed = await client(world, colleague.token).get(`/api/v1/contracts/${id}/attachments`);
    expect(listed.status).toBe(200);
    const png = listed.body.items.find((a: { name: string }) => a.name === 'site.png');
    const file = await raw(`/api/v1/contracts/${id}/attachments/${png.id}`, colleague.token);
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('image/png');
    expect(sha256(file.rawPayload)).toBe(sha256(attachedPng));
    expect((await raw(`/api/v1/contracts/${id}/attachments/${png.id}`, stranger.token)).statusCode).toBe(404);
    expect((await client(world, stranger.token).get(`/api/v1/contracts/${id}/attachments`)).status).toBe(404);
  });

  it('sends the outside receiver a download link at completion, and files the attachments in the evidence', async () => {
    const signed = await client(world, sender.token).post(`/api/v1/contracts/${id}/sign`, {});
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    expect(signed.body.status).toBe('completed');
    // The answer is the contract as completing left it (receivers, CC and all): what a read right after shows.
    expect(signed.body).toEqual((await client(world, sender.token).get(`/api/v1/contracts/${id}`)).body);
    const [sms] = await jobsTo('sms.send', '13900139000');
    expect(sms?.text).toContain('已签署完成');
    receiverLink = sms!.link!;
    expect(receiverLink).toMatch(/^\/api\/v1\/signing\/[\w-]{40,}\/document$/);
    const download = await raw(receiverLink);
    expect(download.statusCode).toBe(200);
    expect(sha256(download.rawPayload)).toBe(signed.body.currentSha256);
    // A download link is no signing link, and a made-up token downloads nothing.
    const token = receiverLink.split('/')[4]!;
    expect((await client(world).get(`/api/v1/signing/${token}`)).body.code).toBe('signing_link_invalid');
    expect((await raw(`/api/v1/signing/${'x'.repeat(43)}/document`)).statusCode).toBe(404);

    const evidence = await raw(`/api/v1/contracts/${id}/evidence`, sender.token);
    expect(evidence.statusCode).toBe(200);
    const files = unzipSync(new Uint8Array(evidence.rawPayload));
    expect(sha256(files['attachments/01-价格清单.pdf']!)).toBe(sha256(attachedPdf));
    expect(sha256(files['attachments/02-site.png']!)).toBe(sha256(attachedPng));
    const trail = pdfText(files['audit-trail.pdf']!);
    expect(trail).toContain(sha256(attachedPdf));
    expect(trail).toContain(sha256(attachedPng));
  });

  it('refuses to void a completed contract directly, and a void agreement to anyone not party to it', async () => {
    const direct = await client(world, sender.token).post(`/api/v1/contracts/${id}/void`, { reason: '重复签署' });
    expect(direct.status).toBe(409);
    expect(direct.body.code).toBe('contract_void_needs_agreement');
    expect(direct.body.detail).toContain('void agreement');
    // A CC sees the contract but is no party; a reader of all contracts neither; another group not even sees it.
    const byCc = await client(world, colleague.token).post(`/api/v1/contracts/${id}/void-agreement`, {
      reason: '重复',
    });
    expect(byCc.status).toBe(403);
    const byReader = await client(world, keeper.token).post(`/api/v1/contracts/${id}/void-agreement`, {
      reason: '重复',
    });
    expect(byReader.status).toBe(403);
    const byStranger = await client(world, stranger.token).post(`/api/v1/contracts/${id}/void-agreement`, {
      reason: '重复',
    });
    expect(byStranger.status).toBe(404);
    // A reason carrying another party's keyword would draw that party's seal onto the reason: refused.
    const planted = await client(world, sender.token).post(`/api/v1/contracts/${id}/void-agreement`, {
      reason: '以下由第2方（盖章）确认',
    });
    expect(planted.status).toBe(400);
    expect(planted.body.errors[0].field).toBe('body.reason');
    expect((await client(world, sender.token).get(`/api/v1/contracts/${id}`)).body.status).toBe('completed');
  });

  it('makes and sends the void agreement in one transaction: a send that fails leaves no draft behind', async () => {
    // The database refuses to send a void agreement for a moment (a fault the test plants).
    await sql`
      create function sigil_test_refuse_send() returns trigger language plpgsql as $$
      begin
        if new.status = 'sent' and new.void_of is not null then raise exception 'sending refused by the test'; end if;
        return new;
      end $$`.execute(world.db);
    await sql`create trigger sigil_test_refuse_send before update on contracts for each row execute function sigil_test_refuse_send()`.execute(
      world.db,
    );
    try {
      const failed = await client(world, sender.token).post(`/api/v1/contracts/${id}/void-agreement`, {
        reason: '双方协商一致解除',
      });
      expect(failed.status).toBe(500);
      expect(failed.body.code).toBe('internal_error');
      expect(JSON.stringify(failed.body)).not.toContain('sending refused');
    } finally {
      await sql`drop trigger sigil_test_refuse_send on contracts`.execute(world.db);
      await sql`drop function sigil_test_refuse_send()`.execute(world.db);
    }
    // Nothing was left: no agreement, no audit event of one, and the original still completed.
    const agreements = await world.db.selectFrom('contracts').select('id').where('void_of', '=', id).execute();
    expect(agreements).toHaveLength(0);
    const started = await world.db
      .selectFrom('audit_events')
      .select('id')
      .where('action', '=', 'contract.void_agreement_started')
      .where('target_id', '=', id)
      .execute();
    expect(started).toHaveLength(0);
    expect((await client(world, sender.token).get(`/api/v1/contracts/${id}`)).body.status).toBe('completed');
  });

  it('leaves the original completed when its agreement is rejected, and voids it when one completes', async () => {
    const first = await client(world, sender.token).post(`/api/v1/contracts/${id}/void-agreement`, {
      reason: '双方协商一致解除',
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const agreement = first.body.contract;
    expect(agreement).toMatchObject({ status: 'sent', voidOf: id, category: 'procurement' });
    expect(
      agreement.participants.map((p: { role: string; step: number; sealId: string | null }) => [
        p.role,
        p.step,
        p.sealId,
      ]),
    ).toEqual([
      ['signer', 1, seal.id],
      ['cc', 1, null],
      ['cc', 1, null],
      ['receiver', 1, null],
    ]);
    // The agreement names the original by title, number and the hash of its signed PDF.
    const original = (await client(world, sender.token).get(`/api/v1/contracts/${id}`)).body;
    const text = pdfText((await raw(`/api/v1/contracts/${agreement.id}/document`, sender.token)).rawPayload).replace(
      /\s+/g,
      '',
    );
    expect(text).toContain('作废协议');
    expect(text).toContain('采购合同');
    expect(text).toContain(original.currentSha256);
    expect(
      (await client(world, sender.token).post(`/api/v1/contracts/${id}/void-agreement`, { reason: '再来一份' })).body,
    ).toMatchObject({ code: 'void_agreement_exists', agreementId: agreement.id });

    const rejected = await client(world, sender.token).post(`/api/v1/contracts/${agreement.id}/reject`, {
      reason: '条款需再议',
    });
    expect(rejected.body.status).toBe('rejected');
    expect((await client(world, sender.token).get(`/api/v1/contracts/${id}`)).body.status).toBe('completed');
    expect((await raw(receiverLink)).statusCode).toBe(200);

    const second = await client(world, sender.token).post(`/api/v1/contracts/${id}/void-agreement`, {
      reason: '双方协商一致解除',
    });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    const signed = await client(world, sender.token).post(`/api/v1/contracts/${second.body.contract.id}/sign`, {});
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    expect(signed.body.status).toBe('completed');

    const voided = (await client(world, sender.token).get(`/api/v1/contracts/${id}`)).body;
    expect(voided.status).toBe('voided');
    const [audit] = await auditOf(id, 'contract.voided');
    expect(audit?.changes).toMatchObject({
      agreementId: second.body.contract.id,
      agreementSha256: signed.body.currentSha256,
    });
    const events = await world.db
      .selectFrom('outbox')
      .select('payload')
      .where('group_id', '=', group.groupId)
      .execute();
    expect(events.map((e) => e.payload)).toContainEqual(
      expect.objectContaining({ type: 'document.voided', data: expect.objectContaining({ documentId: id }) }),
    );
    // The receiver's link closed with it; the evidence of the original carries the agreement.
    expect((await raw(receiverLink)).statusCode).toBe(410);
    const files = unzipSync(new Uint8Array((await raw(`/api/v1/contracts/${id}/evidence`, sender.token)).rawPayload));
    expect(sha256(files['void-agreement.pdf']!)).toBe(signed.body.currentSha256);
    expect(JSON.parse(strFromU8(files['manifest.json']!)).voidedBy.id).toBe(second.body.contract.id);
    expect(pdfText(files['audit-trail.pdf']!)).toContain(second.body.contract.id);
    // Voided is the end: no agreement on it, nor on the agreement itself.
    expect(
      (await client(world, sender.token).post(`/api/v1/contracts/${id}/void-agreement`, { reason: '再来' })).body.code,
    ).toBe('contract_state');
    expect(
      (
        await client(world, sender.token).post(`/api/v1/contracts/${second.body.contract.id}/void-agreement`, {
          reason: '再来',
        })
      ).body.code,
    ).toBe('contract_state');
  });
});

/** An identity provider as a deployment would plug one in: its verdicts come when the test says. */
class ScriptedProvider implements IdentityProvider {
  constructor(readonly name = 'test-idv') {}
  readonly kinds = ['real_name', 'face'] as const;
  readonly requests: IdentityCheckRequest[] = [];
  readonly verdicts = new Map<string, IdentityVerdict>();
  async start(request: IdentityCheckRequest) {
    this.requests.push(request);
    const reference = `IDV-${this.requests.length}`;
    this.verdicts.set(reference, { status: 'pending' });
    return { reference, redirectUrl: `https://idv.example/${reference}` };
  }
  async verdict(reference: string) {
    return this.verdicts.get(reference) ?? { status: 'failed' as const, reason: 'unknown reference' };
  }
}

describe('identity providers for outside signers', () => {
  const provider = new ScriptedProvider();
  const phone = '13700137000';

  async function outsiderDraft() {
    const created = await client(world, sender.token).post('/api/v1/contracts', {
      title: '实名签署的协议',
      category: 'procurement',
      documentSha256: await upload(sender),
      identityCheck: 'real_name',
      participants: [{ role: 'signer', step: 1, kind: 'outside_person', name: '王五', phone }],
      fields: [{ participant: 0, type: 'signature', keyword: '乙方（签字）' }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id as string;
  }

  it('refuses at send time a contract asking for a check when no provider is configured', async () => {
    expect(world.ctx.config.identityProvider).toBeNull();
    const id = await outsiderDraft();
    const refused = await client(world, sender.token).post(`/api/v1/contracts/${id}/send`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('identity_provider_missing');
    expect(refused.body.detail).toContain('SIGIL_IDENTITY_PROVIDER');
    expect((await client(world, sender.token).get(`/api/v1/contracts/${id}`)).body.status).toBe('draft');
  });

  it('holds the signing until the provider passes the signer, and keeps its evidence in the audit trail', async () => {
    registerIdentityProvider(provider);
    // Configuration picks the provider by name (SIGIL_IDENTITY_PROVIDER); the running app reads it per request.
    world.ctx.config.identityProvider = provider.name;
    try {
      const id = await outsiderDraft();
      const sent = await client(world, sender.token).post(`/api/v1/contracts/${id}/send`, {});
      expect(sent.status, JSON.stringify(sent.body)).toBe(200);
      const token = (sent.body.invitations[0].path as string).replace('/sign/', '');
      const anon = client(world);
      expect((await anon.post(`/api/v1/signing/${token}/codes`, { channel: 'sms' })).status).toBe(200);
      const [sms] = await jobsTo('sms.send', phone);
      const code = /验证码 (\d{6})/.exec(sms!.text)![1]!;
      const opened = await anon.post(`/api/v1/signing/${token}/sessions`, { code, channel: 'sms', consent: true });
      expect(opened.status, JSON.stringify(opened.body)).toBe(200);
      const session = { 'x-signing-session': opened.body.sessionToken as string };
      const sign = () =>
        world.app.inject({
          method: 'POST',
          url: '/api/v1/signing/session/signatures',
          headers: session,
          payload: { signatureImage: signaturePng },
        });
      const check = (method: 'GET' | 'POST') =>
        world.app.inject({ method, url: '/api/v1/signing/session/identity-checks', headers: session });

      expect((await sign()).json().code).toBe('identity_check_required');
      const first = await check('POST');
      expect(first.json()).toMatchObject({
        kind: 'real_name',
        status: 'pending',
        redirectUrl: 'https://idv.example/IDV-1',
      });
      expect(provider.requests[0]).toMatchObject({ kind: 'real_name', contractId: id, name: '王五', phone });
      expect((await sign()).json().code).toBe('identity_check_pending');

      // A failed check refuses the signature; the signer may take it again.
      provider.verdicts.set('IDV-1', { status: 'failed', reason: '姓名与证件不符', evidence: { transaction: 'T-1' } });
      const failed = await sign();
      expect(failed.statusCode).toBe(403);
      expect(failed.json().code).toBe('identity_check_failed');
      expect((await check('POST')).json()).toMatchObject({
        status: 'pending',
        redirectUrl: 'https://idv.example/IDV-2',
      });
      provider.verdicts.set('IDV-2', { status: 'passed', evidence: { transaction: 'T-2', method: '公安实名比对' } });
      // The deployment moves to another provider meanwhile: the verdict still comes from the one
      // that started the check (the other knows no IDV-2 and would fail it).
      const successor = new ScriptedProvider('successor-idv');
      registerIdentityProvider(successor);
      world.ctx.config.identityProvider = successor.name;
      expect((await check('GET')).json().status).toBe('passed');
      world.ctx.config.identityProvider = provider.name;

      const signed = await sign();
      expect(signed.statusCode, signed.body).toBe(200);
      expect((await client(world, sender.token).get(`/api/v1/contracts/${id}`)).body.status).toBe('completed');
      const decided = await auditOf(id, 'contract.identity_check_decided');
      expect(decided.map((d) => d.changes)).toEqual([
        expect.objectContaining({ verdict: 'failed', reference: 'IDV-1', provider: 'test-idv' }),
        expect.objectContaining({
          verdict: 'passed',
          reference: 'IDV-2',
          evidence: { transaction: 'T-2', method: '公安实名比对' },
        }),
      ]);
      const files = unzipSync(new Uint8Array((await raw(`/api/v1/contracts/${id}/evidence`, sender.token)).rawPayload));
      expect(strFromU8(files['events.json']!)).toContain('T-2');
      expect(pdfText(files['audit-trail.pdf']!)).toContain('IDV-2');
    } finally {
      world.ctx.config.identityProvider = null;
    }
  });
});

// Last: it moves the clock on, and the signing engine checks certificates against the real time.
describe('a second factor at the moment of signing', () => {
  let secret = '';

  it('asks an internal signer with an authenticator for a current code, counting wrong and replayed ones', async () => {
    const me = client(world, totpUser.token);
    // Stopped, so that a slow machine does not outlast the throttle's one-second wait.
    world.clock.freeze();
    secret = (await me.post('/api/v1/me/totp/setup', {})).body.secret;
    const enabledWith = totpCode(secret, world.clock.now());
    expect((await me.post('/api/v1/me/totp/enable', { code: enabledWith })).status).toBe(200);
    const id = await draft(totpUser);
    expect((await me.post(`/api/v1/contracts/${id}/send`, {})).status).toBe(200);

    const missing = await me.post(`/api/v1/contracts/${id}/sign`, {});
    expect(missing.status).toBe(403);
    expect(missing.body.code).toBe('signing_totp_required');
    // The code that turned the authenticator on is spent.
    expect((await me.post(`/api/v1/contracts/${id}/sign`, { totp: enabledWith })).body.code).toBe(
      'signing_totp_invalid',
    );
    const wrong = enabledWith === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++)
      expect((await me.post(`/api/v1/contracts/${id}/sign`, { totp: wrong })).body.code).toBe('signing_totp_invalid');
    // Five failures: now even a right code (the next step's, within the allowed drift) waits.
    const next = totpCode(secret, new Date(world.clock.now().getTime() + 30_000));
    const limited = await me.post(`/api/v1/contracts/${id}/sign`, { totp: next });
    expect(limited.status).toBe(429);
    expect(limited.body.retryAfterSeconds).toBeGreaterThan(0);
    expect((await me.get(`/api/v1/contracts/${id}`)).body.status).toBe('sent');
    expect(await auditOf(totpUser.id, 'auth.signing_factor_failed')).toHaveLength(5);

    world.clock.advance(120_000);
    const code = totpCode(secret, world.clock.now());
    const signed = await me.post(`/api/v1/contracts/${id}/sign`, { totp: code });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    expect(signed.body.status).toBe('completed');
    const [audit] = await auditOf(id, 'contract.signed');
    expect(audit?.changes).toMatchObject({ secondFactor: 'totp' });
    world.clock.thaw();
  });

  it('requires it for every contract a company sends once its policy says so, set only by its administrators', async () => {
    const admin = client(world, group.admin.token);
    // A seal administrator may read the organisation but not change its settings; another group finds no company.
    expect(
      (await client(world, keeper.token).put(`/api/v1/contract-policies/${company.id}`, { requireSecondFactor: true }))
        .status,
    ).toBe(403);
    expect(
      (
        await client(world, stranger.token).put(`/api/v1/contract-policies/${company.id}`, {
          requireSecondFactor: true,
        })
      ).status,
    ).toBe(404);
    // Set at the head company, it binds the company below it.
    const set = await admin.put(`/api/v1/contract-policies/${group.hq.id}`, { requireSecondFactor: true });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const below = await admin.get(`/api/v1/contract-policies/${company.id}`);
    expect(below.body).toMatchObject({
      requireSecondFactor: false,
      effective: { requireSecondFactor: true, setBy: { id: group.hq.id } },
    });
    try {
      const id = await draft(sender);
      expect((await client(world, sender.token).get(`/api/v1/contracts/${id}`)).body.requireSecondFactor).toBe(true);
      expect((await client(world, sender.token).post(`/api/v1/contracts/${id}/send`, {})).status).toBe(200);
      expect((await client(world, sender.token).post(`/api/v1/contracts/${id}/sign`, {})).body.code).toBe(
        'signing_totp_not_enrolled',
      );
    } finally {
      await admin.put(`/api/v1/contract-policies/${group.hq.id}`, { requireSecondFactor: false });
    }
  });

  it('refuses a signer without an authenticator where the contract requires one, changing nothing', async () => {
    const id = await draft(sender, { requireSecondFactor: true });
    expect((await client(world, sender.token).post(`/api/v1/contracts/${id}/send`, {})).status).toBe(200);
    const refused = await client(world, sender.token).post(`/api/v1/contracts/${id}/sign`, { totp: '123456' });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('signing_totp_not_enrolled');
    const after = (await client(world, sender.token).get(`/api/v1/contracts/${id}`)).body;
    expect(after).toMatchObject({ status: 'sent', requireSecondFactor: true });
    expect(after.participants[0].status).toBe('active');
  });
});
