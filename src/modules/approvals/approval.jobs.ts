import { z } from 'zod';
import type { JobHandler } from '../../jobs/job.types.js';
import type { AppContext } from '../../server/context.js';
import { recordAudit, type SystemActor } from '../audit/index.js';
import * as repo from './approval.repository.js';
import { mayNotStandIn, planOf } from './approval.plan.js';
import { openLevel } from './approval.submit.js';
import { tell } from './approval.notices.js';

declare module '../../jobs/job.types.js' {
  interface JobPayloads {
    'approval.remind': { taskId: string };
    'approval.escalate': { applicationId: string; level: number };
  }
}

const system: SystemActor = { system: 'approval-deadlines' };
const hoursSince = (from: Date, to: Date) => Math.max(1, Math.round((to.getTime() - from.getTime()) / 3_600_000));

/**
 * Overdue approvals: a reminder to each approver still sitting on a task, and the
 * escalation of a level nobody decided in time to the next level. Both run as durable jobs
 * scheduled when the level opened, and do nothing once the task or level is decided.
 */
export function approvalJobHandlers(ctx: AppContext): JobHandler[] {
  const remind: JobHandler<'approval.remind'> = {
    kind: 'approval.remind',
    payload: z.object({ taskId: z.string() }),
    async run(payload, job) {
      const groupId = job.groupId;
      if (!groupId) return { reminded: false, reason: 'no group' };
      return ctx.db.transaction().execute(async (trx) => {
        // The lock every decision takes, through the task; the task is read under it.
        const application = await repo.lockAndReadApplication(trx, { groupId, taskId: payload.taskId });
        if (!application) return { reminded: false, reason: 'task gone' };
        const current = await repo.findTask(trx, { groupId, id: payload.taskId });
        if (current?.status !== 'pending' || application.status !== 'pending')
          return { reminded: false, reason: 'already decided' };
        const now = ctx.now();
        await tell(ctx, trx, {
          groupId,
          userIds: [current.assigneeId],
          kind: 'approval.reminder',
          params: {
            applicationId: application.id,
            sealNames: application.sealNames,
            applicantName: application.applicantName,
            waitingHours: hoursSince(current.createdAt, now),
          },
          applicationId: application.id,
          at: now,
        });
        await repo.markReminded(trx, current.id, now);
        return { reminded: true, assigneeId: current.assigneeId };
      });
    },
  };

  const escalate: JobHandler<'approval.escalate'> = {
    kind: 'approval.escalate',
    payload: z.object({ applicationId: z.string(), level: z.number().int().min(0) }),
    async run(payload, job) {
      const groupId = job.groupId;
      if (!groupId) return { escalated: false, reason: 'no group' };
      return ctx.db.transaction().execute(async (trx) => {
        // The same lock every decision takes: an approval racing the deadline wins or loses cleanly.
        const application = await repo.lockAndReadApplication(trx, { groupId, id: payload.applicationId });
        if (application?.status !== 'pending' || application.currentLevel !== payload.level)
          return { escalated: false, reason: 'level already decided' };
        const tasks = await repo.findTasksOfApplication(trx, application.id);
        const waiting = tasks.filter((t) => t.level === payload.level && t.status === 'pending');
        if (waiting.length === 0) return { escalated: false, reason: 'nothing pending' };
        const plan = planOf(application.plan);
        const now = ctx.now();
        const waitingHours = hoursSince(waiting[0]!.createdAt, now);
        const next = payload.level + 1;
        if (next >= plan.levels.length) {
          // The last level has nowhere to go: its approvers are reminded instead.
          await tell(ctx, trx, {
            groupId,
            userIds: waiting.map((t) => t.assigneeId),
            kind: 'approval.reminder',
            params: {
              applicationId: application.id,
              sealNames: application.sealNames,
              applicantName: application.applicantName,
              waitingHours,
            },
            applicationId: application.id,
            at: now,
          });
          return { escalated: false, reason: 'last level; approvers reminded' };
        }
        await repo.cancelPendingTasks(trx, application.id, now, payload.level);
        await repo.updateApplication(trx, application.id, { current_level: next });
        await recordAudit(trx, {
          groupId,
          actor: system,
          at: now,
          event: {
            action: 'application.level_escalated',
            target: { type: 'application', id: application.id },
            companyId: application.companyId,
            changes: { level: payload.level, toLevel: next, waitingHours },
          },
        });
        await openLevel(ctx, trx, {
          groupId,
          application,
          level: next,
          planned: plan.levels[next]!,
          notStandingIn: mayNotStandIn(plan, tasks, next),
          escalatedFrom: { names: waiting.map((t) => t.assigneeName).join('、'), waitingHours },
        });
        return { escalated: true, toLevel: next };
      });
    },
  };

  return [remind, escalate] as JobHandler[];
}
