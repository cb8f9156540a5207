import type { FlowPurpose, LifecycleAction, Transaction } from '../../db/schema.js';
import type { AppContext } from '../../server/context.js';
import type { AuditActor } from '../audit/audit.service.js';
import { applySodChange } from '../groups/sod-change.service.js';
import { applyLifecycleStep } from '../seals/seal-lifecycle.effects.js';

/**
 * What the last approval of an application does beyond giving authorizations, in the approving
 * transaction: it changes something else (a seal, the group's separation of duties), so such an
 * application is decided under its lock. A refusal (an AppError) undoes the approval with it.
 */
export type ApprovalEffect = (
  ctx: Pick<AppContext, 'mailer' | 'sms'>,
  trx: Transaction,
  q: {
    groupId: string;
    actor: AuditActor;
    application: { id: string; lifecycleAction: LifecycleAction | null; payload: Record<string, unknown> };
    at: Date;
  },
) => Promise<void>;

/** The purposes whose approval has an effect, each with it; seal use has none (its outcome is authorizations). */
export const approvalEffects: Partial<Record<FlowPurpose, ApprovalEffect>> = {
  lifecycle: applyLifecycleStep,
  sod_change: applySodChange,
};
