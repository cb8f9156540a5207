// The outside signer: a single-use link (sent by SMS or e-mail) → a one-time code to the same
// phone or e-mail, with their consent to sign electronically → a short signing session → a
// handwritten signature, signed with a one-time certificate issued for them (see pki).
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { readGroupBlob, storeBlob } from '../../blobs/blob.service.js';
import { describePages, prepareImage } from '../../signing/index.js';
import { recordAudit } from '../audit/index.js';
import { messageOutsider } from '../notifications/index.js';
import { pki } from '../pki/index.js';
import { signPdfOffThread } from '../signatures/index.js';
import * as repo from './contract.repository.js';
import { afterParticipant, emitContractEvent, endRejected, hashToken } from './contract.service.js';
import { checkFieldValues, valueStamps } from './contract.values.js';
import { readAttachment } from './contract.attachments.js';
import { providerFor, providerOfCheck, type StoredIdentityCheck } from './contract.identity.js';

export const CODE_TTL_MS = 10 * 60_000;
export const CODE_INTERVAL_MS = 60_000;
export const MAX_CODES = 5;
export const MAX_CODE_ATTEMPTS = 5;
export const SESSION_TTL_MS = 30 * 60_000;
/** A drawn signature is a small PNG: enough for a phone screen's strokes at twice its density. */
export const SIGNATURE_IMAGE_MAX = 512 * 1024;

const codeHash = (linkId: string, code: string) => createHash('sha256').update(`${linkId}:${code}`).digest('hex');

const mask = {
  phone: (v: string | null) => (v ? `${v.slice(0, 3)}****${v.slice(-4)}` : null),
  email: (v: string | null) => {
    if (!v) return null;
    const [name = '', domain = ''] = v.split('@');
    return `${name.slice(0, 1)}***@${domain}`;
  },
};

interface Opened {
  link: repo.LinkRecord;
  contract: repo.ContractRecord;
  participant: repo.ParticipantRecord;
}

/**
 * The link behind a token, refused with the precise reason when it cannot be used. A link is spent
 * when its signer has signed or refused, or the contract ended.
 */
async function openLink(ctx: AppContext, token: string): Promise<Opened> {
  const link = await repo.findLinkByToken(ctx.db, hashToken(token));
  if (link?.purpose !== 'sign')
    throw new AppError('signing_link_invalid', 'This signing link is not valid. Ask the sender for a new one.');
  const now = ctx.now();
  if (link.lockedAt)
    throw new AppError(
      'signing_link_locked',
      'Too many wrong codes were entered for this link; it is locked. Ask the sender for a new one.',
    );
  if (link.usedAt)
    throw new AppError('signing_link_used', 'This signing link was already used. Ask the sender for a new one.');
  if (link.expiresAt <= now)
    throw new AppError('signing_link_expired', 'This signing link has expired. Ask the sender for a new one.');
  return withContract(ctx, link);
}

async function withContract(ctx: AppContext, link: repo.LinkRecord): Promise<Opened> {
  const contract = await repo.findContract(ctx.db, { groupId: link.groupId, id: link.contractId });
  const participant = (await repo.findParticipants(ctx.db, link.contractId)).find((p) => p.id === link.participantId);
  if (!contract || !participant) throw new AppError('signing_link_invalid', 'This signing link is not valid.');
  if (contract.status !== 'sent' && contract.status !== 'signing')
    throw new AppError('contract_state', `The contract is ${contract.status}; it can no longer be signed.`, {
      contractStatus: contract.status,
    });
  if (participant.status !== 'active')
    throw new AppError(
      'contract_out_of_order',
      participant.status === 'done' ? 'You have already signed this contract.' : 'It is not your turn to sign yet.',
      { step: participant.step, currentStep: contract.currentStep },
    );
  return { link, contract, participant };
}

function summary({ contract, participant, link }: Opened) {
  return {
    title: contract.title,
    companyName: contract.companyName,
    number: contract.number,
    participant: {
      name: participant.name,
      orgName: participant.orgName,
      phone: mask.phone(participant.phone),
      email: mask.email(participant.email),
      role: participant.role,
    },
    channels: [...(participant.phone ? ['sms' as const] : []), ...(participant.email ? ['email' as const] : [])],
    expiresAt: link.expiresAt,
  };
}

export async function openInvitation(ctx: AppContext, token: string) {
  return summary(await openLink(ctx, token));
}

/** Sends a one-time code to the participant's own phone or e-mail: one a minute, five per link. */
export async function sendCode(ctx: AppContext, token: string, channel: 'sms' | 'email') {
  const opened = await openLink(ctx, token);
  const { participant, contract } = opened;
  const to = channel === 'sms' ? participant.phone : participant.email;
  if (!to)
    throw new AppError('validation_failed', `No ${channel === 'sms' ? 'phone number' : 'e-mail address'} is on file.`, {
      errors: [{ field: 'body.channel', message: 'has no address on file' }],
    });
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    const link = await repo.lockLink(trx, opened.link.id);
    if (!link) throw new AppError('signing_link_invalid', 'This signing link is not valid.');
    if (link.codesSent >= MAX_CODES)
      throw new AppError(
        'rate_limited',
        `At most ${MAX_CODES} codes are sent per link. Ask the sender for a new one.`,
        {
          retryAfterSeconds: Math.max(1, Math.ceil((link.expiresAt.getTime() - now.getTime()) / 1000)),
        },
      );
    if (link.codeSentAt && now.getTime() - link.codeSentAt.getTime() < CODE_INTERVAL_MS)
      throw new AppError('rate_limited', 'A code was sent less than a minute ago; wait before asking again.', {
        retryAfterSeconds: Math.ceil((CODE_INTERVAL_MS - (now.getTime() - link.codeSentAt.getTime())) / 1000),
      });
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await repo.updateLink(trx, link.id, {
      codeHash: codeHash(link.id, code),
      codeExpiresAt: new Date(now.getTime() + CODE_TTL_MS),
      codeSentAt: now,
      codesSent: link.codesSent + 1,
    });
    await messageOutsider(trx, {
      groupId: contract.groupId,
      kind: 'contract.code',
      channel,
      to,
      subject: `签署验证码：${code}`,
      text: `您正在签署《${contract.title}》，验证码 ${code}，${CODE_TTL_MS / 60_000} 分钟内有效。请勿告诉他人。`,
      link: null,
      locale: 'zh-CN',
      at: now,
    });
    await recordAudit(trx, {
      groupId: contract.groupId,
      actor: { system: 'signing-link' },
      at: now,
      event: {
        action: 'contract.code_sent',
        target: { type: 'contract', id: contract.id },
        companyId: contract.companyId,
        changes: { participantId: participant.id, channel },
      },
    });
  });
  return { sentTo: channel === 'sms' ? mask.phone(to) : mask.email(to), expiresInSeconds: CODE_TTL_MS / 1000 };
}

/**
 * Checks the code and the consent; a right one opens a signing session (the code is spent). A
 * wrong one is counted (committed even though the answer is an error), and the fifth locks the link.
 */
export async function verifyCode(
  ctx: AppContext,
  token: string,
  input: { code: string; consent: boolean; channel: 'sms' | 'email'; ip: string | null },
) {
  const opened = await openLink(ctx, token);
  if (!input.consent)
    throw new AppError(
      'consent_required',
      'Agree to sign electronically first: an electronic signature binds you like one on paper.',
    );
  const now = ctx.now();
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const link = await repo.lockLink(trx, opened.link.id);
    if (!link || link.usedAt || link.lockedAt) return { kind: 'gone' as const };
    if (!link.codeHash || !link.codeExpiresAt || link.codeExpiresAt <= now) return { kind: 'expired' as const };
    const given = Buffer.from(codeHash(link.id, input.code.trim()), 'hex');
    if (!timingSafeEqual(given, Buffer.from(link.codeHash, 'hex'))) {
      const attempts = link.failedAttempts + 1;
      const locked = attempts >= MAX_CODE_ATTEMPTS;
      await repo.updateLink(trx, link.id, { failedAttempts: attempts, ...(locked ? { lockedAt: now } : {}) });
      await recordAudit(trx, {
        groupId: opened.contract.groupId,
        actor: { system: 'signing-link' },
        at: now,
        event: {
          action: 'contract.code_failed',
          target: { type: 'contract', id: opened.contract.id },
          companyId: opened.contract.companyId,
          changes: { participantId: opened.participant.id, attempts, locked },
        },
      });
      return { kind: 'wrong' as const, remaining: MAX_CODE_ATTEMPTS - attempts };
    }
    const session = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
    // The link stays open until its signer has acted: a session that ended (30 minutes) is opened
    // again with a new code, and each new session replaces the last.
    await repo.updateLink(trx, link.id, {
      codeHash: null,
      sessionHash: hashToken(session),
      sessionExpiresAt: expiresAt,
    });
    const identity = { method: 'one-time code', channel: input.channel, verifiedAt: now.toISOString(), ip: input.ip };
    await repo.updateParticipant(trx, opened.participant.id, {
      status: 'active',
      consentAt: now,
      identity,
    });
    await recordAudit(trx, {
      groupId: opened.contract.groupId,
      actor: { system: 'signing-link' },
      at: now,
      event: {
        action: 'contract.identity_verified',
        target: { type: 'contract', id: opened.contract.id },
        companyId: opened.contract.companyId,
        changes: {
          participantId: opened.participant.id,
          method: 'one-time code',
          channel: input.channel,
          consent: true,
          ip: input.ip,
        },
      },
    });
    return { kind: 'ok' as const, session, expiresAt };
  });
  if (outcome.kind === 'gone') throw new AppError('signing_link_used', 'This signing link was already used.');
  if (outcome.kind === 'expired')
    throw new AppError('signing_code_expired', 'The code has expired or none was sent; ask for a new one.');
  if (outcome.kind === 'wrong')
    throw outcome.remaining > 0
      ? new AppError('signing_code_invalid', `The code is wrong; ${outcome.remaining} attempts remain.`, {
          remainingAttempts: outcome.remaining,
        })
      : new AppError('signing_link_locked', 'Too many wrong codes: this link is locked. Ask the sender for a new one.');
  return { sessionToken: outcome.session, expiresAt: outcome.expiresAt };
}

/** The signing session behind the `X-Signing-Session` header, or 401. */
async function openSession(ctx: AppContext, session: string | undefined): Promise<Opened> {
  if (!session) throw new AppError('signing_session_invalid', 'Open the signing link and enter the code first.');
  const link = await repo.findLinkBySession(ctx.db, hashToken(session));
  if (!link || !link.sessionExpiresAt || link.sessionExpiresAt <= ctx.now())
    throw new AppError('signing_session_invalid', 'The signing session has ended; open the link and enter a new code.');
  return withContract(ctx, link);
}

export async function getSignerView(ctx: AppContext, session: string | undefined) {
  const opened = await openSession(ctx, session);
  const { bytes } = await readGroupBlob(ctx.db, ctx.blobs, {
    groupId: opened.contract.groupId,
    sha256: opened.contract.currentSha256,
  });
  const pages = describePages(bytes, 200);
  const fields = (await repo.findFields(ctx.db, opened.contract.id)).filter(
    (f) => f.participantId === opened.participant.id,
  );
  const attachments = await repo.findAttachments(ctx.db, opened.contract.id);
  return {
    ...summary(opened),
    identityCheck: opened.contract.identityCheck,
    attachments: attachments.map((a) => ({
      id: a.id,
      name: a.name,
      mediaType: a.mediaType,
      size: a.size,
      sha256: a.sha256,
    })),
    sha256: opened.contract.currentSha256,
    pageCount: pages.count,
    pages: pages.pages.map((p) => ({ width: p.box[2], height: p.box[3], rotate: p.rotate })),
    fields: fields.map(({ participantId: _p, ...f }) => f),
  };
}

export async function getSignerPdf(ctx: AppContext, session: string | undefined): Promise<Buffer> {
  const opened = await openSession(ctx, session);
  const { bytes } = await readGroupBlob(ctx.db, ctx.blobs, {
    groupId: opened.contract.groupId,
    sha256: opened.contract.currentSha256,
  });
  return Buffer.from(bytes);
}

function signatureImageOf(base64: string): Buffer {
  const bytes = Buffer.from(base64, 'base64');
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const refuse = (message: string) =>
    new AppError('validation_failed', `The signature image ${message}.`, {
      errors: [{ field: 'body.signatureImage', message }],
    });
  if (bytes.length === 0) throw refuse('is empty');
  if (bytes.length > SIGNATURE_IMAGE_MAX) throw refuse(`must be at most ${SIGNATURE_IMAGE_MAX / 1024} KB`);
  if (!bytes.subarray(0, 8).equals(png)) throw refuse('must be a PNG');
  return bytes;
}

/**
 * Signs each of the participant's signature fields with their drawn signature, one signature per
 * field, under a one-time certificate; then, under the contract's lock, checks nobody signed in
 * between, stores the result and moves the flow on. The session ends with it.
 */
export async function signAsOutsider(
  ctx: AppContext,
  session: string | undefined,
  input: { signatureImage: string; fields: Array<{ id: string; value: string }> },
) {
  const opened = await openSession(ctx, session);
  const { contract, participant } = opened;
  const check = contract.identityCheck ? await awaitIdentityVerdict(ctx, opened) : null;
  const image = prepareImage(signatureImageOf(input.signatureImage));
  const fields = (await repo.findFields(ctx.db, contract.id)).filter((f) => f.participantId === participant.id);
  const values = new Map(input.fields.map((f) => [f.id, f.value]));
  for (const id of values.keys())
    if (!fields.some((f) => f.id === id && f.type !== 'signature'))
      throw new AppError('validation_failed', `The field ${id} is not one of yours to fill.`, {
        errors: [{ field: 'body.fields', message: `names ${id}, which is not one of your value fields` }],
      });
  for (const f of fields)
    if (f.required && f.type !== 'signature' && !values.has(f.id))
      throw new AppError('validation_failed', `Give a value for the field ${f.label ?? f.id}.`, {
        errors: [{ field: 'body.fields', message: `must give a value for ${f.label ?? f.id}` }],
      });
  checkFieldValues(fields, values);
  const signatureFields = fields.filter((f) => f.type === 'signature');

  const { signer, certificate } = await pki.issueEventSigner(
    ctx,
    { system: 'signing-link' },
    {
      groupId: contract.groupId,
      companyId: contract.companyId,
      name: participant.name,
      ...(participant.orgName ? { organization: participant.orgName } : {}),
      ...(participant.email ? { email: participant.email } : {}),
      evidence: `one-time code to ${participant.phone ? mask.phone(participant.phone) : mask.email(participant.email)}${check ? `; ${check.kind} check by ${check.provider} (${check.reference})` : ''}`,
    },
  );
  const timestamper = await pki.timestamperFor(ctx);
  const input0 = contract.currentSha256;
  let pdf: Buffer = Buffer.from(
    (await readGroupBlob(ctx.db, ctx.blobs, { groupId: contract.groupId, sha256: input0 })).bytes,
  );
  const now = ctx.now();
  const made: Array<{ fieldName: string; bytes: Buffer }> = [];
  // The values go beside the first signature, which covers them.
  let stamps = await valueStamps(fields, values, participant.name);
  for (const field of signatureFields.length > 0 ? signatureFields : [null]) {
    const fieldName = `Signature-${newId().slice(-12)}`;
    pdf = await signPdfOffThread(pdf, {
      signer,
      level: 'B-T',
      timestamper,
      fieldName,
      reason: `签署《${contract.title}》`,
      signingTime: now,
      ...(stamps.length ? { stamps } : {}),
      ...(field
        ? {
            appearance: {
              image,
              kind: 'handwritten' as const,
              at: field.rect
                ? { page: field.page ?? 1, rect: field.rect }
                : { keyword: field.keyword!, ...(field.page ? { page: field.page } : {}) },
            },
          }
        : {}),
    });
    stamps = [];
    made.push({ fieldName, bytes: pdf });
  }

  await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.lockContract(trx, { groupId: contract.groupId, id: contract.id });
    if (!locked || (locked.status !== 'sent' && locked.status !== 'signing'))
      throw new AppError('contract_state', `The contract is ${locked?.status ?? 'gone'}; it can no longer be signed.`, {
        contractStatus: locked?.status ?? 'gone',
      });
    if (locked.currentSha256 !== input0)
      throw new AppError('contract_changed', 'Another participant signed a moment ago; sign again on the new version.');
    let previous = input0;
    for (const signed of made) {
      const stored = await storeBlob(trx, ctx.blobs, {
        groupId: contract.groupId,
        bytes: signed.bytes,
        mediaType: 'application/pdf',
        originalName: `${contract.title}.pdf`,
        createdBy: contract.createdBy,
        at: now,
      });
      await repo.insertContractSignature(trx, {
        id: newId(),
        groupId: contract.groupId,
        contractId: contract.id,
        participantId: participant.id,
        signatureId: null,
        certificateId: certificate.id,
        fieldName: signed.fieldName,
        inputSha256: previous,
        outputSha256: stored.sha256,
        signedAt: now,
      });
      await recordAudit(trx, {
        groupId: contract.groupId,
        actor: { system: 'signing-link' },
        at: now,
        event: {
          action: 'contract.signed',
          target: { type: 'contract', id: contract.id },
          companyId: contract.companyId,
          changes: {
            participantId: participant.id,
            signatureId: null,
            certificateId: certificate.id,
            fieldName: signed.fieldName,
            inputSha256: previous,
            outputSha256: stored.sha256,
          },
        },
      });
      previous = stored.sha256;
    }
    await repo.updateContract(trx, contract.id, { currentSha256: previous, status: 'signing' });
    for (const [fieldId, value] of values) await repo.fillField(trx, fieldId, value, now);
    await repo.updateParticipant(trx, participant.id, { status: 'done', actedAt: now });
    await emitContractEvent(ctx, trx, contract, {
      type: 'document.signed',
      status: 'signing',
      participantId: participant.id,
    });
    // Spent: the signer has acted, so the link and its session end.
    await repo.updateLink(trx, opened.link.id, { usedAt: now, sessionHash: null, sessionExpiresAt: null });
    await afterParticipant(ctx, trx, { system: 'signing-link' }, { ...contract, currentStep: locked.currentStep });
  });
  return { signatures: made.length };
}

export async function rejectAsOutsider(ctx: AppContext, session: string | undefined, reason: string) {
  const opened = await openSession(ctx, session);
  await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.lockContract(trx, { groupId: opened.contract.groupId, id: opened.contract.id });
    if (!locked || (locked.status !== 'sent' && locked.status !== 'signing'))
      throw new AppError('contract_state', `The contract is ${locked?.status ?? 'gone'}.`, {
        contractStatus: locked?.status ?? 'gone',
      });
    await endRejected(ctx, trx, { system: 'signing-link' }, opened.contract, opened.participant.id, reason, null);
  });
  return { rejected: true };
}

// ---------------------------------------------------------------- identity checks

async function storedCheck(ctx: AppContext, participantId: string): Promise<StoredIdentityCheck | null> {
  return (await repo.findIdentityCheck(ctx.db, participantId)) as StoredIdentityCheck | null;
}

/**
 * Asks the provider for the verdict on a pending check and keeps a decided one (audited with the
 * provider's evidence, once: under the participant's contract lock, a verdict already kept stays).
 */
async function refreshVerdict(
  ctx: AppContext,
  opened: Opened,
  check: StoredIdentityCheck,
): Promise<StoredIdentityCheck> {
  if (check.status !== 'pending') return check;
  const verdict = await providerOfCheck(check).verdict(check.reference);
  if (verdict.status === 'pending') return check;
  const outcome: 'passed' | 'failed' = verdict.status;
  const now = ctx.now();
  const decided: StoredIdentityCheck = {
    ...check,
    status: verdict.status,
    reason: verdict.reason ?? null,
    evidence: verdict.evidence ?? {},
    decidedAt: now.toISOString(),
  };
  return ctx.db.transaction().execute(async (trx) => {
    await repo.lockContract(trx, { groupId: opened.contract.groupId, id: opened.contract.id });
    const current = (await repo.findIdentityCheck(trx, opened.participant.id)) as StoredIdentityCheck | null;
    if (current?.reference !== check.reference || current.status !== 'pending') return current ?? check;
    await repo.setIdentityCheck(trx, opened.participant.id, decided);
    await recordAudit(trx, {
      groupId: opened.contract.groupId,
      actor: { system: 'signing-link' },
      at: now,
      event: {
        action: 'contract.identity_check_decided',
        target: { type: 'contract', id: opened.contract.id },
        companyId: opened.contract.companyId,
        changes: {
          participantId: opened.participant.id,
          kind: check.kind,
          provider: check.provider,
          reference: check.reference,
          verdict: outcome,
          reason: decided.reason,
          evidence: decided.evidence,
        },
      },
    });
    return decided;
  });
}

/** The passed check a signer needs, or the error saying what is missing: none started, pending, failed. */
async function awaitIdentityVerdict(ctx: AppContext, opened: Opened): Promise<StoredIdentityCheck> {
  const kind = opened.contract.identityCheck!;
  const stored = await storedCheck(ctx, opened.participant.id);
  if (!stored || stored.kind !== kind)
    throw new AppError(
      'identity_check_required',
      `This contract asks for a ${kind === 'face' ? 'face' : 'real-name'} check before signing; start it first.`,
    );
  const check = await refreshVerdict(ctx, opened, stored);
  if (check.status === 'pending')
    throw new AppError('identity_check_pending', 'The identity check has no verdict yet; sign once it has passed.');
  if (check.status === 'failed')
    throw new AppError(
      'identity_check_failed',
      `The identity check did not pass${check.reason ? `: ${check.reason}` : ''}. Start it again, or ask the sender.`,
    );
  return check;
}

/** Starts the contract's identity check with the configured provider (again, when the last one failed). */
export async function startIdentityCheck(ctx: AppContext, session: string | undefined) {
  const opened = await openSession(ctx, session);
  const kind = opened.contract.identityCheck;
  if (!kind)
    throw new AppError('validation_failed', 'This contract asks for no identity check.', {
      errors: [{ field: 'body', message: 'no identity check is asked for' }],
    });
  const stored = await storedCheck(ctx, opened.participant.id);
  if (stored && stored.status !== 'failed') {
    const check = await refreshVerdict(ctx, opened, stored);
    if (check.status !== 'failed') return identityView(check);
  }
  const provider = providerFor(ctx, kind);
  const { participant, contract } = opened;
  const started = await provider.start({
    kind,
    contractId: contract.id,
    participantId: participant.id,
    name: participant.name,
    orgName: participant.orgName,
    phone: participant.phone,
    email: participant.email,
  });
  const now = ctx.now();
  const check: StoredIdentityCheck = {
    kind,
    provider: provider.name,
    reference: started.reference,
    status: 'pending',
    reason: null,
    evidence: {},
    redirectUrl: started.redirectUrl ?? null,
    startedAt: now.toISOString(),
    decidedAt: null,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await repo.lockContract(trx, { groupId: contract.groupId, id: contract.id });
    await repo.setIdentityCheck(trx, participant.id, check);
    await recordAudit(trx, {
      groupId: contract.groupId,
      actor: { system: 'signing-link' },
      at: now,
      event: {
        action: 'contract.identity_check_started',
        target: { type: 'contract', id: contract.id },
        companyId: contract.companyId,
        changes: { participantId: participant.id, kind, provider: provider.name, reference: started.reference },
      },
    });
  });
  return identityView(await refreshVerdict(ctx, opened, check));
}

export async function getIdentityCheck(ctx: AppContext, session: string | undefined) {
  const opened = await openSession(ctx, session);
  const stored = await storedCheck(ctx, opened.participant.id);
  if (!stored) return { kind: opened.contract.identityCheck, status: 'none' as const, reason: null, redirectUrl: null };
  return identityView(await refreshVerdict(ctx, opened, stored));
}

function identityView(check: StoredIdentityCheck) {
  // The way to the check matters only while it is pending.
  const redirectUrl = check.status === 'pending' ? (check.redirectUrl ?? null) : null;
  return { kind: check.kind, status: check.status, reason: check.reason, redirectUrl };
}

// ---------------------------------------------------------------- attachments and receivers

export async function getSignerAttachment(ctx: AppContext, session: string | undefined, attachmentId: string) {
  const opened = await openSession(ctx, session);
  return readAttachment(ctx, { groupId: opened.contract.groupId, contractId: opened.contract.id, id: attachmentId });
}

/**
 * An outside receiver's download of the completed contract through the link sent to them: good
 * until it expires, or the contract is voided (which closes it); each download audited.
 */
export async function downloadAsReceiver(ctx: AppContext, token: string) {
  const link = await repo.findLinkByToken(ctx.db, hashToken(token));
  if (link?.purpose !== 'download')
    throw new AppError('signing_link_invalid', 'This download link is not valid. Ask the sender for a new one.');
  if (link.usedAt) throw new AppError('signing_link_used', 'This download link is closed: the contract was voided.');
  if (link.expiresAt <= ctx.now())
    throw new AppError('signing_link_expired', 'This download link has expired. Ask the sender for a new one.');
  const contract = await repo.findContract(ctx.db, { groupId: link.groupId, id: link.contractId });
  if (contract?.status !== 'completed')
    throw new AppError('contract_state', `The contract is ${contract?.status ?? 'gone'}; it cannot be downloaded.`, {
      contractStatus: contract?.status ?? 'gone',
    });
  const { bytes } = await readGroupBlob(ctx.db, ctx.blobs, {
    groupId: contract.groupId,
    sha256: contract.currentSha256,
  });
  await ctx.db.transaction().execute((trx) =>
    recordAudit(trx, {
      groupId: contract.groupId,
      actor: { system: 'signing-link' },
      at: ctx.now(),
      event: {
        action: 'contract.downloaded',
        target: { type: 'contract', id: contract.id },
        companyId: contract.companyId,
        changes: { participantId: link.participantId, sha256: contract.currentSha256 },
      },
    }),
  );
  return { bytes: Buffer.from(bytes), name: `${contract.title}.pdf`, sha256: contract.currentSha256 };
}
