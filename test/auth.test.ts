import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../src/lib/totp.js';
import { invalidatePrincipals } from '../src/modules/access/principal-cache.js';
import {
  buildGroup,
  buildUser,
  client,
  createWorld,
  DEFAULT_PASSWORD,
  type GroupFixture,
  type World,
} from './support/world.js';

let world: World;
let group: GroupFixture;
beforeAll(async () => {
  world = await createWorld({
    SIGIL_SIGNIN_FREE_ATTEMPTS: '3',
    SIGIL_SIGNIN_ACCOUNT_ATTEMPTS: '8',
    SIGIL_SIGNIN_MAX_DELAY_MINUTES: '10',
    SIGIL_LOGIN_RATE_PER_MINUTE: '1000',
  });
  group = await buildGroup(world);
  // Time here moves only when a test moves it: on a loaded machine a password check can outlast
  // the one-second wait a throttle sets, and the answers compared would differ by that alone.
  world.clock.freeze();
});
afterAll(() => world.close());

const signIn = (email: string, password: string) => client(world).post('/api/v1/auth/sign-in', { email, password });

/** Sign-in from a given client address, as the throttle sees it. */
async function signInFrom(remoteAddress: string, email: string, password: string) {
  const response = await world.app.inject({
    method: 'POST',
    url: '/api/v1/auth/sign-in',
    remoteAddress,
    payload: { email, password },
  });
  return { status: response.statusCode, body: response.json() as Record<string, unknown>, headers: response.headers };
}

describe('password sign-in', () => {
  it('issues a session token that opens the API', async () => {
    const user = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'employee' }],
    });
    const answer = await signIn(user.email.toUpperCase(), DEFAULT_PASSWORD);
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('signed_in');
    expect(answer.body.token).toMatch(/^sgs_/);
    const me = await client(world, answer.body.token).get('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(user.email);
  });

  it('refuses a wrong password and an unknown address alike', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const wrong = await signIn(user.email, 'not the password');
    const unknown = await signIn('nobody@example.test', 'not the password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_credentials');
    expect(unknown.body.detail).toBe(wrong.body.detail);
  });

  it('answers 401 without a token and for a made-up one', async () => {
    expect((await client(world).get('/api/v1/users')).body.code).toBe('unauthenticated');
    expect((await client(world, 'sgs_made-up').get('/api/v1/users')).status).toBe(401);
    expect((await client(world, 'something-else').get('/api/v1/users')).status).toBe(401);
  });

  it('answers an unknown address exactly as a known one, through failures and the wait', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const unknown = `nobody-${user.id}@example.test`;
    // What a client can compare: status, code, detail, and how long it is told to wait.
    const seen = (answer: { status: number; body: Record<string, unknown>; headers: Record<string, unknown> }) => ({
      status: answer.status,
      code: answer.body.code,
      detail: answer.body.detail,
      retryAfterSeconds: answer.body.retryAfterSeconds,
      retryAfter: answer.headers['retry-after'],
    });
    for (let attempt = 1; attempt <= 5; attempt++) {
      const known = seen(await signInFrom('203.0.113.10', user.email, `wrong-${attempt}`));
      const other = seen(await signInFrom('203.0.113.10', unknown, `wrong-${attempt}`));
      expect(other, `attempt ${attempt}`).toEqual(known);
      expect(known.status).toBe(attempt <= 3 ? 401 : 429);
    }
    // The right password while waiting gets the same answer as a wrong one: nothing is checked.
    expect(seen(await signInFrom('203.0.113.10', user.email, DEFAULT_PASSWORD))).toMatchObject({
      status: 429,
      code: 'rate_limited',
      retryAfterSeconds: 1,
      retryAfter: '1',
    });
  });

  it('slows only the client that failed, twice as long each time, and never locks the person out', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const attacker = '203.0.113.66';
    for (const guess of ['a', 'b', 'c']) expect((await signInFrom(attacker, user.email, guess)).status).toBe(401);
    // The person, from their own machine, is not slowed by someone else's guesses.
    expect((await signInFrom('198.51.100.7', user.email, DEFAULT_PASSWORD)).status).toBe(200);
    const waits: unknown[] = [];
    for (let round = 0; round < 4; round++) {
      const refused = await signInFrom(attacker, user.email, DEFAULT_PASSWORD);
      expect(refused.status).toBe(429);
      waits.push(refused.body.retryAfterSeconds);
      world.clock.advance(Number(refused.body.retryAfterSeconds) * 1000);
      expect((await signInFrom(attacker, user.email, `wrong-${round}`)).status).toBe(401);
    }
    expect(waits).toEqual([1, 2, 4, 8]);
    // Never longer than SIGIL_SIGNIN_MAX_DELAY_MINUTES, however long it goes on.
    for (let round = 0; round < 12; round++) {
      world.clock.advance(10 * 60_000);
      await signInFrom(attacker, user.email, `more-${round}`);
    }
    expect((await signInFrom(attacker, user.email, DEFAULT_PASSWORD)).body.retryAfterSeconds).toBe(600);
    world.clock.advance(10 * 60_000);
    // Waiting is all it takes: the right password then works from there too.
    expect((await signInFrom(attacker, user.email, DEFAULT_PASSWORD)).status).toBe(200);
  });

  it('counts every one of many simultaneous wrong guesses', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => signInFrom('203.0.113.77', user.email, `wrong-${i}`)),
    );
    expect(answers.every((a) => a.status === 401 || a.status === 429)).toBe(true);
    const evaluated = answers.filter((a) => a.status === 401).length;
    const row = await world.db
      .selectFrom('sign_in_throttles')
      .select('failures')
      .where('client', '=', '203.0.113.77')
      .executeTakeFirstOrThrow();
    expect(row.failures).toBe(evaluated);
    expect((await signInFrom('203.0.113.77', user.email, DEFAULT_PASSWORD)).status).toBe(429);
  });

  it('slows new clients, not known ones, after many failures from everywhere; an administrator lifts it', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    expect((await signInFrom('198.51.100.20', user.email, DEFAULT_PASSWORD)).status).toBe(200);
    // Eight clients, one wrong guess each: none of them is slowed by its own failures.
    for (let i = 1; i <= 8; i++) expect((await signInFrom(`192.0.2.${i}`, user.email, 'guess')).status).toBe(401);
    const fresh = await signInFrom('192.0.2.200', user.email, DEFAULT_PASSWORD);
    expect(fresh.status).toBe(429);
    // The person's own device still signs in; the account shows as slowed to administrators.
    expect((await signInFrom('198.51.100.20', user.email, DEFAULT_PASSWORD)).status).toBe(200);
    const detail = await client(world, group.admin.token).get(`/api/v1/users/${user.id}`);
    expect(detail.body.user?.locked ?? detail.body.locked).toBe(true);
    const events = await world.db
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', user.id)
      .where('action', '=', 'auth.locked_out')
      .execute();
    expect(events).toHaveLength(1);
    const lifted = await client(world, group.admin.token).post(`/api/v1/users/${user.id}/unlock`);
    expect(lifted.status).toBe(200);
    expect(lifted.body.locked ?? lifted.body.user?.locked).toBe(false);
    expect((await signInFrom('192.0.2.200', user.email, DEFAULT_PASSWORD)).status).toBe(200);
  });

  it('refuses suspended and resigned people', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    await client(world, group.admin.token).post(`/api/v1/users/${user.id}/status`, { status: 'suspended' });
    expect((await signIn(user.email, DEFAULT_PASSWORD)).status).toBe(401);
  });
});

describe('sessions', () => {
  it('signs out: the token stops working at once', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const api = client(world, user.token);
    expect((await api.post('/api/v1/auth/sign-out')).status).toBe(200);
    expect((await api.get('/api/v1/me')).status).toBe(401);
  });

  it('lists my sessions and ends another one of them', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const second = (await signIn(user.email, DEFAULT_PASSWORD)).body.token as string;
    const list = await client(world, user.token).get('/api/v1/auth/sessions');
    expect(list.body.items).toHaveLength(2);
    const other = list.body.items.find((s: { current: boolean }) => !s.current);
    expect((await client(world, user.token).delete(`/api/v1/auth/sessions/${other.id}`)).status).toBe(200);
    expect((await client(world, second).get('/api/v1/me')).status).toBe(401);
    expect((await client(world, user.token).get('/api/v1/me')).status).toBe(200);
  });

  it('expires sessions after their lifetime', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const token = (await signIn(user.email, DEFAULT_PASSWORD)).body.token as string;
    world.clock.advance(13 * 3_600_000);
    expect((await client(world, token).get('/api/v1/me')).status).toBe(401);
  });

  it('changing my password ends my other sessions but keeps this one', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const other = (await signIn(user.email, DEFAULT_PASSWORD)).body.token as string;
    const wrong = await client(world, user.token).post('/api/v1/me/password', {
      currentPassword: 'nope',
      newPassword: 'a brand new password',
    });
    expect(wrong.status).toBe(401);
    const short = await client(world, user.token).post('/api/v1/me/password', {
      currentPassword: DEFAULT_PASSWORD,
      newPassword: 'short',
    });
    expect(short.status).toBe(400);
    expect(short.body.errors).toEqual([{ field: 'body.newPassword', message: 'must be at least 10 characters' }]);
    const ok = await client(world, user.token).post('/api/v1/me/password', {
      currentPassword: DEFAULT_PASSWORD,
      newPassword: 'a brand new password',
    });
    expect(ok.status).toBe(200);
    expect((await client(world, other).get('/api/v1/me')).status).toBe(401);
    expect((await client(world, user.token).get('/api/v1/me')).status).toBe(200);
    expect((await signIn(user.email, 'a brand new password')).status).toBe(200);
  });
});

describe('TOTP second factor', () => {
  it('enrols, then requires a fresh code at sign-in and refuses a replayed one', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    const api = client(world, user.token);
    const setup = await api.post('/api/v1/me/totp/setup');
    expect(setup.status).toBe(200);
    expect(setup.body.otpauthUrl).toContain('otpauth://totp/');
    const secret = setup.body.secret as string;
    const stored = await world.db
      .selectFrom('users')
      .select('totp_secret')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(stored.totp_secret).not.toContain(secret);

    expect((await api.post('/api/v1/me/totp/enable', { code: '000000' })).body.code).toBe('invalid_totp');
    expect((await api.post('/api/v1/me/totp/enable', { code: totpCode(secret, world.clock.now()) })).status).toBe(200);

    const first = await signIn(user.email, DEFAULT_PASSWORD);
    expect(first.body.status).toBe('mfa_required');
    // A challenge is not a session.
    expect((await client(world, first.body.challengeToken).get('/api/v1/me')).body.code).toBe('mfa_required');
    world.clock.advance(31_000);
    const code = totpCode(secret, world.clock.now());
    const done = await client(world).post('/api/v1/auth/totp', { challengeToken: first.body.challengeToken, code });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('signed_in');
    expect((await client(world, done.body.token).get('/api/v1/me')).status).toBe(200);

    const again = await signIn(user.email, DEFAULT_PASSWORD);
    const replay = await client(world).post('/api/v1/auth/totp', { challengeToken: again.body.challengeToken, code });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('invalid_totp');
  });

  it('refuses a malformed code with the field named', async () => {
    const answer = await client(world).post('/api/v1/auth/totp', { challengeToken: 'x', code: '12ab' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      { field: 'body.code', message: 'must be the 6-digit code from your authenticator' },
    ]);
  });
});

describe('API keys', () => {
  it('works for its permissions over its subtree only, and stops when revoked', async () => {
    const admin = client(world, group.admin.token);
    const created = await admin.post('/api/v1/api-keys', {
      name: 'HR sync',
      companyId: group.hq.id,
      permissions: ['org.read'],
    });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^sgk_/);
    const stored = await world.db
      .selectFrom('api_keys')
      .select('key_hash')
      .where('id', '=', created.body.key.id)
      .executeTakeFirstOrThrow();
    expect(stored.key_hash).not.toContain(secret);

    const integration = client(world, secret);
    expect((await integration.get('/api/v1/users')).status).toBe(200);
    const write = await integration.post('/api/v1/companies', {
      parentId: group.hq.id,
      name: 'Nope Ltd',
      code: 'NOPE',
    });
    expect(write.status).toBe(403);
    expect(write.body.code).toBe('forbidden');

    expect((await admin.delete(`/api/v1/api-keys/${created.body.key.id}`)).status).toBe(200);
    expect((await integration.get('/api/v1/users')).status).toBe(401);
  });

  it('cannot be given permissions its creator lacks', async () => {
    const answer = await client(world, group.admin.token).post('/api/v1/api-keys', {
      name: 'audit',
      companyId: group.hq.id,
      permissions: ['audit.read'],
    });
    expect(answer.status).toBe(403);
    expect(answer.body.detail).toContain('audit.read');
  });
});

describe('a password that must be changed', () => {
  const mustChange = async (userId: string) => {
    await world.db.updateTable('users').set({ must_change_password: true }).where('id', '=', userId).execute();
    // Written behind the server's back: what a change notified by another process does to this one's cache.
    invalidatePrincipals();
  };

  it('lets a session do nothing but change the password, see who it is, and sign out, until it is changed', async () => {
    const user = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'system_admin' }],
    });
    // A session opened before the flag was set is held to it as well.
    const earlier = client(world, user.token);
    expect((await earlier.get('/api/v1/users')).status).toBe(200);
    await mustChange(user.id);
    const refused = await earlier.get('/api/v1/users');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'password_change_required' });
    expect(refused.body.detail).toContain('/api/v1/me/password');

    const signedIn = await signIn(user.email, DEFAULT_PASSWORD);
    expect(signedIn.body).toMatchObject({ status: 'signed_in', passwordChangeRequired: true });
    const api = client(world, signedIn.body.token);
    expect((await api.get('/api/v1/me')).body.passwordChangeRequired).toBe(true);
    expect((await api.patch('/api/v1/me', { locale: 'en' })).status).toBe(200);
    for (const url of ['/api/v1/tasks', '/api/v1/role-assignments', '/api/v1/auth/sessions', '/api/v1/notifications'])
      expect([url, (await api.get(url)).status]).toEqual([url, 403]);
    expect((await api.post('/api/v1/me/totp/setup')).status).toBe(403);

    const changed = await api.post('/api/v1/me/password', {
      currentPassword: DEFAULT_PASSWORD,
      newPassword: 'a brand new long password',
    });
    expect(changed.status).toBe(200);
    expect((await api.get('/api/v1/users')).status).toBe(200);
    // Changing it ended the other session, as always.
    expect((await earlier.get('/api/v1/me')).status).toBe(401);
    const event = await world.db
      .selectFrom('audit_events')
      .select('changes')
      .where('target_id', '=', user.id)
      .where('action', '=', 'user.password_changed')
      .executeTakeFirstOrThrow();
    expect(event.changes).toEqual({ by: 'self' });
  });

  it('still signs out while the change is pending', async () => {
    const user = await buildUser(world, { groupId: group.groupId, companyId: group.hq.id });
    await mustChange(user.id);
    const signedIn = await signIn(user.email, DEFAULT_PASSWORD);
    const api = client(world, signedIn.body.token);
    expect((await api.post('/api/v1/auth/sign-out')).status).toBe(200);
    expect((await api.get('/api/v1/me')).status).toBe(401);
  });
});
