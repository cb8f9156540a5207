// A company's signing policy for contracts: whether every internal signer gives a second factor
// (an authenticator code) when signing the contracts it, or any company below it, sends. A policy
// is set by whoever holds settings.write over the company; a company below cannot loosen it. It is
// read when a contract is made and kept on the contract, so a change applies to new contracts.
import type { AppContext } from '../../server/context.js';
import { notFound } from '../../server/errors.js';
import { assertWithin, isWithin, requireUser, scopeOf, type Actor } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import { findCompany } from '../companies/index.js';
import * as repo from './contract.repository.js';

/** Whether a policy on this company or one above it asks for a second factor at signing. */
export async function secondFactorRequired(ctx: AppContext, q: { groupId: string; companyPath: string }) {
  return (await repo.findPolicies(ctx.db, q)).some((p) => p.requireSecondFactor);
}

async function companyFor(ctx: AppContext, actor: Actor, companyId: string) {
  const company = await findCompany(ctx.db, { groupId: actor.principal.groupId, id: companyId });
  // Those who may not even read the organisation learn nothing of the company.
  let readable = false;
  try {
    readable = isWithin(scopeOf(actor.principal, 'org.read'), company?.path ?? '\u0000');
  } catch {
    readable = false;
  }
  if (!company || !readable) throw notFound('company_not_found', companyId);
  return company;
}

export async function getPolicy(ctx: AppContext, actor: Actor, companyId: string) {
  const company = await companyFor(ctx, actor, companyId);
  const policies = await repo.findPolicies(ctx.db, { groupId: actor.principal.groupId, companyPath: company.path });
  const own = policies.find((p) => p.companyId === company.id);
  const from = policies.find((p) => p.requireSecondFactor);
  return {
    companyId: company.id,
    requireSecondFactor: own?.requireSecondFactor ?? false,
    effective: {
      requireSecondFactor: Boolean(from),
      setBy: from ? { id: from.companyId, name: from.companyName } : null,
    },
  };
}

export async function setPolicy(
  ctx: AppContext,
  actor: Actor,
  companyId: string,
  input: { requireSecondFactor: boolean },
) {
  const userId = requireUser(actor.principal);
  const company = await companyFor(ctx, actor, companyId);
  assertWithin(actor.principal, 'settings.write', company.path);
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    await repo.upsertPolicy(trx, {
      companyId: company.id,
      groupId: actor.principal.groupId,
      requireSecondFactor: input.requireSecondFactor,
      updatedBy: userId,
      at: now,
    });
    await recordAudit(trx, {
      groupId: actor.principal.groupId,
      actor,
      at: now,
      event: {
        action: 'contract.policy_changed',
        target: { type: 'company', id: company.id },
        companyId: company.id,
        changes: { requireSecondFactor: input.requireSecondFactor },
      },
    });
  });
  return getPolicy(ctx, actor, companyId);
}
