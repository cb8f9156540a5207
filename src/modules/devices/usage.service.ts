// Usage records (用印记录) and their management (issue 16 §8–§9): the records side by side with
// their corrections, weekly and monthly reports, sampling reviews and cross-checks against an
// imported register. Reading needs seals.read over the seal's company; correcting needs
// seals.manage; a reviewer never reviews a record of their own making (separation of duties).
import { randomInt } from 'node:crypto';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, forbidden, notFound } from '../../server/errors.js';
import {
  isWithin,
  requireUser,
  rolePermissions,
  roles,
  scopeOf,
  type Actor,
  type Permission,
} from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import { findCompany } from '../companies/index.js';
import { findSeal } from '../seals/index.js';
import { parseRegister, registerMatcher, REGISTER_RULE } from './usage-register.js';
import * as repo from './usage.repository.js';
import type { UsageReport } from './usage.schema.js';

/** A review draws from at most this many records; a larger population asks for a narrower period. */
const MAX_POPULATION = 100_000;
/** A register is checked against at most this many records. */
const MAX_CHECKED_RECORDS = 20_000;
const DAY_MS = 86_400_000;
const OFFSET_MS = repo.REPORT_UTC_OFFSET_HOURS * 3_600_000;

function scopeOrNothing(actor: Actor, permission: Permission): string[] {
  try {
    return scopeOf(actor.principal, permission);
  } catch {
    return [];
  }
}

const locationOf = (r: { lat: number | null; lon: number | null }) =>
  r.lat !== null && r.lon !== null ? { lat: r.lat / 1e6, lon: r.lon / 1e6 } : null;

function presentRecord(r: repo.UsageRecord, corrections: repo.CorrectionRecord[]) {
  return {
    recordId: r.recordId,
    kind: r.kind,
    sealId: r.sealId,
    sealName: r.sealName,
    companyId: r.companyId,
    userId: r.userId,
    userName: r.userName,
    at: r.at,
    applicationId: r.applicationId,
    reference: r.reference,
    location: locationOf(r),
    corrections: corrections.filter((c) => c.recordId === r.recordId).map(({ recordId: _, ...c }) => c),
  };
}

/**
 * Usage records: a seal's, a company's or a person's uses in a time range, electronic signatures
 * and physical stamps side by side, newest first, each with the corrections appended to it.
 */
export async function listUsage(
  ctx: AppContext,
  actor: Actor,
  query: {
    sealId?: string | undefined;
    companyId?: string | undefined;
    userId?: string | undefined;
    from?: string | undefined;
    to?: string | undefined;
    limit: number;
  },
) {
  const { groupId } = actor.principal;
  const rows = await repo.findUsage(ctx.db, {
    groupId,
    scope: scopeOf(actor.principal, 'seals.read'),
    sealId: query.sealId,
    companyId: query.companyId,
    userId: query.userId,
    from: query.from ? new Date(query.from) : undefined,
    to: query.to ? new Date(query.to) : undefined,
    limit: query.limit,
  });
  const corrections = await repo.findCorrections(ctx.db, { groupId, recordIds: rows.map((r) => r.recordId) });
  return { items: rows.map((r) => presentRecord(r, corrections)) };
}

/** One record within the caller's scope for `permission`, or not found (another company's is not told apart from none). */
async function getRecord(ctx: AppContext, actor: Actor, recordId: string, permission: Permission) {
  const [record] = await repo.findUsage(ctx.db, {
    groupId: actor.principal.groupId,
    scope: scopeOrNothing(actor, permission),
    recordIds: [recordId],
    limit: 1,
  });
  if (!record) throw notFound('usage_record_not_found', recordId);
  return record;
}

export async function getUsageRecord(ctx: AppContext, actor: Actor, recordId: string) {
  const record = await getRecord(ctx, actor, recordId, 'seals.read');
  const corrections = await repo.findCorrections(ctx.db, { groupId: actor.principal.groupId, recordIds: [recordId] });
  return presentRecord(record, corrections);
}

/**
 * Appends a correction to a record (who, why, what), audited in the same transaction. The record
 * itself — a signature, or a stamp the device signed — is never changed: the correction stands
 * beside it and the record shows both.
 */
export async function correctUsageRecord(
  ctx: AppContext,
  actor: Actor,
  recordId: string,
  input: { what: string; why: string },
) {
  const { principal } = actor;
  const correctedBy = requireUser(principal);
  const record = await getRecord(ctx, actor, recordId, 'seals.read');
  if (!isWithin(scopeOrNothing(actor, 'seals.manage'), record.companyPath))
    throw forbidden('Correcting a usage record needs seals.manage over its seal’s company.');
  const id = newId();
  const at = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertCorrection(trx, {
      id,
      groupId: principal.groupId,
      companyId: record.companyId,
      sealId: record.sealId,
      recordId,
      what: input.what,
      why: input.why,
      correctedBy,
      at,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at,
      event: {
        action: 'device.usage_corrected',
        // The audit log names targets by UUID: the record's seal, whose file card then shows the correction.
        target: { type: 'seal', id: record.sealId },
        companyId: record.companyId,
        changes: { correctionId: id, recordId, what: input.what, why: input.why },
      },
    });
  });
  return getUsageRecord(ctx, actor, recordId);
}

// ---------------------------------------------------------------- reports

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The period's first instant, its end (exclusive) and its days, in Beijing time. */
export function reportPeriod(period: 'week' | 'month', from: string) {
  const [y, m, d] = from.split('-').map(Number) as [number, number, number];
  const startDay = Date.UTC(y, m - 1, d);
  // A month runs to the same day of the next month, or to that month's end when the day does not exist there.
  const endDay = period === 'week' ? startDay + 7 * DAY_MS : Math.min(Date.UTC(y, m, d), Date.UTC(y, m + 1, 1));
  const days: string[] = [];
  for (let t = startDay; t < endDay; t += DAY_MS) days.push(dayOf(t));
  return { start: new Date(startDay - OFFSET_MS), end: new Date(endDay - OFFSET_MS), days };
}

/** The company named by a query, within the caller's scope for `permission` (with its subtree), or not found. */
async function getScopedCompany(ctx: AppContext, actor: Actor, companyId: string, permission: Permission) {
  const company = await findCompany(ctx.db, {
    groupId: actor.principal.groupId,
    id: companyId,
    scope: scopeOf(actor.principal, permission),
  });
  if (!company) throw notFound('company_not_found', companyId);
  return company;
}

interface Tally {
  electronic: number;
  physical: number;
  total: number;
}

function tallyInto<K extends string, V extends object>(
  map: Map<K, V & Tally>,
  key: K,
  init: () => V,
  c: repo.UsageCount,
) {
  let entry = map.get(key);
  if (!entry) {
    entry = { ...init(), electronic: 0, physical: 0, total: 0 };
    map.set(key, entry);
  }
  entry[c.kind] += c.count;
  entry.total += c.count;
}

const byTotal =
  <T extends Tally>(name: (t: T) => string) =>
  (a: T, b: T) =>
    b.total - a.total || name(a).localeCompare(name(b), 'zh-CN');

/**
 * A weekly or monthly report (用印报告) over a company and its subsidiaries (or everything the
 * caller may read): uses counted by kind, per seal, company, person and day (Beijing time).
 */
export async function usageReport(
  ctx: AppContext,
  actor: Actor,
  query: { period: 'week' | 'month'; from: string; companyId?: string | undefined },
): Promise<UsageReport> {
  const { principal } = actor;
  const scope = scopeOf(principal, 'seals.read');
  const company = query.companyId ? await getScopedCompany(ctx, actor, query.companyId, 'seals.read') : undefined;
  const { start, end, days } = reportPeriod(query.period, query.from);
  const counts = await repo.countUsage(ctx.db, {
    groupId: principal.groupId,
    scope,
    companyPath: company?.path,
    from: start,
    to: end,
  });
  const totals: Tally = { electronic: 0, physical: 0, total: 0 };
  const seals = new Map<string, { sealId: string; sealName: string; companyName: string } & Tally>();
  const companies = new Map<string, { companyId: string; companyName: string } & Tally>();
  const people = new Map<string, { userId: string; userName: string } & Tally>();
  const byDay = new Map(days.map((date) => [date, { date, electronic: 0, physical: 0, total: 0 }]));
  for (const c of counts) {
    totals[c.kind] += c.count;
    totals.total += c.count;
    tallyInto(seals, c.sealId, () => ({ sealId: c.sealId, sealName: c.sealName, companyName: c.companyName }), c);
    tallyInto(companies, c.companyId, () => ({ companyId: c.companyId, companyName: c.companyName }), c);
    tallyInto(people, c.userId, () => ({ userId: c.userId, userName: c.userName }), c);
    const day = byDay.get(c.day);
    if (day) {
      day[c.kind] += c.count;
      day.total += c.count;
    }
  }
  return {
    period: query.period,
    from: days[0]!,
    to: days[days.length - 1]!,
    timeZone: 'UTC+08:00',
    companyId: company?.id ?? null,
    companyName: company?.name ?? null,
    generatedAt: ctx.now(),
    totals,
    bySeal: [...seals.values()].sort(byTotal((s) => s.sealName)),
    byCompany: [...companies.values()].sort(byTotal((s) => s.companyName)),
    byPerson: [...people.values()].sort(byTotal((s) => s.userName)),
    byDay: [...byDay.values()],
  };
}

// ---------------------------------------------------------------- sampling reviews

function presentReview(r: repo.ReviewRecord) {
  const { companyPath: _, ...rest } = r;
  return rest;
}

/** Draws `size` of the population's indices uniformly at random (a partial Fisher–Yates shuffle, CSPRNG). */
export function drawSample(population: number, size: number): number[] {
  const indices = Array.from({ length: population }, (_, i) => i);
  const n = Math.min(size, population);
  for (let i = 0; i < n; i++) {
    const j = i + randomInt(population - i);
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
  return indices.slice(0, n);
}

/** Whether the person holds a role that reads seals over the company at `companyPath`. */
async function mayReadSealsOf(ctx: AppContext, where: { groupId: string; userId: string; companyPath: string }) {
  const readers = roles.filter((r) => rolePermissions[r].includes('seals.read'));
  return repo.holdsAnyRoleOver(ctx.db, { ...where, roles: readers });
}

/**
 * Draws N records at random over a company (and its subsidiaries, or one seal) and a period into a
 * review for a reviewer. The reviewer's own records are never drawn: nobody checks their own use.
 */
export async function drawReview(
  ctx: AppContext,
  actor: Actor,
  input: { companyId: string; sealId?: string | undefined; from: string; to: string; size: number; reviewerId: string },
) {
  const { principal } = actor;
  const createdBy = requireUser(principal);
  const company = await getScopedCompany(ctx, actor, input.companyId, 'seals.read');
  if (input.sealId) {
    const seal = await findSeal(ctx.db, { groupId: principal.groupId, id: input.sealId, scope: [company.path] });
    if (!seal) throw notFound('seal_not_found', input.sealId);
  }
  if (!(await mayReadSealsOf(ctx, { groupId: principal.groupId, userId: input.reviewerId, companyPath: company.path })))
    throw new AppError(
      'reviewer_not_eligible',
      'The reviewer must be an active person who may read the seals of that company (a seal administrator or an auditor over it).',
      { errors: [{ field: 'body.reviewerId', message: 'may not read the seals of that company' }] },
    );
  const from = new Date(input.from);
  const to = new Date(input.to);
  const population = await repo.findUsagePopulation(ctx.db, {
    groupId: principal.groupId,
    scope: scopeOf(principal, 'seals.read'),
    companyPath: company.path,
    sealId: input.sealId,
    from,
    to,
    notUserId: input.reviewerId,
    limit: MAX_POPULATION + 1,
  });
  if (population.length > MAX_POPULATION)
    throw new AppError(
      'validation_failed',
      `The period holds more than ${MAX_POPULATION} records; choose a shorter one.`,
      {
        errors: [{ field: 'body.to', message: `the period holds more than ${MAX_POPULATION} records` }],
      },
    );
  if (population.length === 0)
    throw new AppError(
      'review_nothing_to_draw',
      'No record in that period and scope can be drawn (the reviewer’s own records are never drawn).',
    );
  const drawn = drawSample(population.length, input.size).map((i) => population[i]!);
  const id = newId();
  const at = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertReview(trx, {
      id,
      groupId: principal.groupId,
      companyId: company.id,
      sealId: input.sealId ?? null,
      from,
      to,
      population: population.length,
      reviewerId: input.reviewerId,
      createdBy,
      at,
      items: drawn.map((r) => ({
        recordId: r.recordId,
        kind: r.kind,
        sealId: r.sealId,
        userId: r.userId,
        at: new Date(r.at),
        applicationId: r.applicationId,
        reference: r.reference,
      })),
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at,
      event: {
        action: 'device.usage_review_drawn',
        target: { type: 'usage_review', id },
        companyId: company.id,
        changes: {
          reviewId: id,
          reviewerId: input.reviewerId,
          sealId: input.sealId ?? null,
          from: from.toISOString(),
          to: to.toISOString(),
          size: drawn.length,
          population: population.length,
        },
      },
    });
  });
  return getReview(ctx, actor, id);
}

/** A review its reviewer may see, and a reader of seals over its company; anyone else is told none exists. */
async function getReviewRecord(ctx: AppContext, actor: Actor, reviewId: string) {
  const { principal } = actor;
  const review = await repo.findReview(ctx.db, { groupId: principal.groupId, id: reviewId });
  const isReviewer = principal.kind === 'user' && review?.reviewerId === principal.id;
  if (!review || !(isReviewer || isWithin(scopeOrNothing(actor, 'seals.read'), review.companyPath)))
    throw notFound('usage_review_not_found', reviewId);
  return review;
}

export async function getReview(ctx: AppContext, actor: Actor, reviewId: string) {
  const review = await getReviewRecord(ctx, actor, reviewId);
  const items = await repo.findReviewItems(ctx.db, { reviewId: review.id });
  return { ...presentReview(review), items };
}

export async function listReviews(ctx: AppContext, actor: Actor, query: { mine: boolean; limit: number }) {
  const { principal } = actor;
  // An API key is nobody's reviewer: it has no reviews of its own.
  if (query.mine && principal.kind !== 'user') return { items: [] };
  const rows = await repo.findReviews(ctx.db, {
    groupId: principal.groupId,
    scope: scopeOrNothing(actor, 'seals.read'),
    reviewerId: principal.kind === 'user' ? principal.id : null,
    onlyMine: query.mine,
    limit: query.limit,
  });
  return { items: rows.map(presentReview) };
}

/**
 * The reviewer confirms or flags one drawn record, once, with a comment (a flag needs one).
 * Only the reviewer decides, only while they may still read the company's seals, and never on a
 * record they made themselves: checked again here, on the item's locked row, whatever the draw did.
 */
export async function decideReviewItem(
  ctx: AppContext,
  actor: Actor,
  where: { reviewId: string; position: number },
  input: { decision: 'confirmed' | 'flagged'; comment: string | null },
) {
  const { principal } = actor;
  const userId = requireUser(principal);
  const review = await getReviewRecord(ctx, actor, where.reviewId);
  if (review.reviewerId !== userId)
    throw forbidden('Only the reviewer this review was given to may decide its records.');
  if (!isWithin(scopeOrNothing(actor, 'seals.read'), review.companyPath))
    throw forbidden('You no longer hold seals.read over the company this review covers.');
  const at = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    // The item's row lock: two decisions at once on one record (two tabs) do not both pass the check below.
    const [item] = await repo.findReviewItems(trx, { reviewId: review.id, position: where.position }, { lock: true });
    if (!item) throw notFound('usage_record_not_found', `${review.id}#${where.position}`);
    if (item.userId === userId)
      throw new AppError('review_own_record', 'You made this record yourself; someone else must review it.');
    if (item.decision !== null)
      throw new AppError(
        'review_item_decided',
        `Record ${where.position} of this review was already ${item.decision}.`,
      );
    await repo.decideReviewItem(trx, {
      reviewId: review.id,
      position: where.position,
      decision: input.decision,
      comment: input.comment,
      by: userId,
      at,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at,
      event: {
        action: 'device.usage_review_decided',
        target: { type: 'usage_review', id: review.id },
        companyId: review.companyId,
        changes: {
          reviewId: review.id,
          position: where.position,
          recordId: item.recordId,
          decision: input.decision,
          comment: input.comment,
        },
      },
    });
  });
  return getReview(ctx, actor, review.id);
}

// ---------------------------------------------------------------- cross-checks against a register

/**
 * Checks an imported register (CSV of contracts or payments) against the records of a company (with
 * its subsidiaries, or one seal) over a period: the rows no record answers and the records no row
 * answers. Nothing is stored; the answer says the rule it matched by.
 */
export async function checkRegister(
  ctx: AppContext,
  actor: Actor,
  input: {
    companyId: string;
    sealId?: string | undefined;
    from: string;
    to: string;
    toleranceDays: number;
    csv: unknown;
  },
) {
  const { principal } = actor;
  const company = await getScopedCompany(ctx, actor, input.companyId, 'seals.read');
  if (input.sealId) {
    const seal = await findSeal(ctx.db, { groupId: principal.groupId, id: input.sealId, scope: [company.path] });
    if (!seal) throw notFound('seal_not_found', input.sealId);
  }
  const rows = parseRegister(input.csv);
  const from = new Date(input.from);
  const to = new Date(input.to);
  const slack = input.toleranceDays * DAY_MS;
  // Records a little beyond the period may answer a row near its edge; only those inside are listed unanswered.
  const records = await repo.findUsage(ctx.db, {
    groupId: principal.groupId,
    scope: scopeOf(principal, 'seals.read'),
    companyPath: company.path,
    sealId: input.sealId,
    from: new Date(from.getTime() - slack),
    to: new Date(to.getTime() + slack),
    limit: MAX_CHECKED_RECORDS + 1,
  });
  if (records.length > MAX_CHECKED_RECORDS)
    throw new AppError(
      'validation_failed',
      `The period holds more than ${MAX_CHECKED_RECORDS} records; choose a shorter one.`,
      {
        errors: [{ field: 'querystring.to', message: `the period holds more than ${MAX_CHECKED_RECORDS} records` }],
      },
    );
  const texts = await repo.findApplicationTexts(ctx.db, {
    groupId: principal.groupId,
    applicationIds: [...new Set(records.map((r) => r.applicationId).filter((a): a is string => a !== null))],
  });
  const matches = registerMatcher(
    records.map((r) => ({
      id: r.recordId,
      day: dayOf(r.at.getTime() + OFFSET_MS),
      text: `${r.note} ${r.applicationId ? (texts.get(r.applicationId) ?? '') : ''}`,
    })),
    input.toleranceDays,
  );
  const answered = new Set<string>();
  const matched = [];
  const rowsWithoutRecord = [];
  for (const row of rows) {
    const ids = matches(row);
    if (ids.length === 0) rowsWithoutRecord.push(row);
    else {
      matched.push({ ...row, recordIds: ids });
      for (const id of ids) answered.add(id);
    }
  }
  const inPeriod = (r: repo.UsageRecord) => r.at >= from && r.at < to;
  return {
    rule: REGISTER_RULE(input.toleranceDays),
    rows: rows.length,
    records: records.filter(inPeriod).length,
    matched,
    rowsWithoutRecord,
    recordsWithoutRow: records
      .filter((r) => inPeriod(r) && !answered.has(r.recordId))
      .map((r) => ({
        recordId: r.recordId,
        kind: r.kind,
        sealId: r.sealId,
        sealName: r.sealName,
        userId: r.userId,
        userName: r.userName,
        at: r.at,
        applicationId: r.applicationId,
        reference: r.reference,
      })),
  };
}
