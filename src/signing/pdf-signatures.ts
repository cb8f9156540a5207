// What a PDF says about its signatures, apart from their cryptography: the signature fields and
// their widgets, whether a byte range excludes exactly its own /Contents, the seal images the
// widgets show, and what revisions after a signature changed (ISO 32000-1 §12.8, ETSI EN 319 142-1).
import { PNG } from 'pngjs';
import { PdfDict, PdfRef, PdfStream, PdfString, isName, isNumber, isRef, type PdfValue } from './pdf/objects.js';
import type { PdfDocument, XrefView } from './pdf/parser.js';

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

/** ISO 32000-1 §12.8.1: ByteRange [0 a b c] must exclude exactly the /Contents hex string. */
export function checkByteRange(doc: PdfDocument, sig: PdfDict): ByteRangeCheck {
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
  if (
    buf[b] !== 0x3c ||
    buf[c - 1] !== 0x3e ||
    !/^[0-9a-fA-F\s]*$/.test(buf.toString('latin1', b + 1, c - 1)) ||
    !Buffer.from(buf.toString('latin1', b + 1, c - 1).replace(/\s+/g, ''), 'hex').equals(contents.bytes)
  ) {
    return { ok: false, byteRange, problem: 'the byte range does not exclude exactly the signature value' };
  }
  return { ok: true, byteRange, contents };
}

export interface SignatureField {
  field: PdfDict;
  fieldName: string;
  sig: PdfDict;
  widgets: PdfDict[];
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
    const sig = doc.dict(field.get('V'));
    if (isName(fieldType, 'Sig') && sig) {
      const widgets =
        Array.isArray(kids) && kidFields.length === 0
          ? kids.map((k) => doc.dict(k)).filter((d): d is PdfDict => d !== null)
          : [field];
      out.push({ field, fieldName: fullName, sig, widgets: [...widgets, ...crossPageStamps(doc, fullName)] });
    }
    for (const k of [...kidFields].reverse()) stack.push({ v: k, depth: depth + 1, prefix: fullName, ft: fieldType });
  }
  return out;
}

/** The strips of a cross-page seal after the first: stamps named `<field>:<n>` (see pades.ts). */
function crossPageStamps(doc: PdfDocument, fieldName: string): PdfDict[] {
  const out: PdfDict[] = [];
  const prefix = `${fieldName}:`;
  for (const page of doc.pages()) {
    const annots = doc.resolve(page.dict.get('Annots'));
    if (!Array.isArray(annots)) continue;
    for (const a of annots.slice(0, 2_000)) {
      const annot = doc.dict(a);
      const nm = annot?.get('NM');
      if (annot && isName(annot.get('Subtype'), 'Stamp') && nm instanceof PdfString && nm.text().startsWith(prefix))
        out.push(annot);
    }
  }
  return out;
}

// ---------------------------------------------------------------- changes after a signature

function sameValue(a: PdfValue | undefined, b: PdfValue | undefined, depth = 0): boolean {
  if (depth > 50) return false;
  if (a === b) return true;
  if (a instanceof PdfRef && b instanceof PdfRef) return a.num === b.num && a.gen === b.gen;
  if (a instanceof PdfString && b instanceof PdfString) return a.bytes.equals(b.bytes);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameValue(x, b[i], depth + 1));
  if (a instanceof PdfStream && b instanceof PdfStream)
    return a.data.equals(b.data) && sameValue(a.dict, b.dict, depth + 1);
  if (a instanceof PdfDict && b instanceof PdfDict) {
    if (a.map.size !== b.map.size) return false;
    for (const [k, v] of a.map) if (!sameValue(v, b.get(k), depth + 1)) return false;
    return true;
  }
  return (
    typeof a === 'object' &&
    a !== null &&
    typeof b === 'object' &&
    b !== null &&
    'value' in a &&
    'value' in b &&
    a.value === b.value
  );
}

function differsOnlyIn(a: PdfDict, b: PdfDict, allowed: string[]): boolean {
  const keys = new Set([...a.map.keys(), ...b.map.keys()]);
  for (const k of keys) if (!allowed.includes(k) && !sameValue(a.get(k), b.get(k))) return false;
  return true;
}

/**
 * What later revisions changed in objects that existed when the signature was made. New objects
 * are fine; so are additions of signature fields, widgets and validation data (ISO 32000-1
 * §12.8.2.2.2 DocMDP P=2/3 style changes, ETSI EN 319 142-1 §5.4). Anything else is listed.
 */
export function changesAfter(doc: PdfDocument, signedEnd: number): { kind: Modification; changes: string[] } {
  const later = doc.sections.filter((s) => s.offset >= signedEnd);
  if (later.length === 0) return { kind: 'none', changes: [] };
  const before = doc.viewBefore(signedEnd);
  if (!before) return { kind: 'altered', changes: ['no revision precedes the signature'] };
  const changes: string[] = [];
  const rootNum = (before.trailer.get('Root') as PdfRef | undefined)?.num;
  const catalogBefore = before.dict(before.trailer.get('Root'));
  const acroRef = catalogBefore?.get('AcroForm');
  const dssRef = catalogBefore?.get('DSS');
  const infoRef = before.trailer.get('Info');
  const metadataRef = catalogBefore?.get('Metadata');
  const allowedArrays = new Set<number>();
  const fieldsValue = before.dict(acroRef)?.get('Fields');
  if (isRef(fieldsValue)) allowedArrays.add(fieldsValue.num);
  for (const page of doc.pages()) {
    const annots = page.dict.get('Annots');
    if (isRef(annots)) allowedArrays.add(annots.num);
  }
  let budget = 20_000;
  for (const section of later) {
    const after = doc.viewBefore(section.offset + 1)!;
    for (const [num, entry] of section.entries) {
      if (budget-- <= 0) {
        changes.push('too many changed objects to inspect');
        return { kind: 'altered', changes };
      }
      if (!before.entry(num) || before.entry(num)!.kind === 'free') continue; // a new object
      if (entry.kind === 'free') {
        changes.push(`object ${num} was deleted`);
        continue;
      }
      let old: PdfValue;
      let now: PdfValue;
      try {
        old = before.getObject(num);
        now = after.getObject(num);
      } catch {
        changes.push(`object ${num} cannot be read in a later revision`);
        continue;
      }
      if (sameValue(old, now)) continue;
      if (
        !classifyChange(num, old, now, { rootNum, acroRef, dssRef, infoRef, metadataRef, allowedArrays, before, after })
      )
        changes.push(describe(num, old));
    }
  }
  return { kind: changes.length ? 'altered' : 'signatures-and-validation-data', changes };
}

interface ChangeContext {
  rootNum: number | undefined;
  acroRef: PdfValue | undefined;
  dssRef: PdfValue | undefined;
  infoRef: PdfValue | undefined;
  metadataRef: PdfValue | undefined;
  allowedArrays: Set<number>;
  before: XrefView;
  after: XrefView;
}

/**
 * Whether an annotation added after a signature is a signature's own: a widget of a signature
 * field, or a strip of a cross-page seal. Anything else (a FreeText or stamp laid over the
 * signed content) changes what the page shows.
 */
function isSignatureAnnotation(view: XrefView, value: PdfValue | undefined): boolean {
  const annot = view.dict(value);
  if (!annot) return false;
  const subtype = annot.get('Subtype');
  if (isName(subtype, 'Widget')) {
    const ft = annot.get('FT') ?? view.dict(annot.get('Parent'))?.get('FT');
    return isName(ft, 'Sig');
  }
  const nm = annot.get('NM');
  return isName(subtype, 'Stamp') && nm instanceof PdfString && /:\d+$/.test(nm.text()) && annot.get('F') === 196;
}

function classifyChange(num: number, old: PdfValue, now: PdfValue, ctx: ChangeContext): boolean {
  // Signing tools also update document metadata (/Info ModDate, the XMP stream) and the form's
  // default resources for new appearances; none of that changes what a page shows.
  if (num === ctx.rootNum && old instanceof PdfDict && now instanceof PdfDict)
    return differsOnlyIn(old, now, ['AcroForm', 'DSS', 'Extensions', 'Metadata']);
  if (isRef(ctx.acroRef) && ctx.acroRef.num === num && old instanceof PdfDict && now instanceof PdfDict)
    return differsOnlyIn(old, now, ['Fields', 'SigFlags', 'DR', 'DA']);
  if (isRef(ctx.dssRef) && ctx.dssRef.num === num) return true;
  if (isRef(ctx.infoRef) && ctx.infoRef.num === num) return true;
  if (isRef(ctx.metadataRef) && ctx.metadataRef.num === num) return true;
  if (ctx.allowedArrays.has(num) && Array.isArray(old) && Array.isArray(now)) return appendsOnly(old, now, ctx);
  if (old instanceof PdfDict && now instanceof PdfDict) {
    if (isName(old.get('Type'), 'Page')) {
      if (!differsOnlyIn(old, now, ['Annots'])) return false;
      const oldList = ctx.before.resolve(old.get('Annots'));
      const newList = ctx.after.resolve(now.get('Annots'));
      return appendsOnly(Array.isArray(oldList) ? oldList : [], Array.isArray(newList) ? newList : [], ctx);
    }
    // An empty signature field being signed.
    if (isName(old.get('FT'), 'Sig') && !old.has('V')) return differsOnlyIn(old, now, ['V', 'AP']);
    // A DSS or VRI dictionary reached through the catalog's /DSS.
    if (isName(old.get('Type'), 'DSS')) return true;
  }
  return false;
}

/** The new array keeps the old one as a prefix and adds only signature annotations or fields. */
function appendsOnly(old: PdfValue[], now: PdfValue[], ctx: ChangeContext): boolean {
  if (old.length > now.length || !old.every((x, i) => sameValue(x, now[i]))) return false;
  return now.slice(old.length).every((added) => {
    const dict = ctx.after.dict(added);
    // /Fields gets signature fields (possibly with kids); /Annots gets their widgets and strips.
    return isSignatureAnnotation(ctx.after, added) || (dict !== null && isName(dict.get('FT'), 'Sig'));
  });
}

function describe(num: number, old: PdfValue): string {
  const type = old instanceof PdfDict ? old.get('Type') : old instanceof PdfStream ? old.dict.get('Type') : undefined;
  const what = isName(type) ? ` (${type.value})` : old instanceof PdfStream ? ' (stream)' : '';
  return `object ${num}${what} was changed`;
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
