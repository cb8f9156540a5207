// The national-cryptography PDF profile: a CMS SignedData signed SM2-with-SM3 over the SM3 of the
// byte range, by an SM2 seal certificate of Sigil's SM2 CA. Sigil's verifier is checked against
// BouncyCastle (test/signing/java/CmsCheck.java: CMSSignedData / SignerInformation.verify and its
// PKIX validator) and `openssl verify` on every chain; the attack chains are made by openssl.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { writePkcs12 } from '../../src/signing/pkcs12.js';
import { SigningError } from '../../src/signing/errors.js';
import { checkSigningCertificateAttribute, parseSignedData } from '../../src/signing/cms.js';
import { OID } from '../../src/signing/oids.js';
import { signPdf } from '../../src/signing/pades.js';
import { signerFromPem, type Signer } from '../../src/signing/signer.js';
import { sm3 } from '../../src/signing/sm2.js';
import { verifyPdf } from '../../src/signing/verify.js';
import { derToPem } from '../../src/signing/x509.js';
import { appendRevision, handPdf, signatureDictionary, streamBody } from './hand-pdf.js';
import { buildPdf } from './pdf-fixtures.js';
import { opensslSm2Verifies, sm2TestPki, type Sm2TestPki } from './sm2-support.js';
import { OpensslSm2Pki, SM2_CA_EXT, SM2_SIGNER_EXT, type Sm2Cert } from './sm2-pki.js';
import { requireTool, run, tempDir, testPki, type TestPki } from './support.js';

const JARS = ['bcprov.jar', 'bcpkix.jar', 'bcutil.jar'].map((jar) => `/usr/share/java/${jar}`);
const SOURCE = join(import.meta.dirname, 'java', 'CmsCheck.java');
const hasJava =
  spawnSync('sh', ['-c', 'command -v javac && command -v java'], { encoding: 'utf8' }).status === 0 &&
  JARS.every((jar) => existsSync(jar));
const required = process.env.REQUIRE_BROWSER_TESTS === '1';
if (!hasJava && !required)
  console.warn(
    'sm2-pdf.test.ts: the BouncyCastle checks are skipped: javac or BouncyCastle is missing (apt-get install default-jdk-headless libbcprov-java libbcpkix-java)',
  );

let tmp: ReturnType<typeof tempDir>;
let classes: string | null = null;
let pki: Sm2TestPki;
let openssl: OpensslSm2Pki;
let otherRoot: Sm2Cert;
let otherCa: Sm2Cert;
let unsigned: Buffer;

beforeAll(async () => {
  requireTool('openssl');
  if (required && !hasJava)
    throw new Error(
      'REQUIRE_BROWSER_TESTS=1 but javac or BouncyCastle is missing: apt-get install default-jdk-headless libbcprov-java libbcpkix-java',
    );
  tmp = tempDir('sigil-sm2-pdf-');
  if (hasJava) {
    classes = tmp.file('classes');
    run('javac', ['-d', classes, '-cp', JARS.join(':'), SOURCE]);
  }
  pki = await sm2TestPki();
  openssl = new OpensslSm2Pki(tmp.dir);
  otherRoot = openssl.root('other-root', '/C=CN/O=Other SM2 Root/CN=Other SM2 Root CA');
  otherCa = openssl.issue('other-ca', {
    issuer: otherRoot,
    subject: '/C=CN/O=Other Group/CN=Other Group SM2 CA',
    extensions: SM2_CA_EXT,
  });
  unsigned = buildPdf({ compress: false, lines: ['Sigil SM2 test document', 'Contract No. 2026-015'] });
}, 120_000);
afterAll(() => tmp?.remove());

/** BouncyCastle's verdict (null when Java is missing and not required). */
function bouncyCastle(...args: string[]): { ok: boolean; out: string } | null {
  if (!classes) return null;
  const result = run('java', ['-cp', [classes, ...JARS].join(':'), 'CmsCheck', ...args], { allowFailure: true });
  if (result.status !== 0 && result.status !== 1) throw new Error(`CmsCheck failed to run:\n${result.out}`);
  return { ok: result.status === 0 && !/INVALID/.test(result.out), out: result.out };
}

const file = (name: string, data: Buffer | string) => tmp.file(name, data);

/** The CMS and the signed bytes of the signature at `index`, as a verifier would cut them. */
function signedParts(pdf: Buffer, byteRange: number[]): { cms: Buffer; content: Buffer } {
  const [a, b, c, d] = byteRange as [number, number, number, number];
  const hex = pdf.subarray(a + b + 1, c - 1).toString('latin1');
  const cms = parseSignedData(Buffer.from(hex, 'hex')).der;
  return { cms: Buffer.from(cms), content: Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]) };
}

function signerFromOpenssl(leaf: Sm2Cert, chain: Sm2Cert[]): Signer {
  return signerFromPem({
    key: readFileSync(leaf.keyFile, 'utf8'),
    certificates: [leaf, ...chain].map((c) => readFileSync(c.certFile, 'utf8')).join(''),
  });
}

function flip(buf: Buffer, at: number): Buffer {
  const copy = Buffer.from(buf);
  copy[at]! ^= 0x01;
  return copy;
}

describe('SM2 in PDF: the national-cryptography profile', () => {
  let signed: Buffer;
  let when: Date;

  beforeAll(async () => {
    // BouncyCastle checks the certificate at the CMS signing-time, so the claimed time is now.
    when = new Date();
    signed = await signPdf(unsigned, { signer: pki.sealHolder, signingTime: when });
  });

  it('signs SM2-with-SM3 over SM3 of the byte range, and Sigil verifies it through the SM2 chain', async () => {
    const report = await verifyPdf(signed, { trustAnchors: [pki.root] });
    const s = report.signatures[0]!;
    expect(s.problems).toEqual([]);
    expect(s).toMatchObject({
      valid: true,
      status: 'valid',
      subFilter: 'adbe.pkcs7.detached',
      algorithm: 'SM2-with-SM3',
      digestMatches: true,
      signatureVerified: true,
      chainTrusted: true,
      coversWholeDocument: true,
      modifiedAfter: 'none',
      // PAdES levels belong to ETSI.CAdES.detached only.
      level: null,
      // Whole seconds, as /M writes it.
      claimedSigningTime: new Date(Math.floor(when.getTime() / 1000) * 1000).toISOString(),
    });
    expect(s.chain).toHaveLength(3);
    expect(report.verdict).toBe('valid');
  });

  it('writes the CMS a GB/T 35275 reader expects: SM3 digest, SM2-with-SM3, SM3 ESS, signing-time = /M', () => {
    const report = signed.toString('latin1');
    expect(report).toMatch(/\/SubFilter \/adbe\.pkcs7\.detached/);
    const range = /\/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]/.exec(report)!.slice(1).map(Number);
    const { cms, content } = signedParts(signed, range);
    const parsed = parseSignedData(cms);
    const info = parsed.signerInfos[0]!;
    expect(info.digestAlgorithmOid).toBe(OID.sm3);
    expect(info.digestAlgorithm).toBe('SM3');
    // SM2-with-SM3 with the parameters absent, as BouncyCastle and GB/T 33560 write it.
    expect(
      info.signatureAlgorithm.equals(
        Buffer.from(AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: OID.sm2WithSm3 }))),
      ),
    ).toBe(true);
    expect([...info.signedAttributes.keys()].sort()).toEqual(
      [OID.contentType, OID.messageDigest, OID.signingTime, OID.signingCertificateV2].sort(),
    );
    // message-digest = SM3 of the two byte ranges.
    expect(info.signedAttributes.get(OID.messageDigest)![0]!.subarray(2).equals(sm3(content))).toBe(true);
    // signing-time: UTCTime YYMMDDhhmmssZ, the second of /M.
    const utc = when.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
    expect(
      info.signedAttributes
        .get(OID.signingTime)![0]!
        .equals(Buffer.concat([Buffer.from([0x17, 13]), Buffer.from(utc)])),
    ).toBe(true);
    expect(checkSigningCertificateAttribute(info, pki.sealHolder.certificate)).toBe('ok');
    // The ESSCertIDv2 names SM3 (1.2.156.10197.1.401, DER 06 08 2a 81 1c cf 55 01 83 11).
    expect(
      info.signedAttributes.get(OID.signingCertificateV2)![0]!.includes(Buffer.from('06082a811ccf55018311', 'hex')),
    ).toBe(true);
    // openssl, with the standard ID set by hand, agrees on the SignerInfo's signature over the attributes.
    expect(opensslSm2Verifies(tmp, pki.sealHolder.certificate, info.signedAttrs!, info.signature)).toBe(true);
    expect(opensslSm2Verifies(tmp, pki.outsider.certificate, info.signedAttrs!, info.signature)).toBe(false);
    expect(parsed.certificates.map((x) => x.toString('hex'))).toEqual(
      [pki.sealHolder.certificate, ...pki.sealHolder.chain].map((x) => x.toString('hex')),
    );
  });

  it('BouncyCastle verifies the CMS (SignerInformation.verify, SM3withSM2) and the chain, as Sigil does', async () => {
    const range = (await verifyPdf(signed)).signatures[0]!.byteRange;
    const { cms, content } = signedParts(signed, range);
    const verdict = bouncyCastle('cms', file('good.p7s', cms), file('good.content', content));
    if (!verdict) return;
    expect(verdict.out).toMatch(/digest-algorithm 1\.2\.156\.10197\.1\.401/);
    expect(verdict.out).toMatch(/signature-algorithm 1\.2\.156\.10197\.1\.501/);
    expect(verdict.out).toMatch(/cms-signature VALID/);
    expect(verdict.ok).toBe(true);
    const chain = bouncyCastle(
      'chain',
      file('root.der', pki.root),
      file('seal.der', pki.sealHolder.certificate),
      file('ca.der', pki.ca),
    )!;
    expect(chain.out).toMatch(/chain VALID/);
  });

  it('refuses a changed byte in the signed range, as BouncyCastle does', async () => {
    const at = signed.indexOf('Contract No. 2026-015') + 'Contract No. 2026-01'.length;
    expect(at).toBeGreaterThan(20);
    const changed = flip(signed, at);
    const report = await verifyPdf(changed, { trustAnchors: [pki.root] });
    const s = report.signatures[0]!;
    expect(s).toMatchObject({ valid: false, status: 'invalid', digestMatches: false, signatureVerified: true });
    expect(s.problems.join('\n')).toMatch(/the signed bytes were changed \(digest mismatch\)/);
    expect(report.verdict).toBe('invalid');
    const { cms, content } = signedParts(changed, s.byteRange);
    const verdict = bouncyCastle('cms', file('changed.p7s', cms), file('changed.content', content));
    if (verdict) {
      expect(verdict.ok).toBe(false);
      // BouncyCastle: the message-digest attribute does not match the content.
      expect(verdict.out).toMatch(/cms-signature INVALID .*digest/i);
    }
  });

  it('refuses a signature made by another SM2 key under the seal certificate, as BouncyCastle does', async () => {
    const holder = pki.sealHolder;
    // The seal's certificate and chain, but the outsider's private key signs.
    const impostor: Signer = {
      keyType: 'SM2',
      algorithm: 'SM2',
      publicKey: holder.publicKey,
      certificate: holder.certificate,
      chain: holder.chain,
      sign: (data, hash) => pki.outsider.sign(data, hash),
    };
    const forged = await signPdf(unsigned, { signer: impostor });
    const report = await verifyPdf(forged, { trustAnchors: [pki.root] });
    const s = report.signatures[0]!;
    expect(s).toMatchObject({ valid: false, status: 'invalid', digestMatches: true, signatureVerified: false });
    expect(s.problems.join('\n')).toMatch(/the CMS signature does not verify with the certificate/);
    const { cms, content } = signedParts(forged, s.byteRange);
    const verdict = bouncyCastle('cms', file('impostor.p7s', cms), file('impostor.content', content));
    if (verdict) {
      expect(verdict.ok).toBe(false);
      expect(verdict.out).toMatch(/cms-signature INVALID does not verify/);
    }
  });

  it('says unknown signer for a chain to an SM2 root it does not trust; openssl and BouncyCastle refuse the path too', async () => {
    const leaf = openssl.issue('other-seal', {
      issuer: otherCa,
      subject: '/C=CN/O=Other Ltd/CN=Other Ltd 公章',
      extensions: SM2_SIGNER_EXT,
    });
    const pdf = await signPdf(unsigned, { signer: signerFromOpenssl(leaf, [otherCa, otherRoot]) });
    const ourRootPem = file('sigil-root.pem', derToPem(pki.root));
    // Under its own root the chain is good, for openssl and for Sigil: only trust is missing.
    expect(openssl.verify(otherRoot, [otherCa, leaf]).ok).toBe(true);
    expect((await verifyPdf(pdf, { trustAnchors: [otherRoot.der] })).verdict).toBe('valid');
    const ossl = openssl.verify(ourRootPem, [otherCa, leaf]);
    expect(ossl.ok).toBe(false);
    expect(ossl.out).toMatch(/unable to get (local )?issuer certificate/);
    const report = await verifyPdf(pdf, { trustAnchors: [pki.root] });
    const s = report.signatures[0]!;
    expect(s).toMatchObject({ valid: false, status: 'unknown-signer', chainTrusted: false, signatureVerified: true });
    expect(report.verdict).toBe('unknown-signer');
    const bc = bouncyCastle(
      'chain',
      file('sigil-root.der', pki.root),
      file('other-seal.der', leaf.der),
      file('other-ca.der', otherCa.der),
    );
    if (bc) {
      expect(bc.ok).toBe(false);
      expect(
        bouncyCastle(
          'chain',
          file('other-root.der', otherRoot.der),
          file('other-seal.der', leaf.der),
          file('other-ca.der', otherCa.der),
        )!.ok,
      ).toBe(true);
    }
  });

  it('refuses an SM2 seal certificate issued by a CA:FALSE certificate, as openssl and BouncyCastle do', async () => {
    const employee = openssl.issue('employee', {
      issuer: otherCa,
      subject: '/C=CN/O=Other Ltd/CN=Wang Wu',
      extensions: SM2_SIGNER_EXT,
    });
    const forgedCert = openssl.issue('forged-by-employee', {
      issuer: employee,
      subject: '/C=CN/O=Other Ltd/CN=Other Ltd 合同专用章',
      extensions: SM2_SIGNER_EXT,
    });
    const ossl = openssl.verify(otherRoot, [otherCa, employee, forgedCert]);
    expect(ossl.ok).toBe(false);
    expect(ossl.out).toMatch(/invalid CA certificate/);
    const pdf = await signPdf(unsigned, { signer: signerFromOpenssl(forgedCert, [employee, otherCa, otherRoot]) });
    const report = await verifyPdf(pdf, { trustAnchors: [otherRoot.der] });
    const s = report.signatures[0]!;
    // The CMS itself holds; the path does not.
    expect(s).toMatchObject({
      valid: false,
      status: 'invalid',
      signatureVerified: true,
      digestMatches: true,
      chainTrusted: false,
    });
    expect(s.problems.join('\n')).toMatch(/not a CA \(basicConstraints CA:FALSE\)/);
    expect(report.verdict).toBe('invalid');
    const bc = bouncyCastle(
      'chain',
      file('other-root.der', otherRoot.der),
      file('forged.der', forgedCert.der),
      file('employee.der', employee.der),
      file('other-ca.der', otherCa.der),
    );
    if (bc) {
      expect(bc.ok).toBe(false);
      expect(bc.out).toMatch(/chain INVALID/);
    }
  });

  it('keeps the revision checks: a second SM2 signature is permitted, a changed page after them is not', async () => {
    const twice = await signPdf(signed, { signer: pki.person });
    const report = await verifyPdf(twice, { trustAnchors: [pki.root] });
    expect(report.signatures.map((s) => [s.fieldName, s.valid, s.modifiedAfter])).toEqual([
      ['Signature1', true, 'signatures-and-validation-data'],
      ['Signature2', true, 'none'],
    ]);
    expect(report.verdict).toBe('valid');
    // A later revision that rewrites the page's content stream.
    const contents = /\/Contents (\d+) 0 R/.exec(unsigned.toString('latin1'))!;
    const altered = appendRevision(twice, [
      { num: Number(contents[1]), body: streamBody('', 'BT /F1 12 Tf 72 700 Td (Pay 1,000,000) Tj ET') },
    ]);
    const after = await verifyPdf(altered, { trustAnchors: [pki.root] });
    expect(after.signatures.map((s) => s.modifiedAfter)).toEqual(['altered', 'altered']);
    expect(after.signatures[0]!.valid).toBe(true);
    expect(after.intact).toBe(false);
    expect(after.verdict).toBe('invalid');
  });

  it('refuses what the profile does not have: another key type, another hash, PAdES levels, SM2 under PAdES', async () => {
    const rsa: TestPki = await testPki();
    const refused = async (promise: Promise<unknown>, code: string, message: RegExp) => {
      const error = await promise.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SigningError);
      expect((error as SigningError).code).toBe(code);
      expect((error as Error).message).toMatch(message);
    };
    await refused(
      signPdf(unsigned, { signer: rsa.sealRsa.signer, profile: 'sm2' }),
      'signing_key_invalid',
      /needs an SM2 key/,
    );
    await refused(signPdf(unsigned, { signer: pki.sealHolder, profile: 'pades' }), 'signing_key_invalid', /not PAdES/);
    await refused(
      signPdf(unsigned, { signer: pki.sealHolder, hash: 'SHA-256' }),
      'validation_failed',
      /hashes with SM3/,
    );
    await refused(
      signPdf(unsigned, {
        signer: pki.sealHolder,
        level: 'B-LT',
        timestamper: { name: 'x', timestamp: () => Promise.reject(new Error('unused')) },
      }),
      'validation_failed',
      /B-LT is a PAdES level/,
    );
  });

  it('records what openssl cms and pdfsig say about it (neither is required to accept SM2)', async () => {
    const range = (await verifyPdf(signed)).signatures[0]!.byteRange;
    const { cms, content } = signedParts(signed, range);
    const result = run(
      'openssl',
      [
        'cms',
        '-verify',
        '-inform',
        'DER',
        '-binary',
        '-in',
        file('o.p7s', cms),
        '-content',
        file('o.content', content),
        '-CAfile',
        file('o-root.pem', derToPem(pki.root)),
        '-certfile',
        file('o-ca.pem', derToPem(pki.ca)),
        '-purpose',
        'any',
        '-out',
        file('o.out', ''),
      ],
      { allowFailure: true },
    );
    console.info(`openssl cms -verify on the SM2 profile: exit ${result.status}\n${result.out.trim()}`);
    // Without the chain: only the SignerInfo's SM2 signature (OpenSSL 3.0 gives CMS no distid option).
    const signatureOnly = run(
      'openssl',
      [
        'cms',
        '-verify',
        '-noverify',
        '-inform',
        'DER',
        '-binary',
        '-in',
        file('o.p7s', cms),
        '-content',
        file('o.content', content),
        '-out',
        file('o.out', ''),
      ],
      { allowFailure: true },
    );
    console.info(`openssl cms -verify -noverify: exit ${signatureOnly.status}\n${signatureOnly.out.trim()}`);
    const pdfsig = spawnSync('pdfsig', [file('signed.pdf', signed)], { encoding: 'utf8' });
    if (pdfsig.status !== null) console.info(`pdfsig on the SM2 profile:\n${(pdfsig.stdout + pdfsig.stderr).trim()}`);
  });
});

describe('an SM2 PDF signature BouncyCastle made (another producer)', () => {
  it.skipIf(!hasJava && !required)(
    'is verified by Sigil: BouncyCastle’s CMSSignedDataGenerator with SM3withSM2',
    async () => {
      const templ = '/ByteRange [0 0000000000 0000000000 0000000000]';
      const unsignedPdf = handPdf([
        '<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R]/SigFlags 3>>>>',
        '<</Type/Pages/Kids[3 0 R]/Count 1>>',
        '<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 6 0 R/Annots[4 0 R]>>',
        '<</Type/Annot/Subtype/Widget/FT/Sig/T(Signature1)/V 5 0 R/Rect[0 0 0 0]/F 132/P 3 0 R>>',
        signatureDictionary('', 4096),
        streamBody('', 'BT 72 700 Td (Signed by BouncyCastle) Tj ET'),
      ]);
      const text = unsignedPdf.toString('latin1');
      const brAt = text.indexOf(templ);
      const contentsAt = text.indexOf('/Contents <', brAt) + '/Contents '.length;
      const contentsEnd = text.indexOf('>', contentsAt) + 1;
      const pdf = Buffer.from(unsignedPdf);
      pdf.write(
        `/ByteRange [0 ${contentsAt} ${contentsEnd} ${pdf.length - contentsEnd}]`.padEnd(templ.length, ' '),
        brAt,
        'latin1',
      );
      const content = Buffer.concat([pdf.subarray(0, contentsAt), pdf.subarray(contentsEnd)]);
      const out = tmp.file('bc.p7s');
      const made = bouncyCastle(
        'sign',
        file('bc-key.der', pki.outsiderKey.export({ format: 'der', type: 'pkcs8' })),
        out,
        file('bc-content', content),
        file('bc-cert.der', pki.outsider.certificate),
        file('bc-ca.der', pki.ca),
        file('bc-root.der', pki.root),
      )!;
      expect(made.out).toMatch(/signed \d+ bytes/);
      pdf.write(readFileSync(out).toString('hex'), contentsAt + 1, 'latin1');
      const cms = parseSignedData(readFileSync(out));
      const si = cms.signerInfos[0]!;
      // What BouncyCastle writes for SM3withSM2: digest SM3, signatureAlgorithm SM2-with-SM3 (1.2.156.10197.1.501).
      expect(si.digestAlgorithmOid).toBe(OID.sm3);
      expect(si.signatureAlgorithm.toString('hex')).toBe('300a06082a811ccf55018375');
      const report = await verifyPdf(pdf, { trustAnchors: [pki.root] });
      const s = report.signatures[0]!;
      expect(s.problems).toEqual([]);
      expect(s).toMatchObject({
        valid: true,
        algorithm: 'SM2-with-SM3',
        subFilter: 'adbe.pkcs7.detached',
        signer: { commonName: '李四' },
      });
      // And a changed byte of it is refused.
      const changed = flip(pdf, pdf.indexOf('BouncyCastle'));
      expect((await verifyPdf(changed, { trustAnchors: [pki.root] })).signatures[0]).toMatchObject({
        valid: false,
        digestMatches: false,
      });
    },
  );
});

describe('sigil pdf sign --profile sm2', () => {
  async function sigil(...args: string[]): Promise<{ status: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
    process.exitCode = undefined;
    try {
      const status = await main(['node', 'sigil', ...args]);
      return { status, out, err };
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      process.exitCode = undefined;
    }
  }

  it('signs with an SM2 PKCS#12 in the sm2 profile (by default and when asked), refuses it under pades', async () => {
    const p12 = file(
      'sm2.p12',
      writePkcs12({
        key: pki.outsiderKey,
        certificate: pki.outsider.certificate,
        chain: [pki.ca, pki.root],
        password: 'pw',
      }),
    );
    const input = file('cli-in.pdf', unsigned);
    const root = file('cli-root.pem', derToPem(pki.root));
    const asked = await sigil(
      'pdf',
      'sign',
      input,
      file('cli-sm2.pdf', ''),
      '--p12',
      p12,
      '--password',
      'pw',
      '--profile',
      'sm2',
    );
    expect(asked.err).toBe('');
    expect(asked.out).toMatch(/signed .*cli-sm2\.pdf \(SM2\/SM3, \d+ bytes\)/);
    const verified = await sigil('pdf', 'verify', tmp.file('cli-sm2.pdf'), '--trust', root);
    expect(verified.out).toMatch(/VALID signature \(SM2\/SM3\) by 李四/);
    expect(verified.status).toBe(0);
    const byDefault = await sigil('pdf', 'sign', input, file('cli-default.pdf', ''), '--p12', p12, '--password', 'pw');
    expect(byDefault.status).toBe(0);
    expect(readFileSync(tmp.file('cli-default.pdf')).includes('/SubFilter /adbe.pkcs7.detached')).toBe(true);
    const pades = await sigil(
      'pdf',
      'sign',
      input,
      file('cli-pades.pdf', ''),
      '--p12',
      p12,
      '--password',
      'pw',
      '--profile',
      'pades',
    );
    expect(pades.status).toBe(2);
    expect(pades.err).toMatch(/national-cryptography profile \(sm2\), not PAdES/);
    const unknown = await sigil(
      'pdf',
      'sign',
      input,
      file('cli-x.pdf', ''),
      '--p12',
      p12,
      '--password',
      'pw',
      '--profile',
      'gm',
    );
    expect(unknown.status).toBe(2);
    expect(unknown.err).toMatch(/must be one of pades, sm2/);
  });
});
