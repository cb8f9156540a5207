// `npm run bench` (after a build): runs the benchmark suites, prints their figures side by side
// with the goals, writes .bench/results.json. `node --import tsx bench/run.ts platform` runs one suite.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Resources } from './lib/resources.js';
import { BENCH_OUT, machineBusyPercent, ROOT } from './lib/server.js';
import { formatSuite, formatSummary, writeJson, type SuiteReport } from './report.js';
import type { Suite } from './suite.js';
import { platformSuite } from './suites/platform.js';
import { pdfSuite } from './suites/pdf.js';
import { approvalsSuite } from './suites/approvals.js';
import { sealsSuite } from './suites/seals.js';
import { auditSuite } from './suites/audit.js';
import { consoleSuite } from './suites/console.js';
import { contractsSuite } from './suites/contracts.js';
import { sesSuite } from './suites/ses.js';
import { devicesSuite } from './suites/devices.js';

/** Every suite, in the order `npm run bench` runs them. */
const SUITES: Suite[] = [
  platformSuite,
  pdfSuite,
  approvalsSuite,
  sealsSuite,
  auditSuite,
  consoleSuite,
  contractsSuite,
  sesSuite,
  devicesSuite,
];

const USAGE = `usage: node --import tsx bench/run.ts [suite …]   (no suite: all of them)
suites: ${SUITES.map((s) => `${s.name} — ${s.title}`).join('\n        ')}
environment: BENCH_DATABASE_URL (PostgreSQL server; else DATABASE_URL, else postgres://sigil:sigil@127.0.0.1:5432/sigil),
             BENCH_USERS, BENCH_SEED=api|direct, BENCH_SECONDS, BENCH_APPLICATIONS, BENCH_APPROVAL_CLIENTS, BENCH_RACE_EVERY,
             BENCH_SEALS_SCALE, BENCH_SEALS_RESEED=1, BENCH_DECISIONS, BENCH_HTTP_DECISIONS,
             BENCH_AUDIT_EVENTS, BENCH_AUDIT_RESEED=1, BENCH_AUDIT_CLIENTS, BENCH_AUDIT_BATCH, BENCH_AUDIT_SECONDS, BENCH_AUDIT_PROOFS,
             BENCH_SES_SECONDS, BENCH_DEVICES, BENCH_DEVICE_EVENTS, BENCH_DEVICE_CLIENTS,
             BENCH_CONTRACT_CLIENTS, BENCH_CONTRACT_WARMUP, BENCH_CONTRACT_PDF_KB, BENCH_BATCH_DOCUMENTS, BENCH_BATCH_WARMUP, BENCH_CONTRACTS_PART=all|batch|contracts,
             BENCH_DATABASE_NAME (default sigil_bench; one per engineer sharing a server),
             BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=.bench/prof"),
             BENCH_STRICT=1 (exit 1 when a goal is missed)`;

function gitCommit(): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return null;
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = argv.filter((name) => !SUITES.some((s) => s.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`bench: no suite ${unknown.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const chosen = argv.length > 0 ? SUITES.filter((s) => argv.includes(s.name)) : SUITES;

  const startedAt = new Date();
  const commit = gitCommit();
  const busy = await machineBusyPercent(1_000);
  const load = loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');
  process.stdout.write(
    `Sigil benchmarks — ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}${commit ? `, commit ${commit}` : ''}\n`,
  );
  process.stdout.write(
    `Machine before the run: ${busy === null ? '?' : busy.toFixed(0)}% CPU busy, load average ${load}${busy !== null && busy > 10 ? ' — other work is running; the figures share the CPUs with it' : ''}\n\n`,
  );

  let current: Resources | null = null;
  const interrupted = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nbench: ${signal}, cleaning up …\n`);
    void (current?.release() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  const reports: SuiteReport[] = [];
  for (const suite of chosen) {
    const resources = new Resources();
    current = resources;
    const report: SuiteReport = { suite: suite.name, title: suite.title, notes: [], results: [], seconds: 0 };
    const started = performance.now();
    const log = (message: string) =>
      process.stderr.write(
        `[${suite.name} ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}\n`,
      );
    try {
      report.results = await suite.run({ resources, log, note: (message) => report.notes.push(message) });
    } catch (error) {
      report.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
    } finally {
      await resources.release();
      current = null;
    }
    report.seconds = (performance.now() - started) / 1000;
    reports.push(report);
    process.stdout.write(`${formatSuite(report)}\n\n`);
  }

  process.stdout.write(`${formatSummary(reports)}\n`);
  const file = writeJson(BENCH_OUT, reports, startedAt, {
    commit,
    busyPercentBefore: busy,
    loadAverageBefore: loadavg(),
  });
  process.stdout.write(`Results: ${file}\n`);

  const results = reports.flatMap((r) => r.results);
  if (reports.some((r) => r.error) || results.some((r) => r.invalid)) return 1;
  if (
    process.env.BENCH_STRICT === '1' &&
    results.some(
      (r) => r.goal && r.value !== null && (r.goal.op === '<=' ? r.value > r.goal.value : r.value < r.goal.value),
    )
  )
    return 1;
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
