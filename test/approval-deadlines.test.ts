import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCompany,
  buildGroup,
  buildSeal,
  buildUser,
  client,
  createWorld,
  sessionFor,
  type World,
} from './support/world.js';
import { openReopenableDatabase } from './support/reopenable-database.js';

/** Approval news by e-mail to an in-process SMTP server, and overdue reminders and escalations as jobs that outlive a restart. */

let smtp: SMTPServer;
let port = 0;
const mails: Array<{ to: string[]; raw: string }> = [];

beforeAll(async () => {
  smtp = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  port = (smtp.server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => smtp.close(() => resolve())));

const mailEnv = () => ({
  SIGIL_MAILER: 'smtp',
  SIGIL_SMTP_URL: `smtp://127.0.0.1:${port}`,
  SIGIL_MAIL_FROM: 'Sigil <sigil@example.test>',
});

/** A subject line as nodemailer encodes it (RFC 2047 base64 words), decoded. */
function subjectOf(raw: string): string {
  const header = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const line = header.split('\r\n').find((l) => l.toLowerCase().startsWith('subject:')) ?? '';
  return line
    .slice(8)
    .trim()
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?utf-8\?B\?([^?]*)\?=/gi, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'))
    .replace(/=\?utf-8\?Q\?([^?]*)\?=/gi, (_, q: string) =>
      Buffer.from(
        q.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
        'latin1',
      ).toString('utf8'),
    );
}

async function scene(world: World, levels: unknown[]) {
  const group = await buildGroup(world);
  const sealAdmin = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
  });
  const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
  const head = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    name: '王主任',
    email: `head-${Date.now()}-${Math.random()}@example.test`,
  });
  const dept = (
    await client(world, group.admin.token).post('/api/v1/departments', {
      companyId: company.id,
      name: '销售部',
      headUserId: head.id,
    })
  ).body;
  const applicant = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    departmentId: dept.id,
    name: '李明',
  });
  const custodian = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: '赵印',
  });
  const seal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: company.id,
    custodianIds: [custodian.id],
    name: '华夏贸易合同专用章',
  });
  await client(world, sealAdmin.token).post(`/api/v1/seals/${seal.id}/grants`, {
    grantee: { type: 'user', userId: applicant.id },
    categories: ['sales'],
  });
  const flow = await client(world, sealAdmin.token).post('/api/v1/flows', {
    companyId: company.id,
    category: 'sales',
    name: 'Sales',
    definition: { levels },
  });
  expect(flow.status).toBe(201);
  await world.db
    .updateTable('users')
    .set({ locale: 'zh-CN' })
    .where('id', 'in', [head.id, applicant.id, custodian.id])
    .execute();
  return { group, head, applicant, custodian, seal };
}

describe('approval notifications', () => {
  it('e-mails the approver in their language when a task arrives, and the applicant when it is approved', async () => {
    const world = await createWorld(mailEnv());
    try {
      const s = await scene(world, [{ name: '部门负责人', mode: 'any', approvers: [{ type: 'department_head' }] }]);
      const submitted = (
        await client(world, s.applicant.token).post('/api/v1/applications', {
          sealIds: [s.seal.id],
          category: 'sales',
          reason: '销售合同',
          uses: 1,
        })
      ).body;
      const inbox = await client(world, s.head.token).get('/api/v1/notifications');
      expect(inbox.body.items[0]).toMatchObject({
        kind: 'approval.task_assigned',
        link: `/applications/${submitted.id}`,
      });
      await world.jobs.runDueJobs();
      const toHead = mails.filter((m) => m.to.includes(s.head.email));
      expect(toHead).toHaveLength(1);
      expect(subjectOf(toHead[0]!.raw)).toBe('待您审批：李明申请使用「华夏贸易合同专用章」');

      const task = (await client(world, s.head.token).get('/api/v1/tasks?status=pending')).body.items[0];
      await client(world, s.head.token).post(`/api/v1/tasks/${task.id}/approve`, {});
      await world.jobs.runDueJobs();
      const toApplicant = mails.filter((m) => m.to.includes(s.applicant.email));
      expect(toApplicant.map((m) => subjectOf(m.raw))).toEqual(['您的用印申请已通过：「华夏贸易合同专用章」']);
    } finally {
      await world.close();
    }
  });
});

describe('reminders and escalation', () => {
  it('reminds an approver after the configured time, once, even across a restart', async () => {
    const store = await openReopenableDatabase();
    try {
      const before = await createWorld({}, { database: await store.open() });
      const s = await scene(before, [
        { name: '部门负责人', mode: 'any', approvers: [{ type: 'department_head' }], remindAfterHours: 4 },
      ]);
      const submitted = (
        await client(before, s.applicant.token).post('/api/v1/applications', {
          sealIds: [s.seal.id],
          category: 'sales',
          reason: '销售合同',
          uses: 1,
        })
      ).body;
      await before.jobs.runDueJobs();
      await before.close();

      const after = await createWorld({}, { database: await store.open() });
      try {
        after.clock.advance(3 * 3_600_000);
        await after.jobs.runDueJobs();
        const headToken = await sessionFor(after, s.head.id);
        const kinds = async () =>
          (await client(after, headToken).get('/api/v1/notifications')).body.items.map((n: { kind: string }) => n.kind);
        expect(await kinds()).toEqual(['approval.task_assigned']);
        after.clock.advance(2 * 3_600_000);
        const outcomes = await after.jobs.runDueJobs();
        expect(outcomes.filter((o) => o.kind === 'approval.remind')).toEqual([
          expect.objectContaining({ status: 'done', result: { reminded: true, assigneeId: s.head.id } }),
        ]);
        expect(await kinds()).toEqual(['approval.reminder', 'approval.task_assigned']);
        after.clock.advance(48 * 3_600_000);
        expect((await after.jobs.runDueJobs()).filter((o) => o.kind === 'approval.remind')).toEqual([]);
        const task = await after.db
          .selectFrom('approval_tasks')
          .select('reminded_at')
          .where('application_id', '=', submitted.id)
          .executeTakeFirstOrThrow();
        expect(task.reminded_at).not.toBeNull();
      } finally {
        await after.close();
      }
    } finally {
      await store.dispose();
    }
  });

  it('escalates an undecided level to the next one, and not a level already decided', async () => {
    const world = await createWorld();
    try {
      const s = await scene(world, [
        { name: '部门负责人', mode: 'any', approvers: [{ type: 'department_head' }], escalateAfterHours: 24 },
        { name: '印章管理员', mode: 'any', approvers: [{ type: 'custodian' }] },
      ]);
      const submitted = (
        await client(world, s.applicant.token).post('/api/v1/applications', {
          sealIds: [s.seal.id],
          category: 'sales',
          reason: '销售合同',
          uses: 1,
        })
      ).body;
      world.clock.advance(25 * 3_600_000);
      const outcomes = await world.jobs.runDueJobs();
      expect(outcomes.filter((o) => o.kind === 'approval.escalate')).toEqual([
        expect.objectContaining({ status: 'done', result: { escalated: true, toLevel: 1 } }),
      ]);
      const after = (await client(world, s.applicant.token).get(`/api/v1/applications/${submitted.id}`)).body;
      expect(after.currentLevel).toBe(1);
      expect(
        after.tasks.map((t: { level: number; status: string; via: string | null }) => [t.level, t.status, t.via]),
      ).toEqual([
        [0, 'cancelled', null],
        [1, 'pending', 'escalation'],
      ]);
      const custodianInbox = await client(world, s.custodian.token).get('/api/v1/notifications');
      expect(custodianInbox.body.items[0]).toMatchObject({ kind: 'approval.escalated' });
      // The head can no longer decide the escalated level.
      const headTask = after.tasks[0];
      expect((await client(world, s.head.token).post(`/api/v1/tasks/${headTask.id}/approve`, {})).body.code).toBe(
        'task_already_decided',
      );
    } finally {
      await world.close();
    }
  });
});
