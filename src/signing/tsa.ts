// RFC 3161 time-stamping on @peculiar/asn1-tsp: the authority (TimeStampReq DER → TimeStampResp
// DER, backing `/tsa`) and the client side (`Timestamper`), in-process or over HTTP with failover.
import { createHash, randomBytes } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import {
  Accuracy,
  PKIFailureInfo,
  PKIFreeText,
  PKIStatus,
  PKIStatusInfo,
  TSTInfo,
  TimeStampReq,
  TimeStampResp,
} from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { SigningError } from './errors.js';
import { BER_LIMITS, Memo, encode, integerDer, integerValue, namedBits, oidDer, parseAs, toBuffer } from './asn1.js';
import { bytesOf, childrenOf, readTlv, wrap } from './tlv.js';
import { DIGEST_OID, NODE_DIGEST, OID, digestByOid, type SignatureHash } from './oids.js';
import {
  checkSigningCertificateAttribute,
  encodeSignedData,
  findSignerCertificate,
  octetStringValue,
  parseSignedData,
  signAttributes,
  type ParsedSignedData,
} from './cms.js';
import type { Signer } from './signer.js';
import { parseCertificate, verifySignature } from './x509.js';

/** Sigil's default TSA policy: a UUID-derived OID (X.667, arc 2.25), needing no registration. */
export const DEFAULT_TSA_POLICY = '2.25.231770245519843117013716394512370112633';

export interface TimeStampAuthority {
  /** The TSA's signer; its certificate must carry the critical timeStamping EKU (RFC 3161 §2.3). */
  signer: Signer;
  policy?: string;
  /** The clock; a test may pin it. */
  now?: () => Date;
  /** Accuracy claimed in TSTInfo, in seconds. */
  accuracySeconds?: number;
}

/**
 * PKIFailureInfo bit numbers (RFC 3161 §2.4.2). asn1-tsp's PKIFailureInfoFlags number some bits
 * one lower than the RFC (badRequest as bit 1, not 2), so the bits are set here by number.
 */
const FAIL = { badAlg: 0, badRequest: 2, badDataFormat: 5, unacceptedPolicy: 15, systemFailure: 25 } as const;

function rejection(failBit: number, text: string): Buffer {
  const bits = namedBits([failBit]);
  return encode(
    new TimeStampResp({
      status: new PKIStatusInfo({
        status: PKIStatus.rejection,
        statusString: new PKIFreeText([text]),
        failInfo: new PKIFailureInfo(bits.bytes, bits.unusedBits),
      }),
    }),
  );
}

function assertTsaCertificate(signer: Signer): void {
  const cert = parseCertificate(signer.certificate);
  const eku = cert.extensions.get(OID.extKeyUsage);
  if (!eku?.critical || cert.extKeyUsage?.length !== 1 || cert.extKeyUsage[0] !== OID.kpTimeStamping) {
    throw new SigningError(
      'signing_key_invalid',
      'A TSA certificate needs exactly one extended key usage, timeStamping, marked critical (RFC 3161 §2.3).',
    );
  }
}

/**
 * Answers one TimeStampReq. Malformed or unacceptable requests get a `rejection` response
 * (RFC 3161 §2.4.2), not an exception; only a failing signer throws.
 */
export async function respondToTimeStampRequest(tsa: TimeStampAuthority, request: Buffer): Promise<Buffer> {
  assertTsaCertificate(tsa.signer);
  if (request.length > 64 * 1024) return rejection(FAIL.badDataFormat, 'request too large');
  let req: TimeStampReq;
  try {
    const parsed = asn1js.fromBER(request, BER_LIMITS);
    if (parsed.offset === -1) return rejection(FAIL.badDataFormat, 'not a DER TimeStampReq');
    if (parsed.offset !== request.length) return rejection(FAIL.badDataFormat, 'trailing bytes after the request');
    req = AsnParser.fromASN(parsed.result, TimeStampReq);
  } catch {
    return rejection(FAIL.badDataFormat, 'unreadable TimeStampReq');
  }
  const policy = tsa.policy ?? DEFAULT_TSA_POLICY;
  if (req.version !== 1) return rejection(FAIL.badRequest, 'unsupported version');
  if (req.reqPolicy !== undefined && req.reqPolicy !== policy)
    return rejection(FAIL.unacceptedPolicy, 'unaccepted policy');
  if (req.extensions?.length) return rejection(FAIL.badRequest, 'extensions are not supported');
  const hash = digestByOid(req.messageImprint.hashAlgorithm.algorithm);
  const imprint = toBuffer(req.messageImprint.hashedMessage.buffer);
  if (hash === null || hash === 'SHA-1') return rejection(FAIL.badAlg, 'use SHA-256, SHA-384, SHA-512 or SM3');
  if (!imprintFits(hash, imprint)) return rejection(FAIL.badDataFormat, 'hash length does not match its algorithm');
  const token = await issueToken(tsa, {
    hash,
    imprint,
    nonce: req.nonce ? integerValue(new Uint8Array(req.nonce)) : null,
    certReq: req.certReq,
  });
  // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
  return wrap(0x30, [GRANTED, token]);
}

/** Whether a message imprint has the length of its hash algorithm's digests. */
const imprintFits = (hash: SignatureHash, imprint: Buffer): boolean =>
  imprint.length === createHash(NODE_DIGEST[hash]).digest().length;

/** A time-stamp token (ContentInfo with SignedData over TSTInfo) for an accepted request's fields. */
async function issueToken(
  tsa: TimeStampAuthority,
  req: { hash: SignatureHash; imprint: Buffer; nonce: bigint | null; certReq: boolean },
): Promise<Buffer> {
  const { hash, imprint } = req;
  const policy = tsa.policy ?? DEFAULT_TSA_POLICY;
  const genTime = (tsa.now ?? (() => new Date()))();
  // TSTInfo (§2.4.2) from its fields, each encoded by asn1-schema or asn1js: version, policy,
  // messageImprint (the request's, as §2.4.2 requires), serialNumber, genTime, accuracy, nonce.
  const tstInfo = wrap(0x30, [
    INTEGER_1,
    constant(`policy:${policy}`, () => oidDer(policy)),
    messageImprintOf(hash, imprint),
    // Serial numbers must be unique per TSA (§2.4.2); 128 random bits need no shared counter
    // between server processes.
    integerDer(BigInt(`0x${randomBytes(16).toString('hex')}`)),
    toBuffer(new asn1js.GeneralizedTime({ valueDate: genTime }).toBER()),
    constant(`accuracy:${tsa.accuracySeconds ?? 1}`, () => encode(new Accuracy({ seconds: tsa.accuracySeconds ?? 1 }))),
    ...(req.nonce !== null ? [integerDer(req.nonce)] : []),
  ]);
  // An SM2 TSA signs SM2-with-SM3 whatever the imprint (GB/T 20520 with national cryptography);
  // an RSA or ECDSA one signs with SHA-2, also over an SM3 imprint.
  const tsaHash: SignatureHash =
    tsa.signer.keyType === 'SM2'
      ? 'SM3'
      : tsa.signer.keyType === 'EC' || hash === 'SHA-256' || hash === 'SM3'
        ? 'SHA-256'
        : hash;
  const parts = await signAttributes({
    signer: tsa.signer,
    hash: tsaHash,
    digest: createHash(NODE_DIGEST[tsaHash]).update(tstInfo).digest(),
    contentType: OID.tstInfo,
    content: tstInfo,
    includeChain: req.certReq,
    // §2.4.1: without certReq the token carries no certificates at all.
    omitCertificates: !req.certReq,
  });
  return encodeSignedData(parts);
}

const GRANTED = encode(new PKIStatusInfo({ status: PKIStatus.granted }));

// ---------------------------------------------------------------- client side

/** Gets RFC 3161 time-stamp tokens; the token is a CMS ContentInfo (DER). */
export interface Timestamper {
  readonly name: string;
  /** `hash` names the digest's algorithm: the TSA puts it in the message imprint. */
  timestamp(digest: Buffer, hash: SignatureHash): Promise<Buffer>;
}

export function buildTimeStampRequest(digest: Buffer, hash: SignatureHash, nonce: Buffer): Buffer {
  // TimeStampReq ::= SEQUENCE { version, messageImprint, reqPolicy?, nonce?, certReq DEFAULT FALSE, … }
  return wrap(0x30, [
    INTEGER_1,
    messageImprintOf(hash, digest),
    integerDer(BigInt(`0x${nonce.toString('hex')}`)),
    TRUE,
  ]);
}

const INTEGER_1 = integerDer(1);
const TRUE = toBuffer(new asn1js.Boolean({ value: true }).toBER());
const constants = new Memo<Buffer>();
const constant = (key: string, make: () => Buffer): Buffer => constants.get(key, make);

/** MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING } */
function messageImprintOf(hash: SignatureHash, digest: Buffer): Buffer {
  const algorithm = constant(`hash:${hash}`, () => encode(new AlgorithmIdentifier({ algorithm: DIGEST_OID[hash] })));
  return wrap(0x30, [algorithm, wrap(0x04, [digest])]);
}

export interface TstInfo {
  policy: string;
  hash: SignatureHash | 'SHA-1' | null;
  imprint: Buffer;
  serial: bigint;
  genTime: Date;
  nonce: bigint | null;
}

export function parseTstInfo(der: Buffer): TstInfo {
  const info = parseAs(der, TSTInfo, 'TSTInfo');
  return {
    policy: info.policy,
    hash: digestByOid(info.messageImprint.hashAlgorithm.algorithm),
    imprint: toBuffer(info.messageImprint.hashedMessage.buffer),
    serial: integerValue(new Uint8Array(info.serialNumber)),
    genTime: info.genTime,
    nonce: info.nonce ? integerValue(new Uint8Array(info.nonce)) : null,
  };
}

/** Reads a TimeStampResp: the token (as encoded) when granted, else an error naming the status. */
export function parseTimeStampResponse(der: Buffer): Buffer {
  const what = 'TimeStampResp';
  const outer = readTlv(der, 0, der.length, what);
  const [statusTlv, tokenTlv] = outer.tag === 0x30 ? childrenOf(der, outer, what) : [];
  if (!statusTlv) throw new Error('not a TimeStampResp');
  const status = parseAs(bytesOf(der, statusTlv), PKIStatusInfo, what);
  if (status.status !== PKIStatus.granted && status.status !== PKIStatus.grantedWithMods) {
    const text = [...(status.statusString ?? [])].join('; ');
    throw new Error(`TSA refused (status ${status.status}${text ? `: ${text}` : ''})`);
  }
  if (!tokenTlv) throw new Error('TSA granted but sent no token');
  // The token as the TSA encoded it: its signature is checked over these bytes' parts.
  return Buffer.from(bytesOf(der, tokenTlv));
}

export interface TokenCheck {
  ok: boolean;
  genTime: Date | null;
  tsaCertificate: Buffer | null;
  /** Every certificate the token carries (the TSA's chain, when it sent one). */
  certificates: Buffer[];
  problems: string[];
  cms: ParsedSignedData | null;
}

/**
 * Checks a time-stamp token against the imprint it should carry: TSTInfo, the TSA's signature,
 * its ESS certificate binding and the timeStamping EKU. Chain trust is the caller's.
 */
export function checkTimestampToken(
  token: Buffer,
  expected: { digest?: Buffer; data?: Buffer[] },
  extraCertificates: Buffer[] = [],
): TokenCheck {
  const result: TokenCheck = {
    ok: false,
    genTime: null,
    tsaCertificate: null,
    certificates: [],
    problems: [],
    cms: null,
  };
  try {
    const cms = parseSignedData(token, 'time-stamp token');
    result.cms = cms;
    result.certificates = cms.certificates;
    if (cms.contentType !== OID.tstInfo || !cms.content) {
      result.problems.push('the token does not carry a TSTInfo');
      return result;
    }
    const info = parseTstInfo(cms.content);
    result.genTime = info.genTime;
    if (info.hash === null || info.hash === 'SHA-1')
      result.problems.push('the token uses an unsupported hash for the imprint');
    else {
      const digest =
        expected.digest ??
        expected.data!.reduce((h, part) => h.update(part), createHash(NODE_DIGEST[info.hash])).digest();
      if (!digest.equals(info.imprint))
        result.problems.push('the time-stamp is not over this signature (message imprint differs)');
    }
    const si = cms.signerInfos[0];
    if (!si || !si.signedAttrs) {
      result.problems.push('the token has no signed attributes');
      return result;
    }
    const certDer = findSignerCertificate(si, [...cms.certificates, ...extraCertificates]);
    if (!certDer) {
      result.problems.push("the TSA's certificate is not in the token");
      return result;
    }
    result.tsaCertificate = certDer;
    const md = si.signedAttributes.get(OID.messageDigest)?.[0];
    const siHash = si.digestAlgorithm;
    if (
      !md ||
      !siHash ||
      siHash === 'SHA-1' ||
      !createHash(NODE_DIGEST[siHash]).update(cms.content).digest().equals(octetStringValue(md))
    )
      result.problems.push('the token content digest does not match');
    const cert = parseCertificate(certDer);
    if (
      !verifySignature(
        cert.spki,
        si.signatureAlgorithm,
        si.signedAttrs,
        si.signature,
        siHash && siHash !== 'SHA-1' ? siHash : undefined,
      )
    )
      result.problems.push("the TSA's signature on the token does not verify");
    if (checkSigningCertificateAttribute(si, certDer) !== 'ok')
      result.problems.push('the token does not bind the TSA certificate (ESS signing-certificate)');
    // RFC 3161 §2.3: exactly one extended key usage, id-kp-timeStamping, marked critical.
    if (
      !cert.extKeyUsage?.includes(OID.kpTimeStamping) ||
      cert.extKeyUsage.length !== 1 ||
      !cert.extensions.get(OID.extKeyUsage)?.critical
    )
      result.problems.push(
        'the signing certificate is not a time-stamping certificate (RFC 3161 §2.3: timeStamping alone, critical)',
      );
    if (info.genTime < cert.notBefore || info.genTime > cert.notAfter)
      result.problems.push("the time lies outside the TSA certificate's validity");
    result.ok = result.problems.length === 0;
  } catch (error) {
    result.problems.push(`unreadable time-stamp token: ${error instanceof Error ? error.message : String(error)}`);
  }
  return result;
}

function checkFreshToken(token: Buffer, digest: Buffer, nonce: Buffer | null): void {
  const check = checkTimestampToken(token, { digest });
  if (!check.ok) throw new Error(check.problems.join('; '));
  if (nonce) {
    const info = parseTstInfo(check.cms!.content!);
    if (info.nonce !== BigInt(`0x${nonce.toString('hex')}`)) throw new Error('the response does not echo our nonce');
  }
}

/**
 * The built-in TSA without HTTP (the server's own signatures, tests): the token the authority
 * would answer a request with certReq and a nonce, made without encoding that request and
 * parsing it back, nor wrapping the token in a response and unwrapping it (ASN.1 work on the
 * event loop for every signature).
 */
export function createInProcessTimestamper(tsa: TimeStampAuthority): Timestamper {
  return {
    name: 'built-in TSA',
    async timestamp(digest, hash) {
      assertTsaCertificate(tsa.signer);
      if (!imprintFits(hash, digest)) throw new Error('TSA refused: hash length does not match its algorithm');
      const nonce = randomBytes(8);
      nonce[0]! &= 0x7f;
      return issueToken(tsa, { hash, imprint: digest, nonce: BigInt(`0x${nonce.toString('hex')}`), certReq: true });
    },
  };
}

export interface HttpTimestamperOptions {
  /** TSA URLs, tried in order until one answers with a valid token. */
  urls: string[];
  /** Per attempt, in milliseconds. */
  timeoutMs?: number;
  /** Largest response accepted. */
  maxResponseBytes?: number;
  fetch?: typeof fetch;
}

/** Reads a response body, stopping as soon as it exceeds `limit` bytes. */
export async function readBounded(response: Response, limit: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > limit) throw new Error(`response larger than ${limit} bytes`);
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`response larger than ${limit} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

/** Asks external TSAs over HTTP (RFC 3161 §3.4), failing over from one URL to the next. */
export function createHttpTimestamper(options: HttpTimestamperOptions): Timestamper {
  if (options.urls.length === 0) throw new SigningError('validation_failed', 'At least one TSA URL is needed.');
  for (const url of options.urls) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new SigningError('validation_failed', `TSA URL ${url} is not http(s).`);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const limit = options.maxResponseBytes ?? 256 * 1024;
  const doFetch = options.fetch ?? fetch;
  return {
    name: options.urls.join(', '),
    async timestamp(digest, hash) {
      const failures: string[] = [];
      for (const url of options.urls) {
        const nonce = randomBytes(8);
        nonce[0]! &= 0x7f;
        try {
          const response = await doFetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
            body: buildTimeStampRequest(digest, hash, nonce),
            signal: AbortSignal.timeout(timeoutMs),
            redirect: 'error',
          });
          if (response.status !== 200) {
            await response.body?.cancel();
            throw new Error(`HTTP ${response.status}`);
          }
          const token = parseTimeStampResponse(await readBounded(response, limit));
          checkFreshToken(token, digest, nonce);
          return token;
        } catch (error) {
          const reason =
            error instanceof Error
              ? error.name === 'TimeoutError'
                ? `no answer within ${timeoutMs} ms`
                : error.message
              : String(error);
          failures.push(`${url}: ${reason}`);
        }
      }
      throw new SigningError(
        'timestamp_unavailable',
        `No time-stamping authority gave a valid token (${failures.join('; ')}).`,
        { tried: failures },
      );
    },
  };
}
