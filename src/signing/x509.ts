// X.509 certificates and CRLs (RFC 5280) read through @peculiar/asn1-x509, turned into the plain
// objects the CA, the signer and the path validator work with, and signatures checked with their keys.
import { createHash, createPublicKey, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as x509 from '@peculiar/asn1-x509';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { DerError, Memo, encode, integerValue, parseAs, readInteger, toBuffer as buf } from './asn1.js';
import { OID, hashByOid, NODE_HASH, type HashName } from './oids.js';
import { verifySm2 } from './sm2.js';

export interface Extension {
  critical: boolean;
  /** The extnValue content (the DER inside the OCTET STRING). */
  value: Buffer;
}

export interface BasicConstraints {
  ca: boolean;
  /** pathLenConstraint, or null when absent (no limit). */
  pathLength: number | null;
}

export interface Certificate {
  der: Buffer;
  /** SHA-256 of the DER, base64: the certificate's identity in caches. */
  fingerprint: string;
  /** The TBSCertificate exactly as signed. */
  tbs: Buffer;
  /** 1, 2 or 3. */
  version: number;
  serial: bigint;
  /** The serial's INTEGER content octets, as CMS IssuerAndSerialNumber and ESSCertIDv2 repeat it. */
  serialBytes: Buffer;
  issuerDer: Buffer;
  subjectDer: Buffer;
  /** The names as RFC 5280 §7.1 compares them: one canonical string per RDN. */
  issuerRdns: string[];
  subjectRdns: string[];
  /** emailAddress attributes of the subject (RFC 5280 §4.2.1.10 constrains them as rfc822Name). */
  subjectEmails: string[];
  issuer: string;
  subject: string;
  commonName: string | null;
  /** The subject's first O attribute: the company of a seal or person certificate. */
  organization: string | null;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  /** The outer AlgorithmIdentifier (DER); RFC 5280 §4.1.1.2 requires the TBS to repeat it. */
  signatureAlgorithm: Buffer;
  tbsSignatureAlgorithm: Buffer;
  signature: Buffer;
  extensions: Map<string, Extension>;
  /** RFC 5280 §4.2: an extension may appear once; a repeated OID makes the certificate unusable. */
  repeatedExtensions: string[];
  /** Extensions this reader could not decode (OID → reason). */
  unreadableExtensions: Map<string, string>;
  basicConstraints: BasicConstraints | null;
  isCa: boolean;
  /** KeyUsage bits set (0 = digitalSignature … 6 = cRLSign), or null when the extension is absent. */
  keyUsage: number[] | null;
  extKeyUsage: string[] | null;
  subjectKeyId: Buffer | null;
  authorityKeyId: Buffer | null;
  nameConstraints: x509.NameConstraints | null;
  subjectAltNames: x509.GeneralName[];
  crlDistributionPoints: string[];
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
export function nameToString(name: x509.Name): {
  text: string;
  commonName: string | null;
  organization: string | null;
} {
  const parts: string[] = [];
  let commonName: string | null = null;
  let organization: string | null = null;
  for (const rdn of name) {
    for (const atv of rdn) {
      const text = atv.value.toString();
      if (atv.type === OID.commonName && commonName === null) commonName = text;
      if (atv.type === OID.organization && organization === null) organization = text;
      parts.unshift(`${NAME_LABEL[atv.type] ?? atv.type}=${text}`);
    }
  }
  return { text: parts.join(', '), commonName, organization };
}

/**
 * A Name in the form RFC 5280 §7.1 compares: per RDN its attributes sorted, each as type and
 * value, text values case-folded with inner white space collapsed (RFC 4518, simplified), other
 * values as hex. Two names match when their lists are equal.
 */
export function canonicalRdns(name: x509.Name): string[] {
  return name.map((rdn) =>
    rdn
      .map((atv) => {
        const v = atv.value;
        const text =
          v.utf8String ?? v.printableString ?? v.bmpString ?? v.universalString ?? v.teletexString ?? v.ia5String;
        const value =
          text !== undefined
            ? `"${text.normalize('NFKC').toLowerCase().trim().replace(/\s+/g, ' ')}`
            : `#${Buffer.from(v.anyValue ?? new ArrayBuffer(0)).toString('hex')}`;
        return `${atv.type}=${value}`;
      })
      .sort()
      .join('+'),
  );
}

export const sameName = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The largest CRL read (CRLs of large CAs run to a few MB); a certificate may have 256 KB. */
const MAX_CRL_BYTES = 16 * 1024 * 1024;

/** Parsed certificates by content: chains repeat the same CA certificates in every signature. */
const certificates = new Map<string, Certificate>();
const CACHE_SIZE = 2_000;

function remember<T>(cache: Map<string, T>, key: string, value: T): T {
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
  return value;
}

export function parseCertificate(der: Buffer): Certificate {
  const key = createHash('sha256').update(der).digest('base64');
  const cached = certificates.get(key);
  if (cached) return cached;
  const what = 'certificate';
  const asn = parseAs(der, x509.Certificate, what);
  const tbs = asn.tbsCertificate;
  if (!asn.tbsCertificateRaw) throw new DerError(what, 'the TBSCertificate bytes are missing');
  const extensions = new Map<string, Extension>();
  const repeatedExtensions: string[] = [];
  for (const e of tbs.extensions ?? []) {
    if (extensions.has(e.extnID)) repeatedExtensions.push(e.extnID);
    extensions.set(e.extnID, { critical: e.critical, value: buf(e.extnValue.buffer) });
  }
  const issuer = nameToString(tbs.issuer);
  const subject = nameToString(tbs.subject);
  const serialBytes = buf(tbs.serialNumber);
  const cert: Certificate = {
    der,
    fingerprint: key,
    tbs: buf(asn.tbsCertificateRaw),
    version: tbs.version + 1,
    serial: integerValue(serialBytes),
    serialBytes,
    issuerDer: encode(tbs.issuer),
    subjectDer: encode(tbs.subject),
    issuerRdns: canonicalRdns(tbs.issuer),
    subjectRdns: canonicalRdns(tbs.subject),
    subjectEmails: tbs.subject.flatMap((rdn) =>
      rdn.filter((atv) => atv.type === OID.emailAddress).map((atv) => atv.value.toString()),
    ),
    issuer: issuer.text,
    subject: subject.text,
    commonName: subject.commonName,
    organization: subject.organization,
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    spki: encode(tbs.subjectPublicKeyInfo),
    signatureAlgorithm: encode(asn.signatureAlgorithm),
    tbsSignatureAlgorithm: encode(tbs.signature),
    signature: buf(asn.signatureValue),
    extensions,
    repeatedExtensions,
    unreadableExtensions: new Map(),
    basicConstraints: null,
    isCa: false,
    keyUsage: null,
    extKeyUsage: null,
    subjectKeyId: null,
    authorityKeyId: null,
    nameConstraints: null,
    subjectAltNames: [],
    crlDistributionPoints: [],
  };
  readExtensions(cert);
  return remember(certificates, key, cert);
}

/** Decodes the extensions the engine acts on; one that does not decode is recorded, not ignored. */
function readExtensions(cert: Certificate): void {
  const read = <T>(id: string, type: new () => T, apply: (value: T) => void) => {
    const e = cert.extensions.get(id);
    if (!e) return;
    try {
      apply(AsnConvert.parse(e.value, type));
    } catch (error) {
      cert.unreadableExtensions.set(id, error instanceof Error ? error.message : String(error));
    }
  };
  read(OID.basicConstraints, x509.BasicConstraints, (bc) => {
    cert.basicConstraints = { ca: bc.cA, pathLength: bc.pathLenConstraint ?? null };
    cert.isCa = bc.cA;
  });
  read(OID.keyUsage, x509.KeyUsage, (ku) => {
    // Named bits, first bit first (X.690 §8.6.2): bit 0 is the high bit of the first octet.
    const octets = buf(ku.value);
    const bits: number[] = [];
    for (let b = 0; b < octets.length * 8 - ku.unusedBits; b++) if (octets[b >> 3]! & (0x80 >> (b & 7))) bits.push(b);
    cert.keyUsage = bits;
  });
  read(OID.extKeyUsage, x509.ExtendedKeyUsage, (eku) => (cert.extKeyUsage = [...eku]));
  read(OID.subjectKeyIdentifier, x509.SubjectKeyIdentifier, (ski) => (cert.subjectKeyId = buf(ski.buffer)));
  read(OID.authorityKeyIdentifier, x509.AuthorityKeyIdentifier, (aki) => {
    if (aki.keyIdentifier) cert.authorityKeyId = buf(aki.keyIdentifier.buffer);
  });
  read(OID.nameConstraints, x509.NameConstraints, (nc) => (cert.nameConstraints = nc));
  read(OID.subjectAltName, x509.SubjectAlternativeName, (san) => (cert.subjectAltNames = [...san]));
  read(OID.crlDistributionPoints, x509.CRLDistributionPoints, (points) => {
    for (const point of points)
      for (const name of point.distributionPoint?.fullName ?? [])
        if (name.uniformResourceIdentifier) cert.crlDistributionPoints.push(name.uniformResourceIdentifier);
  });
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
    remember(keyCache, id, key);
  }
  return key;
}

/** How a signature is checked: node's digest name and key options, from an AlgorithmIdentifier. */
export interface SignatureScheme {
  /** For messages: `sha256WithRSAEncryption`, `ecdsa-with-SHA256`, `RSASSA-PSS with SHA-256` … */
  name: string;
  hash: HashName | 'SHA-1' | 'SM3';
  key: 'RSA' | 'EC' | 'SM2';
  pss: { saltLength: number } | null;
}

/**
 * The signature scheme an AlgorithmIdentifier names, or null when this engine does not check it.
 * `digestHint` is the digest when the identifier names only the key type (CMS allows
 * `rsaEncryption` in SignerInfo, RFC 5754 §3.2).
 */
const schemes = new Memo<SignatureScheme | 'none'>();

export function signatureSchemeOf(algorithm: Buffer, digestHint?: HashName | 'SHA-1' | 'SM3'): SignatureScheme | null {
  const scheme = schemes.get(
    `${digestHint ?? ''}:${algorithm.toString('hex')}`,
    () => decodeSignatureScheme(algorithm, digestHint) ?? 'none',
  );
  return scheme === 'none' ? null : scheme;
}

function decodeSignatureScheme(algorithm: Buffer, digestHint?: HashName | 'SHA-1' | 'SM3'): SignatureScheme | null {
  let alg: x509.AlgorithmIdentifier;
  try {
    alg = AsnConvert.parse(algorithm, x509.AlgorithmIdentifier);
  } catch {
    return null;
  }
  const rsa = (hash: HashName | 'SHA-1', name: string): SignatureScheme => ({ name, hash, key: 'RSA', pss: null });
  const ec = (hash: HashName | 'SHA-1', name: string): SignatureScheme => ({ name, hash, key: 'EC', pss: null });
  switch (alg.algorithm) {
    case OID.sha1WithRSA:
      return rsa('SHA-1', 'sha1WithRSAEncryption');
    case OID.sha256WithRSA:
      return rsa('SHA-256', 'sha256WithRSAEncryption');
    case OID.sha384WithRSA:
      return rsa('SHA-384', 'sha384WithRSAEncryption');
    case OID.sha512WithRSA:
      return rsa('SHA-512', 'sha512WithRSAEncryption');
    case OID.rsaEncryption:
      return digestHint && digestHint !== 'SM3' ? rsa(digestHint, `rsaEncryption with ${digestHint}`) : null;
    case OID.ecdsaWithSha1:
      return ec('SHA-1', 'ecdsa-with-SHA1');
    case OID.ecdsaWithSha256:
      return ec('SHA-256', 'ecdsa-with-SHA256');
    case OID.ecdsaWithSha384:
      return ec('SHA-384', 'ecdsa-with-SHA384');
    case OID.ecdsaWithSha512:
      return ec('SHA-512', 'ecdsa-with-SHA512');
    case OID.ecPublicKey:
      return digestHint && digestHint !== 'SM3' ? ec(digestHint, `ecPublicKey with ${digestHint}`) : null;
    case OID.sm2WithSm3:
      // GB/T 32918.2 with the default user ID (GM/T 0009 §10), as Chinese CAs sign certificates and CRLs.
      return { name: 'SM2-with-SM3', hash: 'SM3', key: 'SM2', pss: null };
    case OID.sm2Sign:
      // GM/T 0010 SignerInfos name the scheme alone ("SM2-1") and SM3 as the digest algorithm;
      // only a CMS reader, which knows that digest, passes the hint.
      return digestHint === 'SM3' ? { name: 'SM2-with-SM3', hash: 'SM3', key: 'SM2', pss: null } : null;
    case OID.rsassaPss: {
      // RSASSA-PSS-params (RFC 4055 §3.1); absent fields take their SHA-1 defaults.
      let params = new RsaSaPssParams();
      try {
        if (alg.parameters) params = AsnConvert.parse(alg.parameters, RsaSaPssParams);
      } catch {
        return null;
      }
      const hash = hashByOid(params.hashAlgorithm.algorithm);
      if (!hash || params.maskGenAlgorithm.algorithm !== OID.mgf1 || params.trailerField !== 1) return null;
      return { name: `RSASSA-PSS with ${hash}`, hash, key: 'RSA', pss: { saltLength: params.saltLength } };
    }
    default:
      return null;
  }
}

/**
 * Checks `signature` over `data` with the key in `spki`, for the AlgorithmIdentifier `algorithm`
 * (DER). Which algorithms are acceptable is the caller's policy (see path-validation.ts);
 * this only answers whether the mathematics holds. SHA-1 is never accepted here.
 */
export function verifySignature(
  spki: Buffer,
  algorithm: Buffer,
  data: Uint8Array,
  signature: Uint8Array,
  digestHint?: HashName | 'SM3',
): boolean {
  const scheme = signatureSchemeOf(algorithm, digestHint);
  if (!scheme || scheme.hash === 'SHA-1') return false;
  if (scheme.key === 'SM2' || scheme.hash === 'SM3')
    return scheme.key === 'SM2' && scheme.hash === 'SM3' && verifySm2(spki, data, signature);
  try {
    const key = publicKeyOf(spki);
    const keyType = key.asymmetricKeyType === 'ec' ? 'EC' : key.asymmetricKeyType?.startsWith('rsa') ? 'RSA' : null;
    if (keyType !== scheme.key) return false;
    const hash = NODE_HASH[scheme.hash];
    if (scheme.key === 'EC') return cryptoVerify(hash, data, { key, dsaEncoding: 'der' }, signature);
    if (scheme.pss)
      return cryptoVerify(
        hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.pss.saltLength },
        signature,
      );
    return cryptoVerify(hash, data, key, signature);
  } catch {
    return false;
  }
}

const signatureChecks = new Memo<boolean>(10_000);

/**
 * Whether the key in `spki` signed this certificate or CRL. Memoised: the answer depends only on
 * the signed bytes and the key, and every signature of a document repeats the same CA checks.
 */
export function signedBy(item: Certificate | Crl, spki: Buffer): boolean {
  return signatureChecks.get(`${item.fingerprint}:${sha1(spki).toString('base64')}`, () =>
    verifySignature(spki, item.signatureAlgorithm, item.tbs, item.signature),
  );
}

/** Whether `issuer` signed `subject`: names chain and the signature checks. */
export function isIssuedBy(subject: Certificate, issuer: Certificate): boolean {
  if (!sameName(subject.issuerRdns, issuer.subjectRdns)) return false;
  return signedBy(subject, issuer.spki);
}

export interface RevokedEntry {
  serial: bigint;
  date: Date;
  reason: number | null;
  /** Critical entry extensions this reader does not process (RFC 5280 §5.3): the CRL is then unusable. */
  unknownCritical: string[];
}

export interface Crl {
  der: Buffer;
  /** SHA-256 of the DER, base64. */
  fingerprint: string;
  tbs: Buffer;
  issuerDer: Buffer;
  issuerRdns: string[];
  issuer: string;
  thisUpdate: Date;
  nextUpdate: Date | null;
  revoked: RevokedEntry[];
  signatureAlgorithm: Buffer;
  tbsSignatureAlgorithm: Buffer;
  signature: Buffer;
  crlNumber: bigint | null;
  authorityKeyId: Buffer | null;
  /** Critical CRL extensions this reader does not process (RFC 5280 §5.2): the CRL is then unusable. */
  unknownCritical: string[];
  /** issuingDistributionPoint (RFC 5280 §5.2.5) as far as it restricts scope, or null. */
  scope: { onlyUserCerts: boolean; onlyCaCerts: boolean; partial: boolean } | null;
}

const crls = new Map<string, Crl>();

export function parseCrl(der: Buffer): Crl {
  const key = createHash('sha256').update(der).digest('base64');
  const cached = crls.get(key);
  if (cached) return cached;
  const what = 'CRL';
  const asn = parseAs(der, x509.CertificateList, what, MAX_CRL_BYTES);
  const tbs = asn.tbsCertList;
  if (!asn.tbsCertListRaw) throw new DerError(what, 'the TBSCertList bytes are missing');
  const unknownCritical: string[] = [];
  let crlNumber: bigint | null = null;
  let authorityKeyId: Buffer | null = null;
  let scope: Crl['scope'] = null;
  for (const e of tbs.crlExtensions ?? []) {
    const value = buf(e.extnValue.buffer);
    try {
      if (e.extnID === OID.crlNumber) crlNumber = readInteger(value, 'cRLNumber');
      else if (e.extnID === OID.authorityKeyIdentifier) {
        const aki = AsnConvert.parse(value, x509.AuthorityKeyIdentifier);
        if (aki.keyIdentifier) authorityKeyId = buf(aki.keyIdentifier.buffer);
      } else if (e.extnID === OID.issuingDistributionPoint) {
        const idp = AsnConvert.parse(value, x509.IssuingDistributionPoint);
        // An indirect CRL or one for attribute certificates speaks for other issuers: not read here.
        if (idp.indirectCRL || idp.onlyContainsAttributeCerts) unknownCritical.push(e.extnID);
        scope = {
          onlyUserCerts: idp.onlyContainsUserCerts,
          onlyCaCerts: idp.onlyContainsCACerts,
          partial: idp.onlySomeReasons !== undefined,
        };
      } else if (e.critical) unknownCritical.push(e.extnID);
    } catch {
      unknownCritical.push(e.extnID);
    }
  }
  const revoked: RevokedEntry[] = [];
  for (const entry of tbs.revokedCertificates ?? []) {
    let reason: number | null = null;
    const entryUnknown: string[] = [];
    for (const e of entry.crlEntryExtensions ?? []) {
      try {
        if (e.extnID === OID.crlReason) reason = AsnConvert.parse(e.extnValue, x509.CRLReason).reason;
        else if (e.critical) entryUnknown.push(e.extnID);
      } catch {
        entryUnknown.push(e.extnID);
      }
    }
    revoked.push({
      serial: integerValue(buf(entry.userCertificate)),
      date: entry.revocationDate.getTime(),
      reason,
      unknownCritical: entryUnknown,
    });
  }
  const crl: Crl = {
    der,
    fingerprint: key,
    tbs: buf(asn.tbsCertListRaw),
    issuerDer: encode(tbs.issuer),
    issuerRdns: canonicalRdns(tbs.issuer),
    issuer: nameToString(tbs.issuer).text,
    thisUpdate: tbs.thisUpdate.getTime(),
    nextUpdate: tbs.nextUpdate?.getTime() ?? null,
    revoked,
    signatureAlgorithm: encode(asn.signatureAlgorithm),
    tbsSignatureAlgorithm: encode(tbs.signature),
    signature: buf(asn.signature),
    crlNumber,
    authorityKeyId,
    unknownCritical,
    scope,
  };
  return remember(crls, key, crl);
}

export const sha1 = (data: Uint8Array): Buffer => createHash('sha1').update(data).digest();
export const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING contents. */
export function keyIdentifier(spki: Buffer): Buffer {
  const info = parseAs(spki, x509.SubjectPublicKeyInfo, 'SubjectPublicKeyInfo');
  return sha1(buf(info.subjectPublicKey));
}
