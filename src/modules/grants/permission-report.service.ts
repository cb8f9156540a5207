import type { SealType } from '../../db/schema.js';
import type { AppContext } from '../../server/context.js';
import { notFound } from '../../server/errors.js';
import { scopeOf, type Actor } from '../access/index.js';
import { getCompany } from '../companies/index.js';
import { findUser } from '../users/index.js';
import { findGrantCoverage, type GrantCoverageRow } from './permission-report.repository.js';
import { getSeal } from '../seals/index.js';

export const reportFlags = [
  'overlapping',
  'single_user',
  'beyond_company',
  'beyond_function',
  'expired',
  'inactive_grantee',
  'custodian_user',
] as const;
export type ReportFlag = (typeof reportFlags)[number];

/**
 * The business each seal type serves. A grant for categories outside its seal's function is
 * flagged (a finance seal granted for sales); the official seal and custom seals serve all.
 */
const sealFunction: Record<SealType, readonly string[] | 'any'> = {
  official: 'any',
  custom: 'any',
  contract: ['sales', 'procurement', 'legal'],
  finance: ['finance'],
  invoice: ['finance', 'sales'],
  hr: ['personnel'],
  legal_representative: ['legal', 'finance'],
};

export interface ReportRow {
  sealId: string;
  sealName: string;
  sealCode: string;
  sealType: SealType;
  sealStatus: string;
  companyName: string;
  grantId: string | null;
  granteeType: string | null;
  granteeName: string | null;
  categories: string[];
  validUntil: Date | null;
  remainingUses: number | null;
  personId: string | null;
  personName: string | null;
  personStatus: string | null;
  flags: ReportFlag[];
}

/** Computes the flags of every (seal, grant, person) row: each flag is built from the rows, not stored. */
export function flagCoverage(rows: GrantCoverageRow[], now: Date): ReportRow[] {
  const nowMs = now.getTime();
  const time = (value: Date | string) => (value instanceof Date ? value.getTime() : new Date(value).getTime());
  // Worked out once per row: the report of a large company has tens of thousands of them.
  const expired = rows.map(
    (r) =>
      r.grantId !== null &&
      ((r.validUntil !== null && time(r.validUntil) <= nowMs) ||
        (r.maxUses !== null && (r.usedCount ?? 0) >= r.maxUses)),
  );
  const grantsPerPerson = new Map<string, Set<string>>();
  const peoplePerSeal = new Map<string, Set<string>>();
  rows.forEach((r, i) => {
    if (!r.grantId || !r.personId || expired[i]) return;
    const key = `${r.sealId}|${r.personId}`;
    grantsPerPerson.set(key, (grantsPerPerson.get(key) ?? new Set()).add(r.grantId));
    if (r.personStatus === 'active' && !r.personIsCustodian)
      peoplePerSeal.set(r.sealId, (peoplePerSeal.get(r.sealId) ?? new Set()).add(r.personId));
  });
  return rows.map((r, i) => {
    const flags: ReportFlag[] = [];
    if (r.grantId) {
      if (r.personId && (grantsPerPerson.get(`${r.sealId}|${r.personId}`)?.size ?? 0) > 1) flags.push('overlapping');
      if (
        r.sealStatus === 'active' &&
        peoplePerSeal.get(r.sealId)?.size === 1 &&
        r.personStatus === 'active' &&
        !r.personIsCustodian
      )
        flags.push('single_user');
      if (r.granteeCompanyPath && !r.granteeCompanyPath.startsWith(r.sealCompanyPath)) flags.push('beyond_company');
      const allowed = sealFunction[r.sealType];
      if (allowed !== 'any' && (r.categories ?? []).some((c) => !allowed.includes(c))) flags.push('beyond_function');
      if (expired[i]) flags.push('expired');
      if (r.personStatus === 'resigned' || r.personStatus === 'suspended') flags.push('inactive_grantee');
      if (r.personIsCustodian) flags.push('custodian_user');
    }
    return {
      sealId: r.sealId,
      sealName: r.sealName,
      sealCode: r.sealCode,
      sealType: r.sealType,
      sealStatus: r.sealStatus,
      companyName: r.sealCompanyName,
      grantId: r.grantId,
      granteeType: r.granteeType,
      granteeName: r.granteeName,
      categories: r.categories ?? [],
      validUntil: r.validUntil === null ? null : r.validUntil instanceof Date ? r.validUntil : new Date(r.validUntil),
      remainingUses: r.maxUses === null ? null : r.maxUses - (r.usedCount ?? 0),
      personId: r.personId,
      personName: r.personName,
      personStatus: r.personStatus,
      flags,
    };
  });
}

/**
 * Who may use what, and through which grant: per company subtree, per seal or per person,
 * with every flag a seal administrator or auditor should act on.
 */
export async function permissionReport(
  ctx: AppContext,
  actor: Actor,
  query: {
    under?: string | undefined;
    sealId?: string | undefined;
    userId?: string | undefined;
    flag?: ReportFlag | undefined;
  },
) {
  const { principal } = actor;
  let under = scopeOf(principal, 'seals.read');
  if (query.under)
    under = [(await getCompany(ctx, actor, query.under)).path].filter((p) => under.some((root) => p.startsWith(root)));
  if (query.sealId) await getSeal(ctx, actor, query.sealId);
  if (
    query.userId &&
    !(await findUser(ctx.db, { groupId: principal.groupId, id: query.userId, scope: scopeOf(principal, 'org.read') }))
  )
    throw notFound('user_not_found', query.userId);
  if (query.under && under.length === 0) throw notFound('company_not_found', query.under);
  const coverage = await findGrantCoverage(ctx.db, {
    groupId: principal.groupId,
    under,
    sealId: query.sealId,
    userId: query.userId,
  });
  let rows = flagCoverage(coverage, ctx.now());
  const summary = Object.fromEntries(reportFlags.map((flag) => [flag, 0])) as Record<ReportFlag, number>;
  for (const r of rows) for (const flag of r.flags) summary[flag] += 1;
  if (query.flag) rows = rows.filter((r) => r.flags.includes(query.flag!));
  return { generatedAt: ctx.now(), summary, rows };
}

const csvColumns: Array<[string, (r: ReportRow) => string]> = [
  ['seal_code', (r) => r.sealCode],
  ['seal_name', (r) => r.sealName],
  ['seal_type', (r) => r.sealType],
  ['seal_status', (r) => r.sealStatus],
  ['company', (r) => r.companyName],
  ['grant_id', (r) => r.grantId ?? ''],
  ['grantee_type', (r) => r.granteeType ?? ''],
  ['grantee', (r) => r.granteeName ?? ''],
  ['person', (r) => r.personName ?? ''],
  ['person_status', (r) => r.personStatus ?? ''],
  ['categories', (r) => r.categories.join(' ')],
  ['valid_until', (r) => r.validUntil?.toISOString() ?? ''],
  ['remaining_uses', (r) => (r.remainingUses === null ? '' : String(r.remainingUses))],
  ['flags', (r) => r.flags.join(' ')],
];

/** RFC 4180 CSV with a UTF-8 byte-order mark, so spreadsheet programs read the Chinese names. */
export function toCsv(rows: ReportRow[]): string {
  const cell = (value: string) =>
    /[",\r\n]/.test(value) || /^[=+\-@]/.test(value)
      ? `"${value.replace(/^([=+\-@])/, "'$1").replace(/"/g, '""')}"`
      : value;
  const lines = [
    csvColumns.map(([name]) => name).join(','),
    ...rows.map((r) => csvColumns.map(([, get]) => cell(get(r))).join(',')),
  ];
  return `\ufeff${lines.join('\r\n')}\r\n`;
}
