// Verifying an OFD against the platform: every seal signature (GB/T 38540 §7.3 in full, by the
// signing engine) with the deployment's SM2 root as the trust anchor, the group SM2 CAs that
// issued its signers as intermediates, and the current CRLs of all of them; and per signature
// which package files it protects, whether each is unchanged, and which no signature protects.
// Members and the public share it; nothing about a caller enters it.
import type { z } from 'zod';
import {
  decodeSesSignature,
  parseCertificate,
  sha256Of,
  verifySesSignature,
  type SesSignatureVerdict,
} from '../../signing/index.js';
import {
  sesSignatureVerifier,
  verifyOfdFile,
  type OfdSignatureReport,
  type SealSignatureVerifier,
} from '../../ofd/index.js';
import type { AppContext } from '../../server/context.js';
import { openPlatformOfd } from '../documents/index.js';
import { findDeploymentCertificate, pki, sm2Pki } from '../pki/index.js';
import type { ofdPlatformReportSchema, ofdSignatureCheckSchema } from './signature.schema.js';

export type OfdSignatureCheck = z.infer<typeof ofdSignatureCheckSchema>;
export type OfdPlatformReport = z.infer<typeof ofdPlatformReportSchema>;

const safeDecode = (der: Uint8Array) => {
  try {
    return decodeSesSignature(der);
  } catch {
    return null;
  }
};

function checkOf(report: OfdSignatureReport, verdict: SesSignatureVerdict | undefined): OfdSignatureCheck {
  const decoded = verdict?.signature ?? null;
  const signer = decoded ? parseCertificate(decoded.certificate) : null;
  const maker = decoded ? parseCertificate(decoded.seal.maker) : null;
  const checks = {
    signatureValue: verdict?.checks.signature ?? false,
    signerListed: verdict?.checks.signerListed ?? false,
    sealValid: verdict?.checks.seal?.valid ?? false,
    dataHash: verdict?.checks.dataHash ?? ('not-checked' as const),
    timeStamp: verdict?.checks.timeStamp ?? ('absent' as const),
  };
  const chainTrusted = verdict?.checks.signerChain === 'trusted';
  const intact =
    report.references.length > 0 &&
    report.references.every((r) => r.status === 'intact') &&
    report.unprotected.length === 0 &&
    checks.signatureValue &&
    checks.signerListed &&
    checks.dataHash === 'match';
  const problems = [...report.problems];
  return {
    id: report.id,
    type: report.type,
    status: report.valid ? 'valid' : intact && !chainTrusted ? 'unknown-signer' : 'invalid',
    seal: decoded
      ? {
          name: decoded.seal.name,
          esId: decoded.seal.id,
          version: decoded.seal.version,
          maker: maker?.subject ?? '',
          validStart: decoded.seal.validStart.toISOString(),
          validEnd: decoded.seal.validEnd.toISOString(),
        }
      : null,
    signer: signer
      ? {
          commonName: signer.commonName,
          organization: signer.organization,
          subject: signer.subject,
          issuer: signer.issuer,
          serialNumber: signer.serial.toString(16),
        }
      : null,
    signedAt: (verdict?.timeStampTime ?? verdict?.signingTime)?.toISOString() ?? null,
    signatureMethod: report.signatureMethod ?? null,
    checkMethod: report.checkMethod ?? null,
    checks,
    chainTrusted,
    chain: signer ? [signer.subject, signer.issuer] : [],
    references: report.references,
    unprotected: report.unprotected,
    stamps: report.stamps.map((s) => ({ page: s.pageIndex ?? null, boundary: [...s.boundary] })),
    problems,
  };
}

/**
 * The platform's verdict on an OFD: its seal signatures against the SM2 root and the current CRLs
 * of Sigil's SM2 CAs. Bad packages are refused with `ofd_malformed` (or `payload_too_large`).
 */
export async function verifyOfdAgainstPlatform(ctx: AppContext, bytes: Buffer): Promise<OfdPlatformReport> {
  const file = openPlatformOfd(bytes);
  const root = await findDeploymentCertificate(ctx.db, 'sm2_root_ca');
  const trustAnchors = root ? [root.der] : [];
  const verdicts = new Map<string, SesSignatureVerdict>();
  const crlsByIssuer = new Map<string, Buffer>();
  if (root) crlsByIssuer.set(root.id, await pki.currentCrl(ctx, root));

  const verifier: SealSignatureVerifier = {
    async verify(input) {
      const decoded = input.type === 'Seal' ? safeDecode(input.signedValue) : null;
      const intermediates: Buffer[] = [];
      if (decoded) {
        const issuers = [parseCertificate(decoded.certificate).issuer];
        for (const ca of await sm2Pki.findSm2CasBySubject(ctx, issuers)) {
          intermediates.push(ca.der);
          if (!crlsByIssuer.has(ca.id)) crlsByIssuer.set(ca.id, await pki.currentCrl(ctx, ca));
        }
      }
      const options = { trustAnchors, intermediates, crls: [...crlsByIssuer.values()] };
      if (decoded)
        verdicts.set(input.propertyInfo, verifySesSignature(input.signedValue, { ...options, data: input.data }));
      return sesSignatureVerifier(options).verify(input);
    },
  };
  const report = await verifyOfdFile(file, { verifier });
  const signatures = report.signatures.map((s) => checkOf(s, verdicts.get('/' + s.path)));
  const verdict =
    signatures.length === 0
      ? 'unsigned'
      : signatures.every((s) => s.status === 'valid')
        ? 'valid'
        : signatures.some((s) => s.status === 'invalid')
          ? 'invalid'
          : 'unknown-signer';
  return { format: 'ofd', verdict, sha256: sha256Of(bytes), pages: file.document.pages.length, signatures };
}
