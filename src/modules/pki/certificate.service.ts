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
import { findSealEsl, issueSealEsl, type ElectronicSealRecord } from './sm2.service.js';

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
  const [root, groupCa, tsa, sm2Root, sm2GroupCa] = await Promise.all([
    repo.findDeploymentCertificate(ctx.db, 'root_ca'),
    repo.findGroupCa(ctx.db, actor.principal.groupId),
    repo.findDeploymentCertificate(ctx.db, 'tsa'),
    repo.findDeploymentCertificate(ctx.db, 'sm2_root_ca'),
    repo.findGroupCa(ctx.db, actor.principal.groupId, 'sm2_issuing_ca'),
  ]);
  return {
    root: root ? await describeCertificate(ctx, root) : null,
    groupCa: groupCa ? await describeCertificate(ctx, groupCa) : null,
    tsa: tsa ? await describeCertificate(ctx, tsa) : null,
    externalTsas: ctx.config.pki.tsaUrls,
    sm2Root: sm2Root ? await describeCertificate(ctx, sm2Root) : null,
    sm2GroupCa: sm2GroupCa ? await describeCertificate(ctx, sm2GroupCa) : null,
  };
}

async function sealSubject(
  ctx: AppContext,
  actor: Actor,
  sealId: string,
): Promise<SealSubject & { companyPath: string; status: string; imageSha256: string | null }> {
  const seal = await getSeal(ctx, actor, sealId);
  return {
    id: seal.id,
    groupId: actor.principal.groupId,
    name: seal.name,
    kind: seal.kind,
    companyId: seal.companyId,
    companyName: seal.companyName,
    companyPath: seal.companyPath,
    status: seal.status,
    imageSha256: seal.imageSha256,
  };
}

// ---------------------------------------------------------------- .esl (GB/T 38540 electronic seal files)

async function describeEsl(ctx: AppContext, esl: ElectronicSealRecord, name: string) {
  const [maker, certificate] = await Promise.all([
    repo.findCertificate(ctx.db, esl.makerId),
    repo.findCertificate(ctx.db, esl.certificateId),
  ]);
  if (!maker || !certificate) throw new Error("the .esl's certificates cannot be read");
  return {
    id: esl.id,
    sealId: esl.sealId,
    esId: esl.esId,
    name,
    sha256: esl.sha256,
    size: esl.der.length,
    validStart: esl.validStart,
    validEnd: esl.validEnd,
    createdAt: esl.createdAt,
    maker: { subject: maker.subject, serialNumber: maker.serial },
    certificate: {
      subject: certificate.subject,
      serialNumber: certificate.serial,
      fingerprint: certificate.fingerprint,
    },
  };
}

function refuseUnusableSeal(seal: { name: string; kind: string; status: string }, what: string): void {
  if (seal.kind !== 'electronic')
    throw new AppError(
      'seal_not_electronic',
      `${seal.name} is a ${seal.kind} seal; only an electronic seal has an .esl.`,
    );
  if (seal.status !== 'active')
    throw new AppError('seal_not_usable', `${seal.name} is ${seal.status}; ${what}`, {
      sealName: seal.name,
      sealStatus: seal.status,
    });
}

/**
 * Issues the seal's .esl (seal administrators over its company), or answers the one in force when
 * it still holds (same impression, SM2 certificate in force, within its validity).
 */
export async function requestSealEsl(ctx: AppContext, actor: Actor, sealId: string) {
  const seal = await sealSubject(ctx, actor, sealId);
  assertWithin(actor.principal, 'seals.manage', seal.companyPath);
  refuseUnusableSeal(seal, 'no .esl is issued for it.');
  const { esl, created } = await issueSealEsl(ctx, actor, seal, { reuse: true });
  return { created, esl: await describeEsl(ctx, esl, seal.name) };
}

/** The seal's .esl in force, for whoever may read the seal; a seal out of use has none to give. */
export async function getSealEslFile(ctx: AppContext, actor: Actor, sealId: string) {
  const seal = await sealSubject(ctx, actor, sealId);
  refuseUnusableSeal(seal, 'its .esl is not given out.');
  const esl = await findSealEsl(ctx, { groupId: seal.groupId, sealId });
  const certificate = esl ? await repo.findCertificate(ctx.db, esl.certificateId) : undefined;
  const now = ctx.now();
  if (
    !esl ||
    !certificate ||
    certificate.status !== 'active' ||
    esl.imageSha256 !== seal.imageSha256 ||
    now < esl.validStart ||
    now >= esl.validEnd
  )
    throw new AppError(
      'esl_not_found',
      `${seal.name} has no .esl in force; a seal administrator issues one with POST /seals/${sealId}/esl.`,
    );
  return { der: esl.der, filename: `seal-${esl.esId}.esl` };
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
