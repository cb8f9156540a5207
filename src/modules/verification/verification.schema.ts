// What anyone may learn about a PDF without an account. Every field is an allow-list entry that
// the signed file itself discloses (its certificates, times, revisions, impressions), or the
// platform's public trust material (its root certificate, CRLs): never who uploaded or signed it
// in the platform's records, which group or company keeps it, or any record's id.
import { z } from 'zod';
import { isoDate } from '../../server/schemas.js';
import { ofdPlatformReportSchema, ofdSignatureCheckSchema } from '../signatures/index.js';

const level = z.enum(['B-B', 'B-T', 'B-LT', 'B-LTA']);

const signerSchema = z.object({
  commonName: z
    .string()
    .nullable()
    .describe("the certificate's CN: the seal's name on a seal certificate, the person's on a personal one"),
  organization: z.string().nullable().describe("the certificate's O: the company the seal or person belongs to"),
  subject: z.string().describe('the whole subject, most specific first (CN=…, O=…)'),
  issuer: z.string().describe('who issued the certificate, as it names them'),
  serialNumber: z.string().describe("the certificate's serial number, hex"),
});

const timestampSchema = z.object({
  time: z.string().nullable().describe('the time the time-stamp proves (ISO 8601), when its token verifies'),
  authority: z.string().nullable().describe('the subject of the TSA certificate that signed the time-stamp'),
  valid: z.boolean().describe('the time-stamp token verifies over this signature'),
  trusted: z.boolean().describe("the TSA's certificate chains to the platform's root"),
});

export const publicSignatureSchema = z
  .object({
    index: z.number().int().describe('0 for the first signature in the file'),
    kind: z.enum(['signature', 'document-timestamp']),
    status: z
      .enum(['valid', 'unknown-signer', 'invalid'])
      .describe(
        'valid: intact and trusted; unknown-signer: intact, but the signer does not chain to the root; invalid',
      ),
    intact: z
      .boolean()
      .describe('the signed bytes are unchanged and the signature value verifies with the certificate'),
    signer: signerSchema.nullable().describe('null when the signature carries no readable certificate'),
    signedAt: z
      .string()
      .nullable()
      .describe('the time-stamp time when a time-stamp verifies, else the time the signer claims'),
    claimedSigningTime: z.string().nullable(),
    timestamp: timestampSchema.nullable().describe('null when the signature is not time-stamped'),
    chainTrusted: z
      .boolean()
      .describe("a certification path to the platform's root validates (RFC 5280 §6.1, revocation included)"),
    chain: z.array(z.string()).describe('the subjects of the path, signer first'),
    certificateValidAtSigningTime: z.boolean(),
    revocation: z.enum(['good', 'revoked', 'unknown']),
    level: level.nullable().describe('PAdES baseline level, when the signature is PAdES'),
    coversWholeDocument: z.boolean(),
    modifiedAfter: z
      .enum(['none', 'signatures-and-validation-data', 'altered'])
      .describe('what later revisions changed: nothing; only what the signature permits; or more (altered)'),
    changesAfter: z.array(z.string()).describe('each change after the signature that it does not permit, in words'),
    impressions: z
      .array(
        z.object({
          page: z.number().int(),
          rect: z.array(z.number()).describe('[x, y, width, height] in points'),
          png: z.string().optional().describe('the impression as the page shows it, PNG in base64 (one per signature)'),
        }),
      )
      .describe("the seal impressions on the signature's widgets"),
    problems: z.array(z.string()).describe("the verifier's findings, in English"),
  })
  .meta({ id: 'PublicSignatureCheck' });

export const platformOutputSchema = z
  .object({
    signedAt: isoDate.describe('when the platform made this exact file'),
    signatures: z
      .array(
        z.object({
          signedAt: isoDate,
          subject: z.string().describe("the signing certificate's subject"),
          issuer: z.string(),
          level,
        }),
      )
      .describe("the platform's signatures in the file, oldest first"),
  })
  .meta({ id: 'PlatformOutput' });

export const rootCertificateSchema = z
  .object({
    url: z
      .string()
      .describe("where the platform's root certificate is downloaded (DER), to trust its seals in a PDF reader"),
    sha256: z
      .string()
      .nullable()
      .describe(
        "the root certificate's SHA-256 fingerprint, hex, to compare with the downloaded one (null before it exists)",
      ),
  })
  .meta({ id: 'RootCertificateLink' });

export const publicVerificationSchema = z
  .object({
    format: z.literal('pdf').describe('the file is a PDF: per signature the PAdES findings'),
    verdict: z
      .enum(['valid', 'unknown-signer', 'invalid', 'unsigned'])
      .describe(
        'valid: every signature intact and trusted, nothing changed after; unknown-signer: intact, but a signer is not trusted; invalid: a signature does not hold or the document was altered; unsigned',
      ),
    sha256: z.string(),
    revisions: z.number().int(),
    signatures: z.array(publicSignatureSchema),
    platformOutput: platformOutputSchema
      .nullable()
      .describe('this exact file is a document the platform signed (null: it is not, or it was changed since)'),
    rootCertificate: rootCertificateSchema,
  })
  .meta({ id: 'PublicVerification' });

export const publicLookupSchema = z
  .object({
    sha256: z.string(),
    found: z.literal(true),
    signedAt: platformOutputSchema.shape.signedAt,
    signatures: platformOutputSchema.shape.signatures,
    rootCertificate: rootCertificateSchema,
  })
  .meta({ id: 'PublicDocumentLookup' });

// ---------------------------------------------------------------- OFD (GB/T 33190, seals by GB/T 38540)

/** The public sees of an OFD what members see, less what the archive knows. */
export const publicOfdSignatureSchema = ofdSignatureCheckSchema.meta({ id: 'PublicOfdSignatureCheck' });

export const publicOfdVerificationSchema = ofdPlatformReportSchema
  .extend({
    signatures: z.array(publicOfdSignatureSchema),
    platformOutput: platformOutputSchema
      .nullable()
      .describe('this exact file is a document the platform signed (null: it is not, or it was changed since)'),
    sm2RootCertificate: rootCertificateSchema.describe("the platform's SM2 root, the trust anchor of OFD seals"),
  })
  .meta({ id: 'PublicOfdVerification' });

export type PublicOfdVerification = z.infer<typeof publicOfdVerificationSchema>;
export type PublicVerification = z.infer<typeof publicVerificationSchema>;
export type PublicSignatureCheck = z.infer<typeof publicSignatureSchema>;
export type PublicLookup = z.infer<typeof publicLookupSchema>;
export type RootCertificateLink = z.infer<typeof rootCertificateSchema>;
