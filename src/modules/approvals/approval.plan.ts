import type { FlowPurpose, Role, Transaction } from '../../db/schema.js';
import type { AppContext } from '../../server/context.js';
import { AppError } from '../../server/errors.js';
import * as repo from './approval.repository.js';
import { resolveFlow, type Flow } from './flow.service.js';
import { findCompany } from '../companies/index.js';
import type { ApproverSpec, FlowDefinition } from './flow.schema.js';
import type { SealFacts } from './approval.purposes.js';

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
