// OFD digital signatures without a seal (Type="Sign", GM/T 0099-2020 §7.2.2 b): SignedValue.dat is a
// GB/T 35275 SignedData over the SM3 of Signature.xml. Sigil writes it as ofdrw's GBT35275DSContainer
// does and reads the one in keyword.ofd (another producer: raw r‖s, SM2-with-SM3 as the algorithm).
// BouncyCastle checks the signature the way ofdrw's GBT35275Validate does (SM3withSM2 over the SM3
// of Signature.xml, test/signing/java/SesCheck.java `sig`).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gbt35275SignatureProvider, sesSignatureVerifier, signOfd, verifyOfd } from '../../src/ofd/index.js';
import { parseSignedData } from '../../src/signing/cms.js';
import { SigningError } from '../../src/signing/errors.js';
import { signGbt35275, verifyGbt35275 } from '../../src/signing/gbt35275.js';
import { OID } from '../../src/signing/oids.js';
import type { Signer } from '../../src/signing/signer.js';
import { sm2TestPki, type Sm2TestPki } from '../signing/sm2-support.js';
import { testPki } from '../signing/support.js';
import { fixture, pythonUnzip, pythonZip, requireTool, run, tempDir } from './support.js';

const tmp = tempDir('sigil-ofd-type-sign-');
const JARS = ['bcprov.jar', 'bcpkix.jar', 'bcutil.jar'].map((jar) => `/usr/share/java/${jar}`);
let pki: Sm2TestPki;
let classes: string;

beforeAll(async () => {
  requireTool('javac');
  classes = tmp.file('classes');
  run('javac', ['-d', classes, '-cp', JARS.join(':'), join(import.meta.dirname, '../signing/java/SesCheck.java')]);
  pki = await sm2TestPki();
}, 120_000);
afterAll(() => tmp.remove());

const sm3 = (data: Buffer) => createHash('sm3').update(data).digest();

/** BouncyCastle: SM3withSM2 (ID 1234567812345678) by the certificate's key over `data`. */
function bouncyCastleSig(certificate: Buffer, data: Buffer, signature: Buffer): boolean {
  const id = Math.random().toString(36).slice(2);
  const result = run(
    'java',
    [
      '-cp',
      [classes, ...JARS].join(':'),
      'SesCheck',
      'sig',
      tmp.file(`${id}.crt`, certificate),
      tmp.file(`${id}.data`, data),
      tmp.file(`${id}.sig`, signature),
    ],
    { allowFailure: true },
  );
  return result.status === 0 && /signature VALID/.test(result.out);
}

describe('GB/T 35275 SignedData (Type="Sign")', () => {
  it('reads the Type Sign signature of keyword.ofd (another producer): the digest and the SM2 signature hold', () => {
    const files = pythonUnzip(tmp, fixture('keyword.ofd'));
    const value = files.get('Doc_0/Signs/Sign_3/SignedValue.dat')!;
    const xml = files.get('Doc_0/Signs/Sign_3/Signature.xml')!;
    // Signed on 2020-06-20 17:18:49 (UTC+8), when its certificate was in force.
    const verdict = verifyGbt35275(value, xml, { at: new Date('2020-06-20T09:18:49Z') });
    expect(verdict.problems).toEqual([]);
    expect(verdict).toMatchObject({
      valid: true,
      checks: { digest: 'match', signature: true, certificateValid: true },
    });
    expect(verdict.notices).toContain(
      'the signature value is a raw 64-byte r‖s, not the DER SM2Signature of GB/T 35276 §7.3',
    );
    // One byte of Signature.xml changed: the digest no longer matches.
    const changed = Buffer.from(xml);
    changed[changed.indexOf('2020-06-20')]! ^= 1;
    const bad = verifyGbt35275(value, changed, { at: new Date('2020-06-20T09:18:49Z') });
    expect(bad.valid).toBe(false);
    expect(bad.checks.digest).toBe('mismatch');
    expect(bad.problems).toContain(
      'the protected data was changed after signing: its SM3 differs from the signed digest',
    );
  });

  it('writes what ofdrw writes: 6.1.4.2.2, the SM3 as content, SM2-1, no attributes; BouncyCastle verifies it', async () => {
    const data = Buffer.from('<ofd:Signature>…</ofd:Signature>');
    const der = await signGbt35275({ signer: pki.person, data });
    expect(der.subarray(0, 16).toString('hex')).toBe(
      '3082' + der.subarray(2, 4).toString('hex') + '060a2a811ccf550601040202',
    );
    const cms = parseSignedData(der);
    expect(cms.contentType).toBe(OID.gmData);
    expect(cms.content!.equals(sm3(data))).toBe(true);
    const si = cms.signerInfos[0]!;
    expect(si.signedAttrs).toBeNull();
    expect(si.digestAlgorithmOid).toBe(OID.sm3);
    expect(si.signatureAlgorithm.toString('hex')).toBe('300b06092a811ccf5501822d01');
    expect(bouncyCastleSig(pki.person.certificate, sm3(data), si.signature)).toBe(true);
    const verdict = verifyGbt35275(der, data, { trustAnchors: [pki.root], intermediates: [pki.ca] });
    expect(verdict.problems).toEqual([]);
    expect(verdict).toMatchObject({ valid: true, checks: { chain: 'trusted' } });
    await expect(signGbt35275({ signer: (await testPki()).sealEc.signer, data })).rejects.toBeInstanceOf(SigningError);
  });

  it('refuses a signature by another key, changed data, and a chain to a root it does not trust', async () => {
    const data = Buffer.from('<ofd:Signature/>');
    const impostor: Signer = { ...pki.person, sign: (d, h) => pki.outsider.sign(d, h) };
    const forged = await signGbt35275({ signer: impostor, data });
    const si = parseSignedData(forged).signerInfos[0]!;
    expect(bouncyCastleSig(pki.person.certificate, sm3(data), si.signature)).toBe(false);
    const verdict = verifyGbt35275(forged, data);
    expect(verdict).toMatchObject({ valid: false, checks: { digest: 'match', signature: false } });
    expect(verdict.problems).toContain("the SM2 signature does not verify with the signer's certificate");

    const good = await signGbt35275({ signer: pki.person, data });
    expect(verifyGbt35275(good, Buffer.from('<ofd:Signature />')).checks.digest).toBe('mismatch');
    const other = await sm2TestPki();
    const untrusted = verifyGbt35275(good, data, { trustAnchors: [other.root] });
    expect(untrusted).toMatchObject({ valid: false, checks: { signature: true, chain: 'untrusted' } });
    expect(verifyGbt35275(Buffer.from('nope'), data).problems[0]).toMatch(/not a GB\/T 35275 SignedData/);
  });
});

describe('OFD Type="Sign" signatures', () => {
  it('signs helloworld.ofd with a GB/T 35275 signature that verifies; a changed Signature.xml or page is refused', async () => {
    const signed = await signOfd(fixture('helloworld.ofd'), {
      provider: gbt35275SignatureProvider({ signer: pki.person, includeChain: true }),
    });
    const verifier = sesSignatureVerifier({ trustAnchors: [pki.root] });
    const report = await verifyOfd(signed, { verifier });
    const [sig] = report.signatures;
    expect(sig!.problems).toEqual([]);
    expect(sig).toMatchObject({ type: 'Sign', valid: true, stamps: [], signatureMethod: '1.2.156.10197.1.501' });
    expect(sig!.signedValue).toMatchObject({ status: 'valid', signer: expect.stringContaining('张三') });
    expect(report.valid).toBe(true);
    const files = pythonUnzip(tmp, Buffer.from(signed));
    expect(files.has(sig!.path.replace('Signature.xml', 'Seal.esl'))).toBe(false);
    expect([
      ...files
        .get('Doc_0/Signs/Signatures.xml')!
        .toString()
        .matchAll(/Type="Sign"/g),
    ]).toHaveLength(1);

    // Signature.xml with one byte changed (its SignatureDateTime): the signed value no longer matches.
    const xml = files.get(sig!.path)!;
    const at = xml.indexOf('SignatureDateTime>') + 'SignatureDateTime>'.length + 3;
    const changedXml = pythonZip(tmp, { input: Buffer.from(signed), flip: { [sig!.path]: at } });
    const [changed] = (await verifyOfd(changedXml, { verifier })).signatures;
    expect(changed!.valid).toBe(false);
    expect(changed!.signedValue.status === 'invalid' && changed!.signedValue.reason).toMatch(
      /the protected data was changed after signing/,
    );

    // A page changed: the reference fails while the signed value still holds.
    const page = sig!.references.find((r) => /Content\.xml$/.test(r.path))!.path;
    const changedPage = pythonZip(tmp, { input: Buffer.from(signed), flip: { [page]: 60 } });
    const [paged] = (await verifyOfd(changedPage, { verifier })).signatures;
    expect(paged!.valid).toBe(false);
    expect(paged!.references.find((r) => r.path === page)?.status).toBe('changed');
    expect(paged!.signedValue.status).toBe('valid');

    // Under a root the verifier does not trust.
    const other = await sm2TestPki();
    const [untrusted] = (await verifyOfd(signed, { verifier: sesSignatureVerifier({ trustAnchors: [other.root] }) }))
      .signatures;
    expect(untrusted!.valid).toBe(false);
    expect(untrusted!.signedValue.status === 'invalid' && untrusted!.signedValue.reason).toMatch(/signer's chain/);
  });

  it('keyword.ofd: the Type Sign value is now read, and judged (certificate ended, page edited after signing)', async () => {
    const { signatures } = await verifyOfd(fixture('keyword.ofd'), { verifier: sesSignatureVerifier() });
    const sign = signatures.find((s) => s.type === 'Sign')!;
    expect(sign.valid).toBe(false);
    expect(sign.signedValue.status === 'invalid' && sign.signedValue.reason).not.toMatch(/not verified by Sigil yet/);
    expect(sign.references.find((r) => r.path === 'Doc_0/Pages/Page_0/Content.xml')?.status).toBe('changed');
  });
});
