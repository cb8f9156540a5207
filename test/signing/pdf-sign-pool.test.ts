// PDF signatures made on the signing pool's worker threads: pdfsig accepts them as it accepts
// those made on the main thread; a signature by a key that is not the certificate's, and a signed
// file changed afterwards, fail; the engine's refusals and the main thread's failures (a TSA that
// does not answer) come back as they were raised.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningError } from '../../src/signing/errors.js';
import { createPdfSigningPool, type PdfSigningPool } from '../../src/signing/pdf-sign-pool.js';
import { prepareImage } from '../../src/signing/pdf/image.js';
import { staticRevocationSource } from '../../src/signing/pades.js';
import type { Signer } from '../../src/signing/signer.js';
import type { Timestamper } from '../../src/signing/tsa.js';
import { verifyPdf } from '../../src/signing/verify.js';
import { buildPdf } from './pdf-fixtures.js';
import { nssDatabase, pdfsig, requireTool, sealPng, tempDir, testPki, type TestPki } from './support.js';

let pki: TestPki;
let tmp: ReturnType<typeof tempDir>;
let nss: string;
let pool: PdfSigningPool;

beforeAll(async () => {
  requireTool('pdfsig');
  pki = await testPki();
  tmp = tempDir('sigil-sign-pool-');
  nss = nssDatabase(tmp.dir, pki.root);
  pool = createPdfSigningPool(2);
});
afterAll(async () => {
  await pool?.close();
  tmp?.remove();
});

const pdf = (seed: number) => buildPdf({ pages: 2, seed, lines: [`Pool test ${seed}`] });

describe('the PDF signing pool', () => {
  it('signs on worker threads what pdfsig and the verifier accept: B-LT, a seal image, a stamp', async () => {
    const image = prepareImage(sealPng());
    const inputs = [1, 2, 3, 4].map(pdf);
    const signed = await Promise.all(
      inputs.map((input, i) =>
        pool.signPdf(input, {
          signer: i % 2 ? pki.sealEc.signer : pki.sealRsa.signer,
          level: 'B-LT',
          timestamper: pki.timestamper,
          revocation: staticRevocationSource([pki.crl, pki.rootCrl]),
          fieldName: `Seal-${i}`,
          reason: '批量签署',
          signingTime: new Date(),
          appearance: { image, kind: 'seal', at: { page: 2, rect: [300, 100, 120, 120] } },
          stamps: [{ image: sealPng(40), at: { page: 1, rect: [50, 50, 40, 40] }, label: 'a tick' }],
        }),
      ),
    );
    expect(pool.size).toBe(2);
    for (const [i, out] of signed.entries()) {
      expect(Buffer.isBuffer(out)).toBe(true);
      expect(out.subarray(0, inputs[i]!.length).equals(inputs[i]!)).toBe(true);
      const seen = pdfsig(tmp.file(`pool-${i}.pdf`, out), nss);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.signatureValid, seen[0]!.raw).toBe(true);
      expect(seen[0]!.certificateTrusted, seen[0]!.raw).toBe(true);
      expect(seen[0]!.field).toBe(`Seal-${i}`);
      const report = await verifyPdf(out, { trustAnchors: [pki.root], crls: [pki.crl, pki.rootCrl] });
      expect(report.signatures[0]!.valid).toBe(true);
      expect(report.signatures[0]!.timestampValid).toBe(true);
    }
  });

  it('makes a signature that fails when the key is not the certificate’s', async () => {
    const other = await pki.issue({ commonName: 'Another seal' });
    // The certificate of one seal with the key of another: what a mix-up in a key store would do.
    const wrong: Signer = { ...pki.sealRsa.signer, sign: (data, hash) => other.signer.sign(data, hash) };
    const out = await pool.signPdf(pdf(10), { signer: wrong, fieldName: 'Wrong', level: 'B-B' });
    const seen = pdfsig(tmp.file('wrong-key.pdf', out), nss);
    expect(seen[0]!.signatureValid).toBe(false);
    const report = await verifyPdf(out, { trustAnchors: [pki.root] });
    expect(report.signatures[0]!.valid).toBe(false);
  });

  it('makes a signature that fails once the signed file is changed', async () => {
    const out = await pool.signPdf(pdf(11), { signer: pki.sealRsa.signer, fieldName: 'Tampered', level: 'B-B' });
    const changed = Buffer.from(out);
    // One bit of the first page's content stream, inside the signed range.
    const at = changed.indexOf('stream') + 12;
    expect(at).toBeGreaterThan(12);
    changed[at]! ^= 0x01;
    const seen = pdfsig(tmp.file('tampered.pdf', changed), nss);
    expect(seen[0]!.signatureValid).toBe(false);
    const report = await verifyPdf(changed, { trustAnchors: [pki.root] });
    expect(report.signatures[0]!.valid).toBe(false);
    // The untouched copy is valid: the change, not the pool, broke it.
    expect(pdfsig(tmp.file('untampered.pdf', out), nss)[0]!.signatureValid).toBe(true);
  });

  it('gives back the engine’s refusal from the worker as a SigningError with its code', async () => {
    const refused = pool.signPdf(pdf(12), {
      signer: pki.sealRsa.signer,
      appearance: { image: prepareImage(sealPng()), kind: 'seal', at: { page: 7, rect: [0, 0, 50, 50] } },
    });
    await expect(refused).rejects.toBeInstanceOf(SigningError);
    await expect(refused).rejects.toMatchObject({ code: 'pdf_page_not_found' });
  });

  it('gives back a failure of the main thread’s TSA as it was thrown, and keeps signing after it', async () => {
    class TsaDown extends Error {}
    const down: Timestamper = { name: 'down', timestamp: () => Promise.reject(new TsaDown('the TSA is down')) };
    const failed = pool.signPdf(pdf(13), { signer: pki.sealRsa.signer, level: 'B-T', timestamper: down });
    await expect(failed).rejects.toBeInstanceOf(TsaDown);
    const out = await pool.signPdf(pdf(14), { signer: pki.sealRsa.signer, level: 'B-T', timestamper: pki.timestamper });
    expect(pdfsig(tmp.file('after-failure.pdf', out), nss)[0]!.signatureValid).toBe(true);
  });

  it('sends a seal image to a worker once and signs each document with the image it was given', async () => {
    const one = createPdfSigningPool(1);
    try {
      // More distinct images than a worker keeps, then the first again: it is sent anew.
      const sizes = [...Array.from({ length: 34 }, (_, i) => 40 + i), 40, 41];
      const images = new Map<number, ReturnType<typeof prepareImage>>();
      for (const [i, size] of sizes.entries()) {
        if (!images.has(size)) images.set(size, prepareImage(sealPng(size)));
        const out = await one.signPdf(pdf(100 + i), {
          signer: pki.sealEc.signer,
          level: 'B-B',
          fieldName: `Image-${i}`,
          appearance: { image: images.get(size)!, kind: 'seal', at: { page: 1, rect: [300, 100, 60, 60] } },
        });
        const report = await verifyPdf(out, { trustAnchors: [pki.root] });
        expect(report.signatures[0]!.valid).toBe(true);
        expect(report.signatures[0]!.seals[0]!.width, `document ${i}`).toBe(size);
      }
    } finally {
      await one.close();
    }
  });

  it('puts in each signature the chain its signer gave, though the engine keeps what it made per certificate', async () => {
    // The same certificate buffer with and without its issuing CA, on a worker and on this thread:
    // a certificate set kept from the first signature must not be reused for the second.
    const { signer } = pki.sealRsa;
    const alone: Signer = { ...signer, chain: [] };
    const one = createPdfSigningPool(1);
    const inline = createPdfSigningPool(0);
    try {
      for (const [where, signing] of [
        ['worker', one],
        ['calling thread', inline],
      ] as const) {
        for (const [i, [s, trusted]] of (
          [
            [signer, true],
            [alone, false],
            [signer, true],
          ] as const
        ).entries()) {
          const out = await signing.signPdf(pdf(200 + i), { signer: s, level: 'B-B' });
          const report = await verifyPdf(out, { trustAnchors: [pki.root] });
          expect(report.signatures[0]!.signatureVerified, `${where} ${i}`).toBe(true);
          expect(report.signatures[0]!.chainTrusted, `${where} ${i}`).toBe(trusted);
          expect(report.signatures[0]!.chain.length, `${where} ${i}`).toBe(trusted ? 3 : 1);
        }
      }
    } finally {
      await one.close();
      await inline.close();
    }
  });

  it('signs on the calling thread when it has no workers', async () => {
    const inline = createPdfSigningPool(0);
    const out = await inline.signPdf(pdf(15), { signer: pki.sealEc.signer, level: 'B-B' });
    expect(pdfsig(tmp.file('inline.pdf', out), nss)[0]!.signatureValid).toBe(true);
    await inline.close();
  });
});
