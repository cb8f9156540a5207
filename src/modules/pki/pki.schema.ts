import { z } from 'zod';
import { body, isoDate } from '../../server/schemas.js';

export const keySpecs = ['RSA-2048', 'RSA-3072', 'ECDSA-P256'] as const;

export const certificateSchema = z
  .object({
    id: z.string(),
    purpose: z.enum([
      'root_ca',
      'issuing_ca',
      'tsa',
      'seal',
      'person',
      'event',
      'sm2_root_ca',
      'sm2_issuing_ca',
      'sm2_seal_maker',
      'sm2_seal',
    ]),
    source: z.enum(['issued', 'imported']),
    serialNumber: z.string().describe('hex'),
    subject: z.string(),
    issuer: z.string(),
    keySpec: z.string(),
    keyStore: z
      .enum(['database', 'pkcs11', 'none'])
      .describe(
        'database: sealed with AES-256-GCM under the master key; pkcs11: generated in the HSM token; none: a one-time certificate whose key was never kept',
      ),
    fingerprint: z.string().describe('SHA-256 of the DER, hex'),
    notBefore: isoDate,
    notAfter: isoDate,
    status: z.enum(['active', 'revoked']),
    revokedAt: isoDate.nullable(),
    revocationReason: z.string().nullable(),
    crlUrl: z.string().nullable().describe('where the issuing CA publishes its CRL (needs SIGIL_PUBLIC_URL)'),
    certificatePem: z.string(),
    chainPem: z.array(z.string()).describe('the issuers, nearest first, up to the root'),
  })
  .meta({ id: 'Certificate' });

export const trustSchema = z.object({
  root: certificateSchema.nullable().describe('the deployment root CA: the trust anchor for every Sigil signature'),
  groupCa: certificateSchema.nullable().describe("your group's issuing CA"),
  tsa: certificateSchema.nullable().describe('the built-in time-stamping authority (POST /tsa)'),
  externalTsas: z.array(z.string()).describe('SIGIL_TSA_URLS: asked in order before the built-in one is used'),
  sm2Root: certificateSchema
    .nullable()
    .describe('the deployment SM2 root CA: the trust anchor of OFD seal signatures and .esl seals (GB/T 38540)'),
  sm2GroupCa: certificateSchema.nullable().describe("your group's SM2 issuing CA, the maker of its .esl seals"),
});

export const issueCertificateBody = body({
  keySpec: z.enum(keySpecs).optional().describe('default SIGIL_KEY_SPEC (RSA-2048)'),
  replace: z.boolean().default(false).describe('supersede (revoke) the current certificate and issue a new one'),
});

/** PKCS#12 files are a few kilobytes; this leaves room for long chains and nothing more. */
export const PKCS12_MAX_BYTES = 64 * 1024;

export const importCertificateBody = body({
  pkcs12Base64: z
    .string()
    .max(Math.ceil(PKCS12_MAX_BYTES / 3) * 4 + 4, {
      message: `must be at most ${PKCS12_MAX_BYTES / 1024} KB once decoded`,
    })
    .regex(/^[A-Za-z0-9+/=\s]+$/, { message: 'must be base64' }),
  password: z.string().max(1000),
});

export const eslSchema = z
  .object({
    id: z.string(),
    sealId: z.string(),
    esId: z.string().describe("the seal's identifier inside the .esl (SES_SealInfo.esID)"),
    name: z.string().describe('the seal name the .esl carries'),
    sha256: z.string().describe('SHA-256 of the .esl file, hex'),
    size: z.number().describe('bytes of the .esl file'),
    validStart: isoDate,
    validEnd: isoDate,
    createdAt: isoDate,
    maker: z
      .object({ subject: z.string(), serialNumber: z.string() })
      .describe("the group's seal maker (制章者), certified by its SM2 CA"),
    certificate: z
      .object({ subject: z.string(), serialNumber: z.string(), fingerprint: z.string() })
      .describe("the seal's SM2 certificate, the one signer on the .esl's list"),
  })
  .meta({ id: 'ElectronicSealFile' });
