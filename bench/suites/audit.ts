// The audit log on PostgreSQL: how fast events are appended through the real append path, how
// long an inclusion proof takes in a log of a million events, and how long the whole log takes
// to verify (chain, tree and checkpoints). The seeded log is kept between runs
// (`sigil_bench_audit`, with a marker row) while its migrations, seed version and size match.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { MeasureAuditOutput, MeasureAuditSettings } from '../lib/measure-audit.js';
import { killChild, type Resources } from '../lib/resources.js';
import { adminUrl, createBenchDatabase, redact, serverVersion, unreachable } from '../lib/postgres.js';
import { AUDIT_SEED_VERSION, BENCH_GROUP_ID, seedAuditLog } from '../lib/seed-audit.js';
import { ROOT, runNode, runSigil } from '../lib/server.js';
import { boundedInt } from '../lib/settings.js';
import type { Goal, Result } from '../report.js';
import type { Suite, SuiteContext } from '../suite.js';

const SUBJECT = 'PostgreSQL';
const DATABASE = 'sigil_bench_audit';
const APPEND_DATABASE = 'sigil_bench_audit_append';
const MARKER = 'bench_seed';
const EVENTS = boundedInt(process.env.BENCH_AUDIT_EVENTS, 1_000_000, 10_000, 5_000_000);
const CLIENTS = boundedInt(process.env.BENCH_AUDIT_CLIENTS, 16, 1, 64);
const BATCH = boundedInt(process.env.BENCH_AUDIT_BATCH, 3, 1, 50);
const SECONDS = boundedInt(process.env.BENCH_AUDIT_SECONDS, 10, 2, 120);
const PROOFS = boundedInt(process.env.BENCH_AUDIT_PROOFS, 10_000, 100, 100_000);
const PROOF_WARMUP = 500;
const VERIFICATIONS = 2;
const MEASURE_LIMIT_MS = 1_800_000;
const MEASURE_SCRIPT = join(ROOT, 'bench', 'lib', 'measure-audit.ts');

const GOALS = {
  appends: { op: '>=', value: 10_000 },
  proof: { op: '<=', value: 1000 },
  verify: { op: '<=', value: 5 },
} satisfies Record<string, Goal>;

const METRICS = {
  seeded: ['seeded log: events', 'count'],
  seeding: ['seeding time (SQL insert, then the sealer links and builds the tree)', 's'],
  appends: [`appends/s (${CLIENTS} clients, ${BATCH} events per transaction)`, 'events/s'],
  transactions: ['  transactions/s', 'tx/s'],
  transactionP50: ['  transaction (begin, append, commit) p50', 'ms'],
  transactionP99: ['  transaction p99', 'ms'],
  pendingAtEnd: ['  left for the sealer when the load stopped', 'events'],
  drain: ['  sealer: linked them in', 's'],
  appendBusy: ['  machine CPU busy during the appends (everyone)', '%'],
  appendIntact: ['  chain problems in the appended log afterwards', 'count'],
  pgbenchAppends: ['  reference: the same transactions from pgbench (no sealer)', 'events/s'],
  pgbenchWrite: ['  reference: pgbench, a transaction of one one-row insert', 'tx/s'],
  signCheckpoint: ['sign a checkpoint of the seeded log', 'ms'],
  proofP50: ['inclusion proof in-process, p50', 'µs'],
  proofP99: ['inclusion proof in-process, p99', 'µs'],
  referenceP50: ['  reference: select 1 on the same connection, p50', 'µs'],
  referenceP99: ['  reference: select 1 on the same connection, p99', 'µs'],
  proofCpu: ['  CPU per proof: client + PostgreSQL backend', 'µs'],
  proofBusy: ['  machine CPU busy while proving (everyone)', '%'],
  verify: ['full verification of the seeded log (chain, tree, checkpoints)', 's'],
  verifyCpu: ['  CPU: PostgreSQL backends + this process (its worker threads included)', 's'],
  verifyBusy: ['  machine CPU busy while verifying (everyone)', '%'],
} as const satisfies Record<string, readonly [string, string]>;
type MetricKey = keyof typeof METRICS;

export const auditSuite: Suite = {
  name: 'audit',
  title: `audit log on PostgreSQL: append rate, inclusion proofs and full verification of ${EVENTS.toLocaleString('en-US')} events`,
  run: audit,
};

function goalOf(key: MetricKey): { goal?: Goal } {
  if (key === 'appends') return { goal: GOALS.appends };
  if (key === 'proofP99') return { goal: GOALS.proof };
  if (key === 'verify') return { goal: GOALS.verify };
  if (key === 'appendIntact') return { goal: { op: '<=', value: 0 } };
  return {};
}

function row(key: MetricKey, value: number | null, extra: Partial<Result> = {}): Result {
  const [metric, unit] = METRICS[key];
  return { metric, subject: SUBJECT, value, unit, ...goalOf(key), ...extra };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const count = (n: number) => n.toLocaleString('en-US');
type Add = (key: MetricKey, value: number | null, extra?: Partial<Result>) => void;

export async function audit(ctx: SuiteContext): Promise<Result[]> {
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
  events: number;
  migrations: string[];
  /** The master key the log key of the seeded database is sealed under (a bench database only). */
  masterKey: string;
  insertSeconds: number;
  sealSeconds: number;
  seededAt: string;
}

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
    if (marker.version !== AUDIT_SEED_VERSION)
      return `it was seeded by seed version ${marker.version}, this is ${AUDIT_SEED_VERSION}`;
    if (marker.events !== EVENTS) return `it holds ${count(marker.events)} events, not ${count(EVENTS)}`;
    const applied = (await client.query<{ name: string }>('select name from sigil_migrations order by name')).rows.map(
      (r) => r.name,
    );
    if (JSON.stringify(applied) !== JSON.stringify(migrations))
      return `its migrations (${applied.at(-1) ?? 'none'}) differ from this build's (${migrations.at(-1)})`;
    return marker;
  });
}

async function seed(ctx: SuiteContext, serverUrl: string, url: string, migrations: string[]): Promise<Marker> {
  await withClient(serverUrl, async (client) => {
    await client.query(`drop database if exists ${DATABASE} with (force)`);
    await client.query(`create database ${DATABASE}`);
  });
  const dataDir = ctx.resources.dir(mkdtempSync(join(tmpdir(), 'sigil-bench-audit-migrate-')));
  await runSigil(ctx.resources, 'audit-migrate', ['db', 'migrate'], { dataDir, databaseUrl: url });
  return withClient(url, async (client) => {
    const { insertSeconds, sealSeconds } = await seedAuditLog(client, EVENTS, ctx.log);
    const marker: Marker = {
      version: AUDIT_SEED_VERSION,
      events: EVENTS,
      migrations,
      masterKey: randomBytes(32).toString('base64'),
      insertSeconds,
      sealSeconds,
      seededAt: new Date().toISOString(),
    };
    // Written last: a database without it was not finished and is seeded again.
    await client.query(`create table ${MARKER} (marker jsonb not null)`);
    await client.query(`insert into ${MARKER} (marker) values ($1)`, [JSON.stringify(marker)]);
    return marker;
  });
}

const fmt = (l: { p50: number; p90: number; p99: number; max: number }, unit: string, scale = 1) =>
  `${[l.p50, l.p90, l.p99, l.max].map((v) => (v / scale).toFixed(scale === 1 ? 0 : 2)).join(' / ')} ${unit}`;

async function measure(ctx: SuiteContext, serverUrl: string, add: Add): Promise<void> {
  const url = databaseUrl(serverUrl, DATABASE);
  const { migrationNames } = (await import(
    pathToFileURL(join(ROOT, 'dist', 'db', 'migrate.js')).href
  )) as typeof import('../../src/db/migrate.js');
  const migrations = migrationNames();
  const cached =
    process.env.BENCH_AUDIT_RESEED === '1' ? 'BENCH_AUDIT_RESEED=1' : await cachedSeed(serverUrl, url, migrations);
  let marker: Marker;
  let reused = false;
  if (typeof cached === 'string') {
    ctx.log(`seeding ${DATABASE} (${cached}): ${count(EVENTS)} events`);
    marker = await seed(ctx, serverUrl, url, migrations);
    ctx.log(`  … inserted in ${marker.insertSeconds.toFixed(1)} s, sealed in ${marker.sealSeconds.toFixed(1)} s`);
  } else {
    marker = cached;
    reused = true;
    ctx.log(`reusing ${DATABASE}, seeded ${marker.seededAt}`);
  }
  const seeding = marker.insertSeconds + marker.sealSeconds;
  add('seeded', EVENTS, { decimals: 0 });
  add('seeding', seeding, { decimals: 1, ...(reused ? { note: `${seeding.toFixed(1)} (cached)` } : {}) });
  ctx.note(
    `Seeded log (${reused ? `reused: seeded ${marker.seededAt}` : 'seeded now'}): ${count(EVENTS)} events of one group by set-based SQL on a database the real migrations made (approvals, level completions and sign-ins by 97 people over 13 companies), ` +
      `inserted in ${marker.insertSeconds.toFixed(1)} s, then linked and put into the Merkle tree by the real sealer (sigil_audit_seal, 10,000 events a call) in ${marker.sealSeconds.toFixed(1)} s (${((marker.sealSeconds * 1e6) / EVENTS).toFixed(0)} µs an event), then VACUUM ANALYZE.`,
  );

  const append = await createBenchDatabase(ctx.resources, serverUrl, APPEND_DATABASE);
  const appendDir = ctx.resources.dir(mkdtempSync(join(tmpdir(), 'sigil-bench-audit-append-')));
  await runSigil(ctx.resources, 'audit-append-migrate', ['db', 'migrate'], {
    dataDir: appendDir,
    databaseUrl: append.url,
  });
  await withClient(append.url, (client) =>
    client.query(`insert into groups (id, name, slug, sod_matrix) values ($1, 'Append bench', 'append-bench', '[]')`, [
      BENCH_GROUP_ID,
    ]),
  );

  const settings: MeasureAuditSettings = {
    log: { url, groupId: BENCH_GROUP_ID, events: EVENTS, masterKey: marker.masterKey },
    append: {
      url: append.url,
      groupId: BENCH_GROUP_ID,
      clients: CLIENTS,
      batch: BATCH,
      seconds: SECONDS,
      warmupSeconds: 2,
    },
    proofs: PROOFS,
    proofWarmup: PROOF_WARMUP,
    verifications: VERIFICATIONS,
  };
  const settingsFile = join(appendDir, 'measure-settings.json');
  writeFileSync(settingsFile, JSON.stringify(settings));
  ctx.log(
    `measuring: ${SECONDS} s of appends by ${CLIENTS} clients, ${count(PROOFS)} inclusion proofs, ${VERIFICATIONS} verifications of ${count(EVENTS)} events`,
  );
  const started = performance.now();
  const output = JSON.parse(
    await runNode(
      ctx.resources,
      'audit-measure',
      ['--import', 'tsx', MEASURE_SCRIPT, settingsFile],
      { dataDir: appendDir, databaseUrl: url },
      MEASURE_LIMIT_MS,
    ),
  ) as MeasureAuditOutput;
  ctx.log(`  … measured in ${((performance.now() - started) / 1000).toFixed(0)} s`);

  const a = output.append;
  add('appends', a.events / a.seconds, { decimals: 0 });
  add('transactions', a.transactions / a.seconds, { decimals: 0 });
  add('transactionP50', a.transaction.p50 / 1000, { decimals: 2 });
  add('transactionP99', a.transaction.p99 / 1000, { decimals: 2 });
  add('pendingAtEnd', a.pendingAtEnd, { decimals: 0 });
  add('drain', a.drainSeconds, { decimals: 2 });
  add('appendBusy', a.machineBusyPercent, { decimals: 0 });
  add('appendIntact', a.intact ? 0 : 1, { decimals: 0 });
  ctx.note(
    `Appends: ${CLIENTS} clients, each a transaction after another for ${SECONDS} s (after 2 s of warm-up), through the built recordAudits (the schema check of each event, then one sigil_audit_append statement) as a change records its events: ` +
      `${BATCH} events per transaction (an approval writes 2–3). ${count(a.events)} events in ${count(a.transactions)} transactions; transaction p50/p90/p99/max ${fmt(a.transaction, 'ms', 1000)}. ` +
      `Meanwhile the server's sealer ran (every 200 ms, with its checkpoints, ${a.checkpointsSigned} signed); afterwards the appended log verified ${a.intact ? 'intact' : 'NOT intact'} in ${a.verifySeconds.toFixed(1)} s. PostgreSQL commits synchronously (fsync on), as in production.`,
  );

  const pgbench = findPgbench();
  if (pgbench) {
    const script = join(appendDir, 'append.sql');
    writeFileSync(script, appendScript(BATCH));
    const tps = await pgbenchTps(ctx.resources, pgbench, {
      url: append.url,
      script,
      clients: CLIENTS,
      seconds: SECONDS,
    });
    add('pgbenchAppends', tps * BATCH, { decimals: 0 });
    const write = join(appendDir, 'write.sql');
    writeFileSync(
      write,
      `begin;\ninsert into audit_pending (group_id, seq) values ('${BENCH_GROUP_ID}', nextval('audit_event_seq'));\ncommit;\n`,
    );
    add(
      'pgbenchWrite',
      await pgbenchTps(ctx.resources, pgbench, { url: append.url, script: write, clients: CLIENTS, seconds: 5 }),
      {
        decimals: 0,
      },
    );
    ctx.note(
      `pgbench (${pgbench}) on the append database afterwards, ${CLIENTS} clients, prepared statements: the same append transactions for ${SECONDS} s (the events built in SQL, no sealer running), and for 5 s a transaction that inserts one row: the ceiling this machine's PostgreSQL puts on committed writes, whatever the client.`,
    );
  } else {
    add('pgbenchAppends', null, { note: 'pgbench not found' });
    add('pgbenchWrite', null, { note: 'pgbench not found' });
  }

  const p = output.proof;
  add('signCheckpoint', p.signCheckpointMs, { decimals: 0 });
  add('proofP50', p.latency.p50, { decimals: 0 });
  add('proofP99', p.latency.p99, { decimals: 0 });
  add('referenceP50', p.reference.p50, { decimals: 0 });
  add('referenceP99', p.reference.p99, { decimals: 0 });
  add(
    'proofCpu',
    p.backendMicros === null ? null : p.clientMicros + p.backendMicros,
    p.backendMicros === null ? { note: 'n/a (PostgreSQL not on this machine)' } : { decimals: 0 },
  );
  add('proofBusy', p.machineBusyPercent, { decimals: 0 });
  ctx.note(
    `Inclusion proofs: ${count(p.latency.count)} calls of the built proveInclusion (after ${PROOF_WARMUP} to warm up), one after another on one connection, for events at random places of the ${count(EVENTS)}-event log, in the tree of its newest checkpoint, ` +
      (p.prewarm
        ? `with the log in memory, as a server that serves it keeps it (its tables and indexes, ${p.prewarm.megabytes.toFixed(0)} MB, read into the operating system's cache first by pg_prewarm in ${p.prewarm.seconds.toFixed(1)} s: this machine's host drops the page cache between runs, and proofs that read from disk measure the disk): `
        : `with the log as the cache holds it (pg_prewarm is not installed): `) +
      `one statement (the checkpoints, the event's place and what it says, and the tiles of level 0 that its ${p.auditPathLength} path nodes need: the one of the leaf's ancestors and the last two), the root being the checkpoint's. ` +
      `The tiles of level 1 and above (4,169 tiles, 2 MB for this log; written once, never changed) are read by the first proof of the group and held in memory by the process with the nodes between their levels (hashed once), as a server holds them (up to 32 MB for all groups): every proof measured still makes its round trip to PostgreSQL for the event's place, its leaf tile and the checkpoints, for an event drawn at random. ` +
      `p50/p90/p99/max ${fmt(p.latency, 'µs')}; CPU per proof ${p.clientMicros.toFixed(0)} µs here + ${p.backendMicros?.toFixed(0) ?? '?'} µs in PostgreSQL. ` +
      `select 1 on the same connection: p50/p99 ${p.reference.p50.toFixed(0)} / ${p.reference.p99.toFixed(0)} µs.`,
  );

  const runs = output.verify;
  const best = runs.at(-1)!;
  const broken = runs.find((r) => !r.intact || r.checked !== EVENTS);
  add('verify', best.seconds, {
    decimals: 1,
    ...(broken ? { invalid: true, note: `the seeded log did not verify intact (${broken.checked} checked)` } : {}),
  });
  add(
    'verifyCpu',
    best.backendCpuSeconds === null ? null : best.backendCpuSeconds + best.clientCpuSeconds,
    best.backendCpuSeconds === null ? { note: 'n/a (PostgreSQL not on this machine)' } : { decimals: 1 },
  );
  add('verifyBusy', best.machineBusyPercent, { decimals: 0 });
  ctx.note(
    `Full verification: the built verifyLog, as GET /api/v1/audit-events/verify and sigil audit verify run it, with a pool of 10 connections: PostgreSQL only reads. Worker threads of this process (one per CPU, at most 4), each on a connection of its own, stream 100,000 places at a time with COPY … TO STDOUT (binary: the links, then the leaf tiles, then the events, each an index scan in primary-key order, as the worker's transaction turns bitmap scans, sequential scans and parallel plans off) and render each event as sigil_audit_said does, hash it, its link and its leaf; and every full tile of the tree against the node its parent tile holds, 20,000 tiles a task; a range a worker does not find clean goes to its SQL check in the database; then the checkpoints. ` +
      `Runs: ${runs.map((r) => `${r.seconds.toFixed(1)} s (CPU ${r.backendCpuSeconds?.toFixed(1) ?? '?'} s PostgreSQL + ${r.clientCpuSeconds.toFixed(1)} s here = ${((((r.backendCpuSeconds ?? 0) + r.clientCpuSeconds) * 1e6) / EVENTS).toFixed(1)} µs a place, machine ${r.machineBusyPercent?.toFixed(0) ?? '?'}% busy)`).join(', ')}; the table shows the last. ` +
      `CPU here includes the worker threads. On 2 CPUs the wall time is at least the CPU time ÷ 2: the goal needs both CPUs to itself.`,
  );
}

/** pgbench of the PostgreSQL server's release, where Debian puts it, or on the PATH. */
function findPgbench(): string | null {
  const root = '/usr/lib/postgresql';
  if (existsSync(root))
    for (const version of readdirSync(root).sort((a, b) => Number(b) - Number(a))) {
      const path = join(root, version, 'bin', 'pgbench');
      if (existsSync(path)) return path;
    }
  return null;
}

/**
 * Transactions per second of `script` by pgbench (`clients` connections, `seconds` s, prepared
 * statements): what PostgreSQL gives the same work with a client that costs next to nothing.
 */
async function pgbenchTps(
  resources: Resources,
  pgbench: string,
  options: { url: string; script: string; clients: number; seconds: number },
): Promise<number> {
  const child = resources.child(
    spawn(
      pgbench,
      [
        '-n',
        '-M',
        'prepared',
        '-c',
        String(options.clients),
        '-j',
        '2',
        '-T',
        String(options.seconds),
        '-f',
        options.script,
        options.url,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => void killChild(child, 2_000), (options.seconds + 30) * 1000);
  const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  clearTimeout(timer);
  const tps = /tps = ([\d.]+)/.exec(output);
  if (status !== 0 || !tps) throw new Error(`pgbench ended with status ${status}: ${output.slice(-500)}`);
  return Number(tps[1]);
}

/** The bench's append transaction for pgbench: the same statement with the same events, built in SQL. */
function appendScript(batch: number): string {
  return `begin;
select sigil_audit_append('${BENCH_GROUP_ID}'::uuid, (select jsonb_agg(jsonb_build_object('id', gen_random_uuid(), 'occurredAt', now(), 'actorType', 'system', 'actorId', null, 'actorName', 'bench', 'ip', null, 'userAgent', null, 'requestId', null, 'action', 'application.level_completed', 'targetType', 'application', 'targetId', '0193a000-0000-7000-8000-00000000a991', 'companyId', null, 'changes', jsonb_build_object('level', i))) from generate_series(1, ${batch}) as i));
commit;
`;
}
