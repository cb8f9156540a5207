import { sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { WriteBatch, type PendingWrite } from '../../db/batch.js';
import { precompiled } from '../../db/precompiled.js';
import type { Recipient } from '../notifications/index.js';
import type {
  ApplicationStatus,
  Db,
  FlowPurpose,
  LifecycleAction,
  Role,
  TaskStatus,
  Transaction,
} from '../../db/schema.js';

/** The seals an application is about, by name; a seal still to be made, by the name it will have. */
const sealNamesOfApplication = sql<string[]>`case
  when exists (select 1 from application_seals x where x.application_id = a.id)
    then array(select s.name from application_seals x join seals s on s.id = x.seal_id where x.application_id = a.id order by s.code)
  when a.payload->>'name' is not null then array[a.payload->>'name']
  else '{}'::text[] end`;

/**
 * Whether a person takes part in the application `a` of the query around it: they applied, an
 * approval task is theirs (or a delegate's on their behalf), or they are copied.
 */
export function takesPart(userId: string) {
  return sql<boolean>`(a.applicant_id = ${userId}
    or exists (select 1 from approval_tasks t where t.application_id = a.id and (t.assignee_id = ${userId} or t.on_behalf_of = ${userId}))
    or exists (select 1 from application_cc k where k.application_id = a.id and k.user_id = ${userId}))`;
}

/** Whether an application that names this document is one the person applied for, approves or is copied on. */
export async function isDocumentOfApplicationOf(
  db: Db | Transaction,
  where: { groupId: string; sha256: string; userId: string },
): Promise<boolean> {
  const row = await db
    .selectFrom('application_documents as d')
    .innerJoin('applications as a', 'a.id', 'd.application_id')
    .select('d.application_id')
    .where('d.group_id', '=', where.groupId)
    .where('d.sha256', '=', where.sha256)
    .where(takesPart(where.userId))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export interface ApplicationRow {
  id: string;
  companyId: string;
  companyPath: string;
  applicantId: string;
  applicantName: string;
  purpose: FlowPurpose;
  category: string | null;
  lifecycleAction: LifecycleAction | null;
  payload: Record<string, unknown>;
  reason: string;
  uses: number;
  photosPerUse: number;
  flowVersionId: string;
  plan: unknown;
  currentLevel: number;
  status: ApplicationStatus;
  closedReason: string | null;
  createdAt: Date;
  decidedAt: Date | null;
  sealNames: string[];
}

function selectApplications(db: Db | Transaction) {
  return db
    .selectFrom('applications as a')
    .innerJoin('companies as c', 'c.id', 'a.company_id')
    .innerJoin('users as u', 'u.id', 'a.applicant_id')
    .select([
      'a.id',
      'a.company_id as companyId',
      'c.path as companyPath',
      'a.applicant_id as applicantId',
      'u.name as applicantName',
      'a.purpose',
      'a.category',
      'a.lifecycle_action as lifecycleAction',
      'a.payload',
      'a.reason',
      'a.uses',
      'a.photos_per_use as photosPerUse',
      'a.flow_version_id as flowVersionId',
      'a.plan',
      'a.current_level as currentLevel',
      'a.status',
      'a.closed_reason as closedReason',
      'a.created_at as createdAt',
      'a.decided_at as decidedAt',
      sealNamesOfApplication.as('sealNames'),
    ]);
}

/**
 * Locks an application and reads it under the lock, in one statement: by its id, or by the
 * id of one of its tasks. Every transition but an optimistic approval takes this lock first
 * (those name the application's version instead, which each locked transition moves).
 */
export async function lockAndReadApplication(
  trx: Transaction,
  where: { groupId: string; id: string } | { groupId: string; taskId: string },
): Promise<ApplicationRow | undefined> {
  const query = selectApplications(trx).where('a.group_id', '=', where.groupId);
  const located =
    'id' in where
      ? query.where('a.id', '=', where.id)
      : query.where('a.id', '=', (eb) =>
          eb
            .selectFrom('approval_tasks')
            .select('application_id')
            .where('group_id', '=', where.groupId)
            .where('id', '=', where.taskId),
        );
  return located.forUpdate('a').executeTakeFirst();
}

/**
 * What deciding a task needs, read in one statement without a lock: the application (with its
 * version, seals and applicant's addresses) and all its tasks, as of one snapshot. A decision made
 * on it is written naming that version (`decisionWrites`' `readVersion`).
 */
export async function findDecisionState(db: Db | Transaction, where: { groupId: string; taskId: string; at: Date }) {
  const [row] = await selectDecisionState(db, { groupId: where.groupId, taskId: where.taskId, at: where.at });
  if (!row) return undefined;
  const { nextLevelPeople, ...detail } = reviveDetail(row);
  const next = (detail.plan as { levels: Array<{ approvers: Array<{ id: string }> }> }).levels[detail.currentLevel + 1];
  return {
    /** The application as its page shows it, with its version and the applicant's addresses. */
    application: detail,
    tasks: detail.tasks,
    /** Who the level after the current one would go to, as of `at` (none after the last level). */
    nextLevel: next
      ? levelPeopleFrom(
          next.approvers.map((a) => a.id),
          nextLevelPeople as unknown as LevelPersonRow[],
        )
      : undefined,
  };
}

const selectDecisionState = precompiled((db, where: { groupId: string; taskId: string; at: Date }) =>
  withDetail(db, selectApplications(db))
    .select([
      ...applicantContact,
      'a.version',
      // The next level's approvers (as the plan names them) and whoever stands in for them: the read
      // a decision opening that level would otherwise make on its own.
      sql<unknown[]>`(select coalesce(json_agg(p), '[]') from (
        select u.id, u.name, u.email, u.phone, u.locale, u.status, null::uuid as "standsInFor", null::timestamptz as "delegatedAt"
          from users u
         where u.group_id = a.group_id and u.id in (select (x->>'id')::uuid from jsonb_array_elements(a.plan->'levels'->(a.current_level + 1)->'approvers') x)
        union all
        select u.id, u.name, u.email, u.phone, u.locale, u.status, d.user_id, d.created_at
          from delegations d join users u on u.id = d.delegate_id
         where d.group_id = a.group_id and d.revoked_at is null and d.starts_at <= ${where.at} and d.ends_at > ${where.at} and u.status = 'active'
           and d.user_id in (select (x->>'id')::uuid from jsonb_array_elements(a.plan->'levels'->(a.current_level + 1)->'approvers') x)
      ) p)`.as('nextLevelPeople'),
    ])
    .where('a.group_id', '=', where.groupId)
    .where('a.id', '=', (eb) =>
      eb
        .selectFrom('approval_tasks')
        .select('application_id')
        .where('group_id', '=', where.groupId)
        .where('id', '=', where.taskId),
    ),
);

/**
 * The application a task belongs to, locked as `lockAndReadApplication` does, with what approving
 * it may need beyond its row: its seals, and how to reach its applicant.
 */
export async function lockForDecision(trx: Transaction, where: { groupId: string; taskId: string }) {
  const [row] = await selectForDecision(trx, { groupId: where.groupId, taskId: where.taskId });
  return row;
}

const selectForDecision = precompiled((trx, where: { groupId: string; taskId: string }) =>
  withDecisionFacts(selectApplications(trx))
    .where('a.group_id', '=', where.groupId)
    .where('a.id', '=', (eb) =>
      eb
        .selectFrom('approval_tasks')
        .select('application_id')
        .where('group_id', '=', where.groupId)
        .where('id', '=', where.taskId),
    )
    .forUpdate('a'),
);

/** An application's seals (what its authorizations are for) and how to reach its applicant: what approving it needs beyond its row. */
function withDecisionFacts(query: ReturnType<typeof selectApplications>) {
  return query.select((eb) => [
    jsonArrayFrom(
      eb
        .selectFrom('application_seals as x')
        .innerJoin('seals as s', 's.id', 'x.seal_id')
        .select(['s.id', 's.name', 's.kind'])
        .whereRef('x.application_id', '=', 'a.id')
        .orderBy('s.code'),
    ).as('seals'),
    ...applicantContact,
  ]);
}

/** How to reach the applicant (`u` in `selectApplications`), to tell them the outcome. */
const applicantContact = [
  'u.email as applicantEmail',
  'u.phone as applicantPhone',
  'u.locale as applicantLocale',
  'u.status as applicantStatus',
] as const;

/** JSON carries timestamps as text: a nested row's date, back to a Date. */
const revive = (value: string | null): Date | null => (value === null ? null : new Date(value));

/**
 * An application with everything its page shows (seals, tasks, copied people, authorizations,
 * documents) in one statement, so a decision answers with one round trip instead of six.
 */
const selectApplicationDetail = precompiled((db, where: { groupId: string; id: string }) =>
  withDetail(db, selectApplications(db)).where('a.group_id', '=', where.groupId).where('a.id', '=', where.id),
);

/** Everything an application's page shows beside its row: seals, tasks, copied people, authorizations, documents. */
function withDetail(db: Db | Transaction, query: ReturnType<typeof selectApplications>) {
  return query.select((eb) => [
    jsonArrayFrom(
      eb
        .selectFrom('application_seals as x')
        .innerJoin('seals as s', 's.id', 'x.seal_id')
        .select(['s.id', 's.name', 's.code', 's.kind', 's.type', 's.status', 's.company_id as companyId'])
        .whereRef('x.application_id', '=', 'a.id')
        .orderBy('s.code'),
    ).as('seals'),
    tasksOfApplication(db).as('tasks'),
    jsonArrayFrom(
      eb
        .selectFrom('application_cc as x')
        .innerJoin('users as cu', 'cu.id', 'x.user_id')
        .select(['cu.id', 'cu.name'])
        .whereRef('x.application_id', '=', 'a.id')
        .orderBy('cu.name'),
    ).as('cc'),
    jsonArrayFrom(
      eb
        .selectFrom('authorizations as z')
        .select([
          'z.id',
          'z.seal_id as sealId',
          'z.holder_id as holderId',
          'z.kind',
          'z.uses_total as usesTotal',
          'z.uses_consumed as usesConsumed',
          'z.created_at as createdAt',
          'z.revoked_at as revokedAt',
        ])
        .whereRef('z.application_id', '=', 'a.id')
        .orderBy('z.created_at')
        .orderBy('z.id'),
    ).as('authorizations'),
    jsonArrayFrom(
      eb
        .selectFrom('application_documents as d')
        .innerJoin('blobs as b', (join) =>
          join.onRef('b.group_id', '=', 'd.group_id').onRef('b.sha256', '=', 'd.sha256'),
        )
        .select(['d.sha256', 'd.name', 'b.size', 'b.media_type as mediaType'])
        .whereRef('d.application_id', '=', 'a.id')
        .orderBy('d.position'),
    ).as('documents'),
  ]);
}

/** A detail read as JSON: dates of its nested rows back from text (bigint counts are numbers already). */
function reviveDetail<R extends { tasks: unknown; authorizations: unknown }>(
  row: R,
): Omit<R, 'tasks' | 'authorizations'> & { tasks: TaskRow[]; authorizations: AuthorizationRow[] } {
  type Json<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };
  const authorizations = (row.authorizations as Array<Json<AuthorizationRow>>).map((z): AuthorizationRow => ({
    ...z,
    createdAt: new Date(z.createdAt),
    revokedAt: revive(z.revokedAt),
  }));
  return { ...row, tasks: reviveTasks(row.tasks), authorizations };
}

export interface AuthorizationRow {
  id: string;
  sealId: string;
  holderId: string;
  kind: 'documents' | 'ticket';
  usesTotal: number;
  usesConsumed: number;
  createdAt: Date;
  revokedAt: Date | null;
}

export async function findApplicationDetail(db: Db | Transaction, where: { groupId: string; id: string }) {
  const [row] = await selectApplicationDetail(db, { groupId: where.groupId, id: where.id });
  return row ? reviveDetail(row) : undefined;
}

const selectApplicationOfTask = precompiled((db, where: { groupId: string; taskId: string }) =>
  withDetail(db, selectApplications(db))
    .where('a.group_id', '=', where.groupId)
    .where('a.id', '=', (eb) =>
      eb
        .selectFrom('approval_tasks')
        .select('application_id')
        .where('group_id', '=', where.groupId)
        .where('id', '=', where.taskId),
    ),
);

/** The application one of its tasks belongs to, with everything its page shows (`findApplicationDetail`). */
export async function findApplicationOfTask(db: Db | Transaction, where: { groupId: string; taskId: string }) {
  const [row] = await selectApplicationOfTask(db, { groupId: where.groupId, taskId: where.taskId });
  return row ? reviveDetail(row) : undefined;
}

export async function findApplicationByKey(
  db: Db | Transaction,
  where: { groupId: string; applicantId: string; key: string },
) {
  return db
    .selectFrom('applications')
    .select('id')
    .where('group_id', '=', where.groupId)
    .where('applicant_id', '=', where.applicantId)
    .where('idempotency_key', '=', where.key)
    .executeTakeFirst();
}

export async function insertApplication(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    companyId: string;
    applicantId: string;
    purpose: FlowPurpose;
    category: string | null;
    lifecycleAction: LifecycleAction | null;
    payload: Record<string, unknown>;
    reason: string;
    uses: number;
    photosPerUse: number;
    flowVersionId: string;
    plan: unknown;
    idempotencyKey: string | null;
  },
): Promise<void> {
  await trx
    .insertInto('applications')
    .values({
      id: row.id,
      group_id: row.groupId,
      company_id: row.companyId,
      applicant_id: row.applicantId,
      purpose: row.purpose,
      category: row.category,
      lifecycle_action: row.lifecycleAction,
      payload: JSON.stringify(row.payload),
      reason: row.reason,
      uses: row.uses,
      photos_per_use: row.photosPerUse,
      flow_version_id: row.flowVersionId,
      plan: JSON.stringify(row.plan),
      status: 'pending',
      idempotency_key: row.idempotencyKey,
      decided_at: null,
    })
    .execute();
}

/** Changes an application (or, with no patch, only marks it changed): its version moves either way. */
export async function updateApplication(
  trx: Transaction,
  id: string,
  patch: { status?: ApplicationStatus; current_level?: number; decided_at?: Date | null },
) {
  await trx
    .updateTable('applications')
    .set({ ...patch, version: sql<number>`version + 1` })
    .where('id', '=', id)
    .execute();
}

export async function insertApplicationSeals(
  trx: Transaction,
  groupId: string,
  applicationId: string,
  sealIds: string[],
) {
  if (sealIds.length === 0) return;
  await trx
    .insertInto('application_seals')
    .values(sealIds.map((sealId) => ({ group_id: groupId, application_id: applicationId, seal_id: sealId })))
    .execute();
}

export async function insertApplicationCc(trx: Transaction, groupId: string, applicationId: string, userIds: string[]) {
  if (userIds.length === 0) return;
  await trx
    .insertInto('application_cc')
    .values(userIds.map((userId) => ({ group_id: groupId, application_id: applicationId, user_id: userId })))
    .execute();
}

export interface TaskRow {
  id: string;
  applicationId: string;
  level: number;
  assigneeId: string;
  assigneeName: string;
  onBehalfOf: string | null;
  onBehalfOfName: string | null;
  via: 'delegation' | 'transfer' | 'escalation' | null;
  status: TaskStatus;
  comment: string | null;
  createdAt: Date;
  decidedAt: Date | null;
}

function selectTasks(db: Db | Transaction) {
  return db
    .selectFrom('approval_tasks as t')
    .innerJoin('users as u', 'u.id', 't.assignee_id')
    .leftJoin('users as b', 'b.id', 't.on_behalf_of')
    .select([
      't.id',
      't.application_id as applicationId',
      't.level',
      't.assignee_id as assigneeId',
      'u.name as assigneeName',
      't.on_behalf_of as onBehalfOf',
      'b.name as onBehalfOfName',
      't.via',
      't.status',
      't.comment',
      't.created_at as createdAt',
      't.decided_at as decidedAt',
    ]);
}

/** Tasks in the order they were opened: by level, then as created (the id breaks ties). */
function inOpenedOrder(query: ReturnType<typeof selectTasks>) {
  return query.orderBy('t.level').orderBy('t.created_at').orderBy('t.id');
}

/** An application's tasks as a JSON array, for a read of the application (`a`) with everything else. */
function tasksOfApplication(db: Db | Transaction) {
  return jsonArrayFrom(inOpenedOrder(selectTasks(db).where('t.application_id', '=', sql.ref<string>('a.id'))));
}

/** Tasks read as JSON: their dates came back as text. */
function reviveTasks(json: unknown): TaskRow[] {
  return (
    json as Array<Omit<TaskRow, 'createdAt' | 'decidedAt'> & { createdAt: string; decidedAt: string | null }>
  ).map((t) => ({ ...t, createdAt: new Date(t.createdAt), decidedAt: revive(t.decidedAt) }));
}

const selectTasksOfApplication = precompiled((db, where: { applicationId: string }) =>
  inOpenedOrder(selectTasks(db).where('t.application_id', '=', where.applicationId)),
);

export async function findTasksOfApplication(db: Db | Transaction, applicationId: string): Promise<TaskRow[]> {
  return selectTasksOfApplication(db, { applicationId });
}

export async function findTask(
  db: Db | Transaction,
  where: { groupId: string; id: string },
): Promise<TaskRow | undefined> {
  return selectTasks(db).where('t.group_id', '=', where.groupId).where('t.id', '=', where.id).executeTakeFirst();
}

/** The approver's inbox: tasks with their application's headline. */
export async function findTasksOf(
  db: Db,
  where: { groupId: string; assigneeId: string; status?: TaskStatus | undefined; limit: number },
) {
  let query = selectTasks(db)
    .innerJoin('applications as a', 'a.id', 't.application_id')
    .innerJoin('users as ap', 'ap.id', 'a.applicant_id')
    .select([
      'a.reason',
      'a.category',
      'a.uses',
      'a.purpose',
      'a.status as applicationStatus',
      'ap.name as applicantName',
      'a.created_at as submittedAt',
      sealNamesOfApplication.as('sealNames'),
    ])
    .where('t.group_id', '=', where.groupId)
    .where('t.assignee_id', '=', where.assigneeId);
  if (where.status) query = query.where('t.status', '=', where.status);
  return query.orderBy('t.created_at', 'desc').limit(where.limit).execute();
}

type NewTask = {
  id: string;
  groupId: string;
  applicationId: string;
  level: number;
  assigneeId: string;
  onBehalfOf: string | null;
  via: 'delegation' | 'transfer' | 'escalation' | null;
  remindAt: Date | null;
  createdAt: Date;
};

export async function insertTasks(trx: Transaction, rows: NewTask[]) {
  if (rows.length === 0) return;
  await tasksInsert(trx, rows).execute();
}

export function tasksInsert(trx: Db | Transaction, rows: NewTask[]) {
  return trx.insertInto('approval_tasks').values(
    rows.map((r) => ({
      id: r.id,
      group_id: r.groupId,
      application_id: r.applicationId,
      level: r.level,
      assignee_id: r.assigneeId,
      on_behalf_of: r.onBehalfOf,
      via: r.via,
      status: 'pending' as const,
      comment: null,
      decided_at: null,
      remind_at: r.remindAt,
      reminded_at: null,
      created_at: r.createdAt,
    })),
  );
}

export async function decideTask(
  trx: Transaction,
  id: string,
  change: { status: TaskStatus; comment: string | null; at: Date },
) {
  await trx
    .updateTable('approval_tasks')
    .set({ status: change.status, comment: change.comment, decided_at: change.at })
    .where('id', '=', id)
    .execute();
}

/**
 * A decision and what it does to the application, as writes for one statement: the task's
 * outcome, the other tasks still pending (at one level, or all) cancelled, and the application's
 * new level or final status with its version moved. The other tasks are named by id so the
 * decided one is never among them. With `readVersion` the application's update changes nothing
 * unless the application is still at the version the decision was made on (a batch's guard).
 */
export function decisionWrites(
  trx: Db | Transaction,
  decision: { taskId: string; applicationId: string; status: TaskStatus; comment: string | null; at: Date },
  effects: {
    cancelPending?: { level?: number | undefined } | undefined;
    application?: { status?: ApplicationStatus; current_level?: number; decided_at?: Date } | undefined;
    readVersion?: number | undefined;
    /** The application's update changes nothing unless every seal it names is active (see `readVersion`). */
    sealsActive?: boolean | undefined;
  },
): { application: PendingWrite; others: PendingWrite[] } {
  const { cancelPending } = effects;
  let application = trx
    .updateTable('applications')
    .set({ ...effects.application, version: sql<number>`version + 1` })
    .where('id', '=', decision.applicationId);
  if (effects.readVersion !== undefined) application = application.where('version', '=', effects.readVersion);
  if (effects.sealsActive && effects.readVersion === undefined)
    throw new Error('decisionWrites: sealsActive is a guard, so it needs readVersion');
  if (effects.sealsActive)
    application = application.where(
      sql<boolean>`not exists (select 1 from application_seals x join seals s on s.id = x.seal_id where x.application_id = applications.id and s.status <> 'active')`,
    );
  let cancel: PendingWrite | null = null;
  if (cancelPending) {
    let pending = trx
      .updateTable('approval_tasks')
      .set({ status: 'cancelled', decided_at: decision.at })
      .where('application_id', '=', decision.applicationId)
      .where('status', '=', 'pending')
      .where('id', '<>', decision.taskId);
    if (cancelPending.level !== undefined) pending = pending.where('level', '=', cancelPending.level);
    cancel = pending;
  }
  const decided = trx
    .updateTable('approval_tasks')
    .set({ status: decision.status, comment: decision.comment, decided_at: decision.at })
    .where('id', '=', decision.taskId);
  return { application, others: cancel ? [decided, cancel] : [decided] };
}

export async function recordDecision(
  trx: Transaction,
  decision: Parameters<typeof decisionWrites>[1],
  effects: Parameters<typeof decisionWrites>[2],
): Promise<void> {
  const { application, others } = decisionWrites(trx, decision, effects);
  await new WriteBatch().add(application, ...others).run(trx);
}

/**
 * Closes the pending seal-use applications naming a seal, and cancels their pending tasks, in the
 * caller's transaction: their version moves, so an approval read before cannot be written after.
 * Answers what telling their applicants needs.
 */
export async function closePendingSealUse(
  trx: Transaction,
  q: { groupId: string; sealId: string; reason: string; at: Date },
) {
  const closed = await trx
    .updateTable('applications as a')
    .set({ status: 'closed', closed_reason: q.reason, decided_at: q.at, version: sql<number>`a.version + 1` })
    .where('a.group_id', '=', q.groupId)
    .where('a.purpose', '=', 'seal_use')
    .where('a.status', '=', 'pending')
    .where('a.id', 'in', (eb) =>
      eb
        .selectFrom('application_seals')
        .select('application_id')
        .where('group_id', '=', q.groupId)
        .where('seal_id', '=', q.sealId),
    )
    .returning([
      'a.id',
      'a.applicant_id as applicantId',
      'a.company_id as companyId',
      'a.category',
      sealNamesOfApplication.as('sealNames'),
    ])
    .execute();
  if (closed.length > 0)
    await trx
      .updateTable('approval_tasks')
      .set({ status: 'cancelled', decided_at: q.at })
      .where(
        'application_id',
        'in',
        closed.map((a) => a.id),
      )
      .where('status', '=', 'pending')
      .execute();
  return closed;
}

export async function cancelPendingTasks(trx: Transaction, applicationId: string, at: Date, level?: number) {
  let query = trx
    .updateTable('approval_tasks')
    .set({ status: 'cancelled', decided_at: at })
    .where('application_id', '=', applicationId)
    .where('status', '=', 'pending');
  if (level !== undefined) query = query.where('level', '=', level);
  await query.execute();
}

/** The group's pending application of a purpose that waits one at a time (a separation-of-duties change), if any. */
export async function findPendingOfPurpose(db: Db | Transaction, where: { groupId: string; purpose: FlowPurpose }) {
  return selectApplications(db)
    .where('a.group_id', '=', where.groupId)
    .where('a.purpose', '=', where.purpose)
    .where('a.status', '=', 'pending')
    .orderBy('a.created_at')
    .executeTakeFirst();
}

export async function findApplicationsOf(
  db: Db,
  where: { groupId: string; applicantId: string; status?: ApplicationStatus | undefined; limit: number },
) {
  let query = selectApplications(db)
    .where('a.group_id', '=', where.groupId)
    .where('a.applicant_id', '=', where.applicantId);
  if (where.status) query = query.where('a.status', '=', where.status);
  return query.orderBy('a.created_at', 'desc').limit(where.limit).execute();
}

export async function findRoleHolders(db: Db | Transaction, where: { groupId: string; role: Role; companyId: string }) {
  return db
    .selectFrom('role_assignments as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['u.id', 'u.name'])
    .where('r.group_id', '=', where.groupId)
    .where('r.role', '=', where.role)
    .where('r.company_id', '=', where.companyId)
    .where('u.status', '=', 'active')
    .orderBy('u.name')
    .execute();
}

/** Which of these people hold the role over the company at `companyPath` (assigned there or above it), and are active. */
export async function findRoleHoldersOver(
  db: Db | Transaction,
  q: { role: Role; companyPath: string; userIds: string[] },
): Promise<Set<string>> {
  if (q.userIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('role_assignments as r')
    .innerJoin('companies as c', 'c.id', 'r.company_id')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select('r.user_id as userId')
    .where('r.user_id', 'in', q.userIds)
    .where('r.role', '=', q.role)
    .where('u.status', '=', 'active')
    .where(sql<boolean>`${q.companyPath} like c.path || '%'`)
    .execute();
  return new Set(rows.map((r) => r.userId));
}

export async function findDepartmentHead(db: Db | Transaction, userId: string) {
  return db
    .selectFrom('users as a')
    .innerJoin('departments as d', 'd.id', 'a.department_id')
    .innerJoin('users as h', 'h.id', 'd.head_user_id')
    .select(['h.id', 'h.name', 'h.status', 'd.name as departmentName'])
    .where('a.id', '=', userId)
    .executeTakeFirst();
}

export async function findCustodians(db: Db | Transaction, sealIds: string[]) {
  if (sealIds.length === 0) return [];
  return db
    .selectFrom('seal_custodians as k')
    .innerJoin('users as u', 'u.id', 'k.user_id')
    .select(['u.id', 'u.name'])
    .where('k.seal_id', 'in', sealIds)
    .where('u.status', '=', 'active')
    .distinct()
    .execute();
}

export async function findActiveUsers(db: Db | Transaction, groupId: string, ids: string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('users')
    .select(['id', 'name', 'company_id as companyId'])
    .where('group_id', '=', groupId)
    .where('id', 'in', ids)
    .where('status', '=', 'active')
    .execute();
}

/** Live delegations at a moment: who stands in for whom. */
const contactColumns = ['u.id', 'u.name', 'u.email', 'u.phone', 'u.locale', 'u.status'] as const;

const selectLevelPeople = precompiled((db, where: { groupId: string; approverIds: string[]; at: Date }) =>
  db
    .selectFrom('users as u')
    .select([
      ...contactColumns,
      sql<string | null>`null::uuid`.as('standsInFor'),
      sql<Date | null>`null::timestamptz`.as('delegatedAt'),
    ])
    .where('u.group_id', '=', where.groupId)
    .where('u.id', '=', sql<string>`any(${where.approverIds}::uuid[])`)
    .unionAll(
      db
        .selectFrom('delegations as d')
        .innerJoin('users as u', 'u.id', 'd.delegate_id')
        .select([...contactColumns, 'd.user_id as standsInFor', 'd.created_at as delegatedAt'])
        .where('d.group_id', '=', where.groupId)
        .where('d.user_id', '=', sql<string>`any(${where.approverIds}::uuid[])`)
        .where('d.revoked_at', 'is', null)
        .where('d.starts_at', '<=', where.at)
        .where('d.ends_at', '>', where.at)
        .where('u.status', '=', 'active'),
    ),
);

/**
 * Everyone a level may go to, in one read: each approver, and the delegate standing in for them
 * at `at` (an active person; the newest delegation wins), with what notifying them needs.
 */
export async function findLevelPeople(
  db: Db | Transaction,
  groupId: string,
  approverIds: string[],
  at: Date,
): Promise<LevelPeople> {
  if (approverIds.length === 0) return { approverIds, delegates: new Map(), people: [] };
  return levelPeopleFrom(approverIds, await selectLevelPeople(db, { groupId, approverIds, at }));
}

/** A level's approvers, who stands in for whom, and everyone's addresses. */
export interface LevelPeople {
  approverIds: string[];
  delegates: Map<string, { id: string; name: string }>;
  people: Recipient[];
}

type LevelPersonRow = Recipient & { standsInFor: string | null; delegatedAt: Date | string | null };

function levelPeopleFrom(approverIds: string[], rows: LevelPersonRow[]): LevelPeople {
  const delegates = new Map<string, { id: string; name: string; at: number }>();
  const people = new Map<string, Recipient>();
  for (const { standsInFor, delegatedAt, ...person } of rows) {
    people.set(person.id, person);
    if (standsInFor === null) continue;
    const known = delegates.get(standsInFor);
    const when = new Date(delegatedAt!).getTime();
    if (!known || when > known.at) delegates.set(standsInFor, { id: person.id, name: person.name, at: when });
  }
  return {
    approverIds,
    delegates: new Map([...delegates].map(([approver, { id, name }]) => [approver, { id, name }])),
    people: [...people.values()],
  };
}

export async function insertDelegation(
  trx: Transaction,
  row: { id: string; groupId: string; userId: string; delegateId: string; startsAt: Date; endsAt: Date },
) {
  await trx
    .insertInto('delegations')
    .values({
      id: row.id,
      group_id: row.groupId,
      user_id: row.userId,
      delegate_id: row.delegateId,
      starts_at: row.startsAt,
      ends_at: row.endsAt,
      revoked_at: null,
    })
    .execute();
}

export async function findDelegationsOf(db: Db, groupId: string, userId: string) {
  return db
    .selectFrom('delegations as d')
    .innerJoin('users as u', 'u.id', 'd.delegate_id')
    .select([
      'd.id',
      'd.delegate_id as delegateId',
      'u.name as delegateName',
      'd.starts_at as startsAt',
      'd.ends_at as endsAt',
      'd.revoked_at as revokedAt',
      'd.created_at as createdAt',
    ])
    .where('d.group_id', '=', groupId)
    .where('d.user_id', '=', userId)
    .orderBy('d.created_at', 'desc')
    .limit(200)
    .execute();
}

export async function revokeDelegation(
  trx: Transaction,
  where: { groupId: string; userId: string; id: string },
  at: Date,
): Promise<boolean> {
  const result = await trx
    .updateTable('delegations')
    .set({ revoked_at: at })
    .where('group_id', '=', where.groupId)
    .where('user_id', '=', where.userId)
    .where('id', '=', where.id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function insertAuthorizations(trx: Transaction, rows: NewAuthorization[]) {
  await authorizationsInsert(trx, rows)?.execute();
}

export type NewAuthorization = {
  id: string;
  groupId: string;
  applicationId: string;
  sealId: string;
  holderId: string;
  kind: 'documents' | 'ticket';
  usesTotal: number;
  createdAt: Date;
};

export function authorizationsInsert(trx: Db | Transaction, rows: NewAuthorization[]) {
  if (rows.length === 0) return null;
  return trx.insertInto('authorizations').values(
    rows.map((r) => ({
      id: r.id,
      group_id: r.groupId,
      application_id: r.applicationId,
      seal_id: r.sealId,
      holder_id: r.holderId,
      kind: r.kind,
      uses_total: r.usesTotal,
      revoked_at: null,
      revoked_by: null,
      created_at: r.createdAt,
    })),
  );
}

export async function findAuthorization(
  db: Db | Transaction,
  where: { groupId: string; id: string },
  options: { lock?: boolean } = {},
) {
  const query = db
    .selectFrom('authorizations')
    .select([
      'id',
      'application_id as applicationId',
      'seal_id as sealId',
      'holder_id as holderId',
      'kind',
      'uses_total as usesTotal',
      'uses_consumed as usesConsumed',
      'revoked_at as revokedAt',
    ])
    .where('group_id', '=', where.groupId)
    .where('id', '=', where.id);
  return options.lock ? query.forUpdate().executeTakeFirst() : query.executeTakeFirst();
}

export async function revokeAuthorization(trx: Transaction, id: string, change: { at: Date; by: string }) {
  await trx
    .updateTable('authorizations')
    .set({ revoked_at: change.at, revoked_by: change.by })
    .where('id', '=', id)
    .execute();
}

export async function markReminded(trx: Transaction, taskId: string, at: Date) {
  await trx.updateTable('approval_tasks').set({ reminded_at: at }).where('id', '=', taskId).execute();
}

/** Links a seal made by an approved production application to it, so the application names it from then on. */
export async function linkApplicationSeal(
  trx: Transaction,
  q: { groupId: string; applicationId: string; sealId: string },
) {
  await trx
    .insertInto('application_seals')
    .values({ group_id: q.groupId, application_id: q.applicationId, seal_id: q.sealId })
    .execute();
}

export async function insertApplicationDocuments(
  trx: Transaction,
  rows: Array<{ groupId: string; applicationId: string; sha256: string; name: string; position: number }>,
) {
  if (rows.length === 0) return;
  await trx
    .insertInto('application_documents')
    .values(
      rows.map((r) => ({
        group_id: r.groupId,
        application_id: r.applicationId,
        sha256: r.sha256,
        name: r.name,
        position: r.position,
      })),
    )
    .execute();
}
