// GB/T 35275-2017 (GM/T 0010) SM2 SignedData, the signed value of an OFD digital signature without
// a seal (Type="Sign", GM/T 0099-2020 §7.2.2 b). As ofdrw's GBT35275DSContainer writes it: content
// type 1.2.156.10197.6.1.4.2.2, the content (type 1.2.156.10197.6.1.4.2.1) is the SM3 of the
// protected bytes (in OFD, Signature.xml), and the one SignerInfo has digest SM3, algorithm SM2-1
// (1.2.156.10197.1.301.1) and the SM2 signature (standard user ID) over that content, without
// authenticated attributes. Reading also takes what other producers write: SM2-with-SM3 as the
// algorithm, id-signedData, a raw 64-byte r‖s value, and authenticated attributes (PKCS #9
// message-digest = SM3 of the protected bytes, the signature over the attributes).
import { AsnConvert } from '@peculiar/asn1-schema';
import { IssuerAndSerialNumber } from '@peculiar/asn1-cms';
import { AlgorithmIdentifier, Name } from '@peculiar/asn1-x509';
import { arrayBuffer, ecdsaSignatureDer, encode, integerDer, oidDer } from './asn1.js';
import { findSignerCertificate, octetStringValue, parseSignedData } from './cms.js';
import { SigningError } from './errors.js';
import { OID } from './oids.js';
import { checkPublicKey, validatePath } from './path-validation.js';
import type { Signer } from './signer.js';
import { sm3 } from './sm2.js';
import { derSetOf, wrap } from './tlv.js';
import { parseCertificate, parseCrl, verifySignature } from './x509.js';

export interface SignGbt35275Input {
  /** An SM2 key with its certificate. */
  signer: Signer;
  /** The protected bytes; the content is their SM3. */
  data: Uint8Array;
  /** Also carry the issuers' certificates (ofdrw carries the signer's only). */
  includeChain?: boolean;
}

/** Makes a GB/T 35275 SignedData (DER): OFD's SignedValue.dat for a Type="Sign" signature. */
export async function signGbt35275(input: SignGbt35275Input): Promise<Buffer> {
  if (input.signer.keyType !== 'SM2')
    throw new SigningError('signing_key_invalid', 'A GB/T 35275 signature is made with an SM2 key.');
  const digest = sm3(input.data);
  const signature = await input.signer.sign(digest, 'SM3');
  const cert = parseCertificate(input.signer.certificate);
  const sm3Id = encode(new AlgorithmIdentifier({ algorithm: OID.sm3 }));
  // SignerInfo ::= SEQUENCE { version 1, issuerAndSerialNumber, digestAlgorithm,
  //   digestEncryptionAlgorithm, encryptedDigest OCTET STRING } (GB/T 35275 §8.1, no attributes)
  const signerInfo = wrap(0x30, [
    integerDer(1),
    encode(
      new IssuerAndSerialNumber({
        issuer: AsnConvert.parse(cert.issuerDer, Name),
        serialNumber: arrayBuffer(cert.serialBytes),
      }),
    ),
    sm3Id,
    encode(new AlgorithmIdentifier({ algorithm: OID.sm2Sign })),
    wrap(0x04, [signature]),
  ]);
  const certificates = [input.signer.certificate, ...(input.includeChain ? input.signer.chain : [])];
  const signedData = wrap(0x30, [
    integerDer(1),
    derSetOf([sm3Id]),
    // ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT content }: the SM3 of the data.
    wrap(0x30, [oidDer(OID.gmData), wrap(0xa0, [wrap(0x04, [digest])])]),
    wrap(0xa0, certificates),
    derSetOf([signerInfo]),
  ]);
  return wrap(0x30, [oidDer(OID.gmSignedData), wrap(0xa0, [signedData])]);
}

export interface Gbt35275VerifyOptions {
  /** Roots for the signer's path; without them the chain is not judged. */
  trustAnchors?: Buffer[];
  intermediates?: Buffer[];
  crls?: Buffer[];
  /** When the certificate must be valid: a Type="Sign" signature has no proven time; now by default. */
  at?: Date;
}

export interface Gbt35275Verdict {
  /** Content (or message-digest) = SM3 of the data, the SM2 signature, the certificate at `at`, and the chain if roots were given. */
  valid: boolean;
  certificate: Buffer | null;
  checks: {
    digest: 'match' | 'mismatch' | 'absent';
    signature: boolean;
    certificateValid: boolean;
    chain: 'trusted' | 'untrusted' | 'not-checked';
  };
  problems: string[];
  notices: string[];
}

/** A raw 64-byte r‖s as DER SEQUENCE { r, s }; anything else unchanged. */
function signatureDer(value: Buffer, notices: string[]): Buffer {
  if (value.length === 64 && value[0] !== 0x30) {
    notices.push('the signature value is a raw 64-byte r‖s, not the DER SM2Signature of GB/T 35276 §7.3');
    return ecdsaSignatureDer(value.subarray(0, 32), value.subarray(32));
  }
  return value;
}

/** Verifies a GB/T 35275 SignedData over `data` (GM/T 0099-2020 §8.2.2: digest, then signature). */
export function verifyGbt35275(
  der: Uint8Array,
  data: Uint8Array,
  options: Gbt35275VerifyOptions = {},
): Gbt35275Verdict {
  const verdict: Gbt35275Verdict = {
    valid: false,
    certificate: null,
    checks: { digest: 'absent', signature: false, certificateValid: false, chain: 'not-checked' },
    problems: [],
    notices: [],
  };
  const { problems, notices } = verdict;
  let cms;
  try {
    cms = parseSignedData(Buffer.from(der), 'GB/T 35275 SignedData');
  } catch (error) {
    problems.push(
      `the signed value is not a GB/T 35275 SignedData: ${error instanceof Error ? error.message : String(error)}`,
    );
    return verdict;
  }
  if (cms.signerInfos.length !== 1) {
    problems.push(`the SignedData has ${cms.signerInfos.length} signers; a Type Sign signature has one`);
    return verdict;
  }
  const si = cms.signerInfos[0]!;
  if (si.digestAlgorithm !== 'SM3') {
    problems.push(`the digest algorithm is ${si.digestAlgorithmOid}, not SM3`);
    return verdict;
  }
  const expected = sm3(data);
  const matches = (value: Buffer): boolean => {
    if (value.equals(expected)) return true;
    // ofdrw reads a base64 text of the digest too ("non-standard", as some producers write it).
    if (value.toString('latin1') === expected.toString('base64')) {
      notices.push('the content is the base64 text of the SM3 digest, not the digest itself');
      return true;
    }
    return false;
  };
  let signed: Buffer;
  if (si.signedAttrs) {
    const md = si.signedAttributes.get(OID.messageDigest)?.[0];
    verdict.checks.digest = md && octetStringValue(md).equals(expected) ? 'match' : 'mismatch';
    if (cms.content && !matches(cms.content)) verdict.checks.digest = 'mismatch';
    signed = si.signedAttrs;
  } else if (cms.content) {
    verdict.checks.digest = matches(cms.content) ? 'match' : 'mismatch';
    signed = cms.content;
  } else {
    problems.push('the SignedData carries neither the digest nor signed attributes: nothing binds it to the data');
    return verdict;
  }
  if (verdict.checks.digest === 'mismatch')
    problems.push('the protected data was changed after signing: its SM3 differs from the signed digest');

  const certDer = findSignerCertificate(si, [...cms.certificates, ...(options.intermediates ?? [])]);
  if (!certDer) {
    problems.push("the signer's certificate is not in the SignedData");
    return verdict;
  }
  verdict.certificate = certDer;
  const cert = parseCertificate(certDer);
  const keyProblem = checkPublicKey(cert.spki);
  if (keyProblem) problems.push(`the signer's certificate cannot be accepted: ${keyProblem}`);
  verdict.checks.signature = verifySignature(
    cert.spki,
    si.signatureAlgorithm,
    signed,
    signatureDer(si.signature, notices),
    'SM3',
  );
  if (!verdict.checks.signature) problems.push("the SM2 signature does not verify with the signer's certificate");

  const at = options.at ?? new Date();
  verdict.checks.certificateValid = at >= cert.notBefore && at <= cert.notAfter;
  if (!verdict.checks.certificateValid)
    problems.push(
      `the signer's certificate (${cert.subject}) is valid from ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}, not at ${at.toISOString()}`,
    );
  if (options.trustAnchors?.length) {
    const path = validatePath({
      leaf: cert,
      pool: [...cms.certificates, ...(options.intermediates ?? [])].map((c) => parseCertificate(c)),
      anchors: options.trustAnchors.map((c) => parseCertificate(c)),
      at,
      purpose: 'document-signing',
      crls: (options.crls ?? []).map((c) => parseCrl(c)),
    });
    verdict.checks.chain = path.valid ? 'trusted' : 'untrusted';
    for (const p of path.problems) problems.push(`signer's chain: ${p}`);
  }
  verdict.valid = problems.length === 0;
  return verdict;
}
