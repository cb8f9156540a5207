// What a revision appended after a signature may draw (the "PDF Insecurity" family: incremental
// saving, shadow and signature-wrapping attacks). Every attack file is written here byte by byte
// on top of a PDF that Sigil signed (qpdf reads the objects it edits; openssl cms makes the
// signatures Sigil did not make), and each verdict of ours is recorded beside pdfsig's and beside
// what poppler (pdftotext) and MuPDF (mutool draw) show on the page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDocumentTimestamp, addValidationData, signPdf } from '../../src/signing/pades.js';
import { verifyPdf, type VerificationReport } from '../../src/signing/verify.js';
import { derToPem } from '../../src/signing/x509.js';
import {
  QpdfView,
  appendRevision,
  handPdf,
  lastTrailer,
  lastXrefTable,
  overlayAppearance,
  signWithOpenssl,
  signatureDictionary,
  streamBody,
  withAppended,
  type HandObject,
  type HandSigner,
} from './hand-pdf.js';
import { buildPdf } from './pdf-fixtures.js';
import {
  nssDatabase,
  pdfsig,
  requireTool,
  run,
  sealPng,
  tempDir,
  testPki,
  type PdfsigSignature,
  type TestPki,
} from './support.js';

let pki: TestPki;
let tmp: ReturnType<typeof tempDir>;
let nss: string;
let openssl: HandSigner;
/** Two pages, signed once by Sigil with an invisible signature (field Signature1). */
let signed: Buffer;

beforeAll(async () => {
  for (const tool of ['pdfsig', 'qpdf', 'openssl', 'certutil', 'mutool', 'pdftotext']) requireTool(tool);
  pki = await testPki();
  tmp = tempDir('sigil-revisions-');
  nss = nssDatabase(tmp.dir, pki.root);
  openssl = {
    certificatePem: derToPem(pki.sealEc.signer.certificate),
    keyPem: pki.sealEc.key.export({ format: 'pem', type: 'pkcs8' }) as string,
    chainPem: derToPem(pki.ca) + derToPem(pki.root),
  };
  signed = await signPdf(buildPdf({ pages: 2 }), { signer: pki.sealRsa.signer });
});
afterAll(() => tmp?.remove());

const AMOUNT = 'AMOUNT: 999,999';
/** Over the first lines of page 1 ("Sigil test document", "Contract No. 2026-001"). */
const OVER_TEXT = '[60 690 380 760]';

interface Verdicts {
  ours: VerificationReport;
  pdfsig: PdfsigSignature[];
  /** Page 1 as text (spaces folded), through poppler and MuPDF: what they draw, appearances included. */
  poppler: string;
  mupdf: string;
}

let files = 0;
async function verdicts(pdf: Buffer): Promise<Verdicts> {
  const file = tmp.file(`case-${++files}.pdf`, pdf);
  return {
    ours: await verifyPdf(pdf, { trustAnchors: [pki.root] }),
    pdfsig: pdfsig(file, nss),
    poppler: run('pdftotext', ['-f', '1', '-l', '1', file, '-']).out.replace(/\s+/g, ' '),
    mupdf: run('mutool', ['draw', '-F', 'txt', '-o', '-', file, '1'], { allowFailure: true }).out.replace(/\s+/g, ' '),
  };
}

function qpdfOf(pdf: Buffer): QpdfView {
  return new QpdfView(tmp.file(`read-${++files}.pdf`, pdf));
}

/**
 * A revision that adds one annotation on page 1 (and to the form's /Fields when asked), whose
 * appearance paints a white box with AMOUNT over the signed text.
 */
function addAnnotation(
  pdf: Buffer,
  annotation: (appearance: number, page: number) => string,
  options: { inFields?: boolean; more?: (next: number) => HandObject[] } = {},
): Buffer {
  const q = qpdfOf(pdf);
  const page = q.pages()[0]!;
  const n = lastTrailer(pdf).size;
  const objects: HandObject[] = [
    { num: n, body: overlayAppearance(320, 70, AMOUNT) },
    { num: n + 1, body: annotation(n, page) },
    { num: page, body: withAppended(q.object(page), 'Annots', `${n + 1} 0 R`) },
    ...(options.more?.(n + 2) ?? []),
  ];
  if (options.inFields) {
    const acro = q.acroForm();
    objects.push({ num: acro, body: withAppended(q.object(acro), 'Fields', `${n + 1} 0 R`) });
  }
  return appendRevision(pdf, objects);
}

/** The first signature stays valid, the document is not intact, and the change is named. */
function expectAltered(v: Verdicts, change: RegExp): void {
  expect(v.ours.signatures[0]).toMatchObject({ fieldName: 'Signature1', valid: true, modifiedAfter: 'altered' });
  expect(v.ours.signatures[0]!.changesAfter.join('\n')).toMatch(change);
  expect(v.ours.signatures[0]!.problems.join('\n')).toMatch(/the document was changed after this signature/);
  expect(v.ours.intact).toBe(false);
  // pdfsig does not call the document intact either: the first signature no longer covers it all.
  expect(v.pdfsig[0]).toMatchObject({ field: 'Signature1', signatureValid: true, totalDocumentSigned: false });
}

describe('an appearance added after signing is a change, whatever object carries it', () => {
  it('an unsigned signature field whose widget paints over the signed text', async () => {
    const v = await verdicts(
      addAnnotation(
        signed,
        (ap, page) =>
          `<</Type/Annot/Subtype/Widget/FT/Sig/T(Signature2)/Rect${OVER_TEXT}/F 4/P ${page} 0 R/AP<</N ${ap} 0 R>>>>`,
        { inFields: true },
      ),
    );
    expectAltered(
      v,
      /a visible signature field "Signature2" \(without a signature\) was added on page 1 and draws the text "AMOUNT: 999,999" over the signed content/,
    );
    expect(v.pdfsig[1]!.raw).toMatch(/not signed/);
    // poppler draws the widget over the signed text; MuPDF 1.21 leaves an unsigned signature widget out.
    expect(v.poppler).toContain(AMOUNT);
    expect(v.mupdf).not.toContain(AMOUNT);
  });

  it('a Stamp annotation named like a strip of the signature (/NM (Signature1:2)), added later', async () => {
    const v = await verdicts(
      addAnnotation(
        signed,
        (ap, page) =>
          `<</Type/Annot/Subtype/Stamp/NM(Signature1:2)/F 196/Rect${OVER_TEXT}/P ${page} 0 R/AP<</N ${ap} 0 R>>>>`,
      ),
    );
    expectAltered(
      v,
      /a Stamp annotation named "Signature1:2" was added on page 1 and draws the text "AMOUNT: 999,999" over the signed content/,
    );
    // Not a strip of Signature1: its strips are written in the revision it signs.
    expect(v.ours.signatures[0]!.seals).toEqual([]);
    expect(v.pdfsig).toHaveLength(1);
    expect(v.poppler).toContain(AMOUNT);
    expect(v.mupdf).toContain(AMOUNT);
  });

  it("a signature widget listed only in the page's /Annots, not in the form", async () => {
    const v = await verdicts(
      addAnnotation(
        signed,
        (ap, page) =>
          `<</Type/Annot/Subtype/Widget/FT/Sig/T(Signature9)/Rect${OVER_TEXT}/F 4/P ${page} 0 R/AP<</N ${ap} 0 R>>>>`,
      ),
    );
    expectAltered(
      v,
      /a visible signature field "Signature9" \(without a signature\) was added on page 1 and draws the text "AMOUNT/,
    );
    expect(v.ours.signatures).toHaveLength(1);
    expect(v.poppler).toContain(AMOUNT);
    expect(v.mupdf).not.toContain(AMOUNT);
  });

  it('a FreeText annotation without an appearance: viewers draw its /Contents', async () => {
    const v = await verdicts(
      addAnnotation(
        signed,
        (_ap, page) =>
          `<</Type/Annot/Subtype/FreeText/Rect${OVER_TEXT}/P ${page} 0 R/Contents(${AMOUNT})/DA(/Helv 20 Tf 0 g)>>`,
      ),
    );
    expectAltered(v, /a FreeText annotation was added on page 1 and draws the text "AMOUNT: 999,999"/);
    expect(v.poppler).toContain(AMOUNT);
  });

  it('an invisible unsigned signature field (zero-area /Rect, no appearance) is permitted', async () => {
    const v = await verdicts(
      addAnnotation(
        signed,
        (_ap, page) => `<</Type/Annot/Subtype/Widget/FT/Sig/T(Later)/Rect[0 0 0 0]/F 132/P ${page} 0 R>>`,
        { inFields: true },
      ),
    );
    expect(v.ours.signatures[0]).toMatchObject({ valid: true, modifiedAfter: 'signatures-and-validation-data' });
    expect(v.ours.signatures[0]!.changesAfter).toEqual([]);
    expect(v.ours.intact).toBe(true);
    expect(v.pdfsig[0]).toMatchObject({ signatureValid: true, totalDocumentSigned: false });
  });
});

describe('a later signature may draw its own widget, and only in the revision it signs', () => {
  /** A revision with a visible signature field (its widget paints AMOUNT) signed by openssl cms. */
  function opensslSignature(pdf: Buffer, options: { widgetEarlier?: boolean } = {}): Buffer {
    const q = qpdfOf(pdf);
    const page = q.pages()[0]!;
    const acro = q.acroForm();
    const n = lastTrailer(pdf).size;
    const field = `<</Type/Annot/Subtype/Widget/FT/Sig/T(Approval)/V ${n + 2} 0 R/Rect${OVER_TEXT}/F 132/P ${page} 0 R/AP<</N ${n} 0 R>>>>`;
    const widget: HandObject[] = [
      { num: n, body: overlayAppearance(320, 70, AMOUNT) },
      { num: n + 1, body: field },
      { num: page, body: withAppended(q.object(page), 'Annots', `${n + 1} 0 R`) },
      { num: acro, body: withAppended(q.object(acro), 'Fields', `${n + 1} 0 R`) },
    ];
    const sig = { num: n + 2, body: signatureDictionary() };
    // The widget in a revision of its own, before the revision the signature signs.
    if (options.widgetEarlier) return signWithOpenssl(appendRevision(appendRevision(pdf, widget), [sig]), openssl);
    return signWithOpenssl(appendRevision(pdf, [...widget, sig]), openssl);
  }

  it('a visible signature made by openssl cms in the revision that adds its widget is permitted', async () => {
    const v = await verdicts(opensslSignature(signed));
    expect(v.ours.signatures.map((s) => [s.fieldName, s.valid, s.modifiedAfter])).toEqual([
      ['Signature1', true, 'signatures-and-validation-data'],
      ['Approval', true, 'none'],
    ]);
    expect(v.ours.intact).toBe(true);
    expect(v.pdfsig.map((s) => [s.field, s.signatureValid, s.totalDocumentSigned])).toEqual([
      ['Signature1', true, false],
      ['Approval', true, true],
    ]);
    expect(v.poppler).toContain(AMOUNT);
  });

  it('its widget written one revision before the signature that claims it is a change', async () => {
    const v = await verdicts(opensslSignature(signed, { widgetEarlier: true }));
    expectAltered(
      v,
      /a visible signature field "Approval" \(written in a revision its signature does not sign\) was added on page 1 and draws the text "AMOUNT/,
    );
    expect(v.ours.signatures[1]).toMatchObject({ fieldName: 'Approval', valid: true });
    expect(v.pdfsig[1]).toMatchObject({ signatureValid: true, totalDocumentSigned: true });
  });

  it("a Sigil cross-page seal's strips are its own; a stamp named like them but added later is not", async () => {
    const cross = await signPdf(signed, { signer: pki.sealEc.signer, crossPage: { image: sealPng() } });
    const ok = await verdicts(cross);
    expect(ok.ours.intact).toBe(true);
    expect(ok.ours.signatures.map((s) => s.modifiedAfter)).toEqual(['signatures-and-validation-data', 'none']);
    expect(ok.ours.signatures[1]!.seals.map((s) => s.page)).toEqual([1, 2]);
    const v = await verdicts(
      addAnnotation(
        cross,
        (ap, page) =>
          `<</Type/Annot/Subtype/Stamp/NM(CrossPageSeal1:3)/F 196/Rect${OVER_TEXT}/P ${page} 0 R/AP<</N ${ap} 0 R>>>>`,
      ),
    );
    expectAltered(v, /a Stamp annotation named "CrossPageSeal1:3" was added on page 1 and draws the text "AMOUNT/);
    expect(v.ours.signatures[1]!.changesAfter.join('\n')).toMatch(/named "CrossPageSeal1:3" was added on page 1/);
    expect(v.ours.signatures[1]!.seals.map((s) => s.page)).toEqual([1, 2]);
  });
});

describe('one CMS counts once: a byte range must exclude exactly its own /Contents', () => {
  function firstSignature(pdf: Buffer): { q: QpdfView; field: number; sig: number; page: number } {
    const q = qpdfOf(pdf);
    const field = Number(/\/Fields \[ (\d+) 0 R/.exec(q.object(q.acroForm()))![1]);
    const sig = Number(/\/V (\d+) 0 R/.exec(q.object(field))![1]);
    return { q, field, sig, page: q.pages()[0]! };
  }

  it('a new field with a copy of the first signature dictionary, shown elsewhere, claiming another time', async () => {
    const { q, sig } = firstSignature(signed);
    const copy = q.object(sig).replace(/\/M \([^)]*\)/, "/M (D:20200101000000+00'00')");
    expect(copy).toMatch(/\/ByteRange \[ 0 \d+ \d+ \d+ \]/);
    const v = await verdicts(
      addAnnotation(
        signed,
        (ap, page) =>
          `<</Type/Annot/Subtype/Widget/FT/Sig/T(Signature2)/V ${lastTrailer(signed).size + 2} 0 R/Rect${OVER_TEXT}/F 4/P ${page} 0 R/AP<</N ${ap} 0 R>>>>`,
        { inFields: true, more: (next) => [{ num: next, body: copy }] },
      ),
    );
    const [first, second] = v.ours.signatures;
    expect(second).toMatchObject({
      fieldName: 'Signature2',
      valid: false,
      claimedSigningTime: '2020-01-01T00:00:00.000Z',
    });
    expect(second!.problems.join('\n')).toMatch(/is not this signature dictionary's own \/Contents/);
    expect(second!.problems.join('\n')).toMatch(/repeats the signature of field Signature1 \(the same CMS\)/);
    expect(first!.valid).toBe(true);
    expectAltered(v, /a visible signature field "Signature2" \(a copy of signature Signature1\) was added on page 1/);
    // pdfsig is fooled: it reports the copy as a second valid signature over the same bytes.
    expect(v.pdfsig.map((s) => [s.field, s.signatureValid])).toEqual([
      ['Signature1', true],
      ['Signature2', true],
    ]);
    expect(v.poppler).toContain(AMOUNT);
    expect(v.mupdf).toContain(AMOUNT);
  });

  it("a new field whose /V is the first signature's own dictionary", async () => {
    const { sig } = firstSignature(signed);
    const v = await verdicts(
      addAnnotation(
        signed,
        (ap, page) =>
          `<</Type/Annot/Subtype/Widget/FT/Sig/T(Signature2)/V ${sig} 0 R/Rect${OVER_TEXT}/F 4/P ${page} 0 R/AP<</N ${ap} 0 R>>>>`,
        { inFields: true },
      ),
    );
    expect(v.ours.signatures.map((s) => [s.fieldName, s.valid])).toEqual([
      ['Signature1', true],
      ['Signature2', false],
    ]);
    expect(v.ours.signatures[1]!.problems.join('\n')).toMatch(/repeats the signature of field Signature1/);
    expectAltered(v, /"Signature2" \(a copy of signature Signature1\)/);
    expect(v.pdfsig.map((s) => s.signatureValid)).toEqual([true, true]);
  });
});

describe('bytes and objects outside the cross-reference chain', () => {
  const freeText = (num: number) =>
    `${num} 0 obj\n<</Type/Annot/Subtype/FreeText/Rect${OVER_TEXT}/Contents(${AMOUNT})/DA(/Helv 20 Tf 0 g)>>\nendobj\n`;

  it('an object appended after the last %%EOF with no cross-reference section', async () => {
    const v = await verdicts(Buffer.concat([signed, Buffer.from(freeText(lastTrailer(signed).size), 'latin1')]));
    expectAltered(v, /object \d+ at byte \d+ is in no cross-reference section, after the last %%EOF/);
  });

  it('a comment after the last %%EOF', async () => {
    const v = await verdicts(Buffer.concat([signed, Buffer.from('% AMOUNT: 999,999\n', 'latin1')]));
    expectAltered(v, /bytes \d+–\d+ after the last %%EOF belong to no revision \("% AMOUNT: 999,999"\)/);
    expect(v.ours.signatures[0]!.coversWholeDocument).toBe(false);
  });

  it("an object inside a revision that the revision's cross-reference table leaves out", async () => {
    const { info, size } = lastTrailer(signed);
    const infoObject = { num: info!, body: '<</Producer(an innocent update)>>' };
    const unlisted = { num: size, body: freeText(size).replace(/^\d+ 0 obj\n|\nendobj\n$/g, '') };
    const v = await verdicts(appendRevision(signed, [infoObject], { unlisted: [unlisted] }));
    expectAltered(v, new RegExp(`object ${size} at byte \\d+ is in no cross-reference section: viewers that repair`));
    expect(v.ours.signatures[0]!.changesAfter).toHaveLength(1);
  });

  it('a revision whose /Prev skips the revision the signature signs (re-listing its objects)', async () => {
    const own = lastXrefTable(signed);
    const { info } = lastTrailer(signed);
    const skipping = appendRevision(signed, [{ num: info!, body: '<</Producer(rerouted)>>' }], {
      prev: own.prev,
      relist: own.entries,
    });
    const v = await verdicts(skipping);
    expect(v.ours.revisions).toBe(2);
    expectAltered(v, /the revision this signature signs is not part of the document's cross-reference chain any more/);
  });

  it('a revision that replaces the document catalog', async () => {
    const q = qpdfOf(signed);
    const n = lastTrailer(signed).size;
    const v = await verdicts(appendRevision(signed, [{ num: n, body: q.object(q.root()) }], { root: n }));
    expectAltered(v, new RegExp(`the document catalog was replaced: the trailer's /Root now names object ${n}`));
  });

  it('an OpenAction added to the catalog', async () => {
    const q = qpdfOf(signed);
    const root = q.root();
    const catalog = q.object(root).replace(/^<</, '<< /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>');
    const v = await verdicts(appendRevision(signed, [{ num: root, body: catalog }]));
    expectAltered(v, /the document catalog's \/OpenAction was added/);
  });

  it('an object the signed page refers to without defining it, defined by a later revision (shadow)', async () => {
    // The form XObject /X1 is object 50, which the original file does not define: drawn as nothing.
    const base = handPdf([
      '<</Type/Catalog/Pages 2 0 R>>',
      '<</Type/Pages/Kids[3 0 R]/Count 1>>',
      '<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>/XObject<</X1 50 0 R>>>>>>',
      streamBody('', 'BT /F1 14 Tf 72 740 Td (Contract total: 100) Tj ET q 1 0 0 1 60 690 cm /X1 Do Q'),
      '<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>',
    ]);
    const before = await signPdf(base, { signer: pki.sealRsa.signer });
    expect(run('pdftotext', [tmp.file('shadow-signed.pdf', before), '-']).out).not.toContain(AMOUNT);
    const v = await verdicts(appendRevision(before, [{ num: 50, body: overlayAppearance(320, 70, AMOUNT) }]));
    expectAltered(
      v,
      /object 50, which signed object 3 \(page 1\) refers to but the signed revision did not define, is defined by a later revision/,
    );
    expect(v.poppler).toContain(AMOUNT);
    expect(v.mupdf).toContain(AMOUNT);
  });
});

describe('DocMDP and FieldMDP (ISO 32000-1 §12.8.2.2, §12.8.2.4)', () => {
  /** A page with two text fields, amount (100) and note, written by hand. */
  function formPdf(): Buffer {
    const field = (name: string, value: string, y: number, ap: number) =>
      `<</FT/Tx/T(${name})/V(${value})/DA(/Helv 12 Tf 0 g)/Type/Annot/Subtype/Widget/Rect[72 ${y} 300 ${y + 30}]/F 4/P 3 0 R/AP<</N ${ap} 0 R>>>>`;
    return handPdf([
      '<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R 5 0 R]/DA(/Helv 0 Tf 0 g)/DR<</Font<</Helv 7 0 R>>>>>>>>',
      '<</Type/Pages/Kids[3 0 R]/Count 1>>',
      '<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 6 0 R/Resources<</Font<</F1 7 0 R>>>>/Annots[4 0 R 5 0 R]>>',
      field('amount', '100', 600, 8),
      field('note', 'none', 550, 9),
      streamBody('', 'BT /F1 14 Tf 72 740 Td (A certified contract) Tj ET'),
      '<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>',
      fieldAppearance('100'),
      fieldAppearance('none'),
    ]);
  }

  function fieldAppearance(value: string): Buffer {
    return streamBody(
      '/Type/XObject/Subtype/Form/BBox[0 0 228 30]/Resources<</Font<</Helv 7 0 R>>>>',
      `/Tx BMC BT /Helv 12 Tf 2 10 Td (${value}) Tj ET EMC`,
    );
  }

  /** An invisible signature by openssl cms with a DocMDP or FieldMDP reference. */
  function signForm(pdf: Buffer, reference: { docMdp?: 1 | 2 | 3; lockFields?: string[] }): Buffer {
    const q = qpdfOf(pdf);
    const n = lastTrailer(pdf).size;
    const transform = reference.docMdp
      ? `/TransformMethod/DocMDP/TransformParams<</Type/TransformParams/P ${reference.docMdp}/V/1.2>>`
      : `/TransformMethod/FieldMDP/TransformParams<</Type/TransformParams/Action/Include/Fields[${reference.lockFields!.map((f) => `(${f})`).join('')}]/V/1.2>>`;
    let catalog = withAppended(q.object(1), 'Fields', `${n + 1} 0 R`);
    if (reference.docMdp) catalog = catalog.replace(/^<</, `<< /Perms << /DocMDP ${n} 0 R >>`);
    return signWithOpenssl(
      appendRevision(pdf, [
        { num: n, body: signatureDictionary(`/Reference[<</Type/SigRef${transform}>>]`) },
        {
          num: n + 1,
          body: `<</FT/Sig/T(${reference.docMdp ? 'Certification' : 'Approval'})/V ${n} 0 R/Type/Annot/Subtype/Widget/Rect[0 0 0 0]/F 132/P 3 0 R>>`,
        },
        { num: 3, body: withAppended(q.object(3), 'Annots', `${n + 1} 0 R`) },
        { num: 1, body: catalog },
      ]),
      openssl,
    );
  }

  /** Form fill-in: the field's new /V and a new appearance showing it. */
  function fillIn(pdf: Buffer, num: 4 | 5, value: string): Buffer {
    const q = qpdfOf(pdf);
    const n = lastTrailer(pdf).size;
    const field = q
      .object(num)
      .replace(/\/V \([^)]*\)/, `/V (${value})`)
      .replace(/\/N \d+ 0 R/, `/N ${n} 0 R`);
    return appendRevision(pdf, [
      { num: n, body: fieldAppearance(value) },
      { num, body: field },
    ]);
  }

  function freeTextAnnotation(pdf: Buffer): Buffer {
    return addAnnotation(
      pdf,
      (_ap, page) =>
        `<</Type/Annot/Subtype/FreeText/Rect${OVER_TEXT}/P ${page} 0 R/Contents(${AMOUNT})/DA(/Helv 20 Tf 0 g)>>`,
    );
  }

  it('the hand-made certifications verify, in pdfsig and here', async () => {
    for (const p of [1, 2, 3] as const) {
      const v = await verdicts(signForm(formPdf(), { docMdp: p }));
      expect(v.ours.signatures).toMatchObject([{ fieldName: 'Certification', valid: true, modifiedAfter: 'none' }]);
      expect(v.pdfsig[0]).toMatchObject({ signatureValid: true, totalDocumentSigned: true });
    }
  });

  it('P=2 permits form fill-in, which then draws the new value; P=1 does not', async () => {
    const p2 = await verdicts(fillIn(signForm(formPdf(), { docMdp: 2 }), 4, '999,999'));
    expect(p2.ours.signatures[0]).toMatchObject({ valid: true, modifiedAfter: 'signatures-and-validation-data' });
    expect(p2.ours.intact).toBe(true);
    expect(p2.poppler).toContain('999,999');
    const p1 = await verdicts(fillIn(signForm(formPdf(), { docMdp: 1 }), 4, '999,999'));
    expect(p1.ours.signatures[0]!.changesAfter).toEqual([
      'the value of field amount was changed, which the certification (DocMDP P=1) does not permit',
    ]);
    expect(p1.ours.intact).toBe(false);
  });

  it('P=2 permits a later signature; P=1 permits only validation data and document time-stamps', async () => {
    const laterSignature = (pdf: Buffer) =>
      signPdf(pdf, {
        signer: pki.sealRsa.signer,
        appearance: { image: sealPng(), at: { page: 1, rect: [350, 540, 90, 90] } },
      });
    const p2 = await verifyPdf(await laterSignature(signForm(formPdf(), { docMdp: 2 })), { trustAnchors: [pki.root] });
    expect(p2.intact).toBe(true);
    const p1 = await verifyPdf(await laterSignature(signForm(formPdf(), { docMdp: 1 })), { trustAnchors: [pki.root] });
    expect(p1.signatures[0]!.changesAfter).toEqual([
      'a signature field "Seal1" was added, which the certification (DocMDP P=1) does not permit',
    ]);
    expect(p1.intact).toBe(false);
    const archived = await addDocumentTimestamp(
      await addValidationData(signForm(formPdf(), { docMdp: 1 }), {
        certificates: [pki.ca, pki.root],
        crls: [pki.crl],
      }),
      { timestamper: pki.timestamper },
    );
    const lta = await verifyPdf(archived, { trustAnchors: [pki.root] });
    expect(lta.signatures.map((s) => [s.kind, s.valid, s.modifiedAfter])).toEqual([
      ['signature', true, 'signatures-and-validation-data'],
      ['document-timestamp', true, 'none'],
    ]);
    expect(lta.intact).toBe(true);
  });

  it('annotations only under P=3', async () => {
    const p2 = await verdicts(freeTextAnnotation(signForm(formPdf(), { docMdp: 2 })));
    expect(p2.ours.signatures[0]!.changesAfter.join()).toMatch(
      /a FreeText annotation was added on page 1 and draws the text "AMOUNT/,
    );
    expect(p2.ours.intact).toBe(false);
    const p3 = await verdicts(freeTextAnnotation(signForm(formPdf(), { docMdp: 3 })));
    expect(p3.ours.signatures[0]).toMatchObject({ valid: true, modifiedAfter: 'signatures-and-validation-data' });
    expect(p3.ours.intact).toBe(true);
    expect(p3.poppler).toContain(AMOUNT);
  });

  it('FieldMDP: a field the signature locks cannot be filled in afterwards; another one can', async () => {
    const locked = signForm(formPdf(), { lockFields: ['amount'] });
    const amount = await verifyPdf(fillIn(locked, 4, '999,999'), { trustAnchors: [pki.root] });
    expect(amount.signatures[0]!.changesAfter).toEqual([
      'the value of field amount was changed, which this signature locks (FieldMDP)',
    ]);
    expect(amount.intact).toBe(false);
    const note = await verifyPdf(fillIn(locked, 5, 'paid'), { trustAnchors: [pki.root] });
    expect(note.signatures[0]).toMatchObject({ valid: true, modifiedAfter: 'signatures-and-validation-data' });
    expect(note.intact).toBe(true);
  });
});
