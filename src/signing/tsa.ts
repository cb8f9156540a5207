// RFC 3161 time-stamping: the authority (TimeStampReq DER → TimeStampResp DER, backing `/tsa`)
// and the client side (`Timestamper`), in-process or over HTTP with failover.
import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../server/errors.js';
import {
  TAG,
  boolean,
  childrenOf,
  contentOf,
  encodingOf,
  expectTag,
  generalizedTime,
  integer,
  namedBits,
  octetString,
  oid,
  parseDer,
  readInteger,
  readOid,
  readTime,
  seq,
  utf8,
  explicit,
  type Node,
} from './der.js';
import { HASH_OID, NODE_HASH, OID, hashByOid, type HashName } from './oids.js';
import {
  checkSigningCertificateAttribute,
  encodeSignedData,
  findSignerCertificate,
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

/** PKIFailureInfo bits (RFC 3161 §2.4.2). */
const FAIL = { badAlg: 0, badRequest: 2, badDataFormat: 5, unacceptedPolicy: 15, systemFailure: 25 } as const;

function rejection(failBit: number, text: string): Buffer {
  return seq(seq(integer(2), seq(utf8(text)), namedBits([failBit])));
}

function assertTsaCertificate(signer: Signer): void {
  const cert = parseCertificate(signer.certificate);
  const eku = cert.extensions.get(OID.extKeyUsage);
  if (!eku?.critical || cert.extKeyUsage?.length !== 1 || cert.extKeyUsage[0] !== OID.kpTimeStamping) {
    throw new AppError(
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
  let fields: Node[];
  try {
    if (request.length > 64 * 1024) return rejection(FAIL.badDataFormat, 'request too large');
    const root = parseDer(request, 'TimeStampReq');
    if (root.end !== request.length) return rejection(FAIL.badDataFormat, 'trailing bytes after the request');
    fields = childrenOf(expectTag(root, TAG.sequence, 'TimeStampReq'), 'TimeStampReq');
  } catch {
    return rejection(FAIL.badDataFormat, 'not a DER TimeStampReq');
  }
  let hash: HashName | 'SHA-1' | null;
  let imprint: Buffer;
  let messageImprint: Buffer;
  let nonce: Buffer | null = null;
  let certReq = false;
  const policy = tsa.policy ?? DEFAULT_TSA_POLICY;
  try {
    if (readInteger(fields[0]!, 'TimeStampReq') !== 1n) return rejection(FAIL.badRequest, 'unsupported version');
    const mi = fields[1]!;
    messageImprint = encodingOf(mi);
    const [alg, hashed] = childrenOf(mi, 'TimeStampReq');
    hash = hashByOid(readOid(childrenOf(alg!, 'TimeStampReq')[0]!, 'TimeStampReq'));
    imprint = contentOf(expectTag(hashed, TAG.octetString, 'TimeStampReq'));
    for (const field of fields.slice(2)) {
      if (field.tag === TAG.oid && readOid(field) !== policy)
        return rejection(FAIL.unacceptedPolicy, 'unaccepted policy');
      if (field.tag === TAG.integer) nonce = encodingOf(field);
      if (field.tag === TAG.boolean) certReq = contentOf(field)[0] !== 0;
      if (field.tag === 0xa0) return rejection(FAIL.badRequest, 'extensions are not supported');
    }
  } catch {
    return rejection(FAIL.badDataFormat, 'unreadable TimeStampReq');
  }
  if (hash === null || hash === 'SHA-1') return rejection(FAIL.badAlg, 'use SHA-256, SHA-384 or SHA-512');
  if (imprint.length !== createHash(NODE_HASH[hash]).digest().length)
    return rejection(FAIL.badDataFormat, 'hash length does not match its algorithm');

  const genTime = (tsa.now ?? (() => new Date()))();
  const accuracy = tsa.accuracySeconds ?? 1;
  const tstInfo = seq(
    integer(1),
    oid(policy),
    messageImprint,
    // Serial numbers must be unique per TSA (§2.4.2); 128 random bits need no shared counter
    // between server processes.
    integer(BigInt(`0x${randomBytes(16).toString('hex')}`)),
    generalizedTime(genTime),
    seq(integer(accuracy)),
    ...(nonce ? [nonce] : []),
  );
  const tsaHash: HashName = tsa.signer.keyType === 'EC' || hash === 'SHA-256' ? 'SHA-256' : hash;
  const parts = await signAttributes({
    signer: tsa.signer,
    hash: tsaHash,
    digest: createHash(NODE_HASH[tsaHash]).update(tstInfo).digest(),
    contentType: OID.tstInfo,
    content: tstInfo,
    includeChain: certReq,
  });
  return seq(seq(integer(0)), certReq ? encodeSignedData(parts) : stripCertificates(parts));
}

/** A token without the certificates field, for certReq = false (§2.4.1). */
function stripCertificates(parts: Awaited<ReturnType<typeof signAttributes>>): Buffer {
  const full = encodeSignedData({ ...parts, input: { ...parts.input, includeChain: false } });
  // encodeSignedData always writes [0] certificates; rebuild without it by parsing the output.
  const root = parseDer(full);
  const [type, wrapped] = childrenOf(root);
  const sd = childrenOf(childrenOf(wrapped!)[0]!);
  const kept = sd.filter((n) => n.tag !== 0xa0).map(encodingOf);
  return seq(encodingOf(type!), explicit(0, seq(...kept)));
}

// ---------------------------------------------------------------- client side

/** Gets RFC 3161 time-stamp tokens; the token is a CMS ContentInfo (DER). */
export interface Timestamper {
  readonly name: string;
  timestamp(digest: Buffer, hash: HashName): Promise<Buffer>;
}

export function buildTimeStampRequest(digest: Buffer, hash: HashName, nonce: Buffer): Buffer {
  return seq(integer(1), seq(seq(oid(HASH_OID[hash])), octetString(digest)), integer(nonce), boolean(true));
}

export interface TstInfo {
  policy: string;
  hash: HashName | 'SHA-1' | null;
  imprint: Buffer;
  serial: bigint;
  genTime: Date;
  nonce: bigint | null;
}

export function parseTstInfo(der: Buffer): TstInfo {
  const what = 'TSTInfo';
  const f = childrenOf(expectTag(parseDer(der, what), TAG.sequence, what), what);
  const [alg, hashed] = childrenOf(f[2]!, what);
  let nonce: bigint | null = null;
  for (const extra of f.slice(5)) if (extra.tag === TAG.integer) nonce = readInteger(extra, what);
  return {
    policy: readOid(f[1]!, what),
    hash: hashByOid(readOid(childrenOf(alg!, what)[0]!, what)),
    imprint: contentOf(hashed!),
    serial: readInteger(f[3]!, what),
    genTime: readTime(f[4]!, what),
    nonce,
  };
}

/** Reads a TimeStampResp: the token when granted, else an error naming the status. */
export function parseTimeStampResponse(der: Buffer): Buffer {
  const what = 'TimeStampResp';
  const [status, token] = childrenOf(expectTag(parseDer(der, what), TAG.sequence, what), what);
  const statusFields = childrenOf(status!, what);
  const code = readInteger(statusFields[0]!, what);
  if (code !== 0n && code !== 1n) {
    const text =
      statusFields[1]?.tag === TAG.sequence
        ? childrenOf(statusFields[1])
            .map((n) => contentOf(n).toString('utf8'))
            .join('; ')
        : '';
    throw new Error(`TSA refused (status ${code}${text ? `: ${text}` : ''})`);
  }
  if (!token) throw new Error('TSA granted but sent no token');
  return Buffer.from(encodingOf(token));
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
        expected.data!.reduce((h, part) => h.update(part), createHash(NODE_HASH[info.hash])).digest();
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
      !createHash(NODE_HASH[siHash]).update(cms.content).digest().equals(contentOf(md))
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
    if (!cert.extKeyUsage?.includes(OID.kpTimeStamping))
      result.problems.push('the signing certificate is not a time-stamping certificate');
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

/** Calls the authority function directly: the built-in TSA without HTTP (tests, single-process set-ups). */
export function createInProcessTimestamper(tsa: TimeStampAuthority): Timestamper {
  return {
    name: 'built-in TSA',
    async timestamp(digest, hash) {
      const nonce = randomBytes(8);
      nonce[0]! &= 0x7f;
      const response = await respondToTimeStampRequest(tsa, buildTimeStampRequest(digest, hash, nonce));
      return parseTimeStampResponse(response);
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
  if (options.urls.length === 0) throw new AppError('validation_failed', 'At least one TSA URL is needed.');
  for (const url of options.urls) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new AppError('validation_failed', `TSA URL ${url} is not http(s).`);
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
      throw new AppError(
        'timestamp_unavailable',
        `No time-stamping authority gave a valid token (${failures.join('; ')}).`,
        { tried: failures },
      );
    },
  };
}
