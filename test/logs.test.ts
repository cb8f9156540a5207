// Logs never carry secrets: passwords and their hashes, tokens, API keys, one-time codes and
// TOTP secrets, PKCS#12 files, their passwords and keys. The app's own log (pino, at trace) is
// captured while each of them passes through, including a statement PostgreSQL refuses while
// inserting a user (its error describes the failing row, hash and all).
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../src/lib/totp.js';
import { buildApp, type App } from '../src/server/app.js';
import { tempDir } from './signing/support.js';
import {
  buildGroup,
  buildSeal,
  buildUser,
  client,
  createWorld,
  DEFAULT_PASSWORD,
  type GroupFixture,
  type World,
} from './support/world.js';

let world: World;
let group: GroupFixture;
let app: App;
let log = '';

beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      log += chunk.toString('utf8');
      done();
    },
  });
  app = await buildApp(world.ctx, { logger: { level: 'trace', stream } });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await world.close();
});

describe('the log', () => {
  it('carries no password, hash, token, key, one-time code or PKCS#12 secret', async () => {
    const api = client({ ...world, app }, group.admin.token);
    const secrets: Record<string, string> = {};

    // A user created with a password: neither the password nor its scrypt hash is logged.
    secrets.newPassword = 'a password nobody should read 4711';
    const created = await api.post('/api/v1/users', {
      email: 'logged@example.test',
      name: 'Logged Person',
      companyId: group.hq.id,
      password: secrets.newPassword,
    });
    expect(created.status).toBe(201);
    const stored = await world.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', created.body.user?.id ?? created.body.id)
      .executeTakeFirstOrThrow();
    secrets.storedHash = stored.password_hash!;

    // A statement PostgreSQL refuses, set up by hand: its error names the failing row's values.
    await sql`alter table users add constraint log_probe check (name <> 'Refused Person')`.execute(world.db);
    try {
      secrets.refusedPassword = 'the refused person password 0815';
      const refused = await api.post('/api/v1/users', {
        email: 'refused@example.test',
        name: 'Refused Person',
        companyId: group.hq.id,
        password: secrets.refusedPassword,
      });
      expect(refused.status).toBe(500);
    } finally {
      await sql`alter table users drop constraint log_probe`.execute(world.db);
    }

    // An API key made, then used.
    const key = await api.post('/api/v1/api-keys', { name: 'sync', companyId: group.hq.id, permissions: ['org.read'] });
    expect(key.status).toBe(201);
    secrets.apiKey = key.body.secret;
    expect((await client({ ...world, app }, secrets.apiKey).get('/api/v1/users')).status).toBe(200);

    // A session signed in for, then used; and a wrong password tried.
    const person = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'employee' }],
    });
    const anonymous = client({ ...world, app });
    const session = await anonymous.post('/api/v1/auth/sign-in', { email: person.email, password: DEFAULT_PASSWORD });
    expect(session.status).toBe(200);
    secrets.signInPassword = DEFAULT_PASSWORD;
    secrets.sessionToken = session.body.token;
    secrets.wrongPassword = 'almost the right password';
    await anonymous.post('/api/v1/auth/sign-in', { email: person.email, password: secrets.wrongPassword });
    const me = client({ ...world, app }, secrets.sessionToken);
    expect((await me.get('/api/v1/me')).status).toBe(200);

    // A TOTP secret issued and a one-time code sent.
    const setup = await me.post('/api/v1/me/totp/setup');
    const totpSecret = setup.body.secret as string;
    secrets.totpSecret = totpSecret;
    secrets.totpCode = totpCode(totpSecret, world.clock.now());
    expect((await me.post('/api/v1/me/totp/enable', { code: secrets.totpCode })).status).toBe(200);

    // A PKCS#12 file, made by openssl, imported with its password.
    const tmp = tempDir('sigil-logs-');
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '30',
          '-subj',
          '/CN=Logged Seal/O=Log Test Ltd',
          '-addext',
          'basicConstraints=critical,CA:FALSE',
          '-addext',
          'keyUsage=critical,digitalSignature,nonRepudiation',
          '-keyout',
          tmp.file('key.pem'),
          '-out',
          tmp.file('cert.pem'),
        ],
        { stdio: 'pipe' },
      );
      secrets.p12Password = 'pkcs12 password 9d2f';
      execFileSync(
        'openssl',
        [
          'pkcs12',
          '-export',
          '-inkey',
          tmp.file('key.pem'),
          '-in',
          tmp.file('cert.pem'),
          '-passout',
          `pass:${secrets.p12Password}`,
          '-out',
          tmp.file('seal.p12'),
        ],
        { stdio: 'pipe' },
      );
      const keyPem = execFileSync('cat', [tmp.file('key.pem')], { encoding: 'utf8' });
      secrets.privateKey = keyPem.split('\n')[1]!;
      const p12 = execFileSync('base64', ['-w0', tmp.file('seal.p12')], { encoding: 'utf8' });
      secrets.pkcs12 = p12.slice(40, 120);
      const keeper = await buildUser(world, {
        groupId: group.groupId,
        companyId: group.hq.id,
        roles: [{ role: 'seal_admin' }],
      });
      const seal = await buildSeal(world, {
        groupId: group.groupId,
        companyId: group.hq.id,
        custodianIds: [keeper.id],
      });
      const imported = await client({ ...world, app }, keeper.token).post(
        `/api/v1/seals/${seal.id}/certificate/import`,
        {
          pkcs12Base64: p12,
          password: secrets.p12Password,
        },
      );
      expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    } finally {
      tmp.remove();
    }

    // The capture works: the refused insert was logged, with what an operator needs.
    expect(log).toContain('unhandled error');
    expect(log).toMatch(/"constraint":"log_probe"|log_probe/);
    const leaked = Object.entries(secrets).filter(([, value]) => log.includes(value));
    expect(leaked.map(([name]) => name)).toEqual([]);
    // Nor a scrypt hash of anyone (the refused person's was never stored to compare with).
    expect(log).not.toMatch(/scrypt\$\d+\$/);
  });
});
