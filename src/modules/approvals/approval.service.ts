import type {
  ApplicationStatus,
  Db,
  FlowPurpose,
  LifecycleAction,
  Role,
  SealKind,
  SealType,
  Transaction,
} from '../../db/schema.js';
import { isSerializationFailure } from '../../db/errors.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { auditAppendStatement, recordAudit, recordAudits } from '../audit/index.js';
import type { AuditEvent } from '../audit/index.js';
import { isWithin, requireUser, scopeOf, type Actor, type RoleGrant } from '../access/index.js';
import { findSeal } from '../seals/index.js';
import { decideSealUse } from '../seals/index.js';
import { findPeople, findUser } from '../users/index.js';
import * as repo from './approval.repository.js';
import { resolveFlow, type Flow } from './flow.service.js';
import { scheduleOverdue, tell, tellInBatch } from './approval.notices.js';
import { WriteBatch } from '../../db/batch.js';
import type { Recipient } from '../notifications/index.js';
import { readGroupBlob, storeBlob } from '../../blobs/blob.service.js';
import { findReadableDocument } from '../signatures/index.js';
import { assertMediaType } from '../../blobs/sniff.js';
import { approvalEffectOf } from './approval.effects.js';
import { findCompany } from '../companies/index.js';
import type { ApproverSpec, FlowDefinition } from './flow.schema.js';

/** A level as resolved for one application, stored with it so later flow edits cannot change it. */
export interface PlannedLevel {
  name: string;
  mode: 'any' | 'all';
  approvers: Array<{ id: string; name: string }>;
  remindAfterHours: number | null;
  escalateAfterHours: number | null;
  /** Whoever decides this level must hold this role over this company (or above it) when deciding; no delegate stands in. */
  deciderRole?: { role: Role; companyId: string; companyPath: string };
}

export interface Plan {
  flowId: string;
  flowName: string;
  flowVersion: number;
  levels: PlannedLevel[];
  cc: Array<{ id: string; name: string }>;
  /** The flow version allowed one person to decide several levels. */
  allowSameApproverAcrossLevels: boolean;
}

/**
 * A plan as stored with its application. Plans made before the option existed lack
 * `allowSameApproverAcrossLevels` and count as not allowing it.
 */
export function planOf(raw: unknown): Plan {
  const plan = raw as Omit<Plan, 'allowSameApproverAcrossLevels'> & { allowSameApproverAcrossLevels?: boolean };
  return { ...plan, allowSameApproverAcrossLevels: plan.allowSameApproverAcrossLevels ?? false };
}

/**
 * Each person at one level only (two-person control): someone named at several levels stays at
 * the first one where nobody else could decide, or else at the first one naming them, and
 * leaves the others. A level left with nobody cannot be approved by anyone but a person who
 * decides another level: `approver_unresolvable`, naming it.
 */
function oneLevelEach(flowName: string, levels: PlannedLevel[]): PlannedLevel[] {
  const out = levels.map((level) => ({ ...level, approvers: [...level.approvers] }));
  const people = new Map<string, string>();
  for (const level of out) for (const a of level.approvers) people.set(a.id, a.name);
  for (const [id, name] of people) {
    const at = out.flatMap((level, index) => (level.approvers.some((a) => a.id === id) ? [index] : []));
    if (at.length < 2) continue;
    const keep = at.find((index) => out[index]!.approvers.length === 1) ?? at[0]!;
    for (const index of at) {
      if (index === keep) continue;
      const level = out[index]!;
      level.approvers = level.approvers.filter((a) => a.id !== id);
      if (level.approvers.length === 0)
        throw new AppError(
          'approver_unresolvable',
          `Level "${level.name}" of flow "${flowName}" has nobody to approve but ${name}, who already approves level "${out[keep]!.name}"; one person decides at most one level of an application. Add an approver to the level, or let the flow allow one person several levels.`,
          { level: level.name },
        );
    }
  }
  return out;
}

export interface SealUseDraft {
  /** The files to stamp, uploaded first (POST /documents/uploads) and named here by hash. */
  documents?: Array<{ sha256: string; name: string }> | undefined;
  sealIds: string[];
  category: string;
  reason: string;
  uses: number;
  photosPerUse: number;
}

export interface SealFacts {
  id: string;
  name: string;
  kind: SealKind;
  type: SealType;
  companyId: string;
  companyPath: string;
  companyName: string;
}

/**
 * The seals of a seal-use application, each checked with the use decision: the applicant
 * must hold a grant for every one of them, for the business category asked.
 */
async function checkSealsForUse(
  ctx: AppContext,
  db: AppContext['db'] | Transaction,
  actor: Actor,
  draft: SealUseDraft,
): Promise<SealFacts[]> {
  const { principal } = actor;
  const applicantId = requireUser(principal);
  const seals: SealFacts[] = [];
  for (const sealId of [...new Set(draft.sealIds)]) {
    const decision = await decideSealUse(db, {
      groupId: principal.groupId,
      sealId,
      userId: applicantId,
      category: draft.category,
      at: ctx.now(),
    });
    const seal = await findSeal(db, { groupId: principal.groupId, id: sealId });
    if (!seal || (decision.allowed === false && decision.reason === 'seal_not_found'))
      throw notFound('seal_not_found', sealId);
    if (!decision.allowed) {
      // Refusals name the seal only to those who may know it: its readers, and people of its
      // company or a company below it. A sibling company's seal stays unknown (404).
      const knows =
        (principal.companyPath !== null && principal.companyPath.startsWith(seal.companyPath)) ||
        canRead(principal, 'seals.read', seal.companyPath);
      if (!knows) throw notFound('seal_not_found', sealId);
      if (decision.reason === 'seal_not_usable')
        throw new AppError('seal_not_usable', `${seal.name} is ${seal.status}; it cannot be used.`, {
          sealId,
          sealStatus: seal.status,
        });
      if (decision.reason === 'custodian')
        throw new AppError(
          'sod_conflict',
          `You keep ${seal.name}; a custodian cannot apply to use the seal they keep.`,
          { roles: ['custodian', 'seal_user'] },
        );
      if (decision.reason === 'user_inactive') throw new AppError('forbidden', 'Your account is not active.');
      throw new AppError(
        'seal_not_granted',
        `You hold no grant to use ${seal.name} for ${draft.category}; ask its seal administrator for one.`,
        { sealId },
      );
    }
    seals.push({
      id: seal.id,
      name: seal.name,
      kind: seal.kind,
      type: seal.type,
      companyId: seal.companyId,
      companyPath: seal.companyPath,
      companyName: seal.companyName,
    });
  }
  if (new Set(seals.map((s) => s.companyId)).size > 1) {
    throw new AppError(
      'flow_conflict',
      'The seals you chose belong to different companies; apply for each company separately.',
    );
  }
  return seals;
}

function canRead(
  principal: Actor['principal'],
  permission: 'seals.read' | 'seals.manage',
  companyPath: string,
): boolean {
  try {
    return isWithin(scopeOf(principal, permission), companyPath);
  } catch {
    return false;
  }
}

function levelApplies(level: FlowDefinition['levels'][number], uses: number, seals: SealFacts[]): boolean {
  const c = level.condition;
  if (!c) return true;
  if (c.minUses !== undefined && !(uses > c.minUses)) return false;
  if (c.sealTypes && !seals.some((s) => c.sealTypes!.includes(s.type))) return false;
  if (c.sealKinds && !seals.some((s) => c.sealKinds!.includes(s.kind))) return false;
  return true;
}

async function resolveApprovers(
  db: AppContext['db'] | Transaction,
  groupId: string,
  specs: ApproverSpec[],
  context: { applicantId: string; sealIds: string[]; custodianIds?: string[] | undefined },
) {
  const found = new Map<string, { id: string; name: string }>();
  for (const spec of specs) {
    let people: Array<{ id: string; name: string }> = [];
    if (spec.type === 'user') people = await repo.findActiveUsers(db, groupId, [spec.userId]);
    else if (spec.type === 'role')
      people = await repo.findRoleHolders(db, { groupId, role: spec.role, companyId: spec.companyId });
    else if (spec.type === 'department_head') {
      const head = await repo.findDepartmentHead(db, context.applicantId);
      people = head && head.status === 'active' ? [{ id: head.id, name: head.name }] : [];
    } else if (context.custodianIds) {
      // A seal still to be made has no custodians yet: its designated keepers stand for them.
      people = await repo.findActiveUsers(db, groupId, context.custodianIds);
    } else people = await repo.findCustodians(db, context.sealIds);
    for (const person of people) found.set(person.id, { id: person.id, name: person.name });
  }
  // Nobody approves their own application.
  found.delete(context.applicantId);
  return [...found.values()];
}

/** Resolves the flow's levels (with their conditions) and CC into people, as the applicant sees before submitting. */
export async function planFor(
  ctx: AppContext,
  db: AppContext['db'] | Transaction,
  q: {
    groupId: string;
    applicantId: string;
    purpose: FlowPurpose;
    category: string | null;
    uses: number;
    seals: SealFacts[];
    company: { path: string; name: string };
    custodianIds?: string[] | undefined;
  },
): Promise<{ flow: Flow; plan: Plan }> {
  const sealIds = q.seals.map((s) => s.id);
  const flow = await resolveFlow(db, {
    groupId: q.groupId,
    purpose: q.purpose,
    category: q.category,
    sealIds,
    companyPath: q.company.path,
    companyName: q.company.name,
  });
  const levels: PlannedLevel[] = [];
  for (const level of flow.definition.levels) {
    if (!levelApplies(level, q.uses, q.seals)) continue;
    let approvers = await resolveApprovers(db, q.groupId, level.approvers, {
      applicantId: q.applicantId,
      sealIds,
      custodianIds: q.custodianIds,
    });
    let deciderRole: PlannedLevel['deciderRole'];
    if (level.deciderRole) {
      // Only people holding the role decide the level: the others named are left out now.
      const company = await findCompany(db, { groupId: q.groupId, id: level.deciderRole.companyId });
      const companyPath = company?.path ?? '';
      deciderRole = { role: level.deciderRole.role, companyId: level.deciderRole.companyId, companyPath };
      const holders = company
        ? await repo.findRoleHoldersOver(db, {
            role: level.deciderRole.role,
            companyPath,
            userIds: approvers.map((a) => a.id),
          })
        : new Set<string>();
      approvers = approvers.filter((a) => holders.has(a.id));
    }
    if (approvers.length === 0) {
      throw new AppError(
        'approver_unresolvable',
        deciderRole
          ? `Level "${level.name}" of flow "${flow.name}" is decided only by a holder of ${deciderRole.role} over its company, and no active one other than you is named; one must be assigned first.`
          : `Level "${level.name}" of flow "${flow.name}" has nobody to approve (no active department head, custodian or role holder other than you); ask a seal administrator to fix the flow.`,
        { level: level.name },
      );
    }
    levels.push({
      name: level.name,
      mode: level.mode,
      approvers,
      remindAfterHours: level.remindAfterHours ?? null,
      escalateAfterHours: level.escalateAfterHours ?? null,
      ...(deciderRole ? { deciderRole } : {}),
    });
  }
  const cc = await resolveApprovers(db, q.groupId, flow.definition.cc, {
    applicantId: q.applicantId,
    sealIds,
    custodianIds: q.custodianIds,
  });
  const allowSameApproverAcrossLevels = flow.definition.allowSameApproverAcrossLevels;
  return {
    flow,
    plan: {
      flowId: flow.id,
      flowName: flow.name,
      flowVersion: flow.version,
      levels: allowSameApproverAcrossLevels ? levels : oneLevelEach(flow.name, levels),
      cc,
      allowSameApproverAcrossLevels,
    },
  };
}

export async function previewSealUse(ctx: AppContext, actor: Actor, draft: SealUseDraft) {
  const { principal } = actor;
  const applicantId = requireUser(principal);
  const seals = await checkSealsForUse(ctx, ctx.db, actor, draft);
  const first = seals[0]!;
  const { plan } = await planFor(ctx, ctx.db, {
    groupId: principal.groupId,
    applicantId,
    purpose: 'seal_use',
    category: draft.category,
    uses: draft.uses,
    seals,
    company: { path: first.companyPath, name: first.companyName },
  });
  return plan;
}

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

export interface ApplicationDraft {
  purpose: FlowPurpose;
  category: string | null;
  lifecycleAction: LifecycleAction | null;
  payload: Record<string, unknown>;
  reason: string;
  uses: number;
  photosPerUse: number;
  documents?: Array<{ sha256: string; name: string }> | undefined;
  /** Checked (and re-checked inside the transaction) by the caller's rules: the seals and their company. */
  check: (
    trx: Transaction,
  ) => Promise<{ seals: SealFacts[]; company: { id: string; path: string; name: string }; custodianIds?: string[] }>;
}

/**
 * Submits an application through its flow: resolves the plan, opens the first level, tells
 * the approvers and the copied. With an idempotency key a repeated submission returns the
 * application the first one created instead of a second one.
 */
export async function submitApplication(
  ctx: AppContext,
  actor: Actor,
  draft: ApplicationDraft,
  idempotencyKey: string | null,
): Promise<{ id: string; created: boolean }> {
  const { principal } = actor;
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
      const { seals, company, custodianIds } = await draft.check(trx);
      const { flow, plan } = await planFor(ctx, trx, {
        groupId: principal.groupId,
        applicantId,
        purpose: draft.purpose,
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
        purpose: draft.purpose,
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
        // Only PDFs the applicant may read themselves can be named for stamping: a hash is not a key
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
        if (blob.mediaType !== 'application/pdf') {
          throw new AppError(
            'file_type_mismatch',
            `${document.name} is ${blob.mediaType}, not a PDF; only PDF documents can be stamped.`,
            { errors: [{ field: `body.documents.${index}.sha256`, message: 'is not a PDF' }] },
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
            purpose: draft.purpose,
            category: draft.category,
            sealIds: seals.map((x) => x.id),
            uses: draft.uses,
            flowVersionId: flow.versionId,
            levels: plan.levels.length,
          },
        },
      });
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

/** Submits a seal-use application (用印申请): every seal checked by the use decision, in the submitting transaction too. */
export async function submitSealUse(ctx: AppContext, actor: Actor, draft: SealUseDraft, idempotencyKey: string | null) {
  return submitApplication(
    ctx,
    actor,
    {
      purpose: 'seal_use',
      category: draft.category,
      lifecycleAction: null,
      payload: {},
      reason: draft.reason,
      uses: draft.uses,
      photosPerUse: draft.photosPerUse,
      documents: draft.documents,
      check: async (trx) => {
        const seals = await checkSealsForUse(ctx, trx, actor, draft);
        const first = seals[0]!;
        return { seals, company: { id: first.companyId, path: first.companyPath, name: first.companyName } };
      },
    },
    idempotencyKey,
  );
}

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
      { sealId: unusable.id, sealStatus: unusable.status },
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
    if (application.purpose === 'seal_use') assertSealsUsable(application.seals);
    if (approvalEffectOf(application.purpose)) {
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
        sealsActive: application.purpose === 'seal_use',
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

/**
 * The outcome of an approved application (marked approved by the caller's writes): per seal, the
 * right to sign the documents (electronic) or a ticket for the approved uses (physical). A
 * lifecycle step changes its seal here and now; the rest joins `writes`.
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
  const effect = approvalEffectOf(application.purpose);
  if (effect) {
    // The effect changes something with the approval: decided under the application's lock, in a transaction.
    if (!trx.isTransaction)
      throw new Error('completeApproval: an application with an effect is approved in a transaction');
    await effect(ctx, trx as Transaction, { groupId: principal.groupId, actor, application, at: now });
    events.push({
      action: 'application.approved',
      target: { type: 'application', id: application.id },
      companyId: application.companyId,
      changes: { authorizationIds: [] },
    });
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
    return [];
  }
  const authorizations = application.seals.map((seal) => ({
    id: newId(),
    groupId: principal.groupId,
    applicationId: application.id,
    sealId: seal.id,
    holderId: application.applicantId,
    kind: seal.kind === 'electronic' ? ('documents' as const) : ('ticket' as const),
    usesTotal: application.uses,
    createdAt: now,
  }));
  writes.add(repo.authorizationsInsert(trx, authorizations));
  events.push({
    action: 'application.approved',
    target: { type: 'application', id: application.id },
    companyId: application.companyId,
    changes: { authorizationIds: authorizations.map((a) => a.id) },
  });
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
    return application.id;
  });
  return getApplication(ctx, actor, applicationId, { participant: true });
}

/**
 * Why someone may not take a task of an application at `level` (by transfer, or standing in as a
 * delegate), or nothing when they may: never the applicant; never someone who already holds a
 * task at that level (one person would decide for two at an all-of level); and, unless the flow
 * allowed one person several levels, never someone who decided another level of the application
 * or is named at another level of its plan (two-person control would become one).
 */
export function whyCannotTake(
  person: { id: string; name: string },
  q: { applicantId: string; plan: Plan; tasks: repo.TaskRow[]; level: number },
): string | undefined {
  if (person.id === q.applicantId) return 'is the applicant, who cannot approve their own application';
  const levelName = (level: number) => `level ${level + 1} (${q.plan.levels[level]?.name ?? ''})`;
  const holds = q.tasks.some(
    (t) => t.level === q.level && t.assigneeId === person.id && (t.status === 'pending' || t.status === 'approved'),
  );
  if (holds) return `${person.name} already holds a task at ${levelName(q.level)} of this application`;
  if (q.plan.allowSameApproverAcrossLevels) return undefined;
  const decided = q.tasks.find(
    (t) => t.level !== q.level && t.assigneeId === person.id && (t.status === 'approved' || t.status === 'rejected'),
  );
  if (decided)
    return `${person.name} decided ${levelName(decided.level)} of this application; one person decides one level`;
  const named = q.plan.levels.findIndex((l, index) => index !== q.level && l.approvers.some((a) => a.id === person.id));
  if (named >= 0)
    return `${person.name} approves ${levelName(named)} of this application; one person decides one level`;
  return undefined;
}

/**
 * People who may not stand in for an approver of `level` as delegates (see `whyCannotTake`): they
 * decided another level or are named at one. Empty when the flow allows one person several levels.
 */
export function mayNotStandIn(plan: Plan, tasks: Array<Pick<repo.TaskRow, 'assigneeId' | 'status'>>, level: number) {
  const out = new Set<string>();
  if (plan.allowSameApproverAcrossLevels) return out;
  for (const t of tasks) if (t.status === 'approved' || t.status === 'rejected') out.add(t.assigneeId);
  plan.levels.forEach((l, index) => {
    if (index !== level) for (const a of l.approvers) out.add(a.id);
  });
  return out;
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
  });
  return getApplication(ctx, actor, applicationId, { participant: true });
}

type ApplicationDetail = NonNullable<Awaited<ReturnType<typeof repo.findApplicationDetail>>>;

/** Visible to its applicant, its approvers (and those they stand in for), its copied recipients, and seal readers over its company. */
function canView(principal: Actor['principal'], detail: ApplicationDetail): boolean {
  const me = principal.kind === 'user' ? principal.id : null;
  const participant =
    me !== null &&
    (me === detail.applicantId ||
      detail.tasks.some((t) => t.assigneeId === me || t.onBehalfOf === me) ||
      detail.cc.some((c) => c.id === me));
  return participant || canRead(principal, 'seals.read', detail.companyPath);
}

async function findVisibleApplication(
  ctx: AppContext,
  actor: Actor,
  applicationId: string,
  known: { participant?: boolean } = {},
): Promise<ApplicationDetail> {
  const detail = await repo.findApplicationDetail(ctx.db, { groupId: actor.principal.groupId, id: applicationId });
  if (!detail || (known.participant !== true && !canView(actor.principal, detail)))
    throw notFound('application_not_found', applicationId);
  return detail;
}

/**
 * An application with its seals, tasks, copied people, authorizations and documents, read in
 * one statement; `participant` when the caller has just decided on it.
 */
export async function getApplication(
  ctx: AppContext,
  actor: Actor,
  applicationId: string,
  known: { participant?: boolean } = {},
) {
  const { companyPath: _path, plan, ...rest } = await findVisibleApplication(ctx, actor, applicationId, known);
  return { ...rest, plan: planOf(plan) };
}

/** Stores a document to stamp (a PDF, checked by its bytes) for the caller's group. */
export async function uploadDocument(
  ctx: AppContext,
  actor: Actor,
  input: { bytes: Buffer; name: string; claimed?: string | undefined },
) {
  const { principal } = actor;
  const createdBy = requireUser(principal);
  const mediaType = assertMediaType(input.bytes, {
    accepted: ['application/pdf'],
    claimed: input.claimed,
    field: 'body',
  });
  const blob = await ctx.db.transaction().execute((trx) =>
    storeBlob(trx, ctx.blobs, {
      groupId: principal.groupId,
      bytes: input.bytes,
      mediaType,
      originalName: input.name,
      createdBy,
      at: ctx.now(),
    }),
  );
  return { sha256: blob.sha256, size: blob.size, mediaType, name: input.name };
}

/** A document of an application, for whoever may see the application (approvers review it before deciding). */
export async function readApplicationDocument(ctx: AppContext, actor: Actor, applicationId: string, sha256: string) {
  const { principal } = actor;
  const application = await findVisibleApplication(ctx, actor, applicationId);
  const document = application.documents.find((d) => d.sha256 === sha256);
  if (!document) throw new AppError('blob_not_found', `Application ${applicationId} names no document ${sha256}.`);
  const { bytes } = await readGroupBlob(ctx.db, ctx.blobs, { groupId: principal.groupId, sha256 });
  return { ...document, bytes };
}

/** The group's pending application of a purpose that waits one at a time (a separation-of-duties change), if any. */
export async function findPendingApplication(db: Db | Transaction, where: { groupId: string; purpose: FlowPurpose }) {
  return repo.findPendingOfPurpose(db, where);
}

export async function listMyApplications(
  ctx: AppContext,
  actor: Actor,
  query: { status?: ApplicationStatus | undefined; limit: number },
) {
  const { principal } = actor;
  const rows = await repo.findApplicationsOf(ctx.db, {
    groupId: principal.groupId,
    applicantId: requireUser(principal),
    ...query,
  });
  return rows.map(({ companyPath: _path, plan: _plan, ...rest }) => rest);
}

export async function listMyTasks(
  ctx: AppContext,
  actor: Actor,
  query: { status?: 'pending' | 'approved' | 'rejected' | 'transferred' | 'cancelled' | undefined; limit: number },
) {
  const { principal } = actor;
  return repo.findTasksOf(ctx.db, { groupId: principal.groupId, assigneeId: requireUser(principal), ...query });
}

/**
 * Revokes what remains of an authorization: the approvers of the application, or a seal
 * administrator over its seal, may stop the uses not yet made (e.g. 用章结束后剩余次数).
 */
export async function revokeAuthorization(ctx: AppContext, actor: Actor, authorizationId: string) {
  const { principal } = actor;
  const userId = requireUser(principal);
  const found = await repo.findAuthorization(ctx.db, { groupId: principal.groupId, id: authorizationId });
  if (!found) throw notFound('authorization_not_found', authorizationId);
  const application = await repo.findApplicationDetail(ctx.db, { groupId: principal.groupId, id: found.applicationId });
  if (!application) throw notFound('authorization_not_found', authorizationId);
  const approved = application.tasks.some(
    (t) => t.status === 'approved' && (t.assigneeId === userId || t.onBehalfOf === userId),
  );
  if (!approved && !canRead(principal, 'seals.manage', application.companyPath)) {
    if (!canView(principal, application)) throw notFound('application_not_found', application.id);
    throw new AppError(
      'forbidden',
      'Only an approver of this application or a seal administrator over its seal can revoke the remaining uses.',
    );
  }
  await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.findAuthorization(
      trx,
      { groupId: principal.groupId, id: authorizationId },
      { lock: true },
    );
    if (!locked || locked.revokedAt) return;
    const now = ctx.now();
    await repo.revokeAuthorization(trx, authorizationId, { at: now, by: userId });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at: now,
      event: {
        action: 'authorization.revoked',
        target: { type: 'application', id: application.id },
        companyId: application.companyId,
        changes: { authorizationId, remainingUses: locked.usesTotal - locked.usesConsumed },
      },
    });
  });
  return getApplication(ctx, actor, application.id);
}

/** Sets a stand-in for a date range: tasks opened in that range go to the delegate. */
export async function createDelegation(
  ctx: AppContext,
  actor: Actor,
  input: { delegateId: string; startsAt: Date; endsAt: Date },
) {
  const { principal } = actor;
  const userId = requireUser(principal);
  const field = (name: string, message: string) =>
    new AppError('validation_failed', message, { errors: [{ field: `body.${name}`, message }] });
  if (input.endsAt <= input.startsAt) throw field('endsAt', 'must be later than startsAt');
  if (input.delegateId === userId) throw field('delegateId', 'cannot be yourself');
  const delegate = await findUser(ctx.db, { groupId: principal.groupId, id: input.delegateId });
  // A delegate works in the delegator's company tree (above or below it), as a transfer target does.
  const own = principal.companyPath ?? '';
  if (!delegate || !(delegate.companyPath.startsWith(own) || own.startsWith(delegate.companyPath)))
    throw notFound('user_not_found', input.delegateId);
  if (delegate.status !== 'active') throw field('delegateId', `${delegate.name} is ${delegate.status}`);
  const id = newId();
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertDelegation(trx, {
      id,
      groupId: principal.groupId,
      userId,
      delegateId: delegate.id,
      startsAt: input.startsAt,
      endsAt: input.endsAt,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'delegation.created',
        target: { type: 'delegation', id },
        companyId: principal.companyId,
        changes: {
          delegationId: id,
          delegateId: delegate.id,
          startsAt: input.startsAt.toISOString(),
          endsAt: input.endsAt.toISOString(),
        },
      },
    });
  });
  return (await repo.findDelegationsOf(ctx.db, principal.groupId, userId)).find((d) => d.id === id)!;
}

export async function listDelegations(ctx: AppContext, actor: Actor) {
  const { principal } = actor;
  return repo.findDelegationsOf(ctx.db, principal.groupId, requireUser(principal));
}

export async function revokeDelegation(ctx: AppContext, actor: Actor, delegationId: string) {
  const { principal } = actor;
  const userId = requireUser(principal);
  await ctx.db.transaction().execute(async (trx) => {
    const revoked = await repo.revokeDelegation(
      trx,
      { groupId: principal.groupId, userId, id: delegationId },
      ctx.now(),
    );
    if (!revoked) throw notFound('delegation_not_found', delegationId);
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      event: {
        action: 'delegation.revoked',
        target: { type: 'delegation', id: delegationId },
        companyId: principal.companyId,
        changes: { delegationId },
      },
    });
  });
}
