// Approval throughput and exactly-once on PostgreSQL: 1,000 seal-use applications through a
// two-level flow (department head, then the seal's custodian), approved by 50 concurrent clients,
// some of them deliberately racing for the same task. Then the database must show every
// application approved exactly once: no transition lost, none doubled, the audit chain whole.
import { spawn } from 'node:child_process';
import { newToken, sha256Hex } from '../../src/lib/secrets.js';
import { SESSION_PREFIX } from '../../src/modules/auth/auth.service.js';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import type { ApproveLoadResult, ApproveLoadSettings, TaskOutcome } from '../lib/approve-load.js';
import {
  adminUrl,
  createBenchDatabase,
  redact,
  serverVersion,
  unreachable,
  type BenchDatabase,
} from '../lib/postgres.js';
import { killChild, sleep } from '../lib/resources.js';
import type { SeedOutput, SessionHashes } from '../lib/seed-approvals.js';
import {
  BENCH_OUT,
  cpuSeconds,
  cpuSplit,
  machineBusyPercent,
  machineTicks,
  ROOT,
  runNode,
  runSigil,
  sigilEnv,
  startServer,
  type RunningServer,
  type Target,
} from '../lib/server.js';
import type { Goal, Result } from '../report.js';
import type { Suite, SuiteContext } from '../suite.js';
import { boundedInt } from '../lib/settings.js';

/** The server with its defaults (e-mail and text messages off), then with e-mail on; the goals are the first's. */
const SUBJECTS = [
  { name: 'PostgreSQL', mail: false },
  { name: 'PostgreSQL, e-mail on', mail: true },
] as const;
type Subject = (typeof SUBJECTS)[number];
/** How long, at most, the bench waits for the server to send the e-mails queued (before and after the load). */
const MAIL_DRAIN_LIMIT_MS = 180_000;
const APPLICATIONS = boundedInt(process.env.BENCH_APPLICATIONS, 1000, 10, 10_000);
const CLIENTS = boundedInt(process.env.BENCH_APPROVAL_CLIENTS, 50, 1, 200);
/** Applications approved through both levels before the measured ones, by the same load: the server's warm-up. */
const WARMUP = boundedInt(process.env.BENCH_APPROVAL_WARMUP, 1000, 0, 10_000);
/** Every this-many-th task is approved by two clients at once (BENCH_RACE_EVERY=0: never). */
const RACE_EVERY = boundedInt(process.env.BENCH_RACE_EVERY, 10, 0, 1000);
const LEVELS = 2;
const APPLICANTS = 10;
const SETUP_CONCURRENCY = 8;
const SETUP_LIMIT_MS = 180_000;
const LOAD_DEADLINE_SECONDS = 90;
const REQUEST_TIMEOUT_MS = 10_000;
const INBOX_PAGE = 200;
const LOCK_SAMPLE_MS = 100;
const BUSY_WARNING_PERCENT = 10;
const CATEGORY = 'sales';
/** A session token as the server makes them; the sessions table stores its SHA-256. */
const newSessionToken = () => newToken(SESSION_PREFIX);

const SEED_SCRIPT = join(ROOT, 'bench', 'lib', 'seed-approvals.ts');
const LOAD_SCRIPT = join(ROOT, 'bench', 'lib', 'approve-load.ts');
const SQL_COUNTER = pathToFileURL(join(ROOT, 'bench', 'lib', 'sql-counter.mjs')).href;

const GOALS = {
  throughput: { op: '>=', value: 500 },
  none: { op: '<=', value: 0 },
} satisfies Record<string, Goal>;

/** Row names, in the order printed, with their units. */
const METRICS = {
  background: ['CPU busy just before the load (not ours)', '%'],
  coldRate: ['warm-up: transitions/s of a server just started', 'transitions/s'],
  rate: [`approve transitions/s, ${CLIENTS} clients`, 'transitions/s'],
  p50: ['  approve latency p50', 'ms'],
  p99: ['  approve latency p99', 'ms'],
  ok: ['  200 answers (transitions made)', 'count'],
  conflicts: ['  409 answers (two clients, one task)', 'count'],
  failed: ['  other answers + socket errors', 'count'],
  lost: ['lost transitions', 'count'],
  doubled: ['doubled transitions', 'count'],
  chain: ['audit chain problems (GET /audit-events/verify)', 'count'],
  serverCpu: ['server process CPU per transition', 'ms'],
  pgCpu: ['PostgreSQL backends CPU per transition', 'ms'],
  loadCpu: ['load generator CPU per transition', 'ms'],
  busy: ['machine CPU busy during the load', '%'],
  sql: ['SQL statements per transition', 'count'],
  transactions: ['PostgreSQL commits per transition', 'count'],
  lockWaits: ['backends waiting for a lock (mean of samples)', 'count'],
  mailsDuring: ['e-mails sent during the load', 'count'],
  mailDrain: ['e-mail queue empty again, after the load', 's'],
} as const satisfies Record<string, readonly [string, string]>;
type MetricKey = keyof typeof METRICS;

export const approvalsSuite: Suite = {
  name: 'approvals',
  title: `approval throughput: ${APPLICATIONS.toLocaleString('en-US')} applications × ${LEVELS} levels, ${CLIENTS} clients, exactly-once, on PostgreSQL`,
  run: approvals,
};

function goalOf(key: MetricKey, subject: Subject): { goal?: Goal } {
  if (key === 'rate') return subject.mail ? {} : { goal: GOALS.throughput };
  if (key === 'failed' || key === 'lost' || key === 'doubled' || key === 'chain') return { goal: GOALS.none };
  return {};
}

function row(key: MetricKey, subject: Subject, value: number | null, extra: Partial<Result> = {}): Result {
  const [metric, unit] = METRICS[key];
  return { metric, subject: subject.name, value, unit, ...goalOf(key, subject), ...extra };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function approvals(ctx: SuiteContext): Promise<Result[]> {
  const serverUrl = adminUrl();
  const why = await unreachable(serverUrl);
  if (why) {
    ctx.note(
      `Skipped: PostgreSQL at ${redact(serverUrl)} does not answer (${why}). Set BENCH_DATABASE_URL to use another server.`,
    );
    return SUBJECTS.flatMap((subject) =>
      (Object.keys(METRICS) as MetricKey[]).map((key) => row(key, subject, null, { note: 'skipped (no PostgreSQL)' })),
    );
  }
  ctx.note(
    `${await serverVersion(serverUrl)} at ${redact(serverUrl)}, a fresh database for each column; the server's default pool (DATABASE_POOL_SIZE 10).`,
  );
  ctx.note(
    `PostgreSQL: the server's defaults for notices, e-mail and text messages off (SIGIL_MAILER=none, SIGIL_SMS=none): each notice writes its inbox row and, per channel, a delivery recorded as skipped; no job is queued and nothing is sent. ` +
      `PostgreSQL, e-mail on: SIGIL_MAILER=smtp, to an SMTP server in the bench process (smtp-server, accepting every message): each notice also queues a job that the server's own job runner sends, during the load and after it. Its throughput is shown without the goal, which is the defaults'.`,
  );
  const all: Result[] = [];
  for (const subject of SUBJECTS) {
    const results = new Map<MetricKey, Result>();
    const add = (key: MetricKey, value: number | null, extra: Partial<Result> = {}) =>
      results.set(key, row(key, subject, value, extra));
    try {
      const database = await createBenchDatabase(ctx.resources, serverUrl);
      await measure(ctx, database, add, subject);
    } catch (error) {
      ctx.log(`FAILED (${subject.name}): ${message(error)}`);
      ctx.note(`Failed (${subject.name}): ${message(error)}`);
      for (const key of Object.keys(METRICS) as MetricKey[])
        if (!results.has(key)) add(key, null, { note: 'failed', invalid: true });
    }
    all.push(...(Object.keys(METRICS) as MetricKey[]).flatMap((key) => results.get(key) ?? []));
  }
  return all;
}

type Add = (key: MetricKey, value: number | null, extra?: Partial<Result>) => void;

async function measure(ctx: SuiteContext, database: BenchDatabase, add: Add, subject: Subject): Promise<void> {
  const note = (text: string) => ctx.note(subject.mail ? `E-mail on: ${text}` : text);
  const log = (text: string) => ctx.log(subject.mail ? `[e-mail on] ${text}` : text);
  const dataDir = ctx.resources.dir(mkdtempSync(join(tmpdir(), 'sigil-bench-approvals-')));
  const target: Target = { dataDir, databaseUrl: database.url };
  const sink = subject.mail ? await startMailSink(ctx) : null;

  log('seeding the demo group (sigil demo)');
  await runSigil(ctx.resources, 'approvals-demo', ['demo'], target);

  // Bearer sessions, inserted directly: one per client for each approver, one per applicant, one auditor.
  const tokens = {
    head: Array.from({ length: CLIENTS }, newSessionToken),
    custodian: Array.from({ length: CLIENTS }, newSessionToken),
    applicants: Array.from({ length: APPLICANTS }, newSessionToken),
    auditor: newSessionToken(),
  };
  const hashes: SessionHashes = {
    head: tokens.head.map(sha256Hex),
    custodian: tokens.custodian.map(sha256Hex),
    applicants: tokens.applicants.map(sha256Hex),
    auditor: sha256Hex(tokens.auditor),
  };
  const hashesFile = join(dataDir, 'bench-session-hashes.json');
  writeFileSync(hashesFile, JSON.stringify(hashes));
  log(
    `seeding a company, ${APPLICANTS} applicants, a seal, grants, a two-level flow and ${2 * CLIENTS + APPLICANTS + 1} sessions`,
  );
  const seed = JSON.parse(
    await runNode(
      ctx.resources,
      'approvals-seed',
      ['--import', 'tsx', SEED_SCRIPT, String(APPLICANTS), hashesFile],
      target,
    ),
  ) as SeedOutput;
  log(`  … done in ${seed.seconds.toFixed(1)} s`);

  log('starting the server');
  const serverTarget: Target = sink
    ? {
        ...target,
        settings: {
          SIGIL_MAILER: 'smtp',
          SIGIL_SMTP_URL: sink.url,
          SIGIL_MAIL_FROM: 'Sigil bench <sigil@bench.invalid>',
        },
      }
    : target;
  const server = await startServer(
    ctx.resources,
    subject.mail ? 'approvals-server-mail' : 'approvals-server',
    serverTarget,
    { nodeArgs: ['--import', SQL_COUNTER] },
  );
  const pgClient = new pg.Client({ connectionString: database.url, connectionTimeoutMillis: 3_000 });
  pgClient.on('error', () => undefined);
  await pgClient.connect();
  ctx.resources.defer('close the verification connection', () => pgClient.end().catch(() => undefined));
  try {
    const loadSettings = {
      baseUrl: server.baseUrl,
      concurrency: CLIENTS,
      headTokens: tokens.head,
      custodianTokens: tokens.custodian,
      raceEvery: RACE_EVERY,
      pageSize: INBOX_PAGE,
      deadlineSeconds: LOAD_DEADLINE_SECONDS,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    };
    const loadGenerator = startApproveLoad(ctx, subject.mail ? 'approvals-load-mail' : 'approvals-load');
    let warmTasks: TaskOutcome[] = [];
    if (WARMUP > 0) {
      // A server runs for days; in its first seconds V8 still compiles the approval path (perf, cold: its compiler
      // threads took a quarter of the server's CPU during the load). The warm-up goes through the same path first.
      log(`warm-up: ${WARMUP} applications through both levels by the same load (not measured)`);
      await createApplications(server.baseUrl, tokens.applicants, seed.sealId, WARMUP);
      const warm = await loadGenerator.round({ ...loadSettings, expectedTransitions: WARMUP * LEVELS });
      const warmFailed = failuresOf(warm);
      if (warm.stoppedBy !== 'done' || warmFailed > 0)
        throw new Error(
          `the warm-up load ${warm.stoppedBy !== 'done' ? `stopped by the ${warm.stoppedBy}` : `had ${warmFailed} failed requests: ${warm.errorSamples.slice(0, 3).join(' | ')}`}`,
        );
      warmTasks = warm.tasks;
      add('coldRate', warm.ok / warm.seconds, { decimals: 0 });
      note(
        `Warm-up (not measured): ${WARMUP} applications created and approved through both levels by the same load, right after the server started: ${warm.ok} transitions at ${(warm.ok / warm.seconds).toFixed(0)}/s. Its applications are checked for lost and doubled transitions with the measured ones.`,
      );
    } else
      add('coldRate', null, {
        note: 'no warm-up (BENCH_APPROVAL_WARMUP=0): the measured load runs on a server just started',
      });
    log(
      `creating ${APPLICATIONS} applications through POST /api/v1/applications, ${SETUP_CONCURRENCY} at a time (set-up, not measured)`,
    );
    const setup = await createApplications(server.baseUrl, tokens.applicants, seed.sealId, APPLICATIONS);
    note(
      `Set-up (not measured): sigil demo; then, seeded directly like sigil demo seeds (built repositories, one transaction): a company, a department with its head, ${APPLICANTS} applicants with a grant each (category ${CATEGORY}), a physical seal with one custodian, the flow "level 1 department head, level 2 custodian" (mode any), and sessions; then ${APPLICATIONS.toLocaleString('en-US')} applications through POST /api/v1/applications, ${SETUP_CONCURRENCY} at a time, in ${setup.toFixed(1)} s (${(APPLICATIONS / setup).toFixed(0)}/s).`,
    );
    const opened = await pgClient.query<{ n: number }>(
      `select count(*)::int as n from approval_tasks where assignee_id = $1 and status = 'pending' and level = 0`,
      [seed.headId],
    );
    if (opened.rows[0]?.n !== APPLICATIONS)
      throw new Error(
        `expected ${APPLICATIONS} pending level-1 tasks for the department head, found ${opened.rows[0]?.n}`,
      );
    // Statistics for what the set-up loaded, as autovacuum gives them within a minute of a bulk load. Without them the
    // server's connections keep the plans they made while the tables were empty: the foreign-key check of each new
    // delivery then reads all of notifications (0.15 ms instead of 0.006, growing with the table).
    await pgClient.query('analyze');

    if (sink) {
      // The mails of the warm-up and the set-up go first, so the measured load starts with none queued.
      const drained = await mailQueueDrained(pgClient);
      note(
        `Before the load: the ${sink.received()} e-mails of the warm-up and the set-up were ${drained === null ? `not all sent within ${MAIL_DRAIN_LIMIT_MS / 1000} s` : `sent (the queue was empty ${drained.toFixed(1)} s after the set-up)`}.`,
      );
    }
    await sleep(1_000);
    const background = await machineBusyPercent(1_000);
    add('background', background, { decimals: 0 });
    if (background !== null && background > BUSY_WARNING_PERCENT)
      note(
        `!!! The machine was ${background.toFixed(0)}% busy with other work just before the load; the figures share the CPUs with it.`,
      );

    const transactionsBefore = await database.committedTransactions();
    const sqlBefore = await sqlCount(dataDir, server);
    const cpuBefore = cpuSplit(server.pid);
    const machineBefore = machineTicks();
    const sampler = await startActivitySampler(adminUrl(), database.name);
    const mailsBefore = sink?.received() ?? 0;
    const loadStartedAt = new Date();
    log(
      `load: ${CLIENTS} clients approve ${APPLICATIONS * LEVELS} tasks (every ${RACE_EVERY || '∞'}th by two clients at once)`,
    );
    let load: ApproveLoadResult;
    try {
      load = await loadGenerator.round({ ...loadSettings, expectedTransitions: APPLICATIONS * LEVELS });
      await loadGenerator.close();
    } finally {
      await sampler.stop();
    }
    const loadEndedAt = new Date();
    const mailsDuring = (sink?.received() ?? 0) - mailsBefore;
    const machineAfter = machineTicks();
    const cpuAfter = cpuSplit(server.pid);
    const sqlAfter = await sqlCount(dataDir, server);
    const activity = sampler.summary();

    const failed = failuresOf(load);
    const incomplete = load.stoppedBy !== 'done';
    const invalid =
      failed > 0 || incomplete
        ? { invalid: true, note: incomplete ? `stopped by the ${load.stoppedBy}` : `${failed} requests failed` }
        : {};
    const perTransition = (value: number | null) => (value === null || load.ok === 0 ? null : value / load.ok);
    add('rate', load.ok / load.seconds, { decimals: 0, ...invalid });
    add('p50', load.latencyMs.p50, { decimals: 0, ...invalid });
    add('p99', load.latencyMs.p99, { decimals: 0, ...invalid });
    add('ok', load.ok, { decimals: 0 });
    add('conflicts', load.conflicts, { decimals: 0 });
    add('failed', failed, { decimals: 0, ...invalid });
    const serverCpu =
      cpuBefore !== null && cpuAfter !== null
        ? cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system
        : null;
    if (cpuBefore && cpuAfter && load.ok > 0) {
      note(
        `Server CPU per transition: user ${(((cpuAfter.user - cpuBefore.user) * 1000) / load.ok).toFixed(2)} ms + system ${(((cpuAfter.system - cpuBefore.system) * 1000) / load.ok).toFixed(2)} ms (system: mostly loopback TCP to the clients and to PostgreSQL).`,
      );
    }
    add('serverCpu', perTransition(serverCpu === null ? null : serverCpu * 1000), { decimals: 2 });
    add('loadCpu', perTransition(load.cpuSeconds * 1000), { decimals: 2 });
    add('pgCpu', perTransition(activity.backendCpuSeconds === null ? null : activity.backendCpuSeconds * 1000), {
      decimals: 2,
      ...(activity.backendCpuSeconds === null ? { note: 'n/a (PostgreSQL not on this machine)' } : {}),
    });
    if (machineBefore && machineAfter)
      add('busy', ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100, {
        decimals: 0,
      });
    else add('busy', null, { note: 'n/a (no /proc)' });
    add('sql', sqlBefore && sqlAfter ? perTransition(sqlAfter.total - sqlBefore.total) : null, { decimals: 1 });
    add('lockWaits', activity.meanWaiting, { decimals: 1 });

    note(
      `Load (measured): ${CLIENTS} clients in a child process (undici, one keep-alive connection each, a session of each approver per client) take tasks from the approvers' inboxes (GET /api/v1/tasks?status=pending&limit=${INBOX_PAGE}: ${load.listCalls} reads, p50 ${load.listLatencyMs.p50.toFixed(0)} ms) and approve them, level 1 then level 2; ` +
        `${load.approveCalls} approve calls in ${load.seconds.toFixed(2)} s, latency p50/p90/p99/max ${[load.latencyMs.p50, load.latencyMs.p90, load.latencyMs.p99, load.latencyMs.max].map((n) => n.toFixed(0)).join('/')} ms (200s only: p50 ${load.okLatencyMs.p50.toFixed(0)}, p99 ${load.okLatencyMs.p99.toFixed(0)} ms).`,
    );
    const raced = load.tasks.filter((t) => t.raced);
    note(
      `Races: ${raced.length} tasks were approved by two clients at once: ${raced.filter((t) => t.ok === 1 && t.conflict === 1).length} got exactly one 200 and one 409, ${raced.filter((t) => t.ok > 1).length} got two 200s. A 409 on a task nobody raced for: ${load.tasks.filter((t) => !t.raced && t.conflict > 0).length}.`,
    );
    if (failed > 0)
      note(
        `!!! ${failed} approve or inbox requests failed (${Object.entries(load.otherStatuses)
          .map(([s, n]) => `${n}× ${s === '0' ? 'no answer' : `HTTP ${s}`}`)
          .join(', ')}): ${load.errorSamples.slice(0, 3).join(' | ')}`,
      );
    if (incomplete) note(`!!! The load stopped by the ${load.stoppedBy} before every task was answered.`);
    if (sqlBefore && sqlAfter) {
      const verbs = Object.entries(sqlAfter.byVerb)
        .map(([verb, n]) => [verb, n - (sqlBefore.byVerb[verb] ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([verb, n]) => `${verb} ${(n / Math.max(1, load.ok)).toFixed(1)}`);
      note(
        `SQL per transition, counted in the server (bench/lib/sql-counter.mjs; includes the 409 attempts, inbox reads and session look-ups): ${verbs.join(', ')}.`,
      );
    }
    note(
      `Lock waits: ${activity.samples} samples of pg_stat_activity every ${LOCK_SAMPLE_MS} ms: on average ${activity.meanActive.toFixed(1)} backends of ${database.name} active, ${activity.meanWaiting.toFixed(1)} waiting for a lock${activity.top.length ? `; waiting in: ${activity.top.map(([q, n]) => `"${q}" ${((n / Math.max(1, activity.waitingTotal)) * 100).toFixed(0)}%`).join(', ')}` : ''}. PostgreSQL CPU is that of the bench database's client backends (/proc), without its background writers.`,
    );
    const jobs = (
      await pgClient.query<{ kind: string; n: number }>(
        `select kind, count(*)::int as n from jobs where finished_at >= $1 and finished_at <= $2 group by kind order by kind`,
        [loadStartedAt, loadEndedAt],
      )
    ).rows;
    if (jobs.length > 0)
      note(
        `Background jobs the server ran during the load (counted in its CPU and SQL above): ${jobs.map((j) => `${j.n} ${j.kind}`).join(', ')}.`,
      );

    if (sink) {
      add('mailsDuring', mailsDuring, { decimals: 0 });
      const drained = await mailQueueDrained(pgClient);
      add('mailDrain', drained, {
        decimals: 1,
        ...(drained === null ? { note: `not empty after ${MAIL_DRAIN_LIMIT_MS / 1000} s` } : {}),
      });
      const mails = (
        await pgClient.query<{ status: string; n: number }>(
          `select status, count(*)::int as n from jobs where kind = 'email.send' group by 1 order by 1`,
        )
      ).rows;
      note(
        `E-mail: ${mailsDuring} sent during the load; the queue was empty again ${drained === null ? `(not within ${MAIL_DRAIN_LIMIT_MS / 1000} s)` : `${drained.toFixed(1)} s`} after it; ${sink.received()} received by the SMTP server in all, over ${sink.connections()} connections; jobs: ${mails.map((m) => `${m.n} ${m.status}`).join(', ')}.`,
      );
    } else {
      add('mailsDuring', null, { note: 'e-mail off' });
      add('mailDrain', null, { note: 'e-mail off' });
    }
    log('verifying the audit chain and the database');
    const chain = await auditVerify(server.baseUrl, tokens.auditor);
    add('chain', chain.intact ? 0 : 1, { decimals: 0, ...(chain.intact ? {} : { note: chain.detail }) });
    note(
      `Audit chain: ${chain.intact ? 'intact' : `BROKEN (${chain.detail})`}, ${chain.checked.toLocaleString('en-US')} events checked by GET /api/v1/audit-events/verify as the demo security auditor.`,
    );

    await server.stop();
    // Counted once the server has closed its connections, so every backend has flushed its statistics
    // (the chain verification's few page reads are included; they are noise against the load).
    const transactionsAfter = await settledTransactions(database);
    add('transactions', load.ok > 0 ? (transactionsAfter - transactionsBefore) / load.ok : null, { decimals: 1 });

    const check = await verify(pgClient, seed, [...warmTasks, ...load.tasks]);
    add('lost', check.lost, { decimals: 0 });
    add('doubled', check.doubled, { decimals: 0 });
    note(`Database after the load: ${check.summary}`);
    for (const line of check.problems.slice(0, 5)) note(`!!! ${line}`);
  } finally {
    await server.stop();
    // Closed now: the next column drops and makes the database again, which would end it from the other side.
    await pgClient.end().catch(() => undefined);
  }
}

/** Answers other than 200 and the expected 409, and requests with no answer. */
const failuresOf = (load: ApproveLoadResult) => Object.values(load.otherStatuses).reduce((a, b) => a + b, 0);

/** Submits the applications, a few at a time, round-robin over the applicants. Bounded in count and time. */
async function createApplications(
  baseUrl: string,
  applicantTokens: string[],
  sealId: string,
  count: number,
): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      if (performance.now() - started > SETUP_LIMIT_MS)
        throw new Error(`creating applications took over ${SETUP_LIMIT_MS / 1000} s (${next} of ${count} started)`);
      const i = next++;
      const response = await fetch(`${baseUrl}/api/v1/applications`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${applicantTokens[i % applicantTokens.length]!}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          sealIds: [sealId],
          category: CATEGORY,
          reason: `压测用印申请 #${i + 1}：销售合同盖章`,
          uses: 1,
        }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      if (response.status !== 201)
        throw new Error(`POST /api/v1/applications answered ${response.status}: ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: SETUP_CONCURRENCY }, worker));
  return (performance.now() - started) / 1000;
}

/**
 * Starts bench/lib/approve-load.ts in its own process. Each round's settings (with the tokens) go
 * through its stdin as a line; it answers each with a line of JSON on stdout. One process for the
 * warm-up and the measured round, so the load generator's own code is compiled by the second.
 */
function startApproveLoad(ctx: SuiteContext, name: string) {
  mkdirSync(join(BENCH_OUT, 'logs'), { recursive: true });
  const logFile = join(BENCH_OUT, 'logs', `${name}.log`);
  const log = createWriteStream(logFile);
  const child = ctx.resources.child(
    spawn(process.execPath, ['--import', 'tsx', LOAD_SCRIPT], {
      cwd: ROOT,
      env: sigilEnv({ dataDir: tmpdir() }),
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  child.stderr!.pipe(log);
  const answers = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  let status: number | null | undefined;
  const closed = new Promise<void>((resolve) =>
    child.once('close', (code) => {
      status = code;
      log.end();
      resolve();
    }),
  );
  return {
    async round(settings: ApproveLoadSettings): Promise<ApproveLoadResult> {
      child.stdin!.write(`${JSON.stringify(settings)}\n`);
      const timer = setTimeout(() => void killChild(child, 2_000), (settings.deadlineSeconds + 30) * 1000);
      const answer = await answers.next();
      clearTimeout(timer);
      if (answer.done) {
        await closed;
        throw new Error(`the approval load ended with status ${status ?? 'killed'} before answering; see ${logFile}`);
      }
      try {
        return JSON.parse(answer.value) as ApproveLoadResult;
      } catch {
        throw new Error(`the approval load printed no JSON result: ${answer.value.slice(0, 500)}`);
      }
    },
    async close(): Promise<void> {
      child.stdin!.end();
      await closed;
      if (status !== 0) throw new Error(`the approval load ended with status ${status ?? 'killed'}; see ${logFile}`);
    },
  };
}

interface SqlCount {
  total: number;
  byVerb: Record<string, number>;
}

/** The statements the server has sent so far (bench/lib/sql-counter.mjs writes them on SIGUSR2). */
async function sqlCount(dataDir: string, server: RunningServer): Promise<SqlCount | null> {
  const file = join(dataDir, 'bench-sql-count.json');
  rmSync(file, { force: true });
  process.kill(server.pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await sleep(20);
    if (!existsSync(file)) continue;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as SqlCount;
    } catch {
      // Still being written.
    }
  }
  return null;
}

/**
 * Samples pg_stat_activity of the bench database while the load runs: how many backends are
 * active, how many wait for a lock, and in which statement (a row lock shows as a wait on the
 * holder's transaction); and, where PostgreSQL runs on this machine, the CPU its client backends
 * use (/proc). One connection to the server's own database, one query per sample.
 */
async function startActivitySampler(serverUrl: string, databaseName: string) {
  // Connected to the server's own database, so the samples do not count as commits of the bench database.
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3_000 });
  await client.connect();
  const backends = async () =>
    (
      await client.query<{ pid: number; state: string | null; wait: string | null; query: string }>(
        `select pid, state, wait_event_type as wait, left(regexp_replace(query, '\\s+', ' ', 'g'), 200) as query from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and backend_type = 'client backend'`,
        [databaseName],
      )
    ).rows;
  // CPU seconds per backend when first seen (0 for one that started during the load) and when last seen.
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  for (const b of await backends()) {
    const cpu = postgresCpuSeconds(b.pid);
    if (cpu !== null) first.set(b.pid, cpu);
  }
  let samples = 0;
  let active = 0;
  let waiting = 0;
  const where = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped && i < 10_000; i++) {
      const rows = await backends();
      samples += 1;
      for (const r of rows) {
        const cpu = postgresCpuSeconds(r.pid);
        if (cpu !== null) {
          if (!first.has(r.pid)) first.set(r.pid, 0);
          last.set(r.pid, cpu);
        }
        if (r.state === 'active') active += 1;
        if (r.wait === 'Lock') {
          waiting += 1;
          const key = summarizeQuery(r.query);
          where.set(key, (where.get(key) ?? 0) + 1);
        }
      }
      await sleep(LOCK_SAMPLE_MS);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop.catch(() => undefined);
      for (const pid of first.keys()) {
        const cpu = postgresCpuSeconds(pid);
        if (cpu !== null) last.set(pid, cpu);
      }
      await client.end().catch(() => undefined);
    },
    summary() {
      let backendCpuSeconds: number | null = null;
      for (const [pid, end] of last)
        backendCpuSeconds = (backendCpuSeconds ?? 0) + Math.max(0, end - (first.get(pid) ?? 0));
      return {
        samples,
        meanActive: samples ? active / samples : 0,
        meanWaiting: samples ? waiting / samples : 0,
        waitingTotal: waiting,
        top: [...where.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3),
        backendCpuSeconds,
      };
    },
  };
}

/** CPU seconds of a PostgreSQL process on this machine, or null (no /proc, another process, or PostgreSQL runs elsewhere). */
function postgresCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (!stat.includes('(postgres)')) return null;
    return cpuSeconds(pid);
  } catch {
    return null;
  }
}

/** "select … from audit_heads … for update" → a short name for the statement a backend waits in. */
function summarizeQuery(query: string): string {
  const verb = /^\s*(\w+)/.exec(query)?.[1]?.toLowerCase() ?? '?';
  const table = /\b(?:from|update|into)\s+"?(\w+)"?/i.exec(query)?.[1] ?? '?';
  return `${verb} ${table}${/for update/i.test(query) ? ' for update' : ''}`;
}

/**
 * Every application must have moved through each level exactly once: approved, one approved task
 * per level, one task_approved and one level_completed event per level, one application.approved
 * event and one authorization for its seal; and every 200 the clients saw must be an approved task.
 * A shortfall counts as lost transitions, a surplus as doubled ones (the worst evidence per application).
 */
async function verify(client: pg.Client, seed: SeedOutput, outcomes: TaskOutcome[]) {
  const apps = (
    await client.query<{ id: string; status: string }>(`select id, status from applications where company_id = $1`, [
      seed.companyId,
    ])
  ).rows;
  const tasks = (
    await client.query<{ id: string; application_id: string; level: number; status: string }>(
      `select t.id, t.application_id, t.level, t.status from approval_tasks t join applications a on a.id = t.application_id where a.company_id = $1`,
      [seed.companyId],
    )
  ).rows;
  const events = (
    await client.query<{ target_id: string; action: string; n: number }>(
      `select target_id, action, count(*)::int as n from audit_events where group_id = $1 and target_type = 'application' and action in ('application.task_approved', 'application.level_completed', 'application.approved') group by 1, 2`,
      [seed.groupId],
    )
  ).rows;
  const taskEvents = (
    await client.query<{ task_id: string; n: number }>(
      `select changes->>'taskId' as task_id, count(*)::int as n from audit_events where group_id = $1 and action = 'application.task_approved' group by 1`,
      [seed.groupId],
    )
  ).rows;
  const authorizations = (
    await client.query<{ application_id: string; seal_id: string; n: number }>(
      `select z.application_id, z.seal_id, count(*)::int as n from authorizations z join applications a on a.id = z.application_id where a.company_id = $1 group by 1, 2`,
      [seed.companyId],
    )
  ).rows;

  const tasksOf = groupBy(tasks, (t) => t.application_id);
  const eventsOf = new Map<string, Record<string, number>>();
  for (const e of events) eventsOf.set(e.target_id, { ...(eventsOf.get(e.target_id) ?? {}), [e.action]: e.n });
  const eventsOfTask = new Map(taskEvents.map((e) => [e.task_id, e.n]));
  const authorizationsOf = groupBy(authorizations, (z) => z.application_id);
  const outcomesOf = groupBy(outcomes, (o) => o.applicationId);
  const taskStatus = new Map(tasks.map((t) => [t.id, t.status]));

  let lost = 0;
  let doubled = 0;
  const problems: string[] = [];
  for (const app of apps) {
    const mine = tasksOf.get(app.id) ?? [];
    const approvedAt = Array.from(
      { length: LEVELS },
      (_, level) => mine.filter((t) => t.level === level && t.status === 'approved').length,
    );
    const levelsApproved = approvedAt.filter((n) => n > 0).length;
    const ev = eventsOf.get(app.id) ?? {};
    const taskApproved = ev['application.task_approved'] ?? 0;
    const levelCompleted = ev['application.level_completed'] ?? 0;
    const approvedEvents = ev['application.approved'] ?? 0;
    const auths = authorizationsOf.get(app.id) ?? [];
    const authCount = auths.reduce((sum, z) => sum + z.n, 0);
    const seen = outcomesOf.get(app.id) ?? [];
    const okNotStored = seen.filter((o) => o.ok > 0 && taskStatus.get(o.id) !== 'approved').length;
    const okTwice = seen.reduce((sum, o) => sum + Math.max(0, o.ok - 1), 0);
    const taskEventsTwice = mine.reduce((sum, t) => sum + Math.max(0, (eventsOfTask.get(t.id) ?? 0) - 1), 0);

    const appLost = Math.max(
      LEVELS - levelsApproved,
      app.status === 'approved' ? 0 : 1,
      LEVELS - Math.min(LEVELS, taskApproved),
      LEVELS - Math.min(LEVELS, levelCompleted),
      approvedEvents === 0 ? 1 : 0,
      authCount === 0 ? 1 : 0,
      okNotStored,
    );
    const appDoubled = Math.max(
      0,
      ...approvedAt.map((n) => n - 1),
      taskApproved - LEVELS,
      levelCompleted - LEVELS,
      approvedEvents - 1,
      authCount - 1,
      ...auths.map((z) => z.n - 1),
      okTwice,
      taskEventsTwice,
    );
    lost += appLost;
    doubled += appDoubled;
    if ((appLost > 0 || appDoubled > 0) && problems.length < 20) {
      problems.push(
        `application ${app.id}: status ${app.status}, approved tasks per level ${approvedAt.join('/')}, events task_approved ${taskApproved} level_completed ${levelCompleted} approved ${approvedEvents}, authorizations ${authCount}, 200s seen ${seen.map((o) => o.ok).join('/')}`,
      );
    }
  }
  const created = APPLICATIONS + WARMUP;
  if (apps.length !== created) {
    problems.unshift(`${apps.length} applications in the database, ${created} created`);
    lost += Math.max(0, created - apps.length) * LEVELS;
  }
  const count = (status: string) => apps.filter((a) => a.status === status).length;
  const sum = (action: string) => events.filter((e) => e.action === action).reduce((s, e) => s + e.n, 0);
  const summary =
    `${count('approved')} of ${apps.length} applications approved (${count('pending')} pending), ${tasks.filter((t) => t.status === 'approved').length} approved tasks (${tasks.filter((t) => t.status === 'pending').length} pending, ${tasks.length} in all), ` +
    `audit events task_approved ${sum('application.task_approved')}, level_completed ${sum('application.level_completed')}, approved ${sum('application.approved')}; ${authorizations.reduce((s, z) => s + z.n, 0)} authorizations; ` +
    `lost ${lost}, doubled ${doubled}.`;
  return { lost, doubled, summary, problems };
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

async function auditVerify(
  baseUrl: string,
  auditorToken: string,
): Promise<{ intact: boolean; checked: number; detail: string }> {
  const response = await fetch(`${baseUrl}/api/v1/audit-events/verify`, {
    headers: { authorization: `Bearer ${auditorToken}` },
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  if (response.status !== 200)
    return {
      intact: false,
      checked: 0,
      detail: `GET /api/v1/audit-events/verify answered ${response.status}: ${text.slice(0, 200)}`,
    };
  const report = JSON.parse(text) as {
    intact: boolean;
    checked: number;
    headSeq: number;
    firstProblem: { kind: string; seq: number; detail: string } | null;
  };
  return {
    intact: report.intact,
    checked: report.checked,
    detail: report.firstProblem
      ? `${report.firstProblem.kind} at ${report.firstProblem.seq}: ${report.firstProblem.detail}`
      : `head ${report.headSeq}`,
  };
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

/** An SMTP server in the bench process that accepts every message and counts them. */
async function startMailSink(ctx: SuiteContext): Promise<{ url: string; received(): number; connections(): number }> {
  let received = 0;
  let connections = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received += 1;
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  ctx.resources.defer('stop the SMTP server', () => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, received: () => received, connections: () => connections };
}

/** Seconds until no e-mail job is left to send (queued, running or waiting for a retry), or null after the limit. */
async function mailQueueDrained(client: pg.Client): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < MAIL_DRAIN_LIMIT_MS) {
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from jobs where kind = 'email.send' and status in ('queued', 'running', 'failed')`,
    );
    if (rows[0]?.n === 0) return (performance.now() - started) / 1000;
    await sleep(100);
  }
  return null;
}
