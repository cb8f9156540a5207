// Templates through the API and an HR labour contract made from one: the group starts with three
// Chinese templates; only template managers change them, and never with an unknown variable; a new
// version leaves earlier contracts alone; the contract's PDF is rendered and stored at creation;
// our company seals it under an approved application naming that PDF, then the employee signs
// through their link with a one-time code; pdfsig checks the result.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedTemplates } from '../src/templates/index.js';
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
let company: { id: string };
let keeper: User;
let approver: User;
let hr: User;
let stranger: User;
let seal: { id: string };
let signaturePng: string;
let tmp: ReturnType<typeof tempDir>;
let nss: string;

const labour = seedTemplates.find((t) => t.key === 'labour-contract')!;

beforeAll(async () => {
  for (const tool of ['pdfsig', 'certutil', 'pdftotext']) requireTool(tool);
  tmp = tempDir('sigil-templates-api-');
  world = await createWorld();
  group = await buildGroup(world, 'Huaxia Group');
  company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
  keeper = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'seal_admin' }] });
  approver = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
  });
  hr = await buildUser(world, { groupId: group.groupId, companyId: company.id, roles: [{ role: 'employee' }] });
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
    name: '华夏贸易有限公司人事专用章',
  });
  const image = await client(world, keeper.token).post('/api/v1/seal-images/generate', {
    shape: 'round',
    company: '华夏贸易有限公司',
    type: '人事专用章',
  });
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
  const flow = await client(world, approver.token).post('/api/v1/flows', {
    companyId: group.hq.id,
    category: 'personnel',
    name: 'HR seal use',
    definition: { levels: [{ name: 'HQ', mode: 'any', approvers: [{ type: 'user', userId: approver.id }] }] },
  });
  expect(flow.status, JSON.stringify(flow.body)).toBe(201);
  const root = await world.app.inject({ method: 'GET', url: '/pki/root/certificate' });
  nss = nssDatabase(tmp.dir, root.rawPayload);
});
afterAll(async () => {
  await world?.close();
  tmp?.remove();
});

async function lastSms(phone: string): Promise<string> {
  const rows = await world.db
    .selectFrom('jobs')
    .select(['payload'])
    .where('kind', '=', 'sms.send')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map((r) => r.payload as { to: string; text: string }).find((p) => p.to === phone)?.text ?? '';
}

describe('contract templates', () => {
  it('gives a new group three Chinese templates, usable by the companies below its head', async () => {
    const listed = await client(world, hr.token).get('/api/v1/templates');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((t: { name: string }) => t.name).sort()).toEqual(
      seedTemplates.map((t) => t.source.title).sort(),
    );
    expect((await client(world, stranger.token).get('/api/v1/templates')).body.items).toHaveLength(3);
    const theirs = (await client(world, stranger.token).get('/api/v1/templates')).body.items[0].id as string;
    expect((await client(world, hr.token).get(`/api/v1/templates/${theirs}`)).status).toBe(404);
  });

  it('refuses an unknown variable, and a change by someone who does not manage templates', async () => {
    const source = {
      title: '测试',
      variables: [{ name: 'amount', label: '金额', type: 'amount' }],
      body: '金额 {{amout}}',
    };
    const bad = await client(world, keeper.token).post('/api/v1/templates', {
      name: '坏模板',
      category: 'sales',
      source,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('template_invalid');
    expect(bad.body.problems.some((p: { field: string; code: string }) => p.code === 'unknown_variable')).toBe(true);
    const byEmployee = await client(world, hr.token).post('/api/v1/templates', {
      name: '员工模板',
      category: 'sales',
      source: { ...source, body: '金额 {{amount}}' },
    });
    expect(byEmployee.status).toBe(403);
  });

  it('keeps a contract on the version it was made from when a new version is added', async () => {
    const made = await client(world, keeper.token).post('/api/v1/templates', {
      name: '简单协议',
      category: 'legal',
      source: {
        title: '简单协议',
        variables: [{ name: 'party', label: '乙方', type: 'text' }],
        body: '乙方：{{party}}',
      },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const id = made.body.id as string;
    const v2 = await client(world, keeper.token).post(`/api/v1/templates/${id}/versions`, {
      source: {
        title: '简单协议',
        variables: [{ name: 'party', label: '乙方', type: 'text' }],
        body: '第二版\n乙方：{{party}}',
      },
    });
    expect(v2.status).toBe(201);
    expect(v2.body.version).toBe(2);
    const first = await client(world, keeper.token).get(`/api/v1/templates/${id}?version=1`);
    expect(first.body.source.body).toBe('乙方：{{party}}');
    const preview = await world.app.inject({
      method: 'POST',
      url: `/api/v1/templates/${id}/previews`,
      headers: { authorization: `Bearer ${keeper.token}` },
      payload: { version: 1, values: { party: '王五' } },
    });
    expect(preview.statusCode).toBe(200);
    const file = join(tmp.dir, 'preview.pdf');
    writeFileSync(file, preview.rawPayload);
    const text = execFileSync('pdftotext', [file, '-']).toString();
    expect(text).toContain('王五');
    expect(text).not.toContain('第二版');
    const missing = await world.app.inject({
      method: 'POST',
      url: `/api/v1/templates/${id}/previews`,
      headers: { authorization: `Bearer ${keeper.token}` },
      payload: { values: {} },
    });
    expect(missing.json().code).toBe('template_invalid');
  });

  it('runs an HR labour contract: made from the template, sealed after approval, signed by the employee', async () => {
    const template = (await client(world, hr.token).get('/api/v1/templates')).body.items.find(
      (t: { name: string }) => t.name === labour.source.title,
    );
    const created = await client(world, hr.token).post('/api/v1/contracts', {
      title: '劳动合同（王小明）',
      category: 'personnel',
      template: { templateId: template.id, values: { ...labour.example, employer: '华夏贸易有限公司' } },
      participants: [
        { role: 'signer', step: 1, kind: 'company', companyId: company.id, sealId: seal.id, userId: hr.id },
        { role: 'signer', step: 2, kind: 'outside_person', name: '王小明', phone: '13900139000' },
      ],
      fields: [
        { participant: 0, type: 'company_seal', keyword: '甲方（盖章）' },
        { participant: 1, type: 'signature', keyword: '乙方（签字）' },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const pdf = created.body.sourceSha256 as string;

    // Our seal under an approved application naming this very PDF (applying needs a grant).
    await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: hr.id },
      categories: ['personnel'],
    });
    const applied = await client(world, hr.token).post('/api/v1/applications', {
      sealIds: [seal.id],
      category: 'personnel',
      reason: '签订劳动合同',
      uses: 1,
      documents: [{ sha256: pdf, name: '劳动合同.pdf' }],
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    const task = (await client(world, approver.token).get('/api/v1/tasks?status=pending')).body.items[0].id as string;
    const approved = await client(world, approver.token).post(`/api/v1/tasks/${task}/approve`, {});
    const authorizationId = approved.body.authorizations[0].id as string;

    expect((await client(world, hr.token).post(`/api/v1/contracts/${id}/send`, {})).status).toBe(200);
    await client(world, hr.token).post('/api/v1/applications', {
      sealIds: [seal.id],
      category: 'personnel',
      reason: '另一份文件',
      uses: 1,
    });
    const otherTask = (await client(world, approver.token).get('/api/v1/tasks?status=pending')).body.items[0].id;
    const elsewhere = (await client(world, approver.token).post(`/api/v1/tasks/${otherTask}/approve`, {})).body
      .authorizations[0].id as string;
    const wrong = await client(world, hr.token).post(`/api/v1/contracts/${id}/sign`, { authorizationId: elsewhere });
    expect(wrong.body.code).toBe('document_not_authorized');
    const sealed = await client(world, hr.token).post(`/api/v1/contracts/${id}/sign`, { authorizationId });
    expect(sealed.status, JSON.stringify(sealed.body)).toBe(200);
    const reused = await client(world, hr.token).get(`/api/v1/contracts/${id}`);
    expect(reused.body.participants[1].status).toBe('active');

    const link = await world.db
      .selectFrom('jobs')
      .select('payload')
      .where('kind', '=', 'sms.send')
      .execute()
      .then((rows) =>
        rows.map((r) => r.payload as { to: string; link: string | null }).find((p) => p.to === '13900139000'),
      );
    const token = link!.link!.replace('/sign/', '');
    const anon = client(world);
    expect((await anon.post(`/api/v1/signing/${token}/codes`, { channel: 'sms' })).status).toBe(200);
    const code = /验证码 (\d{6})/.exec(await lastSms('13900139000'))![1]!;
    const opened = await anon.post(`/api/v1/signing/${token}/sessions`, { code, channel: 'sms', consent: true });
    expect(opened.status).toBe(200);
    const signed = await world.app.inject({
      method: 'POST',
      url: '/api/v1/signing/session/signatures',
      headers: { 'x-signing-session': opened.body.sessionToken },
      payload: { signatureImage: signaturePng },
    });
    expect(signed.statusCode, signed.body).toBe(200);

    const done = await client(world, hr.token).get(`/api/v1/contracts/${id}`);
    expect(done.body.status).toBe('completed');
    const download = await world.app.inject({
      method: 'GET',
      url: `/api/v1/contracts/${id}/document`,
      headers: { authorization: `Bearer ${hr.token}` },
    });
    const file = join(tmp.dir, 'labour.pdf');
    writeFileSync(file, download.rawPayload);
    const report = pdfsig(file, nss);
    expect(report).toHaveLength(2);
    expect(report.every((s) => s.signatureValid && s.certificateTrusted)).toBe(true);
    expect(execFileSync('pdftotext', [file, '-']).toString()).toContain('华夏贸易有限公司');
  });
});
