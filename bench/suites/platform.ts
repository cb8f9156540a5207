import { performance } from 'node:perf_hooks';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REQUEST_TIMEOUT_SECONDS, runLoad, type LoadResult } from '../lib/load.js';
import {
  adminUrl,
  createBenchDatabase,
  redact,
  serverVersion,
  unreachable,
  type BenchDatabase,
} from '../lib/postgres.js';
import { sleep } from '../lib/resources.js';
import {
  cpuSeconds,
  machineBusyPercent,
  ROOT,
  rssMegabytes,
  runNode,
  runSigil,
  startServer,
  type Target,
} from '../lib/server.js';
import type { Goal, Result } from '../report.js';
import type { Suite, SuiteContext } from '../suite.js';
import { boundedInt } from '../lib/settings.js';

/** Users added to the demo group's ~31 (BENCH_USERS overrides). */
const EXTRA_USERS = boundedInt(process.env.BENCH_USERS, 1000, 0, 10_000);
/**
 * How they are added. `direct` (default): the way `sigil demo` seeds people, by the repositories in
 * one transaction with one password hash (seconds). `api`: POST /api/v1/users each, which hashes
 * every password with scrypt (~0.12 s of CPU each: minutes for a thousand, more on a busy machine).
 */
const SEED = process.env.BENCH_SEED === 'api' ? 'api' : 'direct';
if (process.env.BENCH_SEED && !['api', 'direct'].includes(process.env.BENCH_SEED))
  process.stderr.write(`bench: BENCH_SEED is api or direct, not ${process.env.BENCH_SEED}; using direct\n`);
const SEED_SCRIPT = join(ROOT, 'bench', 'lib', 'seed-users.ts');
const SETUP_CONCURRENCY = 4;
const SETUP_LIMIT_MS = 240_000;
const CONNECTIONS = 100;
const WARMUP_SECONDS = 2;
const LOAD_SECONDS = boundedInt(process.env.BENCH_SECONDS, 10, 1, 60);
const BASELINE_SECONDS = 3;
const WARM_STARTS = 3;
const BUSY_WARNING_PERCENT = 10;
const IDLE_WAIT_MS = 2_000;
const LIST_PATH = '/api/v1/users?limit=50';
const DEMO_ADMIN = 'sysadmin@demo.sigil.local';
/** PGlite with SIGIL_PGLITE_COMPILER=optimizing: shown beside the default, without goals (the goals are the default's). */
const OPTIMIZING = 'PGlite optimizing';

const GOALS = {
  warmStart: { op: '<=', value: 2 },
  // Was a timing inside test/demo.test.ts; timings belong here (issue 13).
  demoSeed: { op: '<=', value: 15 },
  idleRss: { op: '<=', value: 250 },
  postgresThroughput: { op: '>=', value: 2000 },
  failures: { op: '<=', value: 0 },
} satisfies Record<string, Goal>;

/** Row names, in the order printed; the units go with them. */
const METRICS = {
  cold: ['cold start to ready (empty data dir)', 's'],
  demo: ['sigil demo: seed the demo group, whole command', 's'],
  warm: [`warm start to ready (median of ${WARM_STARTS})`, 's'],
  rss: ['idle RSS (after seeding, +2 s)', 'MB'],
  background: ['CPU busy just before the load (not ours)', '%'],
  rps: [`GET ${LIST_PATH}, ${CONNECTIONS} connections`, 'req/s'],
  p50: ['  latency p50', 'ms'],
  p99: ['  latency p99', 'ms'],
  failed: ['  non-2xx + socket errors', 'count'],
  cpu: ['  server process CPU per request', 'ms'],
  transactions: ['  SQL statements per request', 'count'],
  baseline: ['reference: GET /healthz (no auth, no SQL)', 'req/s'],
  rssLoaded: ['RSS after the load', 'MB'],
} as const satisfies Record<string, readonly [string, string]>;
type MetricKey = keyof typeof METRICS;

/** A setting from the environment; a bad value is reported and the default used. */

export const platformSuite: Suite = {
  name: 'platform',
  title: 'start-up, memory and user-list throughput, PGlite and PostgreSQL',
  run: platform,
};

/** Measures PGlite, then PostgreSQL (skipped when no server answers); returns every figure. */
export async function platform(ctx: SuiteContext): Promise<Result[]> {
  const how =
    SEED === 'api'
      ? 'created through POST /api/v1/users'
      : 'added as sigil demo seeds people (repositories, one transaction; BENCH_SEED=api for the API)';
  ctx.note(
    `Data: the demo group (~31 users) plus ${EXTRA_USERS} users ${how}. Load: autocannon in its own process, ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up, then ${LOAD_SECONDS} s measured; bearer session of ${DEMO_ADMIN}; a request unanswered after ${REQUEST_TIMEOUT_SECONDS} s counts as failed.`,
  );
  const results = await measure(ctx, 'PGlite', { dataDir: tempDir(ctx, 'pglite') });
  // The default compiles PGlite's WebAssembly with V8's baseline compiler only; this is the other choice, for comparison.
  const optimizing = { SIGIL_PGLITE_COMPILER: 'optimizing' };
  results.push(
    ...(await measure(ctx, OPTIMIZING, { dataDir: tempDir(ctx, 'pglite-optimizing'), settings: optimizing })),
  );

  const serverUrl = adminUrl();
  const why = await unreachable(serverUrl);
  if (why) {
    ctx.note(
      `PostgreSQL skipped: ${redact(serverUrl)} does not answer (${why}). Set BENCH_DATABASE_URL to use another server.`,
    );
    for (const key of Object.keys(METRICS) as MetricKey[])
      results.push(row(key, 'PostgreSQL', null, { note: 'skipped (no PostgreSQL)', ...goalOf(key, 'PostgreSQL') }));
    return results;
  }
  let database: BenchDatabase;
  try {
    database = await createBenchDatabase(ctx.resources, serverUrl);
  } catch (error) {
    ctx.note(`PostgreSQL failed: could not create the bench database on ${redact(serverUrl)}: ${message(error)}`);
    for (const key of Object.keys(METRICS) as MetricKey[])
      results.push(row(key, 'PostgreSQL', null, { note: 'failed', invalid: true, ...goalOf(key, 'PostgreSQL') }));
    return results;
  }
  ctx.note(
    `PostgreSQL: ${await serverVersion(serverUrl)} at ${redact(serverUrl)}, fresh database ${database.name}, the server's default pool (DATABASE_POOL_SIZE 10).`,
  );
  results.push(
    ...(await measure(ctx, 'PostgreSQL', { dataDir: tempDir(ctx, 'postgres'), databaseUrl: database.url }, database)),
  );
  return results;
}

function tempDir(ctx: SuiteContext, label: string): string {
  return ctx.resources.dir(mkdtempSync(join(tmpdir(), `sigil-bench-${label}-`)));
}

function goalOf(key: MetricKey, subject: string): { goal?: Goal } {
  if (subject === OPTIMIZING) return {};
  if (key === 'warm') return { goal: GOALS.warmStart };
  if (key === 'demo') return { goal: GOALS.demoSeed };
  if (key === 'rss') return { goal: GOALS.idleRss };
  if (key === 'failed') return { goal: GOALS.failures };
  if (key === 'rps' && subject === 'PostgreSQL') return { goal: GOALS.postgresThroughput };
  return {};
}

function row(key: MetricKey, subject: string, value: number | null, extra: Partial<Result> = {}): Result {
  const [metric, unit] = METRICS[key];
  return { metric, subject, value, unit, ...goalOf(key, subject), ...extra };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One backend, start to finish. A failure part-way keeps what was measured and marks the rest failed. */
async function measure(
  ctx: SuiteContext,
  subject: string,
  target: Target,
  database?: BenchDatabase,
): Promise<Result[]> {
  const slug = subject.toLowerCase().replace(/\W+/g, '-');
  const results = new Map<MetricKey, Result>();
  const add = (key: MetricKey, value: number | null, extra: Partial<Result> = {}) =>
    results.set(key, row(key, subject, value, extra));
  const log = (text: string) => ctx.log(`${subject}: ${text}`);

  try {
    log('cold start on an empty data directory');
    const cold = await startServer(ctx.resources, `${slug}-cold`, target);
    add('cold', cold.readySeconds);
    await cold.stop();

    log('seeding the demo group (sigil demo)');
    const seedStarted = performance.now();
    await runSigil(ctx.resources, `${slug}-demo`, ['demo'], target);
    add('demo', (performance.now() - seedStarted) / 1000);
    const password = readFileSync(join(target.dataDir, 'demo-logins.txt'), 'utf8').trim();
    if (SEED === 'direct' && EXTRA_USERS > 0) {
      log(`adding ${EXTRA_USERS} users (set-up, not measured)`);
      const seeded = JSON.parse(
        await runNode(
          ctx.resources,
          `${slug}-seed-users`,
          ['--import', 'tsx', SEED_SCRIPT, String(EXTRA_USERS)],
          target,
        ),
      ) as { seconds: number };
      log(`  … done in ${seeded.seconds.toFixed(1)} s`);
    }

    // Start-up on this machine varies by a few hundred ms from one start to the next: take the median of a few.
    log(`warm start ×${WARM_STARTS}`);
    const warmTimes: number[] = [];
    for (let i = 1; i < WARM_STARTS; i++) {
      const probe = await startServer(ctx.resources, `${slug}-warm-${i}`, target);
      warmTimes.push(probe.readySeconds);
      await probe.stop();
    }
    const server = await startServer(ctx.resources, `${slug}-warm`, target);
    warmTimes.push(server.readySeconds);
    const samples = `warm starts ${warmTimes.map((t) => t.toFixed(2)).join(', ')} s`;
    add('warm', median(warmTimes), { note: samples });
    ctx.note(`${subject}: ${samples}.`);
    let load: LoadResult;
    let cpuPerRequestMs: number | null = null;
    let requestsSent = 0;
    let transactionsBefore: number | null = null;
    try {
      const api = new Api(server.baseUrl);
      await api.signIn(DEMO_ADMIN, password);
      const me = await api.json<{ company: { id: string } }>('GET', '/api/v1/me');
      if (SEED === 'api' && EXTRA_USERS > 0) {
        log(`creating ${EXTRA_USERS} users through the API (set-up, not measured)`);
        const setupSeconds = await createUsers(api, me.company.id, EXTRA_USERS);
        log(`  … done in ${setupSeconds.toFixed(1)} s`);
      }
      const page = await api.json<{ items: unknown[] }>('GET', LIST_PATH);
      if (page.items.length !== 50)
        ctx.note(`${subject}: ${LIST_PATH} returned ${page.items.length} users, not a full page of 50.`);

      await sleep(IDLE_WAIT_MS);
      add('rss', rssMegabytes(server.pid), { decimals: 0 });
      // The server and the database are idle now: whatever keeps the CPUs busy is someone else's.
      const background = await machineBusyPercent(1_000);
      add('background', background, { decimals: 0 });
      if (background !== null && background > BUSY_WARNING_PERCENT) {
        ctx.note(
          `!!! ${subject}: the machine was ${background.toFixed(0)}% busy with other work just before the load; the throughput figures share the CPUs with it.`,
        );
      }

      transactionsBefore = database ? await database.committedTransactions() : null;
      const headers = { authorization: `Bearer ${api.token}` };
      log(`load: ${WARMUP_SECONDS} s warm-up, then ${LOAD_SECONDS} s measured`);
      const warmup = await runLoad(ctx.resources, {
        url: server.baseUrl + LIST_PATH,
        connections: CONNECTIONS,
        seconds: WARMUP_SECONDS,
        headers,
      });
      const cpuBefore = cpuSeconds(server.pid);
      load = await runLoad(ctx.resources, {
        url: server.baseUrl + LIST_PATH,
        connections: CONNECTIONS,
        seconds: LOAD_SECONDS,
        headers,
      });
      const cpuAfter = cpuSeconds(server.pid);
      requestsSent = warmup.sent + load.sent;
      if (cpuBefore !== null && cpuAfter !== null && load.sent > 0)
        cpuPerRequestMs = ((cpuAfter - cpuBefore) * 1000) / load.sent;
      const warmupFailed = warmup.non2xx + warmup.errors + warmup.timeouts;
      if (warmupFailed > 0)
        ctx.note(`${subject}: ${warmupFailed} requests failed during the warm-up (${describeStatus(warmup)}).`);
      add('rssLoaded', rssMegabytes(server.pid), { decimals: 0 });

      // What this machine's HTTP stack gives without the application's work, to read the figure above against.
      log(`reference load: GET /healthz, ${BASELINE_SECONDS} s`);
      const baseline = await runLoad(ctx.resources, {
        url: `${server.baseUrl}/healthz`,
        connections: CONNECTIONS,
        seconds: BASELINE_SECONDS,
      });
      const baselineFailed = baseline.non2xx + baseline.errors + baseline.timeouts;
      add('baseline', baseline.requestsPerSecond, {
        decimals: 0,
        ...(baselineFailed > 0
          ? { invalid: true, note: `${baselineFailed} requests failed (${describeStatus(baseline)})` }
          : {}),
      });
    } finally {
      await server.stop();
    }

    const failed = load.non2xx + load.errors + load.timeouts;
    const invalid =
      failed > 0
        ? {
            invalid: true,
            note: `${failed} of ${load.requests} requests failed (${describeStatus(load)}); the throughput figures are not valid`,
          }
        : {};
    add('rps', load.requestsPerSecond, { decimals: 0, ...invalid });
    add('p50', load.latencyP50Ms, { decimals: 0, ...invalid });
    add('p99', load.latencyP99Ms, { decimals: 0, ...invalid });
    add('failed', failed, { decimals: 0, ...invalid });
    add('cpu', cpuPerRequestMs, { decimals: 3, ...(cpuPerRequestMs === null ? { note: 'n/a (no /proc)' } : {}) });
    if (failed > 0) ctx.note(`!!! ${subject}: ${invalid.note}.`);

    if (database && transactionsBefore !== null) {
      // Counted once the server has closed its connections, so every backend has flushed its statistics.
      const after = await settledTransactions(database);
      add('transactions', requestsSent > 0 ? (after - transactionsBefore) / requestsSent : null, { decimals: 2 });
    } else {
      add('transactions', null, { note: 'n/a (in-process)' });
    }
  } catch (error) {
    log(`FAILED: ${message(error)}`);
    ctx.note(`${subject} failed: ${message(error)}`);
    for (const key of Object.keys(METRICS) as MetricKey[]) {
      if (!results.has(key)) add(key, null, { note: 'failed', invalid: true });
    }
  }
  return (Object.keys(METRICS) as MetricKey[]).flatMap((key) => results.get(key) ?? []);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function describeStatus(load: LoadResult): string {
  const codes = Object.entries(load.statusCodes)
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, n]) => `${n}× HTTP ${code}`);
  if (load.errors) codes.push(`${load.errors} socket errors`);
  if (load.timeouts) codes.push(`${load.timeouts} timeouts`);
  return codes.join(', ') || 'no detail';
}

async function settledTransactions(database: BenchDatabase): Promise<number> {
  let last = await database.committedTransactions();
  for (let i = 0; i < 10; i++) {
    await sleep(300);
    const now = await database.committedTransactions();
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** Creates users with a few requests in flight (the server hashes each password with scrypt). Bounded in count and time. */
async function createUsers(api: Api, companyId: string, count: number): Promise<number> {
  const started = Date.now();
  const password = `bench-${Math.random().toString(36).slice(2)}-pw`;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      if (Date.now() - started > SETUP_LIMIT_MS)
        throw new Error(`creating users took over ${SETUP_LIMIT_MS / 1000} s (${next} of ${count} started)`);
      const i = next++;
      const n = String(i + 1).padStart(5, '0');
      await api.json(
        'POST',
        '/api/v1/users',
        { email: `bench.${n}@bench.sigil.local`, name: `测试用户${n}`, companyId, password },
        201,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, count) }, worker));
  return (Date.now() - started) / 1000;
}

/** Just enough of a client for the set-up requests. */
class Api {
  token = '';
  constructor(private readonly baseUrl: string) {}

  async signIn(email: string, password: string): Promise<void> {
    const answer = await this.json<{ status: string; token?: string }>('POST', '/api/v1/auth/sign-in', {
      email,
      password,
    });
    if (answer.status !== 'signed_in' || !answer.token)
      throw new Error(`sign-in as ${email} did not give a session (${answer.status})`);
    this.token = answer.token;
  }

  async json<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    expect = method === 'POST' && path !== '/api/v1/auth/sign-in' ? 201 : 200,
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (response.status !== expect)
      throw new Error(`${method} ${path} answered ${response.status}, expected ${expect}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }
}
