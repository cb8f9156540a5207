// Electronic seals (电子印章): GB/T 38540-2020 SESeal ("v4") made by the group's CA as seal maker
// (制章者), and read in all three generations — GM/T 0031-2014 ("v1"), v4 and GM/T 0031-2025 ("v5")
// — telling them apart by structure as the standards' own parsers do (two elements: v1; four or
// five: v4 or v5 by the header's version). Verification follows GB/T 38540 §6.3: format, the
// maker's signature over SES_SealInfo, the maker's certificate, the seal's validity period.
import { randomBytes } from 'node:crypto';
import { AsnConvert, BitString, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Time } from '@peculiar/asn1-x509';
import { DerError, Memo, RawElement, encode, oidDer, toBuffer } from '../asn1.js';
import { SigningError } from '../errors.js';
import { OID } from '../oids.js';
import { validatePath } from '../path-validation.js';
import type { Signer } from '../signer.js';
import { sm3 } from '../sm2.js';
import { childrenOf, readTlv, wrap } from '../tlv.js';
import { checkTimestampToken } from '../tsa.js';
import { parseCertificate, parseCrl, sha256, verifySignature, type Certificate } from '../x509.js';
import {
  CertDigestList,
  CertDigestObj,
  CertInfoList,
  ExtData,
  ExtensionDatas,
  PictureInfo,
  PropertyInfoV4,
  SealInfoV4,
  SealV1,
  SealV4,
  SesHeader,
  type PictureInfo as PictureInfoType,
} from './ses-asn1.js';

/** What a seal may hold; a file beyond these is refused before anything else is read. */
export const SEAL_LIMITS = {
  maxBytes: 4 * 1024 * 1024,
  maxPictureBytes: 2 * 1024 * 1024,
  maxCertificates: 64,
  maxCertificateBytes: 16 * 1024,
  maxExtensions: 32,
  maxExtensionBytes: 64 * 1024,
  maxText: 256,
  /** A seal impression larger than 50 cm is no seal. */
  maxSizeMm: 500,
} as const;

export type SealVersion = 1 | 4 | 5;

/** Picture types the standards name (GIF, BMP, JPG, PNG, SVG) and OFD, lower-cased. */
export type SealPictureType = 'png' | 'svg' | 'jpg' | 'gif' | 'bmp' | 'ofd';
const PICTURE_TYPES = new Set<string>(['png', 'svg', 'jpg', 'gif', 'bmp', 'ofd']);

export interface SealPicture {
  type: string;
  data: Buffer;
  widthMm: number;
  heightMm: number;
}

export interface SealExtension {
  id: string;
  critical: boolean;
  value: Buffer;
}

export interface CertDigest {
  /** As written (ObjType): e.g. "SM3", or an OID. */
  algorithm: string;
  value: Buffer;
}

export interface DecodedSeal {
  version: SealVersion;
  /** SES_Header.version as written (v1 seals carry 1 or 2 in the wild). */
  headerVersion: number;
  /** SES_Header.Vid: the seal system's vendor. */
  vendorId: string;
  /** esID: the seal's unique identifier. */
  id: string;
  /** 印章类型 (v1: 1 unit, 2 personal; later "as the business needs"). */
  type: number;
  name: string;
  /** How the allowed signers are listed: their certificates, or digests of them (v4/v5 only). */
  certListType: 'certificates' | 'digests';
  certs: Buffer[];
  certDigests: CertDigest[];
  createDate: Date;
  validStart: Date;
  validEnd: Date;
  picture: SealPicture;
  extensions: SealExtension[];
  /** The seal maker's certificate (制章者证书), DER. */
  maker: Buffer;
  /** The maker's signature algorithm (OID), normally SM2-with-SM3. */
  signatureAlgorithm: string;
  signature: Buffer;
  /** v5: the time-stamp token over the signature value, DER. */
  timeStamp: Buffer | null;
  /**
   * What the maker signed: v4/v5 the DER of SES_SealInfo; v1 SEQUENCE { SES_SealInfo, cert,
   * signatureAlgorithm } (GM/T 0031-2014 §6.1.1, as ofdrw's v1 seals are signed too).
   */
  signedData: Buffer;
  der: Buffer;
}

const malformed = (detail: string) => new SigningError('seal_malformed', `The electronic seal ${detail}.`);

/**
 * Decoded seals by content. A seal signs many documents and rides inside every signature made
 * with it, and decoding one through asn1js costs about 2 ms: more than the SM2 signature itself.
 * The result is a pure function of the bytes; callers must not change the buffers it holds.
 */
const decodedSeals = new Memo<DecodedSeal>(256);

/** Reads an SESeal of any of the three generations, bounded; refuses what it cannot name. */
export function decodeSeal(der: Uint8Array): DecodedSeal {
  const bytes = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  if (bytes.length > SEAL_LIMITS.maxBytes) throw malformed(`is larger than ${SEAL_LIMITS.maxBytes} bytes`);
  return decodedSeals.get(sha256(bytes).toString('base64'), () => decodeUncached(Buffer.from(bytes)));
}

function decodeUncached(bytes: Buffer): DecodedSeal {
  let count: number;
  try {
    const top = readTlv(bytes, 0, bytes.length, 'SESeal');
    if (top.tag !== 0x30) throw new DerError('SESeal', 'not a SEQUENCE');
    if (top.next !== bytes.length) throw new DerError('SESeal', 'bytes follow the seal');
    count = childrenOf(bytes, top, 'SESeal').length;
  } catch (error) {
    throw malformed(`is not DER (${error instanceof Error ? error.message : String(error)})`);
  }
  if (count === 2) return decodeV1(bytes);
  if (count === 4 || count === 5) return decodeV4(bytes, count);
  throw malformed(`has ${count} elements; SESeal has 2 (GM/T 0031-2014), 4 (GB/T 38540) or 5 (GM/T 0031-2025)`);
}

function parse<T>(bytes: Buffer, type: new () => T, what: string): T {
  try {
    return AsnConvert.parse(bytes, type, {
      berOptions: { maxDepth: 32, maxNodes: 100_000, maxContentLength: SEAL_LIMITS.maxBytes },
    });
  } catch (error) {
    throw malformed(`is not a readable ${what} (${error instanceof Error ? error.message : String(error)})`);
  }
}

function decodeV4(bytes: Buffer, count: number): DecodedSeal {
  const seal = parse(bytes, SealV4, 'SESeal (GB/T 38540)');
  const info = seal.eSealInfo;
  const headerVersion = checkHeader(info.header);
  if (headerVersion !== 4 && headerVersion !== 5)
    throw malformed(`has the GB/T 38540 structure but header version ${headerVersion}; only 4 and 5 have it`);
  // ofdrw writes v5 seals without a time-stamp as four elements; the header tells them apart.
  const version: SealVersion = headerVersion === 5 ? 5 : 4;
  if (count === 5 && version !== 5) throw malformed('carries a time-stamp, which only version 5 seals have');
  if (!seal.eSealInfoRaw) throw malformed('lost the bytes of its SES_SealInfo');
  const property = info.property;
  let certs: Buffer[] = [];
  let certDigests: CertDigest[] = [];
  const listBytes = toBuffer(property.certList.bytes);
  if (property.certListType === 1) certs = readCertList(parse(listBytes, CertInfoList, 'certificate list'));
  else if (property.certListType === 2) {
    const list = parse(listBytes, CertDigestList, 'certificate digest list');
    if (list.length === 0 || list.length > SEAL_LIMITS.maxCertificates)
      throw malformed(`lists ${list.length} certificate digests (1 to ${SEAL_LIMITS.maxCertificates})`);
    certDigests = list.map((d) => ({ algorithm: text(d.type, 'digest type', 64), value: toBuffer(d.value.buffer) }));
  } else throw malformed(`has certListType ${property.certListType}; 1 (certificates) or 2 (digests) are defined`);
  return {
    version,
    headerVersion,
    vendorId: text(info.header.vid, 'vendor id'),
    id: text(info.esID, 'esID'),
    type: smallInteger(property.type, 'type'),
    name: text(property.name, 'name'),
    certListType: property.certListType === 1 ? 'certificates' : 'digests',
    certs,
    certDigests,
    createDate: timeOf(property.createDate, 'createDate'),
    validStart: timeOf(property.validStart, 'validStart'),
    validEnd: timeOf(property.validEnd, 'validEnd'),
    picture: pictureOf(info.picture),
    extensions: extensionsOf(info.extDatas),
    maker: certificateBytes(toBuffer(seal.cert.buffer), 'the maker certificate'),
    signatureAlgorithm: seal.signAlgID,
    signature: bitString(seal.signedValue, 'signedValue'),
    timeStamp: seal.timeStamp ? bitString(seal.timeStamp, 'timeStamp') : null,
    signedData: toBuffer(seal.eSealInfoRaw),
    der: bytes,
  };
}

function decodeV1(bytes: Buffer): DecodedSeal {
  const seal = parse(bytes, SealV1, 'SESeal (GM/T 0031-2014)');
  const info = seal.esealInfo;
  const headerVersion = checkHeader(info.header);
  // GM/T 0031-2014 fixes no number; producers write 1 (ofdrw) or 2 (verifiers call it "SESv2").
  if (headerVersion !== 1 && headerVersion !== 2 && headerVersion !== 3)
    throw malformed(`has the GM/T 0031-2014 structure but header version ${headerVersion}`);
  if (!info || !seal.esealInfoRaw) throw malformed('lost the bytes of its SES_SealInfo');
  const sealInfo = toBuffer(seal.esealInfoRaw);
  const sign = seal.signInfo;
  const makerCert = certificateBytes(toBuffer(sign.cert.buffer), 'the maker certificate');
  // §6.1.1: the maker signs SEQUENCE { SES_SealInfo, cert OCTET STRING, signatureAlgorithm OID }.
  const standardSigned = wrap(0x30, [sealInfo, encode(new OctetString(makerCert)), oidDer(sign.signatureAlgorithm)]);
  const property = info.property;
  return {
    version: 1,
    headerVersion,
    vendorId: text(info.header.vid, 'vendor id'),
    id: text(info.esID, 'esID'),
    type: smallInteger(property.type, 'type'),
    name: text(property.name, 'name'),
    certListType: 'certificates',
    certs: readCertList(property.certList),
    certDigests: [],
    createDate: timeOf(property.createDate, 'createDate'),
    validStart: timeOf(property.validStart, 'validStart'),
    validEnd: timeOf(property.validEnd, 'validEnd'),
    picture: pictureOf(info.picture),
    extensions: extensionsOf(info.extDatas ?? info.extDatasTagged),
    maker: makerCert,
    signatureAlgorithm: sign.signatureAlgorithm,
    signature: bitString(sign.signData, 'signData'),
    timeStamp: null,
    signedData: standardSigned,
    der: bytes,
  };
}

function checkHeader(header: SesHeader): number {
  if (header.id !== 'ES') throw malformed(`header ID is "${header.id.slice(0, 16)}", not "ES"`);
  return smallInteger(header.version, 'header version');
}

function smallInteger(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > 1_000_000) throw malformed(`${field} is out of range`);
  return value;
}

function text(value: string, field: string, limit: number = SEAL_LIMITS.maxText): string {
  if (value.length > limit) throw malformed(`${field} is longer than ${limit} characters`);
  // A NUL or control character in a name is a trick, never a seal's name.
  if (/[\u0000-\u001f\u007f]/.test(value)) throw malformed(`${field} contains control characters`);
  return value;
}

function timeOf(time: Time, field: string): Date {
  let date: Date;
  try {
    date = time.getTime();
  } catch {
    throw malformed(`${field} is not a time`);
  }
  if (Number.isNaN(date.getTime())) throw malformed(`${field} is not a valid time`);
  return date;
}

function bitString(value: BitString, field: string): Buffer {
  if (value.unusedBits !== 0) throw malformed(`${field} is not a whole number of bytes`);
  return toBuffer(value.value);
}

function certificateBytes(der: Buffer, what: string): Buffer {
  if (der.length === 0 || der.length > SEAL_LIMITS.maxCertificateBytes)
    throw malformed(`carries ${what} of ${der.length} bytes`);
  return der;
}

function readCertList(list: CertInfoList): Buffer[] {
  if (list.length === 0 || list.length > SEAL_LIMITS.maxCertificates)
    throw malformed(`lists ${list.length} signer certificates (1 to ${SEAL_LIMITS.maxCertificates})`);
  return list.map((c) => certificateBytes(toBuffer(c.buffer), 'a signer certificate'));
}

function pictureOf(picture: PictureInfoType): SealPicture {
  const data = toBuffer(picture.data.buffer);
  if (data.length === 0 || data.length > SEAL_LIMITS.maxPictureBytes)
    throw malformed(`picture has ${data.length} bytes (1 to ${SEAL_LIMITS.maxPictureBytes})`);
  const mm = (value: number, field: string) => {
    if (!Number.isSafeInteger(value) || value < 1 || value > SEAL_LIMITS.maxSizeMm)
      throw malformed(`picture ${field} is ${value} mm (1 to ${SEAL_LIMITS.maxSizeMm})`);
    return value;
  };
  return {
    type: text(picture.type, 'picture type', 16).toLowerCase(),
    data,
    widthMm: mm(picture.width, 'width'),
    heightMm: mm(picture.height, 'height'),
  };
}

function extensionsOf(list: ExtensionDatas | undefined): SealExtension[] {
  if (!list) return [];
  if (list.length > SEAL_LIMITS.maxExtensions) throw malformed(`has more than ${SEAL_LIMITS.maxExtensions} extensions`);
  return list.map((e) => {
    const value = toBuffer(e.extnValue.buffer);
    if (value.length > SEAL_LIMITS.maxExtensionBytes) throw malformed(`extension ${e.extnID} is too large`);
    return { id: e.extnID, critical: e.critical, value };
  });
}

// ---------------------------------------------------------------- issuing

export interface IssueSealInput {
  /** The seal maker (制章者): the group's CA, an SM2 signer with its certificate. */
  maker: Signer;
  /** esID; a random 32-hex-digit identifier when absent. */
  id?: string;
  /** 印章类型, as the business needs (GB/T 38540 leaves the numbering to it). */
  type: number;
  /** The seal's name, as registered (e.g. "××公司合同专用章"). */
  name: string;
  /** Who may use the seal: their certificates, listed whole (certListType 1) or as SM3 digests (2). */
  signers: Buffer[];
  listAs?: 'certificates' | 'digests';
  validStart: Date;
  validEnd: Date;
  createDate?: Date;
  picture: { type: SealPictureType; data: Buffer; widthMm: number; heightMm: number };
  /** SES_Header.Vid. */
  vendorId?: string;
  extensions?: SealExtension[];
}

/**
 * Issues a GB/T 38540 (v4) seal, signed by the maker over DER(SES_SealInfo) with SM2-with-SM3,
 * and returns the `.esl` bytes. The maker's certificate must be in force when the seal is made
 * (§6.2: the maker's certificate is checked before the seal is signed).
 */
export async function issueSealFile(input: IssueSealInput): Promise<Buffer> {
  if (input.maker.keyType !== 'SM2')
    throw new SigningError('signing_key_invalid', 'A GB/T 38540 seal is signed by an SM2 seal maker.');
  const createDate = wholeSeconds(input.createDate ?? new Date());
  const validStart = wholeSeconds(input.validStart);
  const validEnd = wholeSeconds(input.validEnd);
  const invalid = (message: string) => new SigningError('validation_failed', message);
  const maker = parseCertificate(input.maker.certificate);
  if (createDate < maker.notBefore || createDate > maker.notAfter)
    throw new SigningError('certificate_expired', `The seal maker's certificate (${maker.subject}) is not valid now.`);
  if (!(validStart < validEnd)) throw invalid('The seal must start being valid before it ends.');
  if (validEnd > maker.notAfter) throw invalid("A seal cannot outlive its maker's certificate.");
  if (!input.name.trim() || input.name.length > SEAL_LIMITS.maxText)
    throw invalid(`The seal needs a name of 1 to ${SEAL_LIMITS.maxText} characters.`);
  if (!Number.isSafeInteger(input.type) || input.type < 0 || input.type > 1_000_000)
    throw invalid('The seal type is a small non-negative integer.');
  if (input.signers.length === 0 || input.signers.length > SEAL_LIMITS.maxCertificates)
    throw invalid(`A seal lists 1 to ${SEAL_LIMITS.maxCertificates} signer certificates.`);
  for (const der of input.signers) parseCertificate(der);
  checkPicture(input.picture);
  const id = input.id ?? randomBytes(16).toString('hex');
  if (!/^[\x20-\x7e]{1,64}$/.test(id)) throw invalid('esID is 1 to 64 printable ASCII characters.');
  const vendorId = input.vendorId ?? 'Sigil';
  if (!/^[\x20-\x7e]{1,64}$/.test(vendorId)) throw invalid('Vid is 1 to 64 printable ASCII characters.');
  const listAs = input.listAs ?? 'certificates';
  const certList =
    listAs === 'certificates'
      ? encode(new CertInfoList(input.signers.map((c) => new OctetString(c))))
      : encode(
          new CertDigestList(
            input.signers.map((c) => new CertDigestObj({ type: 'SM3', value: new OctetString(sm3(c)) })),
          ),
        );
  const extensions = input.extensions ?? [];
  if (extensions.length > SEAL_LIMITS.maxExtensions) throw invalid('Too many seal extensions.');
  const sealInfo = new SealInfoV4({
    header: new SesHeader({ id: 'ES', version: 4, vid: vendorId }),
    esID: id,
    property: new PropertyInfoV4({
      type: input.type,
      name: input.name,
      certListType: listAs === 'certificates' ? 1 : 2,
      certList: new RawElement(certList),
      createDate: new Time({ generalTime: createDate }),
      validStart: new Time({ generalTime: validStart }),
      validEnd: new Time({ generalTime: validEnd }),
    }),
    picture: new PictureInfo({
      type: input.picture.type.toUpperCase(),
      data: new OctetString(input.picture.data),
      width: input.picture.widthMm,
      height: input.picture.heightMm,
    }),
    extDatas: extensions.length
      ? new ExtensionDatas(
          extensions.map(
            (e) => new ExtData({ extnID: e.id, critical: e.critical, extnValue: new OctetString(e.value) }),
          ),
        )
      : undefined,
  });
  const sealInfoDer = encode(sealInfo);
  const signature = await input.maker.sign(sealInfoDer, 'SM3');
  // The seal is assembled around the exact bytes signed.
  const der = wrap(0x30, [
    sealInfoDer,
    encode(new OctetString(input.maker.certificate)),
    oidDer(OID.sm2WithSm3),
    encode(new BitString(signature)),
  ]);
  if (der.length > SEAL_LIMITS.maxBytes) throw invalid(`The seal would be larger than ${SEAL_LIMITS.maxBytes} bytes.`);
  return der;
}

function wholeSeconds(date: Date): Date {
  const copy = new Date(date.getTime());
  copy.setUTCMilliseconds(0);
  return copy;
}

function checkPicture(picture: IssueSealInput['picture']): void {
  const invalid = (message: string) => new SigningError('image_invalid', message);
  if (!PICTURE_TYPES.has(picture.type))
    throw invalid(`Seal pictures are PNG, SVG, JPG, GIF, BMP or OFD, not ${picture.type}.`);
  if (picture.data.length === 0 || picture.data.length > SEAL_LIMITS.maxPictureBytes)
    throw invalid(`The seal picture has ${picture.data.length} bytes (1 to ${SEAL_LIMITS.maxPictureBytes}).`);
  const magic: Partial<Record<SealPictureType, (b: Buffer) => boolean>> = {
    png: (b) => b.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex')),
    jpg: (b) => b[0] === 0xff && b[1] === 0xd8,
    gif: (b) => b.subarray(0, 3).toString('latin1') === 'GIF',
    bmp: (b) => b.subarray(0, 2).toString('latin1') === 'BM',
    svg: (b) => /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/.test(b.subarray(0, 4096).toString('utf8')),
    ofd: (b) => b[0] === 0x50 && b[1] === 0x4b,
  };
  if (!magic[picture.type]!(picture.data))
    throw invalid(`The seal picture is not a ${picture.type.toUpperCase()} file.`);
  for (const [field, value] of [
    ['width', picture.widthMm],
    ['height', picture.heightMm],
  ] as const)
    if (!Number.isSafeInteger(value) || value < 1 || value > SEAL_LIMITS.maxSizeMm)
      throw invalid(`The seal's ${field} is a whole number of millimetres from 1 to ${SEAL_LIMITS.maxSizeMm}.`);
}

// ---------------------------------------------------------------- verifying

export interface SealCheckOptions {
  /** The time the seal must be valid at: the signing time for a seal inside a signature; now by default. */
  at?: Date;
  /** Roots to validate the maker's certificate against (RFC 5280); without them the chain is not checked. */
  trustAnchors?: Buffer[];
  /** Intermediate CA certificates for the maker's path. */
  intermediates?: Buffer[];
  /** CRLs for the maker's path. */
  crls?: Buffer[];
}

export interface SealVerdict {
  /** Every check below holds (and, when trust anchors were given, the maker's chain is trusted). */
  valid: boolean;
  seal: DecodedSeal | null;
  /** Why the seal fails, in words a person can act on. */
  problems: string[];
  /** What a reader should know but does not fail the seal (GB/T 38540 §7.3 d) 2) "提示信息"). */
  notices: string[];
  checks: {
    structure: boolean;
    makerSignature: boolean;
    /** `at` lies within validStart … validEnd. */
    validity: boolean;
    /** The maker's certificate was in force when the seal was made, and may sign. */
    makerCertificate: boolean;
    chain: 'trusted' | 'untrusted' | 'not-checked';
    timeStamp: 'valid' | 'invalid' | 'absent';
  };
  /** What the maker's signature covers, once it verified. */
  signedOver: 'seal-info' | 'seal-info-cert-algorithm' | null;
  at: Date;
}

/** Verifies a seal (GB/T 38540 §6.3). Never throws on bad input: the verdict names what failed. */
export function verifySeal(der: Uint8Array, options: SealCheckOptions = {}): SealVerdict {
  const at = options.at ?? new Date();
  const verdict: SealVerdict = {
    valid: false,
    seal: null,
    problems: [],
    notices: [],
    checks: {
      structure: false,
      makerSignature: false,
      validity: false,
      makerCertificate: false,
      chain: 'not-checked',
      timeStamp: 'absent',
    },
    signedOver: null,
    at,
  };
  let seal: DecodedSeal;
  try {
    seal = decodeSeal(der);
  } catch (error) {
    verdict.problems.push(error instanceof Error ? error.message : String(error));
    return verdict;
  }
  verdict.seal = seal;
  verdict.checks.structure = true;
  checkSealInto(seal, options, verdict);
  verdict.valid =
    verdict.problems.length === 0 &&
    verdict.checks.makerSignature &&
    verdict.checks.validity &&
    verdict.checks.makerCertificate &&
    verdict.checks.chain !== 'untrusted' &&
    verdict.checks.timeStamp !== 'invalid';
  return verdict;
}

/** Whether a seal's maker signature verifies, by the seal's content. */
const makerSignatures = new Memo<boolean>(1_000);

/** The checks of §6.3 on a decoded seal, written into `verdict` (shared with the signature verifier). */
export function checkSealInto(seal: DecodedSeal, options: SealCheckOptions, verdict: SealVerdict): void {
  const at = options.at ?? new Date();
  const problems = verdict.problems;
  // b) the maker's signature, with the maker certificate's key.
  let maker: Certificate | null = null;
  try {
    maker = parseCertificate(seal.maker);
  } catch (error) {
    problems.push(`the seal maker's certificate cannot be read (${error instanceof Error ? error.message : ''})`);
  }
  if (maker) {
    const algorithm = encode(new AlgorithmIdentifier({ algorithm: seal.signatureAlgorithm }));
    // The answer depends only on the seal's bytes (which hold the maker's certificate too).
    const signed = makerSignatures.get(sha256(seal.der).toString('base64'), () =>
      verifySignature(maker!.spki, algorithm, seal.signedData, seal.signature),
    );
    if (signed) {
      verdict.checks.makerSignature = true;
      verdict.signedOver = seal.version === 1 ? 'seal-info-cert-algorithm' : 'seal-info';
    } else
      problems.push(
        seal.signatureAlgorithm === OID.sm2WithSm3
          ? `the seal maker's signature does not verify with the key of "${maker.subject}": the seal was changed or not made by it`
          : `the seal is signed with ${seal.signatureAlgorithm}, which this verifier does not accept for seals, or the signature does not verify`,
      );
    // c) the maker's certificate: in force when the seal was made, allowed to sign.
    const madeAt = seal.createDate;
    const inForce = (t: Date) => t >= maker!.notBefore && t <= maker!.notAfter;
    const signs = !maker.keyUsage || maker.keyUsage.includes(0) || maker.keyUsage.includes(1);
    if (!inForce(madeAt))
      problems.push(
        `the seal maker's certificate was not valid when the seal was made (${madeAt.toISOString()}; valid ${maker.notBefore.toISOString()} to ${maker.notAfter.toISOString()})`,
      );
    else if (!signs) problems.push("the seal maker's certificate may not sign (key usage)");
    else verdict.checks.makerCertificate = true;
    if (verdict.checks.makerCertificate && !inForce(at))
      verdict.notices.push(
        `the seal maker's certificate is not valid at ${at.toISOString()} (it was when the seal was made)`,
      );
    if (options.trustAnchors?.length) {
      const result = validatePath({
        leaf: maker,
        pool: (options.intermediates ?? []).map((c) => parseCertificate(c)),
        anchors: options.trustAnchors.map((c) => parseCertificate(c)),
        at: madeAt,
        purpose: 'document-signing',
        crls: (options.crls ?? []).map((c) => parseCrl(c)),
      });
      verdict.checks.chain = result.valid ? 'trusted' : 'untrusted';
      for (const p of result.problems) problems.push(`seal maker's chain: ${p}`);
    }
  }
  // d) the seal's own validity period, at the time that counts.
  if (seal.validStart > seal.validEnd) problems.push('the seal ends before it starts (validStart after validEnd)');
  else if (at < seal.validStart || at > seal.validEnd)
    problems.push(
      `the seal is not valid at ${at.toISOString()} (valid ${seal.validStart.toISOString()} to ${seal.validEnd.toISOString()})`,
    );
  else verdict.checks.validity = true;
  // v5: the time-stamp over the maker's signature, not earlier than the seal's creation.
  if (seal.timeStamp) {
    const check = checkTimestampToken(seal.timeStamp, { data: [seal.signature] });
    if (!check.ok) {
      verdict.checks.timeStamp = 'invalid';
      for (const p of check.problems) problems.push(`seal time-stamp: ${p}`);
    } else if (check.genTime && check.genTime < seal.createDate) {
      verdict.checks.timeStamp = 'invalid';
      problems.push('the seal claims to be made after its own time-stamp (createDate later than the time-stamp)');
    } else verdict.checks.timeStamp = 'valid';
  }
  for (const e of seal.extensions)
    if (e.critical) problems.push(`the seal has a critical extension this verifier does not know (${e.id})`);
}

/** Whether `certificate` is on the seal's list of allowed signers (byte-equal, or its digest listed). */
export function isListedSigner(seal: DecodedSeal, certificate: Buffer): boolean {
  if (seal.certListType === 'certificates') return seal.certs.some((c) => c.equals(certificate));
  return seal.certDigests.some((d) => {
    const digest = digestFor(d.algorithm, certificate);
    return digest !== null && digest.equals(d.value);
  });
}

function digestFor(algorithm: string, data: Buffer): Buffer | null {
  const name = algorithm
    .trim()
    .toLowerCase()
    .replace(/[-_\s]/g, '');
  if (name === 'sm3' || name === OID.sm3) return sm3(data);
  if (name === 'sha256' || name === OID.sha256) return sha256(data);
  return null;
}
