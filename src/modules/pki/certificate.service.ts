// Who may see and ask for certificates: seal readers see a seal's, seal administrators issue or
// import one, everybody sees and asks for their own; the trust anchors are shown to anyone signed in.
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { type KeySpec, crlDistributionPoints, derToPem } from '../../signing/index.js';
import { assertWithin, requireUser, type Actor } from '../access/index.js';
import { getSeal } from '../seals/index.js';
import * as repo from './pki.repository.js';
import {
  chainOf,
  ensurePersonCertificate,
  importSealPkcs12,
  issueSealCertificateNow,
  type SealSubject,
} from './pki.service.js';
import { PKCS12_MAX_BYTES } from './pki.schema.js';

export async function describeCertificate(ctx: AppContext, c: repo.CertificateRecord) {
  const chain = await chainOf(ctx, c);
  return {
    id: c.id,
    purpose: c.purpose,
    source: c.source,
    serialNumber: c.serial,
    subject: c.subject,
    issuer: c.issuer,
    keySpec: c.keySpec,
    keyStore: c.keyStore,
    fingerprint: c.fingerprint,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    status: c.status,
    revokedAt: c.revokedAt,
    revocationReason: c.revocationReason,
    crlUrl: crlDistributionPoints(c.der)[0] ?? null,
    certificatePem: derToPem(c.der),
    chainPem: chain.map((der) => derToPem(der)),
  };
}

/** The trust anchors as they are now (nothing is created by looking). */
export async function getTrust(ctx: AppContext, actor: Actor) {
  const [root, groupCa, tsa] = await Promise.all([
    repo.findDeploymentCertificate(ctx.db, 'root_ca'),
    repo.findGroupCa(ctx.db, actor.principal.groupId),
    repo.findDeploymentCertificate(ctx.db, 'tsa'),
  ]);
  return {
    root: root ? await describeCertificate(ctx, root) : null,
    groupCa: groupCa ? await describeCertificate(ctx, groupCa) : null,
    tsa: tsa ? await describeCertificate(ctx, tsa) : null,
    externalTsas: ctx.config.pki.tsaUrls,
  };
}

async function sealSubject(
  ctx: AppContext,
  actor: Actor,
  sealId: string,
): Promise<SealSubject & { companyPath: string }> {
  const seal = await getSeal(ctx, actor, sealId);
  return {
    id: seal.id,
    groupId: actor.principal.groupId,
    name: seal.name,
    kind: seal.kind,
    companyId: seal.companyId,
    companyName: seal.companyName,
    companyPath: seal.companyPath,
  };
}

export async function getSealCertificate(ctx: AppContext, actor: Actor, sealId: string) {
  const seal = await sealSubject(ctx, actor, sealId);
  const certificate = await repo.findLatestCertificate(ctx.db, { groupId: seal.groupId, sealId });
  if (!certificate)
    throw new AppError(
      'certificate_not_found',
      `${seal.name} has no certificate yet; one is issued on its first signature, or ask for one now.`,
    );
  return describeCertificate(ctx, certificate);
}

/** Issues the seal's certificate now (seal administrators over its company); the current one is kept unless `replace`. */
export async function requestSealCertificate(
  ctx: AppContext,
  actor: Actor,
  sealId: string,
  input: { keySpec?: KeySpec | undefined; replace: boolean },
) {
  const seal = await sealSubject(ctx, actor, sealId);
  assertWithin(actor.principal, 'seals.manage', seal.companyPath);
  const before = await repo.findActiveCertificate(ctx.db, { groupId: seal.groupId, sealId });
  const certificate = await issueSealCertificateNow(ctx, actor, seal, {
    keySpec: input.keySpec,
    replace: input.replace,
  });
  return { created: certificate.id !== before?.id, certificate: await describeCertificate(ctx, certificate) };
}

/** Gives the seal a certificate from an outside CA (PKCS#12); seal administrators over its company. */
export async function importSealCertificate(
  ctx: AppContext,
  actor: Actor,
  sealId: string,
  input: { pkcs12Base64: string; password: string },
) {
  const seal = await sealSubject(ctx, actor, sealId);
  assertWithin(actor.principal, 'seals.manage', seal.companyPath);
  const pkcs12 = Buffer.from(input.pkcs12Base64.replace(/\s+/g, ''), 'base64');
  if (pkcs12.length === 0)
    throw new AppError('validation_failed', 'The PKCS#12 file is empty.', {
      errors: [{ field: 'body.pkcs12Base64', message: 'is empty' }],
    });
  if (pkcs12.length > PKCS12_MAX_BYTES)
    throw new AppError(
      'payload_too_large',
      `The PKCS#12 file has ${pkcs12.length} bytes; at most ${PKCS12_MAX_BYTES} are accepted.`,
    );
  return describeCertificate(ctx, await importSealPkcs12(ctx, actor, seal, { pkcs12, password: input.password }));
}

export async function getMyCertificate(ctx: AppContext, actor: Actor) {
  const userId = requireUser(actor.principal);
  const certificate = await repo.findLatestCertificate(ctx.db, { groupId: actor.principal.groupId, userId });
  if (!certificate)
    throw new AppError(
      'certificate_not_found',
      'You have no signing certificate yet; one is issued on your first personal signature, or ask for one now.',
    );
  return describeCertificate(ctx, certificate);
}

export async function requestMyCertificate(ctx: AppContext, actor: Actor) {
  const userId = requireUser(actor.principal);
  const where = { groupId: actor.principal.groupId, userId };
  const before = await repo.findActiveCertificate(ctx.db, where);
  const certificate = await ensurePersonCertificate(ctx, actor, where);
  return { created: certificate.id !== before?.id, certificate: await describeCertificate(ctx, certificate) };
}
