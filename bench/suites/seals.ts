// Seals at scale, on PostgreSQL: 1,000 companies, 100,000 people, 10,000 seals and 1,000,000
// grants (bench/lib/seed-seals.ts), then the use decision (`decideSealUse`) for random
// (person, seal, category) triples and the permission report of the largest subsidiary, each
// through the functions the API runs and through HTTP. The seeded database is kept between
// runs (`sigil_bench_seals`, with a marker row) and reused while its migrations and the seed's
// version and sizes match; otherwise it is dropped and seeded again.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { Latency, MeasureOutput, MeasureSettings } from '../lib/measure-seals.js';
import { adminUrl, redact, serverVersion, unreachable } from '../lib/postgres.js';
import {
  checkSeed,
  FULL_SIZES,
  SEALS_SEED_VERSION,
  seedSeals,
  type SealsSeedSizes,
  type SeedFacts,
} from '../lib/seed-seals.js';
import { ROOT, runNode, runSigil, startServer, type Target } from '../lib/server.js';
import type { Goal, Result } from '../report.js';
import type { Suite, SuiteContext } from '../suite.js';
import { boundedInt, boundedNumber } from '../lib/settings.js';

const SUBJECT = 'PostgreSQL';
const DATABASE = 'sigil_bench_seals';
const MARKER = 'bench_seed';
const SCALE = boundedNumber(process.env.BENCH_SEALS_SCALE, 1, 0.02, 1);
const DECISIONS = boundedInt(process.env.BENCH_DECISIONS, 20_000, 100, 200_000);
const HTTP_DECISIONS = boundedInt(process.env.BENCH_HTTP_DECISIONS, 5_000, 0, 100_000);
const WARMUP = 1_000;
const REPORT_RUNS = 5;
const MEASURE_LIMIT_MS = 600_000;
const MEASURE_SCRIPT = join(ROOT, 'bench', 'lib', 'measure-seals.ts');

const SIZES: SealsSeedSizes = {
  companies: Math.round(FULL_SIZES.companies * SCALE),
  users: Math.round(FULL_SIZES.users * SCALE),
  seals: Math.round(FULL_SIZES.seals * SCALE),
  grantsPerSeal: FULL_SIZES.grantsPerSeal,
};

const GOALS = {
  decision: { op: '<=', value: 1000 },
  report: { op: '<=', value: 1000 },
} satisfies Record<string, Goal>;

const METRICS = {
  companies: ['seeded companies (HQ → 10 regions → subsidiaries)', 'count'],
  users: ['seeded people', 'count'],
  seals: ['seeded seals', 'count'],
  grants: ['seeded grants (people, departments, roles)', 'count'],
  seeding: ['seeding time (SQL, then checks and VACUUM ANALYZE)', 's'],
  decisionP50: ['decideSealUse in-process, p50', 'µs'],
  decisionP99: ['decideSealUse in-process, p99', 'µs'],
  decisionMax: ['decideSealUse in-process, max', 'µs'],
  referenceP50: ['  reference: select 1 on the same connection, p50', 'µs'],
  referenceP99: ['  reference: select 1 on the same connection, p99', 'µs'],
  decisionCpu: ['  CPU per decision: client + PostgreSQL backend', 'µs'],
  decisionBusy: ['  machine CPU busy while deciding (everyone)', '%'],
  httpP50: ['GET /seal-use/decision, p50', 'µs'],
  httpP99: ['GET /seal-use/decision, p99', 'µs'],
  reportRows: ['permission report of the large subsidiary: rows', 'count'],
  reportJson: ['  service + JSON (median of 5)', 'ms'],
  reportCsv: ['  service + CSV (median of 5)', 'ms'],
  reportSql: ['  of which the coverage query (median of 5)', 'ms'],
  httpReportJson: ['  GET /reports/seal-permissions JSON (median of 5)', 'ms'],
  httpReportCsv: ['  GET /reports/seal-permissions CSV (median of 5)', 'ms'],
} as const satisfies Record<string, readonly [string, string]>;
type MetricKey = keyof typeof METRICS;

export const sealsSuite: Suite = {
  name: 'seals',
  title: `seals at scale: ${SIZES.companies.toLocaleString('en-US')} companies, ${SIZES.users.toLocaleString('en-US')} people, ${SIZES.seals.toLocaleString('en-US')} seals, ${(SIZES.seals * SIZES.grantsPerSeal).toLocaleString('en-US')} grants; use decision and permission report, on PostgreSQL`,
  run: seals,
};

function goalOf(key: MetricKey): { goal?: Goal } {
  if (key === 'decisionP99') return { goal: GOALS.decision };
  if (key === 'reportJson' || key === 'reportCsv') return { goal: GOALS.report };
  return {};
}

function row(key: MetricKey, value: number | null, extra: Partial<Result> = {}): Result {
  const [metric, unit] = METRICS[key];
  return { metric, subject: SUBJECT, value, unit, ...goalOf(key), ...extra };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const count = (n: number) => n.toLocaleString('en-US');
type Add = (key: MetricKey, value: number | null, extra?: Partial<Result>) => void;

export async function seals(ctx: SuiteContext): Promise<Result[]> {
  const serverUrl = adminUrl();
  const why = await unreachable(serverUrl);
  if (why) {
    ctx.note(
      `Skipped: PostgreSQL at ${redact(serverUrl)} does not answer (${why}). Set BENCH_DATABASE_URL to use another server.`,
    );
    return (Object.keys(METRICS) as MetricKey[]).map((key) => row(key, null, { note: 'skipped (no PostgreSQL)' }));
  }
  const results = new Map<MetricKey, Result>();
  const add: Add = (key, value, extra = {}) => results.set(key, row(key, value, extra));
  try {
    ctx.note(`${await serverVersion(serverUrl)} at ${redact(serverUrl)}, database ${DATABASE} (kept between runs).`);
    await measure(ctx, serverUrl, add);
  } catch (error) {
    ctx.log(`FAILED: ${message(error)}`);
    ctx.note(`Failed: ${message(error)}`);
    for (const key of Object.keys(METRICS) as MetricKey[])
      if (!results.has(key)) add(key, null, { note: 'failed', invalid: true });
  }
  return (Object.keys(METRICS) as MetricKey[]).flatMap((key) => results.get(key) ?? []);
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

interface Marker {
  version: number;
  sizes: SealsSeedSizes;
  migrations: string[];
  facts: SeedFacts;
  counts: Record<string, number>;
  seconds: number;
  seededAt: string;
}

/** The marker of a usable cached database, or why it cannot be reused. */
async function cachedSeed(serverUrl: string, url: string, migrations: string[]): Promise<Marker | string> {
  const exists = await withClient(
    serverUrl,
    async (client) => (await client.query('select 1 from pg_database where datname = $1', [DATABASE])).rowCount === 1,
  );
  if (!exists) return 'no cached database';
  return withClient(url, async (client) => {
    const table = await client.query(`select to_regclass('${MARKER}') as t`);
    if (!table.rows[0]?.t) return 'the cached database has no marker (seeding did not finish)';
    const marker = (await client.query<{ marker: Marker }>(`select marker from ${MARKER}`)).rows[0]?.marker;
    if (!marker) return 'the cached database has no marker row';
    if (marker.version !== SEALS_SEED_VERSION)
      return `it was seeded by seed version ${marker.version}, this is ${SEALS_SEED_VERSION}`;
    // jsonb does not keep key order: compare size by size.
    if ((Object.keys(SIZES) as Array<keyof SealsSeedSizes>).some((key) => marker.sizes[key] !== SIZES[key]))
      return `it holds other sizes (${JSON.stringify(marker.sizes)})`;
    const applied = (await client.query<{ name: string }>('select name from sigil_migrations order by name')).rows.map(
      (r) => r.name,
    );
    if (JSON.stringify(applied) !== JSON.stringify(migrations))
      return `its migrations (${applied.at(-1) ?? 'none'}) differ from this build's (${migrations.at(-1)})`;
    return marker;
  });
}

async function seed(ctx: SuiteContext, serverUrl: string, url: string, migrations: string[]): Promise<Marker> {
  const started = performance.now();
  await withClient(serverUrl, async (client) => {
    await client.query(`drop database if exists ${DATABASE} with (force)`);
    await client.query(`create database ${DATABASE}`);
  });
  const dataDir = ctx.resources.dir(mkdtempSync(join(tmpdir(), 'sigil-bench-seals-migrate-')));
  await runSigil(ctx.resources, 'seals-migrate', ['db', 'migrate'], { dataDir, databaseUrl: url });
  const { hashPassword } = (await import(
    pathToFileURL(join(ROOT, 'dist', 'lib', 'secrets.js')).href
  )) as typeof import('../../src/lib/secrets.js');
  const passwordHash = await hashPassword(randomBytes(16).toString('base64url'));
  const marker = await withClient(url, async (client) => {
    const facts = await seedSeals(client, SIZES, passwordHash, ctx.log);
    const counts = await checkSeed(client, ctx.log);
    const seconds = (performance.now() - started) / 1000;
    const value: Marker = {
      version: SEALS_SEED_VERSION,
      sizes: SIZES,
      migrations,
      facts,
      counts,
      seconds,
      seededAt: new Date().toISOString(),
    };
    // Written last: a database without it was not finished and is seeded again.
    await client.query(`create table ${MARKER} (marker jsonb not null)`);
    await client.query(`insert into ${MARKER} (marker) values ($1)`, [JSON.stringify(value)]);
    return value;
  });
  return marker;
}

async function measure(ctx: SuiteContext, serverUrl: string, add: Add): Promise<void> {
  const url = databaseUrl(serverUrl, DATABASE);
  const { migrationNames } = (await import(
    pathToFileURL(join(ROOT, 'dist', 'db', 'migrate.js')).href
  )) as typeof import('../../src/db/migrate.js');
  const migrations = migrationNames();
  let marker: Marker;
  let reused = false;
  const cached =
    process.env.BENCH_SEALS_RESEED === '1' ? 'BENCH_SEALS_RESEED=1' : await cachedSeed(serverUrl, url, migrations);
  if (typeof cached === 'string') {
    ctx.log(
      `seeding ${DATABASE} (${cached}): ${count(SIZES.companies)} companies, ${count(SIZES.users)} people, ${count(SIZES.seals)} seals, ${count(SIZES.seals * SIZES.grantsPerSeal)} grants`,
    );
    marker = await seed(ctx, serverUrl, url, migrations);
    ctx.log(`  … seeded in ${marker.seconds.toFixed(1)} s`);
  } else {
    marker = cached;
    reused = true;
    ctx.log(`reusing ${DATABASE}, seeded ${marker.seededAt} in ${marker.seconds.toFixed(1)} s`);
  }
  const { facts, counts } = marker;
  add('companies', counts.companies ?? null, { decimals: 0 });
  add('users', counts.users ?? null, { decimals: 0 });
  add('seals', counts.seals ?? null, { decimals: 0 });
  add('grants', counts.grants ?? null, { decimals: 0 });
  add('seeding', marker.seconds, { decimals: 1, ...(reused ? { note: `${marker.seconds.toFixed(1)} (cached)` } : {}) });
  ctx.note(
    `Data (${reused ? `reused: seeded ${marker.seededAt}` : 'seeded now'}, by set-based SQL on a database the real migrations made; foreign-key triggers off while inserting, every reference checked afterwards, then VACUUM ANALYZE): ` +
      `${count(counts.companies!)} companies, ${count(counts.departments!)} departments, ${count(counts.users!)} people (${count(counts.roleAssignments!)} role assignments, ${count(counts.posts!)} additional posts), ` +
      `${count(counts.seals!)} seals with a custodian each, ${count(counts.grants!)} grants (${count(counts.departmentGrants!)} to departments, ${count(counts.roleGrants!)} to roles, ${count(counts.revokedGrants!)} revoked; a tenth of them expired, three tenths limited in uses).`,
  );
  ctx.note(
    `Large subsidiary ${facts.largeCompanyName}: ${count(facts.large.users)} people, ${count(facts.large.departments)} departments, ${count(facts.large.seals)} seals, ${count(facts.large.grants)} grants.`,
  );

  // A session for the head office's seal administrator, removed again at the end.
  const token = `sgs_${randomBytes(32).toString('base64url')}`;
  await withClient(url, (client) =>
    client.query(
      `insert into sessions (id, group_id, user_id, token_hash, mfa_pending, ip, user_agent, expires_at) values (gen_random_uuid(), $1, $2, $3, false, null, 'sigil-bench-seals', now() + interval '2 hours')`,
      [facts.groupId, facts.adminId, createHash('sha256').update(token).digest('hex')],
    ),
  );
  ctx.resources.defer('remove the bench session', () =>
    withClient(url, (client) => client.query(`delete from sessions where user_agent = 'sigil-bench-seals'`)).then(
      () => undefined,
    ),
  );

  const dataDir = ctx.resources.dir(mkdtempSync(join(tmpdir(), 'sigil-bench-seals-')));
  const target: Target = { dataDir, databaseUrl: url };
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  if (HTTP_DECISIONS > 0) {
    ctx.log('starting the server');
    server = await startServer(ctx.resources, 'seals-server', target);
  }
  try {
    const settings: MeasureSettings = {
      sizes: SIZES,
      facts,
      decisions: DECISIONS,
      warmup: WARMUP,
      reportRuns: REPORT_RUNS,
      http: server ? { baseUrl: server.baseUrl, token, decisions: HTTP_DECISIONS } : undefined,
    };
    const settingsFile = join(dataDir, 'measure-settings.json');
    writeFileSync(settingsFile, JSON.stringify(settings));
    ctx.log(
      `measuring: ${count(DECISIONS)} decisions in-process${server ? `, ${count(HTTP_DECISIONS)} over HTTP` : ''}, ${REPORT_RUNS} reports each way`,
    );
    const output = JSON.parse(
      await runNode(
        ctx.resources,
        'seals-measure',
        ['--import', 'tsx', MEASURE_SCRIPT, settingsFile],
        target,
        MEASURE_LIMIT_MS,
      ),
    ) as MeasureOutput;
    const d = output.decision;
    add('decisionP50', d.p50, { decimals: 0 });
    add('decisionP99', d.p99, { decimals: 0 });
    add('decisionMax', d.max, { decimals: 0 });
    add('referenceP50', output.reference.p50, { decimals: 0 });
    add('referenceP99', output.reference.p99, { decimals: 0 });
    const { cpu } = output;
    add(
      'decisionCpu',
      cpu.backendMicros === null ? null : cpu.clientMicros + cpu.backendMicros,
      cpu.backendMicros === null ? { note: 'n/a (PostgreSQL not on this machine)' } : { decimals: 0 },
    );
    add('decisionBusy', cpu.machineBusyPercent, { decimals: 0 });
    if (cpu.machineBusyPercent !== null && cpu.machineBusyPercent > 60) {
      ctx.note(
        `!!! The machine's CPUs were ${cpu.machineBusyPercent.toFixed(0)}% busy while the decisions ran (the bench itself keeps about one of the two busy): latencies, and above all their p99, include waiting for a CPU. The CPU per decision (client ${cpu.clientMicros.toFixed(0)} µs + backend ${cpu.backendMicros?.toFixed(0) ?? '?'} µs) and the select 1 reference are the figures to compare between runs.`,
      );
    }
    ctx.note(
      `Use decision: ${count(d.count)} calls of decideSealUse (after ${count(WARMUP)} to warm up), one after another through the server's Kysely database handle (one connection), at "now"; every tenth is followed by a select 1, the reference; ` +
        `half the triples from real grants (grantee, a member of the granted department or a holder of the role, one of its categories), half uniform. ` +
        `p50/p90/p99/max ${fmt(d, 'µs')}. Answers: ${Object.entries(d.outcomes)
          .sort((a, b) => b[1] - a[1])
          .map(([k, n]) => `${k} ${count(n)}`)
          .join(', ')}.`,
    );
    if (output.httpDecision) {
      const h = output.httpDecision;
      const failed = Object.entries(h.statuses).filter(([status]) => status !== '200');
      const invalid =
        failed.length > 0
          ? { invalid: true, note: `answers other than 200: ${failed.map(([s, n]) => `${n}× ${s}`).join(', ')}` }
          : {};
      add('httpP50', h.p50, { decimals: 0, ...invalid });
      add('httpP99', h.p99, { decimals: 0, ...invalid });
      ctx.note(
        `Over HTTP: ${count(h.count)} GET /api/v1/seal-use/decision?sealId&userId&category as the head office's seal administrator (one keep-alive connection, one request at a time; asking about another person also checks the seal and the person are in scope: three queries or four); p50/p90/p99/max ${fmt(h, 'µs')}.`,
      );
    } else {
      add('httpP50', null, { note: 'not measured (BENCH_HTTP_DECISIONS=0)' });
      add('httpP99', null, { note: 'not measured (BENCH_HTTP_DECISIONS=0)' });
    }
    const r = output.report;
    add('reportRows', r.rows, { decimals: 0 });
    add('reportJson', r.json.p50, { decimals: 0 });
    add('reportCsv', r.csv.p50, { decimals: 0 });
    add('reportSql', r.sqlMs.p50, { decimals: 0 });
    ctx.note(
      `Permission report under=${facts.largeCompanyName} (its subtree), as the head office's seal administrator: permissionReport() then JSON.stringify (${(r.jsonBytes / 1e6).toFixed(1)} MB) or toCsv (${(r.csvBytes / 1e6).toFixed(1)} MB); ` +
        `${r.rows.toLocaleString('en-US')} rows; median/max of ${REPORT_RUNS} after one warm-up: JSON ${r.json.p50.toFixed(0)}/${r.json.max.toFixed(0)} ms, CSV ${r.csv.p50.toFixed(0)}/${r.csv.max.toFixed(0)} ms, the coverage query alone ${r.sqlMs.p50.toFixed(0)}/${r.sqlMs.max.toFixed(0)} ms.`,
    );
    if (output.httpReport) {
      const hr = output.httpReport;
      const invalid = hr.status.some((s) => s !== 200) ? { invalid: true, note: `HTTP ${hr.status.join(', ')}` } : {};
      add('httpReportJson', hr.json.p50, { decimals: 0, ...invalid });
      add('httpReportCsv', hr.csv.p50, { decimals: 0, ...invalid });
      ctx.note(
        `Over HTTP (whole body received): JSON ${(hr.jsonBytes / 1e6).toFixed(1)} MB in ${hr.json.p50.toFixed(0)}/${hr.json.max.toFixed(0)} ms, CSV ${(hr.csvBytes / 1e6).toFixed(1)} MB in ${hr.csv.p50.toFixed(0)}/${hr.csv.max.toFixed(0)} ms (median/max).`,
      );
    } else {
      add('httpReportJson', null, { note: 'not measured (BENCH_HTTP_DECISIONS=0)' });
      add('httpReportCsv', null, { note: 'not measured (BENCH_HTTP_DECISIONS=0)' });
    }
  } finally {
    await server?.stop();
  }
}

function fmt(l: Latency, unit: string): string {
  return `${[l.p50, l.p90, l.p99, l.max].map((n) => n.toFixed(0)).join('/')} ${unit}`;
}
