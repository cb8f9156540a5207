// SM2 in the built-in CA and in the RFC 5280 path validator. Sigil's SM2 chains are checked by
// `openssl verify -vfyopt distid:1234567812345678`; the attack chains are made by openssl and
// both verdicts are compared, as for RSA in path-validation.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCrl,
  createIssuingCa,
  createRootCa,
  generateKey,
  issuePersonCertificate,
  issueSealCertificate,
} from '../../src/signing/ca.js';
import { validatePath, type PathValidationResult } from '../../src/signing/path-validation.js';
import { createKeySigner, type KeySigner } from '../../src/signing/signer.js';
import { derToPem, parseCertificate, parseCrl } from '../../src/signing/x509.js';
import { DISTID, OpensslSm2Pki, SM2_CA_EXT, SM2_SIGNER_EXT, stamp, type Sm2Cert } from './sm2-pki.js';
import { requireTool, run, tempDir } from './support.js';

let tmp: ReturnType<typeof tempDir>;
let pki: OpensslSm2Pki;
let root: Sm2Cert;
let ca: Sm2Cert;

const YEAR = 365 * 86_400_000;

beforeAll(() => {
  requireTool('openssl');
  tmp = tempDir('sigil-sm2-ca-');
  pki = new OpensslSm2Pki(tmp.dir);
  root = pki.root('root', '/C=CN/O=Sigil SM2 Test Root/CN=Sigil SM2 Root CA');
  ca = pki.issue('ca', { issuer: root, subject: '/C=CN/O=Acme Group/CN=Acme Group SM2 CA', extensions: SM2_CA_EXT });
});
afterAll(() => tmp?.remove());

/** `openssl pkeyutl -verify` of an SM2 signature by the key of `certificate`, with the standard ID. */
function opensslSm2Verifies(certificate: Buffer, data: Buffer, signature: Buffer): boolean {
  const name = `pk-${Math.random().toString(36).slice(2)}`;
  const pub = tmp.file(`${name}.pub.pem`);
  run('openssl', ['x509', '-in', tmp.file(`${name}.crt.pem`, derToPem(certificate)), '-pubkey', '-noout', '-out', pub]);
  const result = run(
    'openssl',
    [
      'pkeyutl',
      '-verify',
      '-pubin',
      '-inkey',
      pub,
      '-rawin',
      '-digest',
      'sm3',
      '-pkeyopt',
      DISTID,
      '-in',
      tmp.file(`${name}.data`, data),
      '-sigfile',
      tmp.file(`${name}.sig`, signature),
    ],
    { allowFailure: true },
  );
  return result.status === 0 && /Signature Verified Successfully/.test(result.out);
}

function validate(leaf: Buffer, pool: Buffer[], anchors: Buffer[], crls: Buffer[] = []): PathValidationResult {
  return validatePath({
    leaf: parseCertificate(leaf),
    pool: pool.map((c) => parseCertificate(c)),
    anchors: anchors.map((c) => parseCertificate(c)),
    at: new Date(),
    purpose: 'document-signing',
    crls: crls.map((c) => parseCrl(c)),
  });
}

describe('an SM2 CA built by Sigil', () => {
  let rootSigner: KeySigner;
  let caSigner: KeySigner;
  let rootDer: Buffer;
  let caDer: Buffer;
  let sealDer: Buffer;
  let personDer: Buffer;

  beforeAll(async () => {
    rootSigner = createKeySigner(await generateKey('SM2'));
    caSigner = createKeySigner(await generateKey('SM2'));
    rootDer = await createRootCa({ signer: rootSigner, subject: { commonName: 'Sigil SM2 Root', country: 'CN' } });
    caDer = await createIssuingCa({
      issuer: { signer: rootSigner, certificate: rootDer },
      subject: { commonName: '某集团 SM2 签发 CA', organization: '某集团' },
      publicKey: caSigner.publicKey,
    });
    const sealKey = createKeySigner(await generateKey('SM2'));
    sealDer = await issueSealCertificate({
      issuer: { signer: caSigner, certificate: caDer },
      subject: {
        commonName: '某某有限公司合同专用章',
        organization: '某某有限公司',
        organizationIdentifier: '91110000MA00000000',
      },
      publicKey: sealKey.publicKey,
    });
    const personKey = createKeySigner(await generateKey('SM2'));
    personDer = await issuePersonCertificate({
      issuer: { signer: caSigner, certificate: caDer },
      subject: { commonName: '张三', organization: '某某有限公司' },
      publicKey: personKey.publicKey,
    });
  });

  it('signs its certificates SM2-with-SM3, and openssl verifies the chains with the standard ID', () => {
    const files = {
      root: tmp.file('sigil-root.pem', derToPem(rootDer)),
      ca: tmp.file('sigil-ca.pem', derToPem(caDer)),
      seal: tmp.file('sigil-seal.pem', derToPem(sealDer)),
      person: tmp.file('sigil-person.pem', derToPem(personDer)),
    };
    const text = run('openssl', ['x509', '-in', files.seal, '-noout', '-text']).out;
    expect(text).toMatch(/Signature Algorithm: SM2-with-SM3/);
    expect(text).toMatch(/ASN1 OID: SM2/);
    const rootCert = { name: 'sigil-root', der: rootDer, certFile: files.root, keyFile: '' };
    expect(pki.verify(rootCert, [files.ca, files.seal])).toMatchObject({ ok: true });
    expect(pki.verify(rootCert, [files.ca, files.person])).toMatchObject({ ok: true });
    // Without the ID openssl checks the signatures against an empty one, and refuses them.
    const noId = run('openssl', ['verify', '-CAfile', files.root, files.ca], { allowFailure: true });
    expect(noId.status).not.toBe(0);
    expect(noId.out).toMatch(/certificate signature failure/);

    for (const leaf of [sealDer, personDer]) {
      const result = validate(leaf, [caDer], [rootDer]);
      expect(result.problems).toEqual([]);
      expect(result.valid).toBe(true);
      expect(result.path).toHaveLength(3);
    }
  });

  it('revokes by an SM2-signed CRL that both Sigil and openssl accept', async () => {
    const seal = parseCertificate(sealDer);
    const crl = await createCrl({
      issuer: { signer: caSigner, certificate: caDer },
      revoked: [{ serial: seal.serial, date: new Date(Date.now() - 60_000), reason: 'keyCompromise' }],
      crlNumber: 1,
    });
    // The root's (empty) CRL speaks for the issuing CA, so each path's revocation status is known.
    const rootCrl = await createCrl({
      issuer: { signer: rootSigner, certificate: rootDer },
      revoked: [],
      crlNumber: 1,
    });
    const result = validate(sealDer, [caDer], [rootDer], [crl, rootCrl]);
    expect(result.revocation).toBe('revoked');
    expect(result.valid).toBe(false);
    expect(result.problems.join('\n')).toMatch(/was revoked on .*keyCompromise|was revoked on/);
    // The person's certificate, not on the CRL, stays good under the same CRL.
    expect(validate(personDer, [caDer], [rootDer], [crl, rootCrl])).toMatchObject({ valid: true, revocation: 'good' });

    // OpenSSL 3.0 checks CRL signatures with an empty SM2 ID only ("CRL signature failure" even
    // with -vfyopt), so the CRL's signature is checked by `openssl pkeyutl` over its TBSCertList,
    // and its entry read by `openssl crl`.
    const crlFile = tmp.file('sigil-ca.crl.der', crl);
    const listed = run('openssl', ['crl', '-inform', 'DER', '-in', crlFile, '-noout', '-text']).out;
    expect(listed).toMatch(/Signature Algorithm: SM2-with-SM3/);
    expect(listed.replace(/:/g, '').toLowerCase()).toContain(seal.serial.toString(16));
    expect(listed).toMatch(/Key Compromise/);
    const parsed = parseCrl(crl);
    expect(opensslSm2Verifies(caDer, parsed.tbs, parsed.signature)).toBe(true);
    const altered = Buffer.from(parsed.tbs);
    altered[altered.length - 1]! ^= 0x01;
    expect(opensslSm2Verifies(caDer, altered, parsed.signature)).toBe(false);
  });

  it('does not take a CRL whose SM2 signature was altered', async () => {
    const seal = parseCertificate(sealDer);
    const crl = await createCrl({
      issuer: { signer: caSigner, certificate: caDer },
      revoked: [{ serial: seal.serial, date: new Date(Date.now() - 60_000) }],
      crlNumber: 2,
    });
    const forged = Buffer.from(crl);
    forged[forged.length - 5]! ^= 0x01; // inside the signature's s
    const result = validate(sealDer, [caDer], [rootDer], [forged]);
    expect(result.revocation).not.toBe('revoked');
    expect(result.revocationNotes.join('\n')).toMatch(/it is not signed by the key of "CN=某集团 SM2 签发 CA/);
  });
});

describe('SM2 attack chains made by openssl: Sigil and openssl verify agree', () => {
  it('accepts a good SM2 chain, as openssl does', () => {
    const leaf = pki.issue('good', {
      issuer: ca,
      subject: '/C=CN/O=Acme Ltd/CN=Acme 公章',
      extensions: SM2_SIGNER_EXT,
    });
    expect(pki.verify(root, [ca, leaf]).ok).toBe(true);
    const result = validate(leaf.der, [ca.der], [root.der]);
    expect(result.problems).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('refuses a seal certificate issued by an end-entity certificate (CA:FALSE)', () => {
    const employee = pki.issue('employee', {
      issuer: ca,
      subject: '/C=CN/O=Acme Ltd/CN=Zhang San',
      extensions: SM2_SIGNER_EXT,
    });
    const forged = pki.issue('forged-by-employee', {
      issuer: employee,
      subject: '/C=CN/O=Acme Ltd/CN=Acme 公章',
      extensions: SM2_SIGNER_EXT,
    });
    const openssl = pki.verify(root, [ca, employee, forged]);
    expect(openssl.ok).toBe(false);
    expect(openssl.out).toMatch(/invalid CA certificate/);
    const result = validate(forged.der, [employee.der, ca.der], [root.der]);
    expect(result.valid).toBe(false);
    expect(result.problems.join('\n')).toMatch(/not a CA \(basicConstraints CA:FALSE\)/);
  });

  it('refuses a certificate signed by another key under the CA’s name', () => {
    // A second "Acme Group SM2 CA" with its own key, under the same root: its certificates carry the
    // real CA's name as issuer, but the real CA's key never signed them.
    const impostor = pki.issue('impostor-ca', {
      issuer: root,
      subject: '/C=CN/O=Acme Group/CN=Acme Group SM2 CA',
      extensions: SM2_CA_EXT,
    });
    const leaf = pki.issue('by-impostor', {
      issuer: impostor,
      subject: '/O=Acme Ltd/CN=Seal',
      extensions: SM2_SIGNER_EXT,
      withoutAuthorityKeyId: true,
    });
    const openssl = pki.verify(root, [ca, leaf]);
    expect(openssl.ok).toBe(false);
    // openssl names no issuer for it: the one certificate with the right name has the wrong key.
    expect(openssl.out).toMatch(/certificate signature failure|unable to get local issuer certificate/);
    const result = validate(leaf.der, [ca.der], [root.der]);
    expect(result.valid).toBe(false);
    expect(result.problems.join('\n')).toMatch(/its signature does not verify with the key of/);
  });

  it('refuses a certificate signed with an empty SM2 ID, as openssl with the standard ID does', () => {
    const leaf = pki.issue('empty-id', {
      issuer: ca,
      subject: '/O=Acme Ltd/CN=Seal signed without an ID',
      extensions: SM2_SIGNER_EXT,
      distid: null,
    });
    const openssl = pki.verify(root, [ca, leaf]);
    expect(openssl.ok).toBe(false);
    expect(openssl.out).toMatch(/certificate signature failure/);
    const result = validate(leaf.der, [ca.der], [root.der]);
    expect(result.valid).toBe(false);
    expect(result.problems.join('\n')).toMatch(/its signature does not verify/);
  });

  it('refuses an expired SM2 intermediate', () => {
    const expired = pki.issue('expired-ca', {
      issuer: root,
      subject: '/O=Acme Group/CN=Expired SM2 CA',
      extensions: SM2_CA_EXT,
      startDate: stamp(Date.now() - 3 * YEAR),
      endDate: stamp(Date.now() - YEAR),
    });
    const leaf = pki.issue('under-expired', {
      issuer: expired,
      subject: '/O=Acme Ltd/CN=Seal',
      extensions: SM2_SIGNER_EXT,
      startDate: stamp(Date.now() - 2 * YEAR),
      endDate: stamp(Date.now() + YEAR),
    });
    const openssl = pki.verify(root, [expired, leaf]);
    expect(openssl.ok).toBe(false);
    expect(openssl.out).toMatch(/certificate has expired/);
    const result = validate(leaf.der, [expired.der], [root.der]);
    expect(result.valid).toBe(false);
    expect(result.problems.join('\n')).toMatch(/Expired SM2 CA, O=Acme Group" was not valid at/);
  });
});
