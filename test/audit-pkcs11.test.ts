// The audit log key under SIGIL_SIGNER=pkcs11 (SoftHSM2): generated in the token like the CA keys,
// never in the database; the checkpoints it signs verify with openssl like any other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run, SOFTHSM_LIBRARY, softHsmTokens, tempDir } from './signing/support.js';
import { buildGroup, buildUser, client, createWorld, type World } from './support/world.js';

const LIBRARY = SOFTHSM_LIBRARY;
const PIN = '246810';
let tmp: ReturnType<typeof tempDir>;
let world: World;

beforeAll(async () => {
  requireTool('openssl');
  tmp = tempDir('sigil-audit-hsm-');
  softHsmTokens(tmp, ['sigil-log'], PIN);
  world = await createWorld({
    SIGIL_SIGNER: 'pkcs11',
    SIGIL_PKCS11_MODULE: LIBRARY,
    SIGIL_PKCS11_TOKEN_LABEL: 'sigil-log',
    SIGIL_PKCS11_PIN: PIN,
  });
});
afterAll(async () => {
  await world?.close();
  tmp?.remove();
});

describe('the audit log key in a PKCS#11 token (SoftHSM2)', () => {
  it('signs checkpoints with a token key that openssl verifies, and keeps no key material in the database', async () => {
    const group = await buildGroup(world);
    const auditor = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'security_auditor' }],
    });
    const report = (await client(world, auditor.token).get('/api/v1/audit-events/verify')).body;
    expect(report).toMatchObject({ intact: true, signing: { outcome: 'signed' } });
    const key = await world.db.selectFrom('audit_log_keys').selectAll().executeTakeFirstOrThrow();
    expect(key).toMatchObject({ key_store: 'pkcs11', token_label: 'sigil-log', sealed_key: null });

    const note: string = (await client(world).get(`/api/v1/audit/checkpoints/latest?groupId=${group.groupId}`)).body
      .note;
    const pem = tmp.file('log.pem', (await client(world).get('/api/v1/audit/log-key')).body.publicKey);
    const body = tmp.file('body.txt', note.slice(0, note.indexOf('\n\n') + 1));
    const signature = tmp.file('sig.der', Buffer.from(note.trim().split(' ').at(-1)!, 'base64').subarray(4));
    const verified = run('openssl', ['dgst', '-sha256', '-verify', pem, '-signature', signature, body], {
      allowFailure: true,
    });
    expect(verified.out).toContain('Verified OK');
  });
});
