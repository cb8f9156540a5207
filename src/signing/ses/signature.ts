// Seal signatures (电子签章): GB/T 38540-2020 SES_Signature ("v4"). Signing follows §7.2 (check the
// seal, the signer's certificate and its place on the seal's list; hash the data with SM3; sign
// TBS_Sign with SM2; optionally time-stamp the signature value), verification §7.3 a)–h) in full,
// including the checks common implementations skip: the seal maker's signature, the signer on the
// seal's certificate list, and the seal's validity at the signing time.
import { AsnConvert, BitString, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { encode, oidDer, toBuffer, RawElement } from '../asn1.js';
import { SigningError } from '../errors.js';
import { OID } from '../oids.js';
import { validatePath } from '../path-validation.js';
import type { Signer } from '../signer.js';
import { sm3 } from '../sm2.js';
import { childrenOf, readTlv, wrap } from '../tlv.js';
import { checkTimestampToken, type Timestamper } from '../tsa.js';
import { parseCertificate, parseCrl, sha256, verifySignature, type Certificate } from '../x509.js';
import {
  SEAL_LIMITS,
  checkSealInto,
  decodeSeal,
  isListedSigner,
  verifySeal,
  type DecodedSeal,
  type SealVerdict,
} from './seal.js';
import { SesSignatureV4, TbsSignV4 } from './ses-asn1.js';

/** A seal signature holds one seal, two certificates, a hash and a time-stamp token: bounded. */
export const SES_SIGNATURE_LIMITS = {
  maxBytes: SEAL_LIMITS.maxBytes + 256 * 1024,
  maxPropertyInfo: 1024,
  maxTimeStampBytes: 64 * 1024,
} as const;

const malformed = (detail: string) => new SigningError('seal_malformed', `The seal signature ${detail}.`);

export interface DecodedSesSignature {
  version: 4 | 5;
  seal: DecodedSeal;
  /** 签章时间 as the signer claims it (TBS_Sign.timeInfo). */
  timeInfo: Date;
  dataHash: Buffer;
  /** 签名保护范围: in OFD, the path of the Signature.xml whose bytes were hashed. */
  propertyInfo: string;
  /** The signer's certificate (签章者证书), DER. */
  certificate: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
  /** RFC 3161 / GB/T 20520 time-stamp token over the signature value, DER. */
  timeStamp: Buffer | null;
  /** The TBS_Sign bytes the signer signed. */
  signedData: Buffer;
  der: Buffer;
}

/** Reads a v4 (or v5) SES_Signature, bounded; refuses other versions by name. */
export function decodeSesSignature(der: Uint8Array): DecodedSesSignature {
  const bytes = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  if (bytes.length > SES_SIGNATURE_LIMITS.maxBytes)
    throw malformed(`is larger than ${SES_SIGNATURE_LIMITS.maxBytes} bytes`);
  let count: number;
  try {
    const top = readTlv(bytes, 0, bytes.length, 'SES_Signature');
    if (top.tag !== 0x30) throw new Error('not a SEQUENCE');
    if (top.next !== bytes.length) throw new Error('bytes follow the signature');
    count = childrenOf(bytes, top, 'SES_Signature').length;
  } catch (error) {
    throw malformed(`is not DER (${error instanceof Error ? error.message : String(error)})`);
  }
  if (count === 2)
    throw malformed(
      'is a GM/T 0031-2014 (v1) SES_Signature; Sigil reads v1 seals but verifies v4 and v5 signatures only',
    );
  if (count !== 4 && count !== 5)
    throw malformed(`has ${count} elements; SES_Signature has 4 or 5 (GB/T 38540, GM/T 0031-2025)`);
  let parsed: SesSignatureV4;
  try {
    parsed = AsnConvert.parse(bytes, SesSignatureV4, {
      berOptions: { maxDepth: 32, maxNodes: 100_000, maxContentLength: SES_SIGNATURE_LIMITS.maxBytes },
    });
  } catch (error) {
    if (error instanceof SigningError) throw error;
    throw malformed(`is not a readable SES_Signature (${error instanceof Error ? error.message : String(error)})`);
  }
  const tbs = parsed.toSign;
  if (!parsed.toSignRaw) throw malformed('lost the bytes of its TBS_Sign');
  // The seal inside is read and bounded like any seal file.
  const seal = decodeSeal(toBuffer(tbs.eseal.bytes));
  if (tbs.version !== 4 && tbs.version !== 5) throw malformed(`has version ${tbs.version}; only 4 and 5 are read`);
  if (tbs.version !== seal.version)
    throw malformed(`has version ${tbs.version} but carries a version ${seal.version} seal`);
  if (tbs.propertyInfo.length > SES_SIGNATURE_LIMITS.maxPropertyInfo || /[\u0000-\u001f]/.test(tbs.propertyInfo))
    throw malformed('propertyInfo is too long or contains control characters');
  if (Number.isNaN(tbs.timeInfo.getTime())) throw malformed('timeInfo is not a time');
  const bit = (value: BitString, field: string) => {
    if (value.unusedBits !== 0) throw malformed(`${field} is not a whole number of bytes`);
    return toBuffer(value.value);
  };
  const dataHash = bit(tbs.dataHash, 'dataHash');
  if (dataHash.length === 0 || dataHash.length > 64) throw malformed(`dataHash has ${dataHash.length} bytes`);
  const certificate = toBuffer(parsed.cert.buffer);
  if (certificate.length === 0 || certificate.length > SEAL_LIMITS.maxCertificateBytes)
    throw malformed(`carries a signer certificate of ${certificate.length} bytes`);
  const timeStamp = parsed.timeStamp ? bit(parsed.timeStamp, 'timeStamp') : null;
  if (timeStamp && timeStamp.length > SES_SIGNATURE_LIMITS.maxTimeStampBytes)
    throw malformed('carries a time-stamp token that is too large');
  if (tbs.extDatas?.some((e) => e.critical))
    throw malformed(
      `has a critical extension this verifier does not know (${tbs.extDatas.find((e) => e.critical)!.extnID})`,
    );
  return {
    version: tbs.version,
    seal,
    timeInfo: tbs.timeInfo,
    dataHash,
    propertyInfo: tbs.propertyInfo,
    certificate,
    signatureAlgorithm: parsed.signatureAlgID,
    signature: bit(parsed.signature, 'signature'),
    timeStamp,
    signedData: toBuffer(parsed.toSignRaw),
    der: bytes,
  };
}

// ---------------------------------------------------------------- signing

export interface SignSesSignatureInput {
  /** The seal (.esl, DER): a v4 seal that verifies now and lists the signer. */
  seal: Uint8Array;
  /** The signer (签章者): an SM2 key with the certificate the seal lists. */
  signer: Signer;
  /** What is protected; dataHash = SM3(data). In OFD, the bytes of Signature.xml. */
  data: Uint8Array;
  /** 签名保护范围: in OFD, the path of that Signature.xml (e.g. "/Doc_0/Signs/Sign_0/Signature.xml"). */
  propertyInfo: string;
  /** Adds an RFC 3161 (GB/T 20520) time-stamp over the signature value. */
  timestamper?: Timestamper;
  /**
   * The imprint's hash: SM3 by default (GB/T 20520 with national cryptography; an SM2 TSA then
   * signs SM2-with-SM3), SHA-256 for a TSA that knows no SM3.
   */
  timestampHash?: 'SM3' | 'SHA-256';
  /** The signing time (whole seconds); now by default. */
  at?: Date;
}

/** Makes a GB/T 38540 SES_Signature (v4; v5 with a v5 seal) and returns its DER (OFD's SignedValue.dat). */
export async function signSesSignature(input: SignSesSignatureInput): Promise<Buffer> {
  const at = new Date(input.at?.getTime() ?? Date.now());
  at.setUTCMilliseconds(0);
  // §7.2 a): the seal verifies (format, maker's signature, maker certificate, validity now).
  const sealVerdict = verifySeal(input.seal, { at });
  if (!sealVerdict.seal)
    throw new SigningError('seal_malformed', sealVerdict.problems[0] ?? 'The seal cannot be read.');
  const seal = sealVerdict.seal;
  if (!sealVerdict.valid)
    throw new SigningError('validation_failed', `The seal cannot be used: ${sealVerdict.problems.join('; ')}.`, {
      errors: sealVerdict.problems.map((message) => ({ field: 'seal', message })),
    });
  // GM/T 0031-2025 keeps the v4 TBS_Sign and numbers it 5; a 2014 seal needs the 2014 structures.
  if (seal.version === 1)
    throw new SigningError(
      'validation_failed',
      'Sigil signs with GB/T 38540 (v4) and GM/T 0031-2025 (v5) seals; this one is a GM/T 0031-2014 (v1) seal.',
    );
  // §7.2 b)–c): the signer's certificate, in force, SM2, and on the seal's list.
  if (input.signer.keyType !== 'SM2')
    throw new SigningError('signing_key_invalid', 'A GB/T 38540 seal signature is made with an SM2 key.');
  const cert = parseCertificate(input.signer.certificate);
  if (at < cert.notBefore || at > cert.notAfter)
    throw new SigningError('certificate_expired', `The signer's certificate (${cert.subject}) is not valid now.`, {
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
    });
  if (!isListedSigner(seal, input.signer.certificate))
    throw new SigningError(
      'validation_failed',
      `${cert.subject} is not on the seal's list of signers; if the certificate was renewed, the seal must be made again.`,
    );
  if (!/^[\x20-\x7e]{1,1024}$/.test(input.propertyInfo))
    throw new SigningError('validation_failed', 'propertyInfo is 1 to 1024 printable ASCII characters (IA5String).');
  // §7.2 d)–e): hash the data, build TBS_Sign with the whole seal inside, sign it.
  const tbs = encode(
    new TbsSignV4({
      version: seal.version,
      eseal: new RawElement(seal.der),
      timeInfo: at,
      dataHash: new BitString(sm3(input.data)),
      propertyInfo: input.propertyInfo,
    }),
  );
  const signature = await input.signer.sign(tbs, 'SM3');
  const parts = [
    tbs,
    encode(new OctetString(input.signer.certificate)),
    oidDer(OID.sm2WithSm3),
    encode(new BitString(signature)),
  ];
  // §7.2 f): the time-stamp is over the signature value, [0] EXPLICIT BIT STRING (as ofdrw writes it).
  if (input.timestamper) {
    const token =
      input.timestampHash === 'SHA-256'
        ? await input.timestamper.timestamp(sha256(signature), 'SHA-256')
        : await input.timestamper.timestamp(sm3(signature), 'SM3');
    parts.push(wrap(0xa0, [encode(new BitString(token))]));
  }
  return wrap(0x30, parts);
}

// ---------------------------------------------------------------- verifying

export interface SesVerifyOptions {
  /** The protected data (in OFD, the bytes named by propertyInfo); without it the hash is not checked. */
  data?: Uint8Array;
  /** Roots for the signer's, the seal maker's and the TSA's paths; without them no chain is checked. */
  trustAnchors?: Buffer[];
  intermediates?: Buffer[];
  crls?: Buffer[];
}

export interface SesSignatureVerdict {
  /** Every check of §7.3 holds, the data was given and matches, and any chain asked for is trusted. */
  valid: boolean;
  signature: DecodedSesSignature | null;
  problems: string[];
  notices: string[];
  checks: {
    /** a) the structure reads. */
    structure: boolean;
    /** b) the signer's SM2 signature over TBS_Sign. */
    signature: boolean;
    /** c) the signer's certificate is on the seal's list. */
    signerListed: boolean;
    /** d) the seal, judged at the signing time. */
    seal: SealVerdict | null;
    /** e) the signer's certificate was in force at the signing time and may sign. */
    signerCertificate: boolean;
    signerChain: 'trusted' | 'untrusted' | 'not-checked';
    /** f) dataHash against SM3 of the given data. */
    dataHash: 'match' | 'mismatch' | 'not-checked';
    /** g) the time-stamp over the signature value, and the claimed time not after it. */
    timeStamp: 'valid' | 'invalid' | 'absent';
  };
  /** The claimed signing time (timeInfo) and, when there is a valid time-stamp, its time. */
  signingTime: Date | null;
  timeStampTime: Date | null;
}

/** Verifies a seal signature (GB/T 38540 §7.3). Never throws on bad input. */
export function verifySesSignature(der: Uint8Array, options: SesVerifyOptions = {}): SesSignatureVerdict {
  const verdict: SesSignatureVerdict = {
    valid: false,
    signature: null,
    problems: [],
    notices: [],
    checks: {
      structure: false,
      signature: false,
      signerListed: false,
      seal: null,
      signerCertificate: false,
      signerChain: 'not-checked',
      dataHash: 'not-checked',
      timeStamp: 'absent',
    },
    signingTime: null,
    timeStampTime: null,
  };
  const problems = verdict.problems;
  let sig: DecodedSesSignature;
  try {
    sig = decodeSesSignature(der);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    return verdict;
  }
  verdict.signature = sig;
  verdict.checks.structure = true;
  verdict.signingTime = sig.timeInfo;
  const at = sig.timeInfo;

  // b) the signature over TBS_Sign, with the signer certificate's key, under the algorithm the certificate's key is for.
  let cert: Certificate | null = null;
  try {
    cert = parseCertificate(sig.certificate);
  } catch (error) {
    problems.push(`the signer's certificate cannot be read (${error instanceof Error ? error.message : ''})`);
  }
  if (cert) {
    const algorithm = encode(new AlgorithmIdentifier({ algorithm: sig.signatureAlgorithm }));
    if (sig.signatureAlgorithm !== OID.sm2WithSm3)
      problems.push(`the signature algorithm ${sig.signatureAlgorithm} is not SM2-with-SM3`);
    else if (verifySignature(cert.spki, algorithm, sig.signedData, sig.signature)) verdict.checks.signature = true;
    else
      problems.push(
        `the signature does not verify with the key of "${cert.subject}": the signed content was changed or another key signed it`,
      );
  }

  // c) the signer on the seal's list (byte-equal certificate, or its digest).
  if (isListedSigner(sig.seal, sig.certificate)) verdict.checks.signerListed = true;
  else problems.push(`the signer${cert ? ` "${cert.subject}"` : ''} is not on the seal's list of signers`);

  // d) the seal, at the signing time: its maker's signature, maker certificate, validity period.
  const sealVerdict: SealVerdict = {
    valid: false,
    seal: sig.seal,
    problems: [],
    notices: [],
    checks: {
      structure: true,
      makerSignature: false,
      validity: false,
      makerCertificate: false,
      chain: 'not-checked',
      timeStamp: 'absent',
    },
    signedOver: null,
    at,
  };
  checkSealInto(sig.seal, { ...options, at }, sealVerdict);
  sealVerdict.valid =
    sealVerdict.problems.length === 0 &&
    sealVerdict.checks.makerSignature &&
    sealVerdict.checks.validity &&
    sealVerdict.checks.makerCertificate &&
    sealVerdict.checks.chain !== 'untrusted' &&
    sealVerdict.checks.timeStamp !== 'invalid';
  verdict.checks.seal = sealVerdict;
  for (const p of sealVerdict.problems) problems.push(`seal: ${p}`);
  for (const n of sealVerdict.notices) verdict.notices.push(`seal: ${n}`);
  const now = new Date();
  if (sealVerdict.checks.validity && (now < sig.seal.validStart || now > sig.seal.validEnd))
    verdict.notices.push('the seal is no longer valid now; it was at the signing time');

  // e) the signer's certificate: in force at the signing time, allowed to sign; its chain when asked.
  if (cert) {
    const signs = !cert.keyUsage || cert.keyUsage.includes(0) || cert.keyUsage.includes(1);
    if (at < cert.notBefore || at > cert.notAfter)
      problems.push(
        `the signer's certificate was not valid at the signing time ${at.toISOString()} (valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`,
      );
    else if (!signs) problems.push("the signer's certificate may not sign (key usage)");
    else verdict.checks.signerCertificate = true;
    if (options.trustAnchors?.length) {
      const result = validatePath({
        leaf: cert,
        pool: (options.intermediates ?? []).map((c) => parseCertificate(c)),
        anchors: options.trustAnchors.map((c) => parseCertificate(c)),
        at,
        purpose: 'document-signing',
        crls: (options.crls ?? []).map((c) => parseCrl(c)),
      });
      verdict.checks.signerChain = result.valid ? 'trusted' : 'untrusted';
      for (const p of result.problems) problems.push(`signer's chain: ${p}`);
    }
  }

  // f) the data hash, SM3 of the protected data.
  if (options.data) {
    if (sm3(options.data).equals(sig.dataHash)) verdict.checks.dataHash = 'match';
    else {
      verdict.checks.dataHash = 'mismatch';
      problems.push(
        `the data was changed after signing: its SM3 differs from dataHash (protected: ${sig.propertyInfo})`,
      );
    }
  } else verdict.notices.push(`the protected data (${sig.propertyInfo}) was not given, so dataHash was not checked`);

  // g) the time-stamp over the signature value; the claimed time may not be later than it.
  if (!sig.timeStamp)
    verdict.notices.push('the signing time is the signer’s own claim: the signature carries no time-stamp');
  if (sig.timeStamp) {
    const check = checkTimestampToken(sig.timeStamp, { data: [sig.signature] });
    if (!check.ok) {
      verdict.checks.timeStamp = 'invalid';
      for (const p of check.problems) problems.push(`time-stamp: ${p}`);
    } else if (check.genTime && sig.timeInfo > check.genTime) {
      verdict.checks.timeStamp = 'invalid';
      problems.push(
        `the claimed signing time ${sig.timeInfo.toISOString()} is later than the time-stamp (${check.genTime.toISOString()})`,
      );
    } else {
      verdict.checks.timeStamp = 'valid';
      verdict.timeStampTime = check.genTime;
      if (options.trustAnchors?.length && check.tsaCertificate && check.genTime) {
        const result = validatePath({
          leaf: parseCertificate(check.tsaCertificate),
          pool: [...check.certificates, ...(options.intermediates ?? [])].map((c) => parseCertificate(c)),
          anchors: options.trustAnchors.map((c) => parseCertificate(c)),
          at: check.genTime,
          purpose: 'timestamping',
          crls: (options.crls ?? []).map((c) => parseCrl(c)),
        });
        if (!result.valid) {
          verdict.checks.timeStamp = 'invalid';
          for (const p of result.problems) problems.push(`time-stamp authority's chain: ${p}`);
        }
      }
    }
  }

  verdict.valid =
    problems.length === 0 &&
    verdict.checks.signature &&
    verdict.checks.signerListed &&
    sealVerdict.valid &&
    verdict.checks.signerCertificate &&
    verdict.checks.signerChain !== 'untrusted' &&
    verdict.checks.dataHash === 'match' &&
    verdict.checks.timeStamp !== 'invalid';
  return verdict;
}
