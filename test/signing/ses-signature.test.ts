// Seal signatures (GB/T 38540-2020 SES_Signature v4), verified per §7.3 in full. ofdrw's signatures
// (unzipped from its OFD files by `unzip`) are judged, including the checks ofdrw's own validator
// skips; Sigil's signatures are checked by openssl (pkeyutl for the SM2 signature over the TBS_Sign
// bytes that `openssl asn1parse` delimits, `ts -verify` for the time-stamp); forged signatures are
// assembled by hand and signed by openssl.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningError } from '../../src/signing/errors.js';
import { issueSealFile } from '../../src/signing/ses/seal.js';
import {
  decodeSesSignature,
  signSesSignature,
  verifySesSignature,
  type SignSesSignatureInput,
} from '../../src/signing/ses/signature.js';
import { sm3 } from '../../src/signing/sm2.js';
import { derToPem } from '../../src/signing/x509.js';
import { opensslSm2Verifies, sm2TestPki, type Sm2TestPki } from './sm2-support.js';
import { requireTool, run, sealPng, tempDir, testPki, type TestPki } from './support.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/ofd');
const SIGN_PATH = 'Doc_0/Signs/Sign_0';

let tmp: ReturnType<typeof tempDir>;
let pki: Sm2TestPki;
let rsaPki: TestPki;
let seal: Buffer;

/** A file inside an OFD package, read by `unzip` (not by Sigil). */
function unzipFile(ofd: string, path: string): Buffer {
  const out = tmp.file(`${ofd}-${path.replace(/\//g, '_')}`);
  run('sh', ['-c', `unzip -p '${FIXTURES}/${ofd}' '${path}' > '${out}'`]);
  return readFileSync(out);
}

beforeAll(async () => {
  requireTool('openssl');
  requireTool('unzip');
  tmp = tempDir('sigil-ses-sig-');
  pki = await sm2TestPki();
  rsaPki = await testPki();
  seal = await issueSealFile({
    maker: pki.maker,
    type: 2,
    name: '测试有限公司合同专用章',
    signers: [pki.sealHolder.certificate, pki.person.certificate],
    validStart: new Date(Date.now() - 86_400_000),
    validEnd: new Date(Date.now() + 365 * 86_400_000),
    picture: { type: 'png', data: sealPng(), widthMm: 42, heightMm: 42 },
  });
});
afterAll(() => tmp?.remove());

interface Element {
  offset: number;
  headerLength: number;
  length: number;
}
function opensslElements(der: Buffer, depth: number): Element[] {
  const out = run('openssl', ['asn1parse', '-inform', 'DER', '-in', tmp.file(`asn1-${der.length}.der`, der)]).out;
  const elements: Element[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+):d=(\d+)\s+hl=(\d+)\s+l=\s*(\d+)/.exec(line);
    if (m && Number(m[2]) === depth)
      elements.push({ offset: Number(m[1]), headerLength: Number(m[3]), length: Number(m[4]) });
  }
  return elements;
}
const whole = (der: Buffer, e: Element) => der.subarray(e.offset, e.offset + e.headerLength + e.length);
const bits = (der: Buffer, e: Element) =>
  der.subarray(e.offset + e.headerLength + 1, e.offset + e.headerLength + e.length);
const octets = (der: Buffer, e: Element) =>
  der.subarray(e.offset + e.headerLength, e.offset + e.headerLength + e.length);
function flip(der: Buffer, at: number): Buffer {
  const copy = Buffer.from(der);
  copy[at]! ^= 0x01;
  return copy;
}
/** DER header for a SEQUENCE (or other tag) of `length` bytes, written out by hand. */
function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}

const sign = (overrides: Partial<SignSesSignatureInput> = {}) =>
  signSesSignature({
    seal,
    signer: pki.person,
    data: Buffer.from('<ofd:Signature>…</ofd:Signature>'),
    propertyInfo: '/Doc_0/Signs/Sign_0/Signature.xml',
    ...overrides,
  });

describe('seal signatures made by ofdrw', () => {
  it('verifies SignedValueV4.dat in its signature, signer list, seal and certificates; its data hash cannot be', () => {
    const der = readFileSync(`${FIXTURES}/SignedValueV4.dat`);
    const verdict = verifySesSignature(der);
    expect(verdict.problems).toEqual([]);
    expect(verdict.checks).toMatchObject({
      structure: true,
      signature: true,
      signerListed: true,
      signerCertificate: true,
      dataHash: 'not-checked',
      timeStamp: 'absent',
    });
    expect(verdict.checks.seal).toMatchObject({ valid: true, checks: { makerSignature: true, validity: true } });
    expect(verdict.signature).toMatchObject({ version: 4, propertyInfo: '/Doc_0/Signs/Sign_0/Signature.xml' });
    expect(verdict.signingTime?.toISOString()).toBe('2020-10-12T11:14:03.000Z');
    // Without the protected data the verdict is never "valid".
    expect(verdict.valid).toBe(false);
    expect(verdict.notices.join('\n')).toMatch(/was not given, so dataHash was not checked/);
    // The fixture's dataHash is 32 zero bytes: no data can match it.
    expect(verdict.signature!.dataHash.equals(Buffer.alloc(32))).toBe(true);
    expect(verifySesSignature(der, { data: Buffer.from('anything') }).checks.dataHash).toBe('mismatch');
    // openssl agrees on the signer's SM2 signature over TBS_Sign.
    const [tbs, cert, , signature] = opensslElements(der, 1);
    expect(opensslSm2Verifies(tmp, octets(der, cert!), whole(der, tbs!), bits(der, signature!))).toBe(true);
  });

  it('accepts v4signed.ofd in full against its Signature.xml, and refuses it when Signature.xml changes', () => {
    const der = unzipFile('v4signed.ofd', `${SIGN_PATH}/SignedValue.dat`);
    const data = unzipFile('v4signed.ofd', `${SIGN_PATH}/Signature.xml`);
    const verdict = verifySesSignature(der, { data });
    expect(verdict.problems).toEqual([]);
    expect(verdict.valid).toBe(true);
    expect(verdict.checks.dataHash).toBe('match');
    // The seal has since expired: a notice, not a failure (§7.3 judges it at the signing time).
    expect(verdict.notices.join('\n')).toMatch(/no longer valid now; it was at the signing time/);
    const changed = verifySesSignature(der, { data: flip(data, 200) });
    expect(changed.valid).toBe(false);
    expect(changed.checks.dataHash).toBe('mismatch');
    expect(changed.problems.join('\n')).toMatch(/data was changed after signing.*Signature\.xml/);
  });

  it('refuses SESV4SignDoc.ofd: signed in 2026 with a seal and a certificate that ended in 2022', () => {
    const der = unzipFile('SESV4SignDoc.ofd', `${SIGN_PATH}/SignedValue.dat`);
    const data = unzipFile('SESV4SignDoc.ofd', `${SIGN_PATH}/Signature.xml`);
    const verdict = verifySesSignature(der, { data });
    // What ofdrw's own validator checks holds …
    expect(verdict.checks).toMatchObject({ signature: true, dataHash: 'match', signerListed: true });
    expect(verdict.checks.seal?.checks.makerSignature).toBe(true);
    // … but GB/T 38540 §7.3 d) and e) judge the seal and the certificate at the signing time.
    expect(verdict.valid).toBe(false);
    expect(verdict.problems.join('\n')).toMatch(
      /seal: the seal is not valid at 2026-08-04T02:08:09.000Z \(valid 2020-04-22.* to 2022-04-22/,
    );
    expect(verdict.problems.join('\n')).toMatch(/signer's certificate was not valid at the signing time 2026-08-04/);
  });

  it('refuses every sampled one-byte change to an ofdrw signature, with a reason', () => {
    const der = unzipFile('v4signed.ofd', `${SIGN_PATH}/SignedValue.dat`);
    const data = unzipFile('v4signed.ofd', `${SIGN_PATH}/Signature.xml`);
    const [tbs, , , signature] = opensslElements(der, 1);
    const ends = [
      tbs!.offset + tbs!.headerLength + tbs!.length,
      signature!.offset + signature!.headerLength + signature!.length,
    ];
    let tried = 0;
    for (let at = 0; at < ends[0]!; at += 41) {
      const verdict = verifySesSignature(flip(der, at), { data });
      expect(verdict.valid, `byte ${at} changed`).toBe(false);
      expect(verdict.problems.length).toBeGreaterThan(0);
      tried++;
    }
    for (let at = signature!.offset; at < ends[1]!; at += 3) {
      expect(verifySesSignature(flip(der, at), { data }).valid, `byte ${at} changed`).toBe(false);
      tried++;
    }
    expect(tried).toBeGreaterThan(100);
  });
});

describe('seal signatures Sigil makes', () => {
  it('signs a data hash with a seal; Sigil verifies it in full and openssl verifies the SM2 signature', async () => {
    const data = Buffer.from('<ofd:Signature>…</ofd:Signature>');
    const der = await sign({ data });
    const decoded = decodeSesSignature(der);
    expect(decoded).toMatchObject({ version: 4, propertyInfo: '/Doc_0/Signs/Sign_0/Signature.xml', timeStamp: null });
    expect(decoded.dataHash.equals(sm3(data))).toBe(true);
    expect(decoded.seal.der.equals(seal)).toBe(true);
    expect(decoded.certificate.equals(pki.person.certificate)).toBe(true);

    const verdict = verifySesSignature(der, { data, trustAnchors: [pki.root], intermediates: [pki.ca] });
    expect(verdict.problems).toEqual([]);
    expect(verdict.valid).toBe(true);
    expect(verdict.checks).toMatchObject({ signerChain: 'trusted', dataHash: 'match', signerListed: true });
    expect(verdict.checks.seal?.checks.chain).toBe('trusted');

    const text = run('openssl', ['asn1parse', '-inform', 'DER', '-in', tmp.file('sigil-sig.der', der), '-i']).out;
    expect(text).toMatch(/^\s*\d+:d=2\s+hl=2 l=\s*1 prim:\s+INTEGER\s+:04/m);
    expect(text).toMatch(/GENERALIZEDTIME\s+:\d{14}Z/);
    expect(text).toMatch(/IA5STRING\s+:\/Doc_0\/Signs\/Sign_0\/Signature\.xml/);
    const [tbs, cert, , signature] = opensslElements(der, 1);
    expect(octets(der, cert!).equals(pki.person.certificate)).toBe(true);
    expect(opensslSm2Verifies(tmp, pki.person.certificate, whole(der, tbs!), bits(der, signature!))).toBe(true);
    const changedTbs = flip(whole(der, tbs!), 40);
    expect(opensslSm2Verifies(tmp, pki.person.certificate, changedTbs, bits(der, signature!))).toBe(false);
    expect(verifySesSignature(flip(der, tbs!.offset + 40), { data }).checks.signature).toBe(false);
  });

  it('refuses a signature by someone not on the seal’s list (assembled by hand, signed by openssl)', async () => {
    const data = Buffer.from('contract');
    const good = await sign({ data });
    const [tbs] = opensslElements(good, 1);
    const tbsBytes = whole(good, tbs!);
    const keyFile = tmp.file('outsider.key', pki.outsiderKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    const sigFile = tmp.file('outsider.sig');
    run('openssl', [
      'pkeyutl',
      '-sign',
      '-inkey',
      keyFile,
      '-rawin',
      '-digest',
      'sm3',
      '-pkeyopt',
      'distid:1234567812345678',
      '-in',
      tmp.file('outsider.tbs', tbsBytes),
      '-out',
      sigFile,
    ]);
    const forged = tlv(
      0x30,
      Buffer.concat([
        tbsBytes,
        tlv(0x04, pki.outsider.certificate),
        Buffer.from('06082a811ccf55018375', 'hex'),
        tlv(0x03, Buffer.concat([Buffer.from([0]), readFileSync(sigFile)])),
      ]),
    );
    const verdict = verifySesSignature(forged, { data });
    expect(verdict.checks.signature).toBe(true);
    expect(verdict.checks.signerListed).toBe(false);
    expect(verdict.valid).toBe(false);
    expect(verdict.problems.join('\n')).toMatch(/signer "CN=李四, O=另一公司" is not on the seal's list of signers/);
    await expect(sign({ signer: pki.outsider })).rejects.toThrow(/not on the seal's list of signers/);
  });

  it('refuses to sign with a seal that is not yet valid, changed, or with a non-SM2 key', async () => {
    const later = await issueSealFile({
      maker: pki.maker,
      type: 2,
      name: 'later',
      signers: [pki.person.certificate],
      validStart: new Date(Date.now() + 86_400_000),
      validEnd: new Date(Date.now() + 2 * 86_400_000),
      picture: { type: 'png', data: sealPng(), widthMm: 40, heightMm: 40 },
    });
    await expect(sign({ seal: later })).rejects.toThrow(/The seal cannot be used: the seal is not valid at/);
    await expect(sign({ seal: flip(seal, 200) })).rejects.toThrow(/seal maker's signature does not verify/);
    await expect(sign({ seal: Buffer.from('nope') })).rejects.toMatchObject({ code: 'seal_malformed' });
    await expect(sign({ signer: rsaPki.sealEc.signer })).rejects.toThrow(/made with an SM2 key/);
    await expect(sign({ propertyInfo: '/Doc_0/签名.xml' })).rejects.toThrow(/printable ASCII/);
  });

  it('adds an RFC 3161 time-stamp over the signature value that openssl ts verifies', async () => {
    const data = Buffer.from('stamped');
    const der = await sign({ data, timestamper: rsaPki.timestamper });
    const decoded = decodeSesSignature(der);
    expect(decoded.timeStamp).not.toBeNull();
    const anchors = { trustAnchors: [pki.root, rsaPki.root], intermediates: [pki.ca, rsaPki.ca] };
    const verdict = verifySesSignature(der, { data, ...anchors });
    expect(verdict.problems).toEqual([]);
    expect(verdict).toMatchObject({ valid: true, checks: { timeStamp: 'valid' } });
    expect(verdict.timeStampTime!.getTime()).toBeGreaterThanOrEqual(verdict.signingTime!.getTime());

    const chain = tmp.file('tsa-chain.pem', derToPem(rsaPki.ca) + derToPem(rsaPki.root));
    const ts = run(
      'openssl',
      [
        'ts',
        '-verify',
        '-data',
        tmp.file('sig-value', decoded.signature),
        '-in',
        tmp.file('token.der', decoded.timeStamp!),
        '-token_in',
        '-CAfile',
        chain,
      ],
      { allowFailure: true },
    );
    expect(ts.out).toMatch(/Verification: OK/);

    // Another signature's token moved onto this one: the imprint no longer matches, openssl agrees.
    const other = decodeSesSignature(await sign({ data, timestamper: rsaPki.timestamper }));
    const [tbs, cert, algorithm, signature] = opensslElements(der, 1);
    const moved = tlv(
      0x30,
      Buffer.concat([
        whole(der, tbs!),
        whole(der, cert!),
        whole(der, algorithm!),
        whole(der, signature!),
        tlv(0xa0, tlv(0x03, Buffer.concat([Buffer.from([0]), other.timeStamp!]))),
      ]),
    );
    const movedVerdict = verifySesSignature(moved, { data, ...anchors });
    expect(movedVerdict.valid).toBe(false);
    expect(movedVerdict.checks.timeStamp).toBe('invalid');
    expect(movedVerdict.problems.join('\n')).toMatch(/time-stamp: the time-stamp is not over this signature/);
    const tsMoved = run(
      'openssl',
      [
        'ts',
        '-verify',
        '-data',
        tmp.file('sig-value-2', decoded.signature),
        '-in',
        tmp.file('token-other.der', other.timeStamp!),
        '-token_in',
        '-CAfile',
        chain,
      ],
      { allowFailure: true },
    );
    expect(tsMoved.out).not.toMatch(/Verification: OK/);
  });

  it('refuses a claimed signing time later than the time-stamp', async () => {
    const data = Buffer.from('back-dated stamp');
    const der = await sign({ data, timestamper: rsaPki.timestamper, at: new Date(Date.now() + 3_600_000) });
    const verdict = verifySesSignature(der, { data });
    expect(verdict.valid).toBe(false);
    expect(verdict.checks.timeStamp).toBe('invalid');
    expect(verdict.problems.join('\n')).toMatch(/claimed signing time .* is later than the time-stamp/);
  });
});

describe('GM/T 0031-2025 (v5)', () => {
  it('signs with a v5 seal as version 5, and verifies it', async () => {
    // A v5 seal as ofdrw writes one without a time-stamp: four elements, header version 5.
    const [info, cert, algorithm] = opensslElements(seal, 1);
    const [, version] = opensslElements(seal, 3);
    const sealInfo = Buffer.from(whole(seal, info!));
    const at = version!.offset + version!.headerLength - info!.offset;
    expect(sealInfo[at]).toBe(4);
    sealInfo[at] = 5;
    const signature = await pki.maker.sign(sealInfo, 'SM3');
    const v5 = tlv(
      0x30,
      Buffer.concat([
        sealInfo,
        whole(seal, cert!),
        whole(seal, algorithm!),
        tlv(0x03, Buffer.concat([Buffer.from([0]), signature])),
      ]),
    );
    const data = Buffer.from('v5');
    const der = await sign({ seal: v5, data });
    const text = run('openssl', ['asn1parse', '-inform', 'DER', '-in', tmp.file('v5-sig.der', der)]).out;
    expect(text).toMatch(/^\s*\d+:d=2\s+hl=2 l=\s*1 prim:\s+INTEGER\s+:05/m);
    const verdict = verifySesSignature(der, { data });
    expect(verdict.problems).toEqual([]);
    expect(verdict.valid).toBe(true);
    expect(verdict.signature).toMatchObject({ version: 5, seal: { version: 5 } });
  });

  it('refuses to sign with a GM/T 0031-2014 (v1) seal', async () => {
    await expect(
      sign({ seal: readFileSync(`${FIXTURES}/UserV1.esl`), at: new Date('2021-01-01T00:00:00Z') }),
    ).rejects.toThrow(/this one is a GM\/T 0031-2014 \(v1\) seal/);
  });
});

describe('bad seal-signature files', () => {
  const refused = (der: Buffer, message: RegExp) => {
    let error: unknown;
    try {
      decodeSesSignature(der);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SigningError);
    expect((error as SigningError).code).toBe('seal_malformed');
    expect((error as SigningError).message).toMatch(message);
    const verdict = verifySesSignature(der, { data: Buffer.from('x') });
    expect(verdict).toMatchObject({ valid: false, checks: { structure: false } });
    expect(verdict.problems[0]).toMatch(message);
  };

  it('refuses a version that does not match its seal, other shapes, garbage and oversized input', async () => {
    const der = await sign();
    const [version] = opensslElements(der, 2);
    const five = Buffer.from(der);
    five[version!.offset + version!.headerLength] = 5;
    refused(five, /has version 5 but carries a version 4 seal/);
    const nine = Buffer.from(der);
    nine[version!.offset + version!.headerLength] = 9;
    refused(nine, /has version 9; only 4 and 5/);
    const top = opensslElements(der, 1);
    refused(tlv(0x30, Buffer.concat(top.slice(0, 2).map((e) => whole(der, e)))), /GM\/T 0031-2014 \(v1\)/);
    refused(tlv(0x30, whole(der, top[0]!)), /has 1 elements/);
    refused(Buffer.concat([der, Buffer.from([0, 0])]), /bytes follow the signature/);
    refused(Buffer.from('garbage'), /is not DER/);
    refused(Buffer.alloc(5 * 1024 * 1024, 0x30), /larger than/);
    refused(der.subarray(0, der.length - 1), /is not DER/);
  });
});
