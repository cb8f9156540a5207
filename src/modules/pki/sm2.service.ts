// National cryptography in the platform's PKI (issue 15): an SM2 root per deployment beside the
// RSA/ECDSA one, an SM2 issuing CA per group (the seal maker, 制章者, of its GB/T 38540 seals), an
// SM2 certificate per electronic seal (the company as subject, as for its other certificate), and
// the seal's `.esl`: made by the group's SM2 CA, with the seal's impression and its SM2 certificate
// on the certificate list. Keys go through `ctx.keys` like every other key (sealed in the
// database: PKCS#11 has no standard SM2 mechanism, and the vault says so).
import { createHash } from 'node:crypto';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import {
  createRootCa,
  fingerprint,
  issueSealCertificate,
  issueSealFile,
  parseCertificate,
  withCertificate,
  type Signer,
} from '../../signing/index.js';
import { recordAudit, recordAudits, type AuditActor, type AuditEvent } from '../audit/index.js';
import { lockSeal, sealImagePng } from '../seals/index.js';
import * as repo from './pki.repository.js';
import { currentCrl, makeGroupCa, openKey, type SealSubject } from './pki.service.js';

/** Where the SM2 root's CRL is published (named in the group SM2 CAs' distribution points). */
function sm2RootCrlUrl(ctx: AppContext): string | undefined {
  return ctx.config.publicUrl ? `${ctx.config.publicUrl}/pki/sm2/root/crl` : undefined;
}

function groupSm2CrlUrl(ctx: AppContext, groupId: string): string | undefined {
  return ctx.config.publicUrl ? `${ctx.config.publicUrl}/pki/groups/${groupId}/sm2/crl` : undefined;
}

const NAME_MAX = 64;
const clip = (text: string) => Array.from(text.trim()).slice(0, NAME_MAX).join('');
/** How long a seal's .esl is valid: a year, never beyond its SM2 certificate. */
const ESL_VALIDITY_MS = 365 * 86_400_000;
/** The printed width of an impression on the .esl when nothing else says it (a round seal's 40 mm, GA 241). */
const PICTURE_WIDTH_MM = 40;
/** GB/T 38540 leaves the type numbering to the business; Sigil writes 1 (单位印章) for a company's seal. */
const COMPANY_SEAL_TYPE = 1;

function fieldsOf(der: Buffer) {
  const cert = parseCertificate(der);
  return {
    serial: cert.serial.toString(16),
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    fingerprint: fingerprint(der),
  };
}

function isUsable(certificate: repo.CertificateRecord, at: Date): boolean {
  return certificate.status === 'active' && certificate.notBefore <= at && at < certificate.notAfter;
}

/** The deployment's SM2 root, made on first need (serialised across processes like the other root). */
export async function ensureSm2RootCa(ctx: AppContext): Promise<repo.CertificateRecord> {
  const found = await repo.findDeploymentCertificate(ctx.db, 'sm2_root_ca');
  if (found) return found;
  await ctx.db.transaction().execute(async (trx) => {
    await repo.lockNamed(trx, 'sigil:pki:sm2-root');
    if (await repo.findDeploymentCertificate(trx, 'sm2_root_ca')) return;
    const id = newId();
    const { reference, signer } = await ctx.keys.generate('SM2', id);
    const der = await createRootCa({
      signer,
      subject: { commonName: `Sigil SM2 Root CA ${id.slice(-12)}`, organization: 'Sigil' },
    });
    await repo.insertCertificate(trx, {
      id,
      groupId: null,
      purpose: 'sm2_root_ca',
      issuerId: null,
      source: 'issued',
      keySpec: 'SM2',
      der,
      key: reference,
      ...fieldsOf(der),
    });
  });
  const root = await repo.findDeploymentCertificate(ctx.db, 'sm2_root_ca');
  if (!root) throw new Error('the SM2 root CA was created but cannot be read back');
  return root;
}

/** The group's SM2 issuing CA (under the SM2 root), made on first need: the maker of the group's .esl seals. */
export async function ensureGroupSm2Ca(
  ctx: AppContext,
  groupId: string,
  actor: AuditActor,
): Promise<repo.CertificateRecord> {
  const found = await repo.findGroupCa(ctx.db, groupId, 'sm2_issuing_ca');
  if (found && isUsable(found, ctx.now())) return found;
  if (found)
    throw new AppError('certificate_expired', `The group's SM2 CA (${found.subject}) is not in force now.`, {
      notBefore: found.notBefore.toISOString(),
      notAfter: found.notAfter.toISOString(),
    });
  return makeGroupCa(ctx, {
    groupId,
    actor,
    purpose: 'sm2_issuing_ca',
    keySpec: 'SM2',
    root: await ensureSm2RootCa(ctx),
    commonName: (groupName) => `${groupName} SM2 Issuing CA`,
    crlUrl: sm2RootCrlUrl(ctx),
  });
}

/**
 * The group's seal maker (制章者, GB/T 38540 §6.2): an SM2 signing certificate issued by the
 * group's SM2 CA to the group, made on first need. The CA itself may only sign certificates and
 * CRLs (RFC 5280 key usage), so the seals are signed with this one; an expired one is replaced.
 */
export async function ensureGroupSealMaker(
  ctx: AppContext,
  groupId: string,
  actor: AuditActor,
): Promise<repo.CertificateRecord> {
  const found = await repo.findGroupCa(ctx.db, groupId, 'sm2_seal_maker');
  if (found && isUsable(found, ctx.now())) return found;
  const ca = await ensureGroupSm2Ca(ctx, groupId, actor);
  await ctx.db.transaction().execute(async (trx) => {
    await repo.lockNamed(trx, `sigil:pki:sm2-maker:${groupId}`);
    const now = ctx.now();
    const current = await repo.findGroupCa(trx, groupId, 'sm2_seal_maker');
    if (current && isUsable(current, now)) return;
    if (current) {
      const revoked = await repo.revokeCertificatesById(trx, [current.id], { reason: 'superseded', at: now });
      await repo.bumpRevocationRevision(
        trx,
        revoked.flatMap((r) => (r.issuerId ? [r.issuerId] : [])),
      );
    }
    const groupName = await repo.findGroupName(trx, groupId);
    if (!groupName) throw notFound('group_not_found', groupId);
    const id = newId();
    const { reference, signer } = await ctx.keys.generate('SM2', id);
    const der = await issueSealCertificate({
      issuer: { signer: await openKey(ctx, ca), certificate: ca.der },
      subject: { commonName: clip(`${groupName} 制章者`), organization: clip(groupName) },
      publicKey: signer.publicKey,
      crlUrl: groupSm2CrlUrl(ctx, groupId),
    });
    const fields = fieldsOf(der);
    await repo.insertCertificate(trx, {
      id,
      groupId,
      purpose: 'sm2_seal_maker',
      issuerId: ca.id,
      source: 'issued',
      keySpec: 'SM2',
      der,
      key: reference,
      ...fields,
    });
    await recordAudit(trx, {
      groupId,
      actor,
      at: now,
      event: {
        action: 'pki.certificate_issued',
        target: { type: 'group', id: groupId },
        companyId: null,
        changes: {
          certificateId: id,
          purpose: 'sm2_seal_maker',
          subject: fields.subject,
          serial: fields.serial,
          keySpec: 'SM2',
          keyStore: reference.store,
          notAfter: fields.notAfter.toISOString(),
        },
      },
    });
  });
  const maker = await repo.findGroupCa(ctx.db, groupId, 'sm2_seal_maker');
  if (!maker) throw new Error('the seal maker certificate was issued but cannot be read back');
  return maker;
}

/** The issuers of an SM2 certificate, nearest first (Sigil's own SM2 CAs). */
async function sm2ChainOf(ctx: AppContext, certificate: repo.CertificateRecord): Promise<Buffer[]> {
  const chain: Buffer[] = [];
  let issuerId = certificate.issuerId;
  for (let depth = 0; issuerId && depth < 3; depth++) {
    const issuer = await repo.findCertificate(ctx.db, issuerId);
    if (!issuer) break;
    chain.push(issuer.der);
    issuerId = issuer.issuerId;
  }
  return chain;
}

/** A signer for an SM2 certificate Sigil holds the key of, with its chain. */
export async function openSm2Signer(ctx: AppContext, certificate: repo.CertificateRecord): Promise<Signer> {
  return withCertificate(await openKey(ctx, certificate), certificate.der, await sm2ChainOf(ctx, certificate));
}

function sealNotElectronic(name: string): AppError {
  return new AppError(
    'seal_not_electronic',
    `${name} is not an electronic seal: only electronic seals hold a certificate and sign documents.`,
  );
}

function sealNotUsable(name: string, status: string, what: string): AppError {
  return new AppError('seal_not_usable', `${name} is ${status}; ${what}`, { sealName: name, sealStatus: status });
}

/**
 * The seal's SM2 certificate (the company as subject, issued by the group's SM2 CA), issued on
 * first need; an expired or revoked one is replaced. Issued under the seal's lock, so racing first
 * uses get one certificate, and a seal out of use gets none.
 */
export async function ensureSm2SealCertificate(
  ctx: AppContext,
  actor: AuditActor,
  seal: SealSubject,
): Promise<repo.CertificateRecord> {
  if (seal.kind !== 'electronic') throw sealNotElectronic(seal.name);
  const found = await repo.findActiveCertificate(ctx.db, { groupId: seal.groupId, sealId: seal.id, sm2: true });
  if (found && isUsable(found, ctx.now())) return found;
  const ca = await ensureGroupSm2Ca(ctx, seal.groupId, actor);
  const id = await ctx.db.transaction().execute(async (trx) => {
    const locked = await lockSeal(trx, seal.groupId, seal.id);
    if (!locked) throw notFound('seal_not_found', seal.id);
    if (locked.status !== 'active') throw sealNotUsable(seal.name, locked.status, 'no certificate is issued for it.');
    const now = ctx.now();
    const current = await repo.findActiveCertificate(trx, { groupId: seal.groupId, sealId: seal.id, sm2: true });
    if (current && isUsable(current, now)) return current.id;
    const events: AuditEvent[] = [];
    if (current) {
      const revoked = await repo.revokeCertificatesById(trx, [current.id], { reason: 'superseded', at: now });
      await repo.bumpRevocationRevision(
        trx,
        revoked.flatMap((r) => (r.issuerId ? [r.issuerId] : [])),
      );
      events.push(
        ...revoked.map((r) => ({
          action: 'pki.certificate_revoked' as const,
          target: { type: 'seal' as const, id: seal.id },
          companyId: seal.companyId,
          changes: { certificateId: r.id, serial: r.serial, reason: 'superseded', cause: 'expired; replaced' },
        })),
      );
    }
    const certificateId = newId();
    const { reference, signer } = await ctx.keys.generate('SM2', certificateId);
    const der = await issueSealCertificate({
      issuer: { signer: await openKey(ctx, ca), certificate: ca.der },
      subject: { commonName: clip(seal.name), organization: clip(seal.companyName) },
      publicKey: signer.publicKey,
      crlUrl: groupSm2CrlUrl(ctx, seal.groupId),
    });
    const fields = fieldsOf(der);
    await repo.insertCertificate(trx, {
      id: certificateId,
      groupId: seal.groupId,
      purpose: 'sm2_seal',
      issuerId: ca.id,
      sealId: seal.id,
      source: 'issued',
      keySpec: 'SM2',
      der,
      key: reference,
      ...fields,
    });
    events.push({
      action: 'pki.certificate_issued',
      target: { type: 'seal', id: seal.id },
      companyId: seal.companyId,
      changes: {
        certificateId,
        purpose: 'sm2_seal',
        subject: fields.subject,
        serial: fields.serial,
        keySpec: 'SM2',
        keyStore: reference.store,
        notAfter: fields.notAfter.toISOString(),
      },
    });
    await recordAudits(trx, { groupId: seal.groupId, actor, at: now, events });
    return certificateId;
  });
  const certificate = await repo.findCertificate(ctx.db, id);
  if (!certificate) throw new Error('the SM2 seal certificate was issued but cannot be read back');
  return certificate;
}

export type { ElectronicSealRecord } from './pki.repository.js';

/** The seal's .esl in force, without making one. */
export function findSealEsl(
  ctx: AppContext,
  where: { groupId: string; sealId: string },
): Promise<repo.ElectronicSealRecord | undefined> {
  return repo.findCurrentEsl(ctx.db, where);
}

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  if (png.length < 24) throw new Error('the seal impression is not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * Whether a kept .esl still holds for the seal as it is now: its SM2 certificate in force, the
 * impression unchanged, and now within its validity.
 */
async function isCurrent(
  ctx: AppContext,
  esl: repo.ElectronicSealRecord,
  seal: { imageSha256: string },
): Promise<boolean> {
  const now = ctx.now();
  if (esl.imageSha256 !== seal.imageSha256 || now < esl.validStart || now >= esl.validEnd) return false;
  const certificate = await repo.findCertificate(ctx.db, esl.certificateId);
  return !!certificate && isUsable(certificate, now);
}

export interface EslSubject extends SealSubject {
  imageSha256: string | null;
}

/**
 * Issues the seal's .esl now (GB/T 38540 v4, made by the group's SM2 CA): the seal's impression
 * as its picture, its SM2 certificate as the one signer on its list, valid a year (never beyond
 * that certificate or the maker's). The previous one is superseded. With `reuse`, a current one is
 * answered instead of making another.
 */
export async function issueSealEsl(
  ctx: AppContext,
  actor: AuditActor,
  seal: EslSubject,
  options: { reuse: boolean },
): Promise<{ esl: repo.ElectronicSealRecord; created: boolean }> {
  if (seal.kind !== 'electronic') throw sealNotElectronic(seal.name);
  const imageSha256 = seal.imageSha256;
  if (!imageSha256)
    throw new AppError(
      'validation_failed',
      `${seal.name} has no impression image; give it one (a change application) before issuing its .esl.`,
      { errors: [{ field: 'sealId', message: 'the seal has no image' }] },
    );
  if (options.reuse) {
    const kept = await repo.findCurrentEsl(ctx.db, { groupId: seal.groupId, sealId: seal.id });
    if (kept && (await isCurrent(ctx, kept, { imageSha256 }))) return { esl: kept, created: false };
  }
  const certificate = await ensureSm2SealCertificate(ctx, actor, seal);
  const maker = await ensureGroupSealMaker(ctx, seal.groupId, actor);
  const png = await sealImagePng(ctx, { groupId: seal.groupId, sha256: imageSha256 });
  const { width, height } = pngSize(png);
  const widthMm = PICTURE_WIDTH_MM;
  const heightMm = Math.max(1, Math.round((PICTURE_WIDTH_MM * height) / Math.max(1, width)));
  const makerSigner = await openSm2Signer(ctx, maker);
  const id = newId();
  await ctx.db.transaction().execute(async (trx) => {
    // Under the seal's lock: a suspension or loss approved meanwhile is seen, and two issuers in a
    // race leave one .esl in force (the unique index backs it).
    const locked = await lockSeal(trx, seal.groupId, seal.id);
    if (!locked) throw notFound('seal_not_found', seal.id);
    if (locked.status !== 'active') throw sealNotUsable(seal.name, locked.status, 'no .esl is issued for it.');
    const held = await repo.lockCertificateForUse(trx, certificate.id);
    if (!held || held.status !== 'active')
      throw new AppError('certificate_revoked', `The SM2 certificate ${certificate.serial} has been revoked.`);
    const now = ctx.now();
    // A minute back, as certificates' notBefore: a signature timed by another process's clock just
    // before this one still falls within the seal's validity.
    const validStart = new Date(Math.floor((now.getTime() - 60_000) / 1000) * 1000);
    const validEnd = new Date(
      Math.min(now.getTime() + ESL_VALIDITY_MS, certificate.notAfter.getTime(), maker.notAfter.getTime()),
    );
    const esId = id.replace(/-/g, '');
    const der = await issueSealFile({
      maker: makerSigner,
      id: esId,
      type: COMPANY_SEAL_TYPE,
      name: seal.name,
      signers: [certificate.der],
      listAs: 'certificates',
      validStart,
      validEnd,
      createDate: now,
      picture: { type: 'png', data: png, widthMm, heightMm },
      vendorId: 'Sigil',
    });
    const sha256 = createHash('sha256').update(der).digest('hex');
    await repo.insertEsl(trx, {
      id,
      groupId: seal.groupId,
      sealId: seal.id,
      makerId: maker.id,
      certificateId: certificate.id,
      esId,
      imageSha256,
      der,
      sha256,
      validStart,
      validEnd: new Date(Math.floor(validEnd.getTime() / 1000) * 1000),
    });
    await recordAudit(trx, {
      groupId: seal.groupId,
      actor,
      at: now,
      event: {
        action: 'pki.esl_issued',
        target: { type: 'seal', id: seal.id },
        companyId: seal.companyId,
        changes: {
          eslId: id,
          esId,
          certificateId: certificate.id,
          makerId: maker.id,
          sha256,
          validStart: validStart.toISOString(),
          validEnd: validEnd.toISOString(),
        },
      },
    });
  });
  const esl = await repo.findCurrentEsl(ctx.db, { groupId: seal.groupId, sealId: seal.id });
  if (!esl || esl.id !== id) throw new Error('the .esl was issued but cannot be read back');
  return { esl, created: true };
}

/** The seal's SM2 certificate for an .esl, to sign with it. */
export async function getEslCertificate(
  ctx: AppContext,
  esl: repo.ElectronicSealRecord,
): Promise<repo.CertificateRecord> {
  const certificate = await repo.findCertificate(ctx.db, esl.certificateId);
  if (!certificate) throw new Error("the .esl's certificate cannot be read");
  return certificate;
}

/** Every group SM2 CA whose subject is one of these (to find intermediates and CRLs for a verification). */
export function findSm2CasBySubject(ctx: AppContext, subjects: string[]): Promise<repo.CertificateRecord[]> {
  return repo.findIssuingCasBySubject(ctx.db, subjects, 'sm2_issuing_ca');
}

export async function sm2RootCrl(ctx: AppContext): Promise<Buffer> {
  return currentCrl(ctx, await ensureSm2RootCa(ctx));
}

/** A group's SM2 CA certificate; only a group that has one (made with its first .esl or SM2 certificate). */
export async function getGroupSm2Ca(ctx: AppContext, groupId: string): Promise<repo.CertificateRecord> {
  const ca = await repo.findGroupCa(ctx.db, groupId, 'sm2_issuing_ca');
  if (!ca) throw new AppError('certificate_not_found', 'This group has no SM2 certificate authority yet.');
  return ca;
}

export async function groupSm2Crl(ctx: AppContext, groupId: string): Promise<Buffer> {
  return currentCrl(ctx, await getGroupSm2Ca(ctx, groupId));
}
