// `sigil device simulate` and `sigil device keygen`: the smart seal of docs/device-protocol.md and
// the employee's phone, run as the patent tells the story, saying what they do as they go.
// In process (the default) it sets the whole scene up in a throwaway embedded database: a group,
// a custodian keeping a physical seal in a registered device, an employee granted the seal, a
// one-level flow; then applies, approves, unlocks, stamps with photos, refuses one use too many,
// syncs and shows the approver's review. With --url it plays the device and phone against a
// running server, for an authorization and a device registered there.
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { PNG } from 'pngjs';
import { SmartSealDevice } from '../devices/device.js';
import { createHttpLink, fetchCall, PlatformError, type HttpCall } from '../devices/http-link.js';
import { PhoneRelay } from '../devices/relay.js';
import { parseConfig } from '../server/config.js';
import { openRuntime } from '../server/runtime.js';
import { buildApp } from '../server/app.js';
import { createGroup } from '../modules/group-setup/index.js';
import { sealAllPending } from '../modules/audit/index.js';
import { insertSealWithCustodians } from '../modules/seals/index.js';

interface SimulateOptions {
  url?: string;
  token?: string;
  authorization?: string;
  serial?: string;
  key?: string;
  uses: number;
  offlineDays: number;
  tamper: boolean;
}

function count(label: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      throw new InvalidArgumentError(`must be ${label} from ${min} to ${max}`);
    return n;
  };
}

const say = (line: string) => process.stdout.write(`${line}\n`);

let photoNumber = 0;
/** A photo of the stamped paper: a small PNG, different each time. */
function photograph(): Uint8Array {
  const png = new PNG({ width: 16, height: 16 });
  png.data.fill(255);
  png.data.writeUInt32BE(++photoNumber, 0);
  png.data.writeUInt32BE(randomBytes(4).readUInt32BE(0), 4);
  return PNG.sync.write(png);
}

/** The shapes this command reads from the API (the server's schemas say more). */
interface Answers {
  key: { keyId: string; publicKey: string };
  token: { token: string };
  id: { id: string; keyId?: string };
  tasks: { items: Array<{ id: string; applicationId: string }> };
  approved: { authorizations: Array<{ id: string }> };
  records: {
    usesApproved: number;
    stamps: Array<{
      use: number;
      deviceTime: string;
      location: { lat: number; lon: number } | null;
      photos: Array<{ sha256: string; uploaded: boolean }>;
    }>;
  };
  findings: { items: Array<{ severity: string; kind: string; detail: string }> };
  none: unknown;
}

function expectStatus<K extends keyof Answers>(
  _shape: K,
  answer: { status: number; body: unknown },
  status: number,
  what: string,
): Answers[K] {
  if (answer.status !== status) {
    const problem = answer.body as { code?: string; detail?: string } | undefined;
    throw new Error(`${what}: ${answer.status} ${problem?.code ?? ''} ${problem?.detail ?? ''}`);
  }
  return answer.body as Answers[K];
}

/** The phone and the device through one session: unlock, stamps with photos, one too many, end, sync. */
async function runSession(options: {
  device: SmartSealDevice;
  relay: PhoneRelay;
  authorizationId: string;
  uses: number;
  offlineDays: number;
  tamper: boolean;
  advance: (ms: number) => void;
  reconnect?: () => Promise<void>;
}) {
  const { device, relay } = options;
  relay.location = { lat: 31_230_416, lon: 121_473_701, acc: 12 };
  say(`phone: fetching the ticket of authorization ${options.authorizationId}`);
  const ticket = await relay.fetchTicket(options.authorizationId);
  if (options.offlineDays > 0) {
    relay.online = false;
    options.advance(options.offlineDays * 86_400_000);
    say(`phone: offline; ${options.offlineDays} day(s) pass`);
  }
  const opened = await relay.relayTicket(device, ticket);
  if (!opened.ok) return false;
  for (let i = 0; i <= options.uses; i++) {
    say(`employee: presses the seal (${i + 1})`);
    await relay.stamp(device, () => photograph());
  }
  if (options.tamper) {
    await device.finish();
    say('device: the stamp moves while the seal is locked (a forced pin): logged with no ticket');
    await device.forcedStamp();
  } else await device.finish();
  say(`device: session ended; ${device.pendingEvents().length} signed event(s) in its log`);
  await relay.exchange(device);
  if (!relay.online) {
    say(`phone: holding ${relay.held.events} event(s) and ${relay.held.photos} photo(s) while offline`);
    relay.online = true;
    await options.reconnect?.();
    say('phone: back online');
  }
  await relay.sync();
  await relay.exchange(device);
  say(`device: ${device.pendingEvents().length} event(s) left unacknowledged`);
  return true;
}

async function simulateAgainstServer(options: SimulateOptions) {
  if (!options.token || !options.authorization || !options.serial || !options.key)
    throw new Error('--url needs --token, --authorization, --serial and --key');
  const call = fetchCall(options.url!, options.token);
  const keyAnswer = expectStatus('key', await call('GET', '/api/v1/devices/ticket-key', null), 200, 'the ticket key');
  const device = new SmartSealDevice({
    serial: options.serial,
    serverKeys: [Buffer.from(keyAnswer.publicKey as string, 'base64')],
    clock: () => Date.now(),
    privateKey: createPrivateKey(readFileSync(options.key)),
  });
  say(`device ${device.serial}: pins server key ${keyAnswer.keyId as string}`);
  const relay = new PhoneRelay(createHttpLink(call), (line) => say(line));
  await runSession({
    device,
    relay,
    authorizationId: options.authorization,
    uses: options.uses,
    offlineDays: 0,
    tamper: options.tamper,
    advance: () => {},
  });
}

async function simulateInProcess(options: SimulateOptions) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sigil-device-simulate-'));
  const config = parseConfig({ ...process.env, SIGIL_DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: '' });
  const { ctx, database } = await openRuntime(config, () => {});
  let offset = 0;
  const realNow = ctx.now;
  ctx.now = () => new Date(realNow().getTime() + offset);
  const app = await buildApp(ctx, { logger: false });
  try {
    const password = randomBytes(12).toString('base64url');
    const scene = await createGroup(
      ctx.db,
      {
        name: 'Simulated Group',
        slug: 'simulated',
        headCompany: { name: '模拟科技有限公司', code: 'SIM' },
        admin: { email: 'admin@simulated.test', name: 'System Admin', password, mustChangePassword: false },
      },
      { system: 'cli' },
    );
    const as =
      (token: string | null): HttpCall =>
      async (method, path, payload) => {
        const response = await app.inject({
          method,
          url: path,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(payload && 'bytes' in payload ? { 'content-type': payload.contentType } : {}),
          },
          ...(payload ? { payload: 'json' in payload ? (payload.json as object) : Buffer.from(payload.bytes) } : {}),
        });
        return { status: response.statusCode, body: response.body ? JSON.parse(response.body) : undefined };
      };
    const signIn = async (email: string, secret: string) =>
      expectStatus(
        'token',
        await as(null)('POST', '/api/v1/auth/sign-in', { json: { email, password: secret } }),
        200,
        `sign in ${email}`,
      ).token as string;
    const admin = as(await signIn('admin@simulated.test', password));
    const person = async (email: string, name: string, role?: string) => {
      const first = randomBytes(12).toString('base64url');
      const user = expectStatus(
        'id',
        await admin('POST', '/api/v1/users', { json: { email, name, companyId: scene.companyId, password: first } }),
        201,
        `create ${name}`,
      );
      if (role)
        expectStatus(
          'none',
          await admin('POST', '/api/v1/role-assignments', {
            json: { userId: user.id, role, companyId: scene.companyId },
          }),
          201,
          `make ${name} ${role}`,
        );
      // A password the administrator chose is changed at first sign-in.
      const own = randomBytes(12).toString('base64url');
      const token = await signIn(email, first);
      expectStatus(
        'none',
        await as(token)('POST', '/api/v1/me/password', { json: { currentPassword: first, newPassword: own } }),
        200,
        `${name} changes the password`,
      );
      // Sessions end while the phone is offline for days: each person signs in again when back.
      let current = await signIn(email, own);
      const call: HttpCall = (method, path, payload) => as(current)(method, path, payload);
      const reconnect = async () => {
        current = await signIn(email, own);
      };
      return { id: user.id as string, call, reconnect };
    };
    const custodian = await person('custodian@simulated.test', '印章管理员 Custodian', 'seal_admin');
    const employee = await person('employee@simulated.test', '用章人 Employee');
    const sealId = await ctx.db.transaction().execute((trx) =>
      insertSealWithCustodians(trx, {
        groupId: scene.groupId,
        actor: { system: 'cli' },
        at: ctx.now(),
        custodianIds: [custodian.id],
        seal: {
          companyId: scene.companyId,
          code: 'SIM-HT-01',
          name: '模拟科技合同专用章',
          kind: 'physical',
          type: 'contract',
          status: 'active',
        },
      }),
    );
    say(`platform: physical seal 模拟科技合同专用章 kept by the custodian`);
    expectStatus(
      'none',
      await custodian.call('POST', `/api/v1/seals/${sealId}/grants`, {
        json: { grantee: { type: 'user', userId: employee.id }, categories: ['sales'] },
      }),
      201,
      'grant the seal',
    );
    expectStatus(
      'none',
      await custodian.call('POST', '/api/v1/flows', {
        json: {
          companyId: scene.companyId,
          category: 'sales',
          name: '合同用印',
          definition: { levels: [{ name: '印章管理员', mode: 'any', approvers: [{ type: 'custodian' }] }], cc: [] },
        },
      }),
      201,
      'create the flow',
    );
    const serverKey = expectStatus(
      'key',
      await custodian.call('GET', '/api/v1/devices/ticket-key', null),
      200,
      'ticket key',
    );
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const device = new SmartSealDevice({
      serial: 'SIM-SEAL-0001',
      serverKeys: [Buffer.from(serverKey.publicKey as string, 'base64')],
      clock: () => ctx.now().getTime(),
      privateKey,
    });
    say(`device ${device.serial}: key pair made on the device; pins server key ${serverKey.keyId as string}`);
    const registered = expectStatus(
      'id',
      await custodian.call('POST', '/api/v1/devices', {
        json: { serial: device.serial, sealId, publicKey: device.publicKey.toString('base64') },
      }),
      201,
      'register the device',
    );
    say(`platform: device ${device.serial} registered (key ${registered.keyId as string}) and bound to the seal`);
    const application = expectStatus(
      'id',
      await employee.call('POST', '/api/v1/applications', {
        json: { sealIds: [sealId], category: 'sales', reason: '销售合同用印', uses: options.uses, photosPerUse: 1 },
      }),
      201,
      'apply',
    );
    say(`employee: applies for ${options.uses} use(s) with one photo each`);
    const tasks = expectStatus(
      'tasks',
      await custodian.call('GET', '/api/v1/tasks?status=pending', null),
      200,
      'inbox',
    );
    const task = (tasks.items as Array<{ id: string; applicationId: string }>).find(
      (t) => t.applicationId === application.id,
    )!;
    const approved = expectStatus(
      'approved',
      await custodian.call('POST', `/api/v1/tasks/${task.id}/approve`, { json: {} }),
      200,
      'approve',
    );
    const authorizationId = approved.authorizations[0]?.id;
    if (!authorizationId) throw new Error('the approval gave no ticket authorization');
    say(`approver: approves; the employee's ticket authorization is ${authorizationId}`);
    const relay = new PhoneRelay(createHttpLink(employee.call), (line) => say(line));
    await runSession({
      device,
      relay,
      authorizationId,
      uses: options.uses,
      offlineDays: options.offlineDays,
      tamper: options.tamper,
      advance: (ms) => (offset += ms),
      reconnect: async () => {
        await employee.reconnect();
        await custodian.reconnect();
      },
    });
    const records = expectStatus(
      'records',
      await custodian.call('GET', `/api/v1/applications/${application.id as string}/device-records`, null),
      200,
      'the review',
    );
    say(`approver's review: ${records.stamps.length as number} stamp(s) of ${records.usesApproved as number} approved`);
    for (const stamp of records.stamps as Array<{
      use: number;
      deviceTime: string;
      location: { lat: number; lon: number } | null;
      photos: Array<{ sha256: string; uploaded: boolean }>;
    }>)
      say(
        `  use ${stamp.use} at ${new Date(stamp.deviceTime).toISOString()} near ${stamp.location ? `${stamp.location.lat}, ${stamp.location.lon}` : 'no position'}; photo(s) ${stamp.photos.map((p) => `${p.sha256.slice(0, 12)}…${p.uploaded ? '' : ' (not uploaded)'}`).join(', ')}`,
      );
    const findings = expectStatus(
      'findings',
      await custodian.call('GET', `/api/v1/device-findings?deviceId=${registered.id as string}`, null),
      200,
      'findings',
    );
    say(`findings: ${findings.items.length === 0 ? 'none' : ''}`);
    for (const f of findings.items as Array<{ severity: string; kind: string; detail: string }>)
      say(`  [${f.severity}] ${f.kind}: ${f.detail}`);
    await sealAllPending(ctx.db, { wait: true });
  } finally {
    await app.close();
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Adds `device simulate` and `device keygen` to the program. */
export function registerDeviceCommands(program: Command): void {
  const device = program.command('device').description('smart seal devices (docs/device-protocol.md)');
  device
    .command('simulate')
    .description(
      "run the smart seal and the employee's phone through the patent's story: in a throwaway embedded database, or with --url against a server",
    )
    .option('--url <url>', 'a running Sigil server (then --token, --authorization, --serial and --key)')
    .option('--token <token>', "the applicant's bearer token")
    .option('--authorization <id>', 'the approved ticket authorization')
    .option('--serial <serial>', 'the registered device serial')
    .option('--key <file>', "the device's private key (PEM), as made by `sigil device keygen`")
    .option('--uses <n>', 'uses to apply for (in process); one more press is tried', count('a count', 1, 100), 3)
    .option(
      '--offline-days <n>',
      'days the phone stays offline before syncing (in process)',
      count('a number of days', 0, 6),
      0,
    )
    .option('--tamper', 'force one stamp while the seal is locked (a critical finding)', false)
    .action(async (options: SimulateOptions) => {
      try {
        if (options.url) await simulateAgainstServer(options);
        else await simulateInProcess(options);
      } catch (error) {
        // The platform refused something: say what, and exit 2 like any bad input.
        if (error instanceof PlatformError) throw new Error(`the platform refused: ${error.message}`);
        throw error;
      }
    });
  device
    .command('keygen')
    .description(
      'make a device key pair (P-256) for a simulated device: the private key to a PEM file, the public key printed for registration',
    )
    .requiredOption('--out <file>', 'where to write the private key (PEM)')
    .action((options: { out: string }) => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      writeFileSync(options.out, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
      say(publicKey.export({ format: 'der', type: 'spki' }).toString('base64'));
    });
}
