// Contracts: a PDF, its participants in steps, fields on its pages, and the flow
// draft → sent → signing → completed | rejected | voided | expired. Each signature is an
// incremental update of the contract's current PDF; the contract's row lock orders them.
import { createHash, randomBytes } from 'node:crypto';
import type { Transaction } from '../../db/schema.js';
import { WriteBatch } from '../../db/batch.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { readGroupBlob } from '../../blobs/blob.service.js';
import { describePages } from '../../signing/index.js';
import { requireUser, scopeOf, isWithin, type Actor, type Principal } from '../access/index.js';
import { auditAppendStatement, recordAudit, type AuditActor, type AuditEvent } from '../audit/index.js';
import { findCompany } from '../companies/index.js';
import { getReadableDocument } from '../documents/index.js';
import { findUsersById } from '../users/index.js';
import { findSeal } from '../seals/index.js';
import { channelsOff, messageOutsider, notify } from '../notifications/index.js';
import { confirmSigningFactor } from '../auth/index.js';
import { mayKnowSeal, signDocument, type SignInput } from '../signatures/index.js';
import { emitEvents, type PublicEventType } from '../../outbox/events.js';
import * as repo from './contract.repository.js';
import { FlowWrites } from './contract.writes.js';
import { storeRendered } from './template.service.js';
import { remindActive, scheduleCompleted, scheduleSent, tooSoon } from './contract.jobs.js';
import { SEAL_FIELDS, type ContractSignInput, type CreateContractInput } from './contract.schema.js';
import { checkFieldValues, valueStamps } from './contract.values.js';
import { providerFor } from './contract.identity.js';
import { voidOriginal } from './contract.void.js';
import { secondFactorRequired } from './contract.policy.js';

/** Tells integrators (webhooks) what happened to a contract, in the change's transaction. */
export async function emitContractEvent(
  ctx: AppContext,
  trx: Transaction,
  contract: { id: string; groupId: string; companyId: string },
  event: ContractEvent,
): Promise<void> {
  await emitEvents(trx, contract.groupId, [contractEvent(ctx, contract, event)]);
}

interface ContractEvent {
  type: Extract<PublicEventType, `document.${string}`>;
  status: repo.ContractRecord['status'];
  participantId?: string;
}

function contractEvent(ctx: AppContext, contract: { id: string; companyId: string }, event: ContractEvent) {
  return {
    type: event.type,
    companyId: contract.companyId,
    at: ctx.now(),
    data: { documentId: contract.id, status: event.status, participantId: event.participantId ?? null },
  };
}

/** How long an invitation link stays open. */
export const LINK_DAYS = 7;

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

function canReadAll(principal: Principal, companyPath: string): boolean {
  try {
    return isWithin(scopeOf(principal, 'contracts.read'), companyPath);
  } catch {
    return false;
  }
}

async function loadContract(ctx: AppContext, groupId: string, id: string) {
  const loaded = await repo.findContractWithParts(ctx.db, { groupId, id });
  if (!loaded) throw notFound('contract_not_found', id);
  return loaded;
}

type Loaded = Awaited<ReturnType<typeof loadContract>>;

/** Its creator, its internal participants, and readers of contracts over its company; else not found. */
async function getVisibleContract(ctx: AppContext, actor: Actor, id: string): Promise<Loaded> {
  const { principal } = actor;
  const loaded = await loadContract(ctx, principal.groupId, id);
  const visible =
    loaded.contract.createdBy === principal.id ||
    loaded.participants.some((p) => p.userId === principal.id) ||
    canReadAll(principal, loaded.contract.companyPath);
  if (!visible) throw notFound('contract_not_found', id);
  return loaded;
}

function view({ contract, participants, fields }: Pick<Loaded, 'contract' | 'participants' | 'fields'>) {
  const { companyPath: _path, groupId: _group, remindEveryDays: _every, ...rest } = contract;
  return { ...rest, participants, fields };
}

export async function getContract(ctx: AppContext, actor: Actor, id: string) {
  return view(await getVisibleContract(ctx, actor, id));
}

/** The contract's current PDF (every signature so far), for whoever may see the contract. */
export async function readContractDocument(ctx: AppContext, actor: Actor, id: string) {
  const { contract } = await getVisibleContract(ctx, actor, id);
  const { bytes } = await readGroupBlob(ctx.db, ctx.blobs, {
    groupId: contract.groupId,
    sha256: contract.currentSha256,
  });
  return { bytes: Buffer.from(bytes), name: `${contract.title}.pdf`, sha256: contract.currentSha256 };
}

export interface ContractListQuery {
  status?: repo.ContractRecord['status'] | undefined;
  q?: string | undefined;
  category?: string | undefined;
  party?: string | undefined;
  number?: string | undefined;
  effectiveFrom?: string | undefined;
  effectiveTo?: string | undefined;
  expiresFrom?: string | undefined;
  expiresTo?: string | undefined;
  completedFrom?: Date | undefined;
  completedTo?: Date | undefined;
  limit: number;
}

/** A range whose end comes before its start finds nothing by construction: say so instead. */
function assertOrdered(from: string | Date | undefined, to: string | Date | undefined, names: [string, string]) {
  if (from === undefined || to === undefined) return;
  // YYYY-MM-DD strings order as their days do.
  const before = from instanceof Date && to instanceof Date ? to.getTime() < from.getTime() : to < from;
  if (before) throw invalid(`querystring.${names[1]}`, `must not be before ${names[0]}`);
}

export async function listContracts(ctx: AppContext, actor: Actor, query: ContractListQuery) {
  assertOrdered(query.effectiveFrom, query.effectiveTo, ['effectiveFrom', 'effectiveTo']);
  assertOrdered(query.expiresFrom, query.expiresTo, ['expiresFrom', 'expiresTo']);
  assertOrdered(query.completedFrom, query.completedTo, ['completedFrom', 'completedTo']);
  const { principal } = actor;
  let scope: string[] = [];
  try {
    scope = scopeOf(principal, 'contracts.read');
  } catch {
    scope = [];
  }
  const rows = await repo.findContracts(ctx.db, {
    groupId: principal.groupId,
    scope,
    userId: principal.kind === 'user' ? principal.id : null,
    status: query.status,
    q: query.q,
    category: query.category,
    party: query.party,
    number: query.number,
    effectiveOn: { from: query.effectiveFrom, to: query.effectiveTo },
    expiresOn: { from: query.expiresFrom, to: query.expiresTo },
    completedAt: { from: query.completedFrom, to: query.completedTo },
    limit: query.limit,
  });
  return rows.map(({ companyPath: _path, groupId: _group, remindEveryDays: _every, ...rest }) => rest);
}

// ---------------------------------------------------------------- creating

function invalid(field: string, message: string, detail?: string): AppError {
  return new AppError('validation_failed', detail ?? `${field} ${message}.`, { errors: [{ field, message }] });
}

export async function createContract(ctx: AppContext, actor: Actor, input: CreateContractInput) {
  const { principal } = actor;
  const createdBy = requireUser(principal);
  const groupId = principal.groupId;
  const companyId = input.companyId ?? principal.companyId;
  if (!companyId) throw invalid('body.companyId', 'is required');
  // Each company read once: the sender's is usually the signing one too.
  const companies = new Map<string, Promise<Awaited<ReturnType<typeof findCompany>>>>();
  const companyOf = (id: string) => {
    let found = companies.get(id);
    if (!found) companies.set(id, (found = findCompany(ctx.db, { groupId, id })));
    return found;
  };
  const company = await companyOf(companyId);
  if (!company) throw notFound('company_not_found', companyId);
  // A person sends for their own company; a reader of contracts over a subtree, for any company in it.
  if (companyId !== principal.companyId && !canReadAll(principal, company.path))
    throw notFound('company_not_found', companyId);
  let templateVersionId: string | null = null;
  let documentSha256 = input.documentSha256;
  if (input.template) {
    const rendered = await storeRendered(ctx, actor, { ...input.template, name: input.title });
    documentSha256 = rendered.sha256;
    templateVersionId = rendered.versionId;
  }
  const document = await getReadableDocument(ctx, actor, documentSha256!);
  // The group's record of it was just read with the right to read it: the bytes from the store.
  const pages = describePages(await ctx.blobs.get(document.sha256), 10_000);
  if (input.number && (await repo.isContractNumberTaken(ctx.db, groupId, input.number)))
    throw new AppError('contract_number_taken', `The contract number ${input.number} is already used in this group.`, {
      number: input.number,
    });
  if (input.effectiveOn && input.expiresOn && input.expiresOn < input.effectiveOn)
    throw invalid('body.expiresOn', 'must not be before effectiveOn');
  if (input.deadline && input.deadline <= ctx.now()) throw invalid('body.deadline', 'must be in the future');

  const participants: Array<
    Omit<repo.ParticipantRecord, 'contractId' | 'status' | 'actedAt' | 'reason' | 'sealImageSha256'>
  > = [];
  /** The impressions of the seals read, for the answer. */
  const sealImages = new Map<string, string | null>();
  // The people of the group named, read at once.
  const named = [...new Set(input.participants.flatMap((p) => (p.userId ? [p.userId] : [])))];
  const people = new Map((await findUsersById(ctx.db, { groupId, ids: named })).map((u) => [u.id, u]));
  for (const [index, p] of input.participants.entries()) {
    const at = `body.participants.${index}`;
    let name = p.name ?? '';
    if (p.kind === 'company') {
      if (!p.companyId) throw invalid(`${at}.companyId`, 'is required for a company');
      const signing = await companyOf(p.companyId);
      if (!signing) throw notFound('company_not_found', p.companyId);
      name = signing.name;
      if (p.role === 'signer') {
        if (!p.sealId) throw invalid(`${at}.sealId`, 'is required for a signing company');
        const seal = await findSeal(ctx.db, { groupId, id: p.sealId });
        if (seal) sealImages.set(seal.id, seal.imageSha256);
        // Only a seal the sender may know of: their company's, an ancestor's, or one they read.
        if (!seal || seal.companyId !== p.companyId || !mayKnowSeal(principal, seal))
          throw notFound('seal_not_found', p.sealId);
        if (seal.kind !== 'electronic')
          throw new AppError(
            'seal_not_electronic',
            `${seal.name} is a ${seal.kind} seal; only an electronic seal signs documents.`,
          );
        if (!p.userId) throw invalid(`${at}.userId`, 'is required: the person who applies the seal');
      }
    }
    if (p.kind === 'company' || p.kind === 'person') {
      if (p.kind === 'person' && !p.userId) throw invalid(`${at}.userId`, 'is required for a person of the group');
      if (p.userId) {
        const user = people.get(p.userId);
        if (!user || user.status !== 'active') throw notFound('user_not_found', p.userId);
        if (p.kind === 'person') name = user.name;
      }
    } else {
      if (!p.name) throw invalid(`${at}.name`, 'is required for someone outside the group');
      if (p.kind === 'outside_org' && !p.orgName) throw invalid(`${at}.orgName`, 'is required for an organisation');
      if (p.role !== 'cc' && !p.phone && !p.email)
        throw invalid(`${at}.phone`, 'or an e-mail is required: the invitation and the code go there');
      if (p.role === 'approver') throw invalid(`${at}.role`, 'approver must be a person of the group');
    }
    participants.push({
      id: newId(),
      position: index,
      step: p.step,
      role: p.role,
      kind: p.kind,
      companyId: p.kind === 'company' ? (p.companyId ?? null) : null,
      sealId: p.kind === 'company' ? (p.sealId ?? null) : null,
      userId: p.userId ?? null,
      name,
      orgName: p.orgName ?? null,
      phone: p.phone ?? null,
      email: p.email ?? null,
    });
  }
  if (!participants.some((p) => p.role === 'signer'))
    throw invalid('body.participants', 'must include at least one signer');

  const fields: Array<Omit<repo.FieldRecord, 'value'>> = [];
  for (const [index, f] of input.fields.entries()) {
    const at = `body.fields.${index}`;
    const owner = participants[f.participant];
    if (!owner) throw invalid(`${at}.participant`, `must be an index into participants (0–${participants.length - 1})`);
    if (owner.role !== 'signer') throw invalid(`${at}.participant`, 'must be a signer: only signers fill fields');
    // A company seals and may fill in values (a date beside its seal); a person signs and fills in.
    if (owner.kind === 'company' ? f.type === 'signature' : SEAL_FIELDS.has(f.type))
      throw invalid(
        `${at}.type`,
        owner.kind === 'company'
          ? 'must be a seal or value field for a company'
          : 'cannot be a seal field for a person',
      );
    if (f.type !== 'cross_page_seal') {
      if (!f.rect && !f.keyword) throw invalid(`${at}.rect`, 'or a keyword is required to place the field');
      if (f.rect && f.keyword) throw invalid(`${at}.keyword`, 'place a field by rect or by keyword, not both');
    }
    if (f.page !== undefined && f.page > pages.count)
      throw invalid(`${at}.page`, `must be at most ${pages.count}: the document has ${pages.count} pages`);
    if (f.rect) {
      if (f.page === undefined) throw invalid(`${at}.page`, 'is required with a rect');
      const box = (pages.pages[f.page - 1] ?? pages.last).box;
      const [x, y, w, h] = f.rect;
      if (x < box[0] || y < box[1] || x + w > box[0] + box[2] || y + h > box[1] + box[3])
        throw invalid(
          `${at}.rect`,
          `must lie on the page (${box[2].toFixed(0)} × ${box[3].toFixed(0)} points from ${box[0]}, ${box[1]})`,
        );
    }
    fields.push({
      id: newId(),
      participantId: owner.id,
      type: f.type,
      page: f.page ?? null,
      rect: f.rect ?? null,
      keyword: f.keyword ?? null,
      label: f.label ?? null,
      required: f.required,
    });
  }

  const requiredByPolicy = await secondFactorRequired(ctx, { groupId, companyPath: company.path });
  const id = newId();
  const now = ctx.now();
  // One statement (the rows and the audit event together), so atomic without a transaction.
  await new WriteBatch()
    .add(
      repo.contractInsert(ctx.db, {
        id,
        groupId,
        companyId,
        title: input.title,
        category: input.category,
        number: input.number ?? null,
        effectiveOn: input.effectiveOn ?? null,
        expiresOn: input.expiresOn ?? null,
        sourceSha256: document.sha256,
        templateVersionId,
        values: input.template ? input.template.values : null,
        deadline: input.deadline ?? null,
        remindEveryDays: input.remindEveryDays ?? null,
        createdBy,
        at: now,
        // The sender's choice, or the policy of the sending company or one above it.
        requireSecondFactor: input.requireSecondFactor || requiredByPolicy,
        identityCheck: input.identityCheck ?? null,
      }),
      repo.participantsInsert(ctx.db, groupId, id, participants),
      repo.fieldsInsert(ctx.db, groupId, id, fields),
    )
    .run(
      ctx.db,
      auditAppendStatement({
        groupId,
        actor,
        at: now,
        events: [
          {
            action: 'contract.created',
            target: { type: 'contract', id },
            companyId,
            changes: {
              title: input.title,
              sourceSha256: document.sha256,
              templateVersionId,
              participants: participants.length,
            },
          },
        ],
      }),
    );
  // The answer is the draft as written, as a read would show it (a seal not read here: read it).
  if (participants.some((p) => p.sealId && !sealImages.has(p.sealId))) return getContract(ctx, actor, id);
  return view({
    contract: {
      id,
      groupId,
      companyId,
      companyName: company.name,
      companyPath: company.path,
      title: input.title,
      category: input.category,
      number: input.number ?? null,
      effectiveOn: input.effectiveOn ?? null,
      expiresOn: input.expiresOn ?? null,
      status: 'draft',
      sourceSha256: document.sha256,
      currentSha256: document.sha256,
      currentStep: 0,
      deadline: input.deadline ?? null,
      remindEveryDays: input.remindEveryDays ?? null,
      createdBy,
      createdAt: now,
      sentAt: null,
      endedAt: null,
      endReason: null,
      voidOf: null,
      requireSecondFactor: input.requireSecondFactor || requiredByPolicy,
      identityCheck: input.identityCheck ?? null,
    },
    participants: participants.map((p) => ({
      ...p,
      contractId: id,
      sealImageSha256: p.sealId ? (sealImages.get(p.sealId) ?? null) : null,
      status: 'waiting' as const,
      actedAt: null,
      reason: null,
    })),
    // In the order a read gives them (by id: lowercase hex, as uuid compares).
    fields: [...fields].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((f) => ({ ...f, value: null })),
  });
}

// ---------------------------------------------------------------- the flow

export interface Invitation {
  participantId: string;
  name: string;
  path: string;
  expiresAt: Date;
}

/**
 * Opens the lowest step with participants still to act: its signers and approvers become active,
 * outside ones get a link (by SMS or e-mail, and in the answer for the sender), people of the
 * group a notice. With none left, the contract is complete. Runs under the contract's lock; its
 * writes join the caller's `writes` (sent when the caller flushes them), or are sent at its end.
 */
async function openNextStep(
  ctx: AppContext,
  trx: Transaction,
  actor: AuditActor,
  contract: repo.ContractRecord,
  known: { participants?: repo.ParticipantRecord[]; currentSha256?: string; writes?: FlowWrites } = {},
): Promise<Invitation[]> {
  const writes = known.writes ?? new FlowWrites(contract.groupId, actor);
  const invitations = await openNextStepInto(ctx, trx, actor, contract, { ...known, writes });
  if (!known.writes) await writes.flush(trx);
  return invitations;
}

async function openNextStepInto(
  ctx: AppContext,
  trx: Transaction,
  actor: AuditActor,
  contract: repo.ContractRecord,
  known: { participants?: repo.ParticipantRecord[]; currentSha256?: string; writes: FlowWrites },
): Promise<Invitation[]> {
  const { writes } = known;
  let read = known.participants;
  if (!read) {
    const found = await repo.findParticipantsWithPeople(trx, contract.id);
    writes.knowPeople(found.people);
    read = found.participants;
  }
  const participants = writes.applyTo(read);
  const acting = participants.filter((p) => p.role === 'signer' || p.role === 'approver');
  const now = ctx.now();
  const pending = acting.filter((p) => p.status !== 'done');
  if (pending.length === 0) {
    const outputSha256 =
      known.currentSha256 ??
      (await repo.lockContract(trx, { groupId: contract.groupId, id: contract.id }))?.currentSha256 ??
      contract.currentSha256;
    writes.patchContract(contract.id, { status: 'completed', endedAt: now });
    await scheduleCompleted(trx, contract);
    writes.event(contractEvent(ctx, contract, { type: 'document.completed', status: 'completed' }));
    writes.audit(now, {
      action: 'contract.completed',
      target: { type: 'contract', id: contract.id },
      companyId: contract.companyId,
      changes: { outputSha256 },
    });
    const told = participants.filter((p) => p.userId && p.role !== 'receiver').map((p) => p.userId!);
    if (told.length > 0)
      writes.notify({
        groupId: contract.groupId,
        userIds: [...told, contract.createdBy],
        kind: 'contract.completed',
        params: { title: contract.title },
        link: `/contracts/${contract.id}`,
        channels: ['inbox'],
        at: now,
      });
    await deliverToReceivers(ctx, trx, contract, participants, writes);
    if (contract.voidOf) {
      // The original's writes and events come after this agreement's.
      await writes.flush(trx);
      await voidOriginal(ctx, trx, actor, contract, outputSha256);
    }
    return [];
  }
  const step = Math.min(...pending.map((p) => p.step));
  const opening = pending.filter((p) => p.step === step && p.status === 'waiting');
  writes.patchContract(contract.id, { currentStep: step });
  const invitations: Invitation[] = [];
  for (const p of opening) {
    writes.patchParticipant(p.id, { status: 'active' });
    if (p.userId) {
      writes.notify({
        groupId: contract.groupId,
        userIds: [p.userId],
        kind: p.role === 'approver' ? 'contract.approval_requested' : 'contract.signature_requested',
        params: { title: contract.title },
        link: `/contracts/${contract.id}`,
        channels: ['inbox', 'email'],
        off: channelsOff(ctx),
        at: now,
      });
    } else {
      invitations.push(await inviteOutsider(ctx, trx, actor, contract, p, writes));
    }
  }
  writes.audit(now, {
    action: 'contract.step_opened',
    target: { type: 'contract', id: contract.id },
    companyId: contract.companyId,
    changes: { step },
  });
  return invitations;
}

/** A single-use, expiring link for an outside participant, sent to their phone or e-mail. */
export async function inviteOutsider(
  ctx: AppContext,
  trx: Transaction,
  actor: AuditActor,
  contract: repo.ContractRecord,
  participant: repo.ParticipantRecord,
  writes?: FlowWrites,
): Promise<Invitation> {
  const token = randomBytes(32).toString('base64url');
  const now = ctx.now();
  const expiresAt = new Date(now.getTime() + LINK_DAYS * 86_400_000);
  await repo.insertLink(trx, {
    id: newId(),
    groupId: contract.groupId,
    contractId: contract.id,
    participantId: participant.id,
    tokenHash: hashToken(token),
    expiresAt,
  });
  const path = `/sign/${token}`;
  const text = `${contract.companyName} 邀请您签署《${contract.title}》，请在 ${LINK_DAYS} 天内打开链接完成签署。`;
  if (participant.phone || participant.email)
    await messageOutsider(trx, {
      groupId: contract.groupId,
      kind: 'contract.invitation',
      channel: participant.phone ? 'sms' : 'email',
      to: (participant.phone ?? participant.email)!,
      subject: `请签署《${contract.title}》`,
      text,
      link: path,
      locale: 'zh-CN',
      at: now,
    });
  const event: AuditEvent = {
    action: 'contract.link_issued',
    target: { type: 'contract', id: contract.id },
    companyId: contract.companyId,
    changes: { participantId: participant.id, expiresAt: expiresAt.toISOString() },
  };
  if (writes) writes.audit(now, event);
  else await recordAudit(trx, { groupId: contract.groupId, actor, at: now, event });
  return { participantId: participant.id, name: participant.name, path, expiresAt };
}

function assertSender(actor: Actor, contract: repo.ContractRecord): void {
  if (contract.createdBy !== actor.principal.id && !canReadAll(actor.principal, contract.companyPath))
    throw new AppError('forbidden', 'Only the sender of this contract may do that.');
}

export async function sendContract(ctx: AppContext, actor: Actor, id: string) {
  const loaded = await getVisibleContract(ctx, actor, id);
  assertSender(actor, loaded.contract);
  return ctx.db.transaction().execute((trx) => sendDraft(ctx, trx, actor, loaded));
}

/**
 * Sends a draft in the caller's transaction, under the contract's lock: its first step opens (the
 * outside signers' invitations are answered once). A void agreement is made and sent in one.
 */
export async function sendDraft(ctx: AppContext, trx: Transaction, actor: Actor, loaded: Loaded) {
  const { contract, participants } = loaded;
  const id = contract.id;
  // A check nobody can run would leave its outside signers stuck: refused before anyone is asked.
  if (contract.identityCheck && participants.some((p) => p.role === 'signer' && !p.userId))
    providerFor(ctx, contract.identityCheck);
  const writes = new FlowWrites(contract.groupId, actor);
  const locked = await repo.lockContract(trx, { groupId: contract.groupId, id });
  if (locked?.status !== 'draft')
    throw new AppError('contract_state', `The contract is ${locked?.status ?? 'gone'}; only a draft can be sent.`, {
      contractStatus: locked?.status ?? 'gone',
    });
  const now = ctx.now();
  writes.patchContract(id, { status: 'sent', sentAt: now });
  await scheduleSent(ctx, trx, contract);
  writes.event(contractEvent(ctx, contract, { type: 'document.sent', status: 'sent' }));
  writes.audit(now, {
    action: 'contract.sent',
    target: { type: 'contract', id },
    companyId: contract.companyId,
    changes: { step: 1 },
  });
  await notifyCopied(ctx, trx, contract, participants, writes);
  const invitations = await openNextStep(ctx, trx, actor, contract, { writes });
  await writes.flush(trx);
  // The contract as the transaction leaves it, as a re-read would show it.
  return { contract: view(writes.settle(loaded)), invitations };
}

/** The participant the caller acts as now: active, in the open step, and theirs. */
function actingParticipant(loaded: Loaded, userId: string, role: 'signer' | 'approver') {
  const mine = loaded.participants.filter((p) => p.userId === userId && p.role === role);
  if (mine.length === 0)
    throw new AppError('forbidden', `You are not a${role === 'approver' ? 'n approver' : ' signer'} of this contract.`);
  const active = mine.find((p) => p.status === 'active');
  if (!active) {
    const waiting = mine.find((p) => p.status === 'waiting');
    throw new AppError(
      'contract_out_of_order',
      waiting
        ? `It is not your turn yet: step ${waiting.step} opens after step ${loaded.contract.currentStep} is done.`
        : 'You have already acted on this contract.',
      { step: waiting?.step ?? null, currentStep: loaded.contract.currentStep },
    );
  }
  return active;
}

function assertOpen(status: repo.ContractRecord['status']): void {
  if (status !== 'sent' && status !== 'signing')
    throw new AppError('contract_state', `The contract is ${status}; nobody can act on it now.`, {
      contractStatus: status,
    });
}

/**
 * After a participant is done (under the contract's lock): the step closes when all of it is
 * done, and the next opens (or the contract completes).
 */
async function afterParticipant(
  ctx: AppContext,
  trx: Transaction,
  actor: AuditActor,
  contract: repo.ContractRecord,
  known: { currentSha256?: string; writes?: FlowWrites } = {},
): Promise<Invitation[]> {
  // Read under the lock: a participant of the same step who finished a moment ago is seen, and
  // this one as the caller's writes (not yet sent) leave it.
  const { participants: read, people } = await repo.findParticipantsWithPeople(trx, contract.id);
  const participants = known.writes ? known.writes.applyTo(read) : read;
  known.writes?.knowPeople(people);
  const stepOpen = participants.some(
    (p) => (p.role === 'signer' || p.role === 'approver') && p.step === contract.currentStep && p.status !== 'done',
  );
  if (stepOpen) return [];
  if (known.writes) return openNextStep(ctx, trx, actor, contract, { ...known, participants });
  const writes = new FlowWrites(contract.groupId, actor).knowPeople(people);
  const invitations = await openNextStep(ctx, trx, actor, contract, { ...known, participants, writes });
  await writes.flush(trx);
  return invitations;
}

/**
 * An internal participant signs: a company's seal fields each become a signature under a grant
 * (the contract's category) or an approved application naming the contract's PDF, checked and
 * counted in the signing transaction, which also takes the contract's lock and refuses when
 * another signature changed the PDF meanwhile; a person signs with their own certificate.
 */
export async function signContract(ctx: AppContext, actor: Actor, id: string, input: ContractSignInput) {
  const userId = requireUser(actor.principal);
  const loaded = await getVisibleContract(ctx, actor, id);
  const { contract } = loaded;
  assertOpen(contract.status);
  const participant = actingParticipant(loaded, userId, 'signer');
  const mine = loaded.fields.filter((f) => f.participantId === participant.id);
  const values = new Map(input.fields.map((f) => [f.id, f.value]));
  for (const id of values.keys())
    if (!mine.some((f) => f.id === id && !SEAL_FIELDS.has(f.type) && f.type !== 'signature'))
      throw invalid('body.fields', `names ${id}, which is not one of your value fields`);
  for (const f of mine)
    if (f.required && ['date', 'text', 'checkbox'].includes(f.type) && !values.has(f.id))
      throw invalid('body.fields', `must give a value for the field ${f.label ?? f.id}`);

  checkFieldValues(mine, values);
  // Once the input is good, before anything is signed: a wrong code is counted in its own
  // transaction (committed although the answer is an error), and a right one is spent.
  const { secondFactor } = await confirmSigningFactor(ctx, {
    userId,
    code: input.totp,
    required: contract.requireSecondFactor,
  });
  const stamps = await valueStamps(mine, values, participant.name);
  const signatures = participant.kind === 'company' ? mine.filter((f) => SEAL_FIELDS.has(f.type)) : [];
  const steps: Array<SignInput> = signatures.length
    ? signatures.map((f) => sealInput(contract, participant, f, input))
    : [
        {
          documentSha256: contract.currentSha256,
          level: 'B-T',
          reason: `签署《${contract.title}》`,
          ...(participant.sealId ? { sealId: participant.sealId, ...authority(contract, input) } : {}),
        },
      ];
  // The signer may read the contract's PDF as its participant whose turn it is (checked above);
  // each version is the contract's current one, which the signing transaction checks again
  // under the contract's lock. Named as its original was uploaded.
  let lastWrites: FlowWrites | undefined;
  for (const [index, step] of steps.entries()) {
    // A second seal field signs the version the first one made.
    const currentSha256 =
      index === 0
        ? contract.currentSha256
        : (await repo.findContract(ctx.db, { groupId: contract.groupId, id }))!.currentSha256;
    const isLast = index === steps.length - 1;
    await signDocument(
      ctx,
      actor,
      { ...step, documentSha256: currentSha256 },
      {
        // The values go beside the first signature, which covers them.
        ...(index === 0 && stamps.length ? { stamps } : {}),
        document: {
          sha256: currentSha256,
          originalSha256: contract.sourceSha256,
          name: loaded.sourceName,
          format: 'pdf',
        },
        answer: false,
        alsoInTransaction: async (trx, signed) => {
          const locked = await repo.lockContract(trx, { groupId: contract.groupId, id });
          if (!locked) throw notFound('contract_not_found', id);
          assertOpen(locked.status);
          if (locked.currentSha256 !== signed.inputSha256)
            throw new AppError(
              'contract_changed',
              'Another participant signed this contract a moment ago; sign again on the new version.',
            );
          // Everything below is written in one statement at the end, under the lock just taken.
          const writes = new FlowWrites(contract.groupId, actor);
          lastWrites = writes;
          writes.patchContract(id, { currentSha256: signed.outputSha256, status: 'signing' });
          writes.add(
            repo.contractSignatureWrite(trx, {
              id: newId(),
              groupId: contract.groupId,
              contractId: id,
              participantId: participant.id,
              signatureId: signed.signatureId,
              certificateId: signed.certificateId,
              fieldName: signed.fieldName,
              inputSha256: signed.inputSha256,
              outputSha256: signed.outputSha256,
              signedAt: signed.signedAt,
            }),
          );
          writes.audit(signed.signedAt, {
            action: 'contract.signed',
            target: { type: 'contract', id },
            companyId: contract.companyId,
            changes: {
              participantId: participant.id,
              signatureId: signed.signatureId,
              certificateId: signed.certificateId,
              fieldName: signed.fieldName,
              inputSha256: signed.inputSha256,
              outputSha256: signed.outputSha256,
              secondFactor,
            },
          });
          if (isLast) {
            for (const [fieldId, value] of values) writes.fillField(trx, fieldId, value, signed.signedAt);
            writes.patchParticipant(participant.id, { status: 'done', actedAt: signed.signedAt, actedBy: userId });
            writes.event(
              contractEvent(ctx, contract, {
                type: 'document.signed',
                status: 'signing',
                participantId: participant.id,
              }),
            );
            await afterParticipant(
              ctx,
              trx,
              actor,
              { ...contract, currentStep: locked.currentStep },
              { currentSha256: signed.outputSha256, writes },
            );
          }
          await writes.flush(trx);
        },
      },
    );
  }
  // The contract as the last signature's transaction left it, as a re-read would show it.
  return lastWrites ? view(lastWrites.settle(loaded)) : getContract(ctx, actor, id);
}

function authority(contract: repo.ContractRecord, input: ContractSignInput): Partial<SignInput> {
  return input.authorizationId
    ? { authorizationId: input.authorizationId }
    : { category: input.category ?? contract.category };
}

function sealInput(
  contract: repo.ContractRecord,
  participant: repo.ParticipantRecord,
  field: repo.FieldRecord,
  input: ContractSignInput,
): SignInput {
  const base: SignInput = {
    documentSha256: contract.currentSha256,
    sealId: participant.sealId!,
    level: 'B-T',
    reason: `签署《${contract.title}》`,
    ...authority(contract, input),
  };
  if (field.type === 'cross_page_seal') return { ...base, crossPage: {} };
  if (field.rect) return { ...base, appearance: { type: 'rect', page: field.page ?? 1, rect: field.rect } };
  return {
    ...base,
    appearance: { type: 'keyword', keyword: field.keyword!, ...(field.page ? { page: field.page } : {}) },
  };
}

export async function approveContract(ctx: AppContext, actor: Actor, id: string) {
  const userId = requireUser(actor.principal);
  const loaded = await getVisibleContract(ctx, actor, id);
  await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.lockContract(trx, { groupId: loaded.contract.groupId, id });
    if (!locked) throw notFound('contract_not_found', id);
    assertOpen(locked.status);
    const fresh = { ...loaded, participants: await repo.findParticipants(trx, id) };
    const participant = actingParticipant(fresh, userId, 'approver');
    const now = ctx.now();
    await repo.updateParticipant(trx, participant.id, { status: 'done', actedAt: now, actedBy: userId });
    await recordAudit(trx, {
      groupId: loaded.contract.groupId,
      actor,
      at: now,
      event: {
        action: 'contract.approved',
        target: { type: 'contract', id },
        companyId: loaded.contract.companyId,
        changes: { participantId: participant.id },
      },
    });
    await afterParticipant(ctx, trx, actor, { ...loaded.contract, currentStep: locked.currentStep });
  });
  return getContract(ctx, actor, id);
}

/** A signer or approver refuses: the contract ends as rejected, with the reason, for everyone. */
export async function rejectContract(ctx: AppContext, actor: Actor, id: string, reason: string) {
  const userId = requireUser(actor.principal);
  const loaded = await getVisibleContract(ctx, actor, id);
  await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.lockContract(trx, { groupId: loaded.contract.groupId, id });
    if (!locked) throw notFound('contract_not_found', id);
    assertOpen(locked.status);
    const participants = await repo.findParticipants(trx, id);
    const participant = participants.find(
      (p) => p.userId === userId && p.status === 'active' && (p.role === 'signer' || p.role === 'approver'),
    );
    if (!participant) throw new AppError('forbidden', 'Only a signer or approver whose turn it is may reject.');
    await endRejected(ctx, trx, actor, loaded.contract, participant.id, reason, userId);
  });
  return getContract(ctx, actor, id);
}

export async function endRejected(
  ctx: AppContext,
  trx: Transaction,
  actor: AuditActor,
  contract: repo.ContractRecord,
  participantId: string,
  reason: string,
  actedBy: string | null,
): Promise<void> {
  const now = ctx.now();
  await repo.updateParticipant(trx, participantId, { status: 'rejected', actedAt: now, actedBy, reason });
  await repo.updateContract(trx, contract.id, { status: 'rejected', endedAt: now, endReason: reason });
  await emitContractEvent(ctx, trx, contract, { type: 'document.rejected', status: 'rejected', participantId });
  await repo.closeLinks(trx, { contractId: contract.id, at: now });
  await recordAudit(trx, {
    groupId: contract.groupId,
    actor,
    at: now,
    event: {
      action: 'contract.rejected',
      target: { type: 'contract', id: contract.id },
      companyId: contract.companyId,
      changes: { participantId, reason },
    },
  });
  await notify(trx, {
    groupId: contract.groupId,
    userIds: [contract.createdBy],
    kind: 'contract.rejected',
    params: { title: contract.title, reason },
    link: `/contracts/${contract.id}`,
    channels: ['inbox'],
    at: now,
  });
}

/** The sender withdraws a contract not yet complete; its links stop working at once. */
export async function voidContract(ctx: AppContext, actor: Actor, id: string, reason: string) {
  const { contract } = await getVisibleContract(ctx, actor, id);
  assertSender(actor, contract);
  await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.lockContract(trx, { groupId: contract.groupId, id });
    if (locked?.status === 'completed')
      throw new AppError(
        'contract_void_needs_agreement',
        'The contract is completed: only a void agreement (作废协议) signed by the same parties voids it. Start one with POST /contracts/{id}/void-agreement.',
        { contractStatus: 'completed' },
      );
    if (!locked || !['draft', 'sent', 'signing'].includes(locked.status))
      throw new AppError(
        'contract_state',
        `The contract is ${locked?.status ?? 'gone'}; only one not yet complete can be voided here.`,
        { contractStatus: locked?.status ?? 'gone' },
      );
    const now = ctx.now();
    await repo.updateContract(trx, id, { status: 'voided', endedAt: now, endReason: reason });
    await emitContractEvent(ctx, trx, contract, { type: 'document.voided', status: 'voided' });
    await repo.closeLinks(trx, { contractId: id, at: now });
    await recordAudit(trx, {
      groupId: contract.groupId,
      actor,
      at: now,
      event: {
        action: 'contract.voided',
        target: { type: 'contract', id },
        companyId: contract.companyId,
        changes: { reason },
      },
    });
  });
  return getContract(ctx, actor, id);
}

/** 催签: the sender reminds everyone whose turn it is (at most once an hour). */
export async function remindContract(ctx: AppContext, actor: Actor, id: string) {
  const { contract } = await getVisibleContract(ctx, actor, id);
  assertSender(actor, contract);
  const reminded = await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.lockContract(trx, { groupId: contract.groupId, id });
    if (!locked) throw notFound('contract_not_found', id);
    assertOpen(locked.status);
    const refused = tooSoon(locked.lastRemindedAt, ctx.now());
    if (refused) throw refused;
    return remindActive(ctx, trx, actor, contract, true);
  });
  return { reminded: reminded.length };
}

export { afterParticipant };

/** CC participants learn of the contract when it is sent: people of the group in the console, outside ones by SMS or e-mail. */
async function notifyCopied(
  ctx: AppContext,
  trx: Transaction,
  contract: repo.ContractRecord,
  participants: repo.ParticipantRecord[],
  writes: FlowWrites,
): Promise<void> {
  const copied = participants.filter((p) => p.role === 'cc');
  if (copied.length === 0) return;
  const now = ctx.now();
  const inside = copied.flatMap((p) => (p.userId ? [p.userId] : []));
  if (inside.length > 0)
    writes.notify({
      groupId: contract.groupId,
      userIds: inside,
      kind: 'contract.cc',
      params: { title: contract.title, companyName: contract.companyName },
      link: `/contracts/${contract.id}`,
      channels: ['inbox'],
      at: now,
    });
  for (const p of copied)
    if (!p.userId && (p.phone || p.email))
      await messageOutsider(trx, {
        groupId: contract.groupId,
        kind: 'contract.cc',
        channel: p.phone ? 'sms' : 'email',
        to: (p.phone ?? p.email)!,
        subject: `抄送：《${contract.title}》`,
        text: `${contract.companyName} 发起的《${contract.title}》已抄送给您，现已开始签署。`,
        link: null,
        locale: 'zh-CN',
        at: now,
      });
  writes.audit(now, {
    action: 'contract.cc_notified',
    target: { type: 'contract', id: contract.id },
    companyId: contract.companyId,
    changes: { participantIds: copied.map((p) => p.id) },
  });
}

/** How long a receiver's download link stays open. */
export const DOWNLOAD_LINK_DAYS = 30;

/**
 * Receivers get the completed contract: people of the group a notice (they read it as participants),
 * outside ones a download link by SMS or e-mail, good for DOWNLOAD_LINK_DAYS until the contract
 * is voided.
 */
async function deliverToReceivers(
  ctx: AppContext,
  trx: Transaction,
  contract: repo.ContractRecord,
  participants: repo.ParticipantRecord[],
  writes: FlowWrites,
): Promise<void> {
  const receivers = participants.filter((p) => p.role === 'receiver');
  if (receivers.length === 0) return;
  const now = ctx.now();
  const inside = receivers.flatMap((p) => (p.userId ? [p.userId] : []));
  if (inside.length > 0)
    writes.notify({
      groupId: contract.groupId,
      userIds: inside,
      kind: 'contract.received',
      params: { title: contract.title },
      link: `/contracts/${contract.id}`,
      channels: ['inbox', 'email'],
      off: channelsOff(ctx),
      at: now,
    });
  for (const p of receivers) {
    if (p.userId || !(p.phone || p.email)) continue;
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + DOWNLOAD_LINK_DAYS * 86_400_000);
    await repo.insertLink(trx, {
      id: newId(),
      groupId: contract.groupId,
      contractId: contract.id,
      participantId: p.id,
      tokenHash: hashToken(token),
      expiresAt,
      purpose: 'download',
    });
    const path = `/api/v1/signing/${token}/document`;
    await messageOutsider(trx, {
      groupId: contract.groupId,
      kind: 'contract.received',
      channel: p.phone ? 'sms' : 'email',
      to: (p.phone ?? p.email)!,
      subject: `《${contract.title}》已签署完成`,
      text: `${contract.companyName} 发起的《${contract.title}》已签署完成，请在 ${DOWNLOAD_LINK_DAYS} 天内通过链接下载。`,
      link: path,
      locale: 'zh-CN',
      at: now,
    });
    writes.audit(now, {
      action: 'contract.receiver_link_issued',
      target: { type: 'contract', id: contract.id },
      companyId: contract.companyId,
      changes: { participantId: p.id, expiresAt: expiresAt.toISOString() },
    });
  }
}

export { getVisibleContract, assertSender, invalid };
