import { z } from 'zod';
import type { Transaction } from '../../db/schema.js';
import { enqueueJob } from '../../jobs/job.queue.js';
import type { JobHandler } from '../../jobs/job.types.js';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { recordAudit, type AuditActor, type SystemActor } from '../audit/index.js';
import { notify } from '../notifications/index.js';
import * as repo from './contract.repository.js';
import { emitContractEvent, inviteOutsider } from './contract.service.js';

declare module '../../jobs/job.types.js' {
  interface JobPayloads {
    'contract.expire': { contractId: string };
    'contract.remind': { contractId: string };
    'contract.lapse_warning': { contractId: string };
  }
}

const system: SystemActor = { system: 'contract-deadlines' };
/** A signed contract's sender is told this long before it lapses. */
export const LAPSE_WARNING_DAYS = 30;
/** A manual reminder (催签) at most this often per contract. */
export const MANUAL_REMINDER_MS = 3600_000;

/** Schedules what a sent contract's dates ask for: its expiry and its first automatic reminder. */
export async function scheduleSent(
  ctx: AppContext,
  trx: Transaction,
  contract: { id: string; groupId: string; deadline: Date | null; remindEveryDays: number | null },
): Promise<void> {
  if (contract.deadline)
    await enqueueJob(trx, {
      kind: 'contract.expire',
      groupId: contract.groupId,
      runAt: contract.deadline,
      payload: { contractId: contract.id },
      dedupeKey: `contract.expire:${contract.id}`,
    });
  if (contract.remindEveryDays)
    await enqueueJob(trx, {
      kind: 'contract.remind',
      groupId: contract.groupId,
      runAt: new Date(ctx.now().getTime() + contract.remindEveryDays * 86_400_000),
      payload: { contractId: contract.id },
    });
}

/** A completed contract with an end date: its sender hears of it a month before. */
export async function scheduleCompleted(
  trx: Transaction,
  contract: { id: string; groupId: string; expiresOn: string | null },
): Promise<void> {
  if (!contract.expiresOn) return;
  const lapse = new Date(`${contract.expiresOn}T00:00:00+08:00`);
  await enqueueJob(trx, {
    kind: 'contract.lapse_warning',
    groupId: contract.groupId,
    runAt: new Date(lapse.getTime() - LAPSE_WARNING_DAYS * 86_400_000),
    payload: { contractId: contract.id },
    dedupeKey: `contract.lapse_warning:${contract.id}`,
  });
}

/**
 * Reminds everyone whose turn it is: people of the group by a notice, outside people by a fresh
 * link (their earlier one stays valid until it expires). Under the contract's lock.
 */
export async function remindActive(
  ctx: AppContext,
  trx: Transaction,
  actor: AuditActor,
  contract: repo.ContractRecord,
  manual: boolean,
): Promise<string[]> {
  const now = ctx.now();
  const active = (await repo.findParticipants(trx, contract.id)).filter((p) => p.status === 'active');
  const internal = active.filter((p) => p.userId).map((p) => p.userId!);
  if (internal.length > 0)
    await notify(trx, {
      groupId: contract.groupId,
      userIds: internal,
      kind: 'contract.signature_requested',
      params: { title: contract.title },
      link: `/contracts/${contract.id}`,
      channels: ['inbox', 'email'],
      at: now,
    });
  for (const p of active.filter((p) => !p.userId)) await inviteOutsider(ctx, trx, actor, contract, p);
  await repo.markReminded(trx, contract.id, now);
  await recordAudit(trx, {
    groupId: contract.groupId,
    actor,
    at: now,
    event: {
      action: 'contract.reminded',
      target: { type: 'contract', id: contract.id },
      companyId: contract.companyId,
      changes: { participantIds: active.map((p) => p.id), manual },
    },
  });
  return active.map((p) => p.id);
}

export function contractJobHandlers(ctx: AppContext): JobHandler[] {
  const expire: JobHandler<'contract.expire'> = {
    kind: 'contract.expire',
    payload: z.object({ contractId: z.string() }),
    async run(payload, job) {
      const groupId = job.groupId;
      if (!groupId) return { expired: false, reason: 'no group' };
      return ctx.db.transaction().execute(async (trx) => {
        const locked = await repo.lockContract(trx, { groupId, id: payload.contractId });
        const contract = await repo.findContract(trx, { groupId, id: payload.contractId });
        if (!locked || !contract) return { expired: false, reason: 'gone' };
        const now = ctx.now();
        if (locked.status !== 'sent' && locked.status !== 'signing') return { expired: false, reason: locked.status };
        if (!contract.deadline || contract.deadline > now) return { expired: false, reason: 'deadline moved' };
        await repo.updateContract(trx, contract.id, { status: 'expired', endedAt: now, endReason: 'deadline passed' });
        await repo.closeLinks(trx, { contractId: contract.id, at: now });
        await emitContractEvent(ctx, trx, contract, { type: 'document.expired', status: 'expired' });
        await recordAudit(trx, {
          groupId,
          actor: system,
          at: now,
          event: {
            action: 'contract.expired',
            target: { type: 'contract', id: contract.id },
            companyId: contract.companyId,
            changes: { deadline: contract.deadline.toISOString() },
          },
        });
        await notify(trx, {
          groupId,
          userIds: [contract.createdBy],
          kind: 'contract.expired',
          params: { title: contract.title },
          link: `/contracts/${contract.id}`,
          channels: ['inbox', 'email'],
          at: now,
        });
        return { expired: true };
      });
    },
  };
  const remind: JobHandler<'contract.remind'> = {
    kind: 'contract.remind',
    payload: z.object({ contractId: z.string() }),
    async run(payload, job) {
      const groupId = job.groupId;
      if (!groupId) return { reminded: false, reason: 'no group' };
      return ctx.db.transaction().execute(async (trx) => {
        const locked = await repo.lockContract(trx, { groupId, id: payload.contractId });
        const contract = await repo.findContract(trx, { groupId, id: payload.contractId });
        if (!locked || !contract) return { reminded: false, reason: 'gone' };
        if (locked.status !== 'sent' && locked.status !== 'signing') return { reminded: false, reason: locked.status };
        const reminded = await remindActive(ctx, trx, system, contract, false);
        const every = locked.remindEveryDays;
        if (every)
          await enqueueJob(trx, {
            kind: 'contract.remind',
            groupId,
            runAt: new Date(ctx.now().getTime() + every * 86_400_000),
            payload: { contractId: contract.id },
          });
        return { reminded: reminded.length };
      });
    },
  };
  const lapse: JobHandler<'contract.lapse_warning'> = {
    kind: 'contract.lapse_warning',
    payload: z.object({ contractId: z.string() }),
    async run(payload, job) {
      const groupId = job.groupId;
      if (!groupId) return { warned: false, reason: 'no group' };
      const contract = await repo.findContract(ctx.db, { groupId, id: payload.contractId });
      if (contract?.status !== 'completed' || !contract.expiresOn) return { warned: false, reason: 'not in force' };
      await ctx.db.transaction().execute((trx) =>
        notify(trx, {
          groupId,
          userIds: [contract.createdBy],
          kind: 'contract.lapsing',
          params: { title: contract.title, expiresOn: contract.expiresOn! },
          link: `/contracts/${contract.id}`,
          channels: ['inbox', 'email'],
          at: ctx.now(),
        }),
      );
      return { warned: true };
    },
  };
  return [expire, remind, lapse];
}

export function tooSoon(lastRemindedAt: Date | null, now: Date): AppError | null {
  if (!lastRemindedAt || now.getTime() - lastRemindedAt.getTime() >= MANUAL_REMINDER_MS) return null;
  return new AppError('rate_limited', 'A reminder went out less than an hour ago; wait before sending another.', {
    retryAfterSeconds: Math.ceil((MANUAL_REMINDER_MS - (now.getTime() - lastRemindedAt.getTime())) / 1000),
  });
}
