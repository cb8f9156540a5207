// Issue 16 §8–§9 on the real database: usage reports (用印报告) as JSON, CSV, XLSX and PDF with
// charts; the notice of new offline operations; sampling reviews and their separation of duties;
// cross-checks against an imported register; corrections appended, never overwriting.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmartSealDevice } from '../src/devices/device.js';
import { createHttpLink } from '../src/devices/http-link.js';
import { PhoneRelay } from '../src/devices/relay.js';
import { registerMatcher } from '../src/modules/devices/usage-register.js';
import { drawSample, reportPeriod } from '../src/modules/devices/usage.service.js';
import { buildPdf } from './signing/pdf-fixtures.js';
import { buildCompany, buildGroup, buildSeal, buildUser, client, createWorld, type World } from './support/world.js';
import { injectCall, stampPhoto } from './support/devices.js';

let world: World;
const dir = mkdtempSync(join(tmpdir(), 'sigil-usage-'));

type User = Awaited<ReturnType<typeof buildUser>>;
const SEAL_NAME = '合同专用章（华东）';
const E_SEAL_NAME = '电子公章（华东）';
const COMPANY_NAME = '华东销售有限公司';

let company: { id: string; path: string };
let custodian: User;
let applicant: User;
let auditor: User;
let hqSealAdmin: User;
let outsider: User;
let sibling: { id: string };
let groupId: string;
let seal: { id: string };
let electronicSealId: string;
let deviceId: string;
let device: SmartSealDevice;
/** Today in Beijing time, YYYY-MM-DD. */
let today: string;

/**
 * `who` applies for `uses` stamps with `reason`, the custodian approves, and the phone stamps them
 * all and syncs; with `syncedBy`, that person's phone relays the device's log instead.
 */
async function stampWith(who: User, reason: string, uses: number, syncedBy: User = who) {
  const submitted = await client(world, who.token).post('/api/v1/applications', {
    sealIds: [seal.id],
    category: 'sales',
    reason,
    uses,
    photosPerUse: 1,
  });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  const inbox = await client(world, custodian.token).get('/api/v1/tasks?status=pending');
  const task = inbox.body.items.find((t: { applicationId: string }) => t.applicationId === submitted.body.id);
  const approved = await client(world, custodian.token).post(`/api/v1/tasks/${task.id}/approve`, {});
  expect(approved.status).toBe(200);
  const relay = new PhoneRelay(createHttpLink(injectCall(world, who.token)));
  await relay.relayTicket(device, await relay.fetchTicket(approved.body.authorizations[0].id));
  for (let i = 0; i < uses; i++) expect(await relay.stamp(device, stampPhoto)).toMatchObject({ ok: true });
  await device.finish();
  const syncer = syncedBy === who ? relay : new PhoneRelay(createHttpLink(injectCall(world, syncedBy.token)));
  await syncer.exchange(device);
  await syncer.sync();
  await relay.sync();
  expect(relay.held).toEqual({ events: 0, photos: 0 });
  expect(syncer.held).toEqual({ events: 0, photos: 0 });
  return submitted.body.id as string;
}

beforeAll(async () => {
  world = await createWorld();
  const group = await buildGroup(world);
  company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: COMPANY_NAME });
  groupId = group.groupId;
  sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
  custodian = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: '保管员甲',
  });
  applicant = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: '申请人乙' });
  auditor = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'security_auditor' }],
    name: '审计员丙',
  });
  hqSealAdmin = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
    name: 'HQ seal admin',
  });
  outsider = await buildUser(world, {
    groupId: group.groupId,
    companyId: sibling.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Sibling seal admin',
  });
  seal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: company.id,
    custodianIds: [custodian.id],
    kind: 'physical',
    type: 'contract',
    name: SEAL_NAME,
  });
  const admin = client(world, custodian.token);
  for (const grantee of [applicant, auditor])
    expect(
      (
        await admin.post(`/api/v1/seals/${seal.id}/grants`, {
          grantee: { type: 'user', userId: grantee.id },
          categories: ['sales'],
        })
      ).status,
    ).toBe(201);
  expect(
    (
      await admin.post('/api/v1/flows', {
        companyId: company.id,
        category: 'sales',
        name: 'Seal use',
        definition: { levels: [{ name: 'Custodian', mode: 'any', approvers: [{ type: 'custodian' }] }], cc: [] },
      })
    ).status,
  ).toBe(201);
  const key = await client(world, group.admin.token).get('/api/v1/devices/ticket-key');
  const serverKey = Buffer.from(key.body.publicKey, 'base64');
  const serial = `SEAL-${randomUUID().slice(0, 8)}`;
  device = new SmartSealDevice({
    serial,
    serverKeys: [serverKey],
    clock: () => world.clock.now().getTime(),
    privateKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
  });
  const registered = await admin.post('/api/v1/devices', {
    serial,
    sealId: seal.id,
    publicKey: device.publicKey.toString('base64'),
    geofence: null,
  });
  expect(registered.status).toBe(201);
  deviceId = registered.body.id;

  await stampWith(applicant, '销售合同HT-2026-001用印', 2);
  await stampWith(applicant, '合同 HT-2026-002 盖章', 1);
  await stampWith(auditor, '审计部门函件', 1);

  // One electronic signature beside the stamps.
  electronicSealId = (
    await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [custodian.id],
      kind: 'electronic',
      name: E_SEAL_NAME,
    })
  ).id;
  const image = await admin.post('/api/v1/seal-images/generate', {
    shape: 'round',
    company: COMPANY_NAME,
    type: '合同专用章',
  });
  await world.db
    .updateTable('seals')
    .set({ image_sha256: image.body.sha256, image_media_type: image.body.mediaType })
    .where('id', '=', electronicSealId)
    .execute();
  await admin.post(`/api/v1/seals/${electronicSealId}/grants`, {
    grantee: { type: 'user', userId: applicant.id },
    categories: ['sales'],
  });
  const uploaded = await world.app.inject({
    method: 'POST',
    url: '/api/v1/documents/uploads?name=contract.pdf',
    headers: { authorization: `Bearer ${applicant.token}`, 'content-type': 'application/pdf' },
    payload: buildPdf({ seed: 1617 }),
  });
  const signed = await client(world, applicant.token).post('/api/v1/signatures', {
    documentSha256: uploaded.json().sha256,
    sealId: electronicSealId,
    category: 'sales',
    level: 'B-B',
    appearance: { type: 'rect', page: 1, rect: [380, 80, 120, 120] },
  });
  expect(signed.status, JSON.stringify(signed.body)).toBe(201);
  today = new Date(world.clock.now().getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}, 120_000);

afterAll(async () => {
  await world.close();
  rmSync(dir, { recursive: true, force: true });
});

const report = (user: User, query: string) =>
  world.app.inject({
    method: 'GET',
    url: `/api/v1/seal-usage/reports?${query}`,
    headers: { authorization: `Bearer ${user.token}` },
  });

describe('the notice of new offline operations', () => {
  it("tells the seal's custodians and the seal administrators over its company, not the person who relayed", async () => {
    const titles = async (user: User) =>
      (await client(world, user.token).get('/api/v1/notifications?limit=500')).body.items
        .filter((n: { kind: string }) => n.kind === 'device.records_arrived')
        .map((n: { title: string }) => n.title);
    // One notice per sync that brought stamps: three sessions synced.
    expect(await titles(custodian)).toHaveLength(3);
    expect(await titles(hqSealAdmin)).toHaveLength(3);
    expect((await titles(hqSealAdmin))[0]).toContain(SEAL_NAME);
    expect(await titles(applicant)).toEqual([]);
    // The auditor relayed one session himself, and is no seal administrator: nothing.
    expect(await titles(auditor)).toEqual([]);
    // A seal administrator of a sibling company keeps none of these seals.
    expect(await titles(outsider)).toEqual([]);
  });
});

describe('usage reports (用印报告)', () => {
  it('counts electronic and physical uses side by side, by seal, company, person and day', async () => {
    const answer = await report(custodian, `period=week&from=${today}&companyId=${company.id}`);
    expect(answer.statusCode, answer.body).toBe(200);
    const body = answer.json();
    expect(body).toMatchObject({
      period: 'week',
      from: today,
      timeZone: 'UTC+08:00',
      companyName: COMPANY_NAME,
      totals: { electronic: 1, physical: 4, total: 5 },
    });
    expect(body.byDay).toHaveLength(7);
    expect(body.byDay[0]).toEqual({ date: today, electronic: 1, physical: 4, total: 5 });
    expect(body.bySeal).toEqual([
      { sealId: seal.id, sealName: SEAL_NAME, companyName: COMPANY_NAME, electronic: 0, physical: 4, total: 4 },
      {
        sealId: electronicSealId,
        sealName: E_SEAL_NAME,
        companyName: COMPANY_NAME,
        electronic: 1,
        physical: 0,
        total: 1,
      },
    ]);
    expect(body.byCompany).toEqual([
      { companyId: company.id, companyName: COMPANY_NAME, electronic: 1, physical: 4, total: 5 },
    ]);
    expect(body.byPerson).toEqual([
      { userId: applicant.id, userName: '申请人乙', electronic: 1, physical: 3, total: 4 },
      { userId: auditor.id, userName: '审计员丙', electronic: 0, physical: 1, total: 1 },
    ]);
    // The week after holds nothing; the month from the first of this one holds it all.
    const nextWeek = new Date(Date.parse(today) + 7 * 86_400_000).toISOString().slice(0, 10);
    expect((await report(custodian, `period=week&from=${nextWeek}`)).json().totals.total).toBe(0);
    const month = (await report(custodian, `period=month&from=${today.slice(0, 8)}01`)).json();
    expect(month.totals).toEqual({ electronic: 1, physical: 4, total: 5 });
    expect(month.byDay.length).toBeGreaterThanOrEqual(28);
  });

  it('cuts periods on Beijing days: a week is seven days, a month ends at the next month', () => {
    expect(reportPeriod('week', '2026-12-07')).toMatchObject({
      start: new Date('2026-12-06T16:00:00Z'),
      end: new Date('2026-12-13T16:00:00Z'),
    });
    const january = reportPeriod('month', '2027-01-31');
    expect(january.days[0]).toBe('2027-01-31');
    expect(january.days.at(-1)).toBe('2027-02-28');
    expect(reportPeriod('month', '2026-02-01').days).toHaveLength(28);
  });

  it('exports CSV that parses back to the same counts', async () => {
    const answer = await report(custodian, `period=week&from=${today}&companyId=${company.id}&format=csv`);
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(answer.headers['content-disposition']).toBe(`attachment; filename="seal-usage-week-${today}.csv"`);
    expect(answer.body.startsWith('\ufeff')).toBe(true);
    const rows = answer.body
      .slice(1)
      .trim()
      .split('\r\n')
      .map((l) => l.split(','));
    expect(rows[0]).toEqual(['section', 'key', 'name', 'electronic', 'physical', 'total']);
    expect(rows.find((r) => r[0] === 'total')?.slice(3)).toEqual(['1', '4', '5']);
    expect(rows.find((r) => r[0] === 'seal' && r[1] === seal.id)).toEqual(['seal', seal.id, SEAL_NAME, '0', '4', '4']);
    expect(rows.find((r) => r[0] === 'person' && r[1] === auditor.id)?.slice(2)).toEqual(['审计员丙', '0', '1', '1']);
    expect(rows.filter((r) => r[0] === 'day')).toHaveLength(7);
  });

  it('exports XLSX that exceljs reads back: a summary and a sheet per breakdown', async () => {
    const answer = await report(custodian, `period=week&from=${today}&companyId=${company.id}&format=xlsx`);
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(answer.rawPayload as unknown as ArrayBuffer);
    expect(book.worksheets.map((w) => w.name)).toEqual([
      '汇总 Summary',
      '按印章 By seal',
      '按公司 By company',
      '按人员 By person',
      '按日 By day',
    ]);
    const values = (name: string) =>
      book
        .getWorksheet(name)!
        .getSheetValues()
        .filter(Boolean)
        .map((row) => (row as unknown[]).slice(1));
    const summary = Object.fromEntries(values('汇总 Summary').map(([k, v]) => [k, v]));
    expect(summary).toMatchObject({ '电子签章 Electronic': 1, '实物用印 Physical': 4, '合计 Total': 5 });
    expect(values('按印章 By seal')).toEqual([
      ['印章 Seal', '公司 Company', '电子签章 Electronic', '实物用印 Physical', '合计 Total'],
      [SEAL_NAME, COMPANY_NAME, 0, 4, 4],
      [E_SEAL_NAME, COMPANY_NAME, 1, 0, 1],
    ]);
    expect(values('按人员 By person')[1]).toEqual(['申请人乙', 1, 3, 4]);
    expect(values('按日 By day')).toHaveLength(8);
  });

  it('exports a PDF whose text (pdftotext) holds the Chinese seal names and the totals', async () => {
    const answer = await report(custodian, `period=week&from=${today}&companyId=${company.id}&format=pdf`);
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('application/pdf');
    const file = join(dir, 'report.pdf');
    writeFileSync(file, answer.rawPayload);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    expect(text).toContain(`用印周报 ${today}`);
    expect(text).toContain(SEAL_NAME);
    expect(text).toContain(E_SEAL_NAME);
    expect(text).toContain(COMPANY_NAME);
    expect(text).toContain('申请人乙');
    expect(text).toMatch(/用印次数 Uses\s+1\s+4\s+5/);
    // The charts are drawn: page 1 rendered (poppler) shows bars in both series' colours.
    execFileSync('pdftoppm', ['-png', '-r', '40', '-f', '1', '-l', '1', '-singlefile', file, join(dir, 'page')]);
    const page = PNG.sync.read(readFileSync(join(dir, 'page.png')));
    const near = (rgb: [number, number, number]) => {
      let n = 0;
      for (let i = 0; i < page.data.length; i += 4)
        if (rgb.every((c, k) => Math.abs(page.data[i + k]! - c) < 24)) n += 1;
      return n;
    };
    expect(near([0x2f, 0x6f, 0xdb])).toBeGreaterThan(20);
    expect(near([0xd9, 0x82, 0x2b])).toBeGreaterThan(20);
  });

  it('refuses a caller without seals.read (403) and a company outside their subtree (404)', async () => {
    const employee = await report(applicant, `period=week&from=${today}`);
    expect(employee.statusCode).toBe(403);
    expect(employee.headers['content-type']).toContain('application/problem+json');
    const foreign = await report(outsider, `period=week&from=${today}&companyId=${company.id}`);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('company_not_found');
    // Without a company, the outsider's report covers only their own subtree: none of the victim's uses.
    const own = (await report(outsider, `period=week&from=${today}&format=csv`)).body;
    expect(own).not.toContain(SEAL_NAME);
    expect(own).toContain('total,');
  });

  it('answers a bad period or day with a 400 problem naming the parameter', async () => {
    for (const [query, field, message] of [
      [`period=year&from=${today}`, 'querystring.period', 'must be week or month'],
      [`from=${today}`, 'querystring.period', 'must be week or month'],
      ['period=week&from=2026-02-30', 'querystring.from', 'must be a date that exists'],
      ['period=week&from=7.12.2026', 'querystring.from', 'must be a date as YYYY-MM-DD'],
      [`period=week&from=${today}&format=doc`, 'querystring.format', 'must be json, csv, xlsx or pdf'],
      [`period=week&from=${today}&companyId=nope`, 'querystring.companyId', 'must be a UUID'],
    ] as const) {
      const answer = await report(custodian, query);
      expect(answer.statusCode, query).toBe(400);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.json().code).toBe('validation_failed');
      expect(answer.json().errors, query).toContainEqual({ field, message });
    }
  });
});

type Record = { recordId: string; kind: string; userId: string; reference: string; at: string; corrections: unknown[] };

async function records(user: User = custodian): Promise<Record[]> {
  const answer = await client(world, user.token).get(`/api/v1/seal-usage?companyId=${company.id}&limit=500`);
  expect(answer.status).toBe(200);
  return answer.body.items;
}

describe('corrections (appended, never overwriting)', () => {
  it('appends who, why and what to a record, shows it with the record, audits it, and leaves the record as it was', async () => {
    const before = (await records()).find((r) => r.kind === 'physical')!;
    expect(before.recordId).toMatch(new RegExp(`^p-${deviceId}-\\d+$`));
    const path = `/api/v1/seal-usage/records/${before.recordId}/corrections`;
    const first = await client(world, custodian.token).post(path, {
      what: '用印人应为申请人乙的同事',
      why: '现场照片显示由他人代为盖章',
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const second = await client(world, custodian.token).post(path, { what: 'Second note', why: 'Follow-up' });
    expect(second.body.corrections.map((c: { what: string }) => c.what)).toEqual([
      '用印人应为申请人乙的同事',
      'Second note',
    ]);
    expect(second.body.corrections[0]).toMatchObject({
      correctedBy: custodian.id,
      correctedByName: '保管员甲',
      why: '现场照片显示由他人代为盖章',
    });
    // The record itself is unchanged: the same person, time and reference.
    const after = (await records()).find((r) => r.recordId === before.recordId)!;
    expect({ ...after, corrections: [] }).toEqual({ ...before, corrections: [] });
    expect(after.corrections).toHaveLength(2);
    const audited = await world.db
      .selectFrom('audit_events')
      .select(['action', 'target_type', 'target_id', 'actor_id', 'company_id', 'changes'])
      .where('action', '=', 'device.usage_corrected')
      .where('target_id', '=', seal.id)
      .orderBy('seq')
      .execute();
    expect(audited).toHaveLength(2);
    expect(audited[0]).toMatchObject({ target_type: 'seal', actor_id: custodian.id, company_id: company.id });
    expect(audited[0]!.changes).toMatchObject({ recordId: before.recordId, what: '用印人应为申请人乙的同事' });
  });

  it('refuses a reader without seals.manage (403), an outsider (404), and bad input (400 per field)', async () => {
    const recordId = (await records())[0]!.recordId;
    const path = `/api/v1/seal-usage/records/${recordId}/corrections`;
    const body = { what: 'x', why: 'y' };
    const auditorAnswer = await client(world, auditor.token).post(path, body);
    expect(auditorAnswer.status).toBe(403);
    // Managing seals somewhere else is not managing this one: an auditor here who is a seal
    // administrator of the sibling company reads the record but may not correct it.
    const elsewhere = await buildUser(world, {
      groupId,
      companyId: sibling.id,
      roles: [{ role: 'seal_admin' }, { role: 'security_auditor', companyId: company.id }],
    });
    expect((await client(world, elsewhere.token).get(`/api/v1/seal-usage/records/${recordId}`)).status).toBe(200);
    const elsewhereAnswer = await client(world, elsewhere.token).post(path, body);
    expect(elsewhereAnswer.status).toBe(403);
    const outsiderAnswer = await client(world, outsider.token).post(path, body);
    expect(outsiderAnswer.status).toBe(404);
    expect(outsiderAnswer.body.code).toBe('usage_record_not_found');
    expect((await client(world, outsider.token).get(`/api/v1/seal-usage/records/${recordId}`)).status).toBe(404);
    const blank = await client(world, custodian.token).post(path, { what: 'x', why: '  ' });
    expect(blank.status).toBe(400);
    expect(blank.body.errors).toContainEqual({ field: 'body.why', message: 'must not be empty' });
    const badId = await client(world, custodian.token).post('/api/v1/seal-usage/records/x-1/corrections', body);
    expect(badId.status).toBe(400);
    expect(badId.body.errors[0].field).toBe('params.recordId');
    const unknown = await client(world, custodian.token).post(
      `/api/v1/seal-usage/records/e-${randomUUID()}/corrections`,
      body,
    );
    expect(unknown.status).toBe(404);
  });
});

describe('sampling reviews', () => {
  const period = () => ({
    from: new Date(world.clock.now().getTime() - 86_400_000).toISOString(),
    to: new Date(world.clock.now().getTime() + 86_400_000).toISOString(),
  });

  it('draws N distinct records uniformly (a partial Fisher–Yates with a CSPRNG)', () => {
    const seen = new Map<number, number>();
    for (let i = 0; i < 2000; i++) {
      const sample = drawSample(10, 3);
      expect(new Set(sample).size).toBe(3);
      for (const s of sample) seen.set(s, (seen.get(s) ?? 0) + 1);
    }
    // Each index is drawn about 600 times in 2,000 draws of 3 out of 10.
    for (let i = 0; i < 10; i++) expect(seen.get(i)).toBeGreaterThan(450);
    expect(drawSample(2, 5).sort()).toEqual([0, 1]);
  });

  it("draws records at random for a reviewer who confirms or flags each, never one of the reviewer's own", async () => {
    const drawn = await client(world, custodian.token).post('/api/v1/seal-usage/reviews', {
      companyId: company.id,
      ...period(),
      size: 10,
      reviewerId: auditor.id,
    });
    expect(drawn.status, JSON.stringify(drawn.body)).toBe(201);
    // Five records in all; the auditor's own stamp is not among those drawn from.
    expect(drawn.body).toMatchObject({ population: 4, size: 4, reviewerId: auditor.id, decided: 0 });
    expect(drawn.body.items.map((i: { userId: string }) => i.userId)).not.toContain(auditor.id);
    const reviewId = drawn.body.id as string;
    const decide = (user: User, position: number, body: object) =>
      client(world, user.token).post(`/api/v1/seal-usage/reviews/${reviewId}/items/${position}/decision`, body);

    // Only the reviewer decides.
    expect((await decide(custodian, 1, { decision: 'confirmed' })).status).toBe(403);
    const flaggedBare = await decide(auditor, 2, { decision: 'flagged' });
    expect(flaggedBare.status).toBe(400);
    expect(flaggedBare.body.errors).toContainEqual({
      field: 'body.comment',
      message: 'a flagged record needs a comment saying what is wrong',
    });
    expect((await decide(auditor, 1, { decision: 'confirmed' })).status).toBe(200);
    const flagged = await decide(auditor, 2, { decision: 'flagged', comment: '照片与合同不符' });
    expect(flagged.status).toBe(200);
    expect(flagged.body).toMatchObject({ decided: 2, flagged: 1 });
    expect(flagged.body.items[1]).toMatchObject({
      decision: 'flagged',
      comment: '照片与合同不符',
      decidedBy: auditor.id,
    });
    const again = await decide(auditor, 1, { decision: 'flagged', comment: 'changed my mind' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('review_item_decided');
    expect((await decide(auditor, 9, { decision: 'confirmed' })).status).toBe(404);

    const mine = await client(world, auditor.token).get('/api/v1/seal-usage/reviews?mine=true');
    expect(mine.body.items.map((r: { id: string }) => r.id)).toContain(reviewId);
    expect((await client(world, outsider.token).get(`/api/v1/seal-usage/reviews/${reviewId}`)).status).toBe(404);
    expect((await client(world, outsider.token).get('/api/v1/seal-usage/reviews')).body.items).toEqual([]);
    expect((await decide(outsider, 3, { decision: 'confirmed' })).status).toBe(404);
    const audited = await world.db
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', reviewId)
      .orderBy('seq')
      .execute();
    expect(audited.map((a) => a.action)).toEqual([
      'device.usage_review_drawn',
      'device.usage_review_decided',
      'device.usage_review_decided',
    ]);
  });

  it('refuses a reviewer who reviews their own stamping, even when the record reached their review', async () => {
    // The auditor stamped once; a review of only that seal for the auditor draws everything else.
    const drawn = await client(world, custodian.token).post('/api/v1/seal-usage/reviews', {
      companyId: company.id,
      sealId: seal.id,
      ...period(),
      size: 200,
      reviewerId: auditor.id,
    });
    expect(drawn.status).toBe(201);
    expect(drawn.body.population).toBe(3);
    // The attack: the auditor's own record planted into their review behind the service's back.
    const own = (await records()).find((r) => r.userId === auditor.id)!;
    await world.db
      .insertInto('device_usage_review_items')
      .values({
        review_id: drawn.body.id,
        position: 4,
        group_id: (
          await world.db.selectFrom('seals').select('group_id').where('id', '=', seal.id).executeTakeFirstOrThrow()
        ).group_id,
        record_id: own.recordId,
        kind: 'physical',
        seal_id: seal.id,
        user_id: auditor.id,
        used_at: new Date(own.at),
        application_id: null,
        reference: own.reference,
        decision: null,
        comment: null,
        decided_by: null,
        decided_at: null,
      })
      .execute();
    const answer = await client(world, auditor.token).post(
      `/api/v1/seal-usage/reviews/${drawn.body.id}/items/4/decision`,
      { decision: 'confirmed' },
    );
    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('review_own_record');
    const item = await world.db
      .selectFrom('device_usage_review_items')
      .select('decision')
      .where('review_id', '=', drawn.body.id)
      .where('position', '=', 4)
      .executeTakeFirstOrThrow();
    expect(item.decision).toBeNull();
  });

  it('refuses a reviewer who may not read the seals, an empty draw, an outsider and a bad period', async () => {
    const post = (user: User, body: object) => client(world, user.token).post('/api/v1/seal-usage/reviews', body);
    const base = { companyId: company.id, ...period(), size: 2 };
    const employee = await post(custodian, { ...base, reviewerId: applicant.id });
    expect(employee.status).toBe(422);
    expect(employee.body.code).toBe('reviewer_not_eligible');
    expect((await post(custodian, { ...base, reviewerId: outsider.id })).body.code).toBe('reviewer_not_eligible');
    const future = new Date(world.clock.now().getTime() + 30 * 86_400_000);
    const empty = await post(custodian, {
      ...base,
      from: future.toISOString(),
      to: new Date(future.getTime() + 86_400_000).toISOString(),
      reviewerId: auditor.id,
    });
    expect(empty.status).toBe(409);
    expect(empty.body.code).toBe('review_nothing_to_draw');
    expect((await post(outsider, { ...base, reviewerId: outsider.id })).status).toBe(404);
    expect((await post(applicant, { ...base, reviewerId: auditor.id })).status).toBe(403);
    const backwards = await post(custodian, { ...base, from: base.to, to: base.from, reviewerId: auditor.id });
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors[0].field).toBe('body.to');
    const tooMany = await post(custodian, { ...base, size: 201, reviewerId: auditor.id });
    expect(tooMany.body.errors).toContainEqual({ field: 'body.size', message: 'must be at most 200' });
  });
});

describe('cross-checks against an imported register', () => {
  const check = (user: User, csv: string | Buffer, query = '') => {
    const from = new Date(world.clock.now().getTime() - 86_400_000).toISOString();
    const to = new Date(world.clock.now().getTime() + 86_400_000).toISOString();
    return world.app.inject({
      method: 'POST',
      url: `/api/v1/seal-usage/register-checks?companyId=${company.id}&from=${from}&to=${to}${query}`,
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'text/csv' },
      payload: csv,
    });
  };

  it('lists register rows with no record and records with no row, matching number and date', async () => {
    const csv = [
      '编号,日期,对方,金额',
      `HT-2026-001,${today},上海某某贸易有限公司,"120,000.00"`,
      `ht-2026-002,${today.replace(/-/g, '/')},"Acme, Ltd.",5000`,
      `HT-2026-00,${today},前缀不算,1`,
      `HT-2026-099,${today},无用印,2`,
      `HT-2026-001,2020-01-01,日期太远,3`,
    ].join('\r\n');
    const answer = await check(custodian, `\ufeff${csv}`);
    expect(answer.statusCode, answer.body).toBe(200);
    const body = answer.json();
    expect(body.rule).toContain('7 day(s)');
    expect(body.rows).toBe(5);
    expect(body.records).toBe(5);
    expect(body.matched.map((m: { line: number; recordIds: string[] }) => [m.line, m.recordIds.length])).toEqual([
      [2, 2],
      [3, 1],
    ]);
    expect(body.matched[1]).toMatchObject({ number: 'ht-2026-002', counterparty: 'Acme, Ltd.', amount: '5000' });
    expect(body.rowsWithoutRecord.map((r: { line: number }) => r.line)).toEqual([4, 5, 6]);
    // The auditor's stamp (a letter, no number) and the electronic signature of contract.pdf answer no row.
    expect(body.recordsWithoutRow.map((r: { kind: string; userId: string }) => [r.kind, r.userId]).sort()).toEqual([
      ['electronic', applicant.id],
      ['physical', auditor.id],
    ]);
  });

  it('matches a number as a whole, case ignored, within the tolerance of days', () => {
    const match = registerMatcher(
      [
        { id: 'a', day: '2026-12-07', text: '销售合同HT-1用印' },
        { id: 'b', day: '2026-12-07', text: 'contract HT-12' },
        { id: 'c', day: '2026-12-10', text: 'ht-1.pdf' },
        { id: 'd', day: '2026-12-20', text: 'HT-1' },
        { id: 'e', day: '2026-12-07', text: 'XHT-1' },
      ],
      3,
    );
    const row = { line: 2, number: 'HT-1', date: '2026-12-07', counterparty: null, amount: null };
    expect(match(row).sort()).toEqual(['a', 'c']);
    expect(match({ ...row, date: '2026-12-17' })).toEqual(['d']);
  });

  it('names the line of every bad row, refuses a file that is not UTF-8, lacks a column or has too many rows', async () => {
    const bad = await check(
      custodian,
      [
        'number,date,counterparty,amount',
        `A-1,${today},x,1`,
        'A-2,2026-13-01,x,1',
        `,${today},x,1`,
        `A-4,${today},x,12abc`,
        `${'N'.repeat(201)},${today},x,1`,
        `A-6,${today},${'公'.repeat(201)},1`,
        `${'N'.repeat(200)},${today},${'公'.repeat(200)},1`,
      ].join('\n'),
    );
    expect(bad.statusCode).toBe(422);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json().code).toBe('register_invalid');
    expect(bad.json().errors).toEqual([
      { field: 'body.line 3', message: 'the date "2026-13-01" is not a day as YYYY-MM-DD' },
      { field: 'body.line 4', message: 'the number is empty' },
      { field: 'body.line 5', message: 'the amount "12abc" is not a number' },
      { field: 'body.line 6', message: 'the number is longer than 200 characters' },
      { field: 'body.line 7', message: 'the counterparty is longer than 200 characters' },
    ]);
    expect(bad.json().detail).toContain('line 3');
    const gbk = await check(custodian, Buffer.from([0x62, 0x2c, 0xb1, 0xe0, 0xba, 0xc5, 0x0a]));
    expect(gbk.json()).toMatchObject({
      code: 'register_invalid',
      errors: [{ field: 'body', message: 'is not UTF-8 text' }],
    });
    const noDate = await check(custodian, 'number,counterparty\nA-1,x\n');
    expect(noDate.json().errors).toEqual([{ field: 'body.line 1', message: 'no date column' }]);
    const many = ['number,date', ...Array.from({ length: 5001 }, (_, i) => `N-${i},${today}`)].join('\n');
    const tooMany = await check(custodian, many);
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json().code).toBe('register_too_large');
    const huge = await check(custodian, `number,date\n${'x'.repeat(1024 * 1024)}`);
    expect(huge.statusCode).toBe(413);
  });

  it('refuses an outsider (404) and a caller without seals.read (403)', async () => {
    const csv = `number,date\nHT-2026-001,${today}\n`;
    const foreign = await check(outsider, csv);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('company_not_found');
    expect((await check(applicant, csv)).statusCode).toBe(403);
    const badTolerance = await check(custodian, csv, '&toleranceDays=61');
    expect(badTolerance.statusCode).toBe(400);
    expect(badTolerance.json().errors).toContainEqual({
      field: 'querystring.toleranceDays',
      message: 'must be at most 60',
    });
  });
});

// Last: it adds a session, which the counts above do not expect.
describe('the notice of new offline operations, relayed by a keeper', () => {
  it('is not sent to the custodian whose own phone relayed the log, and is to the others', async () => {
    const arrived = async (user: User) =>
      (await client(world, user.token).get('/api/v1/notifications?limit=500')).body.items.filter(
        (n: { kind: string }) => n.kind === 'device.records_arrived',
      ).length;
    const [custodianBefore, adminBefore] = [await arrived(custodian), await arrived(hqSealAdmin)];
    await stampWith(applicant, '夜间补盖', 1, custodian);
    expect(await arrived(custodian)).toBe(custodianBefore);
    expect(await arrived(hqSealAdmin)).toBe(adminBefore + 1);
    expect(await arrived(applicant)).toBe(0);
  });
});
