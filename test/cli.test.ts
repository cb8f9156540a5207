import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { openDatabase } from '../src/db/database.js';
import { openTestDatabase } from './support/database.js';
import { client, createWorld } from './support/world.js';

/**
 * The `sigil` commands, run in-process against a data directory of their own
 * (and, under DATABASE_URL, against a database of this file's own).
 */
let dataDir: string;
let databaseUrl: string | undefined;
let closeDatabase: () => Promise<void> = async () => {};
const savedUrl = process.env.DATABASE_URL;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sigil-cli-'));
  if (savedUrl) {
    const handle = await openTestDatabase();
    databaseUrl = handle.url;
    await handle.db.destroy();
    closeDatabase = handle.close;
    process.env.DATABASE_URL = databaseUrl;
  }
});
afterAll(async () => {
  process.env.DATABASE_URL = savedUrl;
  if (savedUrl === undefined) delete process.env.DATABASE_URL;
  await closeDatabase();
  rmSync(dataDir, { recursive: true, force: true });
});

async function sigil(...args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  const before = process.exitCode;
  try {
    const status = await main(['node', 'sigil', ...args]);
    return { status, out, err };
  } finally {
    process.exitCode = before;
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

async function withDatabase<T>(work: (db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>): Promise<T> {
  const handle = await openDatabase({ databaseUrl, dataDir: join(dataDir, 'pglite'), poolSize: 1 });
  try {
    return await work(handle.db);
  } finally {
    await handle.close();
  }
}

describe('sigil command', () => {
  it('lists every command in --help', async () => {
    const help = await sigil('--help');
    expect(help.status).toBe(0);
    for (const command of ['serve', 'demo', 'db', 'group', 'audit']) expect(help.out).toContain(command);
  });

  it('exits 2 on a usage error and on bad configuration, listing every problem', async () => {
    expect((await sigil('no-such-command')).status).toBe(2);
    process.env.SIGIL_TYPO = '1';
    process.env.SIGIL_SIGNIN_FREE_ATTEMPTS = 'many';
    try {
      const bad = await sigil('demo', '--data', dataDir);
      expect(bad.status).toBe(2);
      expect(bad.err).toContain('SIGIL_TYPO: unknown setting');
      expect(bad.err).toContain('SIGIL_SIGNIN_FREE_ATTEMPTS');
    } finally {
      delete process.env.SIGIL_TYPO;
      delete process.env.SIGIL_SIGNIN_FREE_ATTEMPTS;
    }
  });

  it('seeds the demo group once, with a master key of mode 0600 and printed logins', async () => {
    const first = await sigil('demo', '--data', dataDir);
    expect(first.status).toBe(0);
    expect(first.out).toContain('sysadmin@demo.sigil.local');
    expect(first.out).toMatch(/password: Demo-\S+/);
    expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'demo-logins.txt')).mode & 0o777).toBe(0o600);
    const again = await sigil('demo', '--data', dataDir);
    expect(again.out).toContain('already exists');
    const counts = await withDatabase(async (db) => ({
      groups: (await db.selectFrom('groups').select('id').execute()).length,
      users: (await db.selectFrom('users').select('id').execute()).length,
      companies: await db.selectFrom('companies').select(['id', 'depth']).execute(),
      roles: (await db.selectFrom('role_assignments').select('role').distinct().execute()).map((r) => r.role).sort(),
      seals: await db.selectFrom('seals').select(['image_sha256']).execute(),
      flows: (await db.selectFrom('flows').select('purpose').execute()).map((f) => f.purpose).sort(),
      grants: (await db.selectFrom('seal_grants').select('id').execute()).length,
      applications: (await db.selectFrom('applications').select('status').execute()).map((a) => a.status),
    }));
    expect(counts.groups).toBe(1);
    expect(counts.users).toBeGreaterThanOrEqual(30);
    expect(counts.companies.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...counts.companies.map((c) => c.depth))).toBeGreaterThanOrEqual(2);
    expect(counts.roles).toEqual(['employee', 'seal_admin', 'security_auditor', 'system_admin']);
    // Seals with impressions, grants and flows, so the demo can be used at once (test/demo.test.ts walks them).
    expect(counts.seals.length).toBeGreaterThanOrEqual(12);
    expect(counts.seals.every((s) => s.image_sha256 !== null)).toBe(true);
    // The separation-of-duties flow is every group's own (built in with the group).
    expect(counts.flows).toEqual(['lifecycle', 'seal_use', 'sod_change']);
    expect(counts.grants).toBeGreaterThanOrEqual(5);
    expect(counts.applications).toEqual(expect.arrayContaining(['pending', 'approved']));
    expect(first.out).toContain('legal.head@demo.sigil.local');
  });

  it('verifies the audit chain, and finds a row changed by hand and one deleted', async () => {
    // sigil demo linked the events it wrote before it exited.
    expect(await withDatabase((db) => db.selectFrom('audit_pending').selectAll().execute())).toEqual([]);
    const intact = await sigil('audit', 'verify', '--group', 'demo', '--data', dataDir);
    expect(intact.status).toBe(0);
    expect(intact.out).toMatch(/^intact: \d+ events verified/);

    await withDatabase((db) => sql`update audit_events set actor_name = 'someone else' where seq = 5`.execute(db));
    const altered = await sigil('audit', 'verify', '--group', 'demo', '--json', '--data', dataDir);
    expect(altered.status).toBe(1);
    expect(JSON.parse(altered.out)).toMatchObject({ intact: false, firstProblem: { kind: 'altered', seq: 5 } });

    await withDatabase((db) => sql`delete from audit_events where seq = 5`.execute(db));
    const deleted = await sigil('audit', 'verify', '--group', 'demo', '--data', dataDir);
    expect(deleted.status).toBe(1);
    expect(deleted.out).toContain('NOT INTACT: missing at event 5');

    expect((await sigil('audit', 'verify', '--group', 'nope', '--data', dataDir)).status).toBe(2);
  });

  it('creates a group with a first administrator', async () => {
    const created = await sigil(
      'group',
      'create',
      '--name',
      'Acme',
      '--slug',
      'acme',
      '--company',
      'Acme HQ',
      '--code',
      'ACME',
      '--admin-email',
      'root@acme.test',
      '--admin-name',
      'Root',
      '--data',
      dataDir,
    );
    expect(created.status).toBe(0);
    expect(created.out).toContain('root@acme.test');
    expect(
      (
        await sigil(
          'group',
          'create',
          '--name',
          'Acme',
          '--slug',
          'acme',
          '--company',
          'X',
          '--code',
          'X',
          '--admin-email',
          'x@acme.test',
          '--admin-name',
          'X',
          '--data',
          dataDir,
        )
      ).status,
    ).toBe(2);
  });

  it('makes the first administrator of a new group change the printed password before anything else', async () => {
    const created = await sigil(
      'group',
      'create',
      '--name',
      'First',
      '--slug',
      'first',
      '--company',
      'First HQ',
      '--code',
      'FIRST',
      '--admin-email',
      'root@first.test',
      '--admin-name',
      'Root',
      '--data',
      dataDir,
    );
    expect(created.status).toBe(0);
    const printed = /with password (\S+) and change it/.exec(created.out)?.[1];
    expect(printed).toBeDefined();
    const world = await createWorld(
      {},
      { database: await openDatabase({ databaseUrl, dataDir: join(dataDir, 'pglite'), poolSize: 2 }) },
    );
    try {
      const signedIn = await client(world).post('/api/v1/auth/sign-in', {
        email: 'root@first.test',
        password: printed,
      });
      expect(signedIn.body).toMatchObject({ status: 'signed_in', passwordChangeRequired: true });
      const admin = client(world, signedIn.body.token);
      for (const [method, url] of [
        ['GET', '/api/v1/users'],
        ['GET', '/api/v1/companies'],
        ['POST', '/api/v1/api-keys'],
        ['GET', '/api/v1/settings/separation-of-duties'],
      ] as const) {
        const refused = await admin.raw(method, url, method === 'POST' ? {} : undefined);
        expect([url, refused.status, refused.body.code]).toEqual([url, 403, 'password_change_required']);
      }
      expect((await admin.get('/api/v1/me')).body).toMatchObject({ passwordChangeRequired: true });
      const same = await admin.post('/api/v1/me/password', { currentPassword: printed, newPassword: printed });
      expect(same.status).toBe(400);
      expect(same.body.errors).toEqual([
        { field: 'body.newPassword', message: 'must differ from the current password' },
      ]);
      const changed = await admin.post('/api/v1/me/password', {
        currentPassword: printed,
        newPassword: 'a password only root knows',
      });
      expect(changed.status).toBe(200);
      expect((await admin.get('/api/v1/users')).status).toBe(200);
      expect((await admin.get('/api/v1/me')).body.passwordChangeRequired).toBe(false);
      const again = await client(world).post('/api/v1/auth/sign-in', {
        email: 'root@first.test',
        password: 'a password only root knows',
      });
      expect(again.body).toMatchObject({ status: 'signed_in', passwordChangeRequired: false });
    } finally {
      await world.close();
    }
  });

  it('migrates down and up again, keeping the data of earlier migrations', async () => {
    const groupsBefore = await withDatabase(
      async (db) => (await db.selectFrom('groups').select('id').execute()).length,
    );
    const eventCount = () =>
      withDatabase(async (db) => (await db.selectFrom('audit_events').select('id').execute()).length);
    const eventsBefore = await eventCount();
    // The chain is as the test above left it (an event deleted by hand): the report must not change.
    const report = async () =>
      JSON.parse((await sigil('audit', 'verify', '--group', 'demo', '--json', '--data', dataDir)).out) as {
        intact: boolean;
        checked: number;
        firstProblem: { kind: string } | null;
      };
    const reportBefore = await report();
    const down = await sigil('db', 'migrate', '--down', '--data', dataDir);
    expect(down.status).toBe(0);
    expect(down.out).toMatch(/^reverted \d{8}T\d{4}-[a-z0-9-]+\n$/);
    const up = await sigil('db', 'migrate', '--data', dataDir);
    expect(up.status).toBe(0);
    expect(up.out).toBe('database is at the latest migration\n');
    expect(await withDatabase(async (db) => (await db.selectFrom('groups').select('id').execute()).length)).toBe(
      groupsBefore,
    );
    expect(await eventCount()).toBe(eventsBefore);
    const reportAfter = await report();
    expect({ intact: reportAfter.intact, checked: reportAfter.checked, kind: reportAfter.firstProblem?.kind }).toEqual({
      intact: reportBefore.intact,
      checked: reportBefore.checked,
      kind: reportBefore.firstProblem?.kind,
    });
  });
});
