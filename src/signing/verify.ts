// The one verifier (API, console, public page, CLI): per signature the signer, chain to a trust
// anchor, validity at the signing time, time-stamp, revocation, coverage and what changed after
// it; overall whether the document is intact. Checks follow ETSI EN 319 102-1 in spirit: a
// signature is valid when its bytes, its CMS signature and its certificate at the proven time hold.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { PNG } from 'pngjs';
import { AppError } from '../server/errors.js';
import {
  checkSigningCertificateAttribute,
  findSignerCertificate,
  parseSignedData,
  type ParsedSignerInfo,
} from './cms.js';
import { childrenOf, contentOf, encodingOf } from './der.js';
import { NODE_HASH, OID } from './oids.js';
import {
  PdfDict,
  PdfRef,
  PdfStream,
  PdfString,
  isName,
  isNumber,
  isRef,
  parsePdfDate,
  type PdfValue,
} from './pdf/objects.js';
import { PdfDocument, type PdfLimits, type XrefView } from './pdf/parser.js';
import { checkTimestampToken } from './tsa.js';
import { isIssuedBy, parseCertificate, parseCrl, verifySignature, type Certificate, type Crl } from './x509.js';

export interface VerifyOptions {
  /** Trusted roots (DER). Without any, no chain is trusted and `chainTrusted` is false. */
  trustAnchors?: Buffer[];
  /** More CRLs (DER) than the document carries, e.g. the platform's current ones. */
  crls?: Buffer[];
  /** When to validate signatures that carry no trusted time-stamp; now by default. */
  at?: Date;
  /** Return each seal image as a PNG. */
  extractImages?: boolean;
  limits?: Partial<PdfLimits>;
}

export type Modification = 'none' | 'signatures-and-validation-data' | 'altered';

export interface SealImage {
  page: number;
  rect: [number, number, number, number];
  width: number;
  height: number;
  /** PNG, base64, when `extractImages` was asked for and the image could be decoded. */
  png?: string;
}

export interface SignatureReport {
  index: number;
  fieldName: string;
  kind: 'signature' | 'document-timestamp';
  subFilter: string | null;
  valid: boolean;
  signer: { commonName: string | null; subject: string; issuer: string; serialNumber: string } | null;
  /** The proven time (time-stamp) when there is one, else the claimed time (/M). */
  signedAt: string | null;
  claimedSigningTime: string | null;
  timestamped: boolean;
  /** The time-stamp verifies (null when there is none). */
  timestampValid: boolean | null;
  timestampTrusted: boolean | null;
  coversWholeDocument: boolean;
  modifiedAfter: Modification;
  changesAfter: string[];
  digestMatches: boolean;
  signatureVerified: boolean;
  chainTrusted: boolean;
  chain: string[];
  certificateValidAtSigningTime: boolean;
  revoked: boolean;
  revocation: 'good' | 'revoked' | 'unknown';
  level: 'B-B' | 'B-T' | 'B-LT' | 'B-LTA' | null;
  byteRange: number[];
  seals: SealImage[];
  problems: string[];
}

export interface VerificationReport {
  /** Every signature valid and nothing but signatures and validation data added after any of them. */
  intact: boolean;
  sha256: string;
  revisions: number;
  signatures: SignatureReport[];
}

interface Found {
  field: PdfDict;
  fieldName: string;
  sig: PdfDict;
  widgets: PdfDict[];
}

function fieldsOf(doc: PdfDocument): Found[] {
  const out: Found[] = [];
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

function dssContents(doc: PdfDocument): { certs: Buffer[]; crls: Buffer[]; vriKeys: Set<string> } {
  const dss = doc.dict(doc.catalog().get('DSS'));
  const read = (key: string) => {
    const list = dss ? doc.resolve(dss.get(key)) : undefined;
    const out: Buffer[] = [];
    if (Array.isArray(list)) {
      for (const item of list.slice(0, 10_000)) {
        const s = doc.resolve(item);
        if (s instanceof PdfStream) {
          try {
            out.push(doc.decode(s));
          } catch {
            // an unreadable entry helps nobody; skip it
          }
        }
      }
    }
    return out;
  };
  const vri = dss ? doc.dict(dss.get('VRI')) : null;
  return {
    certs: read('Certs'),
    crls: read('CRLs'),
    vriKeys: new Set(vri ? [...vri.map.keys()].map((k) => k.toUpperCase()) : []),
  };
}

/** CRLs in the CMS: the SignedData crls field and Adobe's revocation-info archival attribute. */
function cmsCrls(info: ParsedSignerInfo, crls: Buffer[]): Buffer[] {
  const out = [...crls];
  const archival = info.signedAttributes.get(OID.adbeRevocationInfoArchival)?.[0];
  if (archival) {
    try {
      for (const part of childrenOf(archival)) {
        if (part.tag !== 0xa0) continue;
        for (const list of childrenOf(part)) for (const crl of childrenOf(list)) out.push(Buffer.from(encodingOf(crl)));
      }
    } catch {
      // ignore a malformed archival attribute; other sources may still answer
    }
  }
  return out;
}

interface ChainResult {
  chain: Certificate[];
  trusted: boolean;
}

function buildChain(leaf: Certificate, pool: Certificate[], anchors: Certificate[]): ChainResult {
  const chain: Certificate[] = [leaf];
  let current = leaf;
  const isAnchor = (c: Certificate) =>
    anchors.some((a) => a.der.equals(c.der) || (a.subjectDer.equals(c.subjectDer) && a.spki.equals(c.spki)));
  for (let depth = 0; depth < 10; depth++) {
    if (isAnchor(current)) return { chain, trusted: true };
    const anchor = anchors.find((a) => isIssuedBy(current, a));
    if (anchor) {
      chain.push(anchor);
      return { chain, trusted: true };
    }
    const issuer = pool.find((c) => c !== current && !chain.includes(c) && isIssuedBy(current, c));
    if (!issuer) return { chain, trusted: false };
    chain.push(issuer);
    current = issuer;
  }
  return { chain, trusted: false };
}

function parseCerts(list: Buffer[]): Certificate[] {
  const out: Certificate[] = [];
  for (const der of list) {
    try {
      out.push(parseCertificate(der));
    } catch {
      // skip unreadable certificates
    }
  }
  return out;
}

function parseCrls(list: Buffer[]): Crl[] {
  const out: Crl[] = [];
  for (const der of list) {
    try {
      out.push(parseCrl(der));
    } catch {
      // skip unreadable CRLs
    }
  }
  return out;
}

function revocationOf(chain: Certificate[], crls: Crl[], at: Date, problems: string[]): 'good' | 'revoked' | 'unknown' {
  let status: 'good' | 'revoked' | 'unknown' = 'good';
  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i]!;
    const issuer = chain[i + 1]!;
    const candidates = crls.filter(
      (c) =>
        c.issuerDer.equals(issuer.subjectDer) && verifySignature(issuer.spki, c.signatureAlgorithm, c.tbs, c.signature),
    );
    if (candidates.length === 0) {
      if (status === 'good') status = 'unknown';
      continue;
    }
    for (const crl of candidates) {
      const entry = crl.revoked.find((r) => r.serial === cert.serial);
      // A revocation after the proven signing time does not undo the signature (ETSI EN 319 102-1 §5.2.6).
      if (entry && entry.date <= at) {
        problems.push(`${cert.subject} was revoked on ${entry.date.toISOString()}`);
        return 'revoked';
      }
    }
  }
  return status;
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
function changesAfter(doc: PdfDocument, signedEnd: number): { kind: Modification; changes: string[] } {
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

function sealImages(doc: PdfDocument, widgets: PdfDict[], extract: boolean): SealImage[] {
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

// ---------------------------------------------------------------- the verifier

/** Verifies every signature and document time-stamp of a PDF. Throws only when the file cannot be read. */
export async function verifyPdf(pdf: Buffer, options: VerifyOptions = {}): Promise<VerificationReport> {
  const doc = PdfDocument.load(pdf, options.limits);
  const anchors = parseCerts(options.trustAnchors ?? []);
  const dss = dssContents(doc);
  const extraCrls = [...(options.crls ?? []), ...dss.crls];
  const found = fieldsOf(doc);
  const reports: SignatureReport[] = [];
  for (const [index, f] of found.entries()) {
    try {
      reports.push(verifyOne(doc, f, index, { anchors, dss, extraCrls, options }));
    } catch (error) {
      // A structure this verifier cannot follow makes that signature unverifiable, not the file.
      if (error instanceof AppError && (error.code === 'pdf_too_large' || error.code === 'pdf_encrypted')) throw error;
      reports.push(unverifiable(f, index, error));
    }
  }
  // Levels need the order of revisions: a DSS after a signature makes it LT, a document time-stamp after that LTA.
  const docTimestampEnds = reports
    .filter((r) => r.kind === 'document-timestamp' && r.valid)
    .map((r) => r.byteRange[2]! + r.byteRange[3]!);
  for (const r of reports) {
    if (r.kind !== 'signature' || !r.level || r.level === 'B-B') continue;
    const contents = found[r.index]!.sig.get('Contents');
    const key =
      contents instanceof PdfString ? createHash('sha1').update(contents.bytes).digest('hex').toUpperCase() : '';
    // B-LT needs the validation data to be there and to answer: revocation known for the whole chain.
    if ((dss.vriKeys.has(key) || dss.certs.length > 0) && r.revocation === 'good') {
      r.level = 'B-LT';
      const end = r.byteRange[2]! + r.byteRange[3]!;
      if (docTimestampEnds.some((e) => e > end)) r.level = 'B-LTA';
    }
  }
  const intact = reports.every((r) => r.valid && r.modifiedAfter !== 'altered');
  return { intact, sha256: sha256Of(pdf), revisions: doc.sections.length, signatures: reports };
}

interface Context {
  anchors: Certificate[];
  dss: { certs: Buffer[]; crls: Buffer[] };
  extraCrls: Buffer[];
  options: VerifyOptions;
}

function verifyOne(doc: PdfDocument, f: Found, index: number, ctx: Context): SignatureReport {
  const { sig } = f;
  const isDocTs = isName(sig.get('Type'), 'DocTimeStamp') || isName(sig.get('SubFilter'), 'ETSI.RFC3161');
  const subFilter = sig.get('SubFilter');
  const m = sig.get('M');
  const claimed = m instanceof PdfString ? parsePdfDate(m.text()) : null;
  const report: SignatureReport = {
    index,
    fieldName: f.fieldName,
    kind: isDocTs ? 'document-timestamp' : 'signature',
    subFilter: isName(subFilter) ? subFilter.value : null,
    valid: false,
    signer: null,
    signedAt: claimed?.toISOString() ?? null,
    claimedSigningTime: claimed?.toISOString() ?? null,
    timestamped: isDocTs,
    timestampValid: null,
    timestampTrusted: null,
    coversWholeDocument: false,
    modifiedAfter: 'none',
    changesAfter: [],
    digestMatches: false,
    signatureVerified: false,
    chainTrusted: false,
    chain: [],
    certificateValidAtSigningTime: false,
    revoked: false,
    revocation: 'unknown',
    level: null,
    byteRange: [],
    seals: [],
    problems: [],
  };
  const problems = report.problems;
  const buf = doc.buf;
  try {
    report.seals = sealImages(doc, f.widgets, ctx.options.extractImages ?? false);
  } catch {
    // the appearance is informative only
  }

  // ISO 32000-1 §12.8.1: ByteRange [0 a b c] must exclude exactly the /Contents hex string.
  const br = doc.resolve(sig.get('ByteRange'));
  const contents = sig.get('Contents');
  if (
    !Array.isArray(br) ||
    br.length !== 4 ||
    !br.every((n) => isNumber(n) && Number.isInteger(n) && n >= 0) ||
    !(contents instanceof PdfString)
  ) {
    problems.push('the signature has no usable /ByteRange or /Contents');
    return report;
  }
  const [a, b, c, d] = br as [number, number, number, number];
  report.byteRange = [a, b, c, d];
  if (a !== 0 || b > c || c + d > buf.length) {
    problems.push('the byte range does not lie within the file');
    return report;
  }
  if (
    buf[b] !== 0x3c ||
    buf[c - 1] !== 0x3e ||
    !/^[0-9a-fA-F\s]*$/.test(buf.toString('latin1', b + 1, c - 1)) ||
    !Buffer.from(buf.toString('latin1', b + 1, c - 1).replace(/\s+/g, ''), 'hex').equals(contents.bytes)
  ) {
    problems.push('the byte range does not exclude exactly the signature value');
    return report;
  }
  const signedEnd = c + d;
  report.coversWholeDocument = signedEnd === buf.length;
  const change = changesAfter(doc, signedEnd);
  report.modifiedAfter = change.kind;
  report.changesAfter = change.changes;
  if (change.kind === 'altered')
    problems.push(`the document was changed after this signature: ${change.changes.slice(0, 5).join('; ')}`);
  const ranges = [buf.subarray(a, a + b), buf.subarray(c, c + d)];

  if (isDocTs) {
    // ETSI EN 319 142-1 §5.5: the token's imprint is the hash of the byte ranges.
    const check = checkTimestampToken(contents.bytes, { data: ranges }, ctx.dss.certs);
    report.digestMatches = !check.problems.some((p) => p.includes('imprint'));
    report.signatureVerified = check.ok;
    report.timestampValid = check.ok;
    problems.push(...check.problems);
    if (check.genTime) report.signedAt = check.genTime.toISOString();
    if (check.tsaCertificate) {
      const tsa = parseCertificate(check.tsaCertificate);
      report.signer = signerOf(tsa);
      const chain = buildChain(tsa, parseCerts([...check.certificates, ...ctx.dss.certs]), ctx.anchors);
      report.chainTrusted = chain.trusted;
      report.timestampTrusted = chain.trusted;
      report.chain = chain.chain.map((x) => x.subject);
      const at = check.genTime ?? new Date();
      report.certificateValidAtSigningTime = chain.chain.every((x) => at >= x.notBefore && at <= x.notAfter);
      report.revocation = revocationOf(chain.chain, parseCrls(ctx.extraCrls), at, problems);
      report.revoked = report.revocation === 'revoked';
    }
    report.level = null;
    report.valid = check.ok && report.certificateValidAtSigningTime && !report.revoked;
    return report;
  }

  let cms;
  try {
    cms = parseSignedData(contents.bytes);
  } catch (error) {
    problems.push(`the signature value is not readable CMS: ${error instanceof Error ? error.message : String(error)}`);
    return report;
  }
  const info = cms.signerInfos[0];
  if (!info) {
    problems.push('the CMS has no signer');
    return report;
  }
  if (cms.signerInfos.length > 1) problems.push('the CMS has more than one signer; only the first is checked');
  const certDer = findSignerCertificate(info, [...cms.certificates, ...ctx.dss.certs]);
  if (!certDer) {
    problems.push("the signer's certificate is not in the signature");
    return report;
  }
  const cert = parseCertificate(certDer);
  report.signer = signerOf(cert);
  const hash = info.digestAlgorithm;
  if (!hash || hash === 'SHA-1') {
    problems.push(`unsupported digest algorithm ${info.digestAlgorithmOid}`);
    return report;
  }
  const digest = ranges.reduce((h, r) => h.update(r), createHash(NODE_HASH[hash])).digest();
  if (info.signedAttrs) {
    const md = info.signedAttributes.get(OID.messageDigest)?.[0];
    report.digestMatches = !!md && contentOf(md).equals(digest);
    report.signatureVerified = verifySignature(
      cert.spki,
      info.signatureAlgorithm,
      info.signedAttrs,
      info.signature,
      hash,
    );
  } else {
    // Without signed attributes the signature is over the content itself (RFC 5652 §5.4).
    report.digestMatches = true;
    report.signatureVerified = verifySignature(
      cert.spki,
      info.signatureAlgorithm,
      Buffer.concat(ranges),
      info.signature,
      hash,
    );
  }
  if (!report.digestMatches) problems.push('the signed bytes were changed (digest mismatch)');
  if (!report.signatureVerified) problems.push('the CMS signature does not verify with the certificate');
  const ess = checkSigningCertificateAttribute(info, certDer);
  const cades = report.subFilter === 'ETSI.CAdES.detached';
  if (ess === 'mismatch') problems.push('the signing-certificate attribute names another certificate');
  if (ess === 'missing' && cades) problems.push('a CAdES signature must carry signing-certificate-v2');

  // Time-stamp over the signature value (ETSI EN 319 122-1 §5.3).
  let provenTime: Date | null = null;
  const token = info.unsignedAttributes.get(OID.timeStampToken)?.[0];
  if (token) {
    report.timestamped = true;
    const check = checkTimestampToken(Buffer.from(encodingOf(token)), { data: [info.signature] }, ctx.dss.certs);
    report.timestampValid = check.ok;
    if (!check.ok) problems.push(...check.problems.map((p) => `time-stamp: ${p}`));
    if (check.ok && check.tsaCertificate) {
      const tsaChain = buildChain(
        parseCertificate(check.tsaCertificate),
        parseCerts([...check.certificates, ...ctx.dss.certs]),
        ctx.anchors,
      );
      report.timestampTrusted = tsaChain.trusted;
      report.signedAt = check.genTime!.toISOString();
      if (tsaChain.trusted) provenTime = check.genTime;
      else problems.push("time-stamp: the TSA's certificate does not chain to a trusted root");
    }
  }

  const chain = buildChain(cert, parseCerts([...cms.certificates, ...ctx.dss.certs]), ctx.anchors);
  report.chain = chain.chain.map((x) => x.subject);
  report.chainTrusted = chain.trusted;
  if (!chain.trusted)
    problems.push(
      ctx.anchors.length
        ? 'the certificate does not chain to a trusted root'
        : 'no trusted roots were given, so the chain is not checked',
    );
  const at = provenTime ?? ctx.options.at ?? new Date();
  report.certificateValidAtSigningTime = chain.chain.every((x) => at >= x.notBefore && at <= x.notAfter);
  if (!report.certificateValidAtSigningTime)
    problems.push(
      `a certificate in the chain was not valid at ${at.toISOString()}${provenTime ? ' (time-stamp)' : ''}`,
    );
  report.revocation = revocationOf(
    chain.chain,
    parseCrls(cmsCrls(info, [...cms.crls, ...ctx.extraCrls])),
    at,
    problems,
  );
  report.revoked = report.revocation === 'revoked';
  report.level = cades && ess === 'ok' ? (report.timestamped && report.timestampValid ? 'B-T' : 'B-B') : null;

  report.valid =
    report.digestMatches &&
    report.signatureVerified &&
    ess !== 'mismatch' &&
    !(cades && ess === 'missing') &&
    report.certificateValidAtSigningTime &&
    !report.revoked &&
    report.timestampValid !== false;
  return report;
}

function unverifiable(f: Found, index: number, error: unknown): SignatureReport {
  return {
    index,
    fieldName: f.fieldName,
    kind: 'signature',
    subFilter: null,
    valid: false,
    signer: null,
    signedAt: null,
    claimedSigningTime: null,
    timestamped: false,
    timestampValid: null,
    timestampTrusted: null,
    coversWholeDocument: false,
    modifiedAfter: 'altered',
    changesAfter: [],
    digestMatches: false,
    signatureVerified: false,
    chainTrusted: false,
    chain: [],
    certificateValidAtSigningTime: false,
    revoked: false,
    revocation: 'unknown',
    level: null,
    byteRange: [],
    seals: [],
    problems: [`the signature cannot be checked: ${error instanceof Error ? error.message : String(error)}`],
  };
}

function signerOf(cert: Certificate): SignatureReport['signer'] {
  return {
    commonName: cert.commonName,
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serial.toString(16),
  };
}

/** SHA-256 of a document, hex, for hash-only lookup in the archive. */
export function sha256Of(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 of a file, streamed, so a large file is never held in memory. */
export function sha256OfFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', (error) => reject(new AppError('pdf_malformed', `The file cannot be read: ${error.message}.`)))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Reads a file for signing or verification, refusing it before reading when it is too large. */
export async function readPdfFile(path: string, maxBytes = 512 * 1024 * 1024): Promise<Buffer> {
  const info = await stat(path);
  if (!info.isFile()) throw new AppError('pdf_malformed', `${path} is not a file.`);
  if (info.size > maxBytes) throw new AppError('pdf_too_large', `The file is larger than ${maxBytes} bytes.`);
  return readFile(path);
}
