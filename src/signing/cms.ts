// CMS SignedData (RFC 5652) as PAdES and RFC 3161 use it, on @peculiar/asn1-cms: one SignerInfo,
// detached content for PDF signatures (ETSI EN 319 122-1 CAdES baseline attributes), attached
// TSTInfo for time-stamp tokens. Reading accepts BER (NSS, Java and Adobe signers write it).
import { createHash } from 'node:crypto';
import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import * as asn1js from 'asn1js';
import {
  Attribute,
  ContentInfo,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignerIdentifier,
  SignerInfo,
} from '@peculiar/asn1-cms';
import { AlgorithmIdentifier, GeneralName, Name } from '@peculiar/asn1-x509';
import {
  AttributeSet,
  BER_LIMITS,
  DerError,
  EssCertIdV2,
  IssuerSerial,
  RawSet,
  RawSignedData,
  SigningCertificate,
  SigningCertificateV2,
  arrayBuffer,
  definiteLengths,
  encode,
  integerValue,
  oidDer,
  octetStringDer,
  parseSignerInfo,
  readOctetString,
  toBuffer,
} from './asn1.js';
import { HASH_OID, NODE_HASH, OID, hashByOid, type HashName } from './oids.js';
import { signatureAlgorithmId, type Signer } from './signer.js';
import { parseCertificate } from './x509.js';

/** One Attribute's DER: `type` with the given values (each already DER). */
export function attribute(type: string, ...values: Buffer[]): Buffer {
  return encode(new Attribute({ attrType: type, attrValues: values.map((v) => arrayBuffer(v)) }));
}

/**
 * ESS signing-certificate-v2 (RFC 5035 §3): binds the signature to the signer's certificate, which
 * ETSI EN 319 122-1 §5.2.2 requires of every CAdES baseline (and so PAdES B-B) signature.
 */
const essCache = new WeakMap<Buffer, Map<HashName, Buffer>>();

export function signingCertificateV2(certificate: Buffer, hash: HashName = 'SHA-256'): Buffer {
  let perHash = essCache.get(certificate);
  if (!perHash) {
    perHash = new Map();
    essCache.set(certificate, perHash);
  }
  let attr = perHash.get(hash);
  if (!attr) {
    attr = buildSigningCertificateV2(certificate, hash);
    perHash.set(hash, attr);
  }
  return attr;
}

function buildSigningCertificateV2(certificate: Buffer, hash: HashName): Buffer {
  const cert = parseCertificate(certificate);
  const id = new EssCertIdV2({
    // hashAlgorithm DEFAULT id-sha256 is left out in DER when it is SHA-256.
    hashAlgorithm: hash === 'SHA-256' ? undefined : new AlgorithmIdentifier({ algorithm: HASH_OID[hash] }),
    certHash: new OctetString(createHash(NODE_HASH[hash]).update(certificate).digest()),
    issuerSerial: new IssuerSerial({
      issuer: [new GeneralName({ directoryName: AsnConvert.parse(cert.issuerDer, Name) })],
      serialNumber: arrayBuffer(cert.serialBytes),
    }),
  });
  return attribute(OID.signingCertificateV2, encode(new SigningCertificateV2({ certs: [id] })));
}

export interface SignedDataInput {
  signer: Signer;
  hash: HashName;
  /** Digest of the content (the PDF byte ranges, or the TSTInfo). */
  digest: Buffer;
  /** eContentType; id-data for PDF signatures, id-ct-TSTInfo for time-stamp tokens. */
  contentType?: string;
  /** Attached content (TSTInfo DER), or none for a detached signature. */
  content?: Buffer;
  /** More signed attributes, each an Attribute's DER. */
  signedAttributes?: Buffer[];
  /** Also put the chain (not only the signer's certificate) in `certificates`. */
  includeChain?: boolean;
  /** Leave the certificates out altogether (RFC 3161 certReq = false). */
  omitCertificates?: boolean;
  /** CRLs to carry in the SignedData `crls` field. */
  crls?: Buffer[];
}

/** The parts of a signed SignerInfo, so unsigned attributes (a time-stamp) can be added afterwards. */
export interface SignedParts {
  input: SignedDataInput;
  /** The DER of the SET OF signed attributes: what was signed. */
  signedAttrs: Buffer;
  signatureAlgorithm: Buffer;
  signature: Buffer;
}

/** The signed attributes, sorted as DER wants a SET OF (X.690 §11.6), and their DER. */
function signedAttributes(input: SignedDataInput): { list: Attribute[]; der: Buffer } {
  const encoded = [
    attribute(OID.contentType, oidDer(input.contentType ?? OID.data)),
    attribute(OID.messageDigest, octetStringDer(input.digest)),
    signingCertificateV2(input.signer.certificate),
    ...(input.signedAttributes ?? []),
  ].sort(Buffer.compare);
  const list = encoded.map((der) => AsnConvert.parse(der, Attribute));
  return { list, der: encode(new AttributeSet(list)) };
}

/** In SignerInfo, PKCS#1 v1.5 is named rsaEncryption, as Adobe, OpenSSL and NSS write it (RFC 5754 §3.2). */
function cmsSignatureAlgorithm(signer: Signer, hash: HashName): Buffer {
  if (signer.algorithm === 'RSASSA-PKCS1-v1_5')
    return encode(new AlgorithmIdentifier({ algorithm: OID.rsaEncryption, parameters: null }));
  return signatureAlgorithmId(signer, hash);
}

/** Signs the attributes (RFC 5652 §5.4: the DER of the SET OF, not the [0] IMPLICIT form). */
export async function signAttributes(input: SignedDataInput): Promise<SignedParts> {
  const signedAttrs = signedAttributes(input).der;
  const signature = await input.signer.sign(signedAttrs, input.hash);
  return { input, signedAttrs, signatureAlgorithm: cmsSignatureAlgorithm(input.signer, input.hash), signature };
}

/** The ContentInfo DER for signed parts, with optional unsigned attributes (each an Attribute's DER). */
export function encodeSignedData(parts: SignedParts, unsignedAttributes: Buffer[] = []): Buffer {
  const { input } = parts;
  const contentType = input.contentType ?? OID.data;
  const cert = parseCertificate(input.signer.certificate);
  const digestAlgorithm = new AlgorithmIdentifier({ algorithm: HASH_OID[input.hash] });
  const certificates = input.omitCertificates
    ? []
    : [input.signer.certificate, ...(input.includeChain === false ? [] : input.signer.chain)];
  const signed = AsnConvert.parse(parts.signedAttrs, AttributeSet);
  const signerInfo = new SignerInfo({
    version: 1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({
        issuer: AsnConvert.parse(cert.issuerDer, Name),
        serialNumber: arrayBuffer(cert.serialBytes),
      }),
    }),
    digestAlgorithm,
    signedAttrs: [...signed],
    signatureAlgorithm: AsnConvert.parse(parts.signatureAlgorithm, AlgorithmIdentifier),
    signature: new OctetString(parts.signature),
    unsignedAttrs: unsignedAttributes.length
      ? unsignedAttributes.sort(Buffer.compare).map((a) => AsnConvert.parse(a, Attribute))
      : undefined,
  });
  const signedData = new RawSignedData({
    // RFC 5652 §5.1: version 3 when the encapsulated content is not id-data.
    version: contentType === OID.data ? 1 : 3,
    digestAlgorithms: new DigestAlgorithmIdentifiers([digestAlgorithm]),
    encapContentInfo: new EncapsulatedContentInfo({
      eContentType: contentType,
      eContent: input.content ? new EncapsulatedContent({ single: new OctetString(input.content) }) : undefined,
    }),
    certificates: certificates.length ? new RawSet(certificates.map((c) => arrayBuffer(c))) : undefined,
    crls: input.crls?.length ? new RawSet(input.crls.map((c) => arrayBuffer(c))) : undefined,
    signerInfos: new RawSet([AsnConvert.serialize(signerInfo)]),
  });
  return encode(new ContentInfo({ contentType: OID.signedData, content: AsnConvert.serialize(signedData) }));
}

/** The size a signature will have without unsigned attributes, for sizing a PDF placeholder. */
const sizeCache = new WeakMap<Buffer, Map<string, number>>();

export function estimateSignedDataSize(input: SignedDataInput, signatureLength: number): number {
  // Constant for a signer, hash and set of extra attributes; cached because it is on every signature's path.
  const key = `${input.hash}:${signatureLength}:${input.digest.length}:${input.includeChain !== false}:${input.contentType ?? ''}:${input.content?.length ?? -1}:${(input.signedAttributes ?? []).map((a) => a.length).join(',')}:${(input.crls ?? []).map((c) => c.length).join(',')}`;
  let perSigner = sizeCache.get(input.signer.certificate);
  if (!perSigner) {
    perSigner = new Map();
    sizeCache.set(input.signer.certificate, perSigner);
  }
  const known = perSigner.get(key);
  if (known !== undefined) return known;
  const dummy: SignedParts = {
    input,
    signedAttrs: signedAttributes(input).der,
    signatureAlgorithm: cmsSignatureAlgorithm(input.signer, input.hash),
    signature: Buffer.alloc(signatureLength),
  };
  const size = encodeSignedData(dummy).length;
  perSigner.set(key, size);
  return size;
}

// ---------------------------------------------------------------- reading

export interface ParsedSignerInfo {
  issuerDer: Buffer | null;
  serial: bigint | null;
  subjectKeyId: Buffer | null;
  digestAlgorithm: HashName | 'SHA-1' | null;
  digestAlgorithmOid: string;
  /** DER of the signed attributes as a SET (what was signed), or null when there are none. */
  signedAttrs: Buffer | null;
  /** Attribute type → the DER of each of its values. */
  signedAttributes: Map<string, Buffer[]>;
  signatureAlgorithm: Buffer;
  signature: Buffer;
  unsignedAttributes: Map<string, Buffer[]>;
}

export interface ParsedSignedData {
  /** The ContentInfo's own encoding, without the zero padding a PDF /Contents carries. */
  der: Buffer;
  contentType: string;
  content: Buffer | null;
  certificates: Buffer[];
  crls: Buffer[];
  signerInfos: ParsedSignerInfo[];
}

/** The largest CMS read: a PDF signature with its chain, CRLs and a time-stamp is tens of KB. */
const MAX_CMS_BYTES = 8 * 1024 * 1024;

function attributesOf(list: Attribute[] | undefined): Map<string, Buffer[]> {
  const map = new Map<string, Buffer[]>();
  for (const attr of list ?? [])
    map.set(
      attr.attrType,
      attr.attrValues.map((v) => toBuffer(v)),
    );
  return map;
}

/**
 * Parses a ContentInfo holding SignedData, DER or BER (indefinite lengths, constructed strings).
 * `input` may carry trailing zero padding (a PDF /Contents); the encoding read is returned as `der`.
 */
export function parseSignedData(input: Buffer, what = 'CMS signature'): ParsedSignedData {
  if (input.length > MAX_CMS_BYTES) throw new DerError(what, `larger than ${MAX_CMS_BYTES} bytes`);
  // asn1js reads the first element and says where it ends; the zeros after it are padding.
  const parsed = asn1js.fromBER(input, BER_LIMITS);
  if (parsed.offset === -1) throw new DerError(what, parsed.result.error || 'not BER');
  let outer: ContentInfo;
  let sd: RawSignedData;
  try {
    outer = AsnParser.fromASN(parsed.result, ContentInfo);
    if (outer.contentType !== OID.signedData) throw new Error('not CMS SignedData');
    sd = AsnConvert.parse(outer.content, RawSignedData, { berOptions: BER_LIMITS });
  } catch (error) {
    throw new DerError(what, error instanceof Error ? error.message : String(error));
  }
  const eContent = sd.encapContentInfo.eContent;
  let content: Buffer | null = null;
  if (eContent?.single) content = toBuffer(eContent.single.buffer);
  else if (eContent?.any) content = readOctetString(toBuffer(eContent.any), what);
  const signerInfos = sd.signerInfos.map((raw): ParsedSignerInfo => {
    const { info: si, signedAttrs } = parseSignerInfo(new Uint8Array(raw), what);
    const byIssuer = si.sid.issuerAndSerialNumber;
    const digestAlgorithmOid = si.digestAlgorithm.algorithm;
    return {
      issuerDer: byIssuer ? encode(byIssuer.issuer) : null,
      serial: byIssuer ? integerValue(new Uint8Array(byIssuer.serialNumber)) : null,
      subjectKeyId: si.sid.subjectKeyIdentifier ? toBuffer(si.sid.subjectKeyIdentifier.buffer) : null,
      digestAlgorithm: hashByOid(digestAlgorithmOid),
      digestAlgorithmOid,
      // Re-tag [0] IMPLICIT as SET OF to get the bytes that were signed (RFC 5652 §5.4), in DER.
      signedAttrs: signedAttrs ? definiteLengths(Buffer.concat([Buffer.from([0x31]), signedAttrs.subarray(1)])) : null,
      signedAttributes: attributesOf(si.signedAttrs),
      signatureAlgorithm: encode(si.signatureAlgorithm),
      signature: toBuffer(si.signature.buffer),
      unsignedAttributes: attributesOf(si.unsignedAttrs),
    };
  });
  return {
    der: input.subarray(0, parsed.offset),
    contentType: sd.encapContentInfo.eContentType,
    content,
    // Only X.509 certificates and CRLs (SEQUENCEs); attribute certificates and other formats are skipped.
    certificates: (sd.certificates ?? []).map((c) => toBuffer(c)).filter((c) => c[0] === 0x30),
    crls: (sd.crls ?? []).map((c) => toBuffer(c)).filter((c) => c[0] === 0x30),
    signerInfos,
  };
}

/** The content of a DER OCTET STRING attribute value (message-digest). */
export function octetStringValue(der: Buffer): Buffer {
  return readOctetString(der, 'attribute');
}

/** Finds the signer's certificate among `pool` by issuer+serial or subject key identifier. */
export function findSignerCertificate(info: ParsedSignerInfo, pool: Buffer[]): Buffer | null {
  for (const der of pool) {
    try {
      const cert = parseCertificate(der);
      if (
        info.issuerDer &&
        info.serial !== null &&
        cert.serial === info.serial &&
        cert.issuerDer.equals(info.issuerDer)
      )
        return der;
      if (info.subjectKeyId && cert.subjectKeyId?.equals(info.subjectKeyId)) return der;
    } catch {
      // An unreadable certificate in the bag cannot be the signer's.
    }
  }
  return null;
}

/** Checks the ESS signing-certificate(-v2) attribute against the certificate that verified the signature. */
export function checkSigningCertificateAttribute(
  info: ParsedSignerInfo,
  certificate: Buffer,
): 'ok' | 'missing' | 'mismatch' {
  const v2 = info.signedAttributes.get(OID.signingCertificateV2)?.[0];
  const v1 = info.signedAttributes.get(OID.signingCertificate)?.[0];
  if (!v2 && !v1) return 'missing';
  try {
    let hash: string;
    let expected: Buffer;
    if (v2) {
      const first = AsnConvert.parse(v2, SigningCertificateV2).certs[0];
      if (!first) return 'mismatch';
      const h = first.hashAlgorithm ? hashByOid(first.hashAlgorithm.algorithm) : 'SHA-256';
      if (!h) return 'mismatch';
      hash = h === 'SHA-1' ? 'sha1' : NODE_HASH[h];
      expected = toBuffer(first.certHash.buffer);
    } else {
      const first = AsnConvert.parse(v1!, SigningCertificate).certs[0];
      if (!first) return 'mismatch';
      hash = 'sha1';
      expected = toBuffer(first.certHash.buffer);
    }
    return createHash(hash).update(certificate).digest().equals(expected) ? 'ok' : 'mismatch';
  } catch {
    return 'mismatch';
  }
}
