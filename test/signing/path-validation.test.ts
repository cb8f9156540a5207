// Attacks on certification path validation (RFC 5280 §6.1). Every chain here is made by openssl,
// never by Sigil's CA; each is used to sign a PDF, and Sigil's verdict is checked beside the one
// `openssl verify` gives for the same chain. Cases follow the issue and NIST PKITS / x509-limbo.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPdf } from '../../src/signing/pades.js';
import { signerFromPkcs8 } from '../../src/signing/signer.js';
import { validatePath } from '../../src/signing/path-validation.js';
import { checkTimestampToken } from '../../src/signing/tsa.js';
import { verifyPdf, type VerificationReport } from '../../src/signing/verify.js';
import { parseCertificate, parseCrl } from '../../src/signing/x509.js';
import { buildPdf } from './pdf-fixtures.js';
import { CA_EXT, OpensslPki, SIGNER_EXT, TSA_EXT, type OpensslCert, type OpensslCrl } from './openssl-pki.js';
import { requireTool, run, tempDir } from './support.js';
import { ensureServerBuilt, sigilBin } from '../support/server-build.js';

let tmp: ReturnType<typeof tempDir>;
let pki: OpensslPki;
let root: OpensslCert;
let ca: OpensslCert;

beforeAll(() => {
  requireTool('openssl');
  tmp = tempDir('sigil-path-');
  pki = new OpensslPki(tmp.dir);
  root = pki.root('root', '/C=CN/O=Sigil Test Root/CN=Sigil Test Root CA');
  ca = pki.issue('ca', { issuer: root, subject: '/C=CN/O=Acme Group/CN=Acme Group CA', extensions: CA_EXT });
});
afterAll(() => tmp?.remove());

const YEAR = 365 * 86_400_000;
const stamp = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/** A PDF signed by `leaf` with `chain` in the CMS (Sigil signs; the certificates are openssl's). */
async function signedBy(leaf: OpensslCert, chain: OpensslCert[], seed = 1): Promise<Buffer> {
  const pkcs8 = leaf.key.export({ format: 'der', type: 'pkcs8' });
  const signer = signerFromPkcs8({ pkcs8, certificate: leaf.der, chain: chain.map((c) => c.der) });
  return signPdf(buildPdf({ seed }), { signer });
}

async function verdict(
  leaf: OpensslCert,
  chain: OpensslCert[],
  options: { crls?: OpensslCrl[] } = {},
): Promise<VerificationReport> {
  const pdf = await signedBy(leaf, chain);
  return verifyPdf(pdf, { trustAnchors: [root.der], crls: (options.crls ?? []).map((c) => c.der) });
}

function expectRefused(report: VerificationReport, problem: RegExp): void {
  const s = report.signatures[0]!;
  expect(s.digestMatches, 'the bytes themselves are intact').toBe(true);
  expect(s.signatureVerified).toBe(true);
  expect(s.chainTrusted).toBe(false);
  expect(s.valid).toBe(false);
  expect(s.status).toBe('invalid');
  expect(report.intact).toBe(false);
  expect(report.verdict).toBe('invalid');
  expect(s.problems.join('\n')).toMatch(problem);
}

describe('certification paths made by openssl: Sigil and openssl verify agree', () => {
  it('accepts a good chain (root → CA → seal), as openssl does', async () => {
    const leaf = pki.issue('good', { issuer: ca, subject: '/C=CN/O=Acme Ltd/CN=Acme 公章', extensions: SIGNER_EXT });
    expect(pki.verify(root, leaf, [ca]).ok).toBe(true);
    const report = await verdict(leaf, [ca]);
    const s = report.signatures[0]!;
    expect(s.problems).toEqual([]);
    expect(s).toMatchObject({ valid: true, status: 'valid', chainTrusted: true });
    expect(report.verdict).toBe('valid');
    expect(s.chain).toHaveLength(3);
  });

  it('refuses a seal certificate issued by an end-entity certificate (CA:FALSE)', async () => {
    const employee = pki.issue('employee', {
      issuer: ca,
      subject: '/C=CN/O=Acme Ltd/CN=Zhang San',
      extensions: SIGNER_EXT,
    });
    const forged = pki.issue('forged-by-employee', {
      issuer: employee,
      subject: '/C=CN/O=Acme Ltd/CN=Acme 公章',
      extensions: SIGNER_EXT,
    });
    const openssl = pki.verify(root, forged, [employee, ca]);
    expect(openssl.ok).toBe(false);
    expect(openssl.out).toMatch(/invalid CA certificate/);
    expectRefused(await verdict(forged, [employee, ca]), /not a CA \(basicConstraints CA:FALSE\)/);
  });

  it('refuses a chain through a CA whose key usage lacks keyCertSign', async () => {
    const weak = pki.issue('no-keycertsign', {
      issuer: root,
      subject: '/C=CN/O=Acme Group/CN=CA without keyCertSign',
      extensions: ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, digitalSignature, cRLSign'],
    });
    const leaf = pki.issue('under-no-keycertsign', {
      issuer: weak,
      subject: '/O=Acme Ltd/CN=Seal',
      extensions: SIGNER_EXT,
    });
    const openssl = pki.verify(root, leaf, [weak]);
    expect(openssl.ok).toBe(false);
    expect(openssl.out).toMatch(/key usage does not include certificate signing|invalid CA certificate/);
    expectRefused(await verdict(leaf, [weak]), /key usage does not include keyCertSign/);
  });

  it('refuses a sub-CA below a CA with pathlen:0', async () => {
    const limited = pki.issue('pathlen0', {
      issuer: root,
      subject: '/O=Acme Group/CN=Pathlen 0 CA',
      extensions: ['basicConstraints = critical, CA:TRUE, pathlen:0', 'keyUsage = critical, keyCertSign, cRLSign'],
    });
    const sub = pki.issue('below-pathlen0', { issuer: limited, subject: '/O=Acme Ltd/CN=Sub CA', extensions: CA_EXT });
    const leaf = pki.issue('leaf-below-pathlen0', {
      issuer: sub,
      subject: '/O=Acme Ltd/CN=Seal',
      extensions: SIGNER_EXT,
    });
    const openssl = pki.verify(root, leaf, [sub, limited]);
    expect(openssl.ok).toBe(false);
    expect(openssl.out).toMatch(/path length constraint exceeded/);
    expectRefused(await verdict(leaf, [sub, limited]), /beyond the path length/);
  });

  it('refuses an issuer without basicConstraints at all', async () => {
    const bare = pki.issue('no-bc', {
      issuer: root,
      subject: '/O=Acme Group/CN=CA without basicConstraints',
      extensions: ['keyUsage = critical, keyCertSign, cRLSign'],
    });
    const leaf = pki.issue('under-no-bc', { issuer: bare, subject: '/O=Acme Ltd/CN=Seal', extensions: SIGNER_EXT });
    const openssl = pki.verify(root, leaf, [bare]);
    expect(openssl.ok).toBe(false);
    expect(openssl.out).toMatch(/invalid CA certificate/);
    expectRefused(await verdict(leaf, [bare]), /has no basicConstraints, so it is not a CA/);
  });

  it('refuses a signer certificate with an unknown critical extension', async () => {
    const leaf = pki.issue('unknown-critical', {
      issuer: ca,
      subject: '/O=Acme Ltd/CN=Seal',
      extensions: [...SIGNER_EXT, '1.2.3.4.5.6.7 = critical, ASN1:UTF8String:must be understood'],
    });
    const openssl = pki.verify(root, leaf, [ca]);
    expect(openssl.ok).toBe(false);
    expect(openssl.out).toMatch(/unhandled critical extension|unsupported certificate extension/i);
    expectRefused(await verdict(leaf, [ca]), /unknown critical extension 1\.2\.3\.4\.5\.6\.7/);
  });

  it('refuses an expired intermediate and one not yet valid', async () => {
    const expired = pki.issue('expired-ca', {
      issuer: root,
      subject: '/O=Acme Group/CN=Expired CA',
      extensions: CA_EXT,
      startDate: stamp(Date.now() - 3 * YEAR),
      endDate: stamp(Date.now() - YEAR),
    });
    const leaf1 = pki.issue('under-expired', {
      issuer: expired,
      subject: '/O=Acme Ltd/CN=Seal',
      extensions: SIGNER_EXT,
      startDate: stamp(Date.now() - 2 * YEAR),
      endDate: stamp(Date.now() + YEAR),
    });
    const openssl1 = pki.verify(root, leaf1, [expired]);
    expect(openssl1.ok).toBe(false);
    expect(openssl1.out).toMatch(/certificate has expired/);
    expectRefused(await verdict(leaf1, [expired]), /Expired CA, O=Acme Group" was not valid at/);

    const future = pki.issue('future-ca', {
      issuer: root,
      subject: '/O=Acme Group/CN=Future CA',
      extensions: CA_EXT,
      startDate: stamp(Date.now() + YEAR),
      endDate: stamp(Date.now() + 3 * YEAR),
    });
    const leaf2 = pki.issue('under-future', { issuer: future, subject: '/O=Acme Ltd/CN=Seal', extensions: SIGNER_EXT });
    const openssl2 = pki.verify(root, leaf2, [future]);
    expect(openssl2.ok).toBe(false);
    expect(openssl2.out).toMatch(/certificate is not yet valid/);
    expectRefused(await verdict(leaf2, [future]), /Future CA, O=Acme Group" was not valid at/);
  });

  it('refuses a chain whose intermediate the root revoked, by a CRL that validates', async () => {
    const doomed = pki.issue('revoked-ca', {
      issuer: root,
      subject: '/O=Acme Group/CN=Revoked CA',
      extensions: CA_EXT,
    });
    const leaf = pki.issue('under-revoked', { issuer: doomed, subject: '/O=Acme Ltd/CN=Seal', extensions: SIGNER_EXT });
    const rootCrl = pki.crl(root, [doomed]);
    const caCrl = pki.crl(doomed, []);
    const openssl = pki.verify(root, leaf, [doomed], { crls: [rootCrl, caCrl] });
    expect(openssl.ok).toBe(false);
    expect(openssl.out).toMatch(/certificate revoked/);
    const report = await verdict(leaf, [doomed], { crls: [rootCrl, caCrl] });
    expectRefused(report, /Revoked CA, O=Acme Group" was revoked on .* \(keyCompromise\)/);
    expect(report.signatures[0]!.revocation).toBe('revoked');
  });

  it('does not take a CRL signed by the wrong key as proof, either way', async () => {
    const intermediate = pki.issue('crl-victim-ca', {
      issuer: root,
      subject: '/O=Acme Group/CN=CRL Victim CA',
      extensions: CA_EXT,
    });
    const leaf = pki.issue('crl-victim', {
      issuer: intermediate,
      subject: '/O=Acme Ltd/CN=Seal',
      extensions: SIGNER_EXT,
    });
    // A CRL in the root's name that lists the intermediate, but signed by a key that is not the root's.
    const rogue = pki.root('crl-rogue', '/C=CN/O=Sigil Test Root/CN=Sigil Test Root CA');
    const forgedRevocation = pki.crl(rogue, [intermediate]);
    const caCrl = pki.crl(intermediate, []);
    const openssl = pki.verify(root, leaf, [intermediate], { crls: [forgedRevocation, caCrl] });
    expect(openssl.ok).toBe(false);
    expect(openssl.out).toMatch(/CRL signature failure/);
    const report = await verdict(leaf, [intermediate], { crls: [forgedRevocation, caCrl] });
    const s = report.signatures[0]!;
    // The forged CRL neither revokes the intermediate nor vouches for it: its status is unknown.
    expect(s.revocation).toBe('unknown');
    expect(s.revoked).toBe(false);
    expect(parseCrl(forgedRevocation.der).revoked).toHaveLength(1);
  });

  it('refuses a self-signed certificate that carries the trusted root’s name', async () => {
    const impostor = pki.root('impostor', '/C=CN/O=Sigil Test Root/CN=Sigil Test Root CA');
    const leaf = pki.issue('under-impostor', {
      issuer: impostor,
      subject: '/O=Acme Ltd/CN=Acme 公章',
      extensions: SIGNER_EXT,
    });
    const openssl = pki.verify(root, leaf, [impostor]);
    expect(openssl.ok).toBe(false);
    const report = await verdict(leaf, [impostor]);
    const s = report.signatures[0]!;
    expect(s.chainTrusted).toBe(false);
    expect(s.valid).toBe(false);
    expect(s.status).not.toBe('valid');
    expect(report.verdict).not.toBe('valid');
  });

  it('refuses an intermediate signed with SHA-1 and one with a 1024-bit key', async () => {
    const sha1 = pki.issue('sha1-ca', {
      issuer: root,
      subject: '/O=Acme Group/CN=SHA-1 CA',
      extensions: CA_EXT,
      md: 'sha1',
    });
    const leaf1 = pki.issue('under-sha1', { issuer: sha1, subject: '/O=Acme Ltd/CN=Seal', extensions: SIGNER_EXT });
    // openssl accepts SHA-1 at its default authentication level 1; at level 2 (112-bit security,
    // the level Sigil holds to) it refuses, as Sigil does.
    expect(pki.verify(root, leaf1, [sha1]).ok).toBe(true);
    const openssl1 = pki.verify(root, leaf1, [sha1], { authLevel: 2 });
    expect(openssl1.ok).toBe(false);
    expect(openssl1.out).toMatch(/too weak/);
    expectRefused(await verdict(leaf1, [sha1]), /SHA-1 is no longer accepted/);

    const small = pki.issue('rsa1024-ca', {
      issuer: root,
      subject: '/O=Acme Group/CN=RSA-1024 CA',
      extensions: CA_EXT,
      key: pki.newKey('rsa1024', 'rsa:1024'),
    });
    const leaf2 = pki.issue('under-rsa1024', { issuer: small, subject: '/O=Acme Ltd/CN=Seal', extensions: SIGNER_EXT });
    expect(pki.verify(root, leaf2, [small]).ok).toBe(true);
    const openssl2 = pki.verify(root, leaf2, [small], { authLevel: 2 });
    expect(openssl2.ok).toBe(false);
    expect(openssl2.out).toMatch(/key too weak/);
    expectRefused(await verdict(leaf2, [small]), /RSA key has 1024 bits/);
  });

  it('keeps a CA inside its name constraints (PKITS 4.13)', async () => {
    const constrained = pki.issue('nc-ca', {
      issuer: root,
      subject: '/C=CN/O=Acme Group/CN=Acme Constrained CA',
      extensions: [
        ...CA_EXT,
        'nameConstraints = critical, permitted;dirName:nc_acme',
        '[nc_acme]',
        'C = CN',
        'O = Acme Group',
      ],
    });
    const inside = pki.issue('nc-inside', {
      issuer: constrained,
      subject: '/C=CN/O=Acme Group/CN=Acme 合同专用章',
      extensions: SIGNER_EXT,
    });
    expect(pki.verify(root, inside, [constrained]).ok).toBe(true);
    expect((await verdict(inside, [constrained])).verdict).toBe('valid');

    const outside = pki.issue('nc-outside', {
      issuer: constrained,
      subject: '/C=CN/O=Other Corp/CN=Other Corp 公章',
      extensions: SIGNER_EXT,
    });
    const openssl = pki.verify(root, outside, [constrained]);
    expect(openssl.ok).toBe(false);
    expect(openssl.out).toMatch(/permitted subtree violation/);
    expectRefused(await verdict(outside, [constrained]), /outside the names its issuers permit/);
  });

  it('requires an explicit policy where a CA demands one (PKITS 4.8, requireExplicitPolicy)', async () => {
    const strict = pki.issue('policy-ca', {
      issuer: root,
      subject: '/O=Acme Group/CN=Policy CA',
      extensions: [
        ...CA_EXT,
        'certificatePolicies = 1.2.156.1.1',
        'policyConstraints = critical, requireExplicitPolicy:0',
      ],
    });
    const inside = pki.issue('policy-inside', {
      issuer: strict,
      subject: '/O=Acme Ltd/CN=Seal under the policy',
      extensions: [...SIGNER_EXT, 'certificatePolicies = 1.2.156.1.1'],
    });
    // openssl processes policies only when asked (-policy_check); Sigil always does (RFC 5280 §6.1).
    expect(pki.verify(root, inside, [strict], { policyCheck: true }).ok).toBe(true);
    expect((await verdict(inside, [strict])).verdict).toBe('valid');
    const outside = pki.issue('policy-outside', {
      issuer: strict,
      subject: '/O=Acme Ltd/CN=Seal under another policy',
      extensions: [...SIGNER_EXT, 'certificatePolicies = 1.2.156.9.9'],
    });
    const openssl = pki.verify(root, outside, [strict], { policyCheck: true });
    expect(openssl.ok).toBe(false);
    expect(openssl.out).toMatch(/no explicit policy/);
    expectRefused(await verdict(outside, [strict]), /no acceptable certificate policy/);
  });

  it('refuses a certificate whose extended key usage is for TLS servers only', async () => {
    const leaf = pki.issue('server-only', {
      issuer: ca,
      subject: '/O=Acme Ltd/CN=www.acme.example',
      extensions: [
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature',
        'extendedKeyUsage = serverAuth',
      ],
    });
    const openssl = pki.verify(root, leaf, [ca], { purpose: 'smimesign' });
    expect(openssl.ok).toBe(false);
    expect(openssl.out).toMatch(/unsuitable certificate purpose/);
    expectRefused(await verdict(leaf, [ca]), /extended key usage does not allow signing documents/);
  });

  it('names an intact signature by a signer under an unknown root as such, never valid', async () => {
    const otherRoot = pki.root('other-root', '/O=Somebody Else/CN=Other Root');
    const leaf = pki.issue('other-leaf', {
      issuer: otherRoot,
      subject: '/O=Somebody Else/CN=Seal',
      extensions: SIGNER_EXT,
    });
    expect(pki.verify(root, leaf, [otherRoot]).ok).toBe(false);
    const report = await verdict(leaf, [otherRoot]);
    const s = report.signatures[0]!;
    expect(s).toMatchObject({ digestMatches: true, signatureVerified: true, chainTrusted: false, valid: false });
    expect(s.status).toBe('unknown-signer');
    expect(report.verdict).toBe('unknown-signer');
    expect(report.intact).toBe(false);
  });
});

describe('the built command line, as users run it', () => {
  it('exits 1 for a seal certificate an employee issued, 0 for a good chain, naming the reason', async () => {
    await ensureServerBuilt();
    const employee = pki.issue('cli-employee', { issuer: ca, subject: '/O=Acme Ltd/CN=Li Si', extensions: SIGNER_EXT });
    const forged = pki.issue('cli-forged', {
      issuer: employee,
      subject: '/O=Acme Ltd/CN=Acme 公章',
      extensions: SIGNER_EXT,
    });
    const good = pki.issue('cli-good', { issuer: ca, subject: '/O=Acme Ltd/CN=Acme 公章', extensions: SIGNER_EXT });
    const forgedPdf = tmp.file('cli-forged.pdf', await signedBy(forged, [employee, ca]));
    const goodPdf = tmp.file('cli-good.pdf', await signedBy(good, [ca]));
    const refused = run('node', [sigilBin, 'pdf', 'verify', forgedPdf, '--trust', root.certFile], {
      allowFailure: true,
    });
    expect(refused.status).toBe(1);
    expect(refused.out).toMatch(/INVALID signature/);
    expect(refused.out).toMatch(/not a CA \(basicConstraints CA:FALSE\)/);
    const json = run('node', [sigilBin, 'pdf', 'verify', forgedPdf, '--trust', root.certFile, '--json'], {
      allowFailure: true,
    });
    expect(JSON.parse(json.out)).toMatchObject({ verdict: 'invalid', signatures: [{ chainTrusted: false }] });
    const accepted = run('node', [sigilBin, 'pdf', 'verify', goodPdf, '--trust', root.certFile]);
    expect(accepted.status).toBe(0);
    expect(accepted.out).toMatch(/VALID signature/);
    // Intact but with no root to check against: an unknown signer, said so.
    const unchecked = run('node', [sigilBin, 'pdf', 'verify', goodPdf]);
    expect(unchecked.out).toMatch(/UNKNOWN SIGNER/);
  }, 240_000);
});

describe('time-stamping certificates (RFC 3161 §2.3)', () => {
  it('refuses a TSA certificate without the timeStamping extended key usage, as openssl does', () => {
    const plain = pki.issue('tsa-no-eku', {
      issuer: root,
      subject: '/O=Acme Group/CN=TSA without EKU',
      extensions: ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature'],
    });
    const good = pki.issue('tsa-good', { issuer: root, subject: '/O=Acme Group/CN=Good TSA', extensions: TSA_EXT });
    const nonCritical = pki.issue('tsa-noncritical', {
      issuer: root,
      subject: '/O=Acme Group/CN=TSA non-critical EKU',
      extensions: [
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature',
        'extendedKeyUsage = timeStamping',
      ],
    });
    const check = (cert: OpensslCert) =>
      validatePath({
        leaf: parseCertificate(cert.der),
        pool: [],
        anchors: [parseCertificate(root.der)],
        at: new Date(),
        purpose: 'timestamping',
        crls: [],
      });
    expect(check(good).problems).toEqual([]);
    expect(pki.verify(root, good, [], { purpose: 'timestampsign' }).ok).toBe(true);
    expect(check(plain).valid).toBe(false);
    expect(check(plain).problems.join()).toMatch(/not a time-stamping certificate/);
    expect(pki.verify(root, plain, [], { purpose: 'timestampsign' }).ok).toBe(false);
    expect(check(nonCritical).valid).toBe(false);
    expect(check(nonCritical).problems.join()).toMatch(/timeStamping alone, marked critical/);
    expect(pki.verify(root, nonCritical, [], { purpose: 'timestampsign' }).ok).toBe(false);
  });

  it('refuses a time-stamp token signed by a certificate without the EKU; openssl ts -verify agrees', () => {
    const plain = pki.issue('tsa-token-no-eku', {
      issuer: root,
      subject: '/O=Acme Group/CN=Token TSA without EKU',
      extensions: ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature'],
    });
    // A TSTInfo built by openssl asn1parse, signed by openssl cms: no Sigil code makes this token.
    const digest = Buffer.alloc(32, 7).toString('hex');
    const conf = tmp.file(
      'tstinfo.cnf',
      [
        'asn1 = SEQUENCE:tst',
        '[tst]',
        'version = INTEGER:1',
        'policy = OID:1.2.3.4',
        'imprint = SEQUENCE:imprint',
        'serial = INTEGER:42',
        `time = GENERALIZEDTIME:${stamp(Date.now())}`,
        '[imprint]',
        'alg = SEQUENCE:sha256',
        `hash = FORMAT:HEX,OCTETSTRING:${digest}`,
        '[sha256]',
        'oid = OID:sha256',
        '',
      ].join('\n'),
    );
    const tstInfo = tmp.file('tstinfo.der');
    run('openssl', ['asn1parse', '-genconf', conf, '-out', tstInfo, '-noout']);
    const token = tmp.file('token.der');
    run('openssl', [
      'cms',
      '-sign',
      '-binary',
      '-nodetach',
      '-econtent_type',
      'id-smime-ct-TSTInfo',
      '-in',
      tstInfo,
      '-signer',
      plain.certFile,
      '-inkey',
      plain.keyFile,
      '-outform',
      'DER',
      '-out',
      token,
      '-md',
      'sha256',
    ]);
    const check = checkTimestampToken(readFileSync(token), { digest: Buffer.alloc(32, 7) });
    expect(check.ok).toBe(false);
    expect(check.problems.join()).toMatch(/not a time-stamping certificate/);
    const openssl = run(
      'openssl',
      ['ts', '-verify', '-token_in', '-in', token, '-digest', digest, '-CAfile', root.certFile],
      { allowFailure: true },
    );
    expect(openssl.status).not.toBe(0);
  });
});
