import { z } from 'zod';
import { body, isoDate, nonBlank, uuid, sha256 } from '../../server/schemas.js';
import { category } from '../grants/index.js';

const finite = z.number({ message: 'must be a number' }).refine(Number.isFinite, { message: 'must be finite' });
const positive = z
  .number({ message: 'must be a number' })
  .positive({ message: 'must be greater than 0' })
  .max(14_400, { message: 'must be at most 14400 points' });
const page = z
  .number({ message: 'must be a number' })
  .int({ message: 'must be a whole number' })
  .min(1, { message: 'must be at least 1 (pages count from 1)' });

export const placement = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('rect'),
    page,
    rect: z
      .tuple([finite, finite, positive, positive])
      .describe('[x, y, width, height] in PDF points from the bottom-left corner of the page'),
  }),
  z.strictObject({
    type: z.literal('keyword'),
    keyword: nonBlank(100).describe('text of the page, e.g. 甲方（盖章）: the seal is centred on it'),
    page: page.optional().describe('search only this page; by default the first match in the document'),
    offset: z.tuple([finite, finite]).optional().describe('[dx, dy] in points from the keyword'),
    size: z.tuple([positive, positive]).optional().describe('[width, height] in points; by default 42 mm wide'),
  }),
]);

export const signBody = body({
  documentSha256: sha256.describe(
    'a PDF uploaded with POST /documents/uploads, or the output of an earlier signature (signed again as an incremental update)',
  ),
  sealId: uuid
    .optional()
    .describe('the electronic seal to apply; absent means a personal signature with your own certificate'),
  authorizationId: uuid
    .optional()
    .describe("an approved application's authorization naming the document: one use is counted"),
  category: category.optional().describe('without an authorization: the business category your grant must cover'),
  level: z
    .enum(['B-B', 'B-T', 'B-LT', 'B-LTA'])
    .default('B-T')
    .describe('PAdES baseline level; B-T and above are time-stamped'),
  appearance: placement.optional().describe("a visible seal (the seal's impression) at a rectangle or over a keyword"),
  crossPage: z
    .strictObject({
      pages: z.array(page).min(2, { message: 'must name at least two pages' }).max(1000).optional(),
      width: positive.optional().describe('width of the whole seal in points (default 42 mm)'),
    })
    .optional()
    .describe('a cross-page seal (骑缝章) over the right edges of the pages'),
  reason: nonBlank(200).optional(),
  location: nonBlank(200).optional(),
}).refine((b) => !(b.appearance && b.crossPage), {
  message: 'apply a cross-page seal and a placed seal as two signatures',
  path: ['crossPage'],
});

export type SignInput = z.infer<typeof signBody>;

export const signatureSchema = z
  .object({
    id: z.string(),
    companyId: z.string(),
    userId: z.string(),
    userName: z.string(),
    sealId: z.string().nullable(),
    sealName: z.string().nullable(),
    certificateId: z.string(),
    certificateSerial: z.string(),
    authorizationId: z.string().nullable(),
    grantId: z.string().nullable(),
    category: z.string().nullable(),
    level: z.enum(['B-B', 'B-T', 'B-LT', 'B-LTA']),
    fieldName: z.string(),
    reason: z.string().nullable(),
    documentName: z.string().nullable(),
    inputSha256: z.string(),
    outputSha256: z.string(),
    originalSha256: z.string(),
    signedAt: isoDate,
  })
  .meta({ id: 'Signature' });

export const outsideSignaturesSchema = z.object({
  items: z
    .array(
      z.object({
        id: z.string(),
        originalSha256: z.string().describe('the document of the application this signature is over'),
        documentName: z.string().nullable(),
        userId: z.string(),
        userName: z.string(),
        sealId: z.string().nullable(),
        sealName: z.string().nullable(),
        category: z.string().nullable(),
        basis: z
          .enum(['grant', 'other_application', 'personal'])
          .describe('a standing grant, another application’s authorization, or a personal signature without a seal'),
        signedAt: isoDate,
      }),
    )
    .describe('newest first, at most 100'),
  more: z.boolean().describe('there are more than those listed'),
});

export const archiveSchema = z.object({
  sha256: z.string(),
  found: z.boolean().describe('the archive of your group holds this file as a signed output'),
  signatures: z.array(signatureSchema).describe('the signatures that produced it, those you may see'),
});

const signatureReportSchema = z.object({
  index: z.number(),
  fieldName: z.string(),
  kind: z.enum(['signature', 'document-timestamp']),
  subFilter: z.string().nullable(),
  valid: z
    .boolean()
    .describe(
      'intact, the CMS signature holds, the signer certificate valid and not revoked at the time that counts, and a validated certification path to the deployment root',
    ),
  status: z
    .enum(['valid', 'unknown-signer', 'invalid'])
    .describe('unknown-signer: intact, but the signer does not chain to a trusted root; never shown as valid'),
  signer: z
    .object({
      commonName: z.string().nullable(),
      organization: z.string().nullable().describe("the subject's O: the company of a seal or person certificate"),
      subject: z.string(),
      issuer: z.string(),
      serialNumber: z.string(),
    })
    .nullable(),
  signedAt: z.string().nullable().describe('the time-stamp time when there is one, else the claimed time'),
  claimedSigningTime: z.string().nullable(),
  timestamped: z.boolean(),
  timestampValid: z.boolean().nullable(),
  timestampTrusted: z.boolean().nullable(),
  coversWholeDocument: z.boolean(),
  modifiedAfter: z
    .enum(['none', 'signatures-and-validation-data', 'altered'])
    .describe(
      'none; only what the signature permits (signatures, validation data, permitted form fill-in); or altered',
    ),
  changesAfter: z.array(z.string()).describe('every change after the signature that it does not permit, in words'),
  digestMatches: z.boolean(),
  signatureVerified: z.boolean(),
  chainTrusted: z
    .boolean()
    .describe(
      'a certification path to the deployment root validates (RFC 5280 §6.1: constraints, key usage, validity, revocation)',
    ),
  chain: z.array(z.string()),
  certificateValidAtSigningTime: z.boolean(),
  revoked: z.boolean(),
  revocation: z.enum(['good', 'revoked', 'unknown']),
  level: z.enum(['B-B', 'B-T', 'B-LT', 'B-LTA']).nullable(),
  byteRange: z.array(z.number()),
  seals: z
    .array(
      z.object({
        page: z.number(),
        rect: z.array(z.number()).describe('[x, y, width, height] in points'),
        width: z.number(),
        height: z.number(),
        png: z
          .string()
          .optional()
          .describe('the impression as the document shows it, PNG in base64 (the first few only)'),
      }),
    )
    .describe("the seal impressions on the signature's widgets, as found in the document"),
  problems: z.array(z.string()),
});

export const verificationSchema = z
  .object({
    intact: z
      .boolean()
      .describe(
        'every signature valid, and after each one only what it permits (signatures, validation data, form fill-in where DocMDP allows)',
      ),
    verdict: z
      .enum(['valid', 'unknown-signer', 'invalid', 'unsigned'])
      .describe(
        'valid: every signature valid and trusted, nothing else changed; unknown-signer: intact but a signer is not trusted; invalid; unsigned',
      ),
    sha256: z.string(),
    revisions: z.number(),
    signatures: z.array(signatureReportSchema),
    archive: archiveSchema,
  })
  .meta({ id: 'VerificationReport' });

/** One seal signature of an OFD as the platform verifies it: what members and the public are both shown. */
export const ofdSignatureCheckSchema = z.object({
  id: z.string().describe("the signature's ID in the document's Signatures.xml"),
  type: z.enum(['Seal', 'Sign']).describe('Seal: an electronic seal signature (GB/T 38540); Sign: a plain one'),
  status: z
    .enum(['valid', 'unknown-signer', 'invalid'])
    .describe(
      'valid: intact and trusted; unknown-signer: intact, but its certificates do not chain to the SM2 root; invalid',
    ),
  seal: z
    .object({
      name: z.string().describe("the seal's name as its .esl gives it"),
      esId: z.string().describe("the seal's identifier (esID)"),
      version: z.number().int().describe('the seal format: 1 (GM/T 0031-2014), 4 (GB/T 38540-2020) or 5'),
      maker: z.string().describe("the seal maker's certificate subject (制章者)"),
      validStart: z.string(),
      validEnd: z.string(),
    })
    .nullable()
    .describe('the electronic seal inside the signature; null when it cannot be read'),
  signer: z
    .object({
      commonName: z.string().nullable().describe("the certificate's CN"),
      organization: z.string().nullable().describe("the certificate's O: the company the seal belongs to"),
      subject: z.string().describe('the whole subject, most specific first (CN=…, O=…)'),
      issuer: z.string().describe('who issued the certificate, as it names them'),
      serialNumber: z.string().describe("the certificate's serial number, hex"),
    })
    .nullable()
    .describe("the signer's certificate (签章者), null when it cannot be read"),
  signedAt: z.string().nullable().describe('the time-stamp time when one verifies, else the time the signer claims'),
  signatureMethod: z
    .string()
    .nullable()
    .describe('SignatureMethod of Signature.xml (1.2.156.10197.1.501: SM2 with SM3)'),
  checkMethod: z.string().nullable().describe('CheckMethod: the digest of the protected files (SM3)'),
  checks: z.object({
    signatureValue: z.boolean().describe("the signer's SM2 signature over the signed data verifies"),
    signerListed: z.boolean().describe("the signer's certificate is on the seal's certificate list"),
    sealValid: z.boolean().describe("the seal maker's signature holds and the seal was valid at the signing time"),
    dataHash: z.enum(['match', 'mismatch', 'not-checked']).describe('the signed digest of Signature.xml'),
    timeStamp: z.enum(['valid', 'invalid', 'absent']),
  }),
  chainTrusted: z
    .boolean()
    .describe("the signer's and the seal maker's certificates chain to the platform's SM2 root (revocation included)"),
  chain: z.array(z.string()).describe("the signer's certificate subject, then its issuer's"),
  references: z
    .array(z.object({ path: z.string(), status: z.enum(['intact', 'changed', 'missing']) }))
    .describe('each package file the signature protects, with its SM3 digest checked'),
  unprotected: z.array(z.string()).describe('files in the package that no signature protects (added or changed after)'),
  stamps: z
    .array(z.object({ page: z.number().int().nullable(), boundary: z.array(z.number()) }))
    .describe('where the seal is shown: 0-based page and [x, y, width, height] in mm from the top left'),
  problems: z.array(z.string()).describe("the verifier's findings, in English"),
});

/** An OFD's seal signatures as the platform verifies them (GB/T 38540 §7.3), before who asks is known. */
export const ofdPlatformReportSchema = z.object({
  format: z.literal('ofd').describe('the file is an OFD: per signature the GB/T 38540 seal-signature findings'),
  verdict: z
    .enum(['valid', 'unknown-signer', 'invalid', 'unsigned'])
    .describe('valid: every seal signature intact and trusted; invalid: one does not hold or a file changed; unsigned'),
  sha256: z.string(),
  pages: z.number().int(),
  signatures: z.array(ofdSignatureCheckSchema),
});

/** The OFD report for members: with what the archive knows of the file. */
export const ofdVerificationSchema = ofdPlatformReportSchema
  .extend({ archive: archiveSchema })
  .meta({ id: 'OfdVerificationReport' });

export const signatureListQuery = z.strictObject({
  originalSha256: sha256.describe('the document a chain of signatures started from (an uploaded PDF)'),
});

export const batchBody = body({
  documents: z
    .array(sha256)
    .min(1, { message: 'must list at least one document' })
    .max(500, { message: 'must list at most 500 documents' })
    .describe('PDFs uploaded with POST /documents/uploads; each gets its own signature'),
  sealId: uuid,
  category: category.describe('the business category your grant must cover'),
  level: z.enum(['B-B', 'B-T', 'B-LT', 'B-LTA']).default('B-T'),
  appearance: placement.optional().describe('where the seal shows on each document (a keyword suits varied layouts)'),
  crossPage: z
    .strictObject({ width: positive.optional() })
    .optional()
    .describe('a cross-page seal over every page of each document'),
  reason: nonBlank(200).optional(),
}).refine((b) => !(b.appearance && b.crossPage), {
  message: 'apply a cross-page seal and a placed seal as two batches',
  path: ['crossPage'],
});
export type BatchInput = z.infer<typeof batchBody>;

export const batchSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    sealId: z.string().nullable(),
    status: z.enum(['running', 'done']),
    total: z.number(),
    signed: z.number(),
    failed: z.number(),
    createdAt: isoDate,
    finishedAt: isoDate.nullable(),
    items: z.array(
      z.object({
        position: z.number(),
        documentSha256: z.string(),
        status: z.enum(['pending', 'signed', 'failed']),
        signatureId: z.string().nullable(),
        outputSha256: z.string().nullable(),
        errorCode: z.string().nullable(),
        errorDetail: z.string().nullable(),
        doneAt: isoDate.nullable(),
      }),
    ),
  })
  .meta({ id: 'SignatureBatch' });
