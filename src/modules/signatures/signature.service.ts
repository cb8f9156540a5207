// Applying seals (and personal signatures) to stored documents, verifying uploaded PDFs, and
// answering whether the archive holds a file. Every use of a seal rests on a grant (through
// decideSealUse) or an approved authorization, checked and counted in the transaction that signs.
import type { Transaction } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { readGroupBlob, storeBlobBytes, storeBlobs } from '../../blobs/blob.service.js';
import { WriteBatch, type PendingWrite } from '../../db/batch.js';
import {
  createPdfSigningPool,
  type PdfSigningPool,
  type CrossPageAppearance,
  type PadesLevel,
  type StampAppearance,
  type VisibleAppearance,
  prepareImage,
  type PreparedImage,
  verifyPdf,
  sha256Of,
  type VerificationReport,
  type Timestamper,
} from '../../signing/index.js';
import { isWithin, requireUser, scopeOf, type Actor, type Principal } from '../access/index.js';
import { auditAppendStatement, type AuditEvent } from '../audit/index.js';
import { findSeal } from '../seals/index.js';
import { consumeGrantUse, consumeGrantUses } from '../grants/index.js';
import { decideSealUse, type UseDecision } from '../grants/index.js';
import { sealImagePng } from '../seals/index.js';
import { pki } from '../pki/index.js';
import {
  findDeploymentCertificate,
  findGroupCa,
  findIssuingCasBySubject,
  lockCertificateForUse,
  type CertificateRecord,
} from '../pki/index.js';
import * as repo from './signature.repository.js';
import {
  applicationNamesDocument,
  consumeAuthorizationUse,
  findAuthorizationForUse,
  getApplication,
  type AuthorizationForUse,
} from '../approvals/index.js';
import type { SignInput } from './signature.schema.js';
import { getReadableDocument, OFD_MEDIA_TYPE, type ReadableDocument } from '../documents/index.js';
import { prepareOfdSeal, sealOfd } from './signature.ofd.js';
import { verifyOfdAgainstPlatform } from './signature.ofd-verify.js';

// ---------------------------------------------------------------- the authority to use a seal

/**
 * Whether a refusal may name the seal: to people of its company or a company below it, and to
 * readers of seals over it. Anyone else (a sibling company's staff probing ids) learns only that
 * there is no such seal for them.
 */
export function mayKnowSeal(principal: Principal, seal: { companyPath: string }): boolean {
  if (principal.companyPath?.startsWith(seal.companyPath)) return true;
  try {
    return isWithin(scopeOf(principal, 'seals.read'), seal.companyPath);
  } catch {
    return false;
  }
}

export function refuseUse(
  decision: Extract<UseDecision, { allowed: false }>,
  seal: { id: string; name: string; companyPath: string },
  principal: Principal,
): never {
  if (!mayKnowSeal(principal, seal)) throw notFound('seal_not_found', seal.id);
  const sealName = seal.name;
  switch (decision.reason) {
    case 'seal_not_found':
      throw notFound('seal_not_found', seal.id);
    case 'seal_not_usable':
      throw new AppError(
        'seal_not_usable',
        `${sealName} is ${decision.sealStatus ?? 'not usable'}; it cannot be used.`,
        { sealName, sealStatus: decision.sealStatus ?? 'unknown' },
      );
    case 'custodian':
      throw new AppError('sod_conflict', `You keep ${sealName}; a custodian cannot also use the seal.`, {
        roles: ['custodian', 'seal_user'],
      });
    case 'user_inactive':
      throw new AppError('forbidden', 'Your account is not active.');
    case 'no_grant':
      throw new AppError(
        'seal_not_granted',
        `You hold no grant for ${sealName} and this business category now (none, expired, revoked, or its uses are spent); apply to use it.`,
        { sealName },
      );
  }
}

function refuseAuthorization(authorization: AuthorizationForUse): never {
  if (authorization.revokedAt)
    throw new AppError('authorization_revoked', 'The remaining uses of this authorization were revoked.', {
      authorizationId: authorization.id,
    });
  throw new AppError(
    'authorization_exhausted',
    `All ${authorization.usesTotal} use(s) this application approved have been made; apply again.`,
    { authorizationId: authorization.id, usesTotal: authorization.usesTotal },
  );
}

async function checkAuthorization(
  ctx: AppContext,
  q: {
    groupId: string;
    userId: string;
    authorizationId: string;
    sealId?: string | undefined;
    document: ReadableDocument;
  },
): Promise<AuthorizationForUse> {
  const authorization = await findAuthorizationForUse(ctx.db, { groupId: q.groupId, id: q.authorizationId });
  // Someone else's authorization is as good as none.
  if (!authorization || authorization.holderId !== q.userId)
    throw notFound('authorization_not_found', q.authorizationId);
  if (q.sealId && authorization.sealId !== q.sealId)
    throw new AppError('validation_failed', 'The authorization is for another seal.', {
      errors: [{ field: 'body.sealId', message: 'is not the seal of the authorization' }],
    });
  if (authorization.kind !== 'documents')
    throw new AppError(
      'seal_not_electronic',
      'This authorization is a ticket for a physical seal; it does not sign documents.',
    );
  if (authorization.revokedAt || authorization.usesConsumed >= authorization.usesTotal)
    refuseAuthorization(authorization);
  if (
    !(await applicationNamesDocument(ctx.db, {
      applicationId: authorization.applicationId,
      sha256: q.document.originalSha256,
    }))
  ) {
    throw new AppError(
      'document_not_authorized',
      'The application behind this authorization does not name this document; attach it to an application first.',
      { authorizationId: authorization.id },
    );
  }
  return authorization;
}

// ---------------------------------------------------------------- signing

function appearanceOf(
  input: SignInput,
  image: PreparedImage | null,
): { appearance?: VisibleAppearance; crossPage?: CrossPageAppearance } {
  if (!image) return {};
  const prepared = image;
  if (input.crossPage)
    return {
      crossPage: {
        image: prepared,
        ...(input.crossPage.pages ? { pages: input.crossPage.pages } : {}),
        ...(input.crossPage.width ? { width: input.crossPage.width } : {}),
      },
    };
  const at = input.appearance;
  if (!at) return {};
  if (at.type === 'rect')
    return { appearance: { image: prepared, kind: 'seal', at: { page: at.page, rect: at.rect } } };
  return {
    appearance: {
      image: prepared,
      kind: 'seal',
      at: {
        keyword: at.keyword,
        ...(at.page ? { page: at.page } : {}),
        ...(at.offset ? { offset: at.offset } : {}),
        ...(at.size ? { size: at.size } : {}),
      },
    },
  };
}

/**
 * Signs a stored PDF with a seal (under an authorization or a grant) or as the caller. The
 * slow parts (certificate on first use, CRLs, the TSA's key, signing and time-stamping) happen
 * first; then one transaction locks, checks again, counts the use, stores and records, or
 * refuses and the signed copy is dropped.
 */
/** What signing with one seal (or one person's certificate) needs, whatever the document. */
interface PreparedSigning {
  certificate: CertificateRecord;
  signer: Awaited<ReturnType<typeof pki.openSigner>>;
  timestamper: Timestamper | undefined;
  revocation: ReturnType<typeof pki.revocationSource> | undefined;
  image: PreparedImage | null;
}

/**
 * Lets a batch prepare once: the first document fills it, the next ones with the same seal reuse it
 * (documents signed side by side wait for the same preparation, so a first certificate is issued once).
 */
export interface SigningReuse {
  key?: string;
  made?: Promise<PreparedSigning>;
}

async function prepareSigning(
  ctx: AppContext,
  actor: Actor,
  q: { groupId: string; userId: string; seal: Awaited<ReturnType<typeof findSeal>> | null; input: SignInput },
): Promise<PreparedSigning> {
  const { groupId, userId, seal, input } = q;
  const certificate: CertificateRecord = seal
    ? await pki.ensureSealCertificate(ctx, actor, {
        id: seal.id,
        groupId,
        name: seal.name,
        kind: seal.kind,
        companyId: seal.companyId,
        companyName: seal.companyName,
      })
    : await pki.ensurePersonCertificate(ctx, actor, { groupId, userId });
  const signer = await pki.openSigner(ctx, certificate);
  const level: PadesLevel = input.level;
  const timestamper: Timestamper | undefined = level === 'B-B' ? undefined : await pki.timestamperFor(ctx);
  let revocation: ReturnType<typeof pki.revocationSource> | undefined;
  if (level === 'B-LT' || level === 'B-LTA') {
    const tsaChain: Buffer[] = [];
    if (ctx.config.pki.tsaUrls.length === 0) {
      const tsa = await pki.ensureTsa(ctx);
      tsaChain.push(tsa.der);
    }
    revocation = pki.revocationSource(await pki.crlsFor(ctx, [signer.certificate, ...signer.chain, ...tsaChain]));
  }
  let image: PreparedImage | null = null;
  if (seal && (input.appearance || input.crossPage)) {
    if (!seal.imageSha256)
      throw new AppError(
        'validation_failed',
        `${seal.name} has no impression image to show; give it one (a change application) or sign without a visible seal.`,
        {
          errors: [
            { field: input.appearance ? 'body.appearance' : 'body.crossPage', message: 'the seal has no image' },
          ],
        },
      );
    image = await preparedSealImage(ctx, { groupId, sha256: seal.imageSha256 });
  }
  return { certificate, signer, timestamper, revocation, image };
}

/**
 * Seal impressions decoded and compressed for PDF, kept per process by the hash of their PNG:
 * content-addressed, so a kept one is never stale, and preparing one costs more than a signature.
 */
const preparedImages = new Map<string, PreparedImage>();
const PREPARED_IMAGES_KEPT = 64;

async function preparedSealImage(ctx: AppContext, q: { groupId: string; sha256: string }): Promise<PreparedImage> {
  const key = `${q.groupId}:${q.sha256}`;
  const kept = preparedImages.get(key);
  if (kept) return kept;
  const prepared = prepareImage(await sealImagePng(ctx, q));
  if (preparedImages.size >= PREPARED_IMAGES_KEPT) preparedImages.delete(preparedImages.keys().next().value!);
  preparedImages.set(key, prepared);
  return prepared;
}

/** What a signature made, for a caller that records more in the signing transaction. */
export interface SignedInTransaction {
  signatureId: string;
  certificateId: string;
  fieldName: string;
  inputSha256: string;
  outputSha256: string;
  signedAt: Date;
}

/**
 * The platform's PDF signatures are made here, on worker threads (the engine's parsing, placement,
 * hashing and CMS off the event loop); keys, the TSA and CRLs answer from this thread. One pool per
 * process, its workers started on first use and idle ones not keeping the process alive.
 */
const pdfSigning = createPdfSigningPool();

/**
 * `signPdf` on the same workers, for a flow that signs a PDF without a seal or a grant (an outside
 * signer's one-time certificate): its parsing and hashing stay off the event loop too.
 */
export const signPdfOffThread: PdfSigningPool['signPdf'] = (pdf, options) => pdfSigning.signPdf(pdf, options);

/** The seal as a batch read and decided it once for all its documents (see `SignOptions.checkedSeal`). */
export type CheckedSeal = NonNullable<Awaited<ReturnType<typeof findSeal>>>;

export interface SignOptions {
  /**
   * Runs inside the signing transaction, after every check passed and the signature was stored,
   * before the commit: a flow that the signature advances (a contract's step) locks and checks its
   * own state here, and throwing refuses the signature whole (no use is counted, nothing kept).
   */
  alsoInTransaction?: (trx: Transaction, signed: SignedInTransaction) => Promise<void>;
  /** A batch's cache of what signing with its seal needs (see `SigningReuse`). */
  reuse?: SigningReuse;
  /** Values the signer filled in, drawn beside the signature and covered by it (a contract's fields). */
  stamps?: StampAppearance[];
  /**
   * The document to sign, when the caller has itself established that the signer may read this
   * version and what it was made from (a contract's participant whose turn it is, on the contract's
   * current PDF, which `alsoInTransaction` checks again under the contract's lock; a batch's
   * documents, checked by the documents module all at once). Absent: the documents module decides
   * from `input.documentSha256`.
   */
  document?: ReadableDocument;
  /** `false`: the caller answers from its own records, so the signature is not read back. */
  answer?: false;
  /**
   * The seal (`input.sealId`), read and found usable by the caller for this signer and category a
   * moment ago: a batch's early answer, given once for all its documents. Only the early check is
   * skipped; the seal's state, the grant and its count are decided again under lock in each
   * document's own signing transaction, as always.
   */
  checkedSeal?: CheckedSeal;
}

export function signDocument(
  ctx: AppContext,
  actor: Actor,
  input: SignInput,
  options: SignOptions & { answer: false },
): Promise<void>;
export function signDocument(
  ctx: AppContext,
  actor: Actor,
  input: SignInput,
  options?: SignOptions,
): Promise<ReturnType<typeof view>>;
export async function signDocument(
  ctx: AppContext,
  actor: Actor,
  input: SignInput,
  options: SignOptions = {},
): Promise<ReturnType<typeof view> | void> {
  const signatureId = await signStoredDocument(ctx, actor, input, options);
  if (options.answer === false) return;
  return getSignature(ctx, actor, signatureId);
}

/** `signDocument` without reading the record back: the new signature's id (a batch reads none). */
export async function signStoredDocument(
  ctx: AppContext,
  actor: Actor,
  input: SignInput,
  options: SignOptions = {},
): Promise<string> {
  const draft = await makeSignature(ctx, actor, input, options);
  await ctx.db.transaction().execute((trx: Transaction) => storeSignature(ctx, trx, actor, draft, options));
  return draft.signatureId;
}

/**
 * A signature made and not yet kept: the signed bytes and all that storing them needs. Nothing
 * of it leaves the server unless the checks under lock pass in the transaction that stores it
 * (`storeSignature` for one, `storeSignatureGroup` for a batch's).
 */
export interface SignatureDraft {
  signatureId: string;
  fieldName: string;
  groupId: string;
  userId: string;
  companyId: string;
  seal: CheckedSeal | null;
  authorization: AuthorizationForUse | null;
  category: string | null;
  certificate: CertificateRecord;
  bytes: Uint8Array;
  level: PadesLevel;
  mediaType: string;
  reason: string | null;
  signedAt: Date;
  document: ReadableDocument;
}

/**
 * The early checks and the signing itself, before any transaction. The slow parts (certificate on
 * first use, CRLs, the TSA's key, signing and time-stamping) happen here; the checks are made
 * again under lock when the draft is stored.
 */
export async function makeSignature(
  ctx: AppContext,
  actor: Actor,
  input: SignInput,
  options: SignOptions = {},
): Promise<SignatureDraft> {
  const { principal } = actor;
  const userId = requireUser(principal);
  const groupId = principal.groupId;
  const document =
    options.document?.sha256 === input.documentSha256
      ? options.document
      : await getReadableDocument(ctx, actor, input.documentSha256, { formats: ['pdf', 'ofd'] });

  // Which authority, checked now for a clear early answer and again under lock below.
  let authorization: AuthorizationForUse | null = null;
  if (input.authorizationId)
    authorization = await checkAuthorization(ctx, {
      groupId,
      userId,
      authorizationId: input.authorizationId,
      sealId: input.sealId,
      document,
    });
  const sealId = input.sealId ?? authorization?.sealId ?? null;
  const checked = !authorization && sealId && options.checkedSeal?.id === sealId ? options.checkedSeal : undefined;
  const seal = checked ?? (sealId ? await findSeal(ctx.db, { groupId, id: sealId }) : null);
  if (sealId && !seal) throw notFound('seal_not_found', sealId);
  const category = authorization ? authorization.category : (input.category ?? null);
  if (seal && checked) {
    // Decided by the caller for this signer and category; decided again under lock below.
    if (seal.kind !== 'electronic' || !category)
      throw new Error('a checked seal is an electronic one, used under a grant for a category');
  } else if (seal) {
    if (seal.kind !== 'electronic' && !authorization && !mayKnowSeal(principal, seal))
      throw notFound('seal_not_found', seal.id);
    if (seal.kind !== 'electronic')
      throw new AppError(
        'seal_not_electronic',
        `${seal.name} is a ${seal.kind} seal; only an electronic seal signs documents.`,
      );
    if (!authorization) {
      if (!category)
        throw new AppError(
          'validation_failed',
          'Name the business category the seal is used for: grants are per category.',
          { errors: [{ field: 'body.category', message: 'is required when signing under a grant' }] },
        );
      const decision = await decideSealUse(ctx.db, { groupId, sealId: seal.id, userId, category, at: ctx.now() });
      if (!decision.allowed) refuseUse(decision, seal, principal);
    } else if (seal.status !== 'active') {
      throw new AppError('seal_not_usable', `${seal.name} is ${seal.status}; it cannot be used.`, {
        sealName: seal.name,
        sealStatus: seal.status,
      });
    }
  } else if (input.appearance || input.crossPage) {
    throw new AppError(
      'validation_failed',
      'A personal signature has no seal impression to show; sign without appearance or crossPage.',
      { errors: [{ field: input.appearance ? 'body.appearance' : 'body.crossPage', message: 'needs a seal' }] },
    );
  }

  const signatureId = newId();
  const base = input.crossPage ? 'CrossPageSeal' : seal ? 'Seal' : 'Signature';
  const fieldName = `${base}-${signatureId.slice(-12)}`;
  // A personal signature is filed under the signer's company, which their principal carries.
  const companyId =
    seal?.companyId ?? principal.companyId ?? (await repo.findUserCompany(ctx.db, { groupId, userId }))?.companyId;
  if (!companyId) throw notFound('user_not_found', userId);
  // The group's own file: getReadableDocument has just found its row in the group, or the caller
  // vouched for it.
  const original = await ctx.blobs.get(document.sha256);

  // Signed before the transaction: a time-stamp from an outside TSA can take seconds, and the seal's
  // lock must not wait for it. Nothing signed leaves the server unless the checks under lock pass.
  let now = ctx.now();
  let certificate: CertificateRecord;
  let signed: Uint8Array;
  let level: PadesLevel;
  let mediaType: string;
  if (document.format === 'ofd') {
    // An OFD is sealed by GB/T 38540: the seal's .esl and its SM2 certificate, no PAdES level.
    if (!seal)
      throw new AppError(
        'validation_failed',
        'An OFD is signed with an electronic seal (GB/T 38540); name the seal, personal OFD signatures are not made.',
        { errors: [{ field: 'body.sealId', message: 'is required for an OFD document' }] },
      );
    if (options.stamps?.length)
      throw new AppError('validation_failed', 'Filled-in fields are drawn on PDF documents only.', {
        errors: [{ field: 'body.documentSha256', message: 'is an OFD' }],
      });
    const prepared = await prepareOfdSeal(ctx, actor, { ...seal, groupId });
    // The signing time follows the .esl, which may have just been issued (GB/T 38540 §7.3 d:
    // the seal must be valid when it signs).
    now = ctx.now();
    certificate = prepared.certificate;
    signed = await sealOfd(original, prepared, input, now);
    level = 'B-B';
    mediaType = OFD_MEDIA_TYPE;
  } else {
    // The certificate (issued on first use) and what signing needs from the database; a batch
    // passes `reuse` so this is done once for all its documents (each is still checked under lock).
    const key = `${seal?.id ?? `user:${userId}`}|${input.level}|${input.appearance || input.crossPage ? 'visible' : 'invisible'}`;
    const reuse = options.reuse;
    let making = reuse?.key === key ? reuse.made : undefined;
    if (!making) {
      const fresh = prepareSigning(ctx, actor, { groupId, userId, seal, input });
      making = fresh;
      if (reuse) {
        reuse.key = key;
        reuse.made = fresh;
        // A failed preparation is not kept: the next document tries again.
        fresh.catch(() => {
          if (reuse.made === fresh) delete reuse.made;
        });
      }
    }
    const made = await making;
    const { signer, timestamper, revocation, image } = made;
    certificate = made.certificate;
    level = input.level;
    mediaType = 'application/pdf';
    signed = await pdfSigning.signPdf(original, {
      signer,
      level,
      ...(timestamper ? { timestamper } : {}),
      ...(revocation ? { revocation } : {}),
      fieldName,
      ...(input.reason ? { reason: input.reason } : {}),
      ...(input.location ? { location: input.location } : {}),
      signingTime: now,
      ...appearanceOf(input, image),
      ...(options.stamps?.length ? { stamps: options.stamps } : {}),
    });
  }

  return {
    signatureId,
    fieldName,
    groupId,
    userId,
    companyId,
    seal: seal ?? null,
    authorization,
    category,
    certificate,
    bytes: signed,
    level,
    mediaType,
    reason: input.reason ?? null,
    signedAt: now,
    document,
  };
}

// ---------------------------------------------------------------- storing signatures

/**
 * The seal's state under a share lock (invariant 2): a suspension, loss or destruction approved
 * since the early check waits for this transaction or is seen by it.
 */
async function assertSealUsableLocked(trx: Transaction, q: { groupId: string; seal: CheckedSeal }): Promise<void> {
  const locked = await repo.lockSealForUse(trx, { groupId: q.groupId, sealId: q.seal.id });
  if (!locked) throw notFound('seal_not_found', q.seal.id);
  if (locked.status !== 'active')
    throw new AppError('seal_not_usable', `${q.seal.name} is ${locked.status}; it cannot be used.`, {
      sealName: q.seal.name,
      sealStatus: locked.status,
    });
}

type HeldCertificate = NonNullable<Awaited<ReturnType<typeof lockCertificateForUse>>>;

/** The certificate under a share lock: a revocation waits for this transaction or is seen by it. */
async function lockActiveCertificate(trx: Transaction, certificate: CertificateRecord): Promise<HeldCertificate> {
  const held = await lockCertificateForUse(trx, certificate.id);
  if (!held || held.status !== 'active')
    throw new AppError(
      'certificate_revoked',
      `The certificate ${certificate.serial} has been revoked${held?.revocationReason ? ` (${held.revocationReason})` : ''}; it cannot sign.`,
    );
  return held;
}

/** The certificate was valid when the document was signed. */
function assertCertificateCovers(certificate: CertificateRecord, held: HeldCertificate, at: Date): void {
  if (at < held.notBefore || at >= held.notAfter)
    throw new AppError(
      'certificate_expired',
      `The certificate ${certificate.serial} is valid from ${held.notBefore.toISOString()} to ${held.notAfter.toISOString()}, not now.`,
      { notBefore: held.notBefore.toISOString(), notAfter: held.notAfter.toISOString() },
    );
}

function lastUseTaken(seal: CheckedSeal): AppError {
  return new AppError(
    'seal_not_granted',
    `The last use of your grant for ${seal.name} was just taken; apply to use it.`,
    {
      sealName: seal.name,
    },
  );
}

function signatureRow(draft: SignatureDraft, q: { outputSha256: string; grantId: string | null }): repo.NewSignature {
  return {
    id: draft.signatureId,
    groupId: draft.groupId,
    companyId: draft.companyId,
    userId: draft.userId,
    sealId: draft.seal?.id ?? null,
    certificateId: draft.certificate.id,
    authorizationId: draft.authorization?.id ?? null,
    grantId: q.grantId,
    category: draft.category,
    level: draft.level,
    fieldName: draft.fieldName,
    reason: draft.reason,
    documentName: draft.document.name,
    inputSha256: draft.document.sha256,
    outputSha256: q.outputSha256,
    originalSha256: draft.document.originalSha256,
    signedAt: draft.signedAt,
  };
}

function signedEvent(draft: SignatureDraft, q: { outputSha256: string; grantId: string | null }): AuditEvent {
  return {
    action: 'document.signed',
    target: draft.seal ? { type: 'seal', id: draft.seal.id } : { type: 'user', id: draft.userId },
    companyId: draft.companyId,
    changes: {
      signatureId: draft.signatureId,
      certificateId: draft.certificate.id,
      serial: draft.certificate.serial,
      authorizationId: draft.authorization?.id ?? null,
      grantId: q.grantId,
      category: draft.category,
      level: draft.level,
      fieldName: draft.fieldName,
      inputSha256: draft.document.sha256,
      outputSha256: q.outputSha256,
      originalSha256: draft.document.originalSha256,
    },
  };
}

function signedInTransaction(draft: SignatureDraft, outputSha256: string): SignedInTransaction {
  return {
    signatureId: draft.signatureId,
    certificateId: draft.certificate.id,
    fieldName: draft.fieldName,
    inputSha256: draft.document.sha256,
    outputSha256,
    signedAt: draft.signedAt,
  };
}

/** Keeps one signature: locks, checks again, counts the use, stores and records, or throws and nothing is kept. */
async function storeSignature(
  ctx: AppContext,
  trx: Transaction,
  actor: Actor,
  draft: SignatureDraft,
  options: SignOptions,
): Promise<void> {
  const { groupId, userId, seal, authorization, certificate, signedAt: now } = draft;
  if (seal) await assertSealUsableLocked(trx, { groupId, seal });
  assertCertificateCovers(certificate, await lockActiveCertificate(trx, certificate), now);

  let grantId: string | null = null;
  if (authorization) {
    if (!(await consumeAuthorizationUse(trx, authorization.id))) {
      const current = await findAuthorizationForUse(trx, { groupId, id: authorization.id });
      refuseAuthorization(current ?? authorization);
    }
  } else if (seal) {
    const decision = await decideSealUse(trx, { groupId, sealId: seal.id, userId, category: draft.category!, at: now });
    if (!decision.allowed) refuseUse(decision, seal, actor.principal);
    if (!(await consumeGrantUse(trx, decision.grant.id))) throw lastUseTaken(seal);
    grantId = decision.grant.id;
  }

  // The copy's records, the signature's and its audit event in one statement.
  const writes = new WriteBatch();
  const stored = await storeBlobBytes(
    trx,
    ctx.blobs,
    {
      groupId,
      bytes: Buffer.from(draft.bytes),
      mediaType: draft.mediaType,
      originalName: draft.document.name,
      createdBy: userId,
      at: now,
    },
    writes,
  );
  const made = { outputSha256: stored.sha256, grantId };
  writes.add(repo.signatureInsert(trx, signatureRow(draft, made)));
  await writes.run(trx, auditAppendStatement({ groupId, actor, at: now, events: [signedEvent(draft, made)] }));
  if (options.alsoInTransaction) await options.alsoInTransaction(trx, signedInTransaction(draft, stored.sha256));
}

/** What became of one draft of a group: kept, refused by a check under lock, or left to another run. */
export type GroupOutcome =
  { kind: 'signed'; signed: SignedInTransaction } | { kind: 'refused'; error: AppError } | { kind: 'skipped' };

export interface GroupHooks {
  /**
   * Locks the caller's records of these drafts in the group's transaction and answers, per draft,
   * whether it may still be kept (a batch item another run already finished may not).
   */
  claim(trx: Transaction): Promise<boolean[]>;
  /** The caller's own writes for the outcomes, sent with the signatures in one statement. */
  writes(trx: Transaction, outcomes: readonly GroupOutcome[]): PendingWrite[];
}

/**
 * Keeps a batch's signatures together: one transaction for a group of drafts, made under a grant
 * with one seal and one category, in the batch's order. The same checks as `storeSignature`, made
 * once for the group under the same locks: the seal active, each certificate active and valid at
 * each document's signing time, the grant decided and its uses counted in one statement; when
 * fewer uses are left than documents, the first documents take them and the rest are refused as
 * they would be one by one. A use is counted only with its signature, in the same commit. A check
 * that concerns the whole group (the seal, a certificate revoked) throws, and nothing is kept.
 */
export async function storeSignatureGroup(
  ctx: AppContext,
  actor: Actor,
  drafts: readonly SignatureDraft[],
  hooks: GroupHooks,
): Promise<GroupOutcome[]> {
  const first = drafts[0];
  if (!first) return [];
  const { groupId, userId } = first;
  const seal = first.seal;
  const category = first.category;
  if (
    !seal ||
    !category ||
    drafts.some(
      (d) =>
        d.authorization ||
        d.seal?.id !== seal.id ||
        d.category !== category ||
        d.groupId !== groupId ||
        d.userId !== userId,
    )
  )
    throw new Error('a signature group is one seal under a grant for one category, by one signer');

  return ctx.db.transaction().execute(async (trx: Transaction) => {
    const claimed = await hooks.claim(trx);
    const outcomes: Array<GroupOutcome | undefined> = drafts.map((_, i) =>
      claimed[i] ? undefined : { kind: 'skipped' as const },
    );
    await assertSealUsableLocked(trx, { groupId, seal });
    const held = new Map<string, HeldCertificate>();
    for (const [i, draft] of drafts.entries()) {
      if (outcomes[i]) continue;
      const { certificate } = draft;
      let lock = held.get(certificate.id);
      if (!lock) held.set(certificate.id, (lock = await lockActiveCertificate(trx, certificate)));
      try {
        assertCertificateCovers(certificate, lock, draft.signedAt);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        outcomes[i] = { kind: 'refused', error };
      }
    }

    // The grant, decided under the seal's lock and counted in one statement for as many documents
    // as it has uses; the rest are decided again (another grant may cover them) until none is left.
    const grants: Array<string | undefined> = drafts.map(() => undefined);
    const refuse = (indices: readonly number[], error: AppError) => {
      for (const i of indices) outcomes[i] = { kind: 'refused', error };
    };
    let waiting = drafts.flatMap((_, i) => (outcomes[i] ? [] : [i]));
    while (waiting.length > 0) {
      const times = waiting.map((i) => drafts[i]!.signedAt.getTime());
      const earliest = new Date(Math.min(...times));
      const latest = new Date(Math.max(...times));
      const ask = (at: Date) => decideSealUse(trx, { groupId, sealId: seal.id, userId, category, at });
      const atLatest = await ask(latest);
      const atEarliest = earliest.getTime() === latest.getTime() ? atLatest : await ask(earliest);
      if (!atLatest.allowed && !atEarliest.allowed) {
        refuse(waiting, refusalOf(atLatest, seal, actor.principal));
        break;
      }
      if (!atLatest.allowed || !atEarliest.allowed || atLatest.grant.id !== atEarliest.grant.id) {
        // A grant begins or ends between these documents' signing times: decide each at its own.
        for (const i of waiting) {
          const decision = await ask(drafts[i]!.signedAt);
          if (!decision.allowed) refuse([i], refusalOf(decision, seal, actor.principal));
          else if ((await consumeGrantUses(trx, decision.grant.id, 1)) === 1) grants[i] = decision.grant.id;
          else refuse([i], lastUseTaken(seal));
        }
        break;
      }
      // One grant valid over the whole span of signing times (a grant's validity is one interval).
      const grantId = atLatest.grant.id;
      const taken = await consumeGrantUses(trx, grantId, waiting.length);
      if (taken === 0) {
        refuse(waiting, lastUseTaken(seal));
        break;
      }
      for (const i of waiting.slice(0, taken)) grants[i] = grantId;
      waiting = waiting.slice(taken);
    }

    const keeping = drafts.flatMap((draft, i) => (outcomes[i] ? [] : [{ draft, i }]));
    // One statement: the copies' records, the signatures, the caller's records, then the events
    // (each at its document's signing time) once every write ran.
    const writes = new WriteBatch();
    const stored = await storeBlobs(
      trx,
      ctx.blobs,
      keeping.map(({ draft }) => ({
        groupId,
        bytes: Buffer.from(draft.bytes),
        mediaType: draft.mediaType,
        originalName: draft.document.name,
        createdBy: userId,
        at: draft.signedAt,
      })),
      writes,
    );
    const rows: repo.NewSignature[] = [];
    const events: Array<AuditEvent & { at: Date }> = [];
    for (const [k, { draft, i }] of keeping.entries()) {
      const made = { outputSha256: stored[k]!.sha256, grantId: grants[i] ?? null };
      if (!made.grantId) throw new Error('a signature of a group is kept only with its counted use');
      rows.push(signatureRow(draft, made));
      events.push({ ...signedEvent(draft, made), at: draft.signedAt });
      outcomes[i] = { kind: 'signed', signed: signedInTransaction(draft, made.outputSha256) };
    }
    const done = outcomes.map((o) => o!);
    await writes
      .add(rows.length > 0 ? repo.signaturesInsert(trx, rows) : null, ...hooks.writes(trx, done))
      .run(trx, events.length > 0 ? auditAppendStatement({ groupId, actor, events }) : undefined);
    return done;
  });
}

/** The AppError `refuseUse` throws for this decision. */
function refusalOf(
  decision: Extract<UseDecision, { allowed: false }>,
  seal: CheckedSeal,
  principal: Principal,
): AppError {
  try {
    refuseUse(decision, seal, principal);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
}

// ---------------------------------------------------------------- records and files

function canSee(actor: Actor, signature: repo.SignatureRecord): boolean {
  const { principal } = actor;
  if (principal.kind === 'user' && principal.id === signature.userId) return true;
  try {
    return isWithin(scopeOf(principal, 'seals.read'), signature.companyPath);
  } catch {
    return false;
  }
}

/** The signer sees their own; seal readers (administrators, auditors) see those over their companies. */
function assertCanSee(actor: Actor, signature: repo.SignatureRecord): void {
  if (!canSee(actor, signature)) throw notFound('signature_not_found', signature.id);
}

function view(signature: repo.SignatureRecord) {
  const { companyPath: _path, ...rest } = signature;
  return rest;
}

export async function getSignature(ctx: AppContext, actor: Actor, signatureId: string) {
  const signature = await repo.findSignature(ctx.db, { groupId: actor.principal.groupId, id: signatureId });
  if (!signature) throw notFound('signature_not_found', signatureId);
  assertCanSee(actor, signature);
  return view(signature);
}

export async function readSignedDocument(ctx: AppContext, actor: Actor, signatureId: string) {
  const signature = await getSignature(ctx, actor, signatureId);
  const { blob, bytes } = await readGroupBlob(ctx.db, ctx.blobs, {
    groupId: actor.principal.groupId,
    sha256: signature.outputSha256,
  });
  const isOfd = blob.mediaType === OFD_MEDIA_TYPE;
  return {
    name: signature.documentName ?? (isOfd ? 'signed.ofd' : 'signed.pdf'),
    bytes,
    mediaType: isOfd ? OFD_MEDIA_TYPE : 'application/pdf',
  };
}

/**
 * The signatures of the chain that started from a document, those the caller may see: what the
 * console lists under an application's document (the signed copies to download or stamp again).
 */
export async function listSignatures(ctx: AppContext, actor: Actor, query: { originalSha256: string }) {
  const found = await repo.findSignaturesByOriginal(ctx.db, {
    groupId: actor.principal.groupId,
    originalSha256: query.originalSha256,
  });
  return found.filter((s) => canSee(actor, s)).map(view);
}

/** At most this many signatures are listed under one application; an application names at most 20 documents. */
const OUTSIDE_SIGNATURES_LIMIT = 100;

/**
 * What was signed on an application's documents outside it (by SHA-256 of the original): a stamp
 * made directly under a standing grant, under another application, or a personal signature, while
 * this one waits or after. Whoever may read the application (its applicant, approvers, CC, seal
 * readers; approvals' door decides, answering not-found otherwise) sees who signed, when and with
 * which seal, so no approver decides without knowing the document is already stamped. Which other
 * application authorized a stamp is not said: the reader may not see that one.
 */
export async function listApplicationDocumentSignatures(ctx: AppContext, actor: Actor, applicationId: string) {
  const application = await getApplication(ctx, actor, applicationId);
  const found = await repo.findSignaturesOfOriginalsOutside(ctx.db, {
    groupId: actor.principal.groupId,
    originalSha256s: application.documents.map((d) => d.sha256),
    authorizationIds: application.authorizations.map((a) => a.id),
    limit: OUTSIDE_SIGNATURES_LIMIT + 1,
  });
  const names = new Map(application.documents.map((d) => [d.sha256, d.name]));
  const items = found.slice(0, OUTSIDE_SIGNATURES_LIMIT).map((s) => ({
    id: s.id,
    originalSha256: s.originalSha256,
    documentName: names.get(s.originalSha256) ?? s.documentName,
    userId: s.userId,
    userName: s.userName,
    sealId: s.sealId,
    sealName: s.sealName,
    category: s.category,
    basis: s.grantId ? ('grant' as const) : s.authorizationId ? ('other_application' as const) : ('personal' as const),
    signedAt: s.signedAt,
  }));
  return { items, more: found.length > OUTSIDE_SIGNATURES_LIMIT };
}

/**
 * The page boxes of a PDF the caller may stamp, so a placement can be chosen by page and corner
 * ("last page, bottom right") without the client parsing the file.
 */

/**
 * Hash-only lookup: whether the group's archive holds this file as a signed output. Any member of
 * the group learns whether it does; which signature made it only those who may see that signature.
 */
export async function lookupArchive(ctx: AppContext, actor: Actor, sha256: string) {
  const found = await repo.findSignaturesByOutput(ctx.db, { groupId: actor.principal.groupId, sha256 });
  return { sha256, found: found.length > 0, signatures: found.filter((s) => canSee(actor, s)).map(view) };
}

// ---------------------------------------------------------------- verification

/** How many impressions a verification report carries as pictures (each a few dozen KB). */
const IMPRESSIONS_SHOWN = 12;

/**
 * Verifies a PDF against the deployment root, with the current CRLs of Sigil's CAs: the root's,
 * the group's own when a member asks (`groupId`), and any other group CA that issued one of its
 * signers. Nothing about the caller enters the report: it says only what the file and the
 * platform's trust anchors and CRLs say. The impressions come back as PNGs, so a person sees which
 * seal each signature shows; a cross-page seal has a strip on every page, so only the first
 * `impressions` pictures are kept, the rest keep their position only.
 */
export async function verifyAgainstPlatform(
  ctx: AppContext,
  pdf: Buffer,
  options: { groupId: string | null; impressions?: number },
): Promise<VerificationReport> {
  const root = await findDeploymentCertificate(ctx.db, 'root_ca');
  const trustAnchors = root ? [root.der] : [];
  const crls: Buffer[] = [];
  const covered = new Set<string>();
  if (root) {
    crls.push(await pki.currentCrl(ctx, root));
    covered.add(root.subject);
  }
  const own = options.groupId ? await findGroupCa(ctx.db, options.groupId) : undefined;
  if (own) {
    crls.push(await pki.currentCrl(ctx, own));
    covered.add(own.subject);
  }
  let report = await verifyPdf(pdf, { trustAnchors, crls, extractImages: true });
  const others = [
    ...new Set(
      report.signatures.flatMap((s) =>
        s.signer && s.revocation === 'unknown' && !covered.has(s.signer.issuer) ? [s.signer.issuer] : [],
      ),
    ),
  ];
  const cas = await findIssuingCasBySubject(ctx.db, others);
  if (cas.length > 0) {
    for (const ca of cas) crls.push(await pki.currentCrl(ctx, ca));
    report = await verifyPdf(pdf, { trustAnchors, crls, extractImages: true });
  }
  let pictures = 0;
  const shown = options.impressions ?? IMPRESSIONS_SHOWN;
  for (const signature of report.signatures) {
    for (const seal of signature.seals) {
      if (seal.png && ++pictures > shown) delete seal.png;
    }
  }
  return report;
}

/** Verifies an uploaded PDF for a member of a group, and whether the group's archive holds it. */
export async function verifyUpload(
  ctx: AppContext,
  actor: Actor,
  pdf: Buffer,
): Promise<{ report: VerificationReport; archive: Awaited<ReturnType<typeof lookupArchive>> }> {
  const report = await verifyAgainstPlatform(ctx, pdf, { groupId: actor.principal.groupId });
  return { report, archive: await lookupArchive(ctx, actor, sha256Of(pdf)) };
}

/** Verifies an uploaded OFD for a member of a group (its seal signatures against the SM2 root), and whether the group's archive holds it. */
export async function verifyOfdUpload(ctx: AppContext, actor: Actor, bytes: Buffer) {
  const report = await verifyOfdAgainstPlatform(ctx, bytes);
  return { ...report, archive: await lookupArchive(ctx, actor, report.sha256) };
}
