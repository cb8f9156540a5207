// Smart seal devices (issue 16): 1,000 simulated devices, each with a ticket for an approved
// authorization, stamp offline and then sync 100 signed events each to PostgreSQL; the figure is
// events reconciled per second over all of them (payload, device signature, chain, gaps, forks,
// clock, stamps against the ticket, photos per use), goal: all 100,000 within 10 s. The device
// signatures are the floor of the cost, so `openssl speed ecdsap256` on one core is shown beside.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SmartSealDevice } from '../../src/devices/device.js';
import type { SignedMessage } from '../../src/devices/protocol.js';
import { buildApp } from '../../src/server/app.js';
import { parseConfig } from '../../src/server/config.js';
import { openRuntime } from '../../src/server/runtime.js';
import { authenticate } from '../../src/modules/auth/index.js';
import { createGroup } from '../../src/modules/group-setup/index.js';
import { syncDevice } from '../../src/modules/devices/index.js';
import { insertSealWithCustodians } from '../../src/modules/seals/index.js';
import { adminUrl, createBenchDatabase, redact, startBackendCpu, unreachable } from '../lib/postgres.js';
import type { Result } from '../report.js';
import type { Suite, SuiteContext } from '../suite.js';

const DEVICES = bounded(process.env.BENCH_DEVICES, 1000, 1, 100_000);
const EVENTS = bounded(process.env.BENCH_DEVICE_EVENTS, 100, 10, 500);
const CLIENTS = bounded(process.env.BENCH_DEVICE_CLIENTS, 8, 1, 64);
const GOAL_SECONDS = 10;

function bounded(raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`expected an integer from ${min} to ${max}, got ${raw}`);
  return n;
}

export const devicesSuite: Suite = {
  name: 'devices',
  title: `Smart seal devices: ${DEVICES} devices × ${EVENTS} signed events synced and reconciled on PostgreSQL`,
  run: devicesBench,
};

async function devicesBench(ctx: SuiteContext): Promise<Result[]> {
  const server = adminUrl();
  const why = await unreachable(server);
  if (why) {
    ctx.note(`PostgreSQL at ${redact(server)} is unreachable (${why}): nothing measured`);
    return [{ metric: 'device events reconciled', subject: 'PostgreSQL', value: null, unit: 'events/s' }];
  }
  const database = await createBenchDatabase(ctx.resources, server, 'sigil_bench_devices');
  const dataDir = ctx.resources.dir(mkdtempSync(join(tmpdir(), 'sigil-bench-devices-')));
  const config = parseConfig({
    SIGIL_DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: String(CLIENTS + 2),
    LOG_LEVEL: 'silent',
  });
  const { ctx: app, database: handle } = await openRuntime(config, () => {});
  const http = await buildApp(app, { logger: false });
  ctx.resources.defer('close the devices bench app', async () => {
    await http.close();
    await handle.close();
  });

  // ---- the scene: a custodian keeping DEVICES physical seals, each in a device; an employee with a ticket for each
  ctx.log(`seeding ${DEVICES} seals, devices, grants, approvals and tickets`);
  const password = randomBytes(12).toString('base64url');
  const scene = await createGroup(
    app.db,
    {
      name: 'Device Bench',
      slug: 'device-bench',
      headCompany: { name: 'Device Bench Ltd', code: 'DB' },
      admin: { email: 'admin@device-bench.test', name: 'Admin', password, mustChangePassword: false },
    },
    { system: 'bench' },
  );
  const call = async (token: string | null, method: 'GET' | 'POST', url: string, payload?: object) => {
    const response = await http.inject({
      method,
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(payload ? { payload } : {}),
    });
    const body = response.body ? JSON.parse(response.body) : undefined;
    if (response.statusCode >= 300)
      throw new Error(`${method} ${url}: ${response.statusCode} ${response.body.slice(0, 300)}`);
    return body;
  };
  const signIn = async (email: string, secret: string): Promise<string> =>
    (await call(null, 'POST', '/api/v1/auth/sign-in', { email, password: secret })).token;
  const admin = await signIn('admin@device-bench.test', password);
  const person = async (email: string, role?: string) => {
    const first = randomBytes(12).toString('base64url');
    const user = await call(admin, 'POST', '/api/v1/users', {
      email,
      name: email,
      companyId: scene.companyId,
      password: first,
    });
    if (role)
      await call(admin, 'POST', '/api/v1/role-assignments', { userId: user.id, role, companyId: scene.companyId });
    const own = randomBytes(12).toString('base64url');
    await call(await signIn(email, first), 'POST', '/api/v1/me/password', { currentPassword: first, newPassword: own });
    return { id: user.id as string, token: await signIn(email, own) };
  };
  const custodian = await person('custodian@device-bench.test', 'seal_admin');
  const employee = await person('employee@device-bench.test');
  await call(custodian.token, 'POST', '/api/v1/flows', {
    companyId: scene.companyId,
    category: 'sales',
    name: 'Bench seal use',
    definition: { levels: [{ name: 'Custodian', mode: 'any', approvers: [{ type: 'custodian' }] }], cc: [] },
  });
  const serverKey = Buffer.from((await call(custodian.token, 'GET', '/api/v1/devices/ticket-key')).publicKey, 'base64');
  const usesPerTicket = Math.floor((EVENTS - 3) / 2);
  const devices: SmartSealDevice[] = [];
  const sealIds: string[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const sealId = await app.db.transaction().execute((trx) =>
      insertSealWithCustodians(trx, {
        groupId: scene.groupId,
        actor: { system: 'bench' },
        at: app.now(),
        custodianIds: [custodian.id],
        seal: {
          companyId: scene.companyId,
          code: `B-${i}`,
          name: `Bench seal ${i}`,
          kind: 'physical',
          type: 'contract',
          status: 'active',
        },
      }),
    );
    const device = new SmartSealDevice({
      serial: `BENCH-${String(i).padStart(6, '0')}`,
      serverKeys: [serverKey],
      clock: () => app.now().getTime(),
      privateKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
    });
    await call(custodian.token, 'POST', '/api/v1/devices', {
      serial: device.serial,
      sealId,
      publicKey: device.publicKey.toString('base64'),
    });
    await call(custodian.token, 'POST', `/api/v1/seals/${sealId}/grants`, {
      grantee: { type: 'user', userId: employee.id },
      categories: ['sales'],
    });
    devices.push(device);
    sealIds.push(sealId);
  }
  const authorizationOf = new Map<string, string>();
  for (let i = 0; i < DEVICES; i += 20) {
    const application = await call(employee.token, 'POST', '/api/v1/applications', {
      sealIds: sealIds.slice(i, i + 20),
      category: 'sales',
      reason: 'bench',
      uses: usesPerTicket,
      photosPerUse: 1,
    });
    const tasks = await call(custodian.token, 'GET', '/api/v1/tasks?status=pending');
    const task = tasks.items.find((t: { applicationId: string }) => t.applicationId === application.id);
    const approved = await call(custodian.token, 'POST', `/api/v1/tasks/${task.id}/approve`, {});
    for (const z of approved.authorizations as Array<{ id: string; sealId: string }>)
      authorizationOf.set(z.sealId, z.id);
  }

  // ---- each device: a session of stamps with a photo each, then low-battery signals, all offline
  ctx.log(`each device writes ${EVENTS} signed events offline`);
  const batches: Array<{ serial: string; events: SignedMessage[] }> = [];
  for (const [i, device] of devices.entries()) {
    const ticket = await call(employee.token, 'POST', '/api/v1/device-tickets', {
      authorizationId: authorizationOf.get(sealIds[i]!),
    });
    const opened = await device.presentTicket(ticket.ticket);
    if (!opened.ok) throw new Error(`device ${device.serial} refused its ticket: ${opened.message}`);
    for (let u = 1; u <= usesPerTicket; u++) {
      const stamp = await device.stamp();
      if (!stamp.ok) throw new Error(`device ${device.serial} refused use ${u}`);
      await device.recordPhoto(randomBytes(32).toString('hex'), stamp.use);
    }
    await device.finish();
    // The rest: the phone losing sight of the locked display, which is no discrepancy.
    while (device.lastSeq < EVENTS) await device.qrLost();
    batches.push({ serial: device.serial, events: device.pendingEvents() });
  }

  const resolved = await authenticate(app, custodian.token);
  if (!resolved) throw new Error('the custodian token does not authenticate');
  const actor = { principal: resolved.principal, ip: null, userAgent: null, requestId: null };

  // ---- the measurement: every device's batch synced, CLIENTS at a time
  ctx.log(`syncing ${DEVICES} × ${EVENTS} events, ${CLIENTS} syncs at a time`);
  let next = 0;
  let findings = 0;
  let acknowledged = 0;
  const pgCpu = await startBackendCpu(server, database.name);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const answer = await syncDevice(app, actor, batch);
        findings += answer.findings;
        acknowledged += answer.acknowledged;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const pgSeconds = await pgCpu.stop();
  const total = DEVICES * EVENTS;
  // A clean log: no finding is expected.
  const expectedFindings = 0;
  const valid = acknowledged === total && findings === expectedFindings;
  if (!valid)
    ctx.note(
      `expected ${total} events acknowledged and ${expectedFindings} finding(s); got ${acknowledged} and ${findings}`,
    );

  const speed = spawnSync('openssl', ['speed', '-seconds', '2', 'ecdsap256'], { encoding: 'utf8', timeout: 60_000 });
  const match = /256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+[\d.]+\s+([\d.]+)/.exec(speed.stdout ?? '');
  ctx.note(
    `${DEVICES} devices, ${EVENTS} events each (${usesPerTicket} stamps with a photo event each, unlock, lock, end, QR-loss signals while locked), ${CLIENTS} concurrent syncs, in process against ${redact(database.url)}; each event's P-256 signature is verified.`,
  );
  return [
    {
      metric: `all ${total} events synced and reconciled`,
      subject: 'PostgreSQL',
      value: seconds,
      unit: 's',
      goal: { op: '<=', value: GOAL_SECONDS },
      ...(valid ? {} : { invalid: true }),
    },
    {
      metric: 'device events reconciled',
      subject: 'PostgreSQL',
      value: total / seconds,
      unit: 'events/s',
      ...(valid ? {} : { invalid: true }),
    },
    {
      metric: 'Sigil CPU per 1,000 events (all threads)',
      subject: 'PostgreSQL',
      value: ((cpu.user + cpu.system) / 1e6 / total) * 1e6,
      unit: 'ms',
    },
    {
      metric: 'PostgreSQL CPU per 1,000 events (its backends)',
      subject: 'PostgreSQL',
      value: pgSeconds === null ? null : (pgSeconds / total) * 1e6,
      unit: 'ms',
    },
    {
      metric: 'P-256 verifications (one core), the floor of the cost',
      subject: 'openssl speed',
      value: match ? Number(match[1]) : null,
      unit: 'verifications/s',
    },
  ];
}
