import type { Db, Transaction } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import { recordAudit } from '../audit/index.js';
import { emitEvents } from '../../outbox/events.js';
import { requireUser, type Actor } from '../access/index.js';
import * as repo from './approval.repository.js';
import { scheduleOverdue, tell, tellInBatch } from './approval.notices.js';
import { WriteBatch } from '../../db/batch.js';
import { findReadableDocument, OFD_MEDIA_TYPE } from '../documents/index.js';
import { planFor, mayNotStandIn, type PlannedLevel } from './approval.plan.js';
import { purposeOf, type ApplicationPurpose } from './approval.purposes.js';

/**
 * Opens the tasks of one level, each going to the approver's delegate when one stands in for them.
 * The tasks, their overdue jobs and the news join `batch` when given (the caller writes them with
 * the rest of its transaction); otherwise they are written here, in one statement.
 */
export async function openLevel(
  ctx: AppContext,
  trx: Db | Transaction,
  q: {
    groupId: string;
    application: Pick<repo.ApplicationRow, 'id' | 'applicantId' | 'applicantName' | 'reason' | 'sealNames'>;
    level: number;
    planned: PlannedLevel;
    escalatedFrom?: { names: string | null; waitingHours: number };
    /** People who may not stand in as delegates at this level (`mayNotStandIn`): the approver keeps the task then. */
    notStandingIn: Set<string>;
  },
  batch?: WriteBatch,
  known?: repo.LevelPeople,
) {
  const { application } = q;
  const writes = batch ?? new WriteBatch();
  const now = ctx.now();
  const approverIds = q.planned.approvers.map((a) => a.id);
  // The people read with the decision serve when they are this level's.
  const readBefore = known && known.approverIds.join() === approverIds.join() ? known : undefined;
  const { delegates, people } = readBefore ?? (await repo.findLevelPeople(trx, q.groupId, approverIds, now));
  const remindAt = q.planned.remindAfterHours ? new Date(now.getTime() + q.planned.remindAfterHours * 3_600_000) : null;
  const rows = q.planned.approvers.map((approver) => {
    const delegate = delegates.get(approver.id);
    // A delegate never decides their own application, nor a second level of one: then the approver keeps the task.
    // At a level only a role's holders decide, nobody stands in.
    const standIn =
      delegate && delegate.id !== application.applicantId && !q.notStandingIn.has(delegate.id) && !q.planned.deciderRole
        ? delegate
        : undefined;
    const via = standIn ? ('delegation' as const) : q.escalatedFrom ? ('escalation' as const) : null;
    return {
      id: newId(),
      groupId: q.groupId,
      applicationId: application.id,
      level: q.level,
      assigneeId: standIn?.id ?? approver.id,
      onBehalfOf: standIn ? approver.id : null,
      via,
      remindAt,
      createdAt: now,
    };
  });
  if (rows.length > 0) writes.add(repo.tasksInsert(trx, rows));
  scheduleOverdue(trx, writes, {
    groupId: q.groupId,
    applicationId: application.id,
    level: q.level,
    tasks: rows,
    openedAt: now,
    remindAfterHours: q.planned.remindAfterHours,
    escalateAfterHours: q.planned.escalateAfterHours,
  });
  const { sealNames } = application;
  const userIds = rows.map((r) => r.assigneeId);
  if (q.escalatedFrom) {
    tellInBatch(
      ctx,
      trx,
      writes,
      {
        groupId: q.groupId,
        userIds,
        kind: 'approval.escalated',
        params: {
          applicationId: application.id,
          sealNames,
          applicantName: application.applicantName,
          fromApproverName: q.escalatedFrom.names,
          waitingHours: q.escalatedFrom.waitingHours,
        },
        applicationId: application.id,
        at: now,
      },
      people,
    );
  } else {
    tellInBatch(
      ctx,
      trx,
      writes,
      {
        groupId: q.groupId,
        userIds,
        kind: 'approval.task_assigned',
        params: {
          applicationId: application.id,
          sealNames,
          applicantName: application.applicantName,
          reason: application.reason,
        },
        applicationId: application.id,
        at: now,
      },
      people,
    );
  }
  if (!batch) await writes.run(trx);
  const nameOf = (id: string) =>
    people.find((p) => p.id === id)?.name ?? q.planned.approvers.find((a) => a.id === id)?.name ?? '';
  return rows.map((row) => ({
    ...row,
    assigneeName: nameOf(row.assigneeId),
    onBehalfOfName: row.onBehalfOf ? nameOf(row.onBehalfOf) : null,
  }));
}

/**
 * Submits an application through its flow: resolves the plan, opens the first level, tells
 * the approvers and the copied. With an idempotency key a repeated submission returns the
 * application the first one created instead of a second one.
 */
export async function submitApplication<Input>(
  ctx: AppContext,
  actor: Actor,
  purpose: ApplicationPurpose<Input>,
  input: Input,
  idempotencyKey: string | null,
): Promise<{ id: string; created: boolean }> {
  const { principal } = actor;
  // Deciding it will ask the purpose for its effects: one nobody provided could be submitted but never approved.
  if (purposeOf(purpose.name) !== purpose)
    throw new Error(`The application purpose ${purpose.name} submitted is not the one provided (src/server/wiring.ts)`);
  const applicantId = requireUser(principal);
  if (idempotencyKey) {
    const existing = await repo.findApplicationByKey(ctx.db, {
      groupId: principal.groupId,
      applicantId,
      key: idempotencyKey,
    });
    if (existing) return { id: existing.id, created: false };
  }
  const id = newId();
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const draft = await purpose.check(ctx, trx, actor, input);
      const { seals, company, custodianIds } = draft;
      const { flow, plan } = await planFor(ctx, trx, {
        groupId: principal.groupId,
        applicantId,
        purpose: purpose.name,
        category: draft.category,
        uses: draft.uses,
        seals,
        company,
        custodianIds,
      });
      await repo.insertApplication(trx, {
        id,
        groupId: principal.groupId,
        companyId: company.id,
        applicantId,
        purpose: purpose.name,
        category: draft.category,
        lifecycleAction: draft.lifecycleAction,
        payload: draft.payload,
        reason: draft.reason,
        uses: draft.uses,
        photosPerUse: draft.photosPerUse,
        flowVersionId: flow.versionId,
        plan,
        idempotencyKey,
      });
      await repo.insertApplicationSeals(
        trx,
        principal.groupId,
        id,
        seals.map((x) => x.id),
      );
      const documents = draft.documents ?? [];
      for (const [index, document] of documents.entries()) {
        // Only PDFs and OFDs the applicant may read themselves can be named for stamping: a hash is not a key
        // to a file of someone else's (approvers download what the application names). A file they
        // may not read answers as one that does not exist.
        const readable = await findReadableDocument(trx, {
          groupId: principal.groupId,
          userId: applicantId,
          sha256: document.sha256,
        });
        if (!readable)
          throw new AppError('blob_not_found', `No file with SHA-256 ${document.sha256} belongs to your group.`, {
            errors: [{ field: `body.documents.${index}.sha256`, message: 'is not a file you may read' }],
          });
        const { blob } = readable;
        if (blob.mediaType !== 'application/pdf' && blob.mediaType !== OFD_MEDIA_TYPE) {
          throw new AppError(
            'file_type_mismatch',
            `${document.name} is ${blob.mediaType}, not a PDF or OFD; only PDF and OFD documents can be stamped.`,
            { errors: [{ field: `body.documents.${index}.sha256`, message: 'is not a PDF or OFD' }] },
          );
        }
      }
      await repo.insertApplicationDocuments(
        trx,
        documents.map((d, position) => ({
          groupId: principal.groupId,
          applicationId: id,
          sha256: d.sha256,
          name: d.name,
          position,
        })),
      );
      await repo.insertApplicationCc(
        trx,
        principal.groupId,
        id,
        plan.cc.map((c) => c.id),
      );
      const sealNames = seals.length > 0 ? seals.map((x) => x.name) : [String(draft.payload.name ?? '')];
      await openLevel(ctx, trx, {
        groupId: principal.groupId,
        application: { id, applicantId, applicantName: principal.name, reason: draft.reason, sealNames },
        level: 0,
        planned: plan.levels[0]!,
        notStandingIn: mayNotStandIn(plan, [], 0),
      });
      await tell(ctx, trx, {
        groupId: principal.groupId,
        userIds: plan.cc.map((c) => c.id),
        kind: 'application.cc',
        params: { applicationId: id, sealNames, applicantName: principal.name, reason: draft.reason },
        applicationId: id,
        at: ctx.now(),
      });
      await recordAudit(trx, {
        groupId: principal.groupId,
        actor,
        event: {
          action: 'application.submitted',
          target: { type: 'application', id },
          companyId: company.id,
          changes: {
            purpose: purpose.name,
            category: draft.category,
            sealIds: seals.map((x) => x.id),
            uses: draft.uses,
            flowVersionId: flow.versionId,
            levels: plan.levels.length,
          },
        },
      });
      await emitEvents(trx, principal.groupId, [
        {
          type: 'application.submitted',
          companyId: company.id,
          at: ctx.now(),
          data: { applicationId: id, applicantId, purpose: purpose.name, category: draft.category, status: 'pending' },
        },
      ]);
    });
  } catch (error) {
    // Two submissions with one key racing: the loser returns the winner's application.
    if (idempotencyKey) {
      const existing = await repo.findApplicationByKey(ctx.db, {
        groupId: principal.groupId,
        applicantId,
        key: idempotencyKey,
      });
      if (existing) return { id: existing.id, created: false };
    }
    throw error;
  }
  return { id, created: true };
}
