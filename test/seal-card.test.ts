// The seal file card as a PDF, checked by tools we did not write: qpdf for the file's structure,
// pdftotext (poppler) for the text, which must be real, extractable text in Chinese and English.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../src/modules/audit/audit.service.js';
import { chooseCardLanguage, exportSealCard } from '../src/modules/seal-cards/seal-card.service.js';
import { requireTool, run, tempDir } from './signing/support.js';
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
let sealAdmin: Awaited<ReturnType<typeof buildUser>>;
let keeper: Awaited<ReturnType<typeof buildUser>>;
let company: { id: string; path: string };
let seal: { id: string };
const tmp = tempDir('sigil-seal-card-');

beforeAll(async () => {
  for (const tool of ['qpdf', 'pdftotext']) requireTool(tool);
  world = await createWorld();
  group = await buildGroup(world);
  company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
  sealAdmin = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
    name: '李印管',
  });
  keeper = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: '王保管',
  });
  seal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: company.id,
    name: '华夏贸易有限公司合同专用章',
    code: 'HX-HT-001',
    type: 'contract',
    kind: 'physical',
    custodianIds: [keeper.id],
  });
  const api = client(world, sealAdmin.token);
  const image = await api.post('/api/v1/seal-images/generate', {
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
  const grantee = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: '张三丰' });
  const leaver = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Jane Doe' });
  expect(
    (
      await api.post(`/api/v1/seals/${seal.id}/grants`, {
        grantee: { type: 'user', userId: grantee.id },
        categories: ['sales', 'custom:招投标'],
        maxUses: 5,
      })
    ).status,
  ).toBe(201);
  const revoked = await api.post(`/api/v1/seals/${seal.id}/grants`, {
    grantee: { type: 'user', userId: leaver.id },
    categories: ['legal'],
  });
  await api.post(`/api/v1/seals/${seal.id}/grants/${revoked.body.id}/revoke`, { reason: '岗位调整' });
});
afterAll(async () => {
  await world.close();
  tmp.remove();
});

const cardUrl = (id: string, query = '') => `/api/v1/seals/${id}/file-card.pdf${query}`;

async function download(token: string, url: string, headers: Record<string, string> = {}) {
  const response = await world.app.inject({
    method: 'GET',
    url,
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    bytes: response.rawPayload,
    json: () => response.json(),
  };
}

/** qpdf must find nothing wrong; the text comes back through poppler, as a reader would copy it. */
function check(pdf: Buffer, name: string): string {
  const file = tmp.file(name, pdf);
  expect(run('qpdf', ['--check', file]).out).toContain('No syntax or stream encoding errors');
  const text = run('pdftotext', ['-enc', 'UTF-8', file, '-']);
  expect(text.out).not.toContain('Syntax Error');
  return text.out;
}

describe('seal file card PDF', () => {
  it('asks who you are, and names a bad language', async () => {
    expect((await world.app.inject({ method: 'GET', url: cardUrl(seal.id) })).statusCode).toBe(401);
    const bad = await download(sealAdmin.token, cardUrl(seal.id, '?lang=fr'));
    expect(bad.status).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual(['querystring.lang']);
  });

  it('refuses a seal administrator of a sibling company, and an employee', async () => {
    const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const siblingAdmin = await buildUser(world, {
      groupId: group.groupId,
      companyId: sibling.id,
      roles: [{ role: 'seal_admin' }],
    });
    const refused = await download(siblingAdmin.token, cardUrl(seal.id));
    expect(refused.status).toBe(404);
    expect(refused.json().code).toBe('seal_not_found');
    const employee = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'employee' }],
    });
    expect((await download(employee.token, cardUrl(seal.id))).status).toBe(403);
  });

  it('exports every attribute, the grants and the history as real Chinese text that qpdf accepts', async () => {
    const answer = await download(keeper.token, cardUrl(seal.id));
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/pdf');
    expect(answer.headers['content-language']).toBe('zh-CN');
    expect(answer.headers['content-disposition']).toBe('attachment; filename="seal-HX-HT-001-file-card.pdf"');
    const text = check(answer.bytes, 'card-zh.pdf');
    expect(text).toContain('印章档案卡');
    expect(text).toContain('华夏贸易有限公司合同专用章');
    expect(text).toContain('HX-HT-001');
    expect(text).toContain('王保管'); // custodian
    expect(text).toContain('张三丰'); // a grantee
    expect(text).toContain('招投标');
    expect(text).toContain('岗位调整'); // the revoked grant's reason
    expect(text).toContain('新增授权'); // history entries, labelled
    expect(text).toContain('seal.grant_revoked');
    expect(text).toMatch(/第 1 \/ \d+ 页/);
    // The impression is drawn as an image on the card.
    expect(run('pdfimages', ['-list', tmp.file('card-zh.pdf')]).out).toMatch(/image|smask/);
  });

  it('labels in English when asked by lang or by Accept-Language', async () => {
    const byQuery = check((await download(sealAdmin.token, cardUrl(seal.id, '?lang=en'))).bytes, 'card-en.pdf');
    expect(byQuery).toContain('Seal file card');
    expect(byQuery).toContain('Grantee');
    expect(byQuery).toContain('grant created');
    expect(byQuery).toContain('华夏贸易有限公司合同专用章');
    const byHeader = await download(sealAdmin.token, cardUrl(seal.id), {
      'accept-language': 'en-GB,en;q=0.9,zh-CN;q=0.5',
    });
    expect(byHeader.headers['content-language']).toBe('en');
    expect(chooseCardLanguage(undefined, 'fr-FR, zh-TW;q=0.8, en;q=0.7')).toBe('zh-CN');
    expect(chooseCardLanguage(undefined, 'zh;q=0, en')).toBe('en');
    expect(chooseCardLanguage(undefined, undefined)).toBe('zh-CN');
  });

  it('cuts a long history to the newest entries, paginates, and says so on the card', async () => {
    const busy = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      name: '华夏贸易有限公司财务专用章',
      code: 'HX-CW-001',
      type: 'finance',
    });
    await world.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 150; i++) {
        await recordAudit(trx, {
          groupId: group.groupId,
          actor: { system: 'test' },
          event: {
            action: 'seal.custodian_needed',
            target: { type: 'seal', id: busy.id },
            companyId: company.id,
            changes: { formerCustodianId: `第${i}号保管人` },
          },
        });
      }
    });
    const actor = {
      principal: {
        kind: 'user' as const,
        id: sealAdmin.id,
        name: '李印管',
        groupId: group.groupId,
        companyId: group.hq.id,
        companyPath: group.hq.path,
        sessionId: null,
        roles: [{ role: 'seal_admin' as const, companyId: group.hq.id, companyPath: group.hq.path }],
        keyGrants: [],
      },
      ip: null,
      userAgent: null,
      requestId: null,
    };
    const { pdf } = await exportSealCard(world.ctx, actor, busy.id, {
      lang: 'zh-CN',
      limits: { grants: 10, events: 100, lifecycle: 10, uses: 10 },
    });
    const text = check(pdf, 'card-long.pdf');
    expect(text).toContain('共 151 条，仅列出最近 100 条。');
    expect(text).toContain(`GET /api/v1/audit-events?targetId=${busy.id}`);
    expect(text).toContain('第149号保管人'); // the newest
    expect(text).not.toContain('第10号保管人'); // cut
    const pages = Number(/Pages:\s+(\d+)/.exec(run('pdfinfo', [tmp.file('card-long.pdf')]).out)?.[1]);
    expect(pages).toBeGreaterThan(2);
  });
});
