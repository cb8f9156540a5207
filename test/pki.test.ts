// The PKI kept in the database: CA and seal keys sealed at rest, certificates for seals (the
// company as subject) and people, PKCS#12 imports, revocation on suspension, loss and
// resignation in the same transaction, the public CRLs (read by openssl) and the built-in TSA
// (asked by `openssl ts -query`, its reply accepted by `openssl ts -verify`).
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecret } from '../src/lib/secrets.js';
import { ConfigError, parseConfig } from '../src/server/config.js';
import { createIssuingCa, createRootCa, generateKey, issueSealCertificate } from '../src/signing/ca.js';
import { writePkcs12 } from '../src/signing/pkcs12.js';
import { createKeySigner } from '../src/signing/signer.js';
import { derToPem, parseCertificate } from '../src/signing/x509.js';
import { requireTool, run, tempDir } from './signing/support.js';
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

const PUBLIC_URL = 'https://sigil.example.test';
let world: World;
let group: GroupFixture;
let company: { id: string; path: string };
let keeper: Awaited<ReturnType<typeof buildUser>>;
let admin: Awaited<ReturnType<typeof buildUser>>;
let approver: Awaited<ReturnType<typeof buildUser>>;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  requireTool('openssl');
  tmp = tempDir('sigil-pki-');
  world = await createWorld({ SIGIL_PUBLIC_URL: PUBLIC_URL });
  group = await buildGroup(world, 'Huaxia Group');
  company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
  keeper = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Keeper',
  });
  admin = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Seal admin',
  });
  approver = await buildUser(world, {
    groupId: group.groupId,
    companyId: group.hq.id,
    roles: [{ role: 'seal_admin' }],
    name: 'HQ approver',
  });
  const flow = await client(world, approver.token).post('/api/v1/flows', {
    companyId: group.hq.id,
    purpose: 'lifecycle',
    name: 'Seal lifecycle',
    definition: { levels: [{ name: 'HQ', mode: 'any', approvers: [{ type: 'user', userId: approver.id }] }] },
  });
  expect(flow.status).toBe(201);
});
afterAll(async () => {
  await world?.close();
  tmp?.remove();
});

async function fetchDer(url: string) {
  const response = await world.app.inject({ method: 'GET', url });
  return { status: response.statusCode, type: String(response.headers['content-type']), body: response.rawPayload };
}

/** The group CA's CRL as the public endpoint serves it, printed by openssl and checked against the CA. */
async function crlText(): Promise<string> {
  const crl = await fetchDer(`/pki/groups/${group.groupId}/crl`);
  expect(crl.status).toBe(200);
  expect(crl.type).toBe('application/pkix-crl');
  const ca = await fetchDer(`/pki/groups/${group.groupId}/certificate`);
  const caFile = tmp.file('group-ca.pem', derToPem(ca.body));
  return run('openssl', [
    'crl',
    '-inform',
    'DER',
    '-in',
    tmp.file('group.crl', crl.body),
    '-noout',
    '-text',
    '-CAfile',
    caFile,
  ]).out;
}

const serialText = (hex: string) => (hex.length % 2 ? `0${hex}` : hex).toUpperCase();

async function lifecycle(sealId: string, action: string) {
  const applied = await client(world, admin.token).post(`/api/v1/seals/${sealId}/lifecycle-applications`, {
    action,
    reason: `${action} (test)`,
  });
  expect(applied.status, JSON.stringify(applied.body)).toBe(201);
  const task = (await client(world, approver.token).get('/api/v1/tasks?status=pending')).body.items.find(
    (t: { applicationId: string }) => t.applicationId === applied.body.id,
  );
  const approved = await client(world, approver.token).post(`/api/v1/tasks/${task.id}/approve`, {});
  expect(approved.body.status).toBe('approved');
}

describe('certificates kept in the database', () => {
  it("issues a seal certificate naming the company, chained to the deployment root, with the CRL's public address", async () => {
    const seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [keeper.id],
      name: '华夏贸易合同专用章',
    });
    const issued = await client(world, admin.token).post(`/api/v1/seals/${seal.id}/certificate`, {});
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    expect(issued.body).toMatchObject({
      purpose: 'seal',
      source: 'issued',
      keySpec: 'RSA-2048',
      keyStore: 'database',
      status: 'active',
      crlUrl: `${PUBLIC_URL}/pki/groups/${group.groupId}/crl`,
    });
    expect(issued.body.subject).toBe('CN=华夏贸易合同专用章, O=华夏贸易有限公司');
    expect(issued.body.chainPem).toHaveLength(2);

    const root = await fetchDer('/pki/root/certificate');
    expect(root.type).toBe('application/pkix-cert');
    const rootFile = tmp.file('root.pem', derToPem(root.body));
    const caFile = tmp.file('ca.pem', issued.body.chainPem[0]);
    const sealFile = tmp.file('seal.pem', issued.body.certificatePem);
    expect(run('openssl', ['verify', '-CAfile', rootFile, '-untrusted', caFile, sealFile]).out).toContain(
      'seal.pem: OK',
    );
    const text = run('openssl', ['x509', '-in', sealFile, '-noout', '-text']).out;
    expect(text).toContain(`URI:${PUBLIC_URL}/pki/groups/${group.groupId}/crl`);
    expect(text).toMatch(/Public-Key: \(2048 bit\)/);
    expect(run('openssl', ['x509', '-in', caFile, '-noout', '-text']).out).toContain(`URI:${PUBLIC_URL}/pki/root/crl`);

    // Asking again answers with the same certificate; the file card shows it.
    const again = await client(world, admin.token).post(`/api/v1/seals/${seal.id}/certificate`, {});
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(issued.body.id);
    const card = await client(world, admin.token).get(`/api/v1/seals/${seal.id}`);
    expect(card.body.seal.certificate).toMatchObject({
      id: issued.body.id,
      serialNumber: issued.body.serialNumber,
      status: 'active',
      source: 'issued',
    });
    expect(card.body.history.map((h: { action: string }) => h.action)).toContain('pki.certificate_issued');
  });

  it('keeps every private key sealed at rest: the rows hold AES-256-GCM ciphertext, not PKCS#8', async () => {
    const rows = await world.db
      .selectFrom('certificates')
      .select(['id', 'purpose', 'sealed_key', 'der', 'key_store'])
      .execute();
    expect(rows.map((r) => r.purpose).sort()).toEqual(expect.arrayContaining(['root_ca', 'issuing_ca', 'seal']));
    for (const row of rows) {
      expect(row.key_store).toBe('database');
      const sealed = row.sealed_key!;
      expect(sealed).toMatch(/^v1\./);
      const raw = Buffer.from(sealed.slice(3), 'base64');
      // Neither the stored bytes nor any part of them read as a private key.
      expect(() => createPrivateKey({ key: raw, format: 'der', type: 'pkcs8' })).toThrow();
      expect(() => createPrivateKey({ key: raw.subarray(28), format: 'der', type: 'pkcs8' })).toThrow();
      expect(raw.includes(Buffer.from('-----BEGIN'))).toBe(false);
      // With the master key and this row's id (the sealing context) it opens to the certificate's key.
      const pkcs8 = openSecret(world.ctx.masterKey, sealed, `sigil-key:${row.id}`);
      const publicKey = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({
        format: 'der',
        type: 'spki',
      });
      expect(publicKey.equals(parseCertificate(Buffer.from(row.der)).spki)).toBe(true);
      // Moved to another row, it does not open.
      expect(() =>
        openSecret(world.ctx.masterKey, sealed, `sigil-key:${rows.find((r) => r.id !== row.id)!.id}`),
      ).toThrow();
    }
  });

  it('issues RSA-3072 or ECDSA P-256 keys on request, superseding the current certificate', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [keeper.id] });
    const first = await client(world, admin.token).post(`/api/v1/seals/${seal.id}/certificate`, {
      keySpec: 'RSA-3072',
    });
    expect(first.body.keySpec).toBe('RSA-3072');
    expect(
      run('openssl', ['x509', '-in', tmp.file('rsa3072.pem', first.body.certificatePem), '-noout', '-text']).out,
    ).toMatch(/Public-Key: \(3072 bit\)/);
    const ec = await client(world, admin.token).post(`/api/v1/seals/${seal.id}/certificate`, {
      keySpec: 'ECDSA-P256',
      replace: true,
    });
    expect(ec.status).toBe(201);
    expect(
      run('openssl', ['x509', '-in', tmp.file('ec.pem', ec.body.certificatePem), '-noout', '-text']).out,
    ).toContain('prime256v1');
    const text = await crlText();
    expect(text).toContain(serialText(first.body.serialNumber));
    expect(text).toContain('Superseded');
  });

  it('refuses a certificate for a physical seal, and lets only seal administrators over the seal ask', async () => {
    const physical = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [keeper.id],
      kind: 'physical',
    });
    const refused = await client(world, admin.token).post(`/api/v1/seals/${physical.id}/certificate`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('seal_not_electronic');
    const employee = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'employee' }],
    });
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [keeper.id] });
    expect((await client(world, employee.token).post(`/api/v1/seals/${seal.id}/certificate`, {})).status).toBe(403);
    expect((await client(world).post(`/api/v1/seals/${seal.id}/certificate`, {})).status).toBe(401);
    const none = await client(world, admin.token).get(`/api/v1/seals/${seal.id}/certificate`);
    expect(none.status).toBe(404);
    expect(none.body.code).toBe('certificate_not_found');
  });
});

describe('revocation and the CRL', () => {
  it("lists a seal's serial (on hold) once its suspension is approved, lifts it on resumption, and revokes it for good when it is lost", async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [keeper.id] });
    const certificate = (await client(world, admin.token).post(`/api/v1/seals/${seal.id}/certificate`, {})).body;
    const serial = serialText(certificate.serialNumber);
    const before = await crlText();
    expect(before).toContain('verify OK');
    expect(before).not.toContain(serial);

    await lifecycle(seal.id, 'suspend');
    const suspended = await crlText();
    expect(suspended).toContain('verify OK');
    expect(suspended).toContain(`Serial Number: ${serial}`);
    expect(suspended).toContain('Certificate Hold');
    expect((await client(world, admin.token).get(`/api/v1/seals/${seal.id}/certificate`)).body).toMatchObject({
      status: 'revoked',
      revocationReason: 'certificateHold',
    });

    await lifecycle(seal.id, 'resume');
    expect(await crlText()).not.toContain(serial);
    expect((await client(world, admin.token).get(`/api/v1/seals/${seal.id}/certificate`)).body.status).toBe('active');

    await lifecycle(seal.id, 'report_loss');
    const lost = await crlText();
    expect(lost).toContain(`Serial Number: ${serial}`);
    expect(lost).toContain('Key Compromise');
    const history = (await client(world, admin.token).get(`/api/v1/seals/${seal.id}`)).body.history.map(
      (h: { action: string }) => h.action,
    );
    expect(history).toEqual(expect.arrayContaining(['pki.certificate_revoked', 'pki.certificate_reinstated']));
  });

  it("lists a person's certificate once they resign", async () => {
    const person = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'employee' }],
      name: 'Li Si',
    });
    const mine = await client(world, person.token).post('/api/v1/me/certificate', {});
    expect(mine.status).toBe(201);
    expect(mine.body).toMatchObject({ purpose: 'person', status: 'active' });
    expect(mine.body.subject).toContain('CN=Li Si');
    const serial = serialText(mine.body.serialNumber);
    expect(await crlText()).not.toContain(serial);
    const resigned = await client(world, group.admin.token).post(`/api/v1/users/${person.id}/status`, {
      status: 'resigned',
      reason: 'left the company',
    });
    expect(resigned.status, JSON.stringify(resigned.body)).toBe(200);
    const text = await crlText();
    expect(text).toContain(`Serial Number: ${serial}`);
    expect(text).toContain('Affiliation Changed');
  });

  it('serves CRLs with increasing numbers, and 404 for a group without a CA', async () => {
    const first = await crlText();
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [keeper.id] });
    await client(world, admin.token).post(`/api/v1/seals/${seal.id}/certificate`, {});
    await lifecycle(seal.id, 'destroy');
    const second = await crlText();
    const number = (text: string) => Number(/X509v3 CRL Number:\s*\n\s*(\d+)/.exec(text)?.[1]);
    expect(number(second)).toBeGreaterThan(number(first));
    expect(second).toContain('Cessation Of Operation');
    const rootCrl = await fetchDer('/pki/root/crl');
    expect(
      run('openssl', ['crl', '-inform', 'DER', '-in', tmp.file('root.crl', rootCrl.body), '-noout', '-text']).out,
    ).toContain('Certificate Revocation List');
    const other = await buildGroup(world);
    const missing = await fetchDer(`/pki/groups/${other.groupId}/crl`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString()).code).toBe('certificate_not_found');
  });
});

describe('PKCS#12 import', () => {
  async function outsideP12(options: { password: string; notAfter?: Date; notBefore?: Date }) {
    const rootKey = createKeySigner(await generateKey('ECDSA-P256'));
    const root = await createRootCa({
      signer: rootKey,
      subject: { commonName: 'Outside Root CA', organization: 'Outside CA Ltd' },
    });
    const caKey = createKeySigner(await generateKey('ECDSA-P256'));
    const ca = await createIssuingCa({
      issuer: { signer: rootKey, certificate: root },
      subject: { commonName: 'Outside Issuing CA' },
      publicKey: caKey.publicKey,
    });
    const key = await generateKey('RSA-2048');
    const certificate = await issueSealCertificate({
      issuer: { signer: caKey, certificate: ca },
      subject: { commonName: 'Imported Seal', organization: '华夏贸易有限公司' },
      publicKey: createKeySigner(key).publicKey,
      notBefore: options.notBefore,
      notAfter: options.notAfter,
    });
    return { p12: writePkcs12({ key, certificate, chain: [ca, root], password: options.password }), certificate };
  }

  it('imports a seal certificate and key from PKCS#12, superseding the issued one', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [keeper.id] });
    const issued = (await client(world, admin.token).post(`/api/v1/seals/${seal.id}/certificate`, {})).body;
    const { p12, certificate } = await outsideP12({ password: 'outside secret' });
    const imported = await client(world, admin.token).post(`/api/v1/seals/${seal.id}/certificate/import`, {
      pkcs12Base64: p12.toString('base64'),
      password: 'outside secret',
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body).toMatchObject({
      source: 'imported',
      keyStore: 'database',
      subject: 'CN=Imported Seal, O=华夏贸易有限公司',
      issuer: 'CN=Outside Issuing CA',
      keySpec: 'RSA-2048',
    });
    expect(imported.body.chainPem).toHaveLength(2);
    expect(imported.body.certificatePem).toBe(derToPem(certificate));
    const row = await world.db
      .selectFrom('certificates')
      .select(['sealed_key'])
      .where('id', '=', imported.body.id)
      .executeTakeFirstOrThrow();
    expect(row.sealed_key).toMatch(/^v1\./);
    expect(await crlText()).toContain(serialText(issued.serialNumber));
  });

  it('names a wrong password, a file that is no PKCS#12, an expired certificate and an oversized file', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: company.id, custodianIds: [keeper.id] });
    const { p12 } = await outsideP12({ password: 'right' });
    const url = `/api/v1/seals/${seal.id}/certificate/import`;
    const wrong = await client(world, admin.token).post(url, {
      pkcs12Base64: p12.toString('base64'),
      password: 'wrong',
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toMatchObject({
      code: 'key_password_invalid',
      detail: 'The password of the PKCS#12 file is wrong.',
    });
    const garbage = await client(world, admin.token).post(url, {
      pkcs12Base64: Buffer.from('not a pkcs12 file').toString('base64'),
      password: 'x',
    });
    expect(garbage.status).toBe(422);
    expect(garbage.body.code).toBe('signing_key_invalid');
    const expired = await outsideP12({
      password: 'p',
      notBefore: new Date(Date.now() - 3 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const old = await client(world, admin.token).post(url, {
      pkcs12Base64: expired.p12.toString('base64'),
      password: 'p',
    });
    expect(old.status).toBe(422);
    expect(old.body.code).toBe('certificate_expired');
    const huge = await client(world, admin.token).post(url, {
      pkcs12Base64: Buffer.alloc(200 * 1024).toString('base64'),
      password: 'x',
    });
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe('payload_too_large');
    expect((await client(world, admin.token).get(`/api/v1/seals/${seal.id}/certificate`)).status).toBe(404);
  });
});

describe('built-in time-stamping authority', () => {
  it('answers a request made by openssl ts -query; openssl ts -verify accepts the reply against the root', async () => {
    const data = tmp.file('contract.txt', '华夏贸易 sales contract 2026-001\n');
    const query = run('openssl', ['ts', '-query', '-data', data, '-sha256', '-cert', '-out', tmp.file('request.tsq')]);
    expect(query.status).toBe(0);
    const request = (await import('node:fs')).readFileSync(tmp.file('request.tsq'));
    const response = await world.app.inject({
      method: 'POST',
      url: '/tsa',
      headers: { 'content-type': 'application/timestamp-query' },
      payload: request,
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/timestamp-reply');
    const reply = tmp.file('reply.tsr', response.rawPayload);
    expect(run('openssl', ['ts', '-reply', '-in', reply, '-text']).out).toContain('Status: Granted.');
    const root = tmp.file('tsa-root.pem', derToPem((await fetchDer('/pki/root/certificate')).body));
    expect(run('openssl', ['ts', '-verify', '-data', data, '-in', reply, '-CAfile', root]).out).toContain(
      'Verification: OK',
    );
    const tsaCert = tmp.file('tsa.pem', derToPem((await fetchDer('/pki/tsa/certificate')).body));
    expect(run('openssl', ['x509', '-in', tsaCert, '-noout', '-text']).out).toMatch(
      /Extended Key Usage: critical\s+Time Stamping/,
    );
  });

  it('answers garbage with a rejection, refuses another content type and an oversized body', async () => {
    const garbage = await world.app.inject({
      method: 'POST',
      url: '/tsa',
      headers: { 'content-type': 'application/timestamp-query' },
      payload: Buffer.from('hello'),
    });
    expect(garbage.statusCode).toBe(200);
    expect(run('openssl', ['ts', '-reply', '-in', tmp.file('bad.tsr', garbage.rawPayload), '-text']).out).toContain(
      'Status: Rejected',
    );
    const json = await world.app.inject({
      method: 'POST',
      url: '/tsa',
      headers: { 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(json.statusCode).toBe(415);
    expect(json.json()).toMatchObject({
      code: 'unsupported_media_type',
      detail: 'Send an RFC 3161 TimeStampReq as application/timestamp-query.',
    });
    const big = await world.app.inject({
      method: 'POST',
      url: '/tsa',
      headers: { 'content-type': 'application/timestamp-query' },
      payload: Buffer.alloc(100 * 1024),
    });
    expect(big.statusCode).toBe(413);
    expect(big.headers['content-type']).toContain('application/problem+json');
  });
});

describe('signer configuration', () => {
  it('validates SIGIL_SIGNER and the PKCS#11 and TSA settings like every other setting', () => {
    const problems = (env: Record<string, string>) => {
      try {
        parseConfig(env);
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ SIGIL_SIGNER: 'pkcs11' })).toEqual([
      'SIGIL_PKCS11_MODULE: required when SIGIL_SIGNER=pkcs11',
      'SIGIL_PKCS11_TOKEN_LABEL: required when SIGIL_SIGNER=pkcs11',
      'SIGIL_PKCS11_PIN: required when SIGIL_SIGNER=pkcs11',
    ]);
    expect(problems({ SIGIL_PKCS11_PIN: '123456' })).toEqual([
      'SIGIL_PKCS11_PIN: set, but SIGIL_SIGNER is software; set SIGIL_SIGNER=pkcs11 to keep keys in the token',
    ]);
    expect(problems({ SIGIL_SIGNER: 'hsm' })[0]).toBe('SIGIL_SIGNER: must be software or pkcs11');
    expect(
      problems({
        SIGIL_SIGNER: 'pkcs11',
        SIGIL_PKCS11_MODULE: 'libsofthsm2.so',
        SIGIL_PKCS11_TOKEN_LABEL: 't',
        SIGIL_PKCS11_PIN: '1234',
      })[0],
    ).toMatch(/^SIGIL_PKCS11_MODULE: must be the absolute path/);
    expect(problems({ SIGIL_TSA_URLS: 'https://tsa.example, ftp://x' })[0]).toMatch(/^SIGIL_TSA_URLS/);
    expect(problems({ SIGIL_KEY_SPEC: 'RSA-1024' })[0]).toBe(
      'SIGIL_KEY_SPEC: must be one of RSA-2048, RSA-3072, ECDSA-P256',
    );
    const config = parseConfig({
      SIGIL_SIGNER: 'pkcs11',
      SIGIL_PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so',
      SIGIL_PKCS11_TOKEN_LABEL: 'sigil',
      SIGIL_PKCS11_PIN: '1234',
      SIGIL_TSA_URLS: 'https://a.example/tsa, http://b.example/tsa',
    });
    expect(config.pki).toMatchObject({
      signer: 'pkcs11',
      pkcs11: { library: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'sigil', pin: '1234' },
      tsaUrls: ['https://a.example/tsa', 'http://b.example/tsa'],
      keySpec: 'RSA-2048',
      caKeySpec: 'RSA-3072',
    });
  });
});
