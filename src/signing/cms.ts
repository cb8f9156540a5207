// CMS SignedData (RFC 5652) as PAdES and RFC 3161 use it, on @peculiar/asn1-cms: one SignerInfo,
// detached content for PDF signatures (ETSI EN 319 122-1 CAdES baseline attributes), attached
// TSTInfo for time-stamp tokens. Reading accepts BER (NSS, Java and Adobe signers write it).
import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  DigestAlgorithmIdentifiers,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignerIdentifier,
} from '@peculiar/asn1-cms';
import { AlgorithmIdentifier, GeneralName, Name } from '@peculiar/asn1-x509';
import {
  DerError,
  EssCertIdV2,
  Memo,
  integerDer,
  IssuerSerial,
  SigningCertificate,
  SigningCertificateV2,
  arrayBuffer,
  definiteLengths,
  encode,
  integerValue,
  oidDer,
  parseAs,
  readOctetString,
  readOid,
  toBuffer,
} from './asn1.js';
import { DIGEST_OID, NODE_DIGEST, OID, digestByOid, type SignatureHash } from './oids.js';
import { signatureAlgorithmId, type Signer } from './signer.js';
import { bytesOf, childrenOf, derSetOf, readTlv, wrap, type Tlv } from './tlv.js';
import { parseCertificate } from './x509.js';

/** One Attribute's DER: `type` with the given values (each already DER). */
export function attribute(type: string, ...values: Buffer[]): Buffer {
  // Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }
  return wrap(0x30, [oidOf(type), derSetOf(values)]);
}

const oidOf = (oid: string): Buffer => encodedOids.get(oid, () => oidDer(oid));
const encodedOids = new Memo<Buffer>();

/**
 * The [n] IMPLICIT form of a SET (SignerInfo's signed [0] and unsigned [1] attributes): the same
 * length and content under a context tag, which is all IMPLICIT changes (X.690 §8.14.3).
 */
const implicitSet = (set: Buffer, n: number): Buffer => Buffer.concat([Buffer.from([0xa0 | n]), set.subarray(1)]);

const contentTypeAttributes = new Map<string, Buffer>();

/**
 * ESS signing-certificate-v2 (RFC 5035 §3): binds the signature to the signer's certificate, which
 * ETSI EN 319 122-1 §5.2.2 requires of every CAdES baseline (and so PAdES B-B) signature.
 */
const essCache = new WeakMap<Buffer, Map<SignatureHash, Buffer>>();

export function signingCertificateV2(certificate: Buffer, hash: SignatureHash = 'SHA-256'): Buffer {
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

function buildSigningCertificateV2(certificate: Buffer, hash: SignatureHash): Buffer {
  const cert = parseCertificate(certificate);
  const id = new EssCertIdV2({
    // hashAlgorithm DEFAULT id-sha256 is left out in DER when it is SHA-256.
    hashAlgorithm: hash === 'SHA-256' ? undefined : new AlgorithmIdentifier({ algorithm: DIGEST_OID[hash] }),
    certHash: new OctetString(createHash(NODE_DIGEST[hash]).update(certificate).digest()),
    issuerSerial: new IssuerSerial({
      issuer: [new GeneralName({ directoryName: AsnConvert.parse(cert.issuerDer, Name) })],
      serialNumber: arrayBuffer(cert.serialBytes),
    }),
  });
  return attribute(OID.signingCertificateV2, encode(new SigningCertificateV2({ certs: [id] })));
}

export interface SignedDataInput {
  signer: Signer;
  /** SM3 for an SM2 signer (the national-cryptography profile), SHA-2 for the others. */
  hash: SignatureHash;
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

/** The DER of the SET OF signed attributes, sorted as DER wants a SET OF (X.690 §11.6). */
function signedAttributes(input: SignedDataInput): Buffer {
  const contentType = input.contentType ?? OID.data;
  let typeAttribute = contentTypeAttributes.get(contentType);
  if (!typeAttribute) {
    typeAttribute = attribute(OID.contentType, oidDer(contentType));
    contentTypeAttributes.set(contentType, typeAttribute);
  }
  return derSetOf([
    typeAttribute,
    attribute(OID.messageDigest, wrap(0x04, [input.digest])),
    // ESSCertIDv2 hashes with SM3 beside an SM3 digest (a national-cryptography signature uses no SHA-2 at all).
    signingCertificateV2(input.signer.certificate, input.hash === 'SM3' ? 'SM3' : 'SHA-256'),
    ...(input.signedAttributes ?? []),
  ]);
}

/** IssuerAndSerialNumber of the signer's certificate, encoded once per certificate. */
const sidCache = new WeakMap<Buffer, Buffer>();

function signerIdentifier(certificate: Buffer): Buffer {
  let sid = sidCache.get(certificate);
  if (!sid) {
    const cert = parseCertificate(certificate);
    sid = encode(
      new SignerIdentifier({
        issuerAndSerialNumber: new IssuerAndSerialNumber({
          issuer: AsnConvert.parse(cert.issuerDer, Name),
          serialNumber: arrayBuffer(cert.serialBytes),
        }),
      }),
    );
    sidCache.set(certificate, sid);
  }
  return sid;
}

/** In SignerInfo, PKCS#1 v1.5 is named rsaEncryption, as Adobe, OpenSSL and NSS write it (RFC 5754 §3.2). */
const RSA_ENCRYPTION = encode(new AlgorithmIdentifier({ algorithm: OID.rsaEncryption, parameters: null }));

function cmsSignatureAlgorithm(signer: Signer, hash: SignatureHash): Buffer {
  if (signer.algorithm === 'RSASSA-PKCS1-v1_5') return RSA_ENCRYPTION;
  return signatureAlgorithmId(signer, hash);
}

/** Signs the attributes (RFC 5652 §5.4: the DER of the SET OF, not the [0] IMPLICIT form). */
export async function signAttributes(input: SignedDataInput): Promise<SignedParts> {
  const signedAttrs = signedAttributes(input);
  const signature = await input.signer.sign(signedAttrs, input.hash);
  return { input, signedAttrs, signatureAlgorithm: cmsSignatureAlgorithm(input.signer, input.hash), signature };
}

/** The ContentInfo DER for signed parts, with optional unsigned attributes (each an Attribute's DER). */
export function encodeSignedData(parts: SignedParts, unsignedAttributes: Buffer[] = []): Buffer {
  const { input } = parts;
  const contentType = input.contentType ?? OID.data;
  const digest = digestAlgorithmOf(input.hash);
  // SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm,
  //   signature OCTET STRING, [1] unsignedAttrs OPTIONAL } (RFC 5652 §5.3)
  const signerInfo = wrap(0x30, [
    VERSION_1,
    signerIdentifier(input.signer.certificate),
    digest.single,
    implicitSet(parts.signedAttrs, 0),
    parts.signatureAlgorithm,
    wrap(0x04, [parts.signature]),
    ...(unsignedAttributes.length ? [implicitSet(derSetOf(unsignedAttributes), 1)] : []),
  ]);
  // EncapsulatedContentInfo ::= SEQUENCE { eContentType, [0] EXPLICIT eContent OCTET STRING OPTIONAL }
  const encap = wrap(0x30, [oidOf(contentType), ...(input.content ? [wrap(0xa0, [wrap(0x04, [input.content])])] : [])]);
  // SignedData (RFC 5652 §5.1): version 3 when the encapsulated content is not id-data.
  const certificates = certificateSet(input);
  const signedData = wrap(0x30, [
    contentType === OID.data ? VERSION_1 : VERSION_3,
    digest.set,
    encap,
    ...(certificates ? [certificates] : []),
    ...(input.crls?.length ? [implicitSet(derSetOf(input.crls), 1)] : []),
    derSetOf([signerInfo]),
  ]);
  // ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT content }
  return wrap(0x30, [oidOf(OID.signedData), wrap(0xa0, [signedData])]);
}

const VERSION_1 = integerDer(1);
const VERSION_3 = integerDer(3);

const digestAlgorithms = new Map<SignatureHash, { single: Buffer; set: Buffer }>();

/** The digest AlgorithmIdentifier (parameters absent, RFC 5754 §2) alone and as DigestAlgorithmIdentifiers. */
function digestAlgorithmOf(hash: SignatureHash): { single: Buffer; set: Buffer } {
  let known = digestAlgorithms.get(hash);
  if (!known) {
    const id = new AlgorithmIdentifier({ algorithm: DIGEST_OID[hash] });
    known = { single: encode(id), set: encode(new DigestAlgorithmIdentifiers([id])) };
    digestAlgorithms.set(hash, known);
  }
  return known;
}

/**
 * Encoded certificate sets by the signer's certificate buffer, for the chain they were made with:
 * a signer made anew per document over the same buffers (a signing worker's) finds them too.
 */
const certificateSets = new WeakMap<Buffer, { chain: readonly Buffer[]; sets: Map<string, Buffer> }>();

/** The [0] IMPLICIT certificates of a signer (with or without its chain), encoded once. */
function certificateSet(input: SignedDataInput): Buffer | undefined {
  if (input.omitCertificates) return undefined;
  const variant = input.includeChain === false ? 'alone' : 'chain';
  const { certificate, chain } = input.signer;
  let known = certificateSets.get(certificate);
  if (!known || known.chain.length !== chain.length || known.chain.some((c, i) => c !== chain[i])) {
    known = { chain: [...chain], sets: new Map() };
    certificateSets.set(certificate, known);
  }
  const perSigner = known.sets;
  let set = perSigner.get(variant);
  if (!set) {
    const certificates = [input.signer.certificate, ...(variant === 'alone' ? [] : input.signer.chain)];
    // Certificates keep their order (signer first): readers take the SET as a bag either way.
    set = wrap(0xa0, certificates);
    perSigner.set(variant, set);
  }
  return set;
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
    signedAttrs: signedAttributes(input),
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
  digestAlgorithm: SignatureHash | 'SHA-1' | null;
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

/** Attributes (RFC 5652 §5.3) in a SET or its [n] IMPLICIT form: type → the encoding of each value, undecoded. */
function attributesIn(buf: Buffer, set: Tlv, what: string): Map<string, Buffer[]> {
  const map = new Map<string, Buffer[]>();
  for (const attr of childrenOf(buf, set, what)) {
    const [type, values] = childrenOf(buf, attr, what);
    if (!type || !values || values.tag !== 0x31) throw new DerError(what, 'malformed attribute');
    map.set(
      readOid(bytesOf(buf, type), what),
      childrenOf(buf, values, what).map((v) => bytesOf(buf, v)),
    );
  }
  return map;
}

const signerIds = new Memo<{ issuerDer: Buffer; serial: bigint }>();
const algorithmOids = new Memo<string>();

/** One SignerInfo (RFC 5652 §5.3): its fields through asn1-schema, the attributes' values left encoded. */
function parseSignerInfo(buf: Buffer, tlv: Tlv, what: string): ParsedSignerInfo {
  const fields = childrenOf(buf, tlv, what);
  let i = 1; // version
  const sid = fields[i++];
  const digest = fields[i++];
  if (!sid || !digest) throw new DerError(what, 'truncated SignerInfo');
  let issuerDer: Buffer | null = null;
  let serial: bigint | null = null;
  let subjectKeyId: Buffer | null = null;
  if (sid.tag === 0x30) {
    const sidBytes = bytesOf(buf, sid);
    ({ issuerDer, serial } = signerIds.get(sidBytes.toString('base64'), () => {
      const byIssuer = parseAs(sidBytes, IssuerAndSerialNumber, what);
      return { issuerDer: encode(byIssuer.issuer), serial: integerValue(new Uint8Array(byIssuer.serialNumber)) };
    }));
  } else if (sid.tag === 0x80) subjectKeyId = buf.subarray(sid.start, sid.end);
  else throw new DerError(what, 'unknown signer identifier');
  const digestBytes = bytesOf(buf, digest);
  const digestAlgorithmOid = algorithmOids.get(
    digestBytes.toString('hex'),
    () => parseAs(digestBytes, AlgorithmIdentifier, what).algorithm,
  );
  let signedAttrs: Buffer | null = null;
  let signedAttributes = new Map<string, Buffer[]>();
  if (fields[i]?.tag === 0xa0) {
    // Re-tag [0] IMPLICIT as SET OF: the signature covers that, in DER (RFC 5652 §5.4).
    signedAttrs = definiteLengths(Buffer.concat([Buffer.from([0x31]), bytesOf(buf, fields[i]!).subarray(1)]));
    signedAttributes = attributesIn(buf, fields[i]!, what);
    i++;
  }
  const algorithm = fields[i++];
  const signature = fields[i++];
  if (!algorithm || !signature) throw new DerError(what, 'truncated SignerInfo');
  const unsignedAttributes =
    fields[i]?.tag === 0xa1 ? attributesIn(buf, fields[i]!, what) : new Map<string, Buffer[]>();
  return {
    issuerDer,
    serial,
    subjectKeyId,
    digestAlgorithm: digestByOid(digestAlgorithmOid),
    digestAlgorithmOid,
    signedAttrs,
    signedAttributes,
    signatureAlgorithm: bytesOf(buf, algorithm),
    signature: octetStringValue(bytesOf(buf, signature)),
    unsignedAttributes,
  };
}

/**
 * Parses a ContentInfo holding SignedData, DER or BER (indefinite lengths, constructed strings).
 * `input` may carry trailing zero padding (a PDF /Contents); the encoding read is returned as `der`.
 * Certificates, CRLs and attribute values are found by their boundaries and kept as encoded
 * (tlv.ts says why); every field the verifier reads is decoded by asn1-schema.
 */
export function parseSignedData(input: Buffer, what = 'CMS signature'): ParsedSignedData {
  if (input.length > MAX_CMS_BYTES) throw new DerError(what, `larger than ${MAX_CMS_BYTES} bytes`);
  const outer = readTlv(input, 0, input.length, what);
  const [type, wrapped] = outer.tag === 0x30 ? childrenOf(input, outer, what) : [];
  const outerType = type ? readOid(bytesOf(input, type), what) : null;
  // GB/T 35275 (GM/T 0010) names the same SignedData structure 1.2.156.10197.6.1.4.2.2.
  if (!wrapped || (outerType !== OID.signedData && outerType !== OID.gmSignedData) || wrapped.tag !== 0xa0)
    throw new DerError(what, 'not CMS SignedData');
  const [sdTlv] = childrenOf(input, wrapped, what);
  if (!sdTlv || sdTlv.tag !== 0x30) throw new DerError(what, 'not CMS SignedData');
  const sd = childrenOf(input, sdTlv, what);
  let i = 2; // version, digestAlgorithms
  if (!sd[i]) throw new DerError(what, 'truncated SignedData');
  const encap = parseAs(bytesOf(input, sd[i++]!), EncapsulatedContentInfo, what, MAX_CMS_BYTES);
  let content: Buffer | null = null;
  if (encap.eContent?.single) content = toBuffer(encap.eContent.single.buffer);
  else if (encap.eContent?.any) content = readOctetString(toBuffer(encap.eContent.any), what);
  const certificates: Buffer[] = [];
  const crls: Buffer[] = [];
  while (sd[i] && (sd[i]!.tag === 0xa0 || sd[i]!.tag === 0xa1)) {
    // Only X.509 certificates and CRLs (SEQUENCEs); attribute certificates and other formats are skipped.
    const list = childrenOf(input, sd[i]!, what)
      .filter((c) => c.tag === 0x30)
      .map((c) => bytesOf(input, c));
    (sd[i]!.tag === 0xa0 ? certificates : crls).push(...list);
    i++;
  }
  if (!sd[i] || sd[i]!.tag !== 0x31) throw new DerError(what, 'SignedData has no signerInfos');
  const signerInfos = childrenOf(input, sd[i]!, what).map((si) => parseSignerInfo(input, si, what));
  return {
    der: input.subarray(0, outer.next),
    contentType: encap.eContentType,
    content,
    certificates,
    crls,
    signerInfos,
  };
}

/** The content of an OCTET STRING (message-digest, a signature value); constructed BER ones are joined. */
export function octetStringValue(der: Buffer): Buffer {
  const tlv = readTlv(der, 0, der.length, 'OCTET STRING');
  if (tlv.tag === 0x04 && tlv.next === der.length) return der.subarray(tlv.start, tlv.end);
  return readOctetString(der, 'OCTET STRING');
}

const essIds = new Memo<{ hash: string; certHash: Buffer } | null>();

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
  // The first ESSCertID names the signer's certificate (RFC 5035 §3): its hash and hash algorithm.
  const id = essIds.get(`${v2 ? 2 : 1}:${(v2 ?? v1)!.toString('base64')}`, () => {
    try {
      if (v2) {
        const first = AsnConvert.parse(v2, SigningCertificateV2).certs[0];
        const h = first ? (first.hashAlgorithm ? digestByOid(first.hashAlgorithm.algorithm) : 'SHA-256') : null;
        if (!first || !h) return null;
        return { hash: h === 'SHA-1' ? 'sha1' : NODE_DIGEST[h], certHash: toBuffer(first.certHash.buffer) };
      }
      const first = AsnConvert.parse(v1!, SigningCertificate).certs[0];
      return first ? { hash: 'sha1', certHash: toBuffer(first.certHash.buffer) } : null;
    } catch {
      return null;
    }
  });
  if (!id) return 'mismatch';
  return createHash(id.hash).update(certificate).digest().equals(id.certHash) ? 'ok' : 'mismatch';
}
