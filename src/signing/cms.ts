// CMS SignedData (RFC 5652) as PAdES and RFC 3161 use it: one SignerInfo, detached content for
// PDF signatures (ETSI EN 319 122-1 CAdES baseline attributes), attached TSTInfo for time-stamp tokens.
import { createHash } from 'node:crypto';
import {
  TAG,
  childrenOf,
  contentOf,
  encodingOf,
  expectTag,
  explicit,
  integer,
  octetString,
  oid,
  parseDer,
  readInteger,
  readOid,
  seq,
  setOf,
  tlv,
  nullValue,
  type Node,
} from './der.js';
import { HASH_OID, NODE_HASH, OID, hashByOid, type HashName } from './oids.js';
import { signatureAlgorithmId, type Signer } from './signer.js';
import { parseCertificate } from './x509.js';

export const attribute = (type: string, ...values: Buffer[]): Buffer => seq(oid(type), setOf(...values));

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
  const certHash = createHash(NODE_HASH[hash]).update(certificate).digest();
  const issuerSerial = seq(seq(explicit(4, cert.issuerDer)), cert.serialDer);
  // hashAlgorithm DEFAULT id-sha256 is omitted in DER when it is SHA-256.
  const id = seq(...(hash === 'SHA-256' ? [] : [seq(oid(HASH_OID[hash]))]), octetString(certHash), issuerSerial);
  return attribute(OID.signingCertificateV2, seq(seq(id)));
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
  /** More signed attributes, already encoded. */
  signedAttributes?: Buffer[];
  /** Also put the chain (not only the signer's certificate) in `certificates`. */
  includeChain?: boolean;
  /** CRLs to carry in the SignedData `crls` field. */
  crls?: Buffer[];
}

/** The parts of a signed SignerInfo, so unsigned attributes (a time-stamp) can be added afterwards. */
export interface SignedParts {
  input: SignedDataInput;
  signedAttrs: Buffer;
  signatureAlgorithm: Buffer;
  signature: Buffer;
}

function signedAttrsSet(input: SignedDataInput): Buffer {
  const contentType = input.contentType ?? OID.data;
  return setOf(
    attribute(OID.contentType, oid(contentType)),
    attribute(OID.messageDigest, octetString(input.digest)),
    signingCertificateV2(input.signer.certificate),
    ...(input.signedAttributes ?? []),
  );
}

/** In SignerInfo, PKCS#1 v1.5 is named rsaEncryption, as Adobe, OpenSSL and NSS write it (RFC 5754 §3.2). */
function cmsSignatureAlgorithm(signer: Signer, hash: HashName): Buffer {
  if (signer.algorithm === 'RSASSA-PKCS1-v1_5') return seq(oid(OID.rsaEncryption), nullValue());
  return signatureAlgorithmId(signer, hash);
}

/** Signs the attributes (RFC 5652 §5.4: the DER of the SET OF, not the [0] IMPLICIT form). */
export async function signAttributes(input: SignedDataInput): Promise<SignedParts> {
  const signedAttrs = signedAttrsSet(input);
  const signature = await input.signer.sign(signedAttrs, input.hash);
  return { input, signedAttrs, signatureAlgorithm: cmsSignatureAlgorithm(input.signer, input.hash), signature };
}

/** The ContentInfo DER for signed parts, with optional unsigned attributes (each already an Attribute). */
export function encodeSignedData(parts: SignedParts, unsignedAttributes: Buffer[] = []): Buffer {
  const { input } = parts;
  const contentType = input.contentType ?? OID.data;
  const cert = parseCertificate(input.signer.certificate);
  const digestAlgorithm = seq(oid(HASH_OID[input.hash]));
  const certificates = [input.signer.certificate, ...(input.includeChain === false ? [] : input.signer.chain)];
  const signerInfo = seq(
    integer(1),
    seq(cert.issuerDer, cert.serialDer),
    digestAlgorithm,
    tlv(0xa0, contentOf(parseDer(parts.signedAttrs))),
    parts.signatureAlgorithm,
    octetString(parts.signature),
    ...(unsignedAttributes.length ? [tlv(0xa1, contentOf(parseDer(setOf(...unsignedAttributes))))] : []),
  );
  const encap = seq(oid(contentType), ...(input.content ? [explicit(0, octetString(input.content))] : []));
  const signedData = seq(
    // RFC 5652 §5.1: version 3 when the encapsulated content is not id-data.
    integer(contentType === OID.data ? 1 : 3),
    setOf(digestAlgorithm),
    encap,
    tlv(0xa0, ...certificates),
    ...(input.crls?.length ? [tlv(0xa1, ...input.crls)] : []),
    setOf(signerInfo),
  );
  return seq(oid(OID.signedData), explicit(0, signedData));
}

/** The size a signature will have without unsigned attributes, for sizing a PDF placeholder. */
const sizeCache = new WeakMap<Buffer, Map<string, number>>();

export function estimateSignedDataSize(input: SignedDataInput, signatureLength: number): number {
  // Constant for a signer, hash and set of extra attributes; cached because it is on every signature's path.
  const key = `${input.hash}:${signatureLength}:${input.digest.length}:${input.includeChain !== false}:${input.contentType ?? ''}:${input.content?.length ?? -1}:${(input.signedAttributes ?? []).map((a) => a.length).join(',')}:${(input.crls ?? []).length}`;
  let perSigner = sizeCache.get(input.signer.certificate);
  if (!perSigner) {
    perSigner = new Map();
    sizeCache.set(input.signer.certificate, perSigner);
  }
  const known = perSigner.get(key);
  if (known !== undefined) return known;
  const size = computeSignedDataSize(input, signatureLength);
  perSigner.set(key, size);
  return size;
}

function computeSignedDataSize(input: SignedDataInput, signatureLength: number): number {
  const dummy: SignedParts = {
    input,
    signedAttrs: signedAttrsSet(input),
    signatureAlgorithm: cmsSignatureAlgorithm(input.signer, input.hash),
    signature: Buffer.alloc(signatureLength),
  };
  return encodeSignedData(dummy).length;
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
  signedAttributes: Map<string, Node[]>;
  signatureAlgorithm: Buffer;
  signature: Buffer;
  unsignedAttributes: Map<string, Node[]>;
}

export interface ParsedSignedData {
  der: Buffer;
  contentType: string;
  content: Buffer | null;
  certificates: Buffer[];
  crls: Buffer[];
  signerInfos: ParsedSignerInfo[];
}

function readAttributes(node: Node, what: string): Map<string, Node[]> {
  const map = new Map<string, Node[]>();
  for (const attr of childrenOf(node, what)) {
    const [type, values] = childrenOf(attr, what);
    map.set(readOid(type!, what), childrenOf(expectTag(values, TAG.set, what), what));
  }
  return map;
}

/** Parses a ContentInfo holding SignedData. `der` may carry trailing padding (PDF /Contents). */
export function parseSignedData(input: Buffer, what = 'CMS signature'): ParsedSignedData {
  const root = expectTag(parseDer(input, what), TAG.sequence, what);
  const der = encodingOf(root);
  const [typeNode, wrapped] = childrenOf(root, what);
  if (readOid(typeNode!, what) !== OID.signedData) throw new Error(`${what}: not CMS SignedData`);
  const sd = childrenOf(expectTag(childrenOf(expectTag(wrapped, 0xa0, what), what)[0], TAG.sequence, what), what);
  let i = 1; // version
  i++; // digestAlgorithms
  const encap = childrenOf(expectTag(sd[i++], TAG.sequence, what), what);
  const contentType = readOid(encap[0]!, what);
  let content: Buffer | null = null;
  if (encap[1]) {
    const inner = childrenOf(encap[1], what)[0]!;
    content = inner.tag === TAG.octetString ? contentOf(inner) : Buffer.concat(childrenOf(inner, what).map(contentOf));
  }
  const certificates: Buffer[] = [];
  const crls: Buffer[] = [];
  while (sd[i] && (sd[i]!.tag === 0xa0 || sd[i]!.tag === 0xa1)) {
    const list = childrenOf(sd[i]!, what)
      .filter((n) => n.tag === TAG.sequence)
      .map((n) => Buffer.from(encodingOf(n)));
    if (sd[i]!.tag === 0xa0) certificates.push(...list);
    else crls.push(...list);
    i++;
  }
  const signerInfos: ParsedSignerInfo[] = [];
  for (const si of childrenOf(expectTag(sd[i], TAG.set, what), what)) {
    const f = childrenOf(si, what);
    let j = 1;
    const sid = f[j++]!;
    let issuerDer: Buffer | null = null;
    let serial: bigint | null = null;
    let subjectKeyId: Buffer | null = null;
    if (sid.tag === TAG.sequence) {
      const [issuer, serialNode] = childrenOf(sid, what);
      issuerDer = encodingOf(issuer!);
      serial = readInteger(serialNode!, what);
    } else if (sid.tag === 0x80) subjectKeyId = contentOf(sid);
    const digestAlgorithmOid = readOid(childrenOf(f[j++]!, what)[0]!, what);
    let signedAttrs: Buffer | null = null;
    let signedAttributes = new Map<string, Node[]>();
    if (f[j]?.tag === 0xa0) {
      // Re-tag [0] IMPLICIT as SET OF to get the bytes that were signed (RFC 5652 §5.4).
      signedAttrs = Buffer.concat([Buffer.from([TAG.set]), encodingOf(f[j]!).subarray(1)]);
      signedAttributes = readAttributes(f[j]!, what);
      j++;
    }
    const signatureAlgorithm = encodingOf(f[j++]!);
    const signature = contentOf(expectTag(f[j++], TAG.octetString, what));
    const unsignedAttributes = f[j]?.tag === 0xa1 ? readAttributes(f[j]!, what) : new Map<string, Node[]>();
    signerInfos.push({
      issuerDer,
      serial,
      subjectKeyId,
      digestAlgorithm: hashByOid(digestAlgorithmOid),
      digestAlgorithmOid,
      signedAttrs,
      signedAttributes,
      signatureAlgorithm,
      signature,
      unsignedAttributes,
    });
  }
  return { der, contentType, content, certificates, crls, signerInfos };
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
  const node = v2 ?? v1;
  if (!node) return 'missing';
  try {
    const certs = childrenOf(childrenOf(node)[0]!);
    const first = childrenOf(certs[0]!);
    let hash = v2 ? 'sha256' : 'sha1';
    let k = 0;
    if (v2 && first[0]!.tag === TAG.sequence) {
      const h = hashByOid(readOid(childrenOf(first[0]!)[0]!));
      hash = h === 'SHA-1' ? 'sha1' : h ? NODE_HASH[h] : 'sha256';
      k = 1;
    }
    const expected = contentOf(first[k]!);
    return createHash(hash).update(certificate).digest().equals(expected) ? 'ok' : 'mismatch';
  } catch {
    return 'mismatch';
  }
}
