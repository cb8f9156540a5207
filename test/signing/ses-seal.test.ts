// Electronic seals (GB/T 38540-2020 v4; GM/T 0031-2014 v1 and GM/T 0031-2025 v5 read): ofdrw's
// seals decode and their maker signatures verify; one changed byte is refused with a reason; seals
// Sigil issues are checked by openssl (element boundaries from `openssl asn1parse`, the maker's
// SM2 signature by `openssl pkeyutl` with the standard ID).
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningError } from '../../src/signing/errors.js';
import {
  SEAL_LIMITS,
  decodeSeal,
  isListedSigner,
  issueSealFile,
  verifySeal,
  type IssueSealInput,
} from '../../src/signing/ses/seal.js';
import { sm3 } from '../../src/signing/sm2.js';
import { opensslSm2Verifies, sm2TestPki, type Sm2TestPki } from './sm2-support.js';
import { requireTool, run, sealPng, tempDir } from './support.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/ofd');
const fixture = (name: string) => readFileSync(`${FIXTURES}/${name}`);

let tmp: ReturnType<typeof tempDir>;
let pki: Sm2TestPki;

beforeAll(async () => {
  requireTool('openssl');
  tmp = tempDir('sigil-ses-seal-');
  pki = await sm2TestPki();
});
afterAll(() => tmp?.remove());

interface Element {
  offset: number;
  headerLength: number;
  length: number;
}

/** The elements `openssl asn1parse` finds at depth `depth` (offsets into the file). */
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
/** A BIT STRING's bytes after its unused-bits octet. */
const bits = (der: Buffer, e: Element) =>
  der.subarray(e.offset + e.headerLength + 1, e.offset + e.headerLength + e.length);
const octets = (der: Buffer, e: Element) =>
  der.subarray(e.offset + e.headerLength, e.offset + e.headerLength + e.length);

function flip(der: Buffer, at: number): Buffer {
  const copy = Buffer.from(der);
  copy[at]! ^= 0x01;
  return copy;
}

async function issue(overrides: Partial<IssueSealInput> = {}): Promise<Buffer> {
  return issueSealFile({
    maker: pki.maker,
    type: 2,
    name: '测试有限公司合同专用章',
    signers: [pki.sealHolder.certificate, pki.person.certificate],
    validStart: new Date(Date.now() - 86_400_000),
    validEnd: new Date(Date.now() + 365 * 86_400_000),
    picture: { type: 'png', data: sealPng(), widthMm: 42, heightMm: 42 },
    ...overrides,
  });
}

describe('seals made by ofdrw', () => {
  it('decodes the v1, v4 and v5 fixtures, telling the versions apart by structure', () => {
    const v1 = decodeSeal(fixture('UserV1.esl'));
    expect(v1).toMatchObject({
      version: 1,
      headerVersion: 1,
      vendorId: 'OFDR&WTest',
      type: 1,
      name: 'OFDRW测试用印章',
    });
    expect(v1.id).toBe('40C8CDD24DEF43388B86E62CCE1D6832');
    expect(v1.certs).toHaveLength(1);
    expect(v1.validEnd.toISOString()).toBe('2022-04-22T02:18:07.000Z');
    const v4 = decodeSeal(fixture('UserV4.esl'));
    expect(v4).toMatchObject({
      version: 4,
      headerVersion: 4,
      type: 3,
      name: 'OFD R&W 测试用印章',
      certListType: 'certificates',
    });
    expect(v4.picture).toMatchObject({ type: 'png', widthMm: 40, heightMm: 40 });
    expect(v4.picture.data.subarray(1, 4).toString()).toBe('PNG');
    expect(v4.picture.data).toHaveLength(15_693);
    expect(v4.createDate.toISOString()).toBe('2020-04-22T02:09:00.000Z');
    const v5 = decodeSeal(fixture('UserV5.esl'));
    expect(v5).toMatchObject({ version: 5, headerVersion: 5, vendorId: 'OFDR&WTestV5', timeStamp: null });
  });

  it('verifies the maker signature of each, as openssl pkeyutl does over the bytes asn1parse delimits', () => {
    for (const name of ['UserV4.esl', 'UserV5.esl']) {
      const der = fixture(name);
      const seal = decodeSeal(der);
      const verdict = verifySeal(der, { at: seal.validStart });
      expect(verdict.checks.makerSignature, name).toBe(true);
      expect(verdict.signedOver).toBe('seal-info');
      // openssl: SESeal ::= SEQUENCE { eSealInfo, cert, signAlgID, signedValue }.
      const [info, cert, , signedValue] = opensslElements(der, 1);
      expect(opensslSm2Verifies(tmp, octets(der, cert!), whole(der, info!), bits(der, signedValue!))).toBe(true);
      expect(opensslSm2Verifies(tmp, octets(der, cert!), flip(whole(der, info!), 100), bits(der, signedValue!))).toBe(
        false,
      );
    }
    const v1 = fixture('UserV1.esl');
    const verdict = verifySeal(v1, { at: decodeSeal(v1).validStart });
    expect(verdict.checks.makerSignature).toBe(true);
    // GM/T 0031-2014 §6.1.1: the maker signs SEQUENCE { SES_SealInfo, cert, signatureAlgorithm }.
    expect(verdict.signedOver).toBe('seal-info-cert-algorithm');
    const [info, signInfo] = opensslElements(v1, 1);
    const inner = opensslElements(v1, 2).filter((e) => e.offset > signInfo!.offset);
    const [cert, algorithm, signData] = inner;
    const signed = Buffer.concat([whole(v1, info!), whole(v1, cert!), whole(v1, algorithm!)]);
    const sequence = Buffer.concat([Buffer.from([0x30, 0x82, signed.length >> 8, signed.length & 0xff]), signed]);
    expect(opensslSm2Verifies(tmp, octets(v1, cert!), sequence, bits(v1, signData!))).toBe(true);
  });

  it('accepts the v1 and v4 seals within their validity and refuses them after it, naming the dates', () => {
    for (const name of ['UserV1.esl', 'UserV4.esl']) {
      const der = fixture(name);
      const seal = decodeSeal(der);
      const inside = verifySeal(der, { at: new Date(seal.validStart.getTime() + 86_400_000) });
      expect(inside.problems).toEqual([]);
      expect(inside.valid).toBe(true);
      const now = verifySeal(der);
      expect(now.valid).toBe(false);
      expect(now.checks.validity).toBe(false);
      expect(now.problems.join('\n')).toMatch(/the seal is not valid at .* \(valid 2020-04-22.* to 2022-04-22/);
    }
  });

  it('refuses the v5 seal: its maker certificate had expired when it was made', () => {
    const der = fixture('UserV5.esl');
    const verdict = verifySeal(der, { at: decodeSeal(der).validStart });
    expect(verdict.checks.makerSignature).toBe(true);
    expect(verdict.checks.makerCertificate).toBe(false);
    expect(verdict.valid).toBe(false);
    expect(verdict.problems.join('\n')).toMatch(
      /maker's certificate was not valid when the seal was made \(2026-04-24.*valid 2020-04-21.* to 2022-04-21/,
    );
  });

  it('refuses every one-byte change to the signed seal information or the signature, with a reason', () => {
    for (const name of ['UserV1.esl', 'UserV4.esl']) {
      const der = fixture(name);
      const at = decodeSeal(der).validStart;
      const top = opensslElements(der, 1);
      // v4: SES_SealInfo and signedValue; v1: SES_SealInfo and SES_SignInfo's signData.
      const signature = name === 'UserV4.esl' ? top[3]! : opensslElements(der, 2).at(-1)!;
      const regions = [
        [0, top[0]!.offset + top[0]!.headerLength + top[0]!.length],
        [signature.offset, signature.offset + signature.headerLength + signature.length],
      ] as const;
      let tried = 0;
      for (const [start, end] of regions)
        for (let at_ = start; at_ < end; at_ += at_ < 700 || at_ >= signature.offset ? 7 : 997) {
          const verdict = verifySeal(flip(der, at_), { at });
          expect(verdict.valid, `${name}: byte ${at_} changed`).toBe(false);
          expect(verdict.problems.length, `${name}: byte ${at_} changed`).toBeGreaterThan(0);
          tried++;
        }
      expect(tried).toBeGreaterThan(100);
    }
    // A change in the picture is a change to what the maker signed.
    const der = fixture('UserV4.esl');
    const verdict = verifySeal(flip(der, 5_000), { at: decodeSeal(der).validStart });
    expect(verdict.checks.structure).toBe(true);
    expect(verdict.problems.join('\n')).toMatch(
      /seal maker's signature does not verify with the key of .*the seal was changed/,
    );
  });
});

describe('seals Sigil issues (.esl)', () => {
  it('issues a v4 seal that decodes to what was asked and that openssl checks', async () => {
    const der = await issue();
    const seal = decodeSeal(der);
    expect(seal).toMatchObject({
      version: 4,
      headerVersion: 4,
      vendorId: 'Sigil',
      type: 2,
      name: '测试有限公司合同专用章',
    });
    expect(seal.id).toMatch(/^[0-9a-f]{32}$/);
    expect(seal.certs).toEqual([pki.sealHolder.certificate, pki.person.certificate]);
    expect(seal.picture).toMatchObject({ type: 'png', widthMm: 42, heightMm: 42 });
    expect(seal.maker.equals(pki.maker.certificate)).toBe(true);

    const text = run('openssl', ['asn1parse', '-inform', 'DER', '-in', tmp.file('sigil.esl', der), '-i']).out;
    expect(text).toMatch(/IA5STRING\s+:ES\n.*INTEGER\s+:04\n.*IA5STRING\s+:Sigil/);
    expect(text).toMatch(/OBJECT\s+:SM2-with-SM3/);
    expect(text.match(/GENERALIZEDTIME\s+:\d{14}Z/g)).toHaveLength(3);
    const [info, cert, , signedValue] = opensslElements(der, 1);
    expect(octets(der, cert!).equals(pki.maker.certificate)).toBe(true);
    expect(opensslSm2Verifies(tmp, pki.maker.certificate, whole(der, info!), bits(der, signedValue!))).toBe(true);

    const verdict = verifySeal(der, { trustAnchors: [pki.root], intermediates: [pki.ca] });
    expect(verdict.problems).toEqual([]);
    expect(verdict).toMatchObject({ valid: true, checks: { chain: 'trusted', makerSignature: true } });
  });

  it('refuses a changed byte of its own seal, and openssl refuses it too', async () => {
    const der = await issue();
    const [info, , , signedValue] = opensslElements(der, 1);
    const changed = flip(der, info!.offset + 60);
    expect(verifySeal(changed).checks.makerSignature).toBe(false);
    expect(opensslSm2Verifies(tmp, pki.maker.certificate, whole(changed, info!), bits(changed, signedValue!))).toBe(
      false,
    );
  });

  it('refuses a maker chain to another root, and a seal signed by a key that is not the maker’s', async () => {
    const der = await issue();
    const other = await sm2TestPki();
    const verdict = verifySeal(der, { trustAnchors: [other.root], intermediates: [other.ca] });
    expect(verdict.valid).toBe(false);
    expect(verdict.checks.chain).toBe('untrusted');
    // The other group's CA has the same name, so the path is found and its signature fails.
    expect(verdict.problems.join('\n')).toMatch(/seal maker's chain: .*its signature does not verify with the key of/);
    // The maker certificate of one, the key of another: the signature names the impostor.
    const forged = await issueSealFile({
      maker: { ...pki.maker, sign: (data, hash) => other.maker.sign(data, hash) },
      type: 2,
      name: 'forged',
      signers: [pki.person.certificate],
      validStart: new Date(Date.now() - 1000),
      validEnd: new Date(Date.now() + 86_400_000),
      picture: { type: 'png', data: sealPng(), widthMm: 40, heightMm: 40 },
    });
    const forgedVerdict = verifySeal(forged, { trustAnchors: [pki.root], intermediates: [pki.ca] });
    expect(forgedVerdict.valid).toBe(false);
    expect(forgedVerdict.problems.join('\n')).toMatch(/seal maker's signature does not verify/);
  });

  it('lists signers as SM3 digests when asked, and knows who is on the list', async () => {
    const der = await issue({ listAs: 'digests' });
    const seal = decodeSeal(der);
    expect(seal.certListType).toBe('digests');
    expect(seal.certs).toEqual([]);
    expect(seal.certDigests.map((d) => d.algorithm)).toEqual(['SM3', 'SM3']);
    expect(seal.certDigests[1]!.value.equals(sm3(pki.person.certificate))).toBe(true);
    expect(isListedSigner(seal, pki.person.certificate)).toBe(true);
    expect(isListedSigner(seal, pki.outsider.certificate)).toBe(false);
    expect(verifySeal(der).valid).toBe(true);
  });

  it('refuses to issue with a non-SM2 maker, a picture that is not what it claims, or dates out of order', async () => {
    const { createKeySigner, withCertificate } = await import('../../src/signing/signer.js');
    const { generateKey, createRootCa } = await import('../../src/signing/ca.js');
    const ecKey = createKeySigner(await generateKey('ECDSA-P256'));
    const ecMaker = withCertificate(ecKey, await createRootCa({ signer: ecKey, subject: { commonName: 'EC maker' } }));
    await expect(issue({ maker: ecMaker })).rejects.toThrow(/signed by an SM2 seal maker/);
    await expect(
      issue({ picture: { type: 'png', data: Buffer.from('<svg/>'), widthMm: 40, heightMm: 40 } }),
    ).rejects.toThrow(/not a PNG file/);
    await expect(issue({ picture: { type: 'png', data: sealPng(), widthMm: 0, heightMm: 40 } })).rejects.toThrow(
      /whole number of millimetres/,
    );
    await expect(issue({ validEnd: new Date(Date.now() - 2 * 86_400_000) })).rejects.toThrow(/before it ends/);
    await expect(issue({ validEnd: new Date(Date.now() + 100 * 365 * 86_400_000) })).rejects.toThrow(/outlive/);
    await expect(issue({ signers: [] })).rejects.toThrow(/1 to 64 signer certificates/);
  });
});

describe('GM/T 0031-2025 (v5) seals with a time-stamp, assembled by hand', () => {
  /** DER of `content` under `tag`, written out by hand. */
  const tlv = (tag: number, content: Buffer) => {
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
  };
  const bitString = (bytes: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));

  /** Sigil's v4 seal info turned into v5 (header version 5), signed by the maker, with a time-stamp token. */
  async function v5Seal(token: (signature: Buffer) => Promise<Buffer>): Promise<Buffer> {
    const v4 = await issue();
    const [info, cert, algorithm] = opensslElements(v4, 1);
    const [, version] = opensslElements(v4, 3);
    const sealInfo = Buffer.from(whole(v4, info!));
    const at = version!.offset + version!.headerLength - info!.offset;
    expect(sealInfo[at]).toBe(4);
    sealInfo[at] = 5;
    const signature = await pki.maker.sign(sealInfo, 'SM3');
    return tlv(
      0x30,
      Buffer.concat([
        sealInfo,
        whole(v4, cert!),
        whole(v4, algorithm!),
        bitString(signature),
        tlv(0xa0, bitString(await token(signature))),
      ]),
    );
  }

  it('reads the time-stamp and checks it is over the maker signature', async () => {
    const { testPki } = await import('./support.js');
    const { sha256 } = await import('../../src/signing/x509.js');
    const rsa = await testPki();
    const good = await v5Seal((signature) => rsa.timestamper.timestamp(sha256(signature), 'SHA-256'));
    const seal = decodeSeal(good);
    expect(seal).toMatchObject({ version: 5, headerVersion: 5 });
    expect(seal.timeStamp).not.toBeNull();
    const verdict = verifySeal(good);
    expect(verdict.problems).toEqual([]);
    expect(verdict).toMatchObject({ valid: true, checks: { timeStamp: 'valid', makerSignature: true } });

    // A token over some other value: refused, naming the imprint.
    const moved = await v5Seal(() => rsa.timestamper.timestamp(sha256(Buffer.from('another signature')), 'SHA-256'));
    const movedVerdict = verifySeal(moved);
    expect(movedVerdict.valid).toBe(false);
    expect(movedVerdict.checks.timeStamp).toBe('invalid');
    expect(movedVerdict.problems.join('\n')).toMatch(/seal time-stamp: the time-stamp is not over this signature/);
    // A v4 header with a time-stamp is neither v4 nor v5.
    const [, version] = opensslElements(good, 3);
    const relabelled = Buffer.from(good);
    expect(relabelled[version!.offset + version!.headerLength]).toBe(5);
    relabelled[version!.offset + version!.headerLength] = 4;
    malformedSeal(relabelled, /carries a time-stamp, which only version 5 seals have/);
  });
});

function malformedSeal(der: Buffer, message: RegExp): void {
  let error: unknown;
  try {
    decodeSeal(der);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SigningError);
  expect((error as SigningError).code).toBe('seal_malformed');
  expect((error as SigningError).message).toMatch(message);
  const verdict = verifySeal(der);
  expect(verdict).toMatchObject({ valid: false, checks: { structure: false } });
  expect(verdict.problems[0]).toMatch(message);
}

describe('bad seal files', () => {
  const malformed = malformedSeal;

  it('refuses an unknown header version, naming it', async () => {
    const der = await issue();
    // SES_Header ::= SEQUENCE { IA5String "ES", INTEGER 4, … }: the INTEGER's content byte.
    const [, version] = opensslElements(der, 3);
    const versionByte = version!.offset + version!.headerLength;
    expect(der[versionByte]).toBe(4);
    const seven = Buffer.from(der);
    seven[versionByte] = 7;
    malformed(seven, /header version 7; only 4 and 5/);
  });

  it('refuses structures of another shape, trailing bytes, garbage and oversized files', async () => {
    const der = await issue();
    const top = opensslElements(der, 1);
    const three = Buffer.concat(top.slice(0, 3).map((e) => whole(der, e)));
    const lengthOctets = Buffer.from([0x82, three.length >> 8, three.length & 0xff]);
    malformed(Buffer.concat([Buffer.from([0x30]), lengthOctets, three]), /has 3 elements/);
    malformed(Buffer.concat([der, Buffer.from([0])]), /bytes follow the seal/);
    malformed(Buffer.from('not a seal at all'), /is not DER/);
    malformed(Buffer.alloc(0), /is not DER/);
    malformed(Buffer.alloc(SEAL_LIMITS.maxBytes + 1, 0x30), /larger than/);
    // A length that claims more than the file holds.
    const truncated = der.subarray(0, der.length - 10);
    malformed(truncated, /is not DER/);
  });
});
