// SIGIL_SIGNER=pkcs11 against SoftHSM2: the deployment root, the group CA, the TSA and seal keys
// are generated inside the token (sensitive, not extractable); the database holds only where they
// are. Signing through the API, CRLs and time-stamps all sign with token keys.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derToPem, parseCertificate } from '../src/signing/x509.js';
import { buildPdf } from './signing/pdf-fixtures.js';
import { nssDatabase, pdfsig, requireTool, run, SOFTHSM_LIBRARY, softHsmTokens, tempDir } from './signing/support.js';
import { buildCompany, buildGroup, buildSeal, buildUser, client, createWorld, type World } from './support/world.js';

const LIBRARY = SOFTHSM_LIBRARY;
const PIN = '246810';
let tmp: ReturnType<typeof tempDir>;
let world: World;

beforeAll(async () => {
  requireTool('pdfsig');
  tmp = tempDir('sigil-pki-hsm-');
  softHsmTokens(tmp, ['sigil-ca'], PIN);
  // ECDSA CA keys keep the test quick; the seal key is the default RSA-2048.
  world = await createWorld({
    SIGIL_SIGNER: 'pkcs11',
    SIGIL_PKCS11_MODULE: LIBRARY,
    SIGIL_PKCS11_TOKEN_LABEL: 'sigil-ca',
    SIGIL_PKCS11_PIN: PIN,
    SIGIL_CA_KEY_SPEC: 'ECDSA-P256',
    SIGIL_PUBLIC_URL: 'https://sigil.example.test',
  });
});
afterAll(async () => {
  await world?.close();
  tmp?.remove();
});

describe('keys in a PKCS#11 token (SoftHSM2)', () => {
  it('signs a document through the API with token keys only: pdfsig and the verifier accept it', async () => {
    const group = await buildGroup(world);
    const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'HSM Trading Ltd' });
    const keeper = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'seal_admin' }],
    });
    const user = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'employee' }],
    });
    const seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [keeper.id],
      name: 'HSM Contract Seal',
    });
    expect(
      (
        await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
          grantee: { type: 'user', userId: user.id },
          categories: ['sales'],
        })
      ).status,
    ).toBe(201);
    const uploaded = await world.app.inject({
      method: 'POST',
      url: '/api/v1/documents/uploads',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
      payload: buildPdf({ pages: 2 }),
    });
    const signed = await client(world, user.token).post('/api/v1/signatures', {
      documentSha256: uploaded.json().sha256,
      sealId: seal.id,
      category: 'sales',
      level: 'B-LT',
    });
    expect(signed.status, JSON.stringify(signed.body)).toBe(201);

    const rows = await world.db
      .selectFrom('certificates')
      .select(['id', 'purpose', 'key_store', 'sealed_key', 'token_label', 'token_key_id'])
      .execute();
    expect(rows.map((r) => r.purpose).sort()).toEqual(['issuing_ca', 'root_ca', 'seal', 'tsa']);
    for (const row of rows)
      expect(row).toMatchObject({
        key_store: 'pkcs11',
        sealed_key: null,
        token_label: 'sigil-ca',
        token_key_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      });

    // The token's own files: one private key per certificate, sensitive and never extractable.
    const tokenDir = join(tmp.dir, 'tokens', readdirSync(join(tmp.dir, 'tokens'))[0]!);
    const dumps = readdirSync(tokenDir)
      .filter((f) => f.endsWith('.object'))
      .map((f) => run('softhsm2-dump-file', [join(tokenDir, f)], { allowFailure: true }).out);
    const privateKeys = dumps.filter((d) => d.includes('CKO_PRIVATE_KEY'));
    expect(privateKeys).toHaveLength(4);
    for (const dump of privateKeys) {
      expect(dump).toMatch(/ CKA_SENSITIVE\n[^\n]*boolean attribute\n[0-9a-f]{2}\s+TRUE/);
      expect(dump).toMatch(/ CKA_EXTRACTABLE\n[^\n]*boolean attribute\n[0-9a-f]{2}\s+FALSE/);
    }

    const response = await world.app.inject({
      method: 'GET',
      url: `/api/v1/signatures/${signed.body.id}/document`,
      headers: { authorization: `Bearer ${user.token}` },
    });
    const root = (await world.app.inject({ method: 'GET', url: '/pki/root/certificate' })).rawPayload;
    const nss = nssDatabase(tmp.dir, root);
    const seen = pdfsig(tmp.file('hsm-signed.pdf', response.rawPayload), nss);
    expect(seen[0]).toMatchObject({ signatureValid: true, certificateTrusted: true });
    const report = await world.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
      payload: response.rawPayload,
    });
    expect(report.json().signatures[0]).toMatchObject({
      valid: true,
      chainTrusted: true,
      timestampTrusted: true,
      revocation: 'good',
      level: 'B-LT',
    });

    // The group CRL, signed by the token's CA key, checks out with openssl.
    const crl = await world.app.inject({ method: 'GET', url: `/pki/groups/${group.groupId}/crl` });
    const ca = await world.app.inject({ method: 'GET', url: `/pki/groups/${group.groupId}/certificate` });
    expect(parseCertificate(ca.rawPayload).issuer).toBe(parseCertificate(root).subject);
    const text = run('openssl', [
      'crl',
      '-inform',
      'DER',
      '-in',
      tmp.file('hsm.crl', crl.rawPayload),
      '-noout',
      '-text',
      '-CAfile',
      tmp.file('hsm-ca.pem', derToPem(ca.rawPayload)),
    ]).out;
    expect(text).toContain('verify OK');

    // And the TSA's token key answers openssl.
    const data = tmp.file('data.txt', 'time-stamped by the HSM');
    run('openssl', ['ts', '-query', '-data', data, '-sha256', '-cert', '-out', tmp.file('q.tsq')]);
    const reply = await world.app.inject({
      method: 'POST',
      url: '/tsa',
      headers: { 'content-type': 'application/timestamp-query' },
      payload: readFileSync(tmp.file('q.tsq')),
    });
    expect(
      run('openssl', [
        'ts',
        '-verify',
        '-data',
        data,
        '-in',
        tmp.file('r.tsr', reply.rawPayload),
        '-CAfile',
        tmp.file('hsm-root.pem', derToPem(root)),
      ]).out,
    ).toContain('Verification: OK');
  });

  it('keeps an imported PKCS#12 key sealed in the database even with SIGIL_SIGNER=pkcs11', async () => {
    const { writePkcs12 } = await import('../src/signing/pkcs12.js');
    const { createRootCa, generateKey, issueSealCertificate } = await import('../src/signing/ca.js');
    const { createKeySigner } = await import('../src/signing/signer.js');
    const caKey = createKeySigner(await generateKey('ECDSA-P256'));
    const outsideRoot = await createRootCa({ signer: caKey, subject: { commonName: 'Outside CA' } });
    const key = await generateKey('ECDSA-P256');
    const certificate = await issueSealCertificate({
      issuer: { signer: caKey, certificate: outsideRoot },
      subject: { commonName: 'Imported', organization: 'HSM Trading Ltd' },
      publicKey: createKeySigner(key).publicKey,
    });
    const group = await buildGroup(world);
    const keeper = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'seal_admin' }],
    });
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: group.hq.id, custodianIds: [keeper.id] });
    const imported = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/certificate/import`, {
      pkcs12Base64: writePkcs12({ key, certificate, chain: [outsideRoot], password: 'pw' }).toString('base64'),
      password: 'pw',
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body).toMatchObject({ keyStore: 'database', keySpec: 'ECDSA-P256', source: 'imported' });
  });
});
