// PAdES signing checked by tools we did not write: pdfsig (poppler + NSS), openssl cms/ts, qpdf,
// mutool; on PDFs from several producers, signed one, two and three times; and tampering.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PDF } from '@libpdf/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSignedData } from '../../src/signing/cms.js';
import { OID } from '../../src/signing/oids.js';
import { addDocumentTimestamp, signPdf, staticRevocationSource } from '../../src/signing/pades.js';
import { verifyPdf } from '../../src/signing/verify.js';
import { derToPem } from '../../src/signing/x509.js';
import { buildPdf } from './pdf-fixtures.js';
import { nssDatabase, pdfsig, requireTool, run, sealPng, tempDir, testPki, type TestPki } from './support.js';

let pki: TestPki;
let tmp: ReturnType<typeof tempDir>;
let nss: string;
let rootPem: string;
let caPem: string;

beforeAll(async () => {
  for (const tool of ['pdfsig', 'qpdf', 'openssl', 'certutil', 'mutool', 'pdftotext']) requireTool(tool);
  pki = await testPki();
  tmp = tempDir();
  nss = nssDatabase(tmp.dir, pki.root);
  rootPem = tmp.file('root-ca.pem', derToPem(pki.root));
  caPem = tmp.file('issuing-ca.pem', derToPem(pki.ca));
});
afterAll(() => tmp?.remove());

/** The length of the first DER element (a PDF /Contents pads the CMS with zeros after it). */
function derLength(der: Buffer): number {
  if (!(der[1]! & 0x80)) return 2 + der[1]!;
  const count = der[1]! & 0x7f;
  return 2 + count + der.readUIntBE(2, count);
}

/** Byte ranges and /Contents found in the raw file (independently of Sigil's parser). */
function rawSignatures(pdf: Buffer): Array<{ ranges: Buffer; contents: Buffer }> {
  const out: Array<{ ranges: Buffer; contents: Buffer }> = [];
  const re = /\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g;
  const text = pdf.toString('latin1');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [a, b, c, d] = m.slice(1).map(Number) as [number, number, number, number];
    const hex = pdf.toString('latin1', b + 1, c - 1);
    const der = Buffer.from(hex, 'hex');
    out.push({
      ranges: Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]),
      contents: der.subarray(0, derLength(der)),
    });
  }
  return out;
}

function opensslCmsVerify(sig: { ranges: Buffer; contents: Buffer }, name: string): void {
  const der = tmp.file(`${name}.p7s`, sig.contents);
  const content = tmp.file(`${name}.bin`, sig.ranges);
  const { out } = run('openssl', [
    'cms',
    '-verify',
    '-binary',
    '-inform',
    'DER',
    '-in',
    der,
    '-content',
    content,
    '-CAfile',
    rootPem,
    '-purpose',
    'any',
    '-out',
    '/dev/null',
  ]);
  expect(out).toContain('Verification successful');
}

function opensslTsVerifySignatureToken(sig: { contents: Buffer }, name: string): void {
  const cms = parseSignedData(sig.contents);
  const info = cms.signerInfos[0]!;
  const token = info.unsignedAttributes.get(OID.timeStampToken)?.[0];
  expect(token, 'signature time-stamp token').toBeDefined();
  const tokenFile = tmp.file(`${name}.tst`, token!);
  const digest = createHash('sha256').update(info.signature).digest('hex');
  const { out } = run('openssl', [
    'ts',
    '-verify',
    '-digest',
    digest,
    '-token_in',
    '-in',
    tokenFile,
    '-CAfile',
    rootPem,
    '-untrusted',
    caPem,
  ]);
  expect(out).toContain('Verification: OK');
}

function qpdfCheck(file: string): void {
  const { status, out } = run('qpdf', ['--check', file], { allowFailure: true });
  expect(out).toContain('No syntax or stream encoding errors found');
  expect(status).toBe(0);
}

const producers: Array<{ name: string; make: () => Promise<Buffer> }> = [
  { name: 'hand-written, classic xref table', make: async () => buildPdf({ pages: 3 }) },
  {
    name: 'qpdf, object streams and a cross-reference stream',
    make: async () => {
      const input = tmp.file('plain.pdf', buildPdf({ pages: 3, seed: 7 }));
      const output = tmp.file('objstm.pdf');
      run('qpdf', ['--object-streams=generate', input, output]);
      const bytes = readFileSync(output);
      expect(bytes.toString('latin1')).toContain('/ObjStm');
      return bytes;
    },
  },
  {
    name: 'qpdf --linearize (first-page cross-reference at the start)',
    make: async () => {
      const input = tmp.file('plain-lin.pdf', buildPdf({ pages: 4, seed: 8 }));
      const output = tmp.file('linearized.pdf');
      run('qpdf', ['--linearize', input, output]);
      const bytes = readFileSync(output);
      expect(bytes.subarray(0, 1024).toString('latin1')).toContain('/Linearized');
      return bytes;
    },
  },
  {
    name: '@libpdf/core',
    make: async () => {
      const pdf = PDF.create();
      for (let i = 0; i < 2; i++)
        pdf.addPage({ size: 'a4' }).drawText(`libpdf page ${i + 1}`, { x: 72, y: 700, size: 14 });
      return Buffer.from(await pdf.save());
    },
  },
];

describe('signatures that independent verifiers accept', () => {
  for (const producer of producers) {
    it(`signs a PDF by ${producer.name} three times with three keys; every signature stays valid`, async () => {
      let pdf = await producer.make();
      const signers = [pki.sealRsa.signer, pki.sealEc.signer, pki.person.signer];
      const files: string[] = [];
      for (const [i, signer] of signers.entries()) {
        pdf = await signPdf(pdf, {
          signer,
          level: i === 1 ? 'B-T' : 'B-B',
          timestamper: pki.timestamper,
          reason: `signature ${i + 1}`,
        });
        const file = tmp.file(`${producer.name.slice(0, 12).replace(/\W/g, '')}-${i + 1}.pdf`, pdf);
        files.push(file);
        const seen = pdfsig(file, nss);
        expect(seen).toHaveLength(i + 1);
        for (const [k, s] of seen.entries()) {
          expect(s.signatureValid, `pdfsig signature ${k + 1} after ${i + 1} signings:\n${s.raw}`).toBe(true);
          expect(s.certificateTrusted, `pdfsig certificate ${k + 1}:\n${s.raw}`).toBe(true);
          expect(s.totalDocumentSigned).toBe(k === i);
          expect(s.type).toBe('ETSI.CAdES.detached');
        }
        qpdfCheck(file);
        const ours = await verifyPdf(pdf, { trustAnchors: [pki.root] });
        expect(ours.intact).toBe(true);
        expect(ours.signatures.map((s) => s.valid)).toEqual(seen.map((s) => s.signatureValid));
        expect(ours.signatures.map((s) => s.coversWholeDocument)).toEqual(seen.map((s) => s.totalDocumentSigned));
        expect(ours.signatures.every((s) => s.chainTrusted)).toBe(true);
      }
      const raw = rawSignatures(pdf);
      expect(raw).toHaveLength(3);
      raw.forEach((sig, i) => opensslCmsVerify(sig, `${producer.name.slice(0, 12).replace(/\W/g, '')}-cms-${i}`));
      opensslTsVerifySignatureToken(raw[1]!, 'bt-token');
      // mutool is a second opinion on the CMS and on changes since signing.
      const { out } = run('mutool', ['verify', files[2]!], { allowFailure: true });
      expect(out).not.toMatch(/Signature is not valid|digest mismatch/i);
    });
  }

  it('verifies a signature made by @libpdf/core, and signs after it without breaking it', async () => {
    const keyPem = tmp.file('libpdf-key.pem', pki.sealEc.key.export({ format: 'pem', type: 'pkcs8' }) as string);
    const chain = tmp.file(
      'libpdf-chain.pem',
      [pki.sealEc.signer.certificate, pki.ca].map((c) => derToPem(c)).join(''),
    );
    const p12 = tmp.file('libpdf.p12');
    run('openssl', [
      'pkcs12',
      '-export',
      '-inkey',
      keyPem,
      '-in',
      chain,
      '-out',
      p12,
      '-passout',
      'pass:pw',
      '-keypbe',
      'PBE-SHA1-3DES',
      '-certpbe',
      'PBE-SHA1-3DES',
      '-macalg',
      'sha1',
    ]);
    const { P12Signer } = await import('@libpdf/core');
    const doc = await PDF.load(buildPdf({ pages: 2, seed: 9 }));
    const first = Buffer.from(
      (await doc.sign({ signer: await P12Signer.create(readFileSync(p12), 'pw'), level: 'B-B' })).bytes,
    );
    const both = await signPdf(first, { signer: pki.sealRsa.signer, level: 'B-T', timestamper: pki.timestamper });
    const seen = pdfsig(tmp.file('libpdf-then-sigil.pdf', both), nss);
    expect(seen.map((s) => [s.signatureValid, s.certificateTrusted])).toEqual([
      [true, true],
      [true, true],
    ]);
    const ours = await verifyPdf(both, { trustAnchors: [pki.root] });
    expect(ours.intact).toBe(true);
    expect(ours.signatures.map((s) => [s.valid, s.chainTrusted, s.coversWholeDocument])).toEqual([
      [true, true, false],
      [true, true, true],
    ]);
    expect(ours.signatures[0]!.signer?.commonName).toBe('公章 Official Seal');
  });

  it('repeats the same seal on one document: pdfsig validates every signature', async () => {
    // poppler 22.12 with NSS reports "Unknown issue with Certificate" for a certificate it already
    // saw in the same run (also for @libpdf/core output), so only the signature verdict is asserted.
    let pdf = buildPdf({ pages: 1 });
    for (let i = 0; i < 3; i++) pdf = await signPdf(pdf, { signer: pki.sealRsa.signer });
    const seen = pdfsig(tmp.file('same-seal.pdf', pdf), nss);
    expect(seen.map((s) => s.signatureValid)).toEqual([true, true, true]);
    expect(seen[0]!.certificateTrusted).toBe(true);
    expect(
      (await verifyPdf(pdf, { trustAnchors: [pki.root] })).signatures.map((s) => s.valid && s.chainTrusted),
    ).toEqual([true, true, true]);
  });

  it('changing one byte inside a signed range makes both pdfsig and Sigil say invalid', async () => {
    const pdf = await signPdf(buildPdf({ pages: 2 }), { signer: pki.sealRsa.signer });
    const { byteRange } = (await verifyPdf(pdf)).signatures[0]!;
    for (const offset of [200, byteRange[2]! + 5]) {
      const tampered = Buffer.from(pdf);
      tampered[offset] = tampered[offset] === 0x41 ? 0x42 : 0x41;
      const file = tmp.file(`tampered-${offset}.pdf`, tampered);
      const seen = pdfsig(file, nss);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.signatureValid).toBe(false);
      const ours = await verifyPdf(tampered, { trustAnchors: [pki.root] });
      expect(ours.intact).toBe(false);
      expect(ours.signatures[0]!.valid).toBe(false);
      expect(ours.signatures[0]!.digestMatches).toBe(false);
    }
  });

  it('flags a later revision that changes page content as an alteration, not a signature', async () => {
    const signed = await signPdf(buildPdf({ pages: 1 }), { signer: pki.sealRsa.signer });
    // Append a revision that replaces the page's content stream (object 5 in the fixture).
    const { PdfDocument } = await import('../../src/signing/pdf/parser.js');
    const { IncrementalUpdate } = await import('../../src/signing/pdf/writer.js');
    const { PdfStream, PdfDict, PdfString, name } = await import('../../src/signing/pdf/objects.js');
    const doc = PdfDocument.load(signed);
    const page = doc.page(1);
    const contentRef = page.dict.get('Contents') as InstanceType<
      typeof import('../../src/signing/pdf/objects.js').PdfRef
    >;
    const update = new IncrementalUpdate(doc);
    update.set(contentRef, new PdfStream(new PdfDict(), Buffer.from('BT /F1 40 Tf 72 400 Td (PAY 1,000,000) Tj ET')));
    const altered = Buffer.concat([signed, update.build().bytes]);
    const ours = await verifyPdf(altered, { trustAnchors: [pki.root] });
    expect(ours.signatures[0]!.valid).toBe(true);
    expect(ours.signatures[0]!.modifiedAfter).toBe('altered');
    expect(ours.intact).toBe(false);
    const seen = pdfsig(tmp.file('altered.pdf', altered), nss);
    expect(seen[0]!.totalDocumentSigned).toBe(false);

    // An annotation laid over the signed page is a change too, unlike a second signature.
    const overlayDoc = PdfDocument.load(signed);
    const overlay = new IncrementalUpdate(overlayDoc);
    const note = overlay.add(
      PdfDict.of({
        Type: name('Annot'),
        Subtype: name('FreeText'),
        Rect: [72, 600, 400, 700],
        Contents: PdfString.text('PAY 1,000,000'),
        DA: PdfString.text('/Helv 30 Tf 0 g'),
      }),
    );
    const pageRef = overlayDoc.page(1).ref;
    const annots = overlayDoc.page(1).dict.get('Annots');
    overlay.set(
      pageRef,
      overlayDoc
        .page(1)
        .dict.clone()
        .set('Annots', [...(Array.isArray(annots) ? annots : []), note]),
    );
    const withNote = await verifyPdf(Buffer.concat([signed, overlay.build().bytes]), { trustAnchors: [pki.root] });
    expect(withNote.signatures[0]!.modifiedAfter).toBe('altered');
    const twice = await verifyPdf(
      await signPdf(signed, {
        signer: pki.sealEc.signer,
        appearance: { image: sealPng(), at: { page: 1, rect: [10, 10, 50, 50] } },
      }),
      { trustAnchors: [pki.root] },
    );
    expect(twice.signatures[0]!.modifiedAfter).toBe('signatures-and-validation-data');
  });
});

describe('PAdES levels', () => {
  it('B-T carries a signature time-stamp that openssl ts accepts', async () => {
    const pdf = await signPdf(buildPdf(), { signer: pki.sealEc.signer, level: 'B-T', timestamper: pki.timestamper });
    opensslTsVerifySignatureToken(rawSignatures(pdf)[0]!, 'level-bt');
    const ours = await verifyPdf(pdf, { trustAnchors: [pki.root] });
    expect(ours.signatures[0]).toMatchObject({
      valid: true,
      timestamped: true,
      timestampValid: true,
      timestampTrusted: true,
      level: 'B-T',
    });
  });

  it('a time-stamp keeps a signature valid after its certificate expires; without one it lapses', async () => {
    const bb = await signPdf(buildPdf(), { signer: pki.sealRsa.signer, level: 'B-B' });
    const bt = await signPdf(buildPdf(), { signer: pki.sealRsa.signer, level: 'B-T', timestamper: pki.timestamper });
    const later = new Date(Date.now() + 5 * 365 * 86_400_000); // after the seal certificate's two years
    const bbLater = (await verifyPdf(bb, { trustAnchors: [pki.root], at: later })).signatures[0]!;
    expect(bbLater).toMatchObject({ valid: false, certificateValidAtSigningTime: false });
    const btLater = (await verifyPdf(bt, { trustAnchors: [pki.root], at: later })).signatures[0]!;
    expect(btLater).toMatchObject({ valid: true, certificateValidAtSigningTime: true, timestampTrusted: true });
  });

  it('B-LT adds a DSS with certificates, CRLs and a VRI entry; B-LTA adds a document time-stamp', async () => {
    const revocation = staticRevocationSource([pki.crl, pki.rootCrl]);
    const lt = await signPdf(buildPdf({ pages: 2 }), {
      signer: pki.sealRsa.signer,
      level: 'B-LT',
      timestamper: pki.timestamper,
      revocation,
    });
    const ltFile = tmp.file('b-lt.pdf', lt);
    const catalog = run('qpdf', ['--show-object=trailer', ltFile]).out;
    expect(catalog).toContain('/Root');
    const dssText = run('qpdf', ['--qdf', '--object-streams=disable', ltFile, '-']).out;
    expect(dssText).toMatch(/\/DSS/);
    expect(dssText).toMatch(/\/VRI/);
    expect(dssText).toMatch(/\/CRLs/);
    expect(pdfsig(ltFile, nss)[0]!.signatureValid).toBe(true);
    const ltReport = await verifyPdf(lt, { trustAnchors: [pki.root] });
    expect(ltReport.signatures[0]).toMatchObject({
      valid: true,
      level: 'B-LT',
      revocation: 'good',
      modifiedAfter: 'signatures-and-validation-data',
    });

    const lta = await signPdf(buildPdf({ pages: 2 }), {
      signer: pki.sealRsa.signer,
      level: 'B-LTA',
      timestamper: pki.timestamper,
      revocation,
    });
    const ltaFile = tmp.file('b-lta.pdf', lta);
    qpdfCheck(ltaFile);
    const raw = rawSignatures(lta);
    expect(raw).toHaveLength(2);
    // The document time-stamp's imprint is the hash of its byte ranges (ETSI.RFC3161).
    const data = tmp.file('lta-ranges.bin', raw[1]!.ranges);
    const token = tmp.file('lta.tst', raw[1]!.contents);
    expect(
      run('openssl', [
        'ts',
        '-verify',
        '-data',
        data,
        '-token_in',
        '-in',
        token,
        '-CAfile',
        rootPem,
        '-untrusted',
        caPem,
      ]).out,
    ).toContain('Verification: OK');
    const seen = pdfsig(ltaFile, nss);
    expect(seen).toHaveLength(2);
    expect(seen[0]!.signatureValid).toBe(true);
    const report = await verifyPdf(lta, { trustAnchors: [pki.root] });
    expect(report.intact).toBe(true);
    expect(report.signatures.map((s) => [s.kind, s.valid, s.level])).toEqual([
      ['signature', true, 'B-LTA'],
      ['document-timestamp', true, null],
    ]);

    // Another document time-stamp on top keeps everything valid (archive renewal).
    const renewed = await addDocumentTimestamp(lta, { timestamper: pki.timestamper });
    const again = await verifyPdf(renewed, { trustAnchors: [pki.root] });
    expect(again.intact).toBe(true);
    expect(again.signatures).toHaveLength(3);
  });
});

describe('visible seals', () => {
  it('places a transparent PNG seal at a rectangle, with a soft mask, and reports it', async () => {
    const pdf = await signPdf(buildPdf({ pages: 2 }), {
      signer: pki.sealRsa.signer,
      appearance: { image: sealPng(), at: { page: 2, rect: [380, 100, 120, 120] } },
    });
    const file = tmp.file('visible.pdf', pdf);
    expect(pdfsig(file, nss)[0]!.signatureValid).toBe(true);
    qpdfCheck(file);
    expect(pdf.toString('latin1')).toContain('/SMask');
    const report = await verifyPdf(pdf, { trustAnchors: [pki.root], extractImages: true });
    expect(report.signatures[0]!.seals).toEqual([
      expect.objectContaining({ page: 2, rect: [380, 100, 120, 120], width: 160, height: 160 }),
    ]);
    expect(report.signatures[0]!.seals[0]!.png).toMatch(/^iVBOR/);
    // The rendered page shows red where the seal is (pdftoppm is in poppler-utils too).
    const png = run('pdftoppm', ['-f', '2', '-l', '2', '-r', '36', '-png', file]).out;
    expect(png.length).toBeGreaterThan(0);
  });

  it('finds a CJK keyword through the ToUnicode CMap and centres the seal on it, with an offset', async () => {
    const source = buildPdf({ pages: 2, cjkLines: ['合同编号：2026-001', '甲方（盖章）：', '乙方（盖章）：'] });
    const text = run('pdftotext', [tmp.file('cjk.pdf', source), '-']).out;
    expect(text).toContain('甲方（盖章）');
    const pdf = await signPdf(source, {
      signer: pki.sealEc.signer,
      appearance: { image: sealPng(), at: { keyword: '甲方（盖章）', offset: [30, 0], size: [100, 100] } },
    });
    const report = await verifyPdf(pdf, { trustAnchors: [pki.root] });
    const seal = report.signatures[0]!.seals[0]!;
    expect(seal.page).toBe(1);
    // The keyword's line is drawn at y = 580 (600 − 20 leading), 14 pt, from x = 72; 6 glyphs of 14 pt.
    const centreX = seal.rect[0] + seal.rect[2] / 2;
    const centreY = seal.rect[1] + seal.rect[3] / 2;
    expect(centreX).toBeCloseTo(72 + (6 * 14) / 2 + 30, 0);
    expect(centreY).toBeGreaterThan(578);
    expect(centreY).toBeLessThan(594);
    expect(pdfsig(tmp.file('keyword.pdf', pdf), nss)[0]!.signatureValid).toBe(true);
  });

  it('reads ToUnicode bfrange arrays and TJ kerning when placing on a keyword', async () => {
    const source = buildPdf({ pages: 1, cjkLines: ['合同', '甲方（盖章）：'], toUnicode: 'bfrange', kerned: true });
    expect(run('pdftotext', [tmp.file('bfrange.pdf', source), '-']).out).toContain('甲方（盖章）');
    const pdf = await signPdf(source, {
      signer: pki.sealRsa.signer,
      appearance: { image: sealPng(), at: { keyword: '甲方（盖章）', size: [60, 60] } },
    });
    const seal = (await verifyPdf(pdf)).signatures[0]!.seals[0]!;
    // Six 14 pt glyphs with 50/1000 em of extra space between each: 6·14 + 5·0.7 = 87.5 pt wide.
    expect(seal.rect[0] + seal.rect[2] / 2).toBeCloseTo(72 + 87.5 / 2, 0);
    expect(seal.rect[1] + seal.rect[3] / 2).toBeGreaterThan(578);
  });

  it('finds a keyword drawn with a predefined Unicode CMap (mutool create, UniGB-UTF16-H)', async () => {
    const utf16 = (text: string) => Buffer.from(text, 'utf16le').swap16().toString('hex');
    const page = tmp.file(
      'mutool-page.txt',
      `%%MediaBox 0 0 595 842\n%%CJKFont F1 zh-Hans\nBT /F1 16 Tf 72 700 Td <${utf16('合同')}> Tj 0 -40 Td <${utf16('甲方（')}> Tj <${utf16('盖章）：')}> Tj ET\n`,
    );
    const source = tmp.file('mutool-cjk.pdf');
    run('mutool', ['create', '-o', source, page]);
    expect(run('pdftotext', [source, '-']).out).toContain('甲方（盖章）');
    const pdf = await signPdf(readFileSync(source), {
      signer: pki.sealRsa.signer,
      appearance: { image: sealPng(), at: { keyword: '甲方（盖章）', size: [80, 80] } },
    });
    const seal = (await verifyPdf(pdf)).signatures[0]!.seals[0]!;
    // Six full-width glyphs of 16 pt from x = 72 on the line at y = 660, split over two Tj.
    expect(seal.rect[0] + seal.rect[2] / 2).toBeCloseTo(72 + (6 * 16) / 2, 0);
    expect(seal.rect[1] + seal.rect[3] / 2).toBeGreaterThan(658);
    expect(seal.rect[1] + seal.rect[3] / 2).toBeLessThan(674);
    expect(pdfsig(tmp.file('mutool-signed.pdf', pdf), nss)[0]!.signatureValid).toBe(true);
  });

  it('refuses a keyword that is not there and a page that does not exist, with typed errors', async () => {
    const source = buildPdf({ pages: 1 });
    await expect(
      signPdf(source, {
        signer: pki.sealRsa.signer,
        appearance: { image: sealPng(), at: { keyword: '丙方（盖章）' } },
      }),
    ).rejects.toMatchObject({ code: 'pdf_keyword_not_found' });
    await expect(
      signPdf(source, {
        signer: pki.sealRsa.signer,
        appearance: { image: sealPng(), at: { page: 4, rect: [0, 0, 10, 10] } },
      }),
    ).rejects.toMatchObject({ code: 'pdf_page_not_found' });
  });

  it('a cross-page seal is one signature with a strip on the right edge of every page', async () => {
    const pdf = await signPdf(buildPdf({ pages: 4 }), { signer: pki.sealRsa.signer, crossPage: { image: sealPng() } });
    const file = tmp.file('cross-page.pdf', pdf);
    const seen = pdfsig(file, nss);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.signatureValid).toBe(true);
    expect(seen[0]!.certificateTrusted).toBe(true);
    qpdfCheck(file);
    const report = await verifyPdf(pdf, { trustAnchors: [pki.root] });
    expect(report.signatures).toHaveLength(1);
    const seals = report.signatures[0]!.seals;
    expect(seals.map((s) => s.page)).toEqual([1, 2, 3, 4]);
    const width = (42 / 25.4) * 72;
    for (const s of seals) {
      expect(s.rect[0] + s.rect[2]).toBeCloseTo(595, 3); // flush with the right edge of A4
      expect(s.rect[2]).toBeCloseTo(width / 4, 3);
    }
    // A seal on top of the cross-page seal, then a handwritten signature: three valid signatures.
    const more = await signPdf(pdf, {
      signer: pki.sealEc.signer,
      appearance: { image: sealPng(), at: { page: 4, rect: [100, 100, 110, 110] } },
    });
    const most = await signPdf(more, {
      signer: pki.person.signer,
      appearance: { image: sealPng(80), kind: 'handwritten', at: { page: 4, rect: [300, 100, 120, 40] } },
    });
    const final = pdfsig(tmp.file('cross-page-3.pdf', most), nss);
    expect(final.map((s) => s.signatureValid)).toEqual([true, true, true]);
    expect((await verifyPdf(most, { trustAnchors: [pki.root] })).intact).toBe(true);
  });
});
