// The built-in certificate authority, as pure functions over signers: a root per deployment, an
// issuing CA per group, certificates for seals (organisations), people and the TSA, and CRLs.
// Storage (which CA key is where, which serials are revoked) belongs to the caller.
import { generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  CRLReason,
  Certificate,
  CertificateList,
  DistributionPoint,
  DistributionPointName,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  Name,
  RelativeDistinguishedName,
  RevokedCertificate,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertList,
  TBSCertificate,
  Time,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { SigningError } from './errors.js';
import { arrayBuffer, encode, integerBytes, integerDer, namedBits } from './asn1.js';
import { OID } from './oids.js';
import { signatureAlgorithmId, signatureHashOf, type KeySigner } from './signer.js';
import { keyIdentifier, parseCertificate } from './x509.js';

export type KeySpec = 'RSA-2048' | 'RSA-3072' | 'ECDSA-P256' | 'SM2';

/** Generates a private key (on the thread pool) for a software signer. */
export function generateKey(spec: KeySpec): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, _publicKey: KeyObject, privateKey: KeyObject) =>
      error ? reject(error) : resolve(privateKey);
    if (spec === 'ECDSA-P256') generateKeyPair('ec', { namedCurve: 'prime256v1' }, done);
    // OpenSSL draws SM2 keys on the SM2 curve (GB/T 32918.5); signing uses sm-crypto-v2 (sm2.ts).
    else if (spec === 'SM2') generateKeyPair('ec', { namedCurve: 'SM2' }, done);
    else generateKeyPair('rsa', { modulusLength: spec === 'RSA-3072' ? 3072 : 2048, publicExponent: 0x10001 }, done);
  });
}

/** A distinguished name. `organizationIdentifier` carries e.g. the unified social credit code (统一社会信用代码). */
export interface NameSpec {
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
  organizationIdentifier?: string;
  serialNumber?: string;
  country?: string;
  province?: string;
  locality?: string;
  email?: string;
}

export function encodeName(name: NameSpec): Buffer {
  return encode(nameOf(name));
}

function nameOf(name: NameSpec): Name {
  const rdn = (type: string, value: Partial<AttributeValue>) =>
    new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue(value) })]);
  const rdns: RelativeDistinguishedName[] = [];
  if (name.country) {
    if (!/^[A-Z]{2}$/.test(name.country))
      throw new SigningError('validation_failed', 'country must be a two-letter ISO 3166 code');
    rdns.push(rdn(OID.country, { printableString: name.country }));
  }
  if (name.province) rdns.push(rdn(OID.province, { utf8String: name.province }));
  if (name.locality) rdns.push(rdn(OID.locality, { utf8String: name.locality }));
  if (name.organization) rdns.push(rdn(OID.organization, { utf8String: name.organization }));
  if (name.organizationalUnit) rdns.push(rdn(OID.organizationalUnit, { utf8String: name.organizationalUnit }));
  if (name.organizationIdentifier)
    rdns.push(rdn(OID.organizationIdentifier, { utf8String: name.organizationIdentifier }));
  if (name.serialNumber) rdns.push(rdn(OID.serialNumber, { printableString: name.serialNumber }));
  rdns.push(rdn(OID.commonName, { utf8String: name.commonName }));
  if (name.email) rdns.push(rdn(OID.emailAddress, { ia5String: name.email }));
  return new Name(rdns);
}

/**
 * What a certificate is for. Key usages follow RFC 5280 §4.2.1.3; signing certificates carry
 * emailProtection besides documentSigning (RFC 9336) because NSS, which pdfsig uses, validates
 * PDF signers as e-mail signers and rejects an EKU list without it.
 */
export type Profile = 'root-ca' | 'issuing-ca' | 'seal' | 'person' | 'tsa';

const KU = { digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

function keyUsage(bits: number[]): KeyUsage {
  const { bytes, unusedBits } = namedBits(bits);
  return new KeyUsage(bytes, unusedBits);
}

const extension = (extnID: string, critical: boolean, value: unknown) =>
  new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });

function profileExtensions(
  profile: Profile,
  subjectSpki: Buffer,
  issuerSpki: Buffer,
  options: { crlUrl?: string; email?: string; pathLength?: number },
): Extension[] {
  const out: Extension[] = [];
  const isCa = profile === 'root-ca' || profile === 'issuing-ca';
  if (isCa) {
    const pathLength = options.pathLength ?? (profile === 'issuing-ca' ? 0 : undefined);
    out.push(extension(OID.basicConstraints, true, new BasicConstraints({ cA: true, pathLenConstraint: pathLength })));
    out.push(extension(OID.keyUsage, true, keyUsage([KU.keyCertSign, KU.cRLSign])));
  } else {
    out.push(extension(OID.basicConstraints, true, new BasicConstraints({ cA: false })));
    const bits = profile === 'tsa' ? [KU.digitalSignature] : [KU.digitalSignature, KU.nonRepudiation];
    out.push(extension(OID.keyUsage, true, keyUsage(bits)));
    // RFC 3161 §2.3: a TSA certificate has exactly one, critical, extended key usage: timeStamping.
    if (profile === 'tsa') out.push(extension(OID.extKeyUsage, true, new ExtendedKeyUsage([OID.kpTimeStamping])));
    else
      out.push(extension(OID.extKeyUsage, false, new ExtendedKeyUsage([OID.kpEmailProtection, OID.kpDocumentSigning])));
  }
  out.push(extension(OID.subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(subjectSpki))));
  if (profile !== 'root-ca')
    out.push(
      extension(
        OID.authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyIdentifier(issuerSpki)) }),
      ),
    );
  if (options.email)
    out.push(
      extension(
        OID.subjectAltName,
        false,
        new SubjectAlternativeName([new GeneralName({ rfc822Name: options.email })]),
      ),
    );
  if (options.crlUrl && profile !== 'root-ca') {
    const point = new DistributionPoint({
      distributionPoint: new DistributionPointName({
        fullName: [new GeneralName({ uniformResourceIdentifier: options.crlUrl })],
      }),
    });
    out.push(extension(OID.crlDistributionPoints, false, new CRLDistributionPoints([point])));
  }
  return out;
}

/** A positive 127-bit random serial (RFC 5280 §4.1.2.2: unique per CA, at most 20 octets). */
export function randomSerial(): bigint {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return BigInt(`0x${bytes.toString('hex')}`);
}

export interface IssueInput {
  profile: Profile;
  subject: NameSpec;
  /** The subject's public key (SubjectPublicKeyInfo DER). */
  publicKey: Buffer;
  /** Who signs: the issuing CA's key and certificate; the certificate is absent for a self-signed root. */
  issuer: { signer: KeySigner; certificate?: Buffer };
  notBefore?: Date;
  notAfter?: Date;
  serial?: bigint;
  crlUrl?: string;
  pathLength?: number;
}

/** Issues one X.509 v3 certificate (RFC 5280 §4.1) and returns its DER. */
export async function issueCertificate(input: IssueInput): Promise<Buffer> {
  const issuerCert = input.issuer.certificate ? parseCertificate(input.issuer.certificate) : null;
  if (!issuerCert && input.profile !== 'root-ca')
    throw new SigningError(
      'signing_key_invalid',
      'Only a root CA certificate is self-signed; give the issuer certificate.',
    );
  if (issuerCert && !issuerCert.isCa)
    throw new SigningError('signing_key_invalid', `${issuerCert.subject} is not a CA certificate.`);
  if (!issuerCert && !input.publicKey.equals(input.issuer.signer.publicKey))
    throw new SigningError('signing_key_invalid', 'A self-signed root must be signed by its own key.');
  const notBefore = input.notBefore ?? new Date(Date.now() - 60_000);
  const defaultDays = input.profile === 'root-ca' ? 20 * 365 : input.profile === 'issuing-ca' ? 10 * 365 : 2 * 365;
  let notAfter = input.notAfter ?? new Date(notBefore.getTime() + defaultDays * 86_400_000);
  // By default a certificate ends with its issuer; asked explicitly to outlive it is an error.
  if (!input.notAfter && issuerCert && notAfter > issuerCert.notAfter) notAfter = issuerCert.notAfter;
  if (issuerCert && notAfter > issuerCert.notAfter)
    throw new SigningError('validation_failed', 'A certificate cannot outlive its issuer.');
  const hash = signatureHashOf(input.issuer.signer);
  const algorithm = AsnConvert.parse(signatureAlgorithmId(input.issuer.signer, hash), AlgorithmIdentifier);
  const subjectName = nameOf(input.subject);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: integerBytes(input.serial ?? randomSerial()),
    signature: algorithm,
    issuer: issuerCert ? AsnConvert.parse(issuerCert.subjectDer, Name) : subjectName,
    // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, whole seconds (Time does both).
    validity: new Validity({ notBefore, notAfter }),
    subject: subjectName,
    subjectPublicKeyInfo: AsnConvert.parse(input.publicKey, SubjectPublicKeyInfo),
    extensions: new Extensions(
      profileExtensions(input.profile, input.publicKey, input.issuer.signer.publicKey, {
        crlUrl: input.crlUrl,
        email: input.subject.email,
        pathLength: input.pathLength,
      }),
    ),
  });
  const tbsDer = encode(tbs);
  const signature = await input.issuer.signer.sign(tbsDer, hash);
  return encode(
    new Certificate({ tbsCertificate: tbs, signatureAlgorithm: algorithm, signatureValue: arrayBuffer(signature) }),
  );
}

export interface CaInput {
  signer: KeySigner;
  subject: NameSpec;
  notBefore?: Date;
  notAfter?: Date;
}

export function createRootCa(input: CaInput): Promise<Buffer> {
  return issueCertificate({
    profile: 'root-ca',
    subject: input.subject,
    publicKey: input.signer.publicKey,
    issuer: { signer: input.signer },
    notBefore: input.notBefore,
    notAfter: input.notAfter,
  });
}

export interface SubjectInput {
  /** The issuing CA. */
  issuer: { signer: KeySigner; certificate: Buffer };
  subject: NameSpec;
  publicKey: Buffer;
  notBefore?: Date;
  notAfter?: Date;
  crlUrl?: string;
}

export function createIssuingCa(input: SubjectInput): Promise<Buffer> {
  return issueCertificate({ profile: 'issuing-ca', ...input });
}

/** An electronic seal's certificate: the subject is the organisation (O, organizationIdentifier), CN names the seal. */
export function issueSealCertificate(input: SubjectInput): Promise<Buffer> {
  if (!input.subject.organization)
    throw new SigningError('validation_failed', 'A seal certificate names its organisation.');
  return issueCertificate({ profile: 'seal', ...input });
}

export function issuePersonCertificate(input: SubjectInput): Promise<Buffer> {
  return issueCertificate({ profile: 'person', ...input });
}

export function issueTsaCertificate(input: SubjectInput): Promise<Buffer> {
  return issueCertificate({ profile: 'tsa', ...input });
}

/** RFC 5280 §5.3.1 reasons, named for why a seal's or person's certificate goes. */
export const REVOCATION_REASON = {
  unspecified: 0,
  keyCompromise: 1, // seal lost (挂失)
  affiliationChanged: 3, // person resigned
  superseded: 4,
  cessationOfOperation: 5, // seal destroyed (销毁)
  certificateHold: 6, // seal suspended (停用); can be lifted
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASON;

export interface CrlInput {
  issuer: { signer: KeySigner; certificate: Buffer };
  revoked: Array<{ serial: bigint; date: Date; reason?: RevocationReason }>;
  crlNumber: bigint | number;
  thisUpdate?: Date;
  nextUpdate?: Date;
}

/** A v2 CRL (RFC 5280 §5.1) with authorityKeyIdentifier and cRLNumber, DER. */
export async function createCrl(input: CrlInput): Promise<Buffer> {
  const issuer = parseCertificate(input.issuer.certificate);
  const thisUpdate = input.thisUpdate ?? new Date();
  const nextUpdate = input.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * 86_400_000);
  const hash = signatureHashOf(input.issuer.signer);
  const algorithm = AsnConvert.parse(signatureAlgorithmId(input.issuer.signer, hash), AlgorithmIdentifier);
  const entries = input.revoked.map(
    (r) =>
      new RevokedCertificate({
        userCertificate: integerBytes(r.serial),
        revocationDate: new Time(r.date),
        crlEntryExtensions:
          r.reason && r.reason !== 'unspecified'
            ? [extension(OID.crlReason, false, new CRLReason(REVOCATION_REASON[r.reason]))]
            : undefined,
      }),
  );
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: algorithm,
    issuer: AsnConvert.parse(issuer.subjectDer, Name),
    thisUpdate: new Time(thisUpdate),
    nextUpdate: new Time(nextUpdate),
    revokedCertificates: entries.length ? entries : undefined,
    crlExtensions: [
      extension(
        OID.authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyIdentifier(issuer.spki)) }),
      ),
      crlNumberExtension(input.crlNumber),
    ],
  });
  const signature = await input.issuer.signer.sign(encode(tbs), hash);
  return encode(
    new CertificateList({ tbsCertList: tbs, signatureAlgorithm: algorithm, signature: arrayBuffer(signature) }),
  );
}

/** cRLNumber (RFC 5280 §5.2.3) may need 20 octets, more than asn1-x509's number-typed CRLNumber holds. */
function crlNumberExtension(crlNumber: bigint | number): Extension {
  return new Extension({ extnID: OID.crlNumber, critical: false, extnValue: new OctetString(integerDer(crlNumber)) });
}
