// Webhooks: endpoints per company subtree, public events fanned out once through the outbox and
// delivered by the job queue, signed per Standard Webhooks. A receiver on 127.0.0.1 checks every
// signature itself with node:crypto (never with the code under test), retries and dead letters are
// driven with the runner's `runDueJobs` and the test clock, and the SSRF guard is attacked with
// literal, mapped and resolved addresses.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/server/config.js';
import { createJobRunner } from '../src/server/jobs.js';
import { emitEvents } from '../src/outbox/events.js';
import { OutboxReader } from '../src/outbox/outbox.js';
import { refusalOf, resolveTarget } from '../src/modules/webhooks/webhook.address.js';
import { sendWebhook } from '../src/modules/webhooks/webhook.sender.js';
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

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  path: string;
}

/** An HTTP receiver on 127.0.0.1: records what it gets and answers, per path, the next status queued (200 when none is). */
class Receiver {
  readonly received: Received[] = [];
  readonly answers = new Map<string, number[]>();
  private server: Server | undefined;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.received.push({
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          path: request.url ?? '',
        });
        response.statusCode = this.answers.get(request.url ?? '')?.shift() ?? 200;
        response.end('thanks');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** Standard Webhooks, computed here: base64 HMAC-SHA256 of `<id>.<timestamp>.<body>` under the secret's decoded bytes. */
function expectedSignature(secret: string, id: string, timestamp: string, body: string): string {
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

/** The `v1` signatures a message carries. */
function signaturesOf(message: Received): string[] {
  const header = String(message.headers['webhook-signature'] ?? '');
  return header.split(' ').map((entry) => {
    const [version, signature] = entry.split(',');
    expect(version).toBe('v1');
    return signature ?? '';
  });
}

/** Whether the message is signed by the secret, as a receiver would check it. */
function signedBy(message: Received, secret: string, tamper: { body?: string; timestamp?: string } = {}): boolean {
  const id = String(message.headers['webhook-id']);
  const timestamp = tamper.timestamp ?? String(message.headers['webhook-timestamp']);
  const expected = expectedSignature(secret, id, timestamp, tamper.body ?? message.body);
  return signaturesOf(message).includes(expected);
}

/** Every check a receiver makes: the headers are there, the signature holds, and it breaks when body or timestamp change. */
function assertGenuine(message: Received, secret: string): void {
  expect(message.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
  expect(message.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
  expect(message.headers['content-type']).toBe('application/json');
  expect(signedBy(message, secret)).toBe(true);
  expect(signedBy(message, secret, { body: message.body.replace('"data"', '"data" ') })).toBe(false);
  expect(signedBy(message, secret, { body: `${message.body} ` })).toBe(false);
  expect(signedBy(message, secret, { timestamp: String(Number(message.headers['webhook-timestamp']) + 1) })).toBe(
    false,
  );
}

let world: World;
let group: GroupFixture;
let receiver: Receiver;
let sealAdmin: Awaited<ReturnType<typeof buildUser>>;

/** Runs due jobs (and the fan-out step before them) until a poll finds nothing due. */
async function drain(): Promise<void> {
  for (let i = 0; i < 30; i++) if ((await world.jobs.runDueJobs()).length === 0) return;
  throw new Error('jobs kept coming');
}

async function createEndpoint(token: string, body: Record<string, unknown>) {
  const answer = await client(world, token).post('/api/v1/webhook-endpoints', body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body as { endpoint: { id: string; companyId: string }; secret: string };
}

async function deliveriesOf(endpointId: string, token = group.admin.token) {
  const answer = await client(world, token).get(`/api/v1/webhook-endpoints/${endpointId}/deliveries`);
  expect(answer.status).toBe(200);
  return answer.body.items as Array<Record<string, any>>;
}

beforeAll(async () => {
  world = await createWorld({ SIGIL_WEBHOOKS_ALLOW_PRIVATE: 'true' });
  group = await buildGroup(world, 'Webhook Group');
  sealAdmin = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
  });
  receiver = await new Receiver().start();
});
afterAll(async () => {
  await receiver.close();
  await world.close();
});
beforeEach(async () => {
  // Every test starts with nothing queued: what an earlier one left must not answer for this one.
  await drain();
  receiver.answers.clear();
});

/** A subsidiary with a seal kept by a custodian, an applicant granted its use, and a one-level flow (the custodian). */
async function scene() {
  const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
  const applicant = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Applicant' });
  const custodian = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
  });
  const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [custodian.id] });
  const api = client(world, sealAdmin.token);
  expect(
    (
      await api.post(`/api/v1/seals/${seal.id}/grants`, {
        grantee: { type: 'user', userId: applicant.id },
        categories: ['sales'],
      })
    ).status,
  ).toBe(201);
  const flow = await api.post('/api/v1/flows', {
    companyId: company.id,
    category: 'sales',
    name: 'Custodian approves',
    definition: { levels: [{ name: 'Custodian', mode: 'any', approvers: [{ type: 'custodian' }] }] },
  });
  expect(flow.status).toBe(201);
  return { company, applicant, custodian, seal };
}

describe('webhook endpoints', () => {
  it('answers 401 without a token, 403 without webhooks.manage, 400 per bad field', async () => {
    expect((await client(world).get('/api/v1/webhook-endpoints')).status).toBe(401);
    const employee = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const refused = await client(world, employee.token).get('/api/v1/webhook-endpoints');
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('webhooks.manage');
    // A seal administrator manages seals, not integrations.
    expect((await client(world, sealAdmin.token).get('/api/v1/webhook-event-types')).status).toBe(403);

    const admin = client(world, group.admin.token);
    const bad = await admin.post('/api/v1/webhook-endpoints', {
      companyId: 'nope',
      url: 'not a url',
      eventTypes: ['application.eaten'],
      colour: 'red',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('validation_failed');
    const fields = bad.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['body.companyId', 'body.url', 'body.eventTypes.0']));
    const none = await admin.post('/api/v1/webhook-endpoints', {
      companyId: group.hq.id,
      url: receiver.url(),
      eventTypes: [],
    });
    expect(none.body.errors).toEqual([{ field: 'body.eventTypes', message: 'must name at least one event type' }]);
    const types = await admin.get('/api/v1/webhook-event-types');
    expect(types.body.items).toEqual(expect.arrayContaining(['application.submitted', 'document.completed']));
  });

  it('shows the secret once: never in a later answer, the audit log or the database in clear', async () => {
    const admin = client(world, group.admin.token);
    const created = await createEndpoint(group.admin.token, {
      companyId: group.hq.id,
      url: receiver.url('/secret'),
      description: 'ERP',
      eventTypes: ['application.approved', 'application.submitted', 'application.approved'],
    });
    expect(created.endpoint).toMatchObject({
      companyId: group.hq.id,
      url: receiver.url('/secret'),
      description: 'ERP',
      eventTypes: ['application.submitted', 'application.approved'],
      enabled: true,
      previousSecretValidUntil: null,
      createdBy: group.admin.id,
    });
    const { secret } = created;
    const key = secret.slice('whsec_'.length);
    const id = created.endpoint.id;
    await admin.patch(`/api/v1/webhook-endpoints/${id}`, { description: 'ERP (prod)' });
    const rotated = (await admin.post(`/api/v1/webhook-endpoints/${id}/rotate-secret`)).body;
    expect(rotated.secret).not.toBe(secret);
    const test = await admin.post(`/api/v1/webhook-endpoints/${id}/test`);
    await drain();
    expect((await admin.post(`/api/v1/webhook-endpoints/${id}/deliveries/${test.body.id}/redeliver`)).status).toBe(202);
    await drain();
    const answers = [
      await admin.get('/api/v1/webhook-endpoints'),
      await admin.get(`/api/v1/webhook-endpoints/${id}`),
      await admin.get(`/api/v1/webhook-endpoints/${id}/deliveries`),
      await admin.patch(`/api/v1/webhook-endpoints/${id}`, { enabled: true }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      for (const s of [secret, key, rotated.secret, rotated.secret.slice(6)])
        expect(JSON.stringify(answer.body)).not.toContain(s);
    }
    const audit = await world.db
      .selectFrom('audit_events')
      .selectAll()
      .where('group_id', '=', group.groupId)
      .where('target_id', '=', id)
      .execute();
    expect(audit.map((e) => e.action).sort()).toEqual([
      'webhook.delivery_redelivered',
      'webhook.endpoint_created',
      'webhook.endpoint_updated',
      'webhook.secret_rotated',
    ]);
    const row = await world.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    for (const text of [JSON.stringify(audit), JSON.stringify(row)])
      for (const s of [key, rotated.secret.slice(6), Buffer.from(key, 'base64').toString('hex')])
        expect(text).not.toContain(s);
    expect(row.secret_sealed).toMatch(/^v1\./);
    await drain();
  });

  it('delivers application.submitted and .approved, signed, to the endpoints whose subtree and types match', async () => {
    const s = await scene();
    const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const whole = await createEndpoint(group.admin.token, {
      companyId: group.hq.id,
      url: receiver.url('/whole'),
      eventTypes: ['application.submitted', 'application.approved'],
    });
    const own = await createEndpoint(group.admin.token, {
      companyId: s.company.id,
      url: receiver.url('/own'),
      eventTypes: ['application.approved'],
    });
    // Neither gets anything: another subtree, and a disabled endpoint.
    await createEndpoint(group.admin.token, {
      companyId: sibling.id,
      url: receiver.url('/sibling'),
      eventTypes: ['application.submitted', 'application.approved'],
    });
    await createEndpoint(group.admin.token, {
      companyId: group.hq.id,
      url: receiver.url('/off'),
      eventTypes: ['application.submitted', 'application.approved'],
      enabled: false,
    });

    const submitted = await client(world, s.applicant.token).post('/api/v1/applications', {
      sealIds: [s.seal.id],
      category: 'sales',
      reason: 'Contract with a customer',
      uses: 1,
    });
    expect(submitted.status).toBe(201);
    const applicationId = submitted.body.id as string;
    const task = (await client(world, s.custodian.token).get('/api/v1/tasks?status=pending')).body.items.find(
      (t: { applicationId: string }) => t.applicationId === applicationId,
    );
    const approved = await client(world, s.custodian.token).post(`/api/v1/tasks/${task.id}/approve`, {});
    expect(approved.body.status).toBe('approved');
    await drain();

    const toWhole = receiver.at('/whole');
    // Attempted side by side: they may arrive in either order.
    expect(toWhole.map((m) => JSON.parse(m.body).type).sort()).toEqual([
      'application.approved',
      'application.submitted',
    ]);
    for (const message of toWhole) assertGenuine(message, whole.secret);
    const approvedMessage = toWhole.find((m) => JSON.parse(m.body).type === 'application.approved')!;
    expect(JSON.parse(approvedMessage.body)).toEqual({
      type: 'application.approved',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: {
        applicationId,
        applicantId: s.applicant.id,
        purpose: 'seal_use',
        category: 'sales',
        status: 'approved',
        companyId: s.company.id,
      },
    });
    // The reason typed by the applicant never leaves the platform.
    expect(toWhole.map((m) => m.body).join()).not.toContain('Contract with a customer');
    const toOwn = receiver.at('/own');
    expect(toOwn.map((m) => JSON.parse(m.body).type)).toEqual(['application.approved']);
    assertGenuine(toOwn[0]!, own.secret);
    // One secret signs each endpoint: the other's does not verify.
    expect(signedBy(toOwn[0]!, whole.secret)).toBe(false);
    expect(toOwn[0]!.headers['webhook-id']).not.toBe(approvedMessage.headers['webhook-id']);
    expect(receiver.at('/sibling')).toEqual([]);
    expect(receiver.at('/off')).toEqual([]);

    const deliveries = await deliveriesOf(whole.endpoint.id);
    // Fanned out in one poll, they share a creation time: their order among themselves is not kept.
    expect(deliveries.map((d) => [d.eventType, d.status, d.attempts, d.lastHttpStatus]).sort()).toEqual([
      ['application.approved', 'delivered', 1, 200],
      ['application.submitted', 'delivered', 1, 200],
    ]);
  });

  it('retries an answer of 500 with backoff and records each attempt: delivered on the third', async () => {
    const endpoint = await createEndpoint(group.admin.token, {
      companyId: group.hq.id,
      url: receiver.url('/flaky'),
      eventTypes: ['application.rejected'],
    });
    receiver.answers.set('/flaky', [500, 500]);
    const queued = await client(world, group.admin.token).post(
      `/api/v1/webhook-endpoints/${endpoint.endpoint.id}/test`,
    );
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ eventType: 'webhook.test', status: 'pending', attempts: 0 });

    await drain();
    let [delivery] = await deliveriesOf(endpoint.endpoint.id);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1, lastHttpStatus: 500 });
    expect(delivery!.lastError).toBe('the endpoint answered HTTP 500');
    const delay = (d: Record<string, any>) => new Date(d.nextAttemptAt).getTime() - new Date(d.lastAttemptAt).getTime();
    expect(delay(delivery!)).toBeGreaterThanOrEqual(60_000);
    expect(delay(delivery!)).toBeLessThan(61_000);
    // Not before it is due.
    world.clock.advance(30_000);
    await drain();
    expect(receiver.at('/flaky')).toHaveLength(1);
    world.clock.advance(30_000);
    await drain();
    [delivery] = await deliveriesOf(endpoint.endpoint.id);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 2, lastHttpStatus: 500 });
    expect(delay(delivery!)).toBeGreaterThanOrEqual(120_000);
    expect(delay(delivery!)).toBeLessThan(121_000);
    world.clock.advance(120_000);
    await drain();
    [delivery] = await deliveriesOf(endpoint.endpoint.id);
    expect(delivery).toMatchObject({
      status: 'delivered',
      attempts: 3,
      lastHttpStatus: 200,
      lastError: null,
      nextAttemptAt: null,
    });
    expect(delivery!.deliveredAt).not.toBeNull();
    const messages = receiver.at('/flaky');
    expect(messages).toHaveLength(3);
    expect(new Set(messages.map((m) => m.headers['webhook-id'])).size).toBe(1);
    expect(new Set(messages.map((m) => m.headers['webhook-timestamp'])).size).toBe(3);
    for (const message of messages) assertGenuine(message, endpoint.secret);
    expect(JSON.parse(messages[0]!.body)).toMatchObject({
      type: 'webhook.test',
      data: { endpointId: endpoint.endpoint.id },
    });
  });

  it('gives up after ten attempts (dead), then redelivers with the same webhook-id', async () => {
    const endpoint = await createEndpoint(group.admin.token, {
      companyId: group.hq.id,
      url: receiver.url('/down'),
      eventTypes: ['application.rejected'],
    });
    const admin = client(world, group.admin.token);
    const queued = (await admin.post(`/api/v1/webhook-endpoints/${endpoint.endpoint.id}/test`)).body;
    receiver.answers.set('/down', Array<number>(10).fill(503));
    await drain();
    const early = await admin.post(
      `/api/v1/webhook-endpoints/${endpoint.endpoint.id}/deliveries/${queued.id}/redeliver`,
    );
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('webhook_delivery_pending');
    for (let i = 0; i < 12; i++) {
      world.clock.advance(6 * 3600_000);
      await drain();
    }
    let [delivery] = await deliveriesOf(endpoint.endpoint.id);
    expect(delivery).toMatchObject({ status: 'dead', attempts: 10, lastHttpStatus: 503, nextAttemptAt: null });
    expect(receiver.at('/down')).toHaveLength(10);

    const again = await admin.post(
      `/api/v1/webhook-endpoints/${endpoint.endpoint.id}/deliveries/${queued.id}/redeliver`,
    );
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id: queued.id, status: 'pending' });
    await drain();
    [delivery] = await deliveriesOf(endpoint.endpoint.id);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 11, lastHttpStatus: 200 });
    const messages = receiver.at('/down');
    expect(messages).toHaveLength(11);
    expect(messages[10]!.headers['webhook-id']).toBe(messages[0]!.headers['webhook-id']);
    expect(messages[10]!.body).toBe(messages[0]!.body);
    assertGenuine(messages[10]!, endpoint.secret);
    const audit = await world.db
      .selectFrom('audit_events')
      .select(['action', 'changes'])
      .where('target_id', '=', endpoint.endpoint.id)
      .where('action', '=', 'webhook.delivery_redelivered')
      .execute();
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit[0]!.changes)).toContain(queued.messageId);
    const unknown = await admin.post(
      `/api/v1/webhook-endpoints/${endpoint.endpoint.id}/deliveries/${endpoint.endpoint.id}/redeliver`,
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('webhook_delivery_not_found');
  });

  it('signs with both secrets during the rotation overlap, then with the new one only', async () => {
    const admin = client(world, group.admin.token);
    const endpoint = await createEndpoint(group.admin.token, {
      companyId: group.hq.id,
      url: receiver.url('/rotating'),
      eventTypes: ['application.rejected'],
    });
    const id = endpoint.endpoint.id;
    const before = world.clock.now().getTime();
    const rotated = await admin.post(`/api/v1/webhook-endpoints/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).not.toBe(endpoint.secret);
    const until = new Date(rotated.body.endpoint.previousSecretValidUntil).getTime() - 24 * 3600_000;
    expect(until).toBeGreaterThanOrEqual(before);
    expect(until).toBeLessThanOrEqual(world.clock.now().getTime());
    await admin.post(`/api/v1/webhook-endpoints/${id}/test`);
    await drain();
    const during = receiver.at('/rotating')[0]!;
    expect(signaturesOf(during)).toHaveLength(2);
    assertGenuine(during, fresh);
    assertGenuine(during, endpoint.secret);

    world.clock.advance(24 * 3600_000 + 1000);
    expect((await admin.get(`/api/v1/webhook-endpoints/${id}`)).body.previousSecretValidUntil).toBeNull();
    await admin.post(`/api/v1/webhook-endpoints/${id}/test`);
    await drain();
    const after = receiver.at('/rotating')[1]!;
    expect(signaturesOf(after)).toHaveLength(1);
    assertGenuine(after, fresh);
    expect(signedBy(after, endpoint.secret)).toBe(false);
  });

  it('changes and deletes an endpoint, audited; a disabled one gets nothing and refuses a test', async () => {
    const admin = client(world, group.admin.token);
    const endpoint = await createEndpoint(group.admin.token, {
      companyId: group.hq.id,
      url: receiver.url('/changing'),
      eventTypes: ['application.rejected'],
    });
    const id = endpoint.endpoint.id;
    const changed = await admin.patch(`/api/v1/webhook-endpoints/${id}`, {
      url: receiver.url('/changed'),
      eventTypes: ['application.withdrawn', 'application.rejected'],
      enabled: false,
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      url: receiver.url('/changed'),
      eventTypes: ['application.rejected', 'application.withdrawn'],
      enabled: false,
    });
    const test = await admin.post(`/api/v1/webhook-endpoints/${id}/test`);
    expect(test.status).toBe(409);
    expect(test.body.code).toBe('webhook_endpoint_disabled');
    await world.db.transaction().execute((trx) =>
      emitEvents(trx, group.groupId, [
        {
          type: 'application.rejected',
          companyId: group.hq.id,
          at: world.clock.now(),
          data: { applicationId: id, applicantId: id, purpose: 'seal_use', category: null, status: 'rejected' },
        },
      ]),
    );
    await drain();
    expect(await deliveriesOf(id)).toEqual([]);

    const [update] = await world.db
      .selectFrom('audit_events')
      .select('changes')
      .where('target_id', '=', id)
      .where('action', '=', 'webhook.endpoint_updated')
      .execute();
    expect(update!.changes).toMatchObject({
      from: { url: receiver.url('/changing'), enabled: true },
      to: { url: receiver.url('/changed'), enabled: false },
    });
    expect((await admin.delete(`/api/v1/webhook-endpoints/${id}`)).status).toBe(200);
    expect((await admin.get(`/api/v1/webhook-endpoints/${id}`)).body.code).toBe('webhook_endpoint_not_found');
    expect((await admin.delete(`/api/v1/webhook-endpoints/${id}`)).status).toBe(404);
    const deleted = await world.db
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', id)
      .where('action', '=', 'webhook.endpoint_deleted')
      .execute();
    expect(deleted).toHaveLength(1);
  });

  it('pages deliveries newest first with a cursor', async () => {
    const admin = client(world, group.admin.token);
    const endpoint = await createEndpoint(group.admin.token, {
      companyId: group.hq.id,
      url: receiver.url('/paged'),
      eventTypes: ['application.rejected'],
    });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await admin.post(`/api/v1/webhook-endpoints/${endpoint.endpoint.id}/test`)).body.id);
      world.clock.advance(1000);
    }
    const first = await admin.get(`/api/v1/webhook-endpoints/${endpoint.endpoint.id}/deliveries?limit=2`);
    const second = await admin.get(
      `/api/v1/webhook-endpoints/${endpoint.endpoint.id}/deliveries?limit=2&cursor=${first.body.nextCursor}`,
    );
    const third = await admin.get(
      `/api/v1/webhook-endpoints/${endpoint.endpoint.id}/deliveries?limit=2&cursor=${second.body.nextCursor}`,
    );
    const seen = [...first.body.items, ...second.body.items, ...third.body.items].map((d: { id: string }) => d.id);
    expect(seen).toEqual([...ids].reverse());
    expect(third.body.nextCursor).toBeNull();
    const forged = await admin.get(`/api/v1/webhook-endpoints/${endpoint.endpoint.id}/deliveries?cursor=abc`);
    expect(forged.status).toBe(400);
    await drain();
  });
});

describe('the fan-out', () => {
  it('sends each event once with several runners at once, a runner started later, and ids committed out of order', async () => {
    const endpoint = await createEndpoint(group.admin.token, {
      companyId: group.hq.id,
      url: receiver.url('/once'),
      eventTypes: ['application.withdrawn'],
    });
    const event = (n: number) => ({
      type: 'application.withdrawn' as const,
      companyId: group.hq.id,
      at: world.clock.now(),
      data: {
        applicationId: `00000000-0000-7000-8000-00000000000${n}`,
        applicantId: group.admin.id,
        purpose: 'seal_use',
        category: null,
        status: 'withdrawn' as const,
      },
    });
    // An id taken now by a transaction that commits last.
    const { rows } = await sql<{ id: string }>`select nextval('outbox_id_seq') as id`.execute(world.db);
    const late = Number(rows[0]!.id);
    for (const n of [1, 2]) await world.db.transaction().execute((trx) => emitEvents(trx, group.groupId, [event(n)]));

    const runners = [createJobRunner(world.ctx), createJobRunner(world.ctx), world.jobs];
    await Promise.all(runners.map((r) => r.runDueJobs()));
    await drain();
    const ids = () => receiver.at('/once').map((m) => JSON.parse(m.body).data.applicationId as string);
    expect(ids().sort()).toEqual([event(1).data.applicationId, event(2).data.applicationId]);

    // The transaction holding the smaller id commits now, after the larger ones were consumed.
    await sql`
      insert into outbox (id, group_id, topic, payload)
      values (${late}, ${group.groupId}, 'event', ${JSON.stringify({ ...event(3), at: event(3).at.toISOString() })}::jsonb)
    `.execute(world.db);
    // A runner of a process started after the event was committed finds it too.
    await createJobRunner(world.ctx).runDueJobs();
    await drain();
    expect(ids().sort()).toEqual([1, 2, 3].map((n) => event(n).data.applicationId));
    expect((await deliveriesOf(endpoint.endpoint.id)).every((d) => d.status === 'delivered')).toBe(true);
    for (const message of receiver.at('/once')) assertGenuine(message, endpoint.secret);
  });

  it("keeps an event nobody claimed past the outbox's day, and sweeps it with its claim once claimed", async () => {
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    const payload = {
      type: 'application.withdrawn',
      companyId: group.hq.id,
      at: twoDaysAgo.toISOString(),
      data: { applicationId: group.hq.id, applicantId: group.admin.id, purpose: 'seal_use', category: null },
    };
    const { rows } = await sql<{ id: string }>`
      insert into outbox (group_id, topic, payload, created_at)
      values (${group.groupId}, 'event', ${JSON.stringify(payload)}::jsonb, ${twoDaysAgo}),
             (${group.groupId}, 'principals.changed', '{}'::jsonb, ${twoDaysAgo})
      returning id
    `.execute(world.db);
    const [event, other] = rows.map((r) => Number(r.id));
    const remaining = async () =>
      (await world.db.selectFrom('outbox').select('id').where('id', 'in', [event!, other!]).execute()).map((r) =>
        Number(r.id),
      );
    const sweep = async () => {
      const reader = new OutboxReader(world.db, {}, { pollMs: 3_600_000 });
      await reader.start();
      await reader.wake();
      await reader.stop();
    };
    await sweep();
    expect(await remaining()).toEqual([event]);
    await drain();
    const claims = () =>
      world.db.selectFrom('outbox_claims').select('consumer').where('outbox_id', '=', event!).execute();
    expect(await claims()).toEqual([{ consumer: 'webhooks' }]);
    await sweep();
    expect(await remaining()).toEqual([]);
    expect(await claims()).toEqual([]);
  });

  it('emits an event only when its change commits', async () => {
    const endpoint = await createEndpoint(group.admin.token, {
      companyId: group.hq.id,
      url: receiver.url('/rolled-back'),
      eventTypes: ['application.withdrawn'],
    });
    await world.db
      .transaction()
      .execute(async (trx) => {
        await emitEvents(trx, group.groupId, [
          {
            type: 'application.withdrawn',
            companyId: group.hq.id,
            at: world.clock.now(),
            data: {
              applicationId: endpoint.endpoint.id,
              applicantId: group.admin.id,
              purpose: 'seal_use',
              category: null,
              status: 'withdrawn',
            },
          },
        ]);
        throw new Error('undo');
      })
      .catch(() => undefined);
    await drain();
    expect(await deliveriesOf(endpoint.endpoint.id)).toEqual([]);
  });
});

describe('tenant isolation', () => {
  it('answers 404 to another group and to a sibling company, and lists nothing of theirs', async () => {
    const subsidiary = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const sibling = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const endpoint = await createEndpoint(group.admin.token, {
      companyId: subsidiary.id,
      url: receiver.url('/victim'),
      eventTypes: ['application.submitted'],
    });
    const id = endpoint.endpoint.id;
    const delivery = (await client(world, group.admin.token).post(`/api/v1/webhook-endpoints/${id}/test`)).body;
    const other: GroupFixture = await buildGroup(world, 'Other Webhook Group');
    const siblingAdmin = await buildUser(world, {
      groupId: group.groupId,
      companyId: sibling.id,
      roles: [{ role: 'system_admin' }],
    });
    for (const token of [other.admin.token, siblingAdmin.token]) {
      const api = client(world, token);
      const attempts = [
        await api.get(`/api/v1/webhook-endpoints/${id}`),
        await api.patch(`/api/v1/webhook-endpoints/${id}`, { url: 'https://attacker.example/' }),
        await api.delete(`/api/v1/webhook-endpoints/${id}`),
        await api.post(`/api/v1/webhook-endpoints/${id}/rotate-secret`),
        await api.post(`/api/v1/webhook-endpoints/${id}/test`),
        await api.get(`/api/v1/webhook-endpoints/${id}/deliveries`),
        await api.post(`/api/v1/webhook-endpoints/${id}/deliveries/${delivery.id}/redeliver`),
      ];
      expect(attempts.map((a) => [a.status, a.body.code])).toEqual(
        Array(attempts.length).fill([404, 'webhook_endpoint_not_found']),
      );
      const created = await api.post('/api/v1/webhook-endpoints', {
        companyId: subsidiary.id,
        url: 'https://attacker.example/',
        eventTypes: ['application.submitted'],
      });
      expect([created.status, created.body.code]).toEqual([404, 'company_not_found']);
      const list = await api.get('/api/v1/webhook-endpoints');
      expect(list.status).toBe(200);
      expect(JSON.stringify(list.body)).not.toContain(id);
    }
    const row = await world.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    expect(row).toMatchObject({ url: receiver.url('/victim'), enabled: true, previous_secret_sealed: null });
    await drain();
  });
});

describe('the SSRF guard', () => {
  let closed: World;
  let admin: GroupFixture;

  beforeAll(async () => {
    closed = await createWorld();
    admin = await buildGroup(closed);
  });
  afterAll(() => closed.close());

  it('refuses at creation and change URLs that are not http(s), carry credentials or name an inside address', async () => {
    const api = client(closed, admin.admin.token);
    const cases: Array<[string, RegExp]> = [
      ['http://127.0.0.1:8080/hook', /loopback/],
      ['http://10.1.2.3/hook', /private address \(10\.0\.0\.0\/8\)/],
      ['http://[::1]/hook', /loopback address \(::1\)/],
      ['http://169.254.169.254/latest/meta-data', /link-local/],
      ['http://[::ffff:127.0.0.1]/hook', /IPv4-mapped form of 127\.0\.0\.1, a loopback/],
      ['http://[::ffff:a9fe:a9fe]/hook', /IPv4-mapped form of 169\.254\.169\.254/],
      ['http://0x7f.1/hook', /loopback/],
      ['http://2130706433/hook', /loopback/],
      ['http://100.64.0.1/', /CGNAT/],
      ['http://192.168.1.10/', /private/],
      ['http://[fd00::1]/', /unique-local/],
      ['http://[fe80::1]/', /link-local/],
      ['http://0.0.0.0/', /0\.0\.0\.0\/8/],
      ['http://224.0.0.1/', /multicast/],
      ['ftp://example.com/hook', /http:\/\/ or https:\/\//],
      ['https://user:password@example.com/hook', /user name or password/],
    ];
    for (const [url, why] of cases) {
      const answer = await api.post('/api/v1/webhook-endpoints', {
        companyId: admin.hq.id,
        url,
        eventTypes: ['application.submitted'],
      });
      expect([url, answer.status, answer.body.code]).toEqual([url, 422, 'webhook_url_refused']);
      expect(answer.body.errors[0].field).toBe('body.url');
      expect(answer.body.detail).toMatch(why);
    }
    const made = await api.post('/api/v1/webhook-endpoints', {
      companyId: admin.hq.id,
      url: 'https://hooks.example.com/sigil',
      eventTypes: ['application.submitted'],
    });
    expect(made.status).toBe(201);
    const moved = await api.patch(`/api/v1/webhook-endpoints/${made.body.endpoint.id}`, {
      url: 'http://169.254.169.254/',
    });
    expect([moved.status, moved.body.code]).toEqual([422, 'webhook_url_refused']);
    expect((await api.get(`/api/v1/webhook-endpoints/${made.body.endpoint.id}`)).body.url).toBe(
      'https://hooks.example.com/sigil',
    );
    await api.delete(`/api/v1/webhook-endpoints/${made.body.endpoint.id}`);
  });

  it('refuses at delivery a name that resolves to loopback (localhost): dead at once, nothing sent', async () => {
    const api = client(closed, admin.admin.token);
    const made = await api.post('/api/v1/webhook-endpoints', {
      companyId: admin.hq.id,
      url: `http://localhost:${receiver.port}/resolved`,
      eventTypes: ['application.submitted'],
    });
    expect(made.status).toBe(201);
    await api.post(`/api/v1/webhook-endpoints/${made.body.endpoint.id}/test`);
    await closed.jobs.runDueJobs();
    const [delivery] = (await api.get(`/api/v1/webhook-endpoints/${made.body.endpoint.id}/deliveries`)).body.items;
    expect(delivery).toMatchObject({ status: 'dead', attempts: 1, lastHttpStatus: null });
    expect(delivery.lastError).toMatch(/^refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(receiver.at('/resolved')).toEqual([]);
  });

  it('checks every address a name resolves to, and connects to the one it checked (no rebinding)', async () => {
    const url = new URL('https://hooks.example.com/x');
    const rebinding = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    await expect(resolveTarget(url, { allowPrivate: false, lookup: rebinding })).rejects.toThrow(
      /hooks\.example\.com resolves to 127\.0\.0\.1, a loopback address/,
    );
    await expect(
      resolveTarget(url, { allowPrivate: false, lookup: async () => [{ address: '::ffff:10.0.0.7', family: 6 }] }),
    ).rejects.toThrow(/IPv4-mapped form of 10\.0\.0\.7/);
    await expect(
      resolveTarget(url, { allowPrivate: false, lookup: async () => [{ address: '2606:4700::1111', family: 6 }] }),
    ).resolves.toEqual({ address: '2606:4700::1111', family: 6 });

    // A name whose later answers would differ: the connection goes to the first, checked, address.
    let asked = 0;
    const flipping = async () =>
      asked++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.9.9.9', family: 4 }];
    const sent = await sendWebhook({
      url: new URL(`http://hooks.example.test:${receiver.port}/pinned`),
      body: '{}',
      headers: {},
      allowPrivate: true,
      timeoutMs: 5000,
      signal: new AbortController().signal,
      lookup: flipping,
    });
    expect(sent.status).toBe(200);
    expect(asked).toBe(1);
    expect(receiver.at('/pinned')[0]!.headers.host).toBe(`hooks.example.test:${receiver.port}`);
  });

  it('classifies addresses by their ranges, IPv4 embedded in IPv6 included', () => {
    const refused = [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '100.127.255.255',
      '0.0.0.0',
      '224.0.0.251',
      '255.255.255.255',
      '::',
      '::1',
      'fe80::1',
      'febf::1',
      'fc00::1',
      'fdff::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:192.168.1.1',
      '64:ff9b::a00:1',
      '2002:7f00:1::1',
      '::127.0.0.1',
    ];
    const allowed = ['8.8.8.8', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700::1111', '::ffff:8.8.8.8'];
    expect(refused.filter((a) => refusalOf(a) === null)).toEqual([]);
    expect(allowed.filter((a) => refusalOf(a) !== null)).toEqual([]);
  });

  it('is on unless SIGIL_WEBHOOKS_ALLOW_PRIVATE says otherwise, and refuses a value it does not know', () => {
    expect(parseConfig({}).webhooks.allowPrivate).toBe(false);
    expect(parseConfig({ SIGIL_WEBHOOKS_ALLOW_PRIVATE: 'true' }).webhooks.allowPrivate).toBe(true);
    expect(() => parseConfig({ SIGIL_WEBHOOKS_ALLOW_PRIVATE: 'sometimes' })).toThrow(/SIGIL_WEBHOOKS_ALLOW_PRIVATE/);
  });
});
