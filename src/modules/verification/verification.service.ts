// Verification for anyone, without an account: the verifier's report on an uploaded PDF, and
// whether the platform made a file with a given SHA-256. Answers say only what the signed file
// discloses (its certificates, times, revisions, impressions) and what the platform publishes
// anyway (its root certificate, its CRLs); nothing from the records of who did what inside a
// group. The uploaded file is verified in memory and dropped.
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { sha256Of, type SignatureReport, type VerificationReport } from '../../signing/index.js';
import { findDeploymentCertificate } from '../pki/index.js';
import { findPlatformOutput, verifyAgainstPlatform, verifyOfdAgainstPlatform } from '../signatures/index.js';
import type {
  PublicOfdVerification,
  PublicLookup,
  PublicSignatureCheck,
  PublicVerification,
  RootCertificateLink,
} from './verification.schema.js';

/** Where relying parties fetch the root (the public PKI route), absolute when the public address is known. */
const ROOT_CERTIFICATE_PATH = '/pki/root/certificate';

export async function rootCertificateLink(ctx: AppContext): Promise<RootCertificateLink> {
  const root = await findDeploymentCertificate(ctx.db, 'root_ca');
  return {
    url: `${ctx.config.publicUrl ?? ''}${ROOT_CERTIFICATE_PATH}`,
    sha256: root ? sha256Of(root.der) : null,
  };
}

/**
 * One signature as the public sees it: the verifier's findings, without the form field's name
 * (Sigil names fields after its own record ids) and with at most one picture of its impression.
 */
function publicSignature(s: SignatureReport): PublicSignatureCheck {
  let pictured = false;
  return {
    index: s.index,
    kind: s.kind,
    status: s.status,
    intact: s.digestMatches && s.signatureVerified,
    signer: s.signer
      ? {
          commonName: s.signer.commonName,
          organization: s.signer.organization,
          subject: s.signer.subject,
          issuer: s.signer.issuer,
          serialNumber: s.signer.serialNumber,
        }
      : null,
    signedAt: s.signedAt,
    claimedSigningTime: s.claimedSigningTime,
    timestamp: s.timestamped
      ? {
          time: s.timestampValid ? s.signedAt : null,
          authority: s.timestampAuthority,
          valid: s.timestampValid === true,
          trusted: s.timestampTrusted === true,
        }
      : null,
    chainTrusted: s.chainTrusted,
    chain: s.chain,
    certificateValidAtSigningTime: s.certificateValidAtSigningTime,
    revocation: s.revocation,
    level: s.level,
    coversWholeDocument: s.coversWholeDocument,
    modifiedAfter: s.modifiedAfter,
    changesAfter: s.changesAfter,
    impressions: s.seals.map((seal) => {
      const png = !pictured && seal.png ? seal.png : undefined;
      if (png) pictured = true;
      return { page: seal.page, rect: seal.rect, ...(png ? { png } : {}) };
    }),
    problems: s.problems,
  };
}

function publicReport(
  report: VerificationReport,
  platformOutput: PublicVerification['platformOutput'],
  rootCertificate: RootCertificateLink,
): PublicVerification {
  return {
    format: 'pdf',
    verdict: report.verdict,
    sha256: report.sha256,
    revisions: report.revisions,
    signatures: report.signatures.map(publicSignature),
    platformOutput,
    rootCertificate,
  };
}

/** The report on a PDF, verified against the platform's root and current CRLs; the file is not kept. */
export async function verifyPublicly(ctx: AppContext, pdf: Buffer): Promise<PublicVerification> {
  const report = await verifyAgainstPlatform(ctx, pdf, { groupId: null });
  const output = await findPlatformOutput(ctx.db, report.sha256);
  return publicReport(report, output ?? null, await rootCertificateLink(ctx));
}

const SM2_ROOT_CERTIFICATE_PATH = '/pki/sm2/root/certificate';

/**
 * The report on an OFD: its seal signatures against the platform's SM2 root and current CRLs. Only
 * what the file discloses (seals, certificates, times, digests) and the platform's public trust
 * material; the file is not kept.
 */
export async function verifyOfdPublicly(ctx: AppContext, bytes: Buffer): Promise<PublicOfdVerification> {
  const report = await verifyOfdAgainstPlatform(ctx, bytes);
  const output = await findPlatformOutput(ctx.db, report.sha256);
  const root = await findDeploymentCertificate(ctx.db, 'sm2_root_ca');
  return {
    format: 'ofd',
    verdict: report.verdict,
    sha256: report.sha256,
    pages: report.pages,
    signatures: report.signatures.map((s) => ({
      id: s.id,
      type: s.type,
      status: s.status,
      seal: s.seal,
      signer: s.signer,
      signedAt: s.signedAt,
      signatureMethod: s.signatureMethod,
      checkMethod: s.checkMethod,
      checks: s.checks,
      chainTrusted: s.chainTrusted,
      chain: s.chain,
      references: s.references,
      unprotected: s.unprotected,
      stamps: s.stamps,
      problems: s.problems,
    })),
    platformOutput: output ?? null,
    sm2RootCertificate: {
      url: `${ctx.config.publicUrl ?? ''}${SM2_ROOT_CERTIFICATE_PATH}`,
      sha256: root ? sha256Of(root.der) : null,
    },
  };
}

/** Whether the platform signed a document whose output has this SHA-256, and what that file shows. */
export async function lookUpDocument(ctx: AppContext, sha256: string): Promise<PublicLookup> {
  const output = await findPlatformOutput(ctx.db, sha256);
  if (!output)
    throw new AppError(
      'document_not_found',
      'The platform has not signed a document with this SHA-256: no signed output of it is this exact file.',
    );
  return {
    sha256,
    found: true,
    signedAt: output.signedAt,
    signatures: output.signatures,
    rootCertificate: await rootCertificateLink(ctx),
  };
}
