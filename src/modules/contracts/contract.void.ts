// Voiding a completed contract (作废协议): a signed contract is not withdrawn by one side. A party
// starts a void agreement, a short contract naming the original (title, number, the SHA-256 of
// its signed PDF) signed by the same participants with the same seals in the same steps; only
// when that agreement completes does the original become voided. A rejected, voided or expired
// agreement leaves the original completed, and a new one may be started.
import { newId } from '../../lib/ids.js';
import type { Transaction } from '../../db/schema.js';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { storeBlob } from '../../blobs/blob.service.js';
import { renderTemplate, TemplateError, type TemplateSource } from '../../templates/index.js';
import { requireUser, type Actor } from '../access/index.js';
import { recordAudit, type AuditActor } from '../audit/index.js';
import * as repo from './contract.repository.js';
import { providerFor } from './contract.identity.js';
import { emitContractEvent, getVisibleContract, invalid, sendDraft } from './contract.service.js';

/** The keyword of the n-th signer's line in the agreement, where their seal or signature lands. */
const partyKeyword = (n: number, company: boolean) => `第${n}方（${company ? '盖章' : '签字'}）`;

/** The agreement's text: the original named by title, number and hash; one line per signer. */
function agreementSource(signers: repo.ParticipantRecord[]): TemplateSource {
  const variables: TemplateSource['variables'] = [
    { name: 'title', label: '原合同名称', type: 'text' },
    { name: 'number', label: '原合同编号', type: 'text' },
    { name: 'sha256', label: '原合同文件 SHA-256', type: 'text' },
    { name: 'completedAt', label: '原合同签署完成时间', type: 'text' },
    { name: 'reason', label: '作废原因', type: 'text' },
    ...signers.map((_, i) => ({ name: `party${i + 1}`, label: `第${i + 1}方`, type: 'text' as const })),
  ];
  const lines = [
    '# 作废协议',
    '',
    '原合同名称：{{title}}',
    '原合同编号：{{number}}',
    '原合同文件 SHA-256：',
    '{{sha256}}',
    '原合同签署完成时间：{{completedAt}}',
    '',
    '## 第一条 作废事项',
    '原合同各签署方一致同意：自本协议经各方签署完成之时起，上述原合同作废，各方不再依据原合同享有权利、承担义务。',
    '',
    '## 第二条 作废原因',
    '{{reason}}',
    '',
    '## 第三条 其他',
    '本协议由原合同的全部签署方以电子签名签署，各方签署完成后生效。',
    '',
    '（以下无正文）',
    '',
    ...signers.map((p, i) => `${partyKeyword(i + 1, p.kind === 'company')}：{{party${i + 1}}}`),
  ];
  return { title: '作废协议', variables, body: lines.join('\n') };
}

/**
 * A party of a completed contract starts its void agreement, which is sent at once to the same
 * participants. Refused for someone who took no part, for a contract not completed, for a void
 * agreement itself, and while another agreement for the same contract is under way.
 */
export async function startVoidAgreement(ctx: AppContext, actor: Actor, id: string, reason: string) {
  const userId = requireUser(actor.principal);
  const { contract, participants } = await getVisibleContract(ctx, actor, id);
  const isParty =
    contract.createdBy === userId ||
    participants.some((p) => p.userId === userId && (p.role === 'signer' || p.role === 'approver'));
  if (!isParty)
    throw new AppError('forbidden', 'Only the sender or a signer of this contract may start its void agreement.');
  if (contract.status !== 'completed')
    throw new AppError(
      'contract_state',
      `The contract is ${contract.status}; a void agreement voids a completed contract only (withdraw one not yet complete with POST /contracts/{id}/void).`,
      { contractStatus: contract.status },
    );
  if (contract.voidOf)
    throw new AppError('contract_state', 'This is a void agreement itself; it cannot be voided by another.', {
      contractStatus: contract.status,
    });
  const signers = participants.filter((p) => p.role === 'signer');
  // Sending would refuse it: refused before an agreement is made that nobody could send.
  if (contract.identityCheck && signers.some((p) => !p.userId)) providerFor(ctx, contract.identityCheck);
  const now = ctx.now();
  const values = {
    title: contract.title,
    number: contract.number ?? '（无）',
    sha256: contract.currentSha256,
    completedAt: (contract.endedAt ?? now).toISOString(),
    reason,
    ...Object.fromEntries(signers.map((p, i) => [`party${i + 1}`, p.orgName ? `${p.orgName} ${p.name}` : p.name])),
  };
  let pdf: Buffer;
  try {
    pdf = (await renderTemplate(agreementSource(signers), values, { now })).pdf;
  } catch (error) {
    if (error instanceof TemplateError)
      throw invalid('body.reason', 'cannot be printed in the agreement', error.message);
    throw error;
  }
  const agreementId = newId();
  return ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.lockContract(trx, { groupId: contract.groupId, id });
    if (locked?.status !== 'completed')
      throw new AppError('contract_state', `The contract is ${locked?.status ?? 'gone'}.`, {
        contractStatus: locked?.status ?? 'gone',
      });
    const live = await repo.findVoidAgreement(trx, { groupId: contract.groupId, contractId: id });
    if (live)
      throw new AppError(
        'void_agreement_exists',
        `A void agreement for this contract is already ${live.status}; it must end before another is started.`,
        { agreementId: live.id },
      );
    const stored = await storeBlob(trx, ctx.blobs, {
      groupId: contract.groupId,
      bytes: pdf,
      mediaType: 'application/pdf',
      originalName: `${contract.title}-作废协议.pdf`,
      createdBy: userId,
      at: now,
    });
    await repo.insertContract(trx, {
      id: agreementId,
      groupId: contract.groupId,
      companyId: contract.companyId,
      title: `《${contract.title}》作废协议`,
      category: contract.category,
      number: null,
      effectiveOn: null,
      expiresOn: null,
      sourceSha256: stored.sha256,
      templateVersionId: null,
      values,
      deadline: null,
      remindEveryDays: contract.remindEveryDays,
      createdBy: userId,
      at: now,
      voidOf: id,
      requireSecondFactor: contract.requireSecondFactor,
      identityCheck: contract.identityCheck,
    });
    // The same participants, in the same steps and roles, with the same seals.
    const copies = participants.map((p) => ({
      id: newId(),
      position: p.position,
      step: p.step,
      role: p.role,
      kind: p.kind,
      companyId: p.companyId,
      sealId: p.sealId,
      userId: p.userId,
      name: p.name,
      orgName: p.orgName,
      phone: p.phone,
      email: p.email,
    }));
    await repo.insertParticipants(trx, contract.groupId, agreementId, copies);
    const copyOf = new Map(participants.map((p, i) => [p.id, copies[i]!.id]));
    await repo.insertFields(
      trx,
      contract.groupId,
      agreementId,
      signers.map((p, i) => ({
        id: newId(),
        participantId: copyOf.get(p.id)!,
        type: p.kind === 'company' ? ('company_seal' as const) : ('signature' as const),
        page: null,
        rect: null,
        keyword: partyKeyword(i + 1, p.kind === 'company'),
        label: null,
        required: true,
      })),
    );
    await recordAudit(trx, {
      groupId: contract.groupId,
      actor,
      at: now,
      event: {
        action: 'contract.created',
        target: { type: 'contract', id: agreementId },
        companyId: contract.companyId,
        changes: {
          title: `《${contract.title}》作废协议`,
          sourceSha256: stored.sha256,
          templateVersionId: null,
          participants: copies.length,
        },
      },
    });
    await recordAudit(trx, {
      groupId: contract.groupId,
      actor,
      at: now,
      event: {
        action: 'contract.void_agreement_started',
        target: { type: 'contract', id },
        companyId: contract.companyId,
        changes: { agreementId, reason },
      },
    });
    // Sent in the same transaction: a failed send leaves no draft behind to block the next attempt.
    const agreement = await repo.findContractWithParts(trx, { groupId: contract.groupId, id: agreementId });
    if (!agreement) throw new Error('the void agreement just made cannot be read');
    return sendDraft(ctx, trx, actor, agreement);
  });
}

/**
 * The void agreement `agreement` completed (in its completing transaction): its original becomes
 * voided, audited, and integrators are told.
 */
export async function voidOriginal(
  ctx: AppContext,
  trx: Transaction,
  actor: AuditActor,
  agreement: repo.ContractRecord,
  agreementSha256: string,
): Promise<void> {
  const original = await repo.findContract(trx, { groupId: agreement.groupId, id: agreement.voidOf! });
  const locked = original && (await repo.lockContract(trx, { groupId: original.groupId, id: original.id }));
  if (!original || locked?.status !== 'completed') return;
  const now = ctx.now();
  const reason = `由各方签署完成的作废协议作废（${agreement.id}）`;
  await repo.updateContract(trx, original.id, { status: 'voided', endedAt: now, endReason: reason });
  await repo.closeLinks(trx, { contractId: original.id, at: now });
  await emitContractEvent(ctx, trx, original, { type: 'document.voided', status: 'voided' });
  await recordAudit(trx, {
    groupId: original.groupId,
    actor,
    at: now,
    event: {
      action: 'contract.voided',
      target: { type: 'contract', id: original.id },
      companyId: original.companyId,
      changes: { reason, agreementId: agreement.id, agreementSha256 },
    },
  });
}
