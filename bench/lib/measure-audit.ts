// Child process of the `audit` bench, with the built modules from dist/ as the server runs them:
// the append rate through the real append path (recordAudits, one statement per transaction)
// with a sealer and checkpoints running as in a server, then, on the seeded log of a million
// events, inclusion proofs one after another and the full verification. Prints one JSON line.
//
//   node --import tsx bench/lib/measure-audit.ts SETTINGS.json
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Latency } from './measure-seals.js';
import { machineTicks, ROOT } from './server.js';

type DatabaseModule = typeof import('../../src/db/database.js');
type ConfigModule = typeof import('../../src/server/config.js');
type VaultModule = typeof import('../../src/signing/key-vault.js');
type ServiceModule = typeof import('../../src/modules/audit/audit.service.js');
type SealerModule = typeof import('../../src/modules/audit/audit.sealer.js');
type VerifyModule = typeof import('../../src/modules/audit/audit.verify.js');
type ProofsModule = typeof import('../../src/modules/audit/audit.proofs.js');
type CheckpointModule = typeof import('../../src/modules/audit/checkpoint.service.js');
type Db = import('../../src/db/schema.js').Db;

const built = <T>(path: string): Promise<T> => import(pathToFileURL(join(ROOT, 'dist', path)).href) as Promise<T>;

export interface MeasureAuditSettings {
  /** The seeded database (a million events) and its group, and the master key its log key is sealed under. */
  log: { url: string; groupId: string; events: number; masterKey: string };
  /** A fresh database with one group, for the appends. */
  append: { url: string; groupId: string; clients: number; batch: number; seconds: number; warmupSeconds: number };
  proofs: number;
  proofWarmup: number;
  verifications: number;
}

export interface MeasureAuditOutput {
  append: {
    events: number;
    transactions: number;
    seconds: number;
    /** µs per transaction (begin, append, commit). */
    transaction: Latency;
    /** Events still waiting for the sealer when the load stopped, and how long it took to link them. */
    pendingAtEnd: number;
    drainSeconds: number;
    checkpointsSigned: number;
    intact: boolean;
    verifySeconds: number;
    machineBusyPercent: number | null;
  };
  proof: {
    /** The log's tables and indexes read into the operating system's cache first (null: pg_prewarm missing). */
    prewarm: { megabytes: number; seconds: number } | null;
    signCheckpointMs: number;
    /** µs per proof. */
    latency: Latency;
    reference: Latency;
    /** CPU per proof, µs: this process, and the PostgreSQL backend serving it (null when not on this machine). */
    clientMicros: number;
    backendMicros: number | null;
    machineBusyPercent: number | null;
    auditPathLength: number;
  };
  verify: Array<{
    seconds: number;
    intact: boolean;
    checked: number;
    backendCpuSeconds: number | null;
    clientCpuSeconds: number;
    machineBusyPercent: number | null;
  }>;
}

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  return {
    count: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted.at(-1) ?? 0,
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
  };
}

function cpuOf(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

const busySince = (start: { busy: number; total: number } | null) => {
  const end = machineTicks();
  return start && end && end.total > start.total ? (100 * (end.busy - start.busy)) / (end.total - start.total) : null;
};

/** mulberry32: the same proofs on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function context(url: string, masterKey: string, poolSize: number) {
  const { openDatabase } = await built<DatabaseModule>('db/database.js');
  const { parseConfig } = await built<ConfigModule>('server/config.js');
  const { createKeyVault } = await built<VaultModule>('signing/key-vault.js');
  const dir = mkdtempSync(join(tmpdir(), 'sigil-bench-audit-'));
  const config = parseConfig({
    DATABASE_URL: url,
    SIGIL_DATA_DIR: dir,
    SIGIL_AUDIT_DIR: join(dir, 'audit'),
    SIGIL_MASTER_KEY: masterKey,
    LOG_LEVEL: 'silent',
  });
  const handle = await openDatabase({ databaseUrl: url, poolSize });
  const key = Buffer.from(masterKey, 'base64');
  const ctx = { db: handle.db, config, keys: createKeyVault(config.pki, key), now: () => new Date() };
  return { handle, ctx };
}

async function backendPids(db: Db): Promise<number[]> {
  const { sql } = await import('kysely');
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
    union select pg_backend_pid()`.execute(db);
  return rows.map((r) => r.pid);
}

async function measureAppend(settings: MeasureAuditSettings['append']): Promise<MeasureAuditOutput['append']> {
  const { recordAudits } = await built<ServiceModule>('modules/audit/audit.service.js');
  const { AuditSealer } = await built<SealerModule>('modules/audit/audit.sealer.js');
  const { verifyChain } = await built<VerifyModule>('modules/audit/audit.verify.js');
  const { sql } = await import('kysely');
  const { handle, ctx } = await context(settings.url, randomBytes(32).toString('base64'), settings.clients + 2);
  const { db } = handle;
  // The server's sealer, with its checkpoints, on its own connections.
  const sealer = new AuditSealer(db, { warn: () => undefined, error: () => undefined }, undefined, ctx);
  sealer.start();
  const events = (n: number) =>
    Array.from({ length: settings.batch }, (_, i) =>
      i === 0
        ? {
            action: 'application.task_approved' as const,
            target: { type: 'application' as const, id: '0193a000-0000-7000-8000-00000000a991' },
            companyId: null,
            changes: {
              taskId: '0193a000-0000-7000-8000-00000000a992',
              level: 1 + (n % 2),
              comment: null,
              onBehalfOf: null,
            },
          }
        : {
            action: 'application.level_completed' as const,
            target: { type: 'application' as const, id: '0193a000-0000-7000-8000-00000000a991' },
            companyId: null,
            changes: { level: i },
          },
    );
  const load = async (seconds: number, samples: number[] | null) => {
    let transactions = 0;
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: settings.clients }, async () => {
        while (performance.now() < until) {
          const started = performance.now();
          await db.transaction().execute((trx) =>
            recordAudits(trx, {
              groupId: settings.groupId,
              actor: { system: 'bench' },
              events: events(transactions),
            }),
          );
          samples?.push((performance.now() - started) * 1000);
          transactions += 1;
        }
      }),
    );
    return transactions;
  };
  await load(settings.warmupSeconds, null);
  const samples: number[] = [];
  const ticks = machineTicks();
  const started = performance.now();
  const transactions = await load(settings.seconds, samples);
  const seconds = (performance.now() - started) / 1000;
  const machineBusyPercent = busySince(ticks);
  await sealer.stop();
  const pendingAtEnd = Number(
    (await sql<{ n: number }>`select count(*) as n from audit_pending where group_id = ${settings.groupId}`.execute(db))
      .rows[0]!.n,
  );
  const drainStarted = performance.now();
  await sealer.sealAll({ final: true });
  const drainSeconds = (performance.now() - drainStarted) / 1000;
  const checkpointsSigned = Number(
    (
      await sql<{
        n: number;
      }>`select count(*) as n from audit_checkpoints where group_id = ${settings.groupId}`.execute(db)
    ).rows[0]!.n,
  );
  const verifyStarted = performance.now();
  const report = await verifyChain(db, settings.groupId);
  const verifySeconds = (performance.now() - verifyStarted) / 1000;
  ctx.keys.close();
  await handle.close();
  return {
    events: transactions * settings.batch,
    transactions,
    seconds,
    transaction: latency(samples),
    pendingAtEnd,
    drainSeconds,
    checkpointsSigned,
    intact: report.intact,
    verifySeconds,
    machineBusyPercent,
  };
}

/**
 * Reads the audit tables and their indexes into the operating system's cache (pg_prewarm, mode
 * `read`), as a server that serves a log keeps it in memory. This machine's host drops the page
 * cache between runs: without it, proofs for random events of a log read from disk (p99 14-16 ms
 * in such runs against 0.5 ms for `select 1`), which measures the disk, not the proof.
 */
async function prewarmLog(db: Db): Promise<{ megabytes: number; seconds: number } | null> {
  const { sql } = await import('kysely');
  const started = performance.now();
  try {
    await sql`create extension if not exists pg_prewarm`.execute(db);
  } catch {
    return null;
  }
  const { rows } = await sql<{ blocks: number }>`
    select sum(pg_prewarm(c.oid, 'read'))::bigint as blocks
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind in ('r', 'i') and c.relname like 'audit%'`.execute(db);
  const blocks = Number(rows[0]?.blocks ?? 0);
  return { megabytes: (blocks * 8192) / 1e6, seconds: (performance.now() - started) / 1000 };
}

async function measureProofs(settings: MeasureAuditSettings): Promise<MeasureAuditOutput['proof']> {
  const { proveInclusion } = await built<ProofsModule>('modules/audit/audit.proofs.js');
  const { signCheckpoint } = await built<CheckpointModule>('modules/audit/checkpoint.service.js');
  const { sql } = await import('kysely');
  // One connection: every statement of a proof goes to the same backend, whose CPU is read.
  const { handle, ctx } = await context(settings.log.url, settings.log.masterKey, 1);
  const { db } = handle;
  const { groupId, events } = settings.log;
  const prewarm = await prewarmLog(db);
  const signStarted = performance.now();
  const signed = await signCheckpoint(ctx, groupId, { force: true });
  const signCheckpointMs = performance.now() - signStarted;
  if (signed.kind === 'refused') throw new Error(`the seeded log was refused a checkpoint: ${signed.reason}`);
  const random = prng(20261206);
  const places = Array.from(
    { length: settings.proofs + settings.proofWarmup },
    () => 1 + Math.floor(random() * events),
  );
  const { rows } = await sql<{ place: number; event_seq: number }>`
    select seq as place, event_seq from audit_links where group_id = ${groupId} and seq = any(${places}::bigint[])`.execute(
    db,
  );
  const seqOf = new Map(rows.map((r) => [Number(r.place), Number(r.event_seq)]));
  const seqs = places.map((p) => seqOf.get(p)!);
  let pathLength = 0;
  for (const seq of seqs.slice(0, settings.proofWarmup)) await proveInclusion(db, groupId, { seq });
  const backend = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid;
  const samples: number[] = [];
  const reference: number[] = [];
  const ticks = machineTicks();
  const backendBefore = cpuOf(backend);
  const clientBefore = process.cpuUsage();
  for (const [i, seq] of seqs.slice(settings.proofWarmup).entries()) {
    const started = performance.now();
    const proof = await proveInclusion(db, groupId, { seq });
    samples.push((performance.now() - started) * 1000);
    pathLength = Math.max(pathLength, proof.auditPath.length);
    if (i % 10 === 9) {
      const at = performance.now();
      await sql`select 1`.execute(db);
      reference.push((performance.now() - at) * 1000);
    }
  }
  const client = process.cpuUsage(clientBefore);
  const backendAfter = cpuOf(backend);
  const machineBusyPercent = busySince(ticks);
  ctx.keys.close();
  await handle.close();
  // The reference statements ran on the same connection: their share is left in (one in ten, and tiny).
  return {
    prewarm,
    signCheckpointMs,
    latency: latency(samples),
    reference: latency(reference),
    clientMicros: (client.user + client.system) / samples.length,
    backendMicros:
      backendBefore === null || backendAfter === null ? null : ((backendAfter - backendBefore) * 1e6) / samples.length,
    machineBusyPercent,
    auditPathLength: pathLength,
  };
}

async function measureVerify(settings: MeasureAuditSettings): Promise<MeasureAuditOutput['verify']> {
  const { verifyLog } = await built<VerifyModule>('modules/audit/audit.verify.js');
  const { handle, ctx } = await context(settings.log.url, settings.log.masterKey, 10);
  const runs: MeasureAuditOutput['verify'] = [];
  for (let i = 0; i < settings.verifications; i++) {
    // Every pooled connection open first, so the CPU of each backend that works is read.
    const { sql } = await import('kysely');
    await Promise.all(Array.from({ length: 10 }, () => sql`select pg_sleep(0.01)`.execute(handle.db)));
    // The pool closes connections idle for 10 s and opens others: the backends are sampled while
    // the verification runs, each counted from its first sample (or its start) to its last.
    const first = new Map<number, number>();
    const last = new Map<number, number>();
    const sample = async () => {
      for (const pid of await backendPids(handle.db)) {
        const used = cpuOf(pid);
        if (used === null) continue;
        if (!first.has(pid)) first.set(pid, running ? 0 : used);
        last.set(pid, used);
      }
    };
    let running = false;
    await sample();
    const client = process.cpuUsage();
    const ticks = machineTicks();
    const started = performance.now();
    running = true;
    const sampler = setInterval(() => void sample(), 200);
    const report = await verifyLog(ctx, settings.log.groupId);
    clearInterval(sampler);
    const seconds = (performance.now() - started) / 1000;
    await sample();
    running = false;
    const machineBusyPercent = busySince(ticks);
    const used = process.cpuUsage(client);
    const backendCpuSeconds =
      first.size === 0 ? null : [...last].reduce((sum, [pid, cpu]) => sum + cpu - first.get(pid)!, 0);
    runs.push({
      seconds,
      intact: report.intact,
      checked: report.checked,
      backendCpuSeconds,
      clientCpuSeconds: (used.user + used.system) / 1e6,
      machineBusyPercent,
    });
  }
  ctx.keys.close();
  await handle.close();
  return runs;
}

async function main(settingsFile: string) {
  const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as MeasureAuditSettings;
  const append = await measureAppend(settings.append);
  const proof = await measureProofs(settings);
  const verify = await measureVerify(settings);
  process.stdout.write(`${JSON.stringify({ append, proof, verify } satisfies MeasureAuditOutput)}\n`);
}

main(process.argv[2]!).catch((error: unknown) => {
  process.stderr.write(`measure-audit: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
