// OFD signatures (GB/T 33190-2016 §18): Signatures.xml lists them; each Signature.xml states
// what it protects (References: a digest of every protected file), where its stamps are
// (StampAnnot), which seal (Seal/BaseLoc) and where the signed value is (SignedValue). The value
// signs the bytes of Signature.xml itself (GB/T 38540: dataHash = SM3 of them, propertyInfo =
// its path), so the references are protected through it.
//
// Signing is incremental, as ofdrw's ContinueSign: Signatures.xml is left out of the references,
// so a later signature can add itself to it; the later one protects the earlier signatures' files.
// Verifying checks every digest, refuses files that no signature protects or later signatures
// account for, and asks the seal-signature verifier about the signed value.
import { createHash } from 'node:crypto';
import { OfdError } from './errors.js';
import type { Box } from './model.js';
import {
  DEFAULT_OFD_LIMITS,
  dirOf,
  readPackage,
  resolve,
  writePackage,
  type OfdLimits,
  type OfdPackage,
} from './package.js';
import { openPackage, parseBox, xmlOf, type OfdFile } from './reader.js';
import type { Stamp } from './render.js';
import { sealPictureOfSeal, sealPictureOfSignature } from './seal-picture.js';
import { child, childrenNamed, childText, el, t, xmlFile, type XmlElement } from './xml.js';

/** SM2 with SM3 (GM/T 0006), the SignatureMethod of a seal signature. */
export const SM2_WITH_SM3 = '1.2.156.10197.1.501';
const SM3_OID = '1.2.156.10197.1.401';
const SHA256_OID = '2.16.840.1.101.3.4.2.1';

/** Check methods read: SM3 by name or OID (both occur), and SHA-256. Anything else is refused by name. */
const CHECK_METHODS: Record<string, 'sm3' | 'sha256'> = {
  SM3: 'sm3',
  [SM3_OID]: 'sm3',
  'SHA-256': 'sha256',
  SHA256: 'sha256',
  [SHA256_OID]: 'sha256',
};

export type SignatureType = 'Seal' | 'Sign';

/**
 * What makes and checks the signed value. A seal signature (Type Seal) is a GB/T 38540
 * SES_Signature over the Signature.xml bytes; the signing engine (src/signing) provides it.
 */
export interface SealSignatureProvider {
  type: SignatureType;
  /** SignatureMethod written to Signature.xml. */
  signatureMethod: string;
  /** The seal (DER SESeal), written as Seal.esl beside the signature. */
  seal?: Uint8Array;
  /** Provider element of Signature.xml. */
  provider?: { name: string; company?: string; version?: string };
  /** The signed value (SignedValue.dat) over `data`, the bytes of Signature.xml; `propertyInfo` is its absolute path. */
  sign(input: { data: Uint8Array; propertyInfo: string; signingTime: Date }): Promise<Uint8Array>;
}

export type SignedValueVerdict =
  | { status: 'valid'; signer?: string; signedAt?: string; notes?: string[] }
  | { status: 'invalid'; reason: string; notes?: string[] };

export interface SealSignatureVerifier {
  /** Checks `signedValue` over `data` (the Signature.xml bytes), as the signature type requires. */
  verify(input: {
    type: SignatureType;
    signedValue: Uint8Array;
    data: Uint8Array;
    propertyInfo: string;
    seal?: Uint8Array;
  }): Promise<SignedValueVerdict>;
}

export interface StampAnnot {
  id: string;
  /** The page's ID (Document.xml), and its index when the document has that page. */
  pageRef: string;
  pageIndex?: number;
  boundary: Box;
  clip?: Box;
}

export interface OfdSignatureEntry {
  id: string;
  type: SignatureType;
  /** Package path of Signature.xml. */
  path: string;
}

export interface ReferenceCheck {
  path: string;
  status: 'intact' | 'changed' | 'missing';
}

export interface OfdSignatureReport extends OfdSignatureEntry {
  provider?: string;
  signatureMethod?: string;
  signatureDateTime?: string;
  checkMethod?: string;
  references: ReferenceCheck[];
  /** Files in the package that this signature does not protect and no later signature accounts for. */
  unprotected: string[];
  stamps: StampAnnot[];
  signedValue: SignedValueVerdict | { status: 'not_checked'; reason: string };
  /** Everything that makes this signature fail, in words. */
  problems: string[];
  valid: boolean;
}

export interface OfdVerificationReport {
  signatures: OfdSignatureReport[];
  /** At least one signature, and every one valid. */
  valid: boolean;
}

const sm3 = (data: Uint8Array) => createHash('sm3').update(data).digest();

function digest(method: 'sm3' | 'sha256', data: Uint8Array): string {
  return createHash(method).update(data).digest('base64');
}

/** The signatures Signatures.xml lists, in its order, and its MaxSignId as a number (0 when absent). */
export function listSignatures(file: OfdFile): { entries: OfdSignatureEntry[]; maxSignId: number } {
  const path = file.document.signaturesPath;
  if (!path) return { entries: [], maxSignId: 0 };
  const root = xmlOf(file.package, path, 'OFD.xml');
  if (root.name !== 'Signatures')
    throw new OfdError('ofd_malformed', `the root element is <${root.name}>, not <Signatures>`, path);
  const elements = childrenNamed(root, 'Signature');
  if (elements.length > file.package.limits.maxSignatures)
    throw new OfdError('ofd_too_large', `lists more than ${file.package.limits.maxSignatures} signatures`, path);
  const entries = elements.map((s, i) => {
    if (!s.attrs.BaseLoc) throw new OfdError('ofd_malformed', `signature ${i + 1} has no BaseLoc`, path);
    const type = s.attrs.Type ?? 'Seal';
    if (type !== 'Seal' && type !== 'Sign')
      throw new OfdError(
        'ofd_unsupported',
        `signature ${s.attrs.ID ?? i + 1} has the Type ${JSON.stringify(type)}; Seal and Sign are known`,
        path,
      );
    return { id: s.attrs.ID ?? String(i + 1), type: type as SignatureType, path: resolve(s.attrs.BaseLoc, path) };
  });
  // Producers write MaxSignId as a number, some with a letter before it ("s4"); the digits count.
  const max = Number((childText(root, 'MaxSignId') ?? '').replace(/^\D+/, '')) || 0;
  return { entries, maxSignId: Math.max(max, ...entries.map((e) => Number(e.id.replace(/^\D+/, '')) || 0)) };
}

interface ParsedSignature {
  root: XmlElement;
  info: XmlElement;
  checkMethod: string;
  references: Array<{ path: string; value: string }>;
  stamps: StampAnnot[];
  sealPath?: string;
  signedValuePath: string;
}

function parseSignature(file: OfdFile, entry: OfdSignatureEntry): ParsedSignature {
  const root = xmlOf(file.package, entry.path, file.document.signaturesPath);
  if (root.name !== 'Signature')
    throw new OfdError('ofd_malformed', `the root element is <${root.name}>, not <Signature>`, entry.path);
  const info = child(root, 'SignedInfo');
  const signedValue = childText(root, 'SignedValue');
  if (!info || !signedValue) throw new OfdError('ofd_malformed', 'needs SignedInfo and SignedValue', entry.path);
  const refs = child(info, 'References');
  if (!refs) throw new OfdError('ofd_malformed', 'has no References', entry.path);
  const list = childrenNamed(refs, 'Reference');
  if (list.length > file.package.limits.maxReferences)
    throw new OfdError('ofd_too_large', `has more than ${file.package.limits.maxReferences} references`, entry.path);
  const references = list.map((r) => {
    const value = childText(r, 'CheckValue');
    if (!r.attrs.FileRef || !value)
      throw new OfdError('ofd_malformed', 'a Reference needs a FileRef and a CheckValue', entry.path);
    // FileRef is a path in the package; producers write it absolute. A relative one is taken from the root.
    return { path: resolve(r.attrs.FileRef, 'OFD.xml'), value };
  });
  const pageIndex = new Map(file.document.pages.map((p) => [p.id, p.index]));
  const stamps = childrenNamed(info, 'StampAnnot').map((s) => {
    const pageRef = s.attrs.PageRef ?? '';
    const index = pageIndex.get(pageRef);
    return {
      id: s.attrs.ID ?? '',
      pageRef,
      ...(index !== undefined ? { pageIndex: index } : {}),
      boundary: parseBox(s.attrs.Boundary, 'StampAnnot Boundary', entry.path),
      ...(s.attrs.Clip ? { clip: parseBox(s.attrs.Clip, 'StampAnnot Clip', entry.path) } : {}),
    };
  });
  const sealElement = child(info, 'Seal');
  const sealRef = sealElement && childText(sealElement, 'BaseLoc');
  return {
    root,
    info,
    checkMethod: refs.attrs.CheckMethod?.trim() || 'MD5',
    references,
    stamps,
    ...(sealRef ? { sealPath: resolve(sealRef, entry.path) } : {}),
    signedValuePath: resolve(signedValue, entry.path),
  };
}

/** The files of a signature's own directory that it cannot protect itself: its Signature.xml and SignedValue.dat. */
function ownFiles(entry: OfdSignatureEntry, parsed: ParsedSignature): string[] {
  return [entry.path, parsed.signedValuePath];
}

/** Checks every signature of an OFD file. Without `verifier` the signed values are reported as not checked (and the signature as not valid). */
export async function verifyOfd(
  bytes: Uint8Array,
  options: { verifier?: SealSignatureVerifier; limits?: OfdLimits } = {},
): Promise<OfdVerificationReport> {
  const file = openPackage(readPackage(bytes, options.limits ?? DEFAULT_OFD_LIMITS));
  return verifyOfdFile(file, options);
}

export async function verifyOfdFile(
  file: OfdFile,
  options: { verifier?: SealSignatureVerifier } = {},
): Promise<OfdVerificationReport> {
  const pkg = file.package;
  const { entries } = listSignatures(file);
  const parsed = entries.map((entry) => {
    try {
      return parseSignature(file, entry);
    } catch (error) {
      if (error instanceof OfdError) return error;
      throw error;
    }
  });
  const reports: OfdSignatureReport[] = [];
  for (const [i, entry] of entries.entries()) {
    const p = parsed[i]!;
    const problems: string[] = [];
    if (p instanceof OfdError) {
      reports.push({
        ...entry,
        references: [],
        unprotected: [],
        stamps: [],
        signedValue: { status: 'not_checked', reason: p.message },
        problems: [p.message],
        valid: false,
      });
      continue;
    }
    const method = CHECK_METHODS[p.checkMethod] ?? CHECK_METHODS[p.checkMethod.toUpperCase()];
    const references: ReferenceCheck[] = p.references.map((ref) => {
      const name = pkg.find(ref.path);
      if (!name) return { path: ref.path, status: 'missing' };
      if (!method) return { path: name, status: 'changed' };
      return { path: name, status: digest(method, pkg.files.get(name)!) === ref.value.trim() ? 'intact' : 'changed' };
    });
    if (!method) problems.push(`the check method ${p.checkMethod} is not one this verifier knows (SM3, SHA-256)`);
    else {
      for (const ref of references) {
        if (ref.status === 'missing')
          problems.push(`/${ref.path} is protected by the signature but no longer in the package`);
        if (ref.status === 'changed') problems.push(`/${ref.path} was changed after signing (its digest differs)`);
      }
    }
    // What may differ from what this signature saw: Signatures.xml (a later signature adds itself),
    // this signature's own Signature.xml and SignedValue.dat, and the files of every later signature.
    const allowed = new Set<string>(references.map((r) => r.path));
    if (file.document.signaturesPath)
      allowed.add(pkg.find(file.document.signaturesPath) ?? file.document.signaturesPath);
    for (const own of ownFiles(entry, p)) allowed.add(pkg.find(own) ?? own);
    // A later signature accounts for its own files only: its Signature.xml and SignedValue.dat, and
    // what it protects inside its own directory (its seal, say); never for a page or a resource.
    for (const [k, later] of entries.entries()) {
      const laterParsed = parsed[k]!;
      if (k <= i || laterParsed instanceof OfdError) continue;
      const laterDir = dirOf(later.path) + '/';
      for (const own of ownFiles(later, laterParsed)) allowed.add(pkg.find(own) ?? own);
      for (const ref of laterParsed.references)
        if (ref.path.startsWith(laterDir)) allowed.add(pkg.find(ref.path) ?? ref.path);
    }
    const unprotected = pkg.names.filter((name) => !allowed.has(name)).sort();
    if (unprotected.length)
      problems.push(
        `${unprotected.length === 1 ? 'a file is' : `${unprotected.length} files are`} in the package that the signature does not protect: ${unprotected.map((u) => '/' + u).join(', ')}`,
      );
    if (p.sealPath && !references.some((r) => r.path === (pkg.find(p.sealPath!) ?? p.sealPath)))
      problems.push(`the seal /${p.sealPath} is not among the protected files`);
    for (const stamp of p.stamps)
      if (stamp.pageIndex === undefined)
        problems.push(`stamp ${stamp.id} is on page ${stamp.pageRef}, which the document does not have`);

    let signedValue: OfdSignatureReport['signedValue'];
    const valueName = pkg.find(p.signedValuePath);
    const signatureXml = pkg.files.get(pkg.find(entry.path)!)!;
    if (!valueName) {
      signedValue = { status: 'invalid', reason: `the signed value /${p.signedValuePath} is not in the package` };
    } else if (!options.verifier) {
      signedValue = { status: 'not_checked', reason: 'no seal-signature verifier was given' };
    } else {
      const sealName = p.sealPath ? pkg.find(p.sealPath) : undefined;
      signedValue = await options.verifier.verify({
        type: entry.type,
        signedValue: pkg.files.get(valueName)!,
        data: signatureXml,
        propertyInfo: '/' + entry.path,
        ...(sealName ? { seal: pkg.files.get(sealName)! } : {}),
      });
    }
    if (signedValue.status === 'invalid') problems.push(`the signed value does not verify: ${signedValue.reason}`);
    if (signedValue.status === 'not_checked') problems.push(`the signed value was not checked: ${signedValue.reason}`);
    const provider = child(p.info, 'Provider')?.attrs.ProviderName;
    const signatureMethod = childText(p.info, 'SignatureMethod');
    const signatureDateTime = childText(p.info, 'SignatureDateTime');
    reports.push({
      ...entry,
      ...(provider ? { provider } : {}),
      ...(signatureMethod ? { signatureMethod } : {}),
      ...(signatureDateTime ? { signatureDateTime } : {}),
      checkMethod: p.checkMethod,
      references,
      unprotected,
      stamps: p.stamps,
      signedValue,
      problems,
      valid: problems.length === 0,
    });
  }
  return { signatures: reports, valid: reports.length > 0 && reports.every((r) => r.valid) };
}

/**
 * The stamps to draw on page `index`: each signature's StampAnnots there, with the seal's
 * picture from Seal.esl or else from the seal inside the signed value.
 */
export function pageStamps(file: OfdFile, index: number): Stamp[] {
  const pageId = file.document.pages[index]?.id;
  if (pageId === undefined) throw new OfdError('ofd_not_found', `the document has no page ${index + 1}`);
  const stamps: Stamp[] = [];
  for (const entry of listSignatures(file).entries) {
    let parsed: ParsedSignature;
    try {
      parsed = parseSignature(file, entry);
    } catch {
      continue;
    }
    const here = parsed.stamps.filter((s) => s.pageRef === pageId);
    if (here.length === 0) continue;
    const sealName = parsed.sealPath && file.package.find(parsed.sealPath);
    const valueName = file.package.find(parsed.signedValuePath);
    const picture =
      (sealName ? sealPictureOfSeal(file.package.files.get(sealName)!) : undefined) ??
      (valueName ? sealPictureOfSignature(file.package.files.get(valueName)!) : undefined);
    if (!picture) continue;
    for (const s of here) stamps.push({ boundary: s.boundary, ...(s.clip ? { clip: s.clip } : {}), picture });
  }
  return stamps;
}

export interface StampPlacement {
  /** 0-based page index. */
  page: number;
  /** Where the seal's picture goes, mm from the page's top left. */
  boundary: Box;
}

export interface CrossPageSeal {
  /** The pages the seal spans, 0-based (default: all, at least two). */
  pages?: number[];
  /** Top of the seal on every page, mm (default: centred vertically). */
  y?: number;
  /** The whole seal's size, mm (default: the seal picture's size, else 40 × 40). */
  width?: number;
  height?: number;
}

export interface SignOfdOptions {
  provider: SealSignatureProvider;
  stamps?: StampPlacement[];
  /** A cross-page seal (骑缝章): the picture cut into as many slices as pages, each over the right edge of its page. */
  crossPage?: CrossPageSeal;
  signingTime?: Date;
  limits?: OfdLimits;
}

/** SignatureDateTime as ofdrw and most producers write it, in UTC+8 (the standard gives no form). */
function signatureDateTime(date: Date): string {
  const local = new Date(date.getTime() + 8 * 3600_000);
  return local.toISOString().slice(0, 19).replace('T', ' ');
}

const n = (v: number) => String(Math.round(v * 1000) / 1000);

/** OFD.xml with a Signatures element after DocRoot, the rest of its bytes as they were. */
function addSignaturesToOfdXml(bytes: Uint8Array, signaturesPath: string): Uint8Array {
  const text = new TextDecoder().decode(bytes);
  const match = /<\/((?:[\w.-]+:)?)DocRoot\s*>/.exec(text);
  if (!match) throw new OfdError('ofd_malformed', 'has no DocRoot to put Signatures after', 'OFD.xml');
  const prefix = match[1]!;
  const at = match.index + match[0].length;
  return new TextEncoder().encode(
    `${text.slice(0, at)}<${prefix}Signatures>/${signaturesPath}</${prefix}Signatures>${text.slice(at)}`,
  );
}

/** Signatures.xml with one more Signature and MaxSignId raised; a new one when there was none. */
function addToSignaturesXml(
  bytes: Uint8Array | undefined,
  entry: { id: string; type: SignatureType; path: string },
  maxSignId: number,
): Uint8Array {
  const record = { ID: entry.id, Type: entry.type, BaseLoc: '/' + entry.path };
  if (!bytes) return xmlFile(el('Signatures', {}, el('MaxSignId', {}, String(maxSignId)), el('Signature', record)));
  let text = new TextDecoder().decode(bytes);
  const close = /<\/((?:[\w.-]+:)?)Signatures\s*>\s*$/.exec(text);
  if (!close) throw new OfdError('ofd_malformed', 'does not end with </Signatures>', 'Signatures.xml');
  const prefix = close[1]!;
  const attrs = Object.entries(record)
    .map(([k, v]) => ` ${k}="${t(v)}"`)
    .join('');
  text = `${text.slice(0, close.index)}<${prefix}Signature${attrs}/>${text.slice(close.index)}`;
  const max = /(<(?:[\w.-]+:)?MaxSignId\s*>)[^<]*(<\/(?:[\w.-]+:)?MaxSignId\s*>)/;
  text = max.test(text)
    ? text.replace(max, `$1${maxSignId}$2`)
    : text.replace(/(<(?:[\w.-]+:)?Signatures\b[^>]*>)/, `$1<${prefix}MaxSignId>${maxSignId}</${prefix}MaxSignId>`);
  return new TextEncoder().encode(text);
}

/**
 * Adds a signature to an OFD file and returns the new file. Every existing file keeps its bytes,
 * except OFD.xml on the first signature (it gains the Signatures element, before anything is
 * signed) and Signatures.xml, which no signature protects; so earlier signatures stay valid.
 */
export async function signOfd(bytes: Uint8Array, options: SignOfdOptions): Promise<Uint8Array> {
  const pkg = readPackage(bytes, options.limits ?? DEFAULT_OFD_LIMITS);
  const file = openPackage(pkg);
  const { provider } = options;
  const signingTime = options.signingTime ?? new Date();
  const files = new Map(pkg.files);
  const docDir = dirOf(file.document.documentPath);
  const signaturesPath = file.document.signaturesPath ?? `${docDir ? docDir + '/' : ''}Signs/Signatures.xml`;
  const { maxSignId } = listSignatures(file);
  if (!file.document.signaturesPath) files.set('OFD.xml', addSignaturesToOfdXml(pkg.read('OFD.xml'), signaturesPath));

  let nextId = maxSignId;
  const signatureId = String(++nextId);
  const signsDir = dirOf(signaturesPath);
  let k = 0;
  while ([...files.keys()].some((name) => name.startsWith(`${signsDir}/Sign_${k}/`))) k++;
  const dir = `${signsDir}/Sign_${k}`;
  const signaturePath = `${dir}/Signature.xml`;
  const valuePath = `${dir}/SignedValue.dat`;

  const stampElements: string[] = [];
  const pages = file.document.pages;
  const pageOf = (index: number) => {
    const page = pages[index];
    if (!page)
      throw new OfdError(
        'ofd_not_found',
        `the document has ${pages.length} pages; there is no page ${index + 1} to stamp`,
      );
    return page;
  };
  const checkBox = (box: Box, what: string) => {
    if (box.length !== 4 || !box.every(Number.isFinite) || box[2] <= 0 || box[3] <= 0 || box[2] > 1000 || box[3] > 1000)
      throw new OfdError(
        'ofd_options_invalid',
        `${what} must be four finite numbers, x y width height, with a width and height of 0…1000 mm`,
      );
  };
  for (const stamp of options.stamps ?? []) checkBox(stamp.boundary, 'a stamp boundary');
  for (const stamp of options.stamps ?? []) {
    stampElements.push(
      el('StampAnnot', {
        ID: String(++nextId),
        PageRef: pageOf(stamp.page).id,
        Boundary: stamp.boundary.map(n).join(' '),
      }),
    );
  }
  if (options.crossPage) {
    const spanned = options.crossPage.pages ?? pages.map((p) => p.index);
    if (spanned.length < 2) throw new OfdError('ofd_options_invalid', 'a cross-page seal needs at least two pages');
    if (new Set(spanned).size !== spanned.length)
      throw new OfdError('ofd_options_invalid', 'a cross-page seal names a page twice');
    const picture = provider.seal ? sealPictureOfSeal(provider.seal) : undefined;
    const width = options.crossPage.width ?? picture?.widthMm ?? 40;
    const height = options.crossPage.height ?? picture?.heightMm ?? 40;
    checkBox([0, options.crossPage.y ?? 0, width, height], 'a cross-page seal');
    const slice = width / spanned.length;
    spanned.forEach((index, i) => {
      const page = pageOf(index);
      const box = file.page(index).physicalBox;
      const y = options.crossPage!.y ?? box[1] + (box[3] - height) / 2;
      // The whole seal is placed so that its i-th slice lies against the right edge; the clip (in the seal's box) shows only that slice.
      const left = box[0] + box[2] - (i + 1) * slice;
      stampElements.push(
        el('StampAnnot', {
          ID: String(++nextId),
          PageRef: page.id,
          Boundary: [left, y, width, height].map(n).join(' '),
          Clip: [i * slice, 0, slice, height].map(n).join(' '),
        }),
      );
    });
  }

  const sealPath = provider.seal ? `${dir}/Seal.esl` : undefined;
  if (sealPath && provider.seal) files.set(sealPath, provider.seal);
  // Everything but Signatures.xml and this signature's own two files: earlier signatures included.
  const protectedFiles = [...files.keys()].filter(
    (name) => name !== signaturesPath && name !== signaturePath && name !== valuePath,
  );
  const references = protectedFiles.map((name) =>
    el('Reference', { FileRef: '/' + name }, el('CheckValue', {}, sm3(files.get(name)!).toString('base64'))),
  );
  const signatureXml = xmlFile(
    el(
      'Signature',
      {},
      el(
        'SignedInfo',
        {},
        el('Provider', {
          ProviderName: provider.provider?.name ?? 'Sigil',
          Company: provider.provider?.company,
          Version: provider.provider?.version,
        }),
        el('SignatureMethod', {}, t(provider.signatureMethod)),
        el('SignatureDateTime', {}, signatureDateTime(signingTime)),
        el('References', { CheckMethod: 'SM3' }, ...references),
        ...stampElements,
        sealPath ? el('Seal', {}, el('BaseLoc', {}, '/' + sealPath)) : undefined,
      ),
      el('SignedValue', {}, '/' + valuePath),
    ),
  );
  const signedValue = await provider.sign({ data: signatureXml, propertyInfo: '/' + signaturePath, signingTime });
  files.set(signaturePath, signatureXml);
  files.set(valuePath, signedValue);
  files.set(
    signaturesPath,
    addToSignaturesXml(
      pkg.find(signaturesPath) ? pkg.read(signaturesPath) : undefined,
      { id: signatureId, type: provider.type, path: signaturePath },
      nextId,
    ),
  );
  return writePackage(files);
}

export type { OfdPackage };
