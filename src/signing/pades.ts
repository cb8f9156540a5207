// PAdES signing (ETSI EN 319 142-1) of PDFs by incremental update: B-B (CAdES detached CMS with
// signing-certificate-v2), B-T (+ signature time-stamp), B-LT (+ /DSS with certificates and CRLs),
// B-LTA (+ document time-stamp). Each application of a seal is its own signature and revision.
// Beside PAdES, the national-cryptography profile ('sm2'): the same revision and placement, a CMS
// signed SM2-with-SM3 over an SM3 digest, SubFilter adbe.pkcs7.detached (see `SignPdfOptions.profile`).
import { createHash, createPublicKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import { SigningError } from './errors.js';
import { attribute, encodeSignedData, estimateSignedDataSize, signAttributes, type SignedDataInput } from './cms.js';
import { NODE_DIGEST, OID, type HashName, type SignatureHash } from './oids.js';
import { addImage, prepareImage, type PreparedImage } from './pdf/image.js';
import {
  PdfDict,
  PdfRef,
  PdfStream,
  PdfString,
  isName,
  isNumber,
  isRef,
  name,
  pdfDate,
  valueText,
  type PdfValue,
} from './pdf/objects.js';
import { PdfDocument, type PageInfo, type PdfLimits } from './pdf/parser.js';
import { findKeyword } from './pdf/text.js';
import { IncrementalUpdate } from './pdf/writer.js';
import { preferredHash, type Signer } from './signer.js';
import { checkTimestampToken, type Timestamper } from './tsa.js';
import { parseCertificate, parseCrl, isIssuedBy } from './x509.js';

export type PadesLevel = 'B-B' | 'B-T' | 'B-LT' | 'B-LTA';
export const PADES_LEVELS: readonly PadesLevel[] = ['B-B', 'B-T', 'B-LT', 'B-LTA'];

/** Where revocation information comes from for B-LT: the built-in CA's CRLs, or fetched ones. */
export interface RevocationSource {
  /** CRLs (DER) covering these certificates; may return fewer when none is known. */
  crlsFor(certificates: Buffer[]): Promise<Buffer[]>;
}

/** A fixed set of CRLs (the caller already has them). */
export function staticRevocationSource(crls: Buffer[]): RevocationSource {
  return { crlsFor: () => Promise.resolve(crls) };
}

/** A seal or signature image placed at a rectangle `[x, y, width, height]` (PDF points, page space). */
export interface RectPlacement {
  page: number;
  rect: [number, number, number, number];
}

/** A seal placed over a keyword of the page text (e.g. 甲方（盖章）), centred on it and moved by `offset`. */
export interface KeywordPlacement {
  keyword: string;
  /** Search only this page (1-based); by default every page, first match wins. */
  page?: number;
  /** Points to the right and up, as the page is shown (after its /Rotate). */
  offset?: [number, number];
  /** Width and height in points as shown; by default 42 mm wide (a company seal), height from the image. */
  size?: [number, number];
}

export interface VisibleAppearance {
  /** A PNG, or an image already prepared with `prepareImage` (reuse for many documents). */
  image: Buffer | PreparedImage;
  /** A seal impression or a person's handwritten signature; recorded in the field name. */
  kind?: 'seal' | 'handwritten';
  at: RectPlacement | KeywordPlacement;
}

/**
 * The cross-page seal (骑缝章): one image cut into vertical strips, strip i on the right edge of
 * page i as the page is shown (after its /Rotate), upright. When the strips would be narrower
 * than `MIN_STRIP_WIDTH`, the pages are split into consecutive groups, each with the whole seal
 * cut across its pages (still one signature), unless `groups` is false: then it is refused.
 */
export interface CrossPageAppearance {
  image: Buffer | PreparedImage;
  /** Pages to span (1-based, in order); by default every page. */
  pages?: number[];
  /** Width of the whole seal in points (default 42 mm); the height follows the image. */
  width?: number;
  /** Bottom edge of the strips above the bottom of the page as shown; by default centred vertically. */
  y?: number;
  /** Split many pages into groups of whole seals (default), or refuse when the strips would be too narrow. */
  groups?: boolean;
}

/**
 * `pades`: ETSI EN 319 142-1 baseline (RSA, ECDSA; SHA-2). `sm2`: the national-cryptography profile
 * (GB/T 35275-style CMS with GB/T 33560 algorithms): digest SM3, signature SM2-with-SM3 with the
 * standard user ID, signed attributes content-type, message-digest, signing-time and
 * signing-certificate-v2 (SM3 ESSCertIDv2), SubFilter adbe.pkcs7.detached, and with a time-stamping
 * authority an RFC 3161 token over SM3(signature value) as an unsigned attribute.
 */
export type PdfSignatureProfile = 'pades' | 'sm2';
export const PDF_SIGNATURE_PROFILES: readonly PdfSignatureProfile[] = ['pades', 'sm2'];

export interface SignPdfOptions {
  signer: Signer;
  /** By default `sm2` for an SM2 signer, else `pades`; an SM2 key signs in the `sm2` profile only. */
  profile?: PdfSignatureProfile;
  /**
   * PAdES level; in the `sm2` profile B-B (no time-stamp) or B-T (signature time-stamp), which
   * name only what is in the CMS: the profile is not PAdES and has no DSS or document time-stamps.
   */
  level?: PadesLevel;
  /** Required from B-T on. */
  timestamper?: Timestamper;
  /** From B-LT on: CRLs for the signer's chain (and the TSA's). Without it, DSS holds certificates only. */
  revocation?: RevocationSource;
  hash?: HashName;
  fieldName?: string;
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** The claimed signing time (/M); now by default. */
  signingTime?: Date;
  appearance?: VisibleAppearance;
  crossPage?: CrossPageAppearance;
  /**
   * Further images the signer puts on the pages in the same revision (a date, a text, a tick
   * they filled in): locked stamp annotations bound to this signature, so it covers them and a
   * verifier accepts them as its own (named `<field>:<n>`, as the strips of a cross-page seal).
   */
  stamps?: StampAppearance[];
  limits?: Partial<PdfLimits>;
}

/** An image placed beside a signature and covered by it; see `SignPdfOptions.stamps`. */
export interface StampAppearance {
  image: Buffer | PreparedImage;
  at: RectPlacement | KeywordPlacement;
  /** What the stamp is, in its /Contents (e.g. "Date filled in by 张三"). */
  label: string;
}

/** At most this many stamps beside one signature. */
export const MAX_STAMPS = 50;

const SEAL_WIDTH = (42 / 25.4) * 72; // 42 mm, the usual diameter of a company seal
const TOKEN_RESERVE = 7000;
/**
 * The narrowest piece of a cross-page seal on one page: 3 mm (about 8.5 pt). A piece that wide
 * still carries a recognisable part of the ring and the characters of a 38–42 mm seal (its ring
 * is about 1 mm wide), so each page's piece can be matched with its neighbours'; much narrower
 * pieces are slivers that show nothing once printed, and the seal no longer binds the pages.
 */
export const MIN_STRIP_WIDTH = (3 / 25.4) * 72;

// ---------------------------------------------------------------- fields and widgets

interface WidgetSpec {
  page: PageInfo;
  rect: [number, number, number, number];
  /**
   * Appearance content stream, its size as the reader sees it, and the form matrix that turns it
   * against the page's /Rotate; none for an invisible signature.
   */
  appearance?: { bbox: [number, number]; content: string; matrix?: number[] };
  /** What a cross-page strip says it is (its /Contents). */
  label?: string;
  /** The widget's own image, instead of the signature's (a stamp beside it). */
  image?: PreparedImage;
}

type Rotation = 0 | 90 | 180 | 270;

/** How a page is shown: its visible box in page space, its /Rotate, and its size after rotation. */
interface ShownPage {
  box: [number, number, number, number];
  rotate: Rotation;
  width: number;
  height: number;
}

function shownPage(doc: PdfDocument, page: PageInfo): ShownPage {
  const box = doc.pageBox(page.dict);
  // §7.7.3.3: /Rotate is a multiple of 90, clockwise as shown; anything else is ignored, as viewers do.
  const r = doc.inherited(page.dict, 'Rotate');
  const rotate = (isNumber(r) && Number.isInteger(r) && r % 90 === 0 ? ((r % 360) + 360) % 360 : 0) as Rotation;
  const [w, h] = [box[2] - box[0], box[3] - box[1]];
  return { box, rotate, width: rotate % 180 ? h : w, height: rotate % 180 ? w : h };
}

/**
 * The form /Matrix that turns an appearance against the page's rotation (§12.5.5 maps the
 * transformed BBox onto /Rect), so that the viewer's rotation of the page makes it upright again.
 */
const UPRIGHT: Record<Rotation, number[] | undefined> = {
  0: undefined,
  90: [0, 1, -1, 0, 0, 0],
  180: [-1, 0, 0, -1, 0, 0],
  270: [0, -1, 1, 0, 0, 0],
};

/** A rectangle [x, y, w, h] as the reader sees the page (from its shown bottom-left) in page space. */
function fromShown(
  page: ShownPage,
  [vx, vy, vw, vh]: [number, number, number, number],
): [number, number, number, number] {
  const [x0, y0, x1, y1] = page.box;
  switch (page.rotate) {
    case 90:
      return [x1 - vy - vh, y0 + vx, vh, vw];
    case 180:
      return [x1 - vx - vw, y1 - vy - vh, vw, vh];
    case 270:
      return [x0 + vy, y1 - vx - vw, vh, vw];
    default:
      return [x0 + vx, y0 + vy, vw, vh];
  }
}

/** A movement to the right and up as shown, in page space. */
function shownVector(rotate: Rotation, [dx, dy]: [number, number]): [number, number] {
  return rotate === 90 ? [-dy, dx] : rotate === 180 ? [-dx, -dy] : rotate === 270 ? [dy, -dx] : [dx, dy];
}

function existingFieldNames(doc: PdfDocument): Set<string> {
  const names = new Set<string>();
  const acro = doc.dict(doc.catalog().get('AcroForm'));
  const fields = acro ? doc.resolve(acro.get('Fields')) : null;
  if (Array.isArray(fields)) {
    for (const f of fields.slice(0, 10_000)) {
      const t = doc.dict(f)?.get('T');
      if (t instanceof PdfString) names.add(t.text());
    }
  }
  return names;
}

function uniqueFieldName(doc: PdfDocument, base: string, requested?: string): string {
  const names = existingFieldNames(doc);
  if (requested) {
    if (names.has(requested))
      throw new SigningError('validation_failed', `The document already has a field named ${requested}.`);
    if (requested.includes('.')) throw new SigningError('validation_failed', 'A field name cannot contain a period.');
    return requested;
  }
  for (let i = 1; ; i++) if (!names.has(`${base}${i}`)) return `${base}${i}`;
}

/** Adds the field's widgets to their pages' /Annots and the field to /AcroForm. */
function attachField(
  doc: PdfDocument,
  update: IncrementalUpdate,
  fieldRef: PdfRef,
  widgetRefs: Array<{ ref: PdfRef; page: PageInfo }>,
): void {
  const byPage = new Map<number, { page: PageInfo; refs: PdfRef[] }>();
  for (const w of widgetRefs) {
    const entry = byPage.get(w.page.ref.num) ?? { page: w.page, refs: [] };
    entry.refs.push(w.ref);
    byPage.set(w.page.ref.num, entry);
  }
  for (const { page, refs } of byPage.values()) {
    const annots = page.dict.get('Annots');
    if (isRef(annots)) {
      const current = doc.resolve(annots);
      update.set(annots, [...(Array.isArray(current) ? current : []), ...refs]);
    } else {
      const dict = page.dict.clone();
      dict.set('Annots', [...(Array.isArray(annots) ? annots : []), ...refs]);
      update.set(page.ref, dict);
    }
  }
  const catalog = doc.catalog();
  const acroValue = catalog.get('AcroForm');
  const acro = doc.dict(acroValue)?.clone() ?? new PdfDict();
  const fields = acro.get('Fields');
  if (isRef(fields)) {
    const current = doc.resolve(fields);
    update.set(fields, [...(Array.isArray(current) ? current : []), fieldRef]);
  } else acro.set('Fields', [...(Array.isArray(fields) ? fields : []), fieldRef]);
  // SigFlags 3 (§12.7.2): SignaturesExist | AppendOnly, so viewers keep to incremental saves.
  acro.set('SigFlags', 3);
  if (isRef(acroValue)) update.set(acroValue, acro);
  else {
    const newCatalog = catalog.clone();
    newCatalog.set('AcroForm', update.add(acro));
    update.set(doc.rootRef, newCatalog);
  }
}

function appearanceStream(
  update: IncrementalUpdate,
  imageRef: PdfRef,
  appearance: NonNullable<WidgetSpec['appearance']>,
): PdfRef {
  const dict = PdfDict.of({
    Type: name('XObject'),
    Subtype: name('Form'),
    BBox: [0, 0, appearance.bbox[0], appearance.bbox[1]],
    Resources: PdfDict.of({ XObject: PdfDict.of({ Im0: imageRef }) }),
  });
  if (appearance.matrix) dict.set('Matrix', appearance.matrix);
  return update.add(new PdfStream(dict, Buffer.from(appearance.content, 'latin1')));
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/0+$/, '').replace(/\.$/, ''));

function resolveImage(image: Buffer | PreparedImage): PreparedImage {
  return Buffer.isBuffer(image) ? prepareImage(image) : image;
}

/** The widget of a visible single-place appearance, upright on the page as shown. */
function placeAppearance(doc: PdfDocument, appearance: VisibleAppearance, image: PreparedImage): WidgetSpec {
  const at = appearance.at;
  let page: PageInfo;
  let rect: [number, number, number, number];
  if ('keyword' in at) {
    const found = findKeyword(doc, at.keyword, at.page);
    if (!found) pdfKeywordMissing(at.keyword, at.page);
    page = doc.page(found.page);
    const { rotate } = shownPage(doc, page);
    const [w, h] = at.size ?? [SEAL_WIDTH, (SEAL_WIDTH * image.height) / image.width];
    const [uw, uh] = rotate % 180 ? [h, w] : [w, h];
    const [dx, dy] = shownVector(rotate, at.offset ?? [0, 0]);
    rect = [found.x + found.width / 2 - uw / 2 + dx, found.y + found.height / 2 - uh / 2 + dy, uw, uh];
  } else {
    page = doc.page(at.page);
    rect = at.rect;
    if (!rect.every((n) => Number.isFinite(n)) || rect[2] <= 0 || rect[3] <= 0)
      throw new SigningError('validation_failed', 'The rectangle needs a positive width and height.');
  }
  const { rotate } = shownPage(doc, page);
  // The rectangle as the reader sees it; fit the image into it keeping its proportions, centred.
  const [bw, bh] = rotate % 180 ? [rect[3], rect[2]] : [rect[2], rect[3]];
  const scale = Math.min(bw / image.width, bh / image.height);
  const iw = image.width * scale;
  const ih = image.height * scale;
  const content = `q ${fmt(iw)} 0 0 ${fmt(ih)} ${fmt((bw - iw) / 2)} ${fmt((bh - ih) / 2)} cm /Im0 Do Q\n`;
  return { page, rect, appearance: { bbox: [bw, bh], content, matrix: UPRIGHT[rotate] } };
}

function pdfKeywordMissing(keyword: string, page?: number): never {
  throw new SigningError(
    'pdf_keyword_not_found',
    `The text ${JSON.stringify(keyword)} does not occur ${page ? `on page ${page}` : 'in the document'}.`,
    { keyword },
  );
}

function placeCrossPage(doc: PdfDocument, cross: CrossPageAppearance, image: PreparedImage): WidgetSpec[] {
  const all = doc.pages();
  const pages = (cross.pages ?? all.map((p) => p.index + 1)).map((n) => doc.page(n));
  if (pages.length < 2) throw new SigningError('validation_failed', 'A cross-page seal needs at least two pages.');
  const width = cross.width ?? SEAL_WIDTH;
  if (!Number.isFinite(width) || width <= 0)
    throw new SigningError('validation_failed', 'The width of a cross-page seal must be a positive number of points.');
  const height = (width * image.height) / image.width;
  const groups = crossPageGroups(pages.length, width, cross.groups ?? true);
  return groups.flatMap(({ start, count }, g) => {
    const slice = width / count;
    return pages.slice(start, start + count).map((page, i): WidgetSpec => {
      const shown = shownPage(doc, page);
      const y = cross.y ?? shown.height / 2 - height / 2;
      // Strip i shows the image from i·slice to (i+1)·slice; the form's BBox clips the rest.
      const content = `q ${fmt(width)} 0 0 ${fmt(height)} ${fmt(-i * slice)} 0 cm /Im0 Do Q\n`;
      return {
        page,
        rect: fromShown(shown, [shown.width - slice, y, slice, height]),
        appearance: { bbox: [slice, height], content, matrix: UPRIGHT[shown.rotate] },
        label: `part ${i + 1} of ${count}${groups.length > 1 ? ` of group ${g + 1} of ${groups.length}` : ''}`,
      };
    });
  });
}

/**
 * How the pages share the seal: all of them, when each piece is at least `MIN_STRIP_WIDTH`
 * wide; else consecutive groups of near-equal size (two pages or more), each with its whole seal.
 */
export function crossPageGroups(
  pages: number,
  width: number,
  allowGroups: boolean,
): Array<{ start: number; count: number }> {
  if (width / pages >= MIN_STRIP_WIDTH - 1e-9) return [{ start: 0, count: pages }];
  const mm = (pt: number) => `${((pt / 72) * 25.4).toFixed(1)} mm`;
  const perGroup = Math.floor(width / MIN_STRIP_WIDTH + 1e-9);
  const count = Math.ceil(pages / Math.max(perGroup, 1));
  const smallest = Math.floor(pages / count);
  if (!allowGroups || perGroup < 2 || smallest < 2)
    throw new SigningError(
      'validation_failed',
      `A cross-page seal ${mm(width)} wide over ${pages} pages leaves ${mm(width / pages)} on each page, less than the ${mm(MIN_STRIP_WIDTH)} a piece needs to be recognised; ${
        perGroup < 2 || smallest < 2
          ? 'make the seal wider'
          : `at most ${perGroup} pages can share one seal: allow groups (each with its whole seal) or choose fewer pages`
      }.`,
    );
  const larger = pages % count;
  const out: Array<{ start: number; count: number }> = [];
  for (let g = 0, start = 0; g < count; g++) {
    const size = smallest + (g < larger ? 1 : 0);
    out.push({ start, count: size });
    start += size;
  }
  return out;
}

// ---------------------------------------------------------------- the signature revision

interface Prepared {
  doc: PdfDocument;
  update: Buffer;
  /** Offsets inside `update` of the `<` and `>` that delimit /Contents. */
  contentsStart: number;
  contentsEnd: number;
  byteRange: [number, number, number, number];
}

interface RevisionInput {
  doc: PdfDocument;
  fieldName: string;
  widgets: WidgetSpec[];
  image?: PreparedImage;
  /** Signature dictionary entries other than /ByteRange and /Contents, in order. */
  sigEntries: Array<[string, PdfValue]>;
  /** Bytes reserved for /Contents (the DER, before hex). */
  reserve: number;
}

/**
 * Writes the revision with placeholders (§12.8.1): /ByteRange with fixed-width numbers and
 * /Contents as a zero-filled hex string, then fills /ByteRange. The signature goes in last.
 */
function prepareRevision(input: RevisionInput): Prepared {
  const { doc } = input;
  const update = new IncrementalUpdate(doc);
  const sigRef = update.allocate();
  const imageRefs = new Map<PreparedImage, PdfRef>();
  const imageRefOf = (w: WidgetSpec): PdfRef | null => {
    const image = w.image ?? input.image;
    if (!image || !w.appearance) return null;
    let ref = imageRefs.get(image);
    if (!ref) imageRefs.set(image, (ref = addImage(update, image)));
    return ref;
  };
  const fieldFlags = 132; // Print | Locked (§12.5.3)
  const widgetDict = (w: WidgetSpec) => {
    const imageRef = imageRefOf(w);
    const [x, y, width, height] = w.rect;
    const dict = PdfDict.of({
      Type: name('Annot'),
      Subtype: name('Widget'),
      Rect: [x, y, x + width, y + height],
      F: fieldFlags,
      P: w.page.ref,
    });
    if (w.appearance && imageRef) dict.set('AP', PdfDict.of({ N: appearanceStream(update, imageRef, w.appearance) }));
    return dict;
  };
  const fieldRef = update.allocate();
  const field = PdfDict.of({ FT: name('Sig'), T: PdfString.text(input.fieldName), V: sigRef });
  // The first place is the signature's widget, merged with its field (§12.5.6.19).
  const [first, ...rest] = input.widgets;
  for (const [k, v] of widgetDict(first!).map) field.set(k, v);
  const annotations: Array<{ ref: PdfRef; page: PageInfo }> = [{ ref: fieldRef, page: first!.page }];
  // The other strips of a cross-page seal are locked stamp annotations written in the same
  // revision, so the signature covers them; one widget keeps it one signature for every
  // verifier (poppler 22.12 lists each signature widget as a signature of its own).
  rest.forEach((w, i) => {
    const stamp = widgetDict(w)
      .set('Subtype', name('Stamp'))
      .set('F', 4 | 64 | 128);
    stamp.set('NM', PdfString.text(`${input.fieldName}:${i + 2}`));
    stamp.set(
      'Contents',
      PdfString.text(
        w.image
          ? `${w.label ?? 'Stamp'}, bound to signature ${input.fieldName}`
          : `Cross-page seal, ${w.label ?? `part ${i + 2}`}, bound to signature ${input.fieldName}`,
      ),
    );
    stamp.delete('P');
    stamp.set('P', w.page.ref);
    annotations.push({ ref: update.add(stamp), page: w.page });
  });
  update.set(fieldRef, field);
  attachField(doc, update, fieldRef, annotations);

  const placeholder = '0'.repeat(input.reserve * 2);
  const byteRangeTemplate = '/ByteRange [0 0000000000 0000000000 0000000000]';
  let body = `<</Type ${input.sigEntries.length && input.sigEntries[0]![0] === 'Type' ? valueText(input.sigEntries[0]![1]) : '/Sig'}`;
  for (const [k, v] of input.sigEntries) if (k !== 'Type') body += `/${k} ${valueText(v)}`;
  body += `${byteRangeTemplate}/Contents <${placeholder}>>>`;
  const sigBytes = Buffer.from(`${sigRef.num} 0 obj\n${body}\nendobj\n`, 'latin1');
  update.setRaw(sigRef, sigBytes);
  const { bytes, objectOffsets } = update.build();
  const sigAt = objectOffsets.get(sigRef.num)!;
  const inSig = sigBytes.indexOf('/Contents <');
  const contentsStart = sigAt + inSig + '/Contents '.length;
  const contentsEnd = contentsStart + placeholder.length + 2;
  const base = doc.buf.length;
  const byteRange: [number, number, number, number] = [
    0,
    base + contentsStart,
    base + contentsEnd,
    bytes.length - contentsEnd,
  ];
  const rangeText = `/ByteRange [0 ${byteRange[1]} ${byteRange[2]} ${byteRange[3]}]`.padEnd(
    byteRangeTemplate.length,
    ' ',
  );
  if (rangeText.length !== byteRangeTemplate.length)
    throw new SigningError('pdf_too_large', 'The document is too large for a signature byte range.');
  bytes.write(rangeText, sigAt + sigBytes.indexOf('/ByteRange'), 'latin1');
  return { doc, update: bytes, contentsStart, contentsEnd, byteRange };
}

function digestOf(prepared: Prepared, hash: SignatureHash): Buffer {
  return createHash(NODE_DIGEST[hash])
    .update(prepared.doc.buf)
    .update(prepared.update.subarray(0, prepared.contentsStart))
    .update(prepared.update.subarray(prepared.contentsEnd))
    .digest();
}

/** Puts the DER into the placeholder; returns null when it does not fit (the caller retries larger). */
function fill(prepared: Prepared, der: Buffer): Buffer | null {
  const room = (prepared.contentsEnd - prepared.contentsStart - 2) / 2;
  if (der.length > room) return null;
  prepared.update.write(der.toString('hex'), prepared.contentsStart + 1, 'latin1');
  return Buffer.concat([prepared.doc.buf, prepared.update]);
}

const signatureLengths = new WeakMap<Buffer, number>();

/** The longest signature the key can make (RSA: the modulus; ECDSA: DER of two full-size integers). */
function maxSignatureLength(signer: Signer): number {
  const cached = signatureLengths.get(signer.publicKey);
  if (cached !== undefined) return cached;
  const length = computeSignatureLength(signer);
  signatureLengths.set(signer.publicKey, length);
  return length;
}

function computeSignatureLength(signer: Signer): number {
  // SEQUENCE { INTEGER r, INTEGER s } with 256-bit r and s, each possibly with a leading zero.
  if (signer.keyType === 'SM2') return 72;
  const details = createPublicKey({ key: signer.publicKey, format: 'der', type: 'spki' }).asymmetricKeyDetails;
  if (signer.keyType === 'RSA') return Math.ceil((details?.modulusLength ?? 4096) / 8);
  const bytes = details?.namedCurve === 'secp521r1' ? 66 : details?.namedCurve === 'secp384r1' ? 48 : 32;
  return 2 * (bytes + 3) + 3;
}

function assertUsable(signer: Signer, at: Date): void {
  const cert = parseCertificate(signer.certificate);
  if (at < cert.notBefore || at > cert.notAfter) {
    throw new SigningError(
      'certificate_expired',
      `The certificate of ${cert.subject} is valid from ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}, not now.`,
    );
  }
  if (cert.keyUsage && !cert.keyUsage.includes(0) && !cert.keyUsage.includes(1))
    throw new SigningError(
      'signing_key_invalid',
      `The certificate of ${cert.subject} is not for signatures (key usage).`,
    );
}

async function assertNotRevoked(signer: Signer, source: RevocationSource | undefined, at: Date): Promise<Buffer[]> {
  if (!source) return [];
  const chain = [signer.certificate, ...signer.chain];
  const crls = await source.crlsFor(chain);
  const cert = parseCertificate(signer.certificate);
  const issuer = signer.chain.map(parseCertificate).find((c) => isIssuedBy(cert, c));
  for (const der of crls) {
    let crl;
    try {
      crl = parseCrl(der);
    } catch {
      continue;
    }
    if (!issuer || !crl.issuerDer.equals(issuer.subjectDer)) continue;
    const entry = crl.revoked.find((r) => r.serial === cert.serial && r.date <= at);
    if (entry)
      throw new SigningError(
        'certificate_revoked',
        `The certificate of ${cert.subject} was revoked on ${entry.date.toISOString()}.`,
      );
  }
  return crls;
}

/** Signs a PDF at the requested PAdES level; returns the whole new file. */
export async function signPdf(pdf: Buffer, options: SignPdfOptions): Promise<Buffer> {
  const level = options.level ?? 'B-B';
  if (!PADES_LEVELS.includes(level))
    throw new SigningError(
      'validation_failed',
      `Unknown PAdES level ${String(level)}; use ${PADES_LEVELS.join(', ')}.`,
    );
  if (level !== 'B-B' && !options.timestamper)
    throw new SigningError('validation_failed', `PAdES ${level} needs a time-stamping authority.`);
  const profile = checkProfile(options, level);
  // Whole seconds: /M and the signing-time attribute carry no fraction and must say the same.
  const signingTime = new Date(Math.floor((options.signingTime ?? new Date()).getTime() / 1000) * 1000);
  assertUsable(options.signer, new Date());
  const crls = await assertNotRevoked(options.signer, options.revocation, new Date());
  const hash: SignatureHash = profile === 'sm2' ? 'SM3' : (options.hash ?? preferredHash(options.signer));
  const doc = PdfDocument.load(pdf, options.limits);

  let widgets: WidgetSpec[];
  let image: PreparedImage | undefined;
  if (options.crossPage && options.appearance)
    throw new SigningError('validation_failed', 'Apply a cross-page seal and a placed seal as two signatures.');
  if (options.crossPage) {
    image = resolveImage(options.crossPage.image);
    widgets = placeCrossPage(doc, options.crossPage, image);
  } else if (options.appearance) {
    image = resolveImage(options.appearance.image);
    widgets = [placeAppearance(doc, options.appearance, image)];
  } else widgets = [{ page: doc.page(1), rect: [0, 0, 0, 0] }];
  const stamps = options.stamps ?? [];
  if (stamps.length > MAX_STAMPS)
    throw new SigningError('validation_failed', `At most ${MAX_STAMPS} stamps go beside one signature.`);
  for (const stamp of stamps) {
    const own = resolveImage(stamp.image);
    widgets.push({ ...placeAppearance(doc, { image: own, at: stamp.at }, own), image: own, label: stamp.label });
  }

  const base = options.crossPage
    ? 'CrossPageSeal'
    : options.appearance?.kind === 'handwritten'
      ? 'Handwritten'
      : options.appearance
        ? 'Seal'
        : 'Signature';
  const fieldName = uniqueFieldName(doc, base, options.fieldName);
  const sigEntries: Array<[string, PdfValue]> = [
    ['Type', name('Sig')],
    ['Filter', name('Adobe.PPKLite')],
    // ETSI EN 319 142-1 §5.3: PAdES baseline signatures use ETSI.CAdES.detached. The SM2 profile
    // is not a PAdES baseline (its algorithms are not in ETSI TS 119 312, and it carries a CMS
    // signing-time, which PAdES forbids), so it says adbe.pkcs7.detached (ISO 32000-1 §12.8.3.3),
    // as the Chinese signing products that put SM2 CMS in PDFs do.
    ['SubFilter', name(profile === 'sm2' ? 'adbe.pkcs7.detached' : 'ETSI.CAdES.detached')],
    ['M', new PdfString(Buffer.from(pdfDate(signingTime), 'latin1'))],
  ];
  if (options.reason) sigEntries.push(['Reason', PdfString.text(options.reason)]);
  if (options.location) sigEntries.push(['Location', PdfString.text(options.location)]);
  if (options.contactInfo) sigEntries.push(['ContactInfo', PdfString.text(options.contactInfo)]);
  const name0 = parseCertificate(options.signer.certificate).commonName;
  if (name0) sigEntries.push(['Name', PdfString.text(name0)]);

  const cmsBase: Omit<SignedDataInput, 'digest'> = {
    signer: options.signer,
    hash,
    // RFC 5652 §11.3: signing-time, the claimed time, the same as /M.
    signedAttributes: profile === 'sm2' ? [signingTimeAttribute(signingTime)] : undefined,
  };
  let reserve =
    estimateSignedDataSize({ ...cmsBase, digest: Buffer.alloc(64) }, maxSignatureLength(options.signer)) +
    64 +
    (level === 'B-B' ? 0 : TOKEN_RESERVE);
  let signed: Buffer | null = null;
  let tokenDer: Buffer | null = null;
  let cmsDer: Buffer | null = null;
  for (let attempt = 0; attempt < 2 && !signed; attempt++) {
    const prepared = prepareRevision({ doc, fieldName, widgets, image, sigEntries, reserve });
    const parts = await signAttributes({ ...cmsBase, digest: digestOf(prepared, hash) });
    const unsigned: Buffer[] = [];
    if (level !== 'B-B') {
      // ETSI EN 319 122-1 §5.3: the signature-time-stamp is over the SignerInfo's signature value.
      tokenDer = await options.timestamper!.timestamp(
        createHash(NODE_DIGEST[hash]).update(parts.signature).digest(),
        hash,
      );
      unsigned.push(attribute(OID.timeStampToken, tokenDer));
    }
    cmsDer = encodeSignedData(parts, unsigned);
    signed = fill(prepared, cmsDer);
    if (!signed) reserve = cmsDer.length + 1024;
  }
  if (!signed || !cmsDer) throw new SigningError('internal_error', 'The signature did not fit its placeholder.');
  if (level === 'B-B' || level === 'B-T') return signed;
  if (hash === 'SM3') throw new SigningError('internal_error', 'The SM2 profile has no B-LT.');

  // B-LT: validation data for the signer's chain and the TSA's, in a following revision (§5.4).
  const tsaCerts = tokenDer ? checkTimestampToken(tokenDer, { digest: Buffer.alloc(0) }).certificates : [];
  const certificates = unique([options.signer.certificate, ...options.signer.chain, ...tsaCerts]);
  const allCrls = unique([
    ...crls,
    ...(options.revocation && tsaCerts.length ? await options.revocation.crlsFor(tsaCerts) : []),
  ]);
  let out = await addValidationData(signed, { certificates, crls: allCrls, limits: options.limits });
  if (level === 'B-LTA')
    out = await addDocumentTimestamp(out, { timestamper: options.timestamper!, hash, limits: options.limits });
  return out;
}

/** The profile a signature is made in, refusing a key, hash or level the profile does not have. */
function checkProfile(options: SignPdfOptions, level: PadesLevel): PdfSignatureProfile {
  const sm2Key = options.signer.keyType === 'SM2';
  const profile = options.profile ?? (sm2Key ? 'sm2' : 'pades');
  if (!PDF_SIGNATURE_PROFILES.includes(profile))
    throw new SigningError(
      'validation_failed',
      `Unknown PDF signature profile ${String(profile)}; use ${PDF_SIGNATURE_PROFILES.join(' or ')}.`,
    );
  if (profile === 'pades' && sm2Key)
    throw new SigningError(
      'signing_key_invalid',
      'An SM2 key signs PDFs in the national-cryptography profile (sm2), not PAdES.',
    );
  if (profile === 'sm2') {
    if (!sm2Key)
      throw new SigningError('signing_key_invalid', 'The sm2 profile needs an SM2 key and an SM2 certificate.');
    if (options.hash)
      throw new SigningError('validation_failed', `The sm2 profile hashes with SM3, not ${options.hash}.`);
    if (level !== 'B-B' && level !== 'B-T')
      throw new SigningError(
        'validation_failed',
        `The sm2 profile signs with or without a signature time-stamp (B-B, B-T); ${level} is a PAdES level.`,
      );
  }
  return profile;
}

/** signing-time (RFC 5652 §11.3): UTCTime from 1950 to 2049, GeneralizedTime otherwise. */
function signingTimeAttribute(at: Date): Buffer {
  const year = at.getUTCFullYear();
  const value =
    year >= 1950 && year < 2050
      ? new asn1js.UTCTime({ valueDate: at }).toBER()
      : new asn1js.GeneralizedTime({ valueDate: at }).toBER();
  return attribute(OID.signingTime, Buffer.from(value));
}

const unique = (list: Buffer[]): Buffer[] => list.filter((b, i) => list.findIndex((c) => c.equals(b)) === i);

// ---------------------------------------------------------------- DSS and document time-stamps

export interface ValidationDataInput {
  certificates: Buffer[];
  crls: Buffer[];
  limits?: Partial<PdfLimits>;
}

/**
 * Adds a revision with the Document Security Store (ETSI EN 319 142-1 §5.4.2; ISO 32000-2
 * §12.8.4.3): certificates and CRLs as streams, plus a VRI entry per signature, keyed by the
 * upper-case hex SHA-1 of its /Contents bytes.
 */
export async function addValidationData(pdf: Buffer, input: ValidationDataInput): Promise<Buffer> {
  const doc = PdfDocument.load(pdf, input.limits);
  const update = new IncrementalUpdate(doc);
  const catalog = doc.catalog();
  const old = doc.dict(catalog.get('DSS'));
  const certRefs = unique(input.certificates).map((der) => update.add(new PdfStream(new PdfDict(), der)));
  const crlRefs = unique(input.crls).map((der) => update.add(new PdfStream(new PdfDict(), der)));
  const merged = (key: string, added: PdfRef[]) => {
    const prior = old ? doc.resolve(old.get(key)) : undefined;
    return [...(Array.isArray(prior) ? prior : []), ...added];
  };
  const dss = PdfDict.of({ Type: name('DSS'), Certs: merged('Certs', certRefs), CRLs: merged('CRLs', crlRefs) });
  const priorOcsps = old ? doc.resolve(old.get('OCSPs')) : undefined;
  if (Array.isArray(priorOcsps)) dss.set('OCSPs', priorOcsps);
  const vri = doc.dict(old?.get('VRI'))?.clone() ?? new PdfDict();
  const now = new PdfString(Buffer.from(pdfDate(new Date()), 'latin1'));
  for (const sig of signatureDictionaries(doc)) {
    const key = createHash('sha1').update(sig.contents).digest('hex').toUpperCase();
    if (!vri.has(key)) vri.set(key, PdfDict.of({ Cert: certRefs, CRL: crlRefs, TU: now }));
  }
  dss.set('VRI', vri);
  const dssRef = isRef(catalog.get('DSS')) ? (catalog.get('DSS') as PdfRef) : null;
  if (dssRef) update.set(dssRef, dss);
  else update.set(doc.rootRef, catalog.clone().set('DSS', update.add(dss)));
  return Buffer.concat([pdf, update.build().bytes]);
}

/** The /Contents bytes of every signature dictionary reachable from the AcroForm. */
export function signatureDictionaries(doc: PdfDocument): Array<{ dict: PdfDict; contents: Buffer }> {
  const out: Array<{ dict: PdfDict; contents: Buffer }> = [];
  const acro = doc.dict(doc.catalog().get('AcroForm'));
  const fields = acro ? doc.resolve(acro.get('Fields')) : null;
  const stack: Array<{ v: PdfValue; depth: number }> = Array.isArray(fields)
    ? fields.map((v) => ({ v, depth: 0 }))
    : [];
  const seen = new Set<number>();
  let visits = 0;
  while (stack.length && visits++ < 100_000) {
    const { v, depth } = stack.pop()!;
    if (isRef(v)) {
      if (seen.has(v.num)) continue;
      seen.add(v.num);
    }
    const field = doc.dict(v);
    if (!field || depth > 32) continue;
    const sig = doc.dict(field.get('V'));
    const contents = sig?.get('Contents');
    if (
      sig &&
      contents instanceof PdfString &&
      (isName(sig.get('Type'), 'Sig') || isName(sig.get('Type'), 'DocTimeStamp') || sig.has('ByteRange'))
    )
      out.push({ dict: sig, contents: contents.bytes });
    const kids = doc.resolve(field.get('Kids'));
    if (Array.isArray(kids)) for (const k of kids) stack.push({ v: k, depth: depth + 1 });
  }
  return out;
}

export interface DocumentTimestampInput {
  timestamper: Timestamper;
  hash?: HashName;
  fieldName?: string;
  limits?: Partial<PdfLimits>;
}

/** Adds a document time-stamp (ETSI EN 319 142-1 §5.5, SubFilter ETSI.RFC3161): B-LTA. */
export async function addDocumentTimestamp(pdf: Buffer, input: DocumentTimestampInput): Promise<Buffer> {
  const doc = PdfDocument.load(pdf, input.limits);
  const hash = input.hash ?? 'SHA-256';
  const fieldName = uniqueFieldName(doc, 'Timestamp', input.fieldName);
  const sigEntries: Array<[string, PdfValue]> = [
    ['Type', name('DocTimeStamp')],
    ['Filter', name('Adobe.PPKLite')],
    ['SubFilter', name('ETSI.RFC3161')],
  ];
  let reserve = TOKEN_RESERVE + 1024;
  for (let attempt = 0; attempt < 2; attempt++) {
    const prepared = prepareRevision({
      doc,
      fieldName,
      widgets: [{ page: doc.page(1), rect: [0, 0, 0, 0] }],
      sigEntries,
      reserve,
    });
    const token = await input.timestamper.timestamp(digestOf(prepared, hash), hash);
    const out = fill(prepared, token);
    if (out) return out;
    reserve = token.length + 1024;
  }
  throw new SigningError('internal_error', 'The document time-stamp did not fit its placeholder.');
}
