import type { Transaction } from '../../db/schema.js';
import type { AppContext } from '../../server/context.js';
import * as repo from './approval.repository.js';
import { tell } from './approval.notices.js';
import { emitEvents } from '../../outbox/events.js';

export type ClosingStep = 'suspend' | 'report_loss' | 'destroy';

const happened: Record<ClosingStep, string> = {
  suspend: 'was suspended',
  report_loss: 'was reported lost',
  destroy: 'was destroyed',
};

/**
 * What a seal leaving use does to the seal-use applications still waiting for it, in the
 * lifecycle step's transaction: each is closed with the reason, its pending tasks are cancelled
 * and its applicant is told. Their version moves, so an approval read before the step cannot be
 * written after it (the decision's guard fails and it is decided again on what is there then).
 * Answers the ids closed, for the step's audit event.
 */
export async function closeSealUseApplications(
  ctx: Pick<AppContext, 'mailer' | 'sms'>,
  trx: Transaction,
  q: {
    groupId: string;
    seal: { id: string; name: string };
    step: ClosingStep;
    lifecycleApplicationId: string;
    at: Date;
  },
): Promise<string[]> {
  const reason = `${q.seal.name} ${happened[q.step]} (lifecycle application ${q.lifecycleApplicationId}) while this application waited; it can no longer be approved.`;
  const closed = await repo.closePendingSealUse(trx, { groupId: q.groupId, sealId: q.seal.id, reason, at: q.at });
  for (const application of closed) {
    await tell(ctx, trx, {
      groupId: q.groupId,
      userIds: [application.applicantId],
      kind: 'application.closed',
      params: { applicationId: application.id, sealNames: application.sealNames, step: q.step },
      applicationId: application.id,
      at: q.at,
    });
  }
  await emitEvents(
    trx,
    q.groupId,
    closed.map((application) => ({
      type: 'application.closed' as const,
      companyId: application.companyId,
      at: q.at,
      data: {
        applicationId: application.id,
        applicantId: application.applicantId,
        purpose: 'seal_use',
        category: application.category,
        status: 'closed' as const,
      },
    })),
  );
  return closed.map((a) => a.id);
}
