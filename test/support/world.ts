import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { buildApp, type App } from '../../src/server/app.js';
import { parseConfig, type Config } from '../../src/server/config.js';
import { wireModules } from '../../src/server/wiring.js';
import type { AppContext } from '../../src/server/context.js';
import type { Db, Role } from '../../src/db/schema.js';
import { newId } from '../../src/lib/ids.js';
import { hashPassword, newToken, sha256Hex } from '../../src/lib/secrets.js';
import { createGroup } from '../../src/modules/group-setup/group-setup.service.js';
import { insertCompany } from '../../src/modules/companies/company.repository.js';
import { insertUser } from '../../src/modules/users/user.repository.js';
import { insertAssignment } from '../../src/modules/roles/role.repository.js';
import { SESSION_PREFIX } from '../../src/modules/auth/auth.service.js';
import { openTestDatabase } from './database.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import { createBlobStore } from '../../src/blobs/create-blob-store.js';
import type { JobRunner } from '../../src/jobs/job.runner.js';
import { createMailer } from '../../src/transports/mailer.js';
import { createSmsGateway } from '../../src/transports/sms-gateway.js';
import { createJobRunner } from '../../src/server/jobs.js';
import { createKeyVault } from '../../src/signing/key-vault.js';

export const DEFAULT_PASSWORD = 'correct horse battery staple';
let defaultHash: Promise<string> | undefined;
const passwordHash = () => (defaultHash ??= hashPassword(DEFAULT_PASSWORD));

/** A controllable clock: tests move time instead of waiting for it. */
export class TestClock {
  private offset = 0;
  private frozenAt: number | null = null;
  now = (): Date => new Date((this.frozenAt ?? Date.now()) + this.offset);
  advance(ms: number): void {
    this.offset += ms;
  }
  /**
   * Stops the clock until `thaw()`: for tests whose answers depend on seconds passing (a throttle's
   * wait), which a slow machine must not change.
   */
  freeze(): void {
    this.frozenAt ??= Date.now();
  }
  thaw(): void {
    if (this.frozenAt === null) return;
    this.offset -= Date.now() - this.frozenAt;
    this.frozenAt = null;
  }
}

export interface World {
  app: App;
  ctx: AppContext;
  db: Db;
  clock: TestClock;
  /** The job runner with every module's handlers, never started: tests call `jobs.runDueJobs()`. */
  jobs: JobRunner;
  /** This world's blob directory (a temp dir, removed by close). */
  blobDir: string;
  /** This world's audit checkpoint directory, the server's memory outside the database (a temp dir, removed by close). */
  auditDir: string;
  /** The PostgreSQL URL of this world's database (absent on PGlite). */
  databaseUrl?: string;
  close(): Promise<void>;
}

/** `options.database`: build on this (already migrated) database instead of a fresh one; close() closes it. */
export async function createWorld(
  env: Record<string, string> = {},
  options: { database?: DatabaseHandle & { url?: string } } = {},
): Promise<World> {
  const database = options.database ?? (await openTestDatabase());
  const blobDir = mkdtempSync(join(tmpdir(), 'sigil-blobs-'));
  const auditDir = mkdtempSync(join(tmpdir(), 'sigil-audit-'));
  const config: Config = parseConfig({
    SIGIL_DATA_DIR: '/nonexistent-test-data',
    LOG_LEVEL: 'silent',
    SIGIL_BLOB_DIR: blobDir,
    SIGIL_AUDIT_DIR: auditDir,
    ...env,
  });
  const clock = new TestClock();
  const masterKey = randomBytes(32);
  wireModules();
  const ctx: AppContext = {
    db: database.db,
    dbKind: database.kind,
    config,
    masterKey,
    now: clock.now,
    blobs: createBlobStore(config),
    mailer: createMailer(config),
    sms: createSmsGateway(config),
    keys: createKeyVault(config.pki, masterKey),
  };
  const app = await buildApp(ctx, { logger: false });
  await app.ready();
  const jobs = createJobRunner(ctx);
  return {
    app,
    ctx,
    db: database.db,
    clock,
    jobs,
    blobDir,
    auditDir,
    ...(database.url ? { databaseUrl: database.url } : {}),
    async close() {
      await jobs.stop();
      await app.close();
      await ctx.mailer.close();
      ctx.keys.close();
      await database.close();
      rmSync(blobDir, { recursive: true, force: true });
      rmSync(auditDir, { recursive: true, force: true });
    },
  };
}

export interface GroupFixture {
  groupId: string;
  hq: { id: string; path: string };
  admin: { id: string; email: string; token: string };
}

const unique = () => randomBytes(4).toString('hex');

/** A group with its head company and a system administrator who is signed in. */
export async function buildGroup(world: World, name = `Group ${unique()}`): Promise<GroupFixture> {
  const slug = `g-${unique()}`;
  const email = `admin-${unique()}@example.test`;
  const { groupId, companyId, adminId } = await createGroup(
    world.db,
    {
      name,
      slug,
      headCompany: { name: `${name} HQ`, code: 'HQ' },
      admin: { email, name: 'Admin', password: DEFAULT_PASSWORD, mustChangePassword: false },
    },
    { system: 'test' },
  );
  return {
    groupId,
    hq: { id: companyId, path: `/${companyId}/` },
    admin: { id: adminId, email, token: await sessionFor(world, adminId) },
  };
}

export async function buildCompany(
  world: World,
  options: { groupId: string; parent: { id: string; path: string }; name?: string; code?: string },
) {
  const id = newId();
  const path = `${options.parent.path}${id}/`;
  await world.db.transaction().execute((trx) =>
    insertCompany(trx, {
      id,
      groupId: options.groupId,
      parentId: options.parent.id,
      name: options.name ?? `Company ${unique()}`,
      code: options.code ?? `C-${unique()}`,
      path,
      depth: path.split('/').length - 3,
    }),
  );
  return { id, path };
}

export async function buildUser(
  world: World,
  options: {
    groupId: string;
    companyId: string;
    roles?: Array<{ role: Role; companyId?: string }>;
    name?: string;
    email?: string;
    departmentId?: string;
  },
) {
  const id = newId();
  const email = options.email ?? `user-${unique()}@example.test`;
  const hash = await passwordHash();
  await world.db.transaction().execute(async (trx) => {
    await insertUser(trx, {
      id,
      groupId: options.groupId,
      companyId: options.companyId,
      departmentId: options.departmentId ?? null,
      email,
      name: options.name ?? `User ${unique()}`,
      phone: null,
      locale: 'en',
      passwordHash: hash,
    });
    for (const r of options.roles ?? []) {
      await insertAssignment(trx, {
        id: newId(),
        groupId: options.groupId,
        userId: id,
        role: r.role,
        companyId: r.companyId ?? options.companyId,
        createdBy: null,
      });
    }
  });
  return { id, email, password: DEFAULT_PASSWORD, token: await sessionFor(world, id) };
}

/** A live session for a user, made directly (sign-in itself is tested through the API). */
export async function sessionFor(world: World, userId: string): Promise<string> {
  const token = newToken(SESSION_PREFIX);
  const user = await world.db.selectFrom('users').select('group_id').where('id', '=', userId).executeTakeFirstOrThrow();
  await world.db
    .insertInto('sessions')
    .values({
      id: newId(),
      group_id: user.group_id,
      user_id: userId,
      token_hash: sha256Hex(token),
      mfa_pending: false,
      ip: null,
      user_agent: null,
      expires_at: new Date(world.clock.now().getTime() + 365 * 86_400_000),
    })
    .execute();
  return token;
}

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Record<string, unknown>;
}

/** Calls the app in-process as the holder of `token` (or anonymously). */
export function client(world: World, token?: string) {
  const call = async <T = any>(
    method: InjectOptions['method'],
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer<T>> => {
    const response = await world.app.inject({
      method,
      url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      ...(payload !== undefined ? { payload: payload as InjectOptions['payload'] } : {}),
    });
    const text = response.body;
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    return { status: response.statusCode, body: body as T, headers: response.headers };
  };
  return {
    get: <T = any>(url: string) => call<T>('GET', url),
    post: <T = any>(url: string, payload?: unknown) => call<T>('POST', url, payload ?? {}),
    patch: <T = any>(url: string, payload?: unknown) => call<T>('PATCH', url, payload ?? {}),
    put: <T = any>(url: string, payload?: unknown) => call<T>('PUT', url, payload ?? {}),
    delete: <T = any>(url: string) => call<T>('DELETE', url),
    raw: call,
  };
}

/** A seal recorded directly (lifecycle applications are tested through the API). */
export async function buildSeal(
  world: World,
  options: {
    groupId: string;
    companyId: string;
    custodianIds?: string[];
    name?: string;
    code?: string;
    kind?: 'electronic' | 'physical' | 'ukey' | 'mobile';
    type?: 'official' | 'contract' | 'finance' | 'invoice' | 'hr' | 'legal_representative';
    status?: 'pending' | 'active' | 'suspended' | 'lost' | 'destroyed';
  },
): Promise<{ id: string; name: string }> {
  const { insertSealWithCustodians } = await import('../../src/modules/seals/seal.service.js');
  const name = options.name ?? `Seal ${unique()}`;
  const id = await world.db.transaction().execute((trx) =>
    insertSealWithCustodians(trx, {
      groupId: options.groupId,
      actor: { system: 'test' },
      at: world.clock.now(),
      custodianIds: options.custodianIds ?? [],
      seal: {
        companyId: options.companyId,
        code: options.code ?? `S-${unique()}`,
        name,
        kind: options.kind ?? 'electronic',
        type: options.type ?? 'contract',
        status: options.status ?? 'active',
      },
    }),
  );
  return { id, name };
}
