// SM3 time-stamps: the built-in RFC 3161 TSA answers SM3 message imprints (1.2.156.10197.1.401) and,
// with an SM2 key and a TSA certificate (timeStamping EKU, critical), signs its tokens SM2-with-SM3.
// Used for the SES_Signature time-stamp and the SM2 PDF profile's signature time-stamp. Each attack
// is checked by Sigil and by BouncyCastle's TimeStampToken.validate (test/signing/java/CmsCheck.java);
// openssl ts checks what OpenSSL 3.0 can (SM3 imprints; not SM2 tokens, whose ID it cannot set).
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitString } from '@peculiar/asn1-schema';
import { encode } from '../../src/signing/asn1.js';
import { generateKey, issueTsaCertificate } from '../../src/signing/ca.js';
import { bytesOf, childrenOf, readTlv, wrap } from '../../src/signing/tlv.js';
import { encodeSignedData, parseSignedData, signAttributes } from '../../src/signing/cms.js';
import { OID } from '../../src/signing/oids.js';
import { signPdf } from '../../src/signing/pades.js';
import { validatePath } from '../../src/signing/path-validation.js';
import { issueSealFile } from '../../src/signing/ses/seal.js';
import { decodeSesSignature, signSesSignature, verifySesSignature } from '../../src/signing/ses/signature.js';
import { createKeySigner, signerFromPem, withCertificate, type Signer } from '../../src/signing/signer.js';
import { sm3 } from '../../src/signing/sm2.js';
import {
  buildTimeStampRequest,
  checkTimestampToken,
  createInProcessTimestamper,
  parseTimeStampResponse,
  parseTstInfo,
  respondToTimeStampRequest,
  type TimeStampAuthority,
  type Timestamper,
} from '../../src/signing/tsa.js';
import { verifyPdf } from '../../src/signing/verify.js';
import { derToPem, parseCertificate } from '../../src/signing/x509.js';
import { buildPdf } from './pdf-fixtures.js';
import { OpensslSm2Pki } from './sm2-pki.js';
import { sm2TestPki, type Sm2TestPki } from './sm2-support.js';
import { requireTool, run, sealPng, tempDir, testPki } from './support.js';

const JARS = ['bcprov.jar', 'bcpkix.jar', 'bcutil.jar'].map((jar) => `/usr/share/java/${jar}`);
const SOURCE = join(import.meta.dirname, 'java', 'CmsCheck.java');
const hasJava =
  spawnSync('sh', ['-c', 'command -v javac && command -v java'], { encoding: 'utf8' }).status === 0 &&
  JARS.every((jar) => existsSync(jar));
const required = process.env.REQUIRE_BROWSER_TESTS === '1';
if (!hasJava && !required)
  console.warn('sm2-tsa.test.ts: the BouncyCastle checks are skipped: javac or BouncyCastle is missing');

let tmp: ReturnType<typeof tempDir>;
let classes: string | null = null;
let pki: Sm2TestPki;
let tsa: TimeStampAuthority;
let timestamper: Timestamper;

beforeAll(async () => {
  requireTool('openssl');
  if (required && !hasJava) throw new Error('REQUIRE_BROWSER_TESTS=1 but javac or BouncyCastle is missing');
  tmp = tempDir('sigil-sm2-tsa-');
  if (hasJava) {
    classes = tmp.file('classes');
    run('javac', ['-d', classes, '-cp', JARS.join(':'), SOURCE]);
  }
  pki = await sm2TestPki();
  const key = createKeySigner(await generateKey('SM2'));
  const certificate = await issueTsaCertificate({
    issuer: { signer: pki.caSigner, certificate: pki.ca },
    subject: { commonName: '测试集团 SM2 时间戳服务', organization: '测试集团' },
    publicKey: key.publicKey,
  });
  tsa = { signer: withCertificate(key, certificate, [pki.ca, pki.root]) };
  timestamper = createInProcessTimestamper(tsa);
}, 120_000);
afterAll(() => tmp?.remove());

function bouncyCastle(...args: string[]): { ok: boolean; out: string } | null {
  if (!classes) return null;
  const result = run('java', ['-cp', [classes, ...JARS].join(':'), 'CmsCheck', ...args], { allowFailure: true });
  if (result.status !== 0 && result.status !== 1) throw new Error(`CmsCheck failed to run:\n${result.out}`);
  return { ok: result.status === 0 && !/INVALID/.test(result.out), out: result.out };
}
const file = (name: string, data: Buffer | string) => tmp.file(name, data);

/** The token's TSTInfo signed again by `signer` (SM2-with-SM3, with its certificates): a token it never got from the TSA. */
async function resign(token: Buffer, signer: Signer): Promise<Buffer> {
  const tstInfo = parseSignedData(token).content!;
  const parts = await signAttributes({
    signer,
    hash: 'SM3',
    digest: sm3(tstInfo),
    contentType: OID.tstInfo,
    content: tstInfo,
    includeChain: true,
  });
  return encodeSignedData(parts);
}

describe('SM3 imprints and SM2 time-stamp tokens', () => {
  const data = Buffer.from('签章值 signature value to be time-stamped');
  let token: Buffer;

  beforeAll(async () => {
    token = await timestamper.timestamp(sm3(data), 'SM3');
  });

  it('answers an SM3 imprint with a token signed SM2-with-SM3, which Sigil and BouncyCastle verify', () => {
    const cms = parseSignedData(token);
    const info = parseTstInfo(cms.content!);
    expect(info.hash).toBe('SM3');
    expect(info.imprint.equals(sm3(data))).toBe(true);
    const si = cms.signerInfos[0]!;
    expect(si.digestAlgorithmOid).toBe(OID.sm3);
    expect(si.signatureAlgorithm.toString('hex')).toBe('300a06082a811ccf55018375');
    const check = checkTimestampToken(token, { data: [data] });
    expect(check.problems).toEqual([]);
    expect(check.ok).toBe(true);
    const path = validatePath({
      leaf: parseCertificate(check.tsaCertificate!),
      pool: check.certificates.map((c) => parseCertificate(c)),
      anchors: [parseCertificate(pki.root)],
      at: check.genTime!,
      purpose: 'timestamping',
      crls: [],
    });
    expect(path.problems).toEqual([]);
    expect(path.valid).toBe(true);
    const bc = bouncyCastle('tst', file('token.der', token), file('data', data));
    if (bc) {
      expect(bc.out).toMatch(/imprint-algorithm 1\.2\.156\.10197\.1\.401/);
      expect(bc.out).toMatch(/token-signature-algorithm 1\.2\.156\.10197\.1\.501/);
      expect(bc.out).toMatch(/tst-signature VALID\ntst-imprint VALID/);
      expect(bc.ok).toBe(true);
    }
  });

  it('records what openssl ts -verify says of an SM2 token (OpenSSL 3.0 has no distid there)', () => {
    const result = run(
      'openssl',
      [
        'ts',
        '-verify',
        '-data',
        file('ossl-data', data),
        '-in',
        file('ossl-token.der', token),
        '-token_in',
        '-CAfile',
        file('ossl-root.pem', derToPem(pki.root)),
        '-untrusted',
        file('ossl-ca.pem', derToPem(pki.ca)),
      ],
      { allowFailure: true },
    );
    console.info(`openssl ts -verify on an SM2 token: exit ${result.status}\n${result.out.trim()}`);
  });

  it('refuses a token over other data (wrong imprint), as BouncyCastle does', () => {
    const other = Buffer.from('another signature value');
    const check = checkTimestampToken(token, { data: [other] });
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual(['the time-stamp is not over this signature (message imprint differs)']);
    const bc = bouncyCastle('tst', file('token.der', token), file('other', other));
    if (bc) {
      expect(bc.ok).toBe(false);
      expect(bc.out).toMatch(/tst-signature VALID\ntst-imprint INVALID/);
    }
  });

  it('refuses a token signed by another key under the TSA certificate, as BouncyCastle does', async () => {
    const impostor: Signer = { ...tsa.signer, sign: (d, h) => pki.outsider.sign(d, h) };
    const forged = await resign(token, impostor);
    const check = checkTimestampToken(forged, { data: [data] });
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual(["the TSA's signature on the token does not verify"]);
    const bc = bouncyCastle('tst', file('forged.der', forged), file('data', data));
    if (bc) {
      expect(bc.ok).toBe(false);
      expect(bc.out).toMatch(/tst-signature INVALID/);
    }
  });

  it('refuses a token from a certificate without the timeStamping EKU, or with it not critical, as BouncyCastle does', async () => {
    // A person's certificate: digitalSignature, e-mail and document signing, no timeStamping.
    const byPerson = await resign(token, pki.person);
    const check = checkTimestampToken(byPerson, { data: [data] });
    expect(check.ok).toBe(false);
    expect(check.problems.join('\n')).toMatch(/not a time-stamping certificate/);
    const bc = bouncyCastle('tst', file('by-person.der', byPerson), file('data', data));
    if (bc) {
      expect(bc.ok).toBe(false);
      expect(bc.out).toMatch(/tst-signature INVALID .*ExtendedKeyUsage/);
    }
    // timeStamping, but not marked critical (RFC 3161 §2.3 wants it critical), made by openssl.
    const openssl = new OpensslSm2Pki(tmp.dir);
    const root = openssl.root('tsa-root', '/C=CN/CN=TSA Root');
    const loose = openssl.issue('loose-tsa', {
      issuer: root,
      subject: '/C=CN/CN=Loose TSA',
      extensions: [
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature',
        'extendedKeyUsage = timeStamping',
      ],
    });
    const looseSigner = signerFromPem({
      key: readFileSync(loose.keyFile, 'utf8'),
      certificates: readFileSync(loose.certFile, 'utf8') + readFileSync(root.certFile, 'utf8'),
    });
    const byLoose = await resign(token, looseSigner);
    const looseCheck = checkTimestampToken(byLoose, { data: [data] });
    expect(looseCheck.ok).toBe(false);
    expect(looseCheck.problems.join('\n')).toMatch(/timeStamping alone, critical/);
    const bcLoose = bouncyCastle('tst', file('by-loose.der', byLoose), file('data', data));
    if (bcLoose) {
      expect(bcLoose.ok).toBe(false);
      expect(bcLoose.out).toMatch(/tst-signature INVALID .*critical/);
    }
    // The authority itself will not sign with either.
    const request = buildTimeStampRequest(sm3(data), 'SM3', randomBytes(8));
    await expect(respondToTimeStampRequest({ signer: pki.person }, request)).rejects.toThrow(
      /timeStamping, marked critical/,
    );
    await expect(respondToTimeStampRequest({ signer: looseSigner }, request)).rejects.toThrow(
      /timeStamping, marked critical/,
    );
    // Nor the same authority called in-process, without a request.
    for (const signer of [pki.person, looseSigner])
      await expect(createInProcessTimestamper({ signer }).timestamp(sm3(data), 'SM3')).rejects.toThrow(
        /timeStamping, marked critical/,
      );
  });

  it('rejects an SM3 imprint of the wrong length, and accepts SM3 at an RSA TSA (openssl ts agrees)', async () => {
    const short = await respondToTimeStampRequest(
      tsa,
      buildTimeStampRequest(Buffer.alloc(20, 1), 'SM3', randomBytes(8)),
    );
    expect(() => parseTimeStampResponse(short)).toThrow(/hash length does not match its algorithm/);
    await expect(timestamper.timestamp(Buffer.alloc(20, 1), 'SM3')).rejects.toThrow(
      /hash length does not match its algorithm/,
    );
    const rsa = await testPki();
    const rsaToken = await rsa.timestamper.timestamp(sm3(data), 'SM3');
    const check = checkTimestampToken(rsaToken, { data: [data] });
    expect(check.problems).toEqual([]);
    const chain = file('rsa-chain.pem', derToPem(rsa.ca) + derToPem(rsa.root));
    const verify = (d: Buffer) =>
      run(
        'openssl',
        [
          'ts',
          '-verify',
          '-data',
          file('rsa-data', d),
          '-in',
          file('rsa-token.der', rsaToken),
          '-token_in',
          '-CAfile',
          chain,
        ],
        {
          allowFailure: true,
        },
      ).out;
    expect(verify(data)).toMatch(/Verification: OK/);
    expect(verify(Buffer.from('other'))).not.toMatch(/Verification: OK/);
    expect(checkTimestampToken(rsaToken, { data: [Buffer.from('other')] }).ok).toBe(false);
  });
});

describe('SM2 time-stamps on seal signatures and SM2 PDF signatures', () => {
  it('time-stamps an SES_Signature with SM3 through the SM2 TSA; a token moved from another signature is refused', async () => {
    const seal = await issueSealFile({
      maker: pki.maker,
      type: 1,
      name: '测试有限公司公章',
      signers: [pki.person.certificate],
      validStart: new Date(Date.now() - 86_400_000),
      validEnd: new Date(Date.now() + 30 * 86_400_000),
      picture: { type: 'png', data: sealPng(), widthMm: 40, heightMm: 40 },
    });
    const data = Buffer.from('<ofd:Signature/>');
    const propertyInfo = '/Doc_0/Signs/Sign_0/Signature.xml';
    const der = await signSesSignature({ seal, signer: pki.person, data, propertyInfo, timestamper });
    const decoded = decodeSesSignature(der);
    const info = parseTstInfo(parseSignedData(decoded.timeStamp!).content!);
    expect(info.hash).toBe('SM3');
    expect(info.imprint.equals(sm3(decoded.signature))).toBe(true);
    const anchors = { trustAnchors: [pki.root], intermediates: [pki.ca] };
    const verdict = verifySesSignature(der, { data, ...anchors });
    expect(verdict.problems).toEqual([]);
    expect(verdict).toMatchObject({ valid: true, checks: { timeStamp: 'valid' } });
    const bc = bouncyCastle('tst', file('ses-token.der', decoded.timeStamp!), file('ses-sig', decoded.signature));
    if (bc) expect(bc.out).toMatch(/tst-signature VALID\ntst-imprint VALID/);

    // The token of another signature, put in this one's place.
    const other = decodeSesSignature(
      await signSesSignature({ seal, signer: pki.person, data, propertyInfo, timestamper }),
    );
    const outer = readTlv(der, 0, der.length, 'SES_Signature');
    const [tbs, cert, algorithm, signature] = childrenOf(der, outer, 'SES_Signature');
    const moved = wrap(0x30, [
      ...[tbs!, cert!, algorithm!, signature!].map((t) => bytesOf(der, t)),
      wrap(0xa0, [encode(new BitString(other.timeStamp!))]),
    ]);
    const movedVerdict = verifySesSignature(moved, { data, ...anchors });
    expect(movedVerdict.valid).toBe(false);
    expect(movedVerdict.problems.join('\n')).toMatch(/time-stamp: the time-stamp is not over this signature/);
    const bcMoved = bouncyCastle(
      'tst',
      file('ses-token-other.der', other.timeStamp!),
      file('ses-sig', decoded.signature),
    );
    if (bcMoved) expect(bcMoved.out).toMatch(/tst-imprint INVALID/);
  });

  it('time-stamps the SM2 PDF signature (B-T) and trusts the time; refuses a wrong imprint and a TSA without the EKU', async () => {
    const unsigned = buildPdf({ compress: false });
    const signed = await signPdf(unsigned, { signer: pki.sealHolder, level: 'B-T', timestamper });
    const report = await verifyPdf(signed, { trustAnchors: [pki.root] });
    const s = report.signatures[0]!;
    expect(s.problems).toEqual([]);
    expect(s).toMatchObject({
      valid: true,
      algorithm: 'SM2-with-SM3',
      timestamped: true,
      timestampValid: true,
      timestampTrusted: true,
      timestampAuthority: expect.stringContaining('测试集团 SM2 时间戳服务'),
    });
    const [a, b, c] = s.byteRange as [number, number, number, number];
    const cms = parseSignedData(Buffer.from(signed.subarray(a + b + 1, c - 1).toString('latin1'), 'hex'));
    const si = cms.signerInfos[0]!;
    const stamp = si.unsignedAttributes.get(OID.timeStampToken)![0]!;
    const tst = parseTstInfo(parseSignedData(stamp).content!);
    expect(tst.hash).toBe('SM3');
    expect(tst.imprint.equals(sm3(si.signature))).toBe(true);
    expect(s.signedAt).toBe(tst.genTime.toISOString());
    const bc = bouncyCastle('tst', file('pdf-token.der', stamp), file('pdf-sig', si.signature));
    if (bc) expect(bc.out).toMatch(/tst-signature VALID\ntst-imprint VALID/);

    // An SM2 TSA under a root the verifier does not trust: the token holds, its time proves nothing.
    const foreign = await sm2TestPki();
    const foreignKey = createKeySigner(await generateKey('SM2'));
    const foreignTsa = withCertificate(
      foreignKey,
      await issueTsaCertificate({
        issuer: { signer: foreign.caSigner, certificate: foreign.ca },
        subject: { commonName: 'Foreign SM2 TSA' },
        publicKey: foreignKey.publicKey,
      }),
      [foreign.ca, foreign.root],
    );
    const foreignStamped = await verifyPdf(
      await signPdf(unsigned, {
        signer: pki.sealHolder,
        level: 'B-T',
        timestamper: createInProcessTimestamper({ signer: foreignTsa }),
      }),
      { trustAnchors: [pki.root] },
    );
    expect(foreignStamped.signatures[0]).toMatchObject({ timestampValid: true, timestampTrusted: false });
    expect(foreignStamped.signatures[0]!.problems.join('\n')).toMatch(/time-stamp: /);

    // A TSA that stamps something else than this signature value.
    const elsewhere: Timestamper = {
      name: 'elsewhere',
      timestamp: (_d, h) => timestamper.timestamp(sm3(Buffer.from('x')), h),
    };
    const wrong = await verifyPdf(
      await signPdf(unsigned, { signer: pki.sealHolder, level: 'B-T', timestamper: elsewhere }),
      {
        trustAnchors: [pki.root],
      },
    );
    expect(wrong.signatures[0]).toMatchObject({ valid: false, timestampValid: false });
    expect(wrong.signatures[0]!.problems.join('\n')).toMatch(/time-stamp: the time-stamp is not over this signature/);

    // A token over the right imprint, signed by a certificate that is no TSA's.
    const noEku: Timestamper = {
      name: 'no EKU',
      timestamp: async (d, h) => resign(await timestamper.timestamp(d, h), pki.person),
    };
    const byPerson = await verifyPdf(
      await signPdf(unsigned, { signer: pki.sealHolder, level: 'B-T', timestamper: noEku }),
      {
        trustAnchors: [pki.root],
      },
    );
    expect(byPerson.signatures[0]).toMatchObject({ valid: false, timestampValid: false });
    expect(byPerson.signatures[0]!.problems.join('\n')).toMatch(/time-stamp: .*not a time-stamping certificate/);
  });
});
