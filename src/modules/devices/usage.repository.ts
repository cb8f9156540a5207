import { sql } from 'kysely';
import type { Db, Role, Transaction } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';

// All SQL of usage records (用印记录) and their management: the records themselves (electronic
// signatures and the stamps smart seals logged, side by side), their corrections, sampling
// reviews and what the reports count. Every query carries the group and the caller's company scope.

/** Beijing time (UTC+8, no daylight saving): the day a report counts a use on (`countUsage` uses it). */
export const REPORT_UTC_OFFSET_HOURS = 8;

export interface UsageFilter {
  groupId: string;
  scope: string[];
  sealId?: string | undefined;
  /** Exactly this company's seals (the record list's filter). */
  companyId?: string | undefined;
  /** This company's subtree (reports and reviews: a company with its subsidiaries). */
  companyPath?: string | undefined;
  userId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Leave out the records this person made (a reviewer never reviews their own). */
  notUserId?: string | undefined;
  recordIds?: string[] | undefined;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const ELECTRONIC_RECORD = new RegExp(`^e-(${UUID})$`);
const PHYSICAL_RECORD = new RegExp(`^p-(${UUID})-(\\d{1,18})$`);

/** The keys behind record ids (`e-<signature id>`, `p-<device id>-<seq>`); an id of neither form names nothing. */
function recordKeys(ids: string[]): { signatureIds: string[]; stamps: Array<{ deviceId: string; seq: string }> } {
  const signatureIds: string[] = [];
  const stamps: Array<{ deviceId: string; seq: string }> = [];
  for (const id of ids) {
    const electronic = ELECTRONIC_RECORD.exec(id);
    if (electronic) signatureIds.push(electronic[1]!);
    const physical = PHYSICAL_RECORD.exec(id);
    if (physical) stamps.push({ deviceId: physical[1]!, seq: physical[2]! });
  }
  return { signatureIds, stamps };
}

/**
 * The records as one union: electronic signatures (the signatures module's rows, read in this
 * join) and the stamps smart seals logged under a use ticket. `recordId` names a record for good:
 * `e-<signature id>` or `p-<device id>-<event seq>`.
 */
function usageUnion(db: Db | Transaction, filter: UsageFilter) {
  let electronic = db
    .selectFrom('signatures as g')
    .innerJoin('seals as s', 's.id', 'g.seal_id')
    .innerJoin('companies as c', 'c.id', 's.company_id')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .leftJoin('authorizations as z', 'z.id', 'g.authorization_id')
    .select((eb) => [
      sql<string>`'e-' || g.id`.as('recordId'),
      sql<'electronic' | 'physical'>`'electronic'`.as('kind'),
      's.id as sealId',
      's.name as sealName',
      's.company_id as companyId',
      'c.name as companyName',
      'c.path as companyPath',
      'u.id as userId',
      'u.name as userName',
      'g.signed_at as at',
      'z.application_id as applicationId',
      'g.output_sha256 as reference',
      sql<string>`concat_ws(' ', g.document_name, g.reason)`.as('note'),
      eb.val<number | null>(null).as('lat'),
      eb.val<number | null>(null).as('lon'),
    ])
    .where('g.group_id', '=', filter.groupId)
    .where((eb) => inScope(eb, 'c.path', filter.scope));
  let physical = db
    .selectFrom('device_events as e')
    .innerJoin('device_tickets as t', 't.id', 'e.ticket_id')
    .innerJoin('devices as d', 'd.id', 'e.device_id')
    .innerJoin('seals as s', 's.id', 't.seal_id')
    .innerJoin('companies as c', 'c.id', 's.company_id')
    .innerJoin('users as u', 'u.id', 't.holder_id')
    .select([
      sql<string>`'p-' || e.device_id || '-' || e.seq`.as('recordId'),
      sql<'electronic' | 'physical'>`'physical'`.as('kind'),
      's.id as sealId',
      's.name as sealName',
      's.company_id as companyId',
      'c.name as companyName',
      'c.path as companyPath',
      'u.id as userId',
      'u.name as userName',
      'e.device_time as at',
      't.application_id as applicationId',
      sql<string>`d.serial || '#' || e.seq`.as('reference'),
      sql<string>`''`.as('note'),
      'e.lat',
      'e.lon',
    ])
    .where('e.group_id', '=', filter.groupId)
    .where('e.type', '=', 'stamp')
    .where('t.mode', '=', 'use')
    .where((eb) => inScope(eb, 'c.path', filter.scope));
  if (filter.sealId) {
    electronic = electronic.where('s.id', '=', filter.sealId);
    physical = physical.where('s.id', '=', filter.sealId);
  }
  if (filter.companyId) {
    electronic = electronic.where('s.company_id', '=', filter.companyId);
    physical = physical.where('s.company_id', '=', filter.companyId);
  }
  if (filter.companyPath) {
    const path = filter.companyPath;
    electronic = electronic.where((eb) => inScope(eb, 'c.path', [path]));
    physical = physical.where((eb) => inScope(eb, 'c.path', [path]));
  }
  if (filter.userId) {
    electronic = electronic.where('g.user_id', '=', filter.userId);
    physical = physical.where('t.holder_id', '=', filter.userId);
  }
  if (filter.notUserId) {
    electronic = electronic.where('g.user_id', '!=', filter.notUserId);
    physical = physical.where('t.holder_id', '!=', filter.notUserId);
  }
  if (filter.from) {
    electronic = electronic.where('g.signed_at', '>=', filter.from);
    physical = physical.where('e.device_time', '>=', filter.from);
  }
  if (filter.to) {
    electronic = electronic.where('g.signed_at', '<', filter.to);
    physical = physical.where('e.device_time', '<', filter.to);
  }
  if (filter.recordIds) {
    const ids = filter.recordIds;
    if (ids.length === 0) return electronic.where(sql<boolean>`false`).unionAll(physical.where(sql<boolean>`false`));
    // Read apart into the keys they are made of, so the primary keys find them.
    const { signatureIds, stamps } = recordKeys(ids);
    electronic =
      signatureIds.length > 0 ? electronic.where('g.id', 'in', signatureIds) : electronic.where(sql<boolean>`false`);
    physical =
      stamps.length > 0
        ? physical.where(
            sql<boolean>`(e.device_id, e.seq) in (${sql.join(stamps.map((k) => sql`(${k.deviceId}::uuid, ${k.seq}::bigint)`))})`,
          )
        : physical.where(sql<boolean>`false`);
  }
  return electronic.unionAll(physical);
}

export interface UsageRecord {
  recordId: string;
  kind: 'electronic' | 'physical';
  sealId: string;
  sealName: string;
  companyId: string;
  companyName: string;
  companyPath: string;
  userId: string;
  userName: string;
  at: Date;
  applicationId: string | null;
  /** electronic: the signed output's SHA-256; physical: `<serial>#<seq>` of the stamp event. */
  reference: string;
  /** electronic: the signed document's name and the signature's reason; physical: empty. */
  note: string;
  lat: number | null;
  lon: number | null;
}

/** Records newest first, at most `limit`. */
export async function findUsage(db: Db | Transaction, filter: UsageFilter & { limit: number }): Promise<UsageRecord[]> {
  const rows = await usageUnion(db, filter)
    .orderBy('at', 'desc')
    .orderBy('recordId', 'desc')
    .limit(filter.limit)
    .execute();
  return rows.map((r) => ({ ...r, at: new Date(r.at), note: r.note ?? '' }));
}

export interface UsageCount {
  kind: 'electronic' | 'physical';
  sealId: string;
  sealName: string;
  companyId: string;
  companyName: string;
  userId: string;
  userName: string;
  /** The day in Beijing time, YYYY-MM-DD. */
  day: string;
  count: number;
}

/** What a report counts: uses per kind, seal, person and day (Beijing time), computed by the database. */
export async function countUsage(db: Db, filter: UsageFilter): Promise<UsageCount[]> {
  const rows = await db
    .selectFrom(usageUnion(db, filter).as('u'))
    .select((eb) => [
      'u.kind',
      'u.sealId',
      'u.sealName',
      'u.companyId',
      'u.companyName',
      'u.userId',
      'u.userName',
      sql<string>`to_char((u.at at time zone 'UTC') + make_interval(hours => ${sql.lit(REPORT_UTC_OFFSET_HOURS)}), 'YYYY-MM-DD')`.as(
        'day',
      ),
      eb.fn.countAll<string>().as('count'),
    ])
    .groupBy(['u.kind', 'u.sealId', 'u.sealName', 'u.companyId', 'u.companyName', 'u.userId', 'u.userName', 'day'])
    .limit(200_000)
    .execute();
  return rows.map((r) => ({ ...r, count: Number(r.count) }));
}

/** The ids (and who made each) of the records a review draws from, oldest first, at most `limit`. */
export async function findUsagePopulation(db: Db | Transaction, filter: UsageFilter & { limit: number }) {
  return usageUnion(db, filter).orderBy('at').orderBy('recordId').limit(filter.limit).execute();
}

// ---------------------------------------------------------------- application texts (cross-checks)

/** The reason and the document names of each application, to find a register's numbers in. */
export async function findApplicationTexts(db: Db, where: { groupId: string; applicationIds: string[] }) {
  if (where.applicationIds.length === 0) return new Map<string, string>();
  const rows = await db
    .selectFrom('applications as a')
    .leftJoin('application_documents as d', 'd.application_id', 'a.id')
    .select(['a.id', 'a.reason', 'd.name'])
    .where('a.group_id', '=', where.groupId)
    .where('a.id', 'in', where.applicationIds)
    .execute();
  const texts = new Map<string, string>();
  for (const r of rows) texts.set(r.id, [texts.get(r.id) ?? r.reason, r.name ?? ''].join(' '));
  return texts;
}

// ---------------------------------------------------------------- corrections

export interface CorrectionRecord {
  id: string;
  recordId: string;
  what: string;
  why: string;
  correctedBy: string;
  correctedByName: string;
  createdAt: Date;
}

export async function insertCorrection(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    companyId: string;
    sealId: string;
    recordId: string;
    what: string;
    why: string;
    correctedBy: string;
    at: Date;
  },
): Promise<void> {
  await trx
    .insertInto('device_usage_corrections')
    .values({
      id: row.id,
      group_id: row.groupId,
      company_id: row.companyId,
      seal_id: row.sealId,
      record_id: row.recordId,
      what: row.what,
      why: row.why,
      corrected_by: row.correctedBy,
      created_at: row.at,
    })
    .execute();
}

/** The corrections of these records, oldest first (the records were read within the caller's scope). */
export async function findCorrections(
  db: Db | Transaction,
  where: { groupId: string; recordIds: string[] },
): Promise<CorrectionRecord[]> {
  if (where.recordIds.length === 0) return [];
  return db
    .selectFrom('device_usage_corrections as k')
    .innerJoin('users as u', 'u.id', 'k.corrected_by')
    .select([
      'k.id',
      'k.record_id as recordId',
      'k.what',
      'k.why',
      'k.corrected_by as correctedBy',
      'u.name as correctedByName',
      'k.created_at as createdAt',
    ])
    .where('k.group_id', '=', where.groupId)
    .where('k.record_id', 'in', where.recordIds)
    .orderBy('k.created_at')
    .orderBy('k.id')
    .execute();
}

// ---------------------------------------------------------------- sampling reviews

export interface ReviewRecord {
  id: string;
  companyId: string;
  companyName: string;
  companyPath: string;
  sealId: string | null;
  from: Date;
  to: Date;
  size: number;
  population: number;
  reviewerId: string;
  reviewerName: string;
  createdBy: string;
  createdAt: Date;
  decided: number;
  flagged: number;
}

function selectReviews(db: Db | Transaction) {
  return db
    .selectFrom('device_usage_reviews as r')
    .innerJoin('companies as c', 'c.id', 'r.company_id')
    .innerJoin('users as u', 'u.id', 'r.reviewer_id')
    .select((eb) => [
      'r.id',
      'r.company_id as companyId',
      'c.name as companyName',
      'c.path as companyPath',
      'r.seal_id as sealId',
      'r.period_from as from',
      'r.period_to as to',
      'r.size',
      'r.population',
      'r.reviewer_id as reviewerId',
      'u.name as reviewerName',
      'r.created_by as createdBy',
      'r.created_at as createdAt',
      eb
        .selectFrom('device_usage_review_items as i')
        .select((i) => i.fn.countAll<string>().as('n'))
        .whereRef('i.review_id', '=', 'r.id')
        .where('i.decision', 'is not', null)
        .as('decided'),
      eb
        .selectFrom('device_usage_review_items as i')
        .select((i) => i.fn.countAll<string>().as('n'))
        .whereRef('i.review_id', '=', 'r.id')
        .where('i.decision', '=', 'flagged')
        .as('flagged'),
    ]);
}

type ReviewRow = Awaited<ReturnType<ReturnType<typeof selectReviews>['executeTakeFirstOrThrow']>>;
const toReview = (r: ReviewRow): ReviewRecord => ({
  ...r,
  decided: Number(r.decided ?? 0),
  flagged: Number(r.flagged ?? 0),
});

/** Reviews over companies in `scope`, and the reviews given to `reviewerId` wherever they are. */
export async function findReviews(
  db: Db,
  filter: { groupId: string; scope: string[]; reviewerId: string | null; onlyMine: boolean; limit: number },
): Promise<ReviewRecord[]> {
  let query = selectReviews(db).where('r.group_id', '=', filter.groupId);
  const reviewerId = filter.reviewerId;
  if (filter.onlyMine) {
    if (!reviewerId) return [];
    query = query.where('r.reviewer_id', '=', reviewerId);
  } else
    query = query.where((eb) =>
      eb.or([inScope(eb, 'c.path', filter.scope), ...(reviewerId ? [eb('r.reviewer_id', '=', reviewerId)] : [])]),
    );
  const rows = await query.orderBy('r.created_at', 'desc').orderBy('r.id', 'desc').limit(filter.limit).execute();
  return rows.map(toReview);
}

export async function findReview(db: Db | Transaction, where: { groupId: string; id: string }) {
  const row = await selectReviews(db)
    .where('r.group_id', '=', where.groupId)
    .where('r.id', '=', where.id)
    .executeTakeFirst();
  return row && toReview(row);
}

export async function insertReview(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    companyId: string;
    sealId: string | null;
    from: Date;
    to: Date;
    population: number;
    reviewerId: string;
    createdBy: string;
    at: Date;
    items: Array<{
      recordId: string;
      kind: 'electronic' | 'physical';
      sealId: string;
      userId: string;
      at: Date;
      applicationId: string | null;
      reference: string;
    }>;
  },
): Promise<void> {
  await trx
    .insertInto('device_usage_reviews')
    .values({
      id: row.id,
      group_id: row.groupId,
      company_id: row.companyId,
      seal_id: row.sealId,
      period_from: row.from,
      period_to: row.to,
      size: row.items.length,
      population: row.population,
      reviewer_id: row.reviewerId,
      created_by: row.createdBy,
      created_at: row.at,
    })
    .execute();
  await trx
    .insertInto('device_usage_review_items')
    .values(
      row.items.map((item, i) => ({
        review_id: row.id,
        position: i + 1,
        group_id: row.groupId,
        record_id: item.recordId,
        kind: item.kind,
        seal_id: item.sealId,
        user_id: item.userId,
        used_at: item.at,
        application_id: item.applicationId,
        reference: item.reference,
        decision: null,
        comment: null,
        decided_by: null,
        decided_at: null,
      })),
    )
    .execute();
}

export interface ReviewItemRecord {
  position: number;
  recordId: string;
  kind: 'electronic' | 'physical';
  sealId: string;
  sealName: string;
  userId: string;
  userName: string;
  at: Date;
  applicationId: string | null;
  reference: string;
  decision: 'confirmed' | 'flagged' | null;
  comment: string | null;
  decidedBy: string | null;
  decidedAt: Date | null;
}

export async function findReviewItems(
  db: Db | Transaction,
  where: { reviewId: string; position?: number },
  options: { lock?: boolean } = {},
): Promise<ReviewItemRecord[]> {
  let query = db
    .selectFrom('device_usage_review_items as i')
    .innerJoin('seals as s', 's.id', 'i.seal_id')
    .innerJoin('users as u', 'u.id', 'i.user_id')
    .select([
      'i.position',
      'i.record_id as recordId',
      'i.kind',
      'i.seal_id as sealId',
      's.name as sealName',
      'i.user_id as userId',
      'u.name as userName',
      'i.used_at as at',
      'i.application_id as applicationId',
      'i.reference',
      'i.decision',
      'i.comment',
      'i.decided_by as decidedBy',
      'i.decided_at as decidedAt',
    ])
    .where('i.review_id', '=', where.reviewId);
  if (where.position !== undefined) query = query.where('i.position', '=', where.position);
  query = query.orderBy('i.position');
  return options.lock ? query.forUpdate('i').execute() : query.execute();
}

export async function decideReviewItem(
  trx: Transaction,
  row: {
    reviewId: string;
    position: number;
    decision: 'confirmed' | 'flagged';
    comment: string | null;
    by: string;
    at: Date;
  },
): Promise<void> {
  await trx
    .updateTable('device_usage_review_items')
    .set({ decision: row.decision, comment: row.comment, decided_by: row.by, decided_at: row.at })
    .where('review_id', '=', row.reviewId)
    .where('position', '=', row.position)
    .execute();
}

// ---------------------------------------------------------------- who is told

/**
 * The active seal administrators over the company at `companyPath` (the role assigned there or
 * above it): with the seal's custodians, they hear of new offline operations.
 */
export async function findSealAdministrators(
  db: Db | Transaction,
  where: { groupId: string; companyPath: string },
): Promise<string[]> {
  const rows = await db
    .selectFrom('role_assignments as r')
    .innerJoin('companies as c', 'c.id', 'r.company_id')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select('r.user_id as userId')
    .distinct()
    .where('r.group_id', '=', where.groupId)
    .where('r.role', '=', 'seal_admin')
    .where('u.status', '=', 'active')
    .where(sql<boolean>`${where.companyPath} like c.path || '%'`)
    .limit(200)
    .execute();
  return rows.map((r) => r.userId);
}

/** Whether the person is active and holds one of `roles` over the company at `companyPath` (assigned there or above). */
export async function holdsAnyRoleOver(
  db: Db | Transaction,
  where: { groupId: string; userId: string; companyPath: string; roles: Role[] },
): Promise<boolean> {
  if (where.roles.length === 0) return false;
  const row = await db
    .selectFrom('role_assignments as r')
    .innerJoin('companies as c', 'c.id', 'r.company_id')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select('r.id')
    .where('r.group_id', '=', where.groupId)
    .where('r.user_id', '=', where.userId)
    .where('r.role', 'in', where.roles)
    .where('u.status', '=', 'active')
    .where(sql<boolean>`${where.companyPath} like c.path || '%'`)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
