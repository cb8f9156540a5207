// Reading X.509 certificates and CRLs (RFC 5280) just far enough for signing and verification,
// and checking signatures made with their keys.
import { createHash, createPublicKey, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import {
  TAG,
  childrenOf,
  contentOf,
  encodingOf,
  expectTag,
  parseDer,
  readInteger,
  readOid,
  readString,
  readTime,
  type Node,
} from './der.js';
import { OID, hashByOid, NODE_HASH, type HashName } from './oids.js';

export interface Extension {
  critical: boolean;
  /** The extnValue content (the DER inside the OCTET STRING). */
  value: Buffer;
}

export interface Certificate {
  der: Buffer;
  tbs: Buffer;
  serial: bigint;
  /** DER of the serial INTEGER, as CMS IssuerAndSerialNumber and ESSCertIDv2 repeat it. */
  serialDer: Buffer;
  issuerDer: Buffer;
  subjectDer: Buffer;
  issuer: string;
  subject: string;
  commonName: string | null;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  signatureAlgorithm: Buffer;
  signature: Buffer;
  extensions: Map<string, Extension>;
  isCa: boolean;
  /** KeyUsage bits set (0 = digitalSignature … 6 = cRLSign), or null when the extension is absent. */
  keyUsage: number[] | null;
  extKeyUsage: string[] | null;
  subjectKeyId: Buffer | null;
}

const NAME_LABEL: Record<string, string> = {
  [OID.commonName]: 'CN',
  [OID.organization]: 'O',
  [OID.organizationalUnit]: 'OU',
  [OID.country]: 'C',
  [OID.province]: 'ST',
  [OID.locality]: 'L',
  [OID.serialNumber]: 'serialNumber',
  [OID.organizationIdentifier]: 'organizationIdentifier',
  [OID.emailAddress]: 'emailAddress',
};

/** A readable form of a Name, most specific first like RFC 4514 (`CN=…, O=…, C=…`). */
export function nameToString(name: Node): { text: string; commonName: string | null } {
  const parts: string[] = [];
  let commonName: string | null = null;
  for (const rdn of childrenOf(name, 'Name')) {
    for (const atv of childrenOf(rdn, 'Name')) {
      const [type, value] = childrenOf(atv, 'Name');
      if (!type || !value) continue;
      const oid = readOid(type);
      const text = readString(value);
      if (oid === OID.commonName && commonName === null) commonName = text;
      parts.unshift(`${NAME_LABEL[oid] ?? oid}=${text}`);
    }
  }
  return { text: parts.join(', '), commonName };
}

const cache = new WeakMap<Buffer, Certificate>();

export function parseCertificate(der: Buffer): Certificate {
  const cached = cache.get(der);
  if (cached) return cached;
  const what = 'certificate';
  const root = expectTag(parseDer(der, what), TAG.sequence, what);
  const [tbsNode, algNode, sigNode] = childrenOf(root, what);
  expectTag(tbsNode, TAG.sequence, what);
  expectTag(sigNode, TAG.bitString, what);
  const fields = childrenOf(tbsNode!, what);
  let i = 0;
  if (fields[0]?.tag === 0xa0) i++; // [0] EXPLICIT version
  const serialNode = fields[i++]!;
  const serial = readInteger(serialNode, what);
  i++; // signature algorithm (repeated inside the TBS)
  const issuerNode = expectTag(fields[i++], TAG.sequence, what);
  const validity = childrenOf(expectTag(fields[i++], TAG.sequence, what), what);
  const subjectNode = expectTag(fields[i++], TAG.sequence, what);
  const spkiNode = expectTag(fields[i++], TAG.sequence, what);
  const extensions = new Map<string, Extension>();
  for (; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.tag !== 0xa3) continue;
    const list = expectTag(childrenOf(field, what)[0], TAG.sequence, what);
    for (const ext of childrenOf(list, what)) {
      const parts = childrenOf(ext, what);
      const id = readOid(parts[0]!);
      const critical = parts.length === 3 && parts[1]!.tag === TAG.boolean && contentOf(parts[1]!)[0] !== 0;
      const value = contentOf(expectTag(parts[parts.length - 1], TAG.octetString, what));
      extensions.set(id, { critical, value });
    }
  }
  const issuer = nameToString(issuerNode);
  const subject = nameToString(subjectNode);
  const cert: Certificate = {
    der,
    tbs: encodingOf(tbsNode!),
    serial,
    serialDer: encodingOf(serialNode),
    issuerDer: encodingOf(issuerNode),
    subjectDer: encodingOf(subjectNode),
    issuer: issuer.text,
    subject: subject.text,
    commonName: subject.commonName,
    notBefore: readTime(validity[0]!, what),
    notAfter: readTime(validity[1]!, what),
    spki: encodingOf(spkiNode),
    signatureAlgorithm: encodingOf(algNode!),
    signature: contentOf(sigNode!).subarray(1),
    extensions,
    isCa: false,
    keyUsage: null,
    extKeyUsage: null,
    subjectKeyId: null,
  };
  const bc = extensions.get(OID.basicConstraints);
  if (bc) {
    const items = childrenOf(parseDer(bc.value, what), what);
    cert.isCa = items[0]?.tag === TAG.boolean && contentOf(items[0])[0] !== 0;
  }
  const ku = extensions.get(OID.keyUsage);
  if (ku) {
    const bits = contentOf(parseDer(ku.value, what));
    cert.keyUsage = [];
    for (let b = 0; b < (bits.length - 1) * 8; b++) if (bits[1 + (b >> 3)]! & (0x80 >> (b & 7))) cert.keyUsage.push(b);
  }
  const eku = extensions.get(OID.extKeyUsage);
  if (eku) cert.extKeyUsage = childrenOf(parseDer(eku.value, what), what).map((n) => readOid(n));
  const ski = extensions.get(OID.subjectKeyIdentifier);
  if (ski) cert.subjectKeyId = contentOf(parseDer(ski.value, what));
  cache.set(der, cert);
  return cert;
}

export function pemToDer(pem: string, label?: string): Buffer[] {
  const out: Buffer[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(pem); m; m = re.exec(pem)) {
    if (!label || m[1] === label) out.push(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64'));
  }
  return out;
}

export function derToPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

const keyCache = new Map<string, KeyObject>();

/** A public KeyObject for a SubjectPublicKeyInfo, cached because chains repeat the same issuers. */
export function publicKeyOf(spki: Buffer): KeyObject {
  const id = createHash('sha1').update(spki).digest('hex');
  let key = keyCache.get(id);
  if (!key) {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    if (keyCache.size > 1000) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

/**
 * Checks `signature` over `data` with the key in `spki`, for the AlgorithmIdentifier `algorithm`
 * (DER). `digestHint` is the digest to use when the identifier names only the key type
 * (CMS allows `rsaEncryption` in SignerInfo, RFC 5754 §3.2).
 */
export function verifySignature(
  spki: Buffer,
  algorithm: Buffer,
  data: Uint8Array,
  signature: Uint8Array,
  digestHint?: HashName,
): boolean {
  let parts: Node[];
  let id: string;
  let key: KeyObject;
  try {
    parts = childrenOf(parseDer(algorithm, 'AlgorithmIdentifier'), 'AlgorithmIdentifier');
    id = readOid(parts[0]!);
    key = publicKeyOf(spki);
  } catch {
    return false;
  }
  const withHash = (hash: HashName | undefined) => {
    if (!hash) return null;
    return NODE_HASH[hash];
  };
  try {
    switch (id) {
      case OID.sha256WithRSA:
        return cryptoVerify('sha256', data, key, signature);
      case OID.sha384WithRSA:
        return cryptoVerify('sha384', data, key, signature);
      case OID.sha512WithRSA:
        return cryptoVerify('sha512', data, key, signature);
      case OID.rsaEncryption: {
        const hash = withHash(digestHint);
        return hash ? cryptoVerify(hash, data, key, signature) : false;
      }
      case OID.ecdsaWithSha256:
        return cryptoVerify('sha256', data, { key, dsaEncoding: 'der' }, signature);
      case OID.ecdsaWithSha384:
        return cryptoVerify('sha384', data, { key, dsaEncoding: 'der' }, signature);
      case OID.ecdsaWithSha512:
        return cryptoVerify('sha512', data, { key, dsaEncoding: 'der' }, signature);
      case OID.ecPublicKey: {
        const hash = withHash(digestHint);
        return hash ? cryptoVerify(hash, data, { key, dsaEncoding: 'der' }, signature) : false;
      }
      case OID.rsassaPss: {
        // RSASSA-PSS-params (RFC 4055 §3.1): [0] hash, [1] MGF, [2] salt length.
        let hash: string = 'sha1';
        let saltLength = 20;
        const params = parts[1] && parts[1].tag === TAG.sequence ? childrenOf(parts[1]) : [];
        for (const p of params) {
          if (p.tag === 0xa0) {
            const h = hashByOid(readOid(childrenOf(childrenOf(p)[0]!)[0]!));
            hash = h === 'SHA-1' || h === null ? 'sha1' : NODE_HASH[h];
          } else if (p.tag === 0xa2) saltLength = Number(readInteger(childrenOf(p)[0]!));
        }
        return cryptoVerify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
      }
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** Whether `issuer` signed `subject`: names chain and the signature checks. */
export function isIssuedBy(subject: Certificate, issuer: Certificate): boolean {
  if (!subject.issuerDer.equals(issuer.subjectDer)) return false;
  return verifySignature(issuer.spki, subject.signatureAlgorithm, subject.tbs, subject.signature);
}

export interface RevokedEntry {
  serial: bigint;
  date: Date;
  reason: number | null;
}

export interface Crl {
  der: Buffer;
  tbs: Buffer;
  issuerDer: Buffer;
  issuer: string;
  thisUpdate: Date;
  nextUpdate: Date | null;
  revoked: RevokedEntry[];
  signatureAlgorithm: Buffer;
  signature: Buffer;
}

export function parseCrl(der: Buffer): Crl {
  const what = 'CRL';
  const [tbsNode, algNode, sigNode] = childrenOf(expectTag(parseDer(der, what), TAG.sequence, what), what);
  const fields = childrenOf(expectTag(tbsNode, TAG.sequence, what), what);
  let i = 0;
  if (fields[0]?.tag === TAG.integer) i++; // version v2
  i++; // signature algorithm
  const issuerNode = expectTag(fields[i++], TAG.sequence, what);
  const thisUpdate = readTime(fields[i++]!, what);
  let nextUpdate: Date | null = null;
  if (fields[i] && (fields[i]!.tag === TAG.utcTime || fields[i]!.tag === TAG.generalizedTime))
    nextUpdate = readTime(fields[i++]!, what);
  const revoked: RevokedEntry[] = [];
  if (fields[i]?.tag === TAG.sequence) {
    for (const entry of childrenOf(fields[i]!, what)) {
      const parts = childrenOf(entry, what);
      let reason: number | null = null;
      if (parts[2]) {
        for (const ext of childrenOf(parts[2], what)) {
          const e = childrenOf(ext, what);
          if (readOid(e[0]!) === OID.crlReason) reason = contentOf(parseDer(contentOf(e[e.length - 1]!)))[0] ?? null;
        }
      }
      revoked.push({ serial: readInteger(parts[0]!, what), date: readTime(parts[1]!, what), reason });
    }
  }
  return {
    der,
    tbs: encodingOf(tbsNode!),
    issuerDer: encodingOf(issuerNode),
    issuer: nameToString(issuerNode).text,
    thisUpdate,
    nextUpdate,
    revoked,
    signatureAlgorithm: encodingOf(algNode!),
    signature: contentOf(expectTag(sigNode, TAG.bitString, what)).subarray(1),
  };
}

export const sha1 = (data: Uint8Array): Buffer => createHash('sha1').update(data).digest();
export const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING contents. */
export function keyIdentifier(spki: Buffer): Buffer {
  const [, bits] = childrenOf(parseDer(spki, 'SubjectPublicKeyInfo'), 'SubjectPublicKeyInfo');
  return sha1(contentOf(bits!).subarray(1));
}
