// Object identifiers used by the signing engine, with the document that defines each.
export const OID = {
  // RFC 5652 (CMS)
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  // RFC 5035 (ESS signing-certificate-v2), RFC 3161 (time-stamp token attribute, TSTInfo)
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  timeStampToken: '1.2.840.113549.1.9.16.2.14',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  // Adobe revocation-info archival (ISO 32000-1 §12.8.3.3.2)
  adbeRevocationInfoArchival: '1.2.840.113583.1.1.8',
  // algorithms: RFC 8017, RFC 5758, RFC 5480
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha1WithRSA: '1.2.840.113549.1.1.5',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  sha384WithRSA: '1.2.840.113549.1.1.12',
  sha512WithRSA: '1.2.840.113549.1.1.13',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha1: '1.2.840.10045.4.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',
  ed25519: '1.3.101.112',
  // GB/T 33560 (national cryptography): SM3, the SM2 curve (in id-ecPublicKey SPKIs), SM2-with-SM3
  sm3: '1.2.156.10197.1.401',
  sm2Curve: '1.2.156.10197.1.301',
  sm2WithSm3: '1.2.156.10197.1.501',
  // GM/T 0006: "SM2-1", the SM2 signature scheme alone; GM/T 0010 names it as a SignerInfo's
  // digestEncryptionAlgorithm (with SM3 as the digest algorithm).
  sm2Sign: '1.2.156.10197.1.301.1',
  // GM/T 0010 / GB/T 35275 content types (the SM2 counterparts of id-data and id-signedData)
  gmData: '1.2.156.10197.6.1.4.2.1',
  gmSignedData: '1.2.156.10197.6.1.4.2.2',
  // X.520 attribute types
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  country: '2.5.4.6',
  locality: '2.5.4.7',
  province: '2.5.4.8',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  organizationIdentifier: '2.5.4.97',
  emailAddress: '1.2.840.113549.1.9.1',
  // RFC 5280 extensions
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  crlNumber: '2.5.29.20',
  crlReason: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  certificateIssuer: '2.5.29.29',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  freshestCrl: '2.5.29.46',
  inhibitAnyPolicy: '2.5.29.54',
  anyExtendedKeyUsage: '2.5.29.37.0',
  anyPolicy: '2.5.29.32.0',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
  // extended key usages
  kpEmailProtection: '1.3.6.1.5.5.7.3.4',
  kpTimeStamping: '1.3.6.1.5.5.7.3.8',
  kpDocumentSigning: '1.3.6.1.5.5.7.3.36',
  adobeAuthenticDocumentsTrust: '1.2.840.113583.1.1.5',
  msDocumentSigning: '1.3.6.1.4.1.311.10.3.12',
} as const;

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';
/** What a KeySigner may be asked to hash with: SHA-2 for RSA and ECDSA, SM3 for SM2 (and only SM3). */
export type SignatureHash = HashName | 'SM3';

export const HASH_OID: Record<HashName, string> = {
  'SHA-256': OID.sha256,
  'SHA-384': OID.sha384,
  'SHA-512': OID.sha512,
};

/** node:crypto's digest name for each hash. */
export const NODE_HASH: Record<HashName, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

export function hashByOid(oid: string): HashName | 'SHA-1' | null {
  if (oid === OID.sha256) return 'SHA-256';
  if (oid === OID.sha384) return 'SHA-384';
  if (oid === OID.sha512) return 'SHA-512';
  if (oid === OID.sha1) return 'SHA-1';
  return null;
}

/** Every digest a CMS signature, an ESS certificate ID or a time-stamp imprint may use here. */
export const DIGEST_OID: Record<SignatureHash, string> = { ...HASH_OID, SM3: OID.sm3 };

/** node:crypto's digest name for each of them (SM3 is native in Node's OpenSSL). */
export const NODE_DIGEST: Record<SignatureHash, string> = { ...NODE_HASH, SM3: 'sm3' };

/** Like `hashByOid`, with SM3 (GB/T 33560: 1.2.156.10197.1.401) as well. */
export function digestByOid(oid: string): SignatureHash | 'SHA-1' | null {
  return oid === OID.sm3 ? 'SM3' : hashByOid(oid);
}
