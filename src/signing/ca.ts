// The built-in certificate authority, as pure functions over signers: a root per deployment, an
// issuing CA per group, certificates for seals (organisations), people and the TSA, and CRLs.
// Storage (which CA key is where, which serials are revoked) belongs to the caller.
import { generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { AppError } from '../server/errors.js';
import {
  bitString,
  boolean,
  explicit,
  ia5,
  implicitPrimitive,
  integer,
  namedBits,
  octetString,
  oid,
  printable,
  seq,
  setOf,
  utf8,
  x509Time,
  enumerated,
} from './der.js';
import { OID } from './oids.js';
import { preferredHash, signatureAlgorithmId, type KeySigner } from './signer.js';
import { keyIdentifier, parseCertificate } from './x509.js';

export type KeySpec = 'RSA-2048' | 'RSA-3072' | 'ECDSA-P256';

/** Generates a private key (on the thread pool) for a software signer. */
export function generateKey(spec: KeySpec): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, _publicKey: KeyObject, privateKey: KeyObject) =>
      error ? reject(error) : resolve(privateKey);
    if (spec === 'ECDSA-P256') generateKeyPair('ec', { namedCurve: 'prime256v1' }, done);
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
  const rdn = (type: string, value: Buffer) => setOf(seq(oid(type), value));
  const rdns: Buffer[] = [];
  if (name.country) {
    if (!/^[A-Z]{2}$/.test(name.country))
      throw new AppError('validation_failed', 'country must be a two-letter ISO 3166 code');
    rdns.push(rdn(OID.country, printable(name.country)));
  }
  if (name.province) rdns.push(rdn(OID.province, utf8(name.province)));
  if (name.locality) rdns.push(rdn(OID.locality, utf8(name.locality)));
  if (name.organization) rdns.push(rdn(OID.organization, utf8(name.organization)));
  if (name.organizationalUnit) rdns.push(rdn(OID.organizationalUnit, utf8(name.organizationalUnit)));
  if (name.organizationIdentifier) rdns.push(rdn(OID.organizationIdentifier, utf8(name.organizationIdentifier)));
  if (name.serialNumber) rdns.push(rdn(OID.serialNumber, printable(name.serialNumber)));
  rdns.push(rdn(OID.commonName, utf8(name.commonName)));
  if (name.email) rdns.push(rdn(OID.emailAddress, ia5(name.email)));
  return seq(...rdns);
}

/**
 * What a certificate is for. Key usages follow RFC 5280 §4.2.1.3; signing certificates carry
 * emailProtection besides documentSigning (RFC 9336) because NSS, which pdfsig uses, validates
 * PDF signers as e-mail signers and rejects an EKU list without it.
 */
export type Profile = 'root-ca' | 'issuing-ca' | 'seal' | 'person' | 'tsa';

const KU = { digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

interface Ext {
  id: string;
  critical: boolean;
  value: Buffer;
}

const ext = (e: Ext) => seq(oid(e.id), ...(e.critical ? [boolean(true)] : []), octetString(e.value));

function profileExtensions(
  profile: Profile,
  subjectSpki: Buffer,
  issuerSpki: Buffer,
  options: { crlUrl?: string; email?: string; pathLength?: number },
): Ext[] {
  const out: Ext[] = [];
  const isCa = profile === 'root-ca' || profile === 'issuing-ca';
  if (isCa) {
    const pathLen = options.pathLength ?? (profile === 'issuing-ca' ? 0 : undefined);
    out.push({
      id: OID.basicConstraints,
      critical: true,
      value: seq(boolean(true), ...(pathLen !== undefined ? [integer(pathLen)] : [])),
    });
    out.push({ id: OID.keyUsage, critical: true, value: namedBits([KU.keyCertSign, KU.cRLSign]) });
  } else {
    out.push({ id: OID.basicConstraints, critical: true, value: seq() });
    const bits = profile === 'tsa' ? [KU.digitalSignature] : [KU.digitalSignature, KU.nonRepudiation];
    out.push({ id: OID.keyUsage, critical: true, value: namedBits(bits) });
    // RFC 3161 §2.3: a TSA certificate has exactly one, critical, extended key usage: timeStamping.
    if (profile === 'tsa') out.push({ id: OID.extKeyUsage, critical: true, value: seq(oid(OID.kpTimeStamping)) });
    else
      out.push({
        id: OID.extKeyUsage,
        critical: false,
        value: seq(oid(OID.kpEmailProtection), oid(OID.kpDocumentSigning)),
      });
  }
  out.push({ id: OID.subjectKeyIdentifier, critical: false, value: octetString(keyIdentifier(subjectSpki)) });
  if (profile !== 'root-ca')
    out.push({
      id: OID.authorityKeyIdentifier,
      critical: false,
      value: seq(implicitPrimitive(0, keyIdentifier(issuerSpki))),
    });
  if (options.email)
    out.push({
      id: OID.subjectAltName,
      critical: false,
      value: seq(implicitPrimitive(1, Buffer.from(options.email, 'latin1'))),
    });
  if (options.crlUrl && profile !== 'root-ca') {
    // DistributionPoint { distributionPoint [0] { fullName [0] { uniformResourceIdentifier [6] } } }
    out.push({
      id: OID.crlDistributionPoints,
      critical: false,
      value: seq(seq(explicit(0, explicit(0, implicitPrimitive(6, Buffer.from(options.crlUrl, 'latin1')))))),
    });
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
    throw new AppError(
      'signing_key_invalid',
      'Only a root CA certificate is self-signed; give the issuer certificate.',
    );
  if (issuerCert && !issuerCert.isCa)
    throw new AppError('signing_key_invalid', `${issuerCert.subject} is not a CA certificate.`);
  if (!issuerCert && !input.publicKey.equals(input.issuer.signer.publicKey))
    throw new AppError('signing_key_invalid', 'A self-signed root must be signed by its own key.');
  const notBefore = input.notBefore ?? new Date(Date.now() - 60_000);
  const defaultDays = input.profile === 'root-ca' ? 20 * 365 : input.profile === 'issuing-ca' ? 10 * 365 : 2 * 365;
  let notAfter = input.notAfter ?? new Date(notBefore.getTime() + defaultDays * 86_400_000);
  // By default a certificate ends with its issuer; asked explicitly to outlive it is an error.
  if (!input.notAfter && issuerCert && notAfter > issuerCert.notAfter) notAfter = issuerCert.notAfter;
  if (issuerCert && notAfter > issuerCert.notAfter)
    throw new AppError('validation_failed', 'A certificate cannot outlive its issuer.');
  const hash = preferredHash(input.issuer.signer);
  const algorithm = signatureAlgorithmId(input.issuer.signer, hash);
  const subjectName = encodeName(input.subject);
  const extensions = profileExtensions(input.profile, input.publicKey, input.issuer.signer.publicKey, {
    crlUrl: input.crlUrl,
    email: input.subject.email,
    pathLength: input.pathLength,
  });
  const tbs = seq(
    explicit(0, integer(2)),
    integer(input.serial ?? randomSerial()),
    algorithm,
    issuerCert ? issuerCert.subjectDer : subjectName,
    seq(x509Time(notBefore), x509Time(notAfter)),
    subjectName,
    input.publicKey,
    explicit(3, seq(...extensions.map(ext))),
  );
  const signature = await input.issuer.signer.sign(tbs, hash);
  return seq(tbs, algorithm, bitString(signature));
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
    throw new AppError('validation_failed', 'A seal certificate names its organisation.');
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
  const hash = preferredHash(input.issuer.signer);
  const algorithm = signatureAlgorithmId(input.issuer.signer, hash);
  const entries = input.revoked.map((r) =>
    seq(
      integer(r.serial),
      x509Time(r.date),
      ...(r.reason && r.reason !== 'unspecified'
        ? [seq(seq(oid(OID.crlReason), octetString(enumerated(REVOCATION_REASON[r.reason]))))]
        : []),
    ),
  );
  const extensions = seq(
    ext({
      id: OID.authorityKeyIdentifier,
      critical: false,
      value: seq(implicitPrimitive(0, keyIdentifier(issuer.spki))),
    }),
    ext({ id: OID.crlNumber, critical: false, value: integer(input.crlNumber) }),
  );
  const tbs = seq(
    integer(1),
    algorithm,
    issuer.subjectDer,
    x509Time(thisUpdate),
    x509Time(nextUpdate),
    ...(entries.length ? [seq(...entries)] : []),
    explicit(0, extensions),
  );
  const signature = await input.issuer.signer.sign(tbs, hash);
  return seq(tbs, algorithm, bitString(signature));
}
