import { sql } from 'kysely';
import type { Db, Transaction, WebhookDeliveryStatus } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';
import { jobsInsert, type NewJobRow } from '../../jobs/job.repository.js';

/** An endpoint as services see it: never its sealed secrets (`findDeliveryTarget` alone reads those). */
export interface EndpointRecord {
  id: string;
  companyId: string;
  companyPath: string;
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  previousSecretUntil: Date | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

function selectEndpoints(db: Db | Transaction) {
  return db
    .selectFrom('webhook_endpoints as e')
    .innerJoin('companies as c', 'c.id', 'e.company_id')
    .select([
      'e.id',
      'e.company_id as companyId',
      'c.path as companyPath',
      'e.url',
      'e.description',
      'e.event_types as eventTypes',
      'e.enabled',
      'e.previous_secret_until as previousSecretUntil',
      'e.created_by as createdBy',
      'e.created_at as createdAt',
      'e.updated_at as updatedAt',
    ]);
}

export async function findEndpoints(db: Db, filter: { groupId: string; scope: string[] }): Promise<EndpointRecord[]> {
  return selectEndpoints(db)
    .where('e.group_id', '=', filter.groupId)
    .where((eb) => inScope(eb, 'c.path', filter.scope))
    .orderBy('e.created_at', 'desc')
    .orderBy('e.id', 'desc')
    .limit(1000)
    .execute();
}

/** One endpoint within the scope; `lock` holds it until the transaction ends (changes and rotations queue up behind it). */
export async function findEndpoint(
  db: Db | Transaction,
  where: { groupId: string; id: string; scope: string[] },
  options: { lock?: boolean } = {},
): Promise<EndpointRecord | undefined> {
  const query = selectEndpoints(db)
    .where('e.group_id', '=', where.groupId)
    .where('e.id', '=', where.id)
    .where((eb) => inScope(eb, 'c.path', where.scope));
  return options.lock ? query.forUpdate('e').executeTakeFirst() : query.executeTakeFirst();
}

export async function insertEndpoint(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    companyId: string;
    url: string;
    description: string;
    eventTypes: string[];
    enabled: boolean;
    secretSealed: string;
    createdBy: string;
    at: Date;
  },
): Promise<void> {
  await trx
    .insertInto('webhook_endpoints')
    .values({
      id: row.id,
      group_id: row.groupId,
      company_id: row.companyId,
      url: row.url,
      description: row.description,
      event_types: row.eventTypes,
      enabled: row.enabled,
      secret_sealed: row.secretSealed,
      previous_secret_sealed: null,
      previous_secret_until: null,
      created_by: row.createdBy,
      created_at: row.at,
      updated_at: row.at,
    })
    .execute();
}

export async function updateEndpoint(
  trx: Transaction,
  id: string,
  patch: { url?: string; description?: string; eventTypes?: string[]; enabled?: boolean; at: Date },
): Promise<void> {
  await trx
    .updateTable('webhook_endpoints')
    .set({
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.eventTypes !== undefined ? { event_types: patch.eventTypes } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
      updated_at: patch.at,
    })
    .where('id', '=', id)
    .execute();
}

/** The new secret signs from now; the one it replaces keeps signing beside it until `previousUntil`. */
export async function rotateSecret(
  trx: Transaction,
  id: string,
  change: { secretSealed: string; previousUntil: Date; at: Date },
): Promise<void> {
  await trx
    .updateTable('webhook_endpoints')
    .set((eb) => ({
      previous_secret_sealed: eb.ref('secret_sealed'),
      previous_secret_until: change.previousUntil,
      secret_sealed: change.secretSealed,
      updated_at: change.at,
    }))
    .where('id', '=', id)
    .execute();
}

/** Deletes the endpoint and its deliveries (cascade); their queued jobs then find nothing to do. */
export async function deleteEndpoint(trx: Transaction, id: string): Promise<void> {
  await trx.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
}

/**
 * The enabled endpoints subscribed to each event whose company subtree holds the event's company,
 * in one statement for a batch of events. `key` ties an answer to its event.
 */
export async function findSubscribers(
  trx: Transaction,
  events: Array<{ key: number; groupId: string; companyId: string; type: string }>,
): Promise<Array<{ key: number; endpointId: string }>> {
  if (events.length === 0) return [];
  const { rows } = await sql<{ key: string | number; endpointId: string }>`
    select x.key, e.id as "endpointId"
      from unnest(${events.map((e) => e.key)}::bigint[], ${events.map((e) => e.groupId)}::uuid[],
                  ${events.map((e) => e.companyId)}::uuid[], ${events.map((e) => e.type)}::text[])
           as x(key, group_id, company_id, type)
      join companies c on c.id = x.company_id and c.group_id = x.group_id
      join webhook_endpoints e on e.group_id = x.group_id and e.enabled and x.type = any(e.event_types)
      join companies ec on ec.id = e.company_id
     where starts_with(c.path, ec.path)
     order by x.key, e.id
  `.execute(trx);
  return rows.map((row) => ({ key: Number(row.key), endpointId: row.endpointId }));
}

export interface NewDelivery {
  id: string;
  groupId: string;
  endpointId: string;
  messageId: string;
  eventType: string;
  payload: Record<string, unknown>;
  at: Date;
}

/** Deliveries and the jobs that attempt them, in one statement. */
export async function insertDeliveries(trx: Transaction, deliveries: NewDelivery[], jobs: NewJobRow[]): Promise<void> {
  if (deliveries.length === 0) return;
  const insert = trx.insertInto('webhook_deliveries').values(
    deliveries.map((d) => ({
      id: d.id,
      group_id: d.groupId,
      endpoint_id: d.endpointId,
      message_id: d.messageId,
      event_type: d.eventType,
      payload: JSON.stringify(d.payload),
      status: 'pending' as const,
      last_http_status: null,
      last_error: null,
      last_attempt_at: null,
      next_attempt_at: d.at,
      delivered_at: null,
      created_at: d.at,
    })),
  );
  await sql`with deliveries as (${insert}) ${jobsInsert(trx, jobs)}`.execute(trx);
}

export interface DeliveryRecord {
  id: string;
  endpointId: string;
  messageId: string;
  eventType: string;
  payload: Record<string, unknown>;
  status: WebhookDeliveryStatus;
  attempts: number;
  lastHttpStatus: number | null;
  lastError: string | null;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

function selectDeliveries(db: Db | Transaction) {
  return db
    .selectFrom('webhook_deliveries')
    .select([
      'id',
      'endpoint_id as endpointId',
      'message_id as messageId',
      'event_type as eventType',
      'payload',
      'status',
      'attempts',
      'last_http_status as lastHttpStatus',
      'last_error as lastError',
      'last_attempt_at as lastAttemptAt',
      'next_attempt_at as nextAttemptAt',
      'delivered_at as deliveredAt',
      'created_at as createdAt',
    ]);
}

/** An endpoint's deliveries, newest first, after the keyset `before` (created_at, id). */
export async function findDeliveries(
  db: Db,
  filter: { groupId: string; endpointId: string; before?: { createdAt: Date; id: string } | undefined; limit: number },
): Promise<DeliveryRecord[]> {
  let query = selectDeliveries(db).where('group_id', '=', filter.groupId).where('endpoint_id', '=', filter.endpointId);
  const before = filter.before;
  if (before)
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '<', before.createdAt),
        eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)]),
      ]),
    );
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

export async function findDelivery(
  db: Db | Transaction,
  where: { groupId: string; endpointId: string; id: string },
  options: { lock?: boolean } = {},
): Promise<DeliveryRecord | undefined> {
  const query = selectDeliveries(db)
    .where('group_id', '=', where.groupId)
    .where('endpoint_id', '=', where.endpointId)
    .where('id', '=', where.id);
  return options.lock ? query.forUpdate().executeTakeFirst() : query.executeTakeFirst();
}

/** What one attempt needs: the delivery, and its endpoint's URL, state and sealed secrets. */
export async function findDeliveryTarget(db: Db, where: { groupId: string; id: string }) {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .select([
      'd.id',
      'd.message_id as messageId',
      'd.payload',
      'd.status',
      'e.id as endpointId',
      'e.url',
      'e.enabled',
      'e.secret_sealed as secretSealed',
      'e.previous_secret_sealed as previousSecretSealed',
      'e.previous_secret_until as previousSecretUntil',
    ])
    .where('d.group_id', '=', where.groupId)
    .where('d.id', '=', where.id)
    .executeTakeFirst();
}

/** Records an attempt's outcome: delivered, or what went wrong (the status then waits for `markFailed`). */
export async function recordAttempt(
  db: Db,
  where: { groupId: string; id: string },
  attempt: { at: Date; httpStatus: number | null; error: string | null; delivered: boolean },
): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      last_http_status: attempt.httpStatus,
      last_error: attempt.error,
      last_attempt_at: attempt.at,
      ...(attempt.delivered ? { status: 'delivered' as const, delivered_at: attempt.at, next_attempt_at: null } : {}),
    }))
    .where('group_id', '=', where.groupId)
    .where('id', '=', where.id)
    .execute();
}

/** After a failed attempt: another is due at `nextAttemptAt` (failed), or none will be (dead). A delivered one stays so. */
export async function markFailed(
  db: Db,
  where: { groupId: string; id: string },
  outcome: { dead: boolean; nextAttemptAt: Date | null },
): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: outcome.dead ? 'dead' : 'failed', next_attempt_at: outcome.nextAttemptAt })
    .where('group_id', '=', where.groupId)
    .where('id', '=', where.id)
    .where('status', '<>', 'delivered')
    .execute();
}

/** A delivered or dead delivery back to pending, with the job that attempts it again; false when it is not in either state. */
export async function requeueDelivery(
  trx: Transaction,
  where: { groupId: string; id: string },
  change: { at: Date; job: NewJobRow },
): Promise<boolean> {
  const moved = await trx
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', next_attempt_at: change.at })
    .where('group_id', '=', where.groupId)
    .where('id', '=', where.id)
    .where('status', 'in', ['delivered', 'dead'])
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) !== 1) return false;
  await jobsInsert(trx, [change.job]).execute();
  return true;
}
