// Contracts and batch signing through the built server on PostgreSQL:
//
// 1. contracts completed per second: each contract created from an uploaded PDF, sent, sealed by
//    our company (an employee applying the electronic seal under a grant for the category) at
//    step 1 and signed by a second person of the group with their own certificate at step 2; by
//    concurrent clients for a fixed time after a warm-up;
// 2. a signing batch run by the server's job runner, in documents per second from the POST until
//    GET says done, against the signing engine's own rate on the same PDFs (signPdf in-process,
//    one after another on one CPU, the same seal, certificate, time-stamp authority and placement).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { newToken, sha256Hex } from '../../src/lib/secrets.js';
import { SESSION_PREFIX } from '../../src/modules/auth/auth.service.js';
import { buildPdf } from '../../test/signing/pdf-fixtures.js';
import type { ContractLoadResult, ContractLoadSettings, Latency } from '../lib/contract-load.js';
import type { MeasureEngineOutput, MeasureEngineSettings } from '../lib/measure-engine.js';
import {
  adminUrl,
  createBenchDatabase,
  redact,
  serverVersion,
  startBackendCpu,
  unreachable,
  type BenchDatabase,
} from '../lib/postgres.js';
import { killChild, sleep } from '../lib/resources.js';
import type { ContractSeedOutput, ContractSeedSettings } from '../lib/seed-contracts.js';
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
import { boundedInt } from '../lib/settings.js';
import type { Goal, Result } from '../report.js';
import type { Suite, SuiteContext } from '../suite.js';

const SUBJECT = 'PostgreSQL';
const CLIENTS = boundedInt(process.env.BENCH_CONTRACT_CLIENTS, 20, 1, 100);
const SECONDS = boundedInt(process.env.BENCH_SECONDS, 30, 5, 600);
/** Contracts each client completes before the measured load: the server's warm-up (and each signer's first certificate). */
const WARMUP_PER_CLIENT = boundedInt(process.env.BENCH_CONTRACT_WARMUP, 3, 0, 100);
const PDF_KB = boundedInt(process.env.BENCH_CONTRACT_PDF_KB, 100, 4, 5_000);
const BATCH = boundedInt(process.env.BENCH_BATCH_DOCUMENTS, 200, 10, 500);
/** Which parts run: both by default; `batch` (or `contracts`) alone, e.g. while working on one of them. */
const PART = process.env.BENCH_CONTRACTS_PART ?? 'all';
if (!['all', 'batch', 'contracts'].includes(PART))
  throw new Error(`BENCH_CONTRACTS_PART is all, batch or contracts, not ${PART}`);
const RUN_CONTRACTS = PART !== 'batch';
const RUN_BATCH = PART !== 'contracts';
/** A batch signed first, not measured, so the measured one runs on a server that has signed batches before. */
const BATCH_WARMUP = boundedInt(process.env.BENCH_BATCH_WARMUP, 20, 0, 500);
/** The engine's warm-up: this many of the warm-up batch's PDFs (or of the batch's) signed first. */
const ENGINE_WARMUP = 20;
const GOALS = {
  contracts: { op: '>=', value: 50 },
  batchShare: { op: '>=', value: 50 },
  none: { op: '<=', value: 0 },
} satisfies Record<string, Goal>;
/**
 * PDFs uploaded per client for the measured load: enough for 1.5 × the goal for the whole time, at
 * most 12,000 in all (1.2 GB at 100 KB). A faster server ends the window when the first client runs
 * out (and the notes say so).
 */
const MEASURED_PER_CLIENT = Math.min(
  Math.ceil((GOALS.contracts.value * 1.5 * SECONDS) / CLIENTS),
  Math.floor(12_000 / CLIENTS),
);
const KEYWORD = '甲方（盖章）';
const COMPANY_NAME = '华夏合同压测有限公司';
const CONTRACT_CATEGORY = 'procurement';
const BATCH_REASON = '批量签署（压测）';
const UPLOAD_CONCURRENCY = 8;
const SETUP_LIMIT_MS = 600_000;
const BATCH_LIMIT_MS = 600_000;
const BATCH_POLL_MS = 100;
const REQUEST_TIMEOUT_MS = 30_000;
const BUSY_WARNING_PERCENT = 10;

const newSessionToken = () => newToken(SESSION_PREFIX);
const SEED_SCRIPT = join(ROOT, 'bench', 'lib', 'seed-contracts.ts');
const LOAD_SCRIPT = join(ROOT, 'bench', 'lib', 'contract-load.ts');
const ENGINE_SCRIPT = join(ROOT, 'bench', 'lib', 'measure-engine.ts');
const SQL_COUNTER = pathToFileURL(join(ROOT, 'bench', 'lib', 'sql-counter.mjs')).href;

/** Row names, in the order printed, with their units. */
const METRICS = {
  background: ['CPU busy just before the load (not ours)', '%'],
  warmRate: ['warm-up: contracts/s of a server just started', 'contracts/s'],
  rate: [`contracts completed/s, ${CLIENTS} clients`, 'contracts/s'],
  p50: ['  one contract, create → completed, p50', 'ms'],
  p99: ['  one contract, create → completed, p99', 'ms'],
  signatures: ['  signatures/s (company seal + person)', 'signatures/s'],
  failed: ['  failed requests', 'count'],
  unfinished: ['contracts answered completed but not so in the database', 'count'],
  serverCpu: ['server process CPU per contract', 'ms'],
  serverBusy: ['  server process CPU during the load, share of one CPU', '%'],
  pgCpu: ['PostgreSQL CPU per contract', 'ms'],
  loadCpu: ['load generator CPU per contract', 'ms'],
  busy: ['machine CPU busy during the load', '%'],
  sql: ['SQL statements per contract', 'count'],
  engineRate: ['engine: signPdf B-T, visible seal, 1 CPU, one after another', 'documents/s'],
  engineCpu: ['  engine CPU per document', 'ms'],
  batchRate: [`batch of ${BATCH} through the API and job runner, POST → done`, 'documents/s'],
  batchShare: ['  batch rate ÷ engine rate', '%'],
  batchCpu: ['  server process CPU per batch document', 'ms'],
  batchPgCpu: ['  PostgreSQL CPU per batch document', 'ms'],
  batchSql: ['  SQL statements per batch document', 'count'],
  batchPickup: ['  POST → first document signed', 's'],
  batchFailed: ['  batch documents failed', 'count'],
} as const satisfies Record<string, readonly [string, string]>;
type MetricKey = keyof typeof METRICS;

export const contractsSuite: Suite = {
  name: 'contracts',
  title: `contracts: create → send → seal → sign, ${CLIENTS} clients; batch signing against the engine, on PostgreSQL`,
  run: contracts,
};

function goalOf(key: MetricKey): { goal?: Goal } {
  if (key === 'rate') return { goal: GOALS.contracts };
  if (key === 'batchShare') return { goal: GOALS.batchShare };
  if (key === 'failed' || key === 'unfinished' || key === 'batchFailed') return { goal: GOALS.none };
  return {};
}

function row(key: MetricKey, value: number | null, extra: Partial<Result> = {}): Result {
  const [metric, unit] = METRICS[key];
  return { metric, subject: SUBJECT, value, unit, ...goalOf(key), ...extra };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const ms = (n: number) => n.toFixed(0);
const fmtLatency = (l: Latency) => `p50 ${ms(l.p50)}, p90 ${ms(l.p90)}, p99 ${ms(l.p99)}, max ${ms(l.max)}`;

export async function contracts(ctx: SuiteContext): Promise<Result[]> {
  const serverUrl = adminUrl();
  const why = await unreachable(serverUrl);
  const keys = Object.keys(METRICS) as MetricKey[];
  if (why) {
    ctx.note(
      `Skipped: PostgreSQL at ${redact(serverUrl)} does not answer (${why}). Set BENCH_DATABASE_URL to use another server.`,
    );
    return keys.map((key) => row(key, null, { note: 'skipped (no PostgreSQL)' }));
  }
  ctx.note(
    `${await serverVersion(serverUrl)} at ${redact(serverUrl)}, a fresh database; the server's defaults (DATABASE_POOL_SIZE 10, e-mail and text messages off, the job runner on, polling every 1 s).`,
  );
  const results = new Map<MetricKey, Result>();
  const add: Add = (key, value, extra = {}) => results.set(key, row(key, value, extra));
  try {
    // A name of its own: another suite running at the same time drops `sigil_bench` when it starts.
    const database = await createBenchDatabase(ctx.resources, serverUrl, 'sigil_bench_contracts');
    await measure(ctx, database, add);
  } catch (error) {
    ctx.log(`FAILED: ${message(error)}`);
    ctx.note(`Failed: ${message(error)}`);
    for (const key of keys) if (!results.has(key)) add(key, null, { note: 'failed', invalid: true });
  }
  return keys.flatMap((key) => results.get(key) ?? []);
}

type Add = (key: MetricKey, value: number | null, extra?: Partial<Result>) => void;

/** A contract PDF of two pages with the keyword the seal is centred on, made distinct by its number. */
function contractPdf(n: number): Buffer {
  return buildPdf({
    pages: 2,
    seed: n,
    lines: [`Purchase contract No. BENCH-${String(n).padStart(6, '0')}`, 'Goods, price, delivery and payment terms.'],
    cjkLines: [`${KEYWORD}：${COMPANY_NAME}`, '乙方（签字）：'],
    targetBytes: PDF_KB * 1024,
  });
}

async function measure(ctx: SuiteContext, database: BenchDatabase, add: Add): Promise<void> {
  const note = ctx.note;
  const log = ctx.log;
  const dataDir = ctx.resources.dir(mkdtempSync(join(tmpdir(), 'sigil-bench-contracts-')));
  const target: Target = { dataDir, databaseUrl: database.url };

  log('seeding the demo group (sigil demo)');
  await runSigil(ctx.resources, 'contracts-demo', ['demo'], target);

  const tokens = {
    stampers: Array.from({ length: CLIENTS }, newSessionToken),
    persons: Array.from({ length: CLIENTS }, newSessionToken),
    clerk: newSessionToken(),
    auditor: newSessionToken(),
  };
  const seedSettings: ContractSeedSettings = {
    companyName: COMPANY_NAME,
    category: CONTRACT_CATEGORY,
    sessions: {
      stampers: tokens.stampers.map(sha256Hex),
      persons: tokens.persons.map(sha256Hex),
      clerk: sha256Hex(tokens.clerk),
      auditor: sha256Hex(tokens.auditor),
    },
  };
  const seedFile = join(dataDir, 'bench-seed-settings.json');
  writeFileSync(seedFile, JSON.stringify(seedSettings));
  log(`seeding a company, an electronic seal, ${2 * CLIENTS + 2} people, ${CLIENTS + 1} grants and their sessions`);
  const seed = JSON.parse(
    await runNode(ctx.resources, 'contracts-seed', ['--import', 'tsx', SEED_SCRIPT, seedFile], target),
  ) as ContractSeedOutput;
  log(`  … done in ${seed.seconds.toFixed(1)} s`);

  log('starting the server');
  const server = await startServer(ctx.resources, 'contracts-server', target, { nodeArgs: ['--import', SQL_COUNTER] });
  const pgClient = new pg.Client({ connectionString: database.url, connectionTimeoutMillis: 3_000 });
  pgClient.on('error', () => undefined);
  await pgClient.connect();
  ctx.resources.defer('close the verification connection', () => pgClient.end().catch(() => undefined));
  try {
    // ---------------------------------------------------------------- set-up, not measured
    const perClient = RUN_CONTRACTS ? WARMUP_PER_CLIENT + MEASURED_PER_CLIENT : 0;
    log(
      `uploading ${CLIENTS * perClient} contract PDFs (~${PDF_KB} KB, 2 pages) and ${BATCH_WARMUP + BATCH} batch PDFs through POST /api/v1/documents/uploads (set-up, not measured)`,
    );
    const uploadStarted = performance.now();
    let serial = 0;
    const jobs: Array<{ token: string; n: number; name: string }> = [];
    for (let c = 0; c < CLIENTS; c++)
      for (let i = 0; i < perClient; i++) {
        const n = ++serial;
        jobs.push({ token: tokens.stampers[c]!, n, name: `contract-${n}.pdf` });
      }
    const contractShas = await upload(server.baseUrl, jobs, () => undefined);
    const warmDocuments: string[][] = [];
    const measuredDocuments: string[][] = [];
    for (let c = 0; c < CLIENTS; c++) {
      const mine = contractShas.slice(c * perClient, (c + 1) * perClient);
      warmDocuments.push(mine.slice(0, WARMUP_PER_CLIENT));
      measuredDocuments.push(mine.slice(WARMUP_PER_CLIENT));
    }
    // The batch's PDFs are also kept as files, for the engine to sign the very same bytes.
    const pdfDir = join(dataDir, 'bench-batch-pdfs');
    mkdirSync(pdfDir);
    const batchJobs = Array.from({ length: RUN_BATCH ? BATCH_WARMUP + BATCH : 0 }, () => {
      const n = ++serial;
      return { token: tokens.clerk, n, name: `batch-${n}.pdf` };
    });
    const batchFiles: string[] = [];
    const batchShas = await upload(server.baseUrl, batchJobs, (n, pdf) => {
      const file = join(pdfDir, `${n}.pdf`);
      writeFileSync(file, pdf);
      batchFiles.push(file);
    });
    batchFiles.sort((a, b) => Number(/(\d+)\.pdf$/.exec(a)![1]) - Number(/(\d+)\.pdf$/.exec(b)![1]));
    const uploadSeconds = (performance.now() - uploadStarted) / 1000;
    const pdfBytes = contractPdf(1).length;
    note(
      `Set-up (not measured): sigil demo; then, seeded directly like sigil demo seeds (built repositories, one transaction): the company ${COMPANY_NAME} with an electronic contract seal (its impression drawn as POST /seal-images/generate draws it) kept by a custodian, ${CLIENTS} stampers with a grant each for ${CONTRACT_CATEGORY}, ${CLIENTS} second signers, a clerk with a grant for the batches, and bearer sessions; ` +
        `then ${contractShas.length + batchShas.length} distinct PDFs (2 pages, ${(pdfBytes / 1024).toFixed(0)} KB, a keyword line "${KEYWORD}" for the seal) uploaded through POST /api/v1/documents/uploads, ${UPLOAD_CONCURRENCY} at a time, in ${uploadSeconds.toFixed(1)} s: each stamper's own, and the clerk's.`,
    );

    // ---------------------------------------------------------------- contracts
    if (RUN_CONTRACTS) await measureContracts();
    async function measureContracts() {
      const loadSettings = {
        baseUrl: server.baseUrl,
        stamperTokens: tokens.stampers,
        stamperIds: seed.stamperIds,
        personTokens: tokens.persons,
        personIds: seed.personIds,
        companyId: seed.companyId,
        sealId: seed.sealId,
        category: CONTRACT_CATEGORY,
        keyword: KEYWORD,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
      };
      const loadGenerator = startContractLoad(ctx, 'contracts-load');
      const completedIds: string[] = [];
      if (WARMUP_PER_CLIENT > 0) {
        log(`warm-up: ${CLIENTS * WARMUP_PER_CLIENT} contracts by the same load (not measured)`);
        const warm = await loadGenerator.round({ ...loadSettings, documents: warmDocuments, seconds: 300 });
        const warmFailed = failuresOf(warm);
        if (warmFailed > 0)
          throw new Error(
            `the warm-up had ${warmFailed} failed requests: ${warm.errorSamples.slice(0, 3).join(' | ')}`,
          );
        completedIds.push(...warm.completedIds);
        add('warmRate', warm.completedIds.length / warm.seconds, { decimals: 1 });
        note(
          `Warm-up (not measured): ${warm.completedIds.length} contracts by the same ${CLIENTS} clients right after the server started, ${(warm.completedIds.length / warm.seconds).toFixed(1)}/s; the second signers' certificates were issued then (their first signatures).`,
        );
      } else add('warmRate', null, { note: 'no warm-up (BENCH_CONTRACT_WARMUP=0)' });

      // Statistics for what the set-up loaded, as autovacuum gives them within a minute of a bulk load.
      await pgClient.query('analyze');
      await sleep(1_000);
      const idleServer = cpuSeconds(server.pid);
      const background = await machineBusyPercent(1_000);
      // The server's own share of that second (its sealer, its job runner's polls), so "not ours" can be checked.
      const idleServerAfter = cpuSeconds(server.pid);
      const serverShare =
        idleServer !== null && idleServerAfter !== null ? ((idleServerAfter - idleServer) / cpus().length) * 100 : null;
      add('background', background, { decimals: 0 });
      if (background !== null && background > BUSY_WARNING_PERCENT)
        note(
          `!!! The machine was ${background.toFixed(0)}% busy with other work just before the load (load average ${loadavg()
            .map((n) => n.toFixed(1))
            .join(
              ' ',
            )}${serverShare === null ? '' : `; the idle server's own share of it: ${serverShare.toFixed(0)}%`}); the figures share the CPUs with it.`,
        );

      const sqlBefore = await sqlCount(dataDir, server);
      const cpuBefore = cpuSplit(server.pid);
      const pgSampler = await startBackendCpu(adminUrl(), database.name);
      const machineBefore = machineTicks();
      const loadAverageBefore = loadavg();
      log(`load: ${CLIENTS} clients, create → send → seal → sign, ${SECONDS} s`);
      const load = await loadGenerator.round({ ...loadSettings, documents: measuredDocuments, seconds: SECONDS });
      await loadGenerator.close();
      const machineAfter = machineTicks();
      const pgSeconds = await pgSampler.stop();
      const cpuAfter = cpuSplit(server.pid);
      const sqlAfter = await sqlCount(dataDir, server);
      const loadAverageAfter = loadavg();
      completedIds.push(...load.completedIds);

      const failed = failuresOf(load);
      const invalid = failed > 0 ? { invalid: true, note: `${failed} requests failed` } : {};
      const completed = load.completedInWindow;
      // Resources are counted over the whole round (in-flight contracts finished after the window too).
      const allCompleted = load.completedIds.length;
      const perContract = (value: number | null) =>
        value === null || allCompleted === 0 ? null : value / allCompleted;
      add('rate', completed / load.windowSeconds, { decimals: 1, ...invalid });
      add('p50', load.total.p50, { decimals: 0, ...invalid });
      add('p99', load.total.p99, { decimals: 0, ...invalid });
      add('signatures', load.signaturesInWindow / load.windowSeconds, { decimals: 1, ...invalid });
      add('failed', failed, { decimals: 0, ...invalid });
      const serverCpu =
        cpuBefore && cpuAfter ? cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system : null;
      add('serverCpu', perContract(serverCpu === null ? null : serverCpu * 1000), { decimals: 0 });
      // Node runs the server's JavaScript on one thread (signing's RSA and file I/O go to libuv's pool):
      // near 100 % the process, not the machine, is the ceiling.
      add('serverBusy', serverCpu === null ? null : (serverCpu / load.seconds) * 100, { decimals: 0 });
      add('pgCpu', perContract(pgSeconds === null ? null : pgSeconds * 1000), {
        decimals: 1,
        ...(pgSeconds === null ? { note: 'n/a (PostgreSQL not on this machine)' } : {}),
      });
      add('loadCpu', perContract(load.cpuSeconds * 1000), { decimals: 1 });
      if (machineBefore && machineAfter)
        add('busy', ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100, {
          decimals: 0,
        });
      else add('busy', null, { note: 'n/a (no /proc)' });
      add('sql', sqlBefore && sqlAfter ? perContract(sqlAfter.total - sqlBefore.total) : null, { decimals: 0 });

      note(
        `Load (measured): ${CLIENTS} clients in a child process (undici, one keep-alive connection each), each with its own stamper and second signer, one contract after another: POST /api/v1/contracts (step 1 our company with the electronic seal centred on "${KEYWORD}", step 2 the second signer as a person), POST …/send, POST …/sign as the stamper (the seal under the grant, B-T), POST …/sign as the second signer (their own certificate, B-T, invisible), whose answer says completed. ` +
          `${completed} contracts completed in the ${load.windowSeconds.toFixed(1)} s window (${load.windowEnd === 'time' ? 'the time set' : 'ended early: a client had used all its PDFs'}), ${load.completedAfter} more under way then were finished and not counted; ${load.started} begun in all. ` +
          `Load average ${loadAverageBefore.map((n) => n.toFixed(1)).join(' ')} before the load, ${loadAverageAfter.map((n) => n.toFixed(1)).join(' ')} after it.`,
      );
      note(
        `Per request (ms): create ${fmtLatency(load.steps.create)}; send ${fmtLatency(load.steps.send)}; seal ${fmtLatency(load.steps.seal)}; sign ${fmtLatency(load.steps.sign)}. Whole contract ${fmtLatency(load.total)}.`,
      );
      if (cpuBefore && cpuAfter && allCompleted > 0)
        note(
          `Server CPU per contract: user ${(((cpuAfter.user - cpuBefore.user) * 1000) / allCompleted).toFixed(0)} ms + system ${(((cpuAfter.system - cpuBefore.system) * 1000) / allCompleted).toFixed(0)} ms; PostgreSQL CPU is that of the bench database's client backends (/proc), without the cluster's background processes (WAL writer, checkpointer).`,
        );
      if (sqlBefore && sqlAfter) {
        const verbs = Object.entries(sqlAfter.byVerb)
          .map(([verb, n]) => [verb, n - (sqlBefore.byVerb[verb] ?? 0)] as const)
          .filter(([, n]) => n > 0)
          .sort((a, b) => b[1] - a[1])
          .map(([verb, n]) => `${verb} ${(n / Math.max(1, allCompleted)).toFixed(1)}`);
        note(
          `SQL per contract, counted in the server (bench/lib/sql-counter.mjs; includes the session look-ups and the job runner's polls): ${verbs.join(', ')}.`,
        );
      }
      if (failed > 0)
        note(
          `!!! ${failed} requests failed (${Object.entries(load.otherStatuses)
            .map(([s, n]) => `${n}× ${s === '0' ? 'no answer' : `HTTP ${s}`}`)
            .join(', ')}): ${load.errorSamples.slice(0, 3).join(' | ')}`,
        );

      const check = await verifyContracts(pgClient, seed.companyId, completedIds);
      add('unfinished', check.unfinished, { decimals: 0, ...(check.unfinished > 0 ? { note: check.detail } : {}) });
      note(`Database after the load: ${check.summary}`);
    }

    if (!RUN_BATCH) return;
    // ---------------------------------------------------------------- batch signing against the engine
    const engineCpu = await leastBusyCpu();
    const warmShas = batchShas.slice(0, BATCH_WARMUP);
    const measuredShas = batchShas.slice(BATCH_WARMUP);
    const warmFiles = batchFiles.slice(0, BATCH_WARMUP);
    const measuredFiles = batchFiles.slice(BATCH_WARMUP);
    if (warmShas.length > 0) {
      log(`warm-up batch: ${warmShas.length} documents (not measured)`);
      const warm = await runBatch(server.baseUrl, tokens.clerk, seed.sealId, warmShas);
      if (warm.failed > 0) throw new Error(`the warm-up batch failed ${warm.failed} documents: ${warm.firstError}`);
    }
    const engineSettings = (label: string): MeasureEngineSettings => ({
      groupId: seed.groupId,
      sealId: seed.sealId,
      warmupFiles: (warmFiles.length > 0 ? warmFiles : measuredFiles).slice(0, ENGINE_WARMUP),
      files: measuredFiles,
      keyword: KEYWORD,
      reason: `${BATCH_REASON} ${label}`,
    });
    log(
      `engine: signPdf of the ${measuredFiles.length} PDFs, one after another${engineCpu === null ? '' : ` on CPU ${engineCpu}`}`,
    );
    const engineBefore = await measureEngine(ctx, target, engineSettings('before'), engineCpu, 'contracts-engine-1');

    log(`batch: ${measuredShas.length} documents through POST /api/v1/signatures/batches and the job runner`);
    await sleep(500);
    const batchSqlBefore = await sqlCount(dataDir, server);
    const batchPg = await startBackendCpu(adminUrl(), database.name);
    const batchCpuBefore = cpuSplit(server.pid);
    const batch = await runBatch(server.baseUrl, tokens.clerk, seed.sealId, measuredShas);
    const batchCpuAfter = cpuSplit(server.pid);
    const batchPgSeconds = await batchPg.stop();
    const batchSqlAfter = await sqlCount(dataDir, server);
    log('engine again, after the batch');
    const engineAfter = await measureEngine(ctx, target, engineSettings('after'), engineCpu, 'contracts-engine-2');

    // The mean of the engine's two runs, around the batch: the machine is shared, and its load drifts.
    const engineRate = (engineBefore.documentsPerSecond + engineAfter.documentsPerSecond) / 2;
    const batchRate = measuredShas.length / batch.seconds;
    add('engineRate', engineRate, { decimals: 1 });
    add('engineCpu', (engineBefore.cpuMsPerDocument + engineAfter.cpuMsPerDocument) / 2, { decimals: 1 });
    const batchInvalid = batch.failed > 0 ? { invalid: true, note: `${batch.failed} documents failed` } : {};
    add('batchRate', batchRate, { decimals: 1, ...batchInvalid });
    add('batchShare', (batchRate / engineRate) * 100, { decimals: 0, ...batchInvalid });
    add(
      'batchCpu',
      batchCpuBefore && batchCpuAfter
        ? ((batchCpuAfter.user + batchCpuAfter.system - batchCpuBefore.user - batchCpuBefore.system) * 1000) /
            measuredShas.length
        : null,
      { decimals: 1 },
    );
    add('batchPgCpu', batchPgSeconds === null ? null : (batchPgSeconds * 1000) / measuredShas.length, {
      decimals: 1,
      ...(batchPgSeconds === null ? { note: 'n/a (PostgreSQL not on this machine)' } : {}),
    });
    add(
      'batchSql',
      batchSqlBefore && batchSqlAfter ? (batchSqlAfter.total - batchSqlBefore.total) / measuredShas.length : null,
      { decimals: 0 },
    );
    add('batchPickup', batch.firstSignedSeconds, { decimals: 2 });
    add('batchFailed', batch.failed, { decimals: 0, ...batchInvalid });
    note(
      `Engine: the build's signPdf (dist/signing) in a process of its own${engineCpu === null ? '' : `, pinned to CPU ${engineCpu} (taskset)`}, one document after another, with the seal's own certificate (${engineBefore.certificate.keySpec}) and key from the server's key vault, the built-in TSA in-process (B-T) and the seal's impression centred on "${KEYWORD}", as the batch signs them; ${ENGINE_WARMUP} documents first to warm up. ` +
        `Run before the batch: ${engineBefore.documentsPerSecond.toFixed(1)} documents/s (${engineBefore.cpuMsPerDocument.toFixed(1)} ms CPU, p50 ${engineBefore.p50Ms.toFixed(1)} ms, p99 ${engineBefore.p99Ms.toFixed(1)} ms each); after it: ${engineAfter.documentsPerSecond.toFixed(1)} documents/s (${engineAfter.cpuMsPerDocument.toFixed(1)} ms CPU); the figure is their mean. ` +
        `Output ${(engineBefore.outputBytes / engineBefore.documents / 1024).toFixed(0)} KB per document.`,
    );
    note(
      `Batch: POST /api/v1/signatures/batches as the clerk (${measuredShas.length} documents, B-T, the seal centred on "${KEYWORD}"), then GET …/batches/{id} every ${BATCH_POLL_MS} ms until done: ${batch.seconds.toFixed(2)} s from the POST to the answer that said done (the server's own createdAt → finishedAt: ${batch.serverSeconds.toFixed(2)} s); ` +
        `the server's job runner is woken when the POST commits (else it polls every 1 s, SIGIL_JOBS_POLL_MS default) and signs twelve documents side by side on its signing workers and keeps them in groups of up to 16, one transaction each, in the batch's order; the first document was signed ${batch.firstSignedSeconds.toFixed(2)} s after the POST; from the first document to the last: ${batch.signingSeconds.toFixed(2)} s (${((measuredShas.length - 1) / Math.max(batch.signingSeconds, 1e-9)).toFixed(1)} documents/s). ${batch.signed} signed, ${batch.failed} failed${batch.firstError ? ` (first: ${batch.firstError})` : ''}.` +
        (warmShas.length > 0 ? ` A batch of ${warmShas.length} ran first, not measured.` : '') +
        ` SQL and PostgreSQL CPU per document include the ${batch.polls} polls of the batch (each reads its ${measuredShas.length} items).`,
    );
  } finally {
    await server.stop();
    await pgClient.end().catch(() => undefined);
  }
}

/** Answers other than the expected ones, and requests with no answer. */
const failuresOf = (load: ContractLoadResult) => Object.values(load.otherStatuses).reduce((a, b) => a + b, 0);

/** Uploads each PDF as its owner, a few at a time; the SHA-256s in the order given. Bounded in time. */
async function upload(
  baseUrl: string,
  jobs: Array<{ token: string; n: number; name: string }>,
  keep: (n: number, pdf: Buffer) => void,
): Promise<string[]> {
  const started = performance.now();
  const shas: string[] = new Array<string>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      if (performance.now() - started > SETUP_LIMIT_MS)
        throw new Error(`uploading took over ${SETUP_LIMIT_MS / 1000} s (${next} of ${jobs.length} started)`);
      const i = next++;
      const job = jobs[i]!;
      const pdf = contractPdf(job.n);
      keep(job.n, pdf);
      const response = await fetch(`${baseUrl}/api/v1/documents/uploads?name=${encodeURIComponent(job.name)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${job.token}`, 'content-type': 'application/pdf' },
        body: pdf,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      if (response.status !== 201)
        throw new Error(`POST /api/v1/documents/uploads answered ${response.status}: ${text.slice(0, 300)}`);
      shas[i] = (JSON.parse(text) as { sha256: string }).sha256;
    }
  };
  await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, worker));
  if (new Set(shas).size !== shas.length) throw new Error('two uploaded PDFs have the same SHA-256');
  return shas;
}

interface BatchItem {
  status: 'pending' | 'signed' | 'failed';
  errorCode: string | null;
  errorDetail: string | null;
  doneAt: string | null;
}
interface BatchView {
  id: string;
  status: 'running' | 'done';
  signed: number;
  failed: number;
  createdAt: string;
  finishedAt: string | null;
  items: BatchItem[];
}

/** Starts a batch and polls it until done (bounded); times from the POST to the answer that says done. */
async function runBatch(baseUrl: string, token: string, sealId: string, documents: string[]) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const started = performance.now();
  const response = await fetch(`${baseUrl}/api/v1/signatures/batches`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      documents,
      sealId,
      category: CONTRACT_CATEGORY,
      level: 'B-T',
      appearance: { type: 'keyword', keyword: KEYWORD },
      reason: BATCH_REASON,
    }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  if (response.status !== 202)
    throw new Error(`POST /api/v1/signatures/batches answered ${response.status}: ${text.slice(0, 300)}`);
  const { id } = JSON.parse(text) as BatchView;
  let view: BatchView | null = null;
  let polls = 0;
  while (performance.now() - started < BATCH_LIMIT_MS) {
    await sleep(BATCH_POLL_MS);
    polls += 1;
    const polled = await fetch(`${baseUrl}/api/v1/signatures/batches/${id}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = await polled.text();
    if (polled.status !== 200)
      throw new Error(`GET /api/v1/signatures/batches/${id} answered ${polled.status}: ${body.slice(0, 300)}`);
    view = JSON.parse(body) as BatchView;
    if (view.status === 'done') break;
  }
  const seconds = (performance.now() - started) / 1000;
  if (view?.status !== 'done')
    throw new Error(
      `the batch was not done after ${BATCH_LIMIT_MS / 1000} s (${view?.signed ?? 0} signed): is the server's job runner running?`,
    );
  const done = view.items
    .filter((i) => i.doneAt)
    .map((i) => Date.parse(i.doneAt!))
    .sort((a, b) => a - b);
  const createdAt = Date.parse(view.createdAt);
  const firstFailure = view.items.find((i) => i.status === 'failed');
  return {
    seconds,
    polls,
    serverSeconds: view.finishedAt ? (Date.parse(view.finishedAt) - createdAt) / 1000 : seconds,
    firstSignedSeconds: done.length ? (done[0]! - createdAt) / 1000 : seconds,
    signingSeconds: done.length > 1 ? (done.at(-1)! - done[0]!) / 1000 : 0,
    signed: view.signed,
    failed: view.failed,
    firstError: firstFailure ? `${firstFailure.errorCode}: ${firstFailure.errorDetail}` : null,
  };
}

/** The CPU that was least busy over half a second (/proc/stat), for the engine to run on; null without /proc or taskset. */
async function leastBusyCpu(): Promise<number | null> {
  if (!existsSync('/usr/bin/taskset') && !existsSync('/bin/taskset')) return null;
  try {
    const perCpu = () =>
      readFileSync('/proc/stat', 'utf8')
        .split('\n')
        .filter((line) => /^cpu\d+ /.test(line))
        .map((line) => {
          const fields = line.trim().split(/\s+/).slice(1).map(Number);
          const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
          return { idle, total: fields.slice(0, 8).reduce((a, b) => a + b, 0) };
        });
    const before = perCpu();
    await sleep(500);
    const after = perCpu();
    let best = 0;
    let bestBusy = Infinity;
    for (const [cpu, a] of after.entries()) {
      const b = before[cpu]!;
      const busy = 1 - (a.idle - b.idle) / Math.max(1, a.total - b.total);
      if (busy < bestBusy) {
        best = cpu;
        bestBusy = busy;
      }
    }
    return best;
  } catch {
    return null;
  }
}

/** Runs bench/lib/measure-engine.ts (pinned to `cpu` when given) and returns its figures. Bounded. */
async function measureEngine(
  ctx: SuiteContext,
  target: Target,
  settings: MeasureEngineSettings,
  cpu: number | null,
  label: string,
): Promise<MeasureEngineOutput> {
  const file = join(target.dataDir, `${label}.json`);
  writeFileSync(file, JSON.stringify(settings));
  const args = [process.execPath, '--import', 'tsx', ENGINE_SCRIPT, file];
  if (cpu === null)
    return JSON.parse(await runNode(ctx.resources, label, args.slice(1), target)) as MeasureEngineOutput;
  mkdirSync(join(BENCH_OUT, 'logs'), { recursive: true });
  const log = createWriteStream(join(BENCH_OUT, 'logs', `${label}.log`));
  const child = ctx.resources.child(
    spawn('taskset', ['-c', String(cpu), ...args], {
      cwd: ROOT,
      env: sigilEnv(target),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    log.write(chunk);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    log.write(chunk);
  });
  const timer = setTimeout(() => void killChild(child, 2_000), 300_000);
  const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  clearTimeout(timer);
  log.end();
  if (status !== 0) throw new Error(`${label} ended with status ${status ?? 'killed'}: ${stderr.slice(-1500)}`);
  return JSON.parse(stdout) as MeasureEngineOutput;
}

/**
 * Every contract a client saw completed must be completed in the database with two signatures
 * (the company's seal and the person's), and no contract of the company may be left part-way.
 */
async function verifyContracts(client: pg.Client, companyId: string, completedIds: string[]) {
  const byStatus = (
    await client.query<{ status: string; n: number }>(
      `select status, count(*)::int as n from contracts where company_id = $1 group by 1 order by 1`,
      [companyId],
    )
  ).rows;
  const rows = (
    await client.query<{ id: string; status: string; signatures: number }>(
      `select c.id, c.status, (select count(*)::int from contract_signatures s where s.contract_id = c.id) as signatures
         from contracts c where c.id = any($1::uuid[])`,
      [completedIds],
    )
  ).rows;
  const found = new Map(rows.map((r) => [r.id, r]));
  let unfinished = 0;
  let first = '';
  for (const id of completedIds) {
    const r = found.get(id);
    if (r?.status === 'completed' && r.signatures === 2) continue;
    unfinished += 1;
    first ||= `contract ${id}: ${r ? `${r.status}, ${r.signatures} signatures` : 'not found'}`;
  }
  const signatures = rows.reduce((sum, r) => sum + r.signatures, 0);
  return {
    unfinished,
    detail: first,
    summary: `contracts of ${COMPANY_NAME} by status: ${byStatus.map((s) => `${s.n} ${s.status}`).join(', ')}; the ${completedIds.length} answered completed hold ${signatures} contract signatures${unfinished ? `; ${unfinished} are not completed with two signatures (${first})` : ', two each'}.`,
  };
}

/**
 * Starts bench/lib/contract-load.ts in its own process. Each round's settings go through its stdin
 * as a line; it answers each with a line of JSON on stdout. One process for the warm-up and the
 * measured round, so the load generator's own code is compiled by the second.
 */
function startContractLoad(ctx: SuiteContext, name: string) {
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
    async round(settings: ContractLoadSettings): Promise<ContractLoadResult> {
      child.stdin!.write(`${JSON.stringify(settings)}\n`);
      // A round starts nothing after its time; the contracts under way then get a few request timeouts to end.
      const timer = setTimeout(
        () => void killChild(child, 2_000),
        (settings.seconds + 4 * (REQUEST_TIMEOUT_MS / 1000) + 30) * 1000,
      );
      const answer = await answers.next();
      clearTimeout(timer);
      if (answer.done) {
        await closed;
        throw new Error(`the contract load ended with status ${status ?? 'killed'} before answering; see ${logFile}`);
      }
      try {
        return JSON.parse(answer.value) as ContractLoadResult;
      } catch {
        throw new Error(`the contract load printed no JSON result: ${answer.value.slice(0, 500)}`);
      }
    },
    async close(): Promise<void> {
      child.stdin!.end();
      await closed;
      if (status !== 0) throw new Error(`the contract load ended with status ${status ?? 'killed'}; see ${logFile}`);
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
