// What a PDF says about its signatures, apart from their cryptography: the signature fields and
// their widgets, whether a byte range excludes exactly its own /Contents, and the seal images the
// widgets show (ISO 32000-1 §12.8). What later revisions changed is in pdf-revisions.ts.
import { PNG } from 'pngjs';
import { PdfDict, PdfRef, PdfStream, PdfString, isName, isNumber, isRef, type PdfValue } from './pdf/objects.js';
import type { PdfDocument, XrefSection } from './pdf/parser.js';

/** What revisions after a signature did: nothing, only what the signature permits, or more. */
export type Modification = 'none' | 'signatures-and-validation-data' | 'altered';

export interface SealImage {
  page: number;
  rect: [number, number, number, number];
  width: number;
  height: number;
  /** PNG, base64, when `extractImages` was asked for and the image could be decoded. */
  png?: string;
}

export type ByteRangeCheck =
  | { ok: true; byteRange: [number, number, number, number]; contents: PdfString }
  | { ok: false; byteRange: [number, number, number, number] | null; problem: string };

const byteRangeChecks = new WeakMap<SignatureField, ByteRangeCheck>();

/**
 * ISO 32000-1 §12.8.1: ByteRange [0 a b c] must exclude exactly the /Contents hex string of THIS
 * signature dictionary, found where the dictionary is stored in the file. Comparing the gap's
 * bytes with /Contents is not enough: a copied dictionary (or a field pointing at the same
 * byte range) would carry the same value somewhere else and pass.
 */
export function checkByteRange(doc: PdfDocument, f: SignatureField): ByteRangeCheck {
  let check = byteRangeChecks.get(f);
  if (!check) {
    check = checkOwnByteRange(doc, f);
    byteRangeChecks.set(f, check);
  }
  return check;
}

function checkOwnByteRange(doc: PdfDocument, f: SignatureField): ByteRangeCheck {
  const { sig } = f;
  const buf = doc.buf;
  const br = doc.resolve(sig.get('ByteRange'));
  const contents = sig.get('Contents');
  if (
    !Array.isArray(br) ||
    br.length !== 4 ||
    !br.every((n) => isNumber(n) && Number.isInteger(n) && n >= 0) ||
    !(contents instanceof PdfString)
  ) {
    return { ok: false, byteRange: null, problem: 'the signature has no usable /ByteRange or /Contents' };
  }
  const [a, b, c, d] = br as [number, number, number, number];
  const byteRange: [number, number, number, number] = [a, b, c, d];
  if (a !== 0 || b > c || c + d > buf.length) {
    return { ok: false, byteRange, problem: 'the byte range does not lie within the file' };
  }
  if (buf[b] !== 0x3c || buf[c - 1] !== 0x3e || !contents.hex) {
    return { ok: false, byteRange, problem: 'the byte range does not exclude exactly the signature value' };
  }
  // §12.7.4.5 Table 232: a signature field's /V shall be an indirect reference. Its /Contents,
  // read from the same place, is then exactly the bytes of the gap.
  const spans = f.sigRef ? doc.valueSpans(f.sigRef.num) : null;
  if (!spans)
    return {
      ok: false,
      byteRange,
      problem: 'the signature dictionary is not an object of its own in the file, so its /Contents cannot be the gap',
    };
  const own = spans.get('Contents');
  if (!own || own[0] !== b || own[1] !== c)
    return {
      ok: false,
      byteRange,
      problem: `the byte range's gap (bytes ${b}–${c}) is not this signature dictionary's own /Contents${own ? ` (at bytes ${own[0]}–${own[1]})` : ''}: its byte range and value were copied from another signature`,
    };
  return { ok: true, byteRange, contents };
}

export interface SignatureField {
  /** The field object, when it is an indirect object (it should be). */
  fieldRef: PdfRef | null;
  field: PdfDict;
  fieldName: string;
  /** The signature dictionary's object (§12.7.4.5: /V is an indirect reference). */
  sigRef: PdfRef | null;
  sig: PdfDict;
  /** Its widgets, then the strips of its cross-page seal written in its own revision. */
  widgets: PdfDict[];
  /** The object numbers of `widgets` (null for a direct dictionary). */
  widgetRefs: Array<PdfRef | null>;
}

export function findSignatureFields(doc: PdfDocument): SignatureField[] {
  const out: SignatureField[] = [];
  const acro = doc.dict(doc.catalog().get('AcroForm'));
  const fields = acro ? doc.resolve(acro.get('Fields')) : null;
  if (!Array.isArray(fields)) return out;
  const stack: Array<{ v: PdfValue; depth: number; prefix: string; ft: PdfValue | undefined }> = fields
    .map((v) => ({ v, depth: 0, prefix: '', ft: undefined }))
    .reverse();
  const seen = new Set<number>();
  let visits = 0;
  while (stack.length > 0 && visits++ < 50_000) {
    const { v, depth, prefix, ft } = stack.pop()!;
    if (isRef(v)) {
      if (seen.has(v.num)) continue;
      seen.add(v.num);
    }
    const field = doc.dict(v);
    if (!field || depth > 32) continue;
    const t = field.get('T');
    const partial = t instanceof PdfString ? t.text() : '';
    const fullName = prefix && partial ? `${prefix}.${partial}` : prefix || partial;
    const fieldType = field.get('FT') ?? ft;
    const kids = doc.resolve(field.get('Kids'));
    const kidFields = Array.isArray(kids) ? kids.filter((k) => doc.dict(k)?.has('T')) : [];
    const sigValue = field.get('V');
    const sig = doc.dict(sigValue);
    if (isName(fieldType, 'Sig') && sig) {
      const widgetValues = Array.isArray(kids) && kidFields.length === 0 ? kids : [v];
      const widgets: PdfDict[] = [];
      const widgetRefs: Array<PdfRef | null> = [];
      for (const w of widgetValues) {
        const dict = doc.dict(w);
        if (!dict) continue;
        widgets.push(dict);
        widgetRefs.push(isRef(w) ? w : null);
      }
      for (const strip of crossPageStrips(doc, fullName, sig)) {
        widgets.push(strip.dict);
        widgetRefs.push(strip.ref);
      }
      out.push({
        fieldRef: isRef(v) ? v : null,
        field,
        fieldName: fullName,
        sigRef: isRef(sigValue) ? sigValue : null,
        sig,
        widgets,
        widgetRefs,
      });
    }
    for (const k of [...kidFields].reverse()) stack.push({ v: k, depth: depth + 1, prefix: fullName, ft: fieldType });
  }
  return out;
}

/** The newest cross-reference section written before byte `end`: the revision a signature ending there signs. */
export function revisionEndingAt(doc: PdfDocument, end: number): XrefSection | undefined {
  return doc.sections.find((s) => s.offset < end);
}

/** The end of the bytes a signature dictionary's /ByteRange covers, or null when it has none. */
export function signedEndOf(doc: PdfDocument, sig: PdfDict): number | null {
  const br = doc.resolve(sig.get('ByteRange'));
  if (!Array.isArray(br) || br.length !== 4 || !br.every(isNumber)) return null;
  return (br[2] as number) + (br[3] as number);
}

/**
 * The strips of a cross-page seal after the first: stamps named `<field>:<n>` (see pades.ts),
 * written in the revision the signature signs. A stamp named like a strip but written in another
 * revision is not one: it is an annotation like any other.
 */
function crossPageStrips(doc: PdfDocument, fieldName: string, sig: PdfDict): Array<{ ref: PdfRef; dict: PdfDict }> {
  const out: Array<{ ref: PdfRef; dict: PdfDict }> = [];
  const prefix = `${fieldName}:`;
  let own: XrefSection | undefined | null = null;
  const ownRevision = () => {
    if (own === null) {
      const end = signedEndOf(doc, sig);
      own = end === null ? undefined : revisionEndingAt(doc, end);
    }
    return own;
  };
  for (const page of doc.pages()) {
    const annots = doc.resolve(page.dict.get('Annots'));
    if (!Array.isArray(annots)) continue;
    for (const a of annots.slice(0, 2_000)) {
      if (!isRef(a)) continue;
      const annot = doc.dict(a);
      const nm = annot?.get('NM');
      if (
        annot &&
        isName(annot.get('Subtype'), 'Stamp') &&
        nm instanceof PdfString &&
        nm.text().startsWith(prefix) &&
        ownRevision() !== undefined &&
        doc.definingSection(a.num) === ownRevision()
      )
        out.push({ ref: a, dict: annot });
    }
  }
  return out;
}

// ---------------------------------------------------------------- seal images

export function sealImages(doc: PdfDocument, widgets: PdfDict[], extract: boolean): SealImage[] {
  const pages = doc.pages();
  const out: SealImage[] = [];
  for (const w of widgets.slice(0, 500)) {
    const rect = doc.resolve(w.get('Rect'));
    if (!Array.isArray(rect) || rect.length !== 4 || !rect.every(isNumber)) continue;
    const [x0, y0, x1, y1] = rect as number[];
    if (x1 === x0 || y1 === y0) continue;
    const p = w.get('P');
    const pageIndex = isRef(p) ? pages.findIndex((pg) => pg.ref.num === p.num) : -1;
    const ap = doc.dict(w.get('AP'));
    const normal = ap ? doc.resolve(ap.get('N')) : undefined;
    if (!(normal instanceof PdfStream)) continue;
    const xobjects = doc.dict(doc.dict(normal.dict.get('Resources'))?.get('XObject'));
    if (!xobjects) continue;
    for (const value of xobjects.map.values()) {
      const img = doc.resolve(value);
      if (!(img instanceof PdfStream) || !isName(img.dict.get('Subtype'), 'Image')) continue;
      const width = doc.resolve(img.dict.get('Width'));
      const height = doc.resolve(img.dict.get('Height'));
      if (!isNumber(width) || !isNumber(height)) continue;
      const seal: SealImage = {
        page: pageIndex + 1,
        rect: [Math.min(x0!, x1!), Math.min(y0!, y1!), Math.abs(x1! - x0!), Math.abs(y1! - y0!)],
        width,
        height,
      };
      if (extract) {
        try {
          seal.png = toPng(doc, img, width, height);
        } catch {
          // not every image is decodable here (JPEG, indexed colour …); the position still helps
        }
      }
      out.push(seal);
      break;
    }
  }
  return out;
}

function toPng(doc: PdfDocument, img: PdfStream, width: number, height: number): string | undefined {
  if (width * height > 4096 * 4096) return undefined;
  const samples = doc.decode(img);
  const cs = doc.resolve(img.dict.get('ColorSpace'));
  const channels = isName(cs, 'DeviceGray') ? 1 : isName(cs, 'DeviceRGB') ? 3 : 0;
  if (!channels || doc.resolve(img.dict.get('BitsPerComponent')) !== 8 || samples.length < width * height * channels)
    return undefined;
  const mask = doc.resolve(img.dict.get('SMask'));
  const alpha = mask instanceof PdfStream ? doc.decode(mask) : null;
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    const r = samples[i * channels]!;
    png.data[i * 4] = r;
    png.data[i * 4 + 1] = channels === 3 ? samples[i * 3 + 1]! : r;
    png.data[i * 4 + 2] = channels === 3 ? samples[i * 3 + 2]! : r;
    png.data[i * 4 + 3] = alpha && alpha.length >= width * height ? alpha[i]! : 255;
  }
  return PNG.sync.write(png).toString('base64');
}
