// The platform's PKI over the signing engine: a deployment root CA and TSA, an issuing CA per
// group, certificates for seals (the company is the subject) and for people, PKCS#12 imports,
// revocation in the caller's transaction, and CRLs made on demand from the database.
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { RevocationReasonName, Transaction } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import {
  createCrl,
  createIssuingCa,
  createRootCa,
  issuePersonCertificate,
  generateKey,
  issueSealCertificate,
  issueTsaCertificate,
  type KeySpec,
  type NameSpec,
  type RevocationSource,
  readPkcs12,
  httpRevocationSource,
  createKeySigner,
  fingerprint,
  orderChain,
  withCertificate,
  type KeySigner,
  type Signer,
  createHttpTimestamper,
  createInProcessTimestamper,
  type TimeStampAuthority,
  type Timestamper,
  parseCertificate,
} from '../../signing/index.js';
import { recordAudit, recordAudits, type AuditActor } from '../audit/index.js';
import type { AuditEvent } from '../audit/index.js';
import { lockSeal } from '../seals/index.js';
import * as repo from './pki.repository.js';

export type { CertificateRecord } from './pki.repository.js';

const DAY = 86_400_000;
/** A CRL is re-made when a revocation changed what it must list, or when it is a day old; it is valid for a week. */
const CRL_REFRESH_MS = DAY;
const CRL_VALIDITY_MS = 7 * DAY;
/** X.520 upper bound for CN and O (RFC 5280 Appendix A). */
const NAME_MAX = 64;

const clip = (text: string) => Array.from(text.trim()).slice(0, NAME_MAX).join('');

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

// ---------------------------------------------------------------- public addresses

/** Where the root CRL is published (its URL goes into the CRL distribution points); none without SIGIL_PUBLIC_URL. */
export function rootCrlUrl(ctx: AppContext): string | undefined {
  return ctx.config.publicUrl ? `${ctx.config.publicUrl}/pki/root/crl` : undefined;
}

export function groupCrlUrl(ctx: AppContext, groupId: string): string | undefined {
  return ctx.config.publicUrl ? `${ctx.config.publicUrl}/pki/groups/${groupId}/crl` : undefined;
}

// ---------------------------------------------------------------- keys

/** The key of a certificate, from the vault (sealed in the database or in the token). */
export function openKey(ctx: AppContext, certificate: repo.CertificateRecord): Promise<KeySigner> {
  return ctx.keys.open(certificate.key, certificate.id);
}

/** A document signer for a seal's or person's certificate, with its chain up to the root. */
export async function openSigner(ctx: AppContext, certificate: repo.CertificateRecord): Promise<Signer> {
  return keptSigner(ctx, certificate, async () =>
    withCertificate(await openKey(ctx, certificate), certificate.der, await chainOf(ctx, certificate)),
  );
}

/**
 * Signers made for certificates, per key vault and by certificate id: the same signer object
 * for the same certificate, so what the engine derives from a certificate once (its ESS
 * identifier, its SignerIdentifier, the size of its signatures; kept by the certificate's
 * buffer) is found again, and the certificate and chain are parsed once. Whether the certificate
 * may still sign is not kept: callers read its status each time and check it again under lock.
 */
const signers = new WeakMap<object, Map<string, Signer>>();
const SIGNERS_KEPT = 256;

async function keptSigner(
  ctx: AppContext,
  certificate: repo.CertificateRecord,
  make: () => Promise<Signer>,
): Promise<Signer> {
  let kept = signers.get(ctx.keys);
  if (!kept) signers.set(ctx.keys, (kept = new Map()));
  const found = kept.get(certificate.id);
  if (found?.certificate.equals(certificate.der)) return found;
  const signer = await make();
  if (kept.size >= SIGNERS_KEPT) kept.delete(kept.keys().next().value!);
  kept.set(certificate.id, signer);
  return signer;
}

/** A certificate by id (any group's: the caller has already tied the id to its own records). */
export function findCertificateById(ctx: AppContext, id: string): Promise<repo.CertificateRecord | undefined> {
  return repo.findCertificate(ctx.db, id);
}

/** The issuers of a certificate, nearest first: Sigil's CAs, or the outside chain of an import. */
export async function chainOf(ctx: AppContext, certificate: repo.CertificateRecord): Promise<Buffer[]> {
  if (certificate.source === 'imported') return certificate.chain;
  const chain: Buffer[] = [];
  let issuerId = certificate.issuerId;
  for (let depth = 0; issuerId && depth < 4; depth++) {
    const issuer = issuers.get(issuerId) ?? (await repo.findCertificate(ctx.db, issuerId));
    if (!issuer) break;
    keepIssuer(issuerId, issuer);
    chain.push(issuer.der);
    issuerId = issuer.issuerId;
  }
  return chain;
}

/**
 * Issuers met in chains, by id: a certificate's DER and issuer never change once written (a
 * revocation changes its status, which a chain does not carry), so every signature need not read
 * its CA and root again.
 */
const issuers = new Map<string, { der: Buffer; issuerId: string | null }>();
const ISSUERS_KEPT = 256;

function keepIssuer(id: string, issuer: { der: Buffer; issuerId: string | null }): void {
  if (issuers.has(id)) return;
  if (issuers.size >= ISSUERS_KEPT) issuers.delete(issuers.keys().next().value!);
  issuers.set(id, { der: issuer.der, issuerId: issuer.issuerId });
}

// ---------------------------------------------------------------- the deployment root and TSA

/**
 * The deployment's root CA, made on first need. Creators in several processes are serialised
 * by an advisory lock, and the unique index on the active root backs it.
 */
export async function ensureRootCa(ctx: AppContext): Promise<repo.CertificateRecord> {
  const found = await repo.findDeploymentCertificate(ctx.db, 'root_ca');
  if (found) return found;
  await ctx.db.transaction().execute(async (trx) => {
    await repo.lockNamed(trx, 'sigil:pki:root');
    if (await repo.findDeploymentCertificate(trx, 'root_ca')) return;
    const id = newId();
    const spec = ctx.config.pki.caKeySpec;
    const { reference, signer } = await ctx.keys.generate(spec, id);
    // The id makes each deployment's root distinguishable in a relying party's trust store.
    const der = await createRootCa({
      signer,
      subject: { commonName: `Sigil Root CA ${id.slice(-12)}`, organization: 'Sigil' },
    });
    await repo.insertCertificate(trx, {
      id,
      groupId: null,
      purpose: 'root_ca',
      issuerId: null,
      source: 'issued',
      keySpec: spec,
      der,
      key: reference,
      ...fieldsOf(der),
    });
  });
  const root = await repo.findDeploymentCertificate(ctx.db, 'root_ca');
  if (!root) throw new Error('the root CA was created but cannot be read back');
  return root;
}

/** The built-in TSA's certificate (critical timeStamping EKU, issued by the root), renewed when it has expired. */
export async function ensureTsa(ctx: AppContext): Promise<repo.CertificateRecord> {
  const now = ctx.now();
  const found = await repo.findDeploymentCertificate(ctx.db, 'tsa');
  if (found && found.notAfter > now) return found;
  const root = await ensureRootCa(ctx);
  await ctx.db.transaction().execute(async (trx) => {
    await repo.lockNamed(trx, 'sigil:pki:tsa');
    const current = await repo.findDeploymentCertificate(trx, 'tsa');
    if (current && current.notAfter > now) return;
    if (current) {
      await repo.revokeCertificatesById(trx, [current.id], { reason: 'superseded', at: now });
      await repo.bumpRevocationRevision(trx, [root.id]);
    }
    const id = newId();
    const spec = ctx.config.pki.keySpec;
    const { reference, signer } = await ctx.keys.generate(spec, id);
    const rootSigner = await openKey(ctx, root);
    const der = await issueTsaCertificate({
      issuer: { signer: rootSigner, certificate: root.der },
      subject: { commonName: 'Sigil Time-Stamping Authority', organization: 'Sigil' },
      publicKey: signer.publicKey,
      crlUrl: rootCrlUrl(ctx),
    });
    await repo.insertCertificate(trx, {
      id,
      groupId: null,
      purpose: 'tsa',
      issuerId: root.id,
      source: 'issued',
      keySpec: spec,
      der,
      key: reference,
      ...fieldsOf(der),
    });
  });
  const tsa = await repo.findDeploymentCertificate(ctx.db, 'tsa');
  if (!tsa) throw new Error('the TSA certificate was created but cannot be read back');
  return tsa;
}

/**
 * The TSA certificate as read a moment ago, per database: every B-T signature asks for it, and it
 * changes only when it expires (then a new one supersedes it). Kept for a few seconds and never
 * past its end, so a process sees a successor within that time.
 */
const keptTsa = new WeakMap<object, { record: repo.CertificateRecord; until: number }>();
const TSA_KEPT_MS = 5_000;

async function currentTsa(ctx: AppContext): Promise<repo.CertificateRecord> {
  const now = ctx.now();
  const kept = keptTsa.get(ctx.db);
  if (kept && now.getTime() < kept.until && now < kept.record.notAfter) return kept.record;
  const record = await ensureTsa(ctx);
  keptTsa.set(ctx.db, { record, until: now.getTime() + TSA_KEPT_MS });
  return record;
}

/** The built-in RFC 3161 authority, behind `POST /tsa` and used in-process when no external TSA is configured. */
export async function timeStampAuthority(ctx: AppContext): Promise<TimeStampAuthority> {
  const tsa = await currentTsa(ctx);
  // Its chain is its issuer, the root.
  const signer = await keptSigner(ctx, tsa, async () =>
    withCertificate(await openKey(ctx, tsa), tsa.der, await chainOf(ctx, tsa)),
  );
  return { signer, now: ctx.now };
}

/** Time-stamps for B-T and above: the external TSAs of SIGIL_TSA_URLS in order (failing over), else the built-in one. */
export async function timestamperFor(ctx: AppContext): Promise<Timestamper> {
  const { tsaUrls, tsaTimeoutMs } = ctx.config.pki;
  if (tsaUrls.length > 0) return createHttpTimestamper({ urls: tsaUrls, timeoutMs: tsaTimeoutMs });
  return createInProcessTimestamper(await timeStampAuthority(ctx));
}

// ---------------------------------------------------------------- group CAs

/** The group's issuing CA, made (under the root) on first need. */
export async function ensureGroupCa(
  ctx: AppContext,
  groupId: string,
  actor: AuditActor,
): Promise<repo.CertificateRecord> {
  const found = await repo.findGroupCa(ctx.db, groupId);
  if (found) return found;
  return makeGroupCa(ctx, {
    groupId,
    actor,
    purpose: 'issuing_ca',
    keySpec: ctx.config.pki.caKeySpec,
    root: await ensureRootCa(ctx),
    commonName: (groupName) => `${groupName} Issuing CA`,
    crlUrl: rootCrlUrl(ctx),
  });
}

/**
 * Makes a group's issuing CA under `root` (once: under a named lock, a second caller finds the
 * first's), audited as `pki.ca_created`, and reads it back.
 */
export async function makeGroupCa(
  ctx: AppContext,
  spec: {
    groupId: string;
    actor: AuditActor;
    purpose: 'issuing_ca' | 'sm2_issuing_ca';
    keySpec: KeySpec;
    root: repo.CertificateRecord;
    commonName: (groupName: string) => string;
    crlUrl: string | undefined;
  },
): Promise<repo.CertificateRecord> {
  const { groupId, actor, purpose, keySpec, root } = spec;
  await ctx.db.transaction().execute(async (trx) => {
    await repo.lockNamed(trx, `sigil:pki:${purpose === 'issuing_ca' ? 'ca' : 'sm2-ca'}:${groupId}`);
    if (await repo.findGroupCa(trx, groupId, purpose)) return;
    const groupName = await repo.findGroupName(trx, groupId);
    if (!groupName) throw notFound('group_not_found', groupId);
    const id = newId();
    const { reference, signer } = await ctx.keys.generate(keySpec, id);
    const subject: NameSpec = { commonName: clip(spec.commonName(groupName)), organization: clip(groupName) };
    const der = await createIssuingCa({
      issuer: { signer: await openKey(ctx, root), certificate: root.der },
      subject,
      publicKey: signer.publicKey,
      crlUrl: spec.crlUrl,
    });
    const fields = fieldsOf(der);
    await repo.insertCertificate(trx, {
      id,
      groupId,
      purpose,
      issuerId: root.id,
      source: 'issued',
      keySpec,
      der,
      key: reference,
      ...fields,
    });
    await recordAudit(trx, {
      groupId,
      actor,
      at: ctx.now(),
      event: {
        action: 'pki.ca_created',
        target: { type: 'group', id: groupId },
        companyId: null,
        changes: {
          certificateId: id,
          subject: fields.subject,
          serial: fields.serial,
          keySpec,
          keyStore: reference.store,
        },
      },
    });
  });
  const ca = await repo.findGroupCa(ctx.db, groupId, purpose);
  if (!ca) throw new Error(`the group's ${purpose} was created but cannot be read back`);
  return ca;
}

// ---------------------------------------------------------------- seal and person certificates

export interface SealSubject {
  id: string;
  groupId: string;
  name: string;
  kind: string;
  companyId: string;
  companyName: string;
}

function sealNotElectronic(name: string): AppError {
  return new AppError(
    'seal_not_electronic',
    `${name} is not an electronic seal: only electronic seals hold a certificate and sign documents.`,
  );
}

function isUsable(certificate: repo.CertificateRecord, at: Date): boolean {
  return certificate.status === 'active' && certificate.notBefore <= at && at < certificate.notAfter;
}

/**
 * The seal's certificate, issued on first need (the first signature, or a seal administrator's
 * request). An issued certificate that has expired is replaced; an imported one is not (its
 * outside CA must renew it), so signing refuses it as expired.
 */
export async function ensureSealCertificate(
  ctx: AppContext,
  actor: AuditActor,
  seal: SealSubject,
): Promise<repo.CertificateRecord> {
  if (seal.kind !== 'electronic') throw sealNotElectronic(seal.name);
  const found = await repo.findActiveCertificate(ctx.db, { groupId: seal.groupId, sealId: seal.id });
  if (found && (isUsable(found, ctx.now()) || found.source === 'imported')) return found;
  return issueSealCertificateNow(ctx, actor, seal, { replace: found !== undefined });
}

/** Issues a certificate for the seal now; `replace` supersedes the current one (revoked as superseded). */
export async function issueSealCertificateNow(
  ctx: AppContext,
  actor: AuditActor,
  seal: SealSubject,
  options: { keySpec?: KeySpec; replace: boolean },
): Promise<repo.CertificateRecord> {
  if (seal.kind !== 'electronic') throw sealNotElectronic(seal.name);
  const ca = await ensureGroupCa(ctx, seal.groupId, actor);
  const spec = options.keySpec ?? ctx.config.pki.keySpec;
  const id = await ctx.db.transaction().execute(async (trx) => {
    // Under the seal's lock: racing first signatures get one certificate between them, and a
    // seal suspended, lost or destroyed meanwhile gets none.
    const locked = await lockSeal(trx, seal.groupId, seal.id);
    if (!locked) throw notFound('seal_not_found', seal.id);
    if (locked.status !== 'active')
      throw new AppError('seal_not_usable', `${seal.name} is ${locked.status}; no certificate is issued for it.`, {
        sealName: seal.name,
        sealStatus: locked.status,
      });
    const now = ctx.now();
    const current = await repo.findActiveCertificate(trx, { groupId: seal.groupId, sealId: seal.id });
    if (current && !options.replace && isUsable(current, now)) return current.id;
    const events: AuditEvent[] = [];
    if (current)
      events.push(
        ...(await revokeInTransaction(trx, {
          groupId: seal.groupId,
          ids: [current.id],
          reason: 'superseded',
          at: now,
          cause: 'replaced by a new certificate',
          target: { type: 'seal', id: seal.id },
          companyId: seal.companyId,
        })),
      );
    const certificateId = newId();
    const { reference, signer } = await ctx.keys.generate(spec, certificateId);
    const caSigner = await openKey(ctx, ca);
    const der = await issueSealCertificate({
      issuer: { signer: caSigner, certificate: ca.der },
      // ETSI EN 319 412-3: an organisation's seal names the organisation; CN names this seal.
      subject: { commonName: clip(seal.name), organization: clip(seal.companyName) },
      publicKey: signer.publicKey,
      crlUrl: groupCrlUrl(ctx, seal.groupId),
    });
    const fields = fieldsOf(der);
    await repo.insertCertificate(trx, {
      id: certificateId,
      groupId: seal.groupId,
      purpose: 'seal',
      issuerId: ca.id,
      sealId: seal.id,
      source: 'issued',
      keySpec: spec,
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
        purpose: 'seal',
        subject: fields.subject,
        serial: fields.serial,
        keySpec: spec,
        keyStore: reference.store,
        notAfter: fields.notAfter.toISOString(),
      },
    });
    await recordAudits(trx, { groupId: seal.groupId, actor, at: now, events });
    return certificateId;
  });
  const certificate = await repo.findCertificate(ctx.db, id);
  if (!certificate) throw new Error('the seal certificate was issued but cannot be read back');
  return certificate;
}

/** The person's own certificate (for personal signatures), issued on first need; only active people get one. */
export async function ensurePersonCertificate(
  ctx: AppContext,
  actor: AuditActor,
  where: { groupId: string; userId: string },
): Promise<repo.CertificateRecord> {
  const found = await repo.findActiveCertificate(ctx.db, where);
  const now = ctx.now();
  if (found && isUsable(found, now)) return found;
  const ca = await ensureGroupCa(ctx, where.groupId, actor);
  const person = await repo.findPersonSubject(ctx.db, where);
  if (!person) throw notFound('user_not_found', where.userId);
  const id = await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.lockPerson(trx, where);
    if (locked?.status !== 'active')
      throw new AppError(
        'user_resigned',
        `${person.name} is ${locked?.status ?? 'gone'}; only active people hold a signing certificate.`,
        { name: person.name },
      );
    const current = await repo.findActiveCertificate(trx, where);
    if (current && isUsable(current, now)) return current.id;
    const events: AuditEvent[] = [];
    if (current)
      events.push(
        ...(await revokeInTransaction(trx, {
          groupId: where.groupId,
          ids: [current.id],
          reason: 'superseded',
          at: now,
          cause: 'expired; replaced',
          target: { type: 'user', id: where.userId },
          companyId: person.companyId,
        })),
      );
    const certificateId = newId();
    const spec = ctx.config.pki.keySpec;
    const { reference, signer } = await ctx.keys.generate(spec, certificateId);
    const der = await issuePersonCertificate({
      issuer: { signer: await openKey(ctx, ca), certificate: ca.der },
      subject: { commonName: clip(person.name), organization: clip(person.companyName), email: person.email },
      publicKey: signer.publicKey,
      crlUrl: groupCrlUrl(ctx, where.groupId),
    });
    const fields = fieldsOf(der);
    await repo.insertCertificate(trx, {
      id: certificateId,
      groupId: where.groupId,
      purpose: 'person',
      issuerId: ca.id,
      userId: where.userId,
      source: 'issued',
      keySpec: spec,
      der,
      key: reference,
      ...fields,
    });
    events.push({
      action: 'pki.certificate_issued',
      target: { type: 'user', id: where.userId },
      companyId: person.companyId,
      changes: {
        certificateId,
        purpose: 'person',
        subject: fields.subject,
        serial: fields.serial,
        keySpec: spec,
        keyStore: reference.store,
        notAfter: fields.notAfter.toISOString(),
      },
    });
    await recordAudits(trx, { groupId: where.groupId, actor, at: now, events });
    return certificateId;
  });
  const certificate = await repo.findCertificate(ctx.db, id);
  if (!certificate) throw new Error('the person certificate was issued but cannot be read back');
  return certificate;
}

/**
 * A one-time (event) certificate for a person outside the group who has just proved who they are
 * (a code sent to their phone or e-mail): issued by the group's CA, valid for an hour, its key
 * made in memory for this one signature and never stored, so nothing can sign in their name again.
 * The certificate row is kept (the audit trail and the evidence package name it).
 */
export async function issueEventSigner(
  ctx: AppContext,
  actor: AuditActor,
  person: { groupId: string; companyId: string; name: string; organization?: string; email?: string; evidence: string },
): Promise<{ signer: Signer; certificate: repo.CertificateRecord }> {
  const ca = await ensureGroupCa(ctx, person.groupId, actor);
  const now = ctx.now();
  const spec = ctx.config.pki.keySpec;
  const keySigner = createKeySigner(await generateKey(spec));
  const der = await issuePersonCertificate({
    issuer: { signer: await openKey(ctx, ca), certificate: ca.der },
    subject: {
      commonName: clip(person.name),
      ...(person.organization ? { organization: clip(person.organization) } : {}),
      ...(person.email ? { email: person.email } : {}),
    },
    publicKey: keySigner.publicKey,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 3600_000),
    crlUrl: groupCrlUrl(ctx, person.groupId),
  });
  const fields = fieldsOf(der);
  const certificateId = newId();
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertCertificate(trx, {
      id: certificateId,
      groupId: person.groupId,
      purpose: 'event',
      issuerId: ca.id,
      source: 'issued',
      keySpec: spec,
      der,
      key: null,
      ...fields,
    });
    await recordAudit(trx, {
      groupId: person.groupId,
      actor,
      at: now,
      event: {
        action: 'pki.certificate_issued',
        target: { type: 'certificate', id: certificateId },
        companyId: person.companyId,
        changes: {
          certificateId,
          purpose: 'event',
          subject: fields.subject,
          serial: fields.serial,
          keySpec: spec,
          keyStore: 'none',
          notAfter: fields.notAfter.toISOString(),
          evidence: person.evidence,
        },
      },
    });
  });
  const certificate = await repo.findCertificate(ctx.db, certificateId);
  if (!certificate) throw new Error('the event certificate was issued but cannot be read back');
  return { signer: withCertificate(keySigner, der, await chainOf(ctx, certificate)), certificate };
}

function keySpecOf(key: KeyObject): string {
  const details = createPublicKey(key).asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec')
    return details?.namedCurve === 'prime256v1' ? 'ECDSA-P256' : `ECDSA-${details?.namedCurve ?? 'unknown'}`;
  return `RSA-${details?.modulusLength ?? 0}`;
}

/**
 * Gives the seal a certificate (and key) from an outside CA, read from a PKCS#12 file; the
 * current certificate is superseded. The key is sealed in the database whatever SIGIL_SIGNER says:
 * it arrived as bytes, so it was never confined to a token.
 */
export async function importSealPkcs12(
  ctx: AppContext,
  actor: AuditActor,
  seal: SealSubject,
  input: { pkcs12: Buffer; password: string },
): Promise<repo.CertificateRecord> {
  if (seal.kind !== 'electronic') throw sealNotElectronic(seal.name);
  const contents = await readPkcs12(input.pkcs12, input.password);
  const cert = parseCertificate(contents.certificate);
  const now = ctx.now();
  if (now < cert.notBefore || now >= cert.notAfter) {
    throw new AppError(
      'certificate_expired',
      `The certificate of ${cert.subject} is valid from ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}, not now.`,
      { notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString() },
    );
  }
  if (cert.isCa) throw new AppError('signing_key_invalid', `${cert.subject} is a CA certificate, not a seal's.`);
  if (cert.keyUsage && !cert.keyUsage.includes(0) && !cert.keyUsage.includes(1))
    throw new AppError('signing_key_invalid', `The certificate of ${cert.subject} is not for signatures (key usage).`);
  // Refuses keys the signer cannot use (unsupported curves) before anything is stored.
  withCertificate(createKeySigner(contents.key), contents.certificate, contents.chain);
  const id = await ctx.db.transaction().execute(async (trx) => {
    const locked = await lockSeal(trx, seal.groupId, seal.id);
    if (!locked) throw notFound('seal_not_found', seal.id);
    if (locked.status !== 'active')
      throw new AppError(
        'seal_not_usable',
        `${seal.name} is ${locked.status}; a certificate cannot be imported for it.`,
        { sealName: seal.name, sealStatus: locked.status },
      );
    const fields = fieldsOf(contents.certificate);
    const existing = await repo.findCertificateByFingerprint(trx, fields.fingerprint);
    if (existing?.sealId === seal.id && existing.status === 'active') return existing.id;
    if (existing)
      throw new AppError(
        'signing_key_invalid',
        'Sigil already holds this certificate (for another seal, or revoked); import a new one.',
      );
    const events: AuditEvent[] = [];
    const current = await repo.findActiveCertificate(trx, { groupId: seal.groupId, sealId: seal.id });
    if (current)
      events.push(
        ...(await revokeInTransaction(trx, {
          groupId: seal.groupId,
          ids: [current.id],
          reason: 'superseded',
          at: now,
          cause: 'replaced by an imported certificate',
          target: { type: 'seal', id: seal.id },
          companyId: seal.companyId,
        })),
      );
    const certificateId = newId();
    const chain = orderChain(contents.certificate, contents.chain);
    await repo.insertCertificate(trx, {
      id: certificateId,
      groupId: seal.groupId,
      purpose: 'seal',
      issuerId: null,
      sealId: seal.id,
      source: 'imported',
      keySpec: keySpecOf(contents.key),
      der: contents.certificate,
      chain,
      key: ctx.keys.keep(contents.key, certificateId),
      ...fields,
    });
    events.push({
      action: 'pki.certificate_imported',
      target: { type: 'seal', id: seal.id },
      companyId: seal.companyId,
      changes: {
        certificateId,
        subject: fields.subject,
        issuer: fields.issuer,
        serial: fields.serial,
        notAfter: fields.notAfter.toISOString(),
        replaces: current?.id ?? null,
      },
    });
    await recordAudits(trx, { groupId: seal.groupId, actor, at: now, events });
    return certificateId;
  });
  const certificate = await repo.findCertificate(ctx.db, id);
  if (!certificate) throw new Error('the imported certificate cannot be read back');
  return certificate;
}

// ---------------------------------------------------------------- revocation (in the caller's transaction)

type Target = { type: 'seal' | 'user'; id: string };

async function revokeInTransaction(
  trx: Transaction,
  q: {
    groupId: string;
    ids: string[];
    reason: RevocationReasonName;
    at: Date;
    cause: string;
    target: Target;
    companyId: string | null;
  },
): Promise<AuditEvent[]> {
  const revoked = await repo.revokeCertificatesById(trx, q.ids, { reason: q.reason, at: q.at });
  return afterRevocation(trx, revoked, q);
}

async function afterRevocation(
  trx: Transaction,
  revoked: Array<{ id: string; issuerId: string | null; serial: string }>,
  q: { reason: RevocationReasonName; cause: string; target: Target; companyId: string | null },
): Promise<AuditEvent[]> {
  await repo.bumpRevocationRevision(
    trx,
    revoked.flatMap((r) => (r.issuerId ? [r.issuerId] : [])),
  );
  return revoked.map((r) => ({
    action: 'pki.certificate_revoked' as const,
    target: q.target,
    companyId: q.companyId,
    changes: { certificateId: r.id, serial: r.serial, reason: q.reason, cause: q.cause },
  }));
}

/**
 * Revokes a seal's certificates in the transaction that changes the seal (suspension puts them
 * on hold; loss and destruction revoke them for good; a new name or company supersedes them).
 * The CRL made next lists them, so the revocation is public as soon as this commits.
 */
export async function revokeSealCertificates(
  trx: Transaction,
  q: {
    groupId: string;
    sealId: string;
    companyId: string;
    reason: RevocationReasonName;
    cause: string;
    actor: AuditActor;
    at: Date;
  },
): Promise<number> {
  const revoked = await repo.revokeCertificates(
    trx,
    { groupId: q.groupId, sealId: q.sealId },
    { reason: q.reason, at: q.at },
  );
  const events = await afterRevocation(trx, revoked, {
    reason: q.reason,
    cause: q.cause,
    target: { type: 'seal', id: q.sealId },
    companyId: q.companyId,
  });
  await recordAudits(trx, { groupId: q.groupId, actor: q.actor, at: q.at, events });
  return revoked.length;
}

/** A resumed seal: its certificates on hold are good again (RFC 5280 §5.3.1 certificateHold). */
export async function reinstateSealCertificates(
  trx: Transaction,
  q: { groupId: string; sealId: string; companyId: string; cause: string; actor: AuditActor; at: Date },
): Promise<number> {
  const lifted = await repo.liftHold(trx, { groupId: q.groupId, sealId: q.sealId });
  await repo.bumpRevocationRevision(
    trx,
    lifted.flatMap((r) => (r.issuerId ? [r.issuerId] : [])),
  );
  await recordAudits(trx, {
    groupId: q.groupId,
    actor: q.actor,
    at: q.at,
    events: lifted.map((r) => ({
      action: 'pki.certificate_reinstated' as const,
      target: { type: 'seal' as const, id: q.sealId },
      companyId: q.companyId,
      changes: { certificateId: r.id, serial: r.serial, cause: q.cause },
    })),
  });
  return lifted.length;
}

/** A person who resigned: their certificates are revoked (affiliationChanged) in the same transaction. */
export async function revokePersonCertificates(
  trx: Transaction,
  q: { groupId: string; userId: string; companyId: string; actor: AuditActor; at: Date },
): Promise<number> {
  const revoked = await repo.revokeCertificates(
    trx,
    { groupId: q.groupId, userId: q.userId },
    { reason: 'affiliationChanged', at: q.at },
  );
  const events = await afterRevocation(trx, revoked, {
    reason: 'affiliationChanged',
    cause: 'the person resigned',
    target: { type: 'user', id: q.userId },
    companyId: q.companyId,
  });
  await recordAudits(trx, { groupId: q.groupId, actor: q.actor, at: q.at, events });
  return revoked.length;
}

// ---------------------------------------------------------------- CRLs

/**
 * The CA's current CRL. It is re-made (with the next CRL number) when a revocation changed what
 * it lists or when it is a day old, under the CA row's lock, so processes never publish two
 * different CRLs with one number.
 */
export async function currentCrl(ctx: AppContext, issuer: repo.CertificateRecord): Promise<Buffer> {
  const now = ctx.now();
  const isFresh = (state: repo.CrlState) =>
    state.crl !== null &&
    state.crl.revision === state.revision &&
    now.getTime() - state.crl.thisUpdate.getTime() < CRL_REFRESH_MS &&
    now < state.crl.nextUpdate;
  const state = await repo.findCrlState(ctx.db, issuer.id);
  if (!state) throw new AppError('certificate_not_found', 'No such certificate authority.');
  if (isFresh(state)) return state.crl!.der;
  return ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.findCrlState(trx, issuer.id, { lock: true });
    if (!locked) throw new AppError('certificate_not_found', 'No such certificate authority.');
    if (isFresh(locked)) return locked.crl!.der;
    const revoked = await repo.findRevokedBy(trx, issuer.id);
    const crlNumber = locked.crlNumber + 1;
    const nextUpdate = new Date(now.getTime() + CRL_VALIDITY_MS);
    const der = await createCrl({
      issuer: { signer: await openKey(ctx, issuer), certificate: issuer.der },
      // CRL times have whole seconds; rounding a revocation up keeps a signature time-stamped in
      // the same second, before it, valid (no signature can follow it: signing locks the certificate).
      revoked: revoked.map((r) => ({
        serial: BigInt(`0x${r.serial}`),
        date: new Date(Math.ceil(r.revokedAt.getTime() / 1000) * 1000),
        reason: r.reason ?? 'unspecified',
      })),
      crlNumber,
      thisUpdate: now,
      nextUpdate,
    });
    await repo.saveCrl(trx, {
      issuerId: issuer.id,
      groupId: issuer.groupId,
      crlNumber,
      revision: locked.revision,
      thisUpdate: now,
      nextUpdate,
      der,
    });
    return der;
  });
}

export async function rootCrl(ctx: AppContext): Promise<Buffer> {
  return currentCrl(ctx, await ensureRootCa(ctx));
}

/** A group's CRL; only a group that has a CA has one (the CA exists once anything was issued). */
export async function groupCrl(ctx: AppContext, groupId: string): Promise<Buffer> {
  const ca = await repo.findGroupCa(ctx.db, groupId);
  if (!ca) throw new AppError('certificate_not_found', 'This group has no certificate authority yet.');
  return currentCrl(ctx, ca);
}

export async function getRootCertificate(ctx: AppContext): Promise<repo.CertificateRecord> {
  return ensureRootCa(ctx);
}

export async function getGroupCaCertificate(ctx: AppContext, groupId: string): Promise<repo.CertificateRecord> {
  const ca = await repo.findGroupCa(ctx.db, groupId);
  if (!ca) throw new AppError('certificate_not_found', 'This group has no certificate authority yet.');
  return ca;
}

/**
 * The current CRLs for these certificates, gathered before a signing transaction opens (on PGlite
 * a query from outside that transaction would wait for it forever). `known` are the certificates
 * whose revocation Sigil itself answers: its root and what its CAs issued.
 */
export async function crlsFor(
  ctx: AppContext,
  certificates: Buffer[],
): Promise<{ crls: Buffer[]; known: Set<string> }> {
  const crls: Buffer[] = [];
  const known = new Set<string>();
  const issuers = new Set<string>();
  for (const der of certificates) {
    const held = await repo.findCertificateByFingerprint(ctx.db, fingerprint(der));
    if (!held || held.source === 'imported') continue;
    known.add(held.fingerprint);
    if (!held.issuerId || issuers.has(held.issuerId)) continue;
    issuers.add(held.issuerId);
    const issuer = await repo.findCertificate(ctx.db, held.issuerId);
    if (issuer) crls.push(await currentCrl(ctx, issuer));
  }
  return { crls, known };
}

/** For B-LT: the CRLs gathered beforehand, and for any other certificate (an outside CA's or TSA's) the CRL its distribution point names. */
export function revocationSource(prepared: { crls: Buffer[]; known: Set<string> }): RevocationSource {
  const http = httpRevocationSource();
  return {
    async crlsFor(certificates) {
      const others = certificates.filter((c) => !prepared.known.has(fingerprint(c)));
      return [...prepared.crls, ...(others.length > 0 ? await http.crlsFor(others) : [])];
    },
  };
}
