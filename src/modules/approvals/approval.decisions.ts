import type { Db, Role, Transaction } from '../../db/schema.js';
import { isSerializationFailure } from '../../db/errors.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { auditAppendStatement, recordAudit, recordAudits } from '../audit/index.js';
import type { AuditEvent } from '../audit/index.js';
import { emitEvents, eventsWrite, type ApplicationEventData } from '../../outbox/events.js';
import { requireUser, type Actor, type RoleGrant } from '../access/index.js';
import { findPeople, findUser } from '../users/index.js';
import * as repo from './approval.repository.js';
import { tell, tellInBatch } from './approval.notices.js';
import { WriteBatch } from '../../db/batch.js';
import type { Recipient } from '../notifications/index.js';
import { purposeOf } from './approval.purposes.js';
import { canView, getApplication } from './approval.service.js';
import { mayNotStandIn, planOf, whyCannotTake } from './approval.plan.js';
import { openLevel } from './approval.submit.js';

async function loadForDecision(ctx: AppContext, trx: Transaction, actor: Actor, taskId: string) {
  const { principal } = actor;
  const userId = requireUser(principal);
  // The lock that serialises every decision on this application, taken through the task; the
  // application and its tasks are read under it, so a racing decision sees the first one's result.
  const application = await repo.lockForDecision(trx, { groupId: principal.groupId, taskId });
  const tasks = application ? await repo.findTasksOfApplication(trx, application.id) : [];
  // Who may follow the application is read only when the task is someone else's (the refusal names it or not).
  const follows = async () => {
    const detail = await repo.findApplicationDetail(trx, { groupId: principal.groupId, id: application!.id });
    return detail !== undefined && canView(principal, detail);
  };
  const { task } = await checkDecision({ application, tasks, taskId, userId, follows, roles: principal.roles });
  return { task, application: application!, tasks, userId };
}

/**
 * The task is there, the caller's, still to be decided on a pending application, and the caller
 * may decide it: never on their own application, and at most one level of an application unless
 * its flow allowed one person several (two-person control). Or why not. A task of an application
 * the caller may not follow answers as one that does not exist: a task id is not a way to learn
 * that an application exists.
 */
async function checkDecision(q: {
  application:
    | {
        id: string;
        status: string;
        closedReason: string | null;
        currentLevel: number;
        applicantId: string;
        plan: unknown;
      }
    | undefined;
  tasks: repo.TaskRow[];
  taskId: string;
  userId: string;
  /** Whether the caller may follow the application (see it), asked only when the task is someone else's. */
  follows: () => boolean | Promise<boolean>;
  /** The caller's roles now, for a level only a role's holders decide. */
  roles: RoleGrant[];
}): Promise<{ task: repo.TaskRow }> {
  const { application, tasks, taskId, userId } = q;
  const current = tasks.find((t) => t.id === taskId);
  if (!application || !current) throw notFound('task_not_found', taskId);
  if (current.assigneeId !== userId) {
    if (!(await q.follows())) throw notFound('task_not_found', taskId);
    throw new AppError('task_not_yours', 'This approval task is assigned to someone else.');
  }
  if (current.status !== 'pending' || application.status !== 'pending') {
    const closed = application.closedReason ? ` ${application.closedReason}` : '';
    throw new AppError(
      'task_already_decided',
      `This task is already ${current.status} and the application is ${application.status}.${closed}`,
      {
        task: { id: current.id, status: current.status },
        application: { id: application.id, status: application.status, currentLevel: application.currentLevel },
      },
    );
  }
  if (application.applicantId === userId)
    throw new AppError('sod_conflict', 'This is your own application; nobody decides their own application.', {
      roles: ['applicant', 'approver'],
    });
  const plan = planOf(application.plan);
  const decided = plan.allowSameApproverAcrossLevels
    ? undefined
    : tasks.find(
        (t) =>
          t.assigneeId === userId && t.level !== current.level && (t.status === 'approved' || t.status === 'rejected'),
      );
  if (decided) {
    const name = plan.levels[decided.level]?.name ?? '';
    throw new AppError(
      'approver_already_decided',
      `You decided level ${decided.level + 1} (${name}) of this application; one person decides at most one level of it, so another approver must decide this one (transfer the task).`,
      { level: current.level, decidedLevel: decided.level },
    );
  }
  const required = plan.levels[current.level]?.deciderRole;
  if (required && !holdsRole(q.roles, required))
    throw new AppError(
      'forbidden',
      `Only a holder of ${required.role} over the company this level names decides it, and you no longer hold it; transfer the task to one who does.`,
    );
  return { task: current };
}

/** Whether role grants include `role` over the company at `companyPath` (assigned there or above it). */
function holdsRole(roles: RoleGrant[], required: { role: Role; companyPath: string }): boolean {
  return roles.some((g) => g.role === required.role && required.companyPath.startsWith(g.companyPath));
}

/**
 * A seal-use application is approved only while every seal it names is active: one suspended,
 * reported lost or destroyed since it was submitted (the step closes such applications, but one
 * may have slipped through) refuses the approval. The decision's write checks the same again
 * (`decisionWrites`' `sealsActive`), for a seal that moves between the read and the write.
 */
function assertSealsUsable(seals: Array<{ id: string; name: string; status: string }>): void {
  const unusable = seals.find((s) => s.status !== 'active');
  if (unusable)
    throw new AppError(
      'seal_not_usable',
      `${unusable.name} is ${unusable.status}; an application to use it can no longer be approved.`,
      { sealId: unusable.id, sealName: unusable.name, sealStatus: unusable.status },
    );
}

/** How many times an approval is decided again on fresh facts when another change to the application overtook it. */
const DECISION_ATTEMPTS = 5;

/**
 * Approves a task. Twenty approvers clicking at once make one transition; the others get 409
 * with the state. A seal-use decision is made optimistically: read in one statement, written in
 * one statement that names the application's version and fails whole if the version moved (then
 * it is decided again on what is there now, usually answering 409). Nothing is locked between
 * the two, and the statement commits as it ends. A lifecycle step, which changes its seal as
 * well, is decided under the application's lock.
 */
export async function approveTask(ctx: AppContext, actor: Actor, taskId: string, comment: string | null) {
  const { principal } = actor;
  const userId = requireUser(principal);
  for (let attempt = 1; ; attempt++) {
    const state = await repo.findDecisionState(ctx.db, { groupId: principal.groupId, taskId, at: ctx.now() });
    const { task } = await checkDecision({
      application: state?.application,
      tasks: state?.tasks ?? [],
      taskId,
      userId,
      follows: () => canView(principal, state!.application),
      roles: principal.roles,
    });
    const { application, tasks } = state!;
    const purpose = purposeOf(application.purpose);
    if (purpose.authorizesSeals) assertSealsUsable(application.seals);
    if (purpose.approved) {
      await ctx.db.transaction().execute(async (trx) => {
        const locked = await loadForDecision(ctx, trx, actor, taskId);
        await decideAndWrite(trx, locked.task, locked.tasks, locked.application);
      });
      return getApplication(ctx, actor, application.id, { participant: true });
    }
    try {
      const now = ctx.now();
      const outcome = await decideAndWrite(
        ctx.db,
        task,
        tasks,
        application,
        application.version,
        state!.nextLevel,
        now,
      );
      // Nothing changed the application since it was read (the version held): the answer is what
      // was read with this decision applied, without reading it again.
      return pageAfter(application, { taskId, comment, at: now }, outcome);
    } catch (error) {
      if (!isSerializationFailure(error)) throw error;
      if (attempt >= DECISION_ATTEMPTS)
        throw new AppError(
          'application_changed',
          `The application changed ${DECISION_ATTEMPTS} times while this approval was being written; nothing was written. Try again.`,
        );
    }
  }

  /** Every write of the decision in one statement, its audit events last (written once every other write held). */
  async function decideAndWrite(
    db: Db | Transaction,
    task: repo.TaskRow,
    tasks: repo.TaskRow[],
    application: DecisionApplication,
    readVersion?: number,
    nextLevel?: repo.LevelPeople,
    now = ctx.now(),
  ): Promise<DecisionOutcome> {
    const writes = new WriteBatch();
    const events: AuditEvent[] = [];
    const outcome = await decide(db, writes, task, tasks, application, now, events, readVersion, nextLevel);
    await writes.run(db, auditAppendStatement({ groupId: principal.groupId, actor, at: now, events }));
    return outcome;
  }

  async function decide(
    db: Db | Transaction,
    writes: WriteBatch,
    task: repo.TaskRow,
    tasks: repo.TaskRow[],
    application: DecisionApplication,
    now: Date,
    events: AuditEvent[],
    readVersion: number | undefined,
    nextLevel: repo.LevelPeople | undefined,
  ): Promise<DecisionOutcome> {
    const decision = { taskId: task.id, applicationId: application.id, status: 'approved' as const, comment, at: now };
    const record = (effects: {
      cancelPending?: { level?: number };
      application?: DecisionOutcome['application'];
    }): DecisionOutcome => {
      const { application: move, others } = repo.decisionWrites(db, decision, {
        ...effects,
        readVersion,
        sealsActive: purposeOf(application.purpose).authorizesSeals,
      });
      if (readVersion === undefined) writes.add(move);
      else writes.guard(move);
      writes.add(...others);
      return {
        application: effects.application ?? {},
        cancelPending: effects.cancelPending,
        opened: [],
        authorizations: [],
      };
    };
    events.push({
      action: 'application.task_approved',
      target: { type: 'application', id: application.id },
      companyId: application.companyId,
      changes: { taskId: task.id, level: task.level, comment, onBehalfOf: task.onBehalfOf },
    });
    const plan = planOf(application.plan);
    const level = plan.levels[task.level]!;
    const atLevel = tasks.filter((t) => t.level === task.level);
    const complete =
      level.mode === 'any' ||
      atLevel.every(
        (t) => t.status === 'approved' || t.status === 'transferred' || t.status === 'cancelled' || t.id === task.id,
      );
    if (!complete) return record({});
    const cancelPending = atLevel.some((t) => t.status === 'pending' && t.id !== task.id)
      ? { level: task.level }
      : undefined;
    events.push({
      action: 'application.level_completed',
      target: { type: 'application', id: application.id },
      companyId: application.companyId,
      changes: { level: task.level },
    });
    const next = task.level + 1;
    if (next < plan.levels.length) {
      const outcome = record({ cancelPending, application: { current_level: next } });
      const decided = [...tasks, { assigneeId: task.assigneeId, status: 'approved' as const }];
      outcome.opened = await openLevel(
        ctx,
        db,
        {
          groupId: principal.groupId,
          application,
          level: next,
          planned: plan.levels[next]!,
          notStandingIn: mayNotStandIn(plan, decided, next),
        },
        writes,
        next === application.currentLevel + 1 ? nextLevel : undefined,
      );
      return outcome;
    }
    const outcome = record({ cancelPending, application: { status: 'approved', decided_at: now } });
    outcome.authorizations = await completeApproval(ctx, db, writes, actor, application, now, events);
    return outcome;
  }
}

/** What a decision changed: the application's step, the tasks it cancelled and opened, the authorizations it gave. */
interface DecisionOutcome {
  application: { status?: 'approved'; current_level?: number; decided_at?: Date };
  cancelPending: { level?: number } | undefined;
  opened: Array<{
    id: string;
    applicationId: string;
    level: number;
    assigneeId: string;
    assigneeName: string;
    onBehalfOf: string | null;
    onBehalfOfName: string | null;
    via: repo.TaskRow['via'];
    createdAt: Date;
  }>;
  authorizations: repo.NewAuthorization[];
}

/** Ids in code-point order, as PostgreSQL compares uuids. */
const byId = (x: { id: string }, y: { id: string }) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);

/** The application's page as read before a decision, with the decision's outcome applied: what reading it again would give. */
function pageAfter(
  read: NonNullable<Awaited<ReturnType<typeof repo.findDecisionState>>>['application'],
  decision: { taskId: string; comment: string | null; at: Date },
  outcome: DecisionOutcome,
) {
  const {
    companyPath: _path,
    version: _version,
    applicantEmail: _email,
    applicantPhone: _phone,
    applicantLocale: _locale,
    applicantStatus: _status,
    plan,
    ...page
  } = read;
  const cancel = outcome.cancelPending;
  const tasks: repo.TaskRow[] = page.tasks.map((t) => {
    if (t.id === decision.taskId)
      return { ...t, status: 'approved', comment: decision.comment, decidedAt: decision.at };
    if (cancel && t.status === 'pending' && (cancel.level === undefined || t.level === cancel.level))
      return { ...t, status: 'cancelled', decidedAt: decision.at };
    return t;
  });
  for (const o of outcome.opened) tasks.push({ ...o, status: 'pending', comment: null, decidedAt: null });
  // The orders the read gives them in (repo `inOpenedOrder`; authorizations by creation, then id).
  tasks.sort((x, y) => x.level - y.level || x.createdAt.getTime() - y.createdAt.getTime() || byId(x, y));
  const given = outcome.authorizations.map((z) => ({
    id: z.id,
    sealId: z.sealId,
    holderId: z.holderId,
    kind: z.kind,
    usesTotal: z.usesTotal,
    usesConsumed: 0,
    createdAt: z.createdAt,
    revokedAt: null,
  }));
  const authorizations = [...page.authorizations, ...given].sort(
    (x, y) => x.createdAt.getTime() - y.createdAt.getTime() || byId(x, y),
  );
  const {
    status = page.status,
    current_level: currentLevel = page.currentLevel,
    decided_at: decidedAt = page.decidedAt,
  } = outcome.application;
  return { ...page, plan: planOf(plan), status, currentLevel, decidedAt, tasks, authorizations };
}

type DecisionApplication = NonNullable<Awaited<ReturnType<typeof repo.lockForDecision>>>;

/** What a public event tells of an application: ids and its new state, no reasons or comments. */
function applicationEventData(
  application: { id: string; applicantId: string; purpose: string; category: string | null },
  status: ApplicationEventData['status'],
): ApplicationEventData {
  return {
    applicationId: application.id,
    applicantId: application.applicantId,
    purpose: application.purpose,
    category: application.category,
    status,
  };
}

/**
 * The outcome of an approved application (marked approved by the caller's writes): what its
 * purpose changes (a lifecycle step changes its seal here and now), and for seal use, per seal,
 * the right to sign the documents (electronic) or a ticket for the approved uses (physical),
 * which joins `writes`.
 */
async function completeApproval(
  ctx: AppContext,
  trx: Db | Transaction,
  writes: WriteBatch,
  actor: Actor,
  application: DecisionApplication,
  now: Date,
  events: AuditEvent[],
): Promise<repo.NewAuthorization[]> {
  const { principal } = actor;
  const applicant: Recipient = {
    id: application.applicantId,
    name: application.applicantName,
    email: application.applicantEmail,
    phone: application.applicantPhone,
    locale: application.applicantLocale,
    status: application.applicantStatus,
  };
  const sealNames = application.seals.length > 0 ? application.seals.map((x) => x.name) : application.sealNames;
  const purpose = purposeOf(application.purpose);
  if (purpose.approved) {
    // The effect changes something with the approval: decided under the application's lock, in a transaction.
    if (!trx.isTransaction)
      throw new Error('completeApproval: an application with an effect is approved in a transaction');
    await purpose.approved(ctx, trx as Transaction, { groupId: principal.groupId, actor, application, at: now });
  }
  const authorizations = (purpose.authorizesSeals ? application.seals : []).map((seal) => ({
    id: newId(),
    groupId: principal.groupId,
    applicationId: application.id,
    sealId: seal.id,
    holderId: application.applicantId,
    kind: seal.kind === 'electronic' ? ('documents' as const) : ('ticket' as const),
    usesTotal: application.uses,
    createdAt: now,
  }));
  if (authorizations.length > 0) writes.add(repo.authorizationsInsert(trx, authorizations));
  events.push({
    action: 'application.approved',
    target: { type: 'application', id: application.id },
    companyId: application.companyId,
    changes: { authorizationIds: authorizations.map((a) => a.id) },
  });
  writes.add(
    eventsWrite(trx, principal.groupId, [
      {
        type: 'application.approved',
        companyId: application.companyId,
        at: now,
        data: applicationEventData(application, 'approved'),
      },
    ]),
  );
  tellInBatch(
    ctx,
    trx,
    writes,
    {
      groupId: principal.groupId,
      userIds: [application.applicantId],
      kind: 'application.approved',
      params: { applicationId: application.id, sealNames, approverName: principal.name },
      applicationId: application.id,
      at: now,
    },
    [applicant],
  );
  return authorizations;
}

export async function rejectTask(ctx: AppContext, actor: Actor, taskId: string, reason: string) {
  const { principal } = actor;
  const applicationId = await ctx.db.transaction().execute(async (trx) => {
    const { task, tasks, application } = await loadForDecision(ctx, trx, actor, taskId);
    const now = ctx.now();
    const cancelPending = tasks.some((t) => t.status === 'pending' && t.id !== task.id) ? {} : undefined;
    await repo.recordDecision(
      trx,
      { taskId: task.id, applicationId: application.id, status: 'rejected', comment: reason, at: now },
      { cancelPending, application: { status: 'rejected', decided_at: now } },
    );
    await tell(ctx, trx, {
      groupId: principal.groupId,
      userIds: [application.applicantId],
      kind: 'application.rejected',
      params: {
        applicationId: application.id,
        sealNames: application.sealNames,
        approverName: principal.name,
        comment: reason,
      },
      applicationId: application.id,
      at: now,
    });
    const target = { type: 'application', id: application.id } as const;
    await recordAudits(trx, {
      groupId: principal.groupId,
      actor,
      at: now,
      events: [
        {
          action: 'application.task_rejected',
          target,
          companyId: application.companyId,
          changes: { taskId: task.id, level: task.level, reason, onBehalfOf: task.onBehalfOf },
        },
        {
          action: 'application.rejected',
          target,
          companyId: application.companyId,
          changes: { level: task.level, reason },
        },
      ],
    });
    await emitEvents(trx, principal.groupId, [
      {
        type: 'application.rejected',
        companyId: application.companyId,
        at: now,
        data: applicationEventData(application, 'rejected'),
      },
    ]);
    return application.id;
  });
  return getApplication(ctx, actor, applicationId, { participant: true });
}

/**
 * Hands a task to another approver (转交), who then decides at the same level. They must work
 * within the application's company tree (its company, above or below it), be active, and be
 * someone who may take the task (`whyCannotTake`).
 */
export async function transferTask(
  ctx: AppContext,
  actor: Actor,
  taskId: string,
  input: { toUserId: string; comment: string | null },
) {
  const { principal } = actor;
  const applicationId = await ctx.db.transaction().execute(async (trx) => {
    const { task, tasks, application, userId } = await loadForDecision(ctx, trx, actor, taskId);
    const target = await findUser(trx, { groupId: principal.groupId, id: input.toUserId });
    if (!target) throw notFound('user_not_found', input.toUserId);
    const field = (message: string) =>
      new AppError('validation_failed', message, { errors: [{ field: 'body.toUserId', message }] });
    if (target.status !== 'active') throw field(`${target.name} is ${target.status}`);
    if (target.id === userId) throw field('is you');
    const related =
      target.companyPath.startsWith(application.companyPath) || application.companyPath.startsWith(target.companyPath);
    if (!related) throw field(`${target.name} works outside the company of this application`);
    const plan = planOf(application.plan);
    const why = whyCannotTake(target, { applicantId: application.applicantId, plan, tasks, level: task.level });
    if (why) throw field(why);
    const required = plan.levels[task.level]?.deciderRole;
    if (required) {
      const holders = await repo.findRoleHoldersOver(trx, {
        role: required.role,
        companyPath: required.companyPath,
        userIds: [target.id],
      });
      if (!holders.has(target.id))
        throw field(`${target.name} does not hold ${required.role} over the company this level requires`);
    }
    const now = ctx.now();
    await repo.decideTask(trx, task.id, { status: 'transferred', comment: input.comment, at: now });
    await repo.updateApplication(trx, application.id, {});
    await repo.insertTasks(trx, [
      {
        id: newId(),
        groupId: principal.groupId,
        applicationId: application.id,
        level: task.level,
        assigneeId: target.id,
        onBehalfOf: userId,
        via: 'transfer',
        remindAt: null,
        createdAt: now,
      },
    ]);
    await tell(ctx, trx, {
      groupId: principal.groupId,
      userIds: [target.id],
      kind: 'application.transferred',
      params: {
        applicationId: application.id,
        sealNames: application.sealNames,
        applicantName: application.applicantName,
        fromApproverName: principal.name,
        comment: input.comment,
      },
      applicationId: application.id,
      at: now,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at: now,
      event: {
        action: 'application.task_transferred',
        target: { type: 'application', id: application.id },
        companyId: application.companyId,
        changes: { taskId: task.id, level: task.level, toUserId: target.id, comment: input.comment },
      },
    });
    return application.id;
  });
  return getApplication(ctx, actor, applicationId, { participant: true });
}

/**
 * Who the holder of a task may transfer it to: active people of the application's company line
 * (its company, above or below it) who may take the task (`whyCannotTake`), by name or e-mail.
 */
export async function listTransferCandidates(
  ctx: AppContext,
  actor: Actor,
  taskId: string,
  query: { q?: string | undefined; limit: number },
) {
  const { principal } = actor;
  const userId = requireUser(principal);
  const detail = await repo.findApplicationOfTask(ctx.db, { groupId: principal.groupId, taskId });
  const task = detail?.tasks.find((t) => t.id === taskId);
  if (!detail || !task) throw notFound('task_not_found', taskId);
  if (task.assigneeId !== userId) {
    if (!canView(principal, detail)) throw notFound('task_not_found', taskId);
    throw new AppError('task_not_yours', 'This approval task is assigned to someone else.');
  }
  const plan = planOf(detail.plan);
  // Everyone the rule would refuse, by id; the search leaves them out. Named people are few (a plan and its tasks).
  const named = new Set([
    detail.applicantId,
    userId,
    ...detail.tasks.map((t) => t.assigneeId),
    ...plan.levels.flatMap((l) => l.approvers.map((a) => a.id)),
  ]);
  const exclude = [...named].filter(
    (id) =>
      id === userId ||
      whyCannotTake(
        { id, name: '' },
        { applicantId: detail.applicantId, plan, tasks: detail.tasks, level: task.level },
      ),
  );
  const required = plan.levels[task.level]?.deciderRole;
  return findPeople(ctx.db, {
    groupId: principal.groupId,
    path: detail.companyPath,
    q: query.q,
    limit: query.limit,
    exclude,
    ...(required ? { holding: { role: required.role, companyPath: required.companyPath } } : {}),
  });
}

/** The applicant takes the application back before the final decision. */
export async function withdrawApplication(ctx: AppContext, actor: Actor, applicationId: string) {
  const { principal } = actor;
  const userId = requireUser(principal);
  await ctx.db.transaction().execute(async (trx) => {
    const application = await repo.lockAndReadApplication(trx, { groupId: principal.groupId, id: applicationId });
    if (!application) throw notFound('application_not_found', applicationId);
    if (application.applicantId !== userId) {
      // Someone who may follow the application (an approver, say) learns why; anyone else, nothing.
      const detail = await repo.findApplicationDetail(trx, { groupId: principal.groupId, id: applicationId });
      if (!detail || !canView(principal, detail)) throw notFound('application_not_found', applicationId);
      throw new AppError(
        'forbidden',
        'Only the applicant can withdraw an application; an approver rejects it instead.',
      );
    }
    if (application.status !== 'pending')
      throw new AppError(
        'application_not_pending',
        `The application is already ${application.status}; it can no longer be withdrawn.`,
        { application: { id: applicationId, status: application.status } },
      );
    const now = ctx.now();
    await repo.cancelPendingTasks(trx, applicationId, now);
    await repo.updateApplication(trx, applicationId, { status: 'withdrawn', decided_at: now });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at: now,
      event: {
        action: 'application.withdrawn',
        target: { type: 'application', id: applicationId },
        companyId: application.companyId,
        changes: {},
      },
    });
    await emitEvents(trx, principal.groupId, [
      {
        type: 'application.withdrawn',
        companyId: application.companyId,
        at: now,
        data: applicationEventData(application, 'withdrawn'),
      },
    ]);
  });
  return getApplication(ctx, actor, applicationId, { participant: true });
}
