// Signatures made by other producers: poppler/NSS (`pdfsig -add-signature`) writes its CMS in BER
// with indefinite lengths, as Java and Adobe signers do. Sigil must read it, agree with pdfsig on
// the good and the tampered file, and sign after it without breaking it.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPdf } from '../../src/signing/pades.js';
import { verifyPdf } from '../../src/signing/verify.js';
import { buildPdf } from './pdf-fixtures.js';
import { OpensslPki, SIGNER_EXT, CA_EXT, type OpensslCert } from './openssl-pki.js';
import { pdfsig, requireTool, run, tempDir, testPki, type TestPki } from './support.js';

let tmp: ReturnType<typeof tempDir>;
let nssdir: string;
let root: OpensslCert;
let signed: Buffer;
let sigil: TestPki;

beforeAll(async () => {
  requireTool('pdfsig');
  requireTool('certutil');
  requireTool('pk12util');
  tmp = tempDir('sigil-foreign-');
  const pki = new OpensslPki(tmp.dir);
  root = pki.root('root', '/O=Foreign Root/CN=Foreign Root CA');
  const ca = pki.issue('ca', { issuer: root, subject: '/O=Foreign/CN=Foreign CA', extensions: CA_EXT });
  const leaf = pki.issue('nss-signer', { issuer: ca, subject: '/O=Foreign Ltd/CN=NSS Signer', extensions: SIGNER_EXT });
  const p12 = tmp.file('signer.p12');
  const chain = tmp.file('chain.pem', ca.pem);
  run('openssl', [
    'pkcs12',
    '-export',
    '-inkey',
    leaf.keyFile,
    '-in',
    leaf.certFile,
    '-certfile',
    chain,
    '-name',
    'signer',
    '-passout',
    'pass:pw',
    '-out',
    p12,
  ]);
  const db = tmp.file('nss');
  run('mkdir', ['-p', db]);
  nssdir = `sql:${db}`;
  run('certutil', ['-N', '-d', nssdir, '--empty-password']);
  run('pk12util', ['-i', p12, '-d', nssdir, '-W', 'pw']);
  run('certutil', ['-A', '-d', nssdir, '-n', 'foreign-root', '-t', 'CT,C,C', '-i', root.certFile]);
  tmp.file('in.pdf', buildPdf({ seed: 3 }));
  run('pdfsig', [
    '-add-signature',
    '-nssdir',
    nssdir,
    '-nick',
    'signer',
    '-reason',
    'NSS',
    tmp.file('in.pdf'),
    tmp.file('nss.pdf'),
  ]);
  signed = readFileSync(tmp.file('nss.pdf'));
  sigil = await testPki();
});
afterAll(() => tmp?.remove());

describe('a signature made by poppler/NSS', () => {
  it('is BER with indefinite lengths, and Sigil verifies it as pdfsig does', async () => {
    const cms = /\/Contents\s*<([0-9A-Fa-f]+)>/.exec(signed.toString('latin1'))![1]!;
    // 30 80: a SEQUENCE of indefinite length, which a DER-only reader cannot follow.
    expect(cms.slice(0, 4).toLowerCase()).toBe('3080');
    expect(pdfsig(tmp.file('nss.pdf'), nssdir)[0]).toMatchObject({ signatureValid: true, certificateTrusted: true });
    const report = await verifyPdf(signed, { trustAnchors: [root.der] });
    const s = report.signatures[0]!;
    expect(s.problems).toEqual([]);
    expect(s).toMatchObject({ valid: true, status: 'valid', digestMatches: true, signatureVerified: true });
    expect(s.signer?.commonName).toBe('NSS Signer');
    expect(report.verdict).toBe('valid');
  });

  it('is invalid for both when a signed byte changes', async () => {
    const tampered = Buffer.from(signed);
    tampered[200] = tampered[200]! ^ 0x01;
    const file = tmp.file('nss-tampered.pdf', tampered);
    expect(pdfsig(file, nssdir)[0]!.signatureValid).toBe(false);
    const report = await verifyPdf(tampered, { trustAnchors: [root.der] });
    expect(report.signatures[0]).toMatchObject({ valid: false, digestMatches: false });
    expect(report.verdict).toBe('invalid');
  });

  it('stays valid for both after Sigil signs the same file incrementally', async () => {
    const twice = await signPdf(signed, { signer: sigil.sealRsa.signer });
    const file = tmp.file('nss-then-sigil.pdf', twice);
    const seen = pdfsig(file, nssdir);
    expect(seen.map((s) => s.signatureValid)).toEqual([true, true]);
    const report = await verifyPdf(twice, { trustAnchors: [root.der, sigil.root] });
    expect(report.signatures.map((s) => s.status)).toEqual(['valid', 'valid']);
    expect(report.signatures[0]!.modifiedAfter).toBe('signatures-and-validation-data');
    expect(report.verdict).toBe('valid');
  });
});
