import type { FlowPurpose, LifecycleAction, Transaction } from '../../db/schema.js';
import type { AppContext } from '../../server/context.js';
import type { AuditActor } from '../audit/index.js';
import { applySodChange } from '../groups/index.js';
import { applyLifecycleStep } from '../seals/index.js';

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

/**
 * The effect of approving an application of this purpose, if it has one; seal use has none (its
 * outcome is authorizations). Looked up when called, not kept in a table built as the module
 * loads: the modules that own the effects use approvals too.
 */
export function approvalEffectOf(purpose: FlowPurpose): ApprovalEffect | undefined {
  switch (purpose) {
    case 'lifecycle':
      return applyLifecycleStep;
    case 'sod_change':
      return applySodChange;
    default:
      return undefined;
  }
}
