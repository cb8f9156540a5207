import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

/** A target a figure must meet: at most (`<=`) or at least (`>=`) the value. */
export interface Goal {
  op: '<=' | '>=';
  value: number;
}

/**
 * One figure: a metric measured on a subject (PGlite, PostgreSQL, later a peer product).
 * `value` is null when it was not measured; `note` says why. `invalid` marks a figure that
 * must not be trusted (requests failed while it was measured) and makes the run fail.
 */
export interface Result {
  metric: string;
  subject: string;
  value: number | null;
  unit: string;
  goal?: Goal;
  note?: string;
  invalid?: boolean;
  /** Digits after the decimal point when printed; by default chosen from the size. */
  decimals?: number;
}

export interface SuiteReport {
  suite: string;
  title: string;
  /** Free-form lines printed under the table (set-up, what was loaded). */
  notes: string[];
  results: Result[];
  seconds: number;
  /** Set when the suite failed before it measured everything. */
  error?: string;
}

export type Verdict = 'met' | 'missed' | 'none';

export function verdictOf(result: Result): Verdict {
  if (!result.goal || result.value === null) return 'none';
  const { op, value } = result.goal;
  return (op === '<=' ? result.value <= value : result.value >= value) ? 'met' : 'missed';
}

/** value ÷ goal: below 1 is good for an upper limit, above 1 for a lower one. */
export function ratioOf(result: Result): number | null {
  if (!result.goal || result.value === null || result.goal.value === 0) return null;
  return result.value / result.goal.value;
}

export function formatNumber(value: number, decimals?: number): string {
  const digits = decimals ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function formatGoal(goal: Goal, unit: string): string {
  return `${goal.op === '<=' ? '≤' : '≥'} ${formatNumber(goal.value, Number.isInteger(goal.value) ? 0 : undefined)} ${unit}`;
}

function cell(result: Result | undefined): string {
  if (!result) return '—';
  if (result.value === null) return result.note ?? 'not measured';
  let text = formatNumber(result.value, result.decimals);
  const verdict = verdictOf(result);
  const ratio = ratioOf(result);
  if (verdict !== 'none') text += ` ${verdict === 'met' ? '✓' : '✗'}${ratio !== null ? ` ${ratio.toFixed(2)}×` : ''}`;
  if (result.invalid) text += ' INVALID';
  return text;
}

/** Display width: CJK and other wide characters take two columns. */
function width(text: string): number {
  let n = 0;
  for (const ch of text)
    n += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch)
      ? 2
      : 1;
  return n;
}

const pad = (text: string, to: number) => text + ' '.repeat(Math.max(0, to - width(text)));

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => width(row[column] ?? ''))));
  const line = (row: string[]) =>
    row
      .map((text, column) => pad(text, widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** Metrics down, subjects across: the same figure on PGlite and PostgreSQL side by side. */
export function formatSuite(report: SuiteReport): string {
  const metrics = [...new Set(report.results.map((r) => r.metric))];
  const subjects = [...new Set(report.results.map((r) => r.subject))];
  const rows: string[][] = [['metric', 'unit', ...subjects, 'goal']];
  for (const metric of metrics) {
    const ofMetric = report.results.filter((r) => r.metric === metric);
    const unit = ofMetric[0]!.unit;
    const goals = new Map<string, string[]>();
    for (const r of ofMetric) {
      if (!r.goal) continue;
      const text = formatGoal(r.goal, r.unit);
      goals.set(text, [...(goals.get(text) ?? []), r.subject]);
    }
    const goalText = [...goals.entries()]
      .map(([text, on]) => (on.length === subjects.length ? text : `${text} (${on.join(', ')})`))
      .join('; ');
    rows.push([metric, unit, ...subjects.map((s) => cell(ofMetric.find((r) => r.subject === s))), goalText || '—']);
  }
  const out = [`== ${report.suite}: ${report.title}  (${report.seconds.toFixed(0)} s)`, '', table(rows)];
  if (report.notes.length > 0) out.push('', ...report.notes.map((n) => `  ${n}`));
  if (report.error) out.push('', `  SUITE FAILED: ${report.error}`);
  return out.join('\n');
}

export function formatSummary(reports: SuiteReport[]): string {
  const all = reports.flatMap((r) => r.results);
  const withGoal = all.filter((r) => verdictOf(r) !== 'none');
  const missed = withGoal.filter((r) => verdictOf(r) === 'missed');
  const skipped = all.filter((r) => r.goal && r.value === null);
  const invalid = all.filter((r) => r.invalid);
  const failed = reports.filter((r) => r.error);
  const lines = [
    '',
    `Goals: ${withGoal.length - missed.length} of ${withGoal.length} met${skipped.length ? `, ${skipped.length} not measured` : ''}.`,
  ];
  for (const r of missed) {
    lines.push(
      `  MISSED  ${r.metric} on ${r.subject}: ${formatNumber(r.value!, r.decimals)} ${r.unit}, goal ${formatGoal(r.goal!, r.unit)}${ratioOf(r) !== null ? ` (${ratioOf(r)!.toFixed(2)}× the goal)` : ''}`,
    );
  }
  const invalidBySubject = new Map<string, Result[]>();
  for (const r of invalid)
    invalidBySubject.set(`${r.subject}\0${r.note ?? ''}`, [
      ...(invalidBySubject.get(`${r.subject}\0${r.note ?? ''}`) ?? []),
      r,
    ]);
  for (const rs of invalidBySubject.values()) {
    lines.push(
      `  INVALID ${rs[0]!.subject}: ${rs[0]!.note ?? 'requests failed while measuring'} (${rs.map((r) => r.metric.trim()).join('; ')})`,
    );
  }
  for (const r of failed) lines.push(`  FAILED  suite ${r.suite}: ${r.error}`);
  lines.push('ratio = value ÷ goal (an upper limit is met at ≤ 1.00×, a lower one at ≥ 1.00×).');
  return lines.join('\n');
}

/** Writes every figure, with the machine it was measured on, to `<dir>/results.json`. */
export function writeJson(
  dir: string,
  reports: SuiteReport[],
  startedAt: Date,
  meta: { commit: string | null; busyPercentBefore: number | null; loadAverageBefore: number[] },
): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'results.json');
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    memoryMB: Math.round(totalmem() / 1024 / 1024),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
  const suites = reports.map((r) => ({
    ...r,
    results: r.results.map((result) => ({ ...result, verdict: verdictOf(result), ratio: ratioOf(result) })),
  }));
  writeFileSync(
    file,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), ...meta, machine, suites }, null, 2)}\n`,
  );
  return file;
}
