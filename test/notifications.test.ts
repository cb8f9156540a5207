import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findJob } from '../src/jobs/job.repository.js';
import { newId } from '../src/lib/ids.js';
import { tell } from '../src/modules/approvals/approval.notices.js';
import { NoneMailer } from '../src/transports/mailer.js';
import { findDeliveries } from '../src/modules/notifications/notification.repository.js';
import { notify, type NotifyInput } from '../src/modules/notifications/notification.service.js';
import type { NotificationKind } from '../src/modules/notifications/notification.templates.js';
import { FileSmsGateway, HttpSmsGateway } from '../src/transports/sms-gateway.js';
import { ConfigError, parseConfig } from '../src/server/config.js';
import { buildGroup, buildUser, client, createWorld, type GroupFixture, type World } from './support/world.js';

interface ReceivedMail {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
}

/** The decoded subject, From and text body of a single-part message as nodemailer writes it. */
function decodeMail(raw: string): { subject: string; from: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headerText = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map(
    headerText
      .split('\r\n')
      .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  const words = (value: string) =>
    value
      .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1')
      .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset: string, encoding: string, data: string) =>
        encoding.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64').toString('utf8')
          : Buffer.from(
              data
                .replace(/_/g, ' ')
                .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
              'latin1',
            ).toString('utf8'),
      );
  const body = raw.slice(split + 4);
  const encoding = headers.get('content-transfer-encoding');
  const text = encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : body;
  return { subject: words(headers.get('subject') ?? ''), from: words(headers.get('from') ?? ''), text };
}

let mails: ReceivedMail[] = [];
let smtp: SMTPServer;
let sms: Server;
let smsRequests: Array<{ authorization: string | undefined; body: { to: string; text: string } }> = [];
/** What the SMS gateway answers next (then 200). */
let smsAnswers: number[] = [];

let world: World;
let group: GroupFixture;
let li: { id: string; token: string; email: string };
let bob: { id: string; token: string; email: string };
let carol: { id: string; email: string };
const PHONE = '+86 138 0013 8000';

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  smtp = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'sigil' && auth.password === 'mail-secret') callback(null, { user: auth.username });
      else callback(new Error('bad credentials'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        mails.push({
          from,
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  sms = createServer((request, response) => {
    void readBody(request).then((text) => {
      if (request.url === '/hang') return; // never answers
      smsRequests.push({
        authorization: request.headers.authorization,
        body: JSON.parse(text) as { to: string; text: string },
      });
      const status = smsAnswers.shift() ?? 200;
      response
        .writeHead(status, { 'content-type': 'application/json' })
        .end(status === 200 ? JSON.stringify({ id: `sms-${smsRequests.length}` }) : JSON.stringify({ error: 'busy' }));
    });
  });
  await new Promise<void>((resolve) => sms.listen(0, '127.0.0.1', resolve));
  const smsPort = (sms.address() as AddressInfo).port;

  world = await createWorld({
    SIGIL_MAILER: 'smtp',
    SIGIL_SMTP_URL: `smtp://sigil:mail-secret@127.0.0.1:${smtpPort}`,
    SIGIL_MAIL_FROM: 'Sigil 印章平台 <sigil@example.test>',
    SIGIL_PUBLIC_URL: 'https://sigil.example.test/',
    SIGIL_SMS: 'http',
    SIGIL_SMS_URL: `http://127.0.0.1:${smsPort}/send`,
    SIGIL_SMS_TOKEN: 'sms-token-123',
  });
  group = await buildGroup(world);
  const admin = client(world, group.admin.token);
  li = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: '李娜' });
  bob = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Bob Smith' });
  carol = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Carol' });
  expect((await admin.patch(`/api/v1/users/${li.id}`, { locale: 'zh-CN', phone: PHONE })).status).toBe(200);
  expect((await admin.patch(`/api/v1/users/${carol.id}`, { phone: '+1 555 0100' })).status).toBe(200);
  expect((await admin.post(`/api/v1/users/${carol.id}/status`, { status: 'resigned' })).status).toBe(200);
});

afterAll(async () => {
  await world.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  sms.closeAllConnections();
  await new Promise<void>((resolve) => sms.close(() => resolve()));
});

function send<K extends NotificationKind>(input: Omit<NotifyInput<K>, 'groupId'>) {
  return world.db.transaction().execute((trx) => notify(trx, { groupId: group.groupId, ...input }));
}

const assigned = (applicationId: string) => ({
  applicationId,
  applicantName: '王伟',
  sealNames: ['合同专用章', '公章'],
  reason: '签订采购合同',
});

describe('notify', () => {
  it('tells each recipient in their own language: inbox, e-mail over SMTP, text message over the HTTP gateway', async () => {
    mails = [];
    smsRequests = [];
    const applicationId = newId();
    const result = await send({
      userIds: [li.id, bob.id],
      kind: 'approval.task_assigned',
      params: assigned(applicationId),
      link: `/applications/${applicationId}`,
      channels: ['inbox', 'email', 'sms'],
    });
    expect(result.notifications.map((n) => n.userId)).toEqual([li.id, bob.id]);

    const liInbox = (await client(world, li.token).get('/api/v1/notifications')).body.items;
    expect(liInbox).toHaveLength(1);
    expect(liInbox[0]).toMatchObject({
      kind: 'approval.task_assigned',
      title: '待您审批：王伟申请使用「合同专用章」、「公章」',
      body: '王伟申请使用「合同专用章」、「公章」。\n用印事由：签订采购合同\n请及时审批。',
      link: `/applications/${applicationId}`,
      data: assigned(applicationId),
      read: false,
    });
    const bobInbox = (await client(world, bob.token).get('/api/v1/notifications')).body.items;
    expect(bobInbox[0].title).toBe('Approval needed: 王伟 asks to use "合同专用章", "公章"');

    const outcomes = await world.jobs.runDueJobs();
    expect(outcomes.map((o) => `${o.kind}:${o.status}`).sort()).toEqual([
      'email.send:done',
      'email.send:done',
      'sms.send:done',
    ]);

    expect(mails).toHaveLength(2);
    const toLi = mails.find((m) => m.to.includes(li.email))!;
    expect(toLi.from).toBe('sigil@example.test');
    expect(toLi.user).toBe('sigil');
    const decoded = decodeMail(toLi.raw);
    expect(decoded.from).toBe('Sigil 印章平台 <sigil@example.test>');
    expect(decoded.subject).toBe('待您审批：王伟申请使用「合同专用章」、「公章」');
    expect(decoded.text).toContain('用印事由：签订采购合同');
    expect(decoded.text).toContain(`查看详情：https://sigil.example.test/applications/${applicationId}`);
    expect(decoded.text).toContain('此邮件由 Sigil 印章管理平台自动发送');
    const toBob = decodeMail(mails.find((m) => m.to.includes(bob.email))!.raw);
    expect(toBob.subject).toBe('Approval needed: 王伟 asks to use "合同专用章", "公章"');
    expect(toBob.text).toContain(`Open: https://sigil.example.test/applications/${applicationId}`);

    expect(smsRequests).toEqual([
      {
        authorization: 'Bearer sms-token-123',
        body: {
          to: PHONE,
          text: `王伟申请使用「合同专用章」、「公章」，待您审批。 https://sigil.example.test/applications/${applicationId}`,
        },
      },
    ]);

    const deliveries = await findDeliveries(world.db, { groupId: group.groupId });
    const mine = deliveries.filter((d) => result.deliveries.some((r) => r.deliveryId === d.id));
    expect(mine.map((d) => `${d.userId === li.id ? 'li' : 'bob'} ${d.channel} ${d.status}`).sort()).toEqual([
      'bob email sent',
      'bob sms skipped',
      'li email sent',
      'li sms sent',
    ]);
    const smsJob = await findJob(
      world.db,
      result.deliveries.find((d) => d.channel === 'sms' && d.userId === li.id)!.jobId!,
    );
    expect(smsJob).toMatchObject({
      status: 'done',
      groupId: group.groupId,
      result: { channel: 'sms', via: 'http', sent: true, messageId: 'sms-1' },
    });
  });

  it('skips a channel the user has no address for, and every outside channel for a user who has left, recording why', async () => {
    const result = await send({
      userIds: [bob.id, carol.id, bob.id],
      kind: 'application.approved',
      params: { applicationId: newId(), sealNames: ['财务专用章'], approverName: null },
      channels: ['email', 'sms'],
    });
    expect(result.notifications).toEqual([]);
    expect(
      result.deliveries.map((d) => [d.userId === bob.id ? 'bob' : 'carol', d.channel, d.status, d.detail]),
    ).toEqual([
      ['bob', 'email', 'queued', null],
      ['bob', 'sms', 'skipped', 'the user has no phone number'],
      ['carol', 'email', 'skipped', 'the user is resigned'],
      ['carol', 'sms', 'skipped', 'the user is resigned'],
    ]);
    expect(result.deliveries.filter((d) => d.status === 'skipped').every((d) => d.jobId === null)).toBe(true);
    mails = [];
    await world.jobs.runDueJobs();
    expect(mails.map((m) => m.to)).toEqual([[bob.email]]);
    expect(decodeMail(mails[0]!.raw).subject).toBe('Approved: your application to use "财务专用章"');
  });

  it('tells nobody when the transaction rolls back', async () => {
    const before = (await client(world, bob.token).get('/api/v1/notifications/unread-count')).body.count as number;
    await expect(
      world.db.transaction().execute(async (trx) => {
        await notify(trx, {
          groupId: group.groupId,
          userIds: [bob.id],
          kind: 'application.cc',
          params: { ...assigned(newId()) },
          channels: ['inbox', 'email'],
        });
        throw new Error('the approval failed');
      }),
    ).rejects.toThrow('the approval failed');
    expect((await client(world, bob.token).get('/api/v1/notifications/unread-count')).body.count).toBe(before);
    expect(await world.jobs.runDueJobs()).toEqual([]);
  });

  it('refuses a user of another group and a link that leaves the console', async () => {
    const other = await buildGroup(world);
    await expect(
      send({
        userIds: [other.admin.id],
        kind: 'application.approved',
        params: { applicationId: newId(), sealNames: ['x'], approverName: null },
        channels: ['inbox'],
      }),
    ).rejects.toThrow('no user');
    await expect(
      send({
        userIds: [bob.id],
        kind: 'application.approved',
        params: { applicationId: newId(), sealNames: ['x'], approverName: null },
        link: 'https://evil.test/',
        channels: ['inbox'],
      }),
    ).rejects.toThrow('link must be a path');
    await expect(
      send({
        userIds: [bob.id],
        kind: 'application.approved',
        params: { applicationId: newId(), sealNames: ['x'], approverName: null },
        link: '//evil.test/',
        channels: ['inbox'],
      }),
    ).rejects.toThrow('link must be a path');
  });
});

describe('delivery', () => {
  it('retries a text message the gateway refused, with backoff, and marks it sent once it goes through', async () => {
    smsRequests = [];
    smsAnswers = [503];
    const result = await send({
      userIds: [li.id],
      kind: 'application.rejected',
      params: { applicationId: newId(), sealNames: ['公章'], approverName: '张敏', comment: '金额有误' },
      channels: ['sms'],
    });
    const [first] = await world.jobs.runDueJobs();
    expect(first).toMatchObject({
      kind: 'sms.send',
      status: 'failed',
      error: 'the SMS gateway answered 503: {"error":"busy"}',
    });
    const deliveryId = result.deliveries[0]!.deliveryId;
    const delivery = async () =>
      (await findDeliveries(world.db, { groupId: group.groupId, userId: li.id })).find((d) => d.id === deliveryId);
    expect(await delivery()).toMatchObject({
      status: 'retrying',
      detail: 'attempt 1 of 6: the SMS gateway answered 503: {"error":"busy"}',
    });
    expect(await world.jobs.runDueJobs()).toEqual([]);
    world.clock.advance(31_000);
    expect((await world.jobs.runDueJobs())[0]).toMatchObject({ kind: 'sms.send', status: 'done' });
    expect(await delivery()).toMatchObject({ status: 'sent' });
    expect(smsRequests.map((r) => r.body.text)).toEqual([
      '张敏驳回了您使用「公章」的申请。',
      '张敏驳回了您使用「公章」的申请。',
    ]);
  });

  it('gives up on an SMS gateway that does not answer in time', async () => {
    const port = (sms.address() as AddressInfo).port;
    const gateway = new HttpSmsGateway({
      url: `http://127.0.0.1:${port}/hang`,
      token: 'sms-token-123',
      timeoutMs: 200,
    });
    await expect(gateway.send({ to: PHONE, text: 'x' })).rejects.toThrow(
      'the SMS gateway did not answer within 200 ms',
    );
    const unreachable = new HttpSmsGateway({ url: 'http://127.0.0.1:9/send', token: 'sms-token-123', timeoutMs: 2000 });
    await expect(unreachable.send({ to: PHONE, text: 'x' })).rejects.toThrow('the SMS gateway could not be reached');
  });

  it('writes text messages to the development outbox file instead of sending them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigil-sms-'));
    const previous = world.ctx.sms;
    try {
      const file = join(dir, 'sms-outbox.jsonl');
      world.ctx.sms = new FileSmsGateway(file, world.clock.now);
      await send({
        userIds: [li.id],
        kind: 'approval.reminder',
        params: { applicationId: newId(), applicantName: '王伟', sealNames: ['公章'], waitingHours: 24 },
        channels: ['sms'],
      });
      await send({
        userIds: [li.id],
        kind: 'application.transferred',
        params: {
          applicationId: newId(),
          applicantName: '王伟',
          sealNames: ['公章'],
          fromApproverName: '张敏',
          comment: null,
        },
        channels: ['sms'],
      });
      const outcomes = await world.jobs.runDueJobs();
      expect(outcomes.map((o) => o.status)).toEqual(['done', 'done']);
      expect(outcomes[0]).toMatchObject({ result: { via: 'file', sent: true } });
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { to: string; text: string; at: string });
      // The two jobs ran side by side: either may have been written first.
      expect(lines.map((l) => [l.to, l.text]).sort()).toEqual(
        [
          [PHONE, '催办：王伟的用印申请已等待您审批24小时。'],
          [PHONE, '张敏将一份用印申请转交给您审批。'],
        ].sort(),
      );
    } finally {
      world.ctx.sms = previous;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records on the job and the delivery that nothing was sent when mail is switched off', async () => {
    const previous = world.ctx.mailer;
    try {
      world.ctx.mailer = new NoneMailer();
      const result = await send({
        userIds: [bob.id],
        kind: 'approval.escalated',
        params: {
          applicationId: newId(),
          applicantName: 'Wang Wei',
          sealNames: ['Contract seal'],
          fromApproverName: null,
          waitingHours: 48,
        },
        channels: ['email'],
      });
      const [outcome] = await world.jobs.runDueJobs();
      expect(outcome).toMatchObject({
        status: 'done',
        result: { channel: 'email', via: 'none', sent: false, detail: 'SIGIL_MAILER=none: no mail was sent' },
      });
      const delivery = (await findDeliveries(world.db, { groupId: group.groupId, userId: bob.id })).find(
        (d) => d.id === result.deliveries[0]!.deliveryId,
      );
      expect(delivery).toMatchObject({ status: 'not_sent', detail: 'SIGIL_MAILER=none: no mail was sent' });
    } finally {
      world.ctx.mailer = previous;
    }
  });
  it('queues nothing for a channel this server has switched off, and records the delivery as skipped with the reason', async () => {
    await world.jobs.runDueJobs();
    const known = new Set((await findDeliveries(world.db, { groupId: group.groupId, userId: li.id })).map((d) => d.id));
    const applicationId = newId();
    const mailOff = { mailer: new NoneMailer(), sms: world.ctx.sms };
    await world.db.transaction().execute((trx) =>
      tell(mailOff, trx, {
        groupId: group.groupId,
        userIds: [li.id],
        kind: 'application.cc',
        params: assigned(applicationId),
        applicationId,
        at: world.clock.now(),
      }),
    );
    const fresh = (await findDeliveries(world.db, { groupId: group.groupId, userId: li.id })).filter(
      (d) => !known.has(d.id),
    );
    fresh.sort((a, b) => a.channel.localeCompare(b.channel));
    expect(fresh.map((d) => [d.channel, d.status, d.detail, d.jobId === null])).toEqual([
      ['email', 'skipped', 'e-mail is switched off on this server (SIGIL_MAILER=none)', true],
      ['sms', 'queued', null, false],
    ]);
    // Only the text message, whose gateway is on, has a job to run.
    const ran = await world.jobs.runDueJobs();
    expect(ran).toHaveLength(1);
    expect(ran[0]).toMatchObject({ status: 'done', result: { channel: 'sms' } });
  });
});

describe('inbox endpoints', () => {
  let dana: { id: string; token: string };
  let ids: string[];
  beforeAll(async () => {
    dana = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, name: 'Dana' });
    const start = world.clock.now().getTime();
    ids = [];
    for (let i = 0; i < 5; i++) {
      const result = await world.db.transaction().execute((trx) =>
        notify(trx, {
          groupId: group.groupId,
          userIds: [dana.id],
          kind: 'application.cc',
          params: { ...assigned(newId()), reason: `reason ${i}` },
          channels: ['inbox'],
          at: new Date(start + i * 1000),
        }),
      );
      ids.push(result.notifications[0]!.notificationId);
    }
  });

  it('lists only my own notifications, newest first, page by page', async () => {
    const api = client(world, dana.token);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: Array<{ id: string }>; nextCursor: string | null } } = await api.get(
        `/api/v1/notifications?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((n) => n.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const bobs = (await client(world, bob.token).get('/api/v1/notifications?limit=500')).body.items.map(
      (n: { id: string }) => n.id,
    );
    expect(bobs.some((id: string) => ids.includes(id))).toBe(false);
  });

  it('marks one read, then all, and counts what is unread', async () => {
    const api = client(world, dana.token);
    expect((await api.get('/api/v1/notifications/unread-count')).body).toEqual({ count: 5 });
    const read = await api.post(`/api/v1/notifications/${ids[1]}/read`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: ids[1], read: true });
    const firstReadAt = read.body.readAt as string;
    world.clock.advance(5000);
    expect((await api.post(`/api/v1/notifications/${ids[1]}/read`)).body.readAt).toBe(firstReadAt);
    expect((await api.get('/api/v1/notifications/unread-count')).body).toEqual({ count: 4 });
    const unread = await api.get('/api/v1/notifications?unread=true');
    expect(unread.body.items.map((n: { id: string }) => n.id)).toEqual([ids[4], ids[3], ids[2], ids[0]]);
    expect((await api.get('/api/v1/notifications?unread=false')).body.items).toHaveLength(5);
    expect((await api.post('/api/v1/notifications/read-all')).body).toEqual({ marked: 4 });
    expect((await api.post('/api/v1/notifications/read-all')).body).toEqual({ marked: 0 });
    expect((await api.get('/api/v1/notifications/unread-count')).body).toEqual({ count: 0 });
    expect((await api.get('/api/v1/notifications?unread=true')).body.items).toEqual([]);
  });

  it('answers 401 without a token on every inbox endpoint', async () => {
    const anonymous = client(world);
    for (const answer of [
      await anonymous.get('/api/v1/notifications'),
      await anonymous.get('/api/v1/notifications/unread-count'),
      await anonymous.post(`/api/v1/notifications/${ids[0]}/read`),
      await anonymous.post('/api/v1/notifications/read-all'),
    ]) {
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe('unauthenticated');
    }
  });

  it('names each bad field with 400', async () => {
    const api = client(world, dana.token);
    const cases: Array<[string, { field: string; message: string }]> = [
      ['/api/v1/notifications?unread=yes', { field: 'querystring.unread', message: 'must be true or false' }],
      [
        '/api/v1/notifications?limit=0',
        { field: 'querystring.limit', message: 'Too small: expected number to be >=1' },
      ],
      [
        '/api/v1/notifications?limit=501',
        { field: 'querystring.limit', message: 'Too big: expected number to be <=500' },
      ],
      [
        '/api/v1/notifications?cursor=!!!',
        { field: 'querystring.cursor', message: 'is not a cursor this server issued' },
      ],
      ['/api/v1/notifications?colour=red', { field: 'querystring.colour', message: 'is not a known field' }],
    ];
    for (const [url, problem] of cases) {
      const answer = await api.get(url);
      expect(answer.status, url).toBe(400);
      expect(answer.body.code).toBe('validation_failed');
      expect(answer.body.errors, url).toEqual([problem]);
    }
    const malformed = await api.post('/api/v1/notifications/123/read');
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors).toEqual([{ field: 'params.notificationId', message: 'must be a UUID' }]);
  });

  it("answers 404 for another person's notification, even an administrator's request, and 403 for an API key", async () => {
    const theirs = await client(world, bob.token).post(`/api/v1/notifications/${ids[0]}/read`);
    expect(theirs.status).toBe(404);
    expect(theirs.body.code).toBe('notification_not_found');
    const unknown = await client(world, bob.token).post(`/api/v1/notifications/${newId()}/read`);
    expect(unknown.body.detail.replace(/[0-9a-f-]{36}/, 'ID')).toBe(theirs.body.detail.replace(/[0-9a-f-]{36}/, 'ID'));
    expect((await client(world, group.admin.token).post(`/api/v1/notifications/${ids[0]}/read`)).status).toBe(404);
    const key = (
      await client(world, group.admin.token).post('/api/v1/api-keys', {
        name: 'integration',
        companyId: group.hq.id,
        permissions: ['org.read'],
      })
    ).body.secret as string;
    const byKey = await client(world, key).get('/api/v1/notifications');
    expect(byKey.status).toBe(403);
    expect(byKey.body.code).toBe('forbidden');
  });
});

describe('mail and SMS configuration', () => {
  function problems(env: Record<string, string>): string[] {
    try {
      parseConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  }

  it('sends nothing by default and refuses settings that do not fit together', () => {
    expect(parseConfig({})).toMatchObject({ mail: { mailer: 'none' }, sms: { gateway: 'none' } });
    expect(problems({ SIGIL_MAILER: 'pigeon' })).toEqual(['SIGIL_MAILER: must be smtp or none']);
    expect(problems({ SIGIL_MAILER: 'smtp' })).toEqual([
      'SIGIL_SMTP_URL: required when SIGIL_MAILER=smtp',
      'SIGIL_MAIL_FROM: required when SIGIL_MAILER=smtp',
    ]);
    expect(problems({ SIGIL_SMTP_URL: 'smtp://mail.example.test:587' })).toEqual([
      'SIGIL_SMTP_URL: set, but SIGIL_MAILER is none; set SIGIL_MAILER=smtp to send mail',
    ]);
    expect(
      problems({ SIGIL_MAILER: 'smtp', SIGIL_SMTP_URL: 'http://mail.example.test', SIGIL_MAIL_FROM: 'a@b.test' }),
    ).toEqual(['SIGIL_SMTP_URL: must be an smtp:// or smtps:// URL']);
    expect(problems({ SIGIL_SMS: 'carrier-pigeon' })).toEqual(['SIGIL_SMS: must be none, file or http']);
    expect(problems({ SIGIL_SMS: 'http' })).toEqual([
      'SIGIL_SMS_URL: required when SIGIL_SMS=http',
      'SIGIL_SMS_TOKEN: required when SIGIL_SMS=http',
    ]);
    expect(problems({ SIGIL_SMS_URL: 'https://sms.example.test/send' })).toEqual([
      'SIGIL_SMS_URL: set, but SIGIL_SMS is none; set SIGIL_SMS=http to use the gateway',
    ]);
    expect(problems({ SIGIL_PUBLIC_URL: 'ftp://x' })).toEqual(['SIGIL_PUBLIC_URL: must be an http:// or https:// URL']);
    expect(parseConfig({ SIGIL_SMS: 'file', SIGIL_DATA_DIR: '/srv/sigil' }).sms.outboxFile).toBe(
      '/srv/sigil/sms-outbox.jsonl',
    );
  });
});
