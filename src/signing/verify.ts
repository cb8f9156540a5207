// The one verifier (API, console, public page, CLI): per signature the signer, chain to a trust
// anchor, validity at the signing time, time-stamp, revocation, coverage and what changed after
// it; overall whether the document is intact. Checks follow ETSI EN 319 102-1 in spirit: a
// signature is valid when its bytes, its CMS signature and its certificate at the proven time hold.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { SigningError } from './errors.js';
import {
  checkSigningCertificateAttribute,
  findSignerCertificate,
  octetStringValue,
  parseSignedData,
  type ParsedSignerInfo,
} from './cms.js';
import { checkPublicKey, validatePath, type PathValidationResult, type Purpose } from './path-validation.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { RevocationInfoArchival, toBuffer } from './asn1.js';
import { NODE_DIGEST, OID } from './oids.js';
import { PdfStream, PdfString, isName, parsePdfDate } from './pdf/objects.js';
import { PdfDocument, type PdfLimits } from './pdf/parser.js';
import {
  checkByteRange,
  findSignatureFields,
  sealImages,
  type Modification,
  type SealImage,
  type SignatureField,
} from './pdf-signatures.js';
import { judgeRevisions } from './pdf-revisions.js';

import { checkTimestampToken } from './tsa.js';

export type { Modification, SealImage } from './pdf-signatures.js';
import { parseCertificate, parseCrl, signatureSchemeOf, verifySignature, type Certificate, type Crl } from './x509.js';

export interface VerifyOptions {
  /**
   * Trusted roots (DER). With any, a signature is valid only when a certification path from its
   * signer to one of them validates (RFC 5280 §6.1); without any, no signer is trusted and every
   * intact signature is reported as by an unknown signer.
   */
  trustAnchors?: Buffer[];
  /** More CRLs (DER) than the document carries, e.g. the platform's current ones. */
  crls?: Buffer[];
  /** When to validate signatures that carry no trusted time-stamp; now by default. */
  at?: Date;
  /** Return each seal image as a PNG. */
  extractImages?: boolean;
  limits?: Partial<PdfLimits>;
}

export interface SignatureReport {
  index: number;
  fieldName: string;
  kind: 'signature' | 'document-timestamp';
  subFilter: string | null;
  /**
   * The signature scheme of the CMS signer (`SM2-with-SM3` for the national-cryptography profile,
   * `ecdsa-with-SHA256`, `rsaEncryption with SHA-256` …); null when it was not read.
   */
  algorithm: string | null;
  /**
   * The one verdict: intact bytes, a CMS signature that holds, a signer certificate valid and not
   * revoked at the time that counts, and — once trust anchors are given — a validated path to one.
   */
  valid: boolean;
  /** `valid`; `unknown-signer`: intact, but no path to a trusted root; `invalid`: anything else. */
  status: SignatureStatus;
  signer: {
    commonName: string | null;
    /** The subject's O: the company of a seal or person certificate. */
    organization: string | null;
    subject: string;
    issuer: string;
    serialNumber: string;
  } | null;
  /** The proven time (time-stamp) when there is one, else the claimed time (/M). */
  signedAt: string | null;
  claimedSigningTime: string | null;
  timestamped: boolean;
  /** The time-stamp verifies (null when there is none). */
  timestampValid: boolean | null;
  timestampTrusted: boolean | null;
  /** The subject of the TSA certificate that signed the time-stamp (null when there is none). */
  timestampAuthority: string | null;
  coversWholeDocument: boolean;
  modifiedAfter: Modification;
  changesAfter: string[];
  digestMatches: boolean;
  signatureVerified: boolean;
  chainTrusted: boolean;
  chain: string[];
  certificateValidAtSigningTime: boolean;
  revoked: boolean;
  revocation: 'good' | 'revoked' | 'unknown';
  level: 'B-B' | 'B-T' | 'B-LT' | 'B-LTA' | null;
  byteRange: number[];
  seals: SealImage[];
  problems: string[];
}

export type SignatureStatus = 'valid' | 'unknown-signer' | 'invalid';

export interface VerificationReport {
  /** Every signature valid and nothing but signatures and validation data added after any of them. */
  intact: boolean;
  /**
   * For a person, in one word: `valid` (every signature valid, trusted, nothing else changed),
   * `unknown-signer` (intact, but a signer does not chain to a trusted root), `invalid`, or
   * `unsigned` (no signature at all).
   */
  verdict: 'valid' | 'unknown-signer' | 'invalid' | 'unsigned';
  sha256: string;
  revisions: number;
  signatures: SignatureReport[];
}

function dssContents(doc: PdfDocument): { certs: Buffer[]; crls: Buffer[]; vriKeys: Set<string> } {
  const dss = doc.dict(doc.catalog().get('DSS'));
  const read = (key: string) => {
    const list = dss ? doc.resolve(dss.get(key)) : undefined;
    const out: Buffer[] = [];
    if (Array.isArray(list)) {
      for (const item of list.slice(0, 10_000)) {
        const s = doc.resolve(item);
        if (s instanceof PdfStream) {
          try {
            out.push(doc.decode(s));
          } catch {
            // an unreadable entry helps nobody; skip it
          }
        }
      }
    }
    return out;
  };
  const vri = dss ? doc.dict(dss.get('VRI')) : null;
  return {
    certs: read('Certs'),
    crls: read('CRLs'),
    vriKeys: new Set(vri ? [...vri.map.keys()].map((k) => k.toUpperCase()) : []),
  };
}

/** CRLs in the CMS: the SignedData crls field and Adobe's revocation-info archival attribute. */
function cmsCrls(info: ParsedSignerInfo, crls: Buffer[]): Buffer[] {
  const out = [...crls];
  const archival = info.signedAttributes.get(OID.adbeRevocationInfoArchival)?.[0];
  if (archival) {
    try {
      for (const crl of AsnConvert.parse(archival, RevocationInfoArchival).crl ?? []) out.push(toBuffer(crl.bytes));
    } catch {
      // ignore a malformed archival attribute; other sources may still answer
    }
  }
  return out;
}

function parseCerts(list: Buffer[]): Certificate[] {
  const out: Certificate[] = [];
  for (const der of list) {
    try {
      out.push(parseCertificate(der));
    } catch {
      // skip unreadable certificates
    }
  }
  return out;
}

function parseCrls(list: Buffer[]): Crl[] {
  const out: Crl[] = [];
  for (const der of list) {
    try {
      out.push(parseCrl(der));
    } catch {
      // skip unreadable CRLs
    }
  }
  return out;
}

/** Validates the path of an end certificate at `at` and writes what it found into the report. */
function checkChain(
  leafDer: Buffer,
  pool: Buffer[],
  crls: Buffer[],
  at: Date,
  purpose: Purpose,
  ctx: Context,
): PathValidationResult {
  return validatePath({
    leaf: parseCertificate(leafDer),
    pool: parseCerts(pool),
    anchors: ctx.anchors,
    at,
    purpose,
    crls: parseCrls(crls),
  });
}

function statusOf(report: SignatureReport, path: PathValidationResult | null, cryptoOk: boolean): SignatureStatus {
  if (!cryptoOk || report.revoked || (path?.anchored && !path.valid)) return 'invalid';
  return path?.valid ? 'valid' : 'unknown-signer';
}

// ---------------------------------------------------------------- the verifier

/** Verifies every signature and document time-stamp of a PDF. Throws only when the file cannot be read. */
export async function verifyPdf(pdf: Buffer, options: VerifyOptions = {}): Promise<VerificationReport> {
  const doc = PdfDocument.load(pdf, options.limits);
  const anchors = parseCerts(options.trustAnchors ?? []);
  const dss = dssContents(doc);
  const extraCrls = [...(options.crls ?? []), ...dss.crls];
  const found = findSignatureFields(doc);
  const reports: SignatureReport[] = [];
  for (const [index, f] of found.entries()) {
    try {
      reports.push(verifyOne(doc, f, index, { anchors, dss, extraCrls, options }));
    } catch (error) {
      // A structure this verifier cannot follow makes that signature unverifiable, not the file.
      if (error instanceof SigningError && (error.code === 'pdf_too_large' || error.code === 'pdf_encrypted'))
        throw error;
      reports.push(unverifiable(f, index, error));
    }
  }
  // What later revisions changed, judged knowing which signatures verify (a later signature's
  // widget is permitted only when it does); a copied signature counts once.
  for (const [index, verdict] of judgeRevisions(doc, found, reports).entries()) {
    if (!verdict) continue;
    const r = reports[index]!;
    if (verdict.copyOf !== null) r.valid = false;
    r.modifiedAfter = verdict.kind;
    r.changesAfter = verdict.changes;
    r.problems.push(...verdict.problems);
  }
  // Levels need the order of revisions: a DSS after a signature makes it LT, a document time-stamp after that LTA.
  const docTimestampEnds = reports
    .filter((r) => r.kind === 'document-timestamp' && r.valid)
    .map((r) => r.byteRange[2]! + r.byteRange[3]!);
  for (const r of reports) {
    if (r.kind !== 'signature' || !r.level || r.level === 'B-B') continue;
    const contents = found[r.index]!.sig.get('Contents');
    const key =
      contents instanceof PdfString ? createHash('sha1').update(contents.bytes).digest('hex').toUpperCase() : '';
    // B-LT needs the validation data to be there and to answer: revocation known for the whole chain.
    if ((dss.vriKeys.has(key) || dss.certs.length > 0) && r.revocation === 'good') {
      r.level = 'B-LT';
      const end = r.byteRange[2]! + r.byteRange[3]!;
      if (docTimestampEnds.some((e) => e > end)) r.level = 'B-LTA';
    }
  }
  const intact = reports.every((r) => r.valid && r.modifiedAfter !== 'altered');
  const verdict =
    reports.length === 0
      ? 'unsigned'
      : reports.some((r) => r.status === 'invalid' || r.modifiedAfter === 'altered')
        ? 'invalid'
        : reports.some((r) => r.status !== 'valid')
          ? 'unknown-signer'
          : 'valid';
  return { intact, verdict, sha256: sha256Of(pdf), revisions: doc.sections.length, signatures: reports };
}

interface Context {
  anchors: Certificate[];
  dss: { certs: Buffer[]; crls: Buffer[] };
  extraCrls: Buffer[];
  options: VerifyOptions;
}

function verifyOne(doc: PdfDocument, f: SignatureField, index: number, ctx: Context): SignatureReport {
  const { sig } = f;
  const isDocTs = isName(sig.get('Type'), 'DocTimeStamp') || isName(sig.get('SubFilter'), 'ETSI.RFC3161');
  const subFilter = sig.get('SubFilter');
  const m = sig.get('M');
  const claimed = m instanceof PdfString ? parsePdfDate(m.text()) : null;
  const report: SignatureReport = {
    index,
    fieldName: f.fieldName,
    kind: isDocTs ? 'document-timestamp' : 'signature',
    subFilter: isName(subFilter) ? subFilter.value : null,
    algorithm: null,
    valid: false,
    status: 'invalid',
    signer: null,
    signedAt: claimed?.toISOString() ?? null,
    claimedSigningTime: claimed?.toISOString() ?? null,
    timestamped: isDocTs,
    timestampValid: null,
    timestampTrusted: null,
    timestampAuthority: null,
    coversWholeDocument: false,
    modifiedAfter: 'none',
    changesAfter: [],
    digestMatches: false,
    signatureVerified: false,
    chainTrusted: false,
    chain: [],
    certificateValidAtSigningTime: false,
    revoked: false,
    revocation: 'unknown',
    level: null,
    byteRange: [],
    seals: [],
    problems: [],
  };
  const problems = report.problems;
  const buf = doc.buf;
  try {
    report.seals = sealImages(doc, f.widgets, ctx.options.extractImages ?? false);
  } catch {
    // the appearance is informative only
  }

  const range = checkByteRange(doc, f);
  if (!range.ok) {
    if (range.byteRange) report.byteRange = range.byteRange;
    problems.push(range.problem);
    return report;
  }
  const [a, b, c, d] = range.byteRange;
  const contents = range.contents;
  report.byteRange = [a, b, c, d];
  report.coversWholeDocument = c + d === buf.length;
  const ranges = [buf.subarray(a, a + b), buf.subarray(c, c + d)];

  if (isDocTs) {
    // ETSI EN 319 142-1 §5.5: the token's imprint is the hash of the byte ranges.
    const check = checkTimestampToken(contents.bytes, { data: ranges }, ctx.dss.certs);
    report.digestMatches = !check.problems.some((p) => p.includes('imprint'));
    report.signatureVerified = check.ok;
    report.timestampValid = check.ok;
    problems.push(...check.problems);
    if (check.genTime) report.signedAt = check.genTime.toISOString();
    let path: PathValidationResult | null = null;
    if (check.tsaCertificate) {
      report.signer = signerOf(parseCertificate(check.tsaCertificate));
      report.timestampAuthority = report.signer?.subject ?? null;
      // The TSA's own certificates count at the time it vouches for.
      const at = check.genTime ?? new Date();
      path = checkChain(
        check.tsaCertificate,
        [...check.certificates, ...ctx.dss.certs],
        ctx.extraCrls,
        at,
        'timestamping',
        ctx,
      );
      applyPath(report, path, problems);
    }
    report.level = null;
    const cryptoOk = check.ok && report.certificateValidAtSigningTime;
    report.timestampTrusted = path?.valid ?? false;
    report.valid = cryptoOk && !report.revoked && (ctx.anchors.length === 0 || report.chainTrusted);
    report.status = statusOf(report, path, cryptoOk);
    return report;
  }

  let cms;
  try {
    cms = parseSignedData(contents.bytes);
  } catch (error) {
    problems.push(`the signature value is not readable CMS: ${error instanceof Error ? error.message : String(error)}`);
    return report;
  }
  const info = cms.signerInfos[0];
  if (!info) {
    problems.push('the CMS has no signer');
    return report;
  }
  if (cms.signerInfos.length > 1) problems.push('the CMS has more than one signer; only the first is checked');
  const certDer = findSignerCertificate(info, [...cms.certificates, ...ctx.dss.certs]);
  if (!certDer) {
    problems.push("the signer's certificate is not in the signature");
    return report;
  }
  const cert = parseCertificate(certDer);
  report.signer = signerOf(cert);
  const hash = info.digestAlgorithm;
  if (!hash || hash === 'SHA-1') {
    problems.push(`unsupported digest algorithm ${info.digestAlgorithmOid}`);
    return report;
  }
  const digest = ranges.reduce((h, r) => h.update(r), createHash(NODE_DIGEST[hash])).digest();
  report.algorithm = signatureSchemeOf(info.signatureAlgorithm, hash)?.name ?? null;
  if (info.signedAttrs) {
    const md = info.signedAttributes.get(OID.messageDigest)?.[0];
    report.digestMatches = !!md && octetStringValue(md).equals(digest);
    report.signatureVerified = verifySignature(
      cert.spki,
      info.signatureAlgorithm,
      info.signedAttrs,
      info.signature,
      hash,
    );
  } else {
    // Without signed attributes the signature is over the content itself (RFC 5652 §5.4).
    report.digestMatches = true;
    report.signatureVerified = verifySignature(
      cert.spki,
      info.signatureAlgorithm,
      Buffer.concat(ranges),
      info.signature,
      hash,
    );
  }
  if (!report.digestMatches) problems.push('the signed bytes were changed (digest mismatch)');
  if (!report.signatureVerified) problems.push('the CMS signature does not verify with the certificate');
  const ess = checkSigningCertificateAttribute(info, certDer);
  const cades = report.subFilter === 'ETSI.CAdES.detached';
  if (ess === 'mismatch') problems.push('the signing-certificate attribute names another certificate');
  if (ess === 'missing' && cades) problems.push('a CAdES signature must carry signing-certificate-v2');

  const keyProblem = checkPublicKey(cert.spki);
  if (keyProblem) problems.push(`the signer's certificate cannot be accepted: ${keyProblem}`);

  // Time-stamp over the signature value (ETSI EN 319 122-1 §5.3). Its time counts only when its
  // TSA's path validates; an unknown TSA proves nothing, and the signature is judged now.
  let provenTime: Date | null = null;
  const token = info.unsignedAttributes.get(OID.timeStampToken)?.[0];
  if (token) {
    report.timestamped = true;
    const check = checkTimestampToken(token, { data: [info.signature] }, ctx.dss.certs);
    report.timestampValid = check.ok;
    try {
      if (check.tsaCertificate) report.timestampAuthority = parseCertificate(check.tsaCertificate).subject;
    } catch {
      // who vouched is informative only; an unreadable certificate is judged below when it counts
    }
    if (!check.ok) problems.push(...check.problems.map((p) => `time-stamp: ${p}`));
    if (check.ok && check.tsaCertificate) {
      const tsaPath = checkChain(
        check.tsaCertificate,
        [...check.certificates, ...ctx.dss.certs],
        ctx.extraCrls,
        check.genTime!,
        'timestamping',
        ctx,
      );
      report.timestampTrusted = tsaPath.valid;
      report.signedAt = check.genTime!.toISOString();
      if (tsaPath.valid) provenTime = check.genTime;
      else problems.push(...tsaPath.problems.map((p) => `time-stamp: ${p}`));
    }
  }

  const at = provenTime ?? ctx.options.at ?? new Date();
  const path = checkChain(
    certDer,
    [...cms.certificates, ...ctx.dss.certs],
    cmsCrls(info, [...cms.crls, ...ctx.extraCrls]),
    at,
    'document-signing',
    ctx,
  );
  applyPath(report, path, problems);
  if (!report.certificateValidAtSigningTime)
    problems.push(
      `a certificate in the chain was not valid at ${at.toISOString()}${provenTime ? ' (time-stamp)' : ''}`,
    );
  report.level = cades && ess === 'ok' ? (report.timestamped && report.timestampValid ? 'B-T' : 'B-B') : null;

  const cryptoOk =
    report.digestMatches &&
    report.signatureVerified &&
    !keyProblem &&
    ess !== 'mismatch' &&
    !(cades && ess === 'missing') &&
    report.certificateValidAtSigningTime &&
    report.timestampValid !== false;
  report.valid = cryptoOk && !report.revoked && (ctx.anchors.length === 0 || report.chainTrusted);
  report.status = statusOf(report, path, cryptoOk);
  return report;
}

/** Copies a path's verdict into a report: chain, trust, validity at the time, revocation, problems. */
function applyPath(report: SignatureReport, path: PathValidationResult, problems: string[]): void {
  report.chain = path.path.map((c) => c.subject);
  report.chainTrusted = path.valid;
  report.certificateValidAtSigningTime = path.validAtTime;
  report.revocation = path.revocation;
  report.revoked = path.revocation === 'revoked';
  problems.push(...path.problems);
}

function unverifiable(f: SignatureField, index: number, error: unknown): SignatureReport {
  return {
    index,
    fieldName: f.fieldName,
    kind: 'signature',
    subFilter: null,
    algorithm: null,
    valid: false,
    status: 'invalid',
    signer: null,
    signedAt: null,
    claimedSigningTime: null,
    timestamped: false,
    timestampValid: null,
    timestampTrusted: null,
    timestampAuthority: null,
    coversWholeDocument: false,
    modifiedAfter: 'altered',
    changesAfter: [],
    digestMatches: false,
    signatureVerified: false,
    chainTrusted: false,
    chain: [],
    certificateValidAtSigningTime: false,
    revoked: false,
    revocation: 'unknown',
    level: null,
    byteRange: [],
    seals: [],
    problems: [`the signature cannot be checked: ${error instanceof Error ? error.message : String(error)}`],
  };
}

function signerOf(cert: Certificate): SignatureReport['signer'] {
  return {
    commonName: cert.commonName,
    organization: cert.organization,
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serial.toString(16),
  };
}

/** SHA-256 of a document, hex, for hash-only lookup in the archive. */
export function sha256Of(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 of a file, streamed, so a large file is never held in memory. */
export function sha256OfFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', (error) => reject(new SigningError('pdf_malformed', `The file cannot be read: ${error.message}.`)))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Reads a file for signing or verification, refusing it before reading when it is too large. */
export async function readPdfFile(path: string, maxBytes = 512 * 1024 * 1024): Promise<Buffer> {
  const info = await stat(path);
  if (!info.isFile()) throw new SigningError('pdf_malformed', `${path} is not a file.`);
  if (info.size > maxBytes) throw new SigningError('pdf_too_large', `The file is larger than ${maxBytes} bytes.`);
  return readFile(path);
}
