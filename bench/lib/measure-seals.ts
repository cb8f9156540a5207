// Child process of the `seals` bench: times, on the seeded PostgreSQL database, the functions the
// API runs — `decideSealUse` for random (person, seal, category) triples, and the permission
// report of the large subsidiary (the service, then JSON or CSV) — and, when a server was
// started, the same through HTTP. Built modules from dist/, the way the server runs them.
// Prints one JSON line (MeasureOutput).
//
//   node --import tsx bench/lib/measure-seals.ts SETTINGS.json      (DATABASE_URL: the seeded database)
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { benchId, type SealsSeedSizes, type SeedFacts } from './seed-seals.js';
import { machineTicks, ROOT } from './server.js';

type DatabaseModule = typeof import('../../src/db/database.js');
type UsePolicy = typeof import('../../src/modules/grants/seal-use.policy.js');
type ReportService = typeof import('../../src/modules/grants/permission-report.service.js');
type ReportRepository = typeof import('../../src/modules/grants/permission-report.repository.js');
type AppContext = import('../../src/server/context.js').AppContext;
type Actor = import('../../src/modules/access/index.js').Actor;

const built = <T>(path: string): Promise<T> => import(pathToFileURL(join(ROOT, 'dist', path)).href) as Promise<T>;

export interface MeasureSettings {
  sizes: SealsSeedSizes;
  facts: SeedFacts;
  decisions: number;
  warmup: number;
  reportRuns: number;
  /** A server on the same database and a session of `facts.adminId`, for the HTTP figures. */
  http?: { baseUrl: string; token: string; decisions: number } | undefined;
}

export interface Latency {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface MeasureOutput {
  /** µs per call. */
  decision: Latency & { outcomes: Record<string, number>; fromGrants: number };
  /** µs per `select 1` on the same connection, interleaved with the decisions: the floor, and how noisy the machine was. */
  reference: Latency;
  /** CPU per decision, µs: this process (Kysely, pg) and the PostgreSQL backend serving it (null when not on this machine). */
  cpu: { clientMicros: number; backendMicros: number | null; machineBusyPercent: number | null };
  /** µs per request. */
  httpDecision?: (Latency & { statuses: Record<string, number> }) | undefined;
  /** ms per report; `sqlMs` is the coverage query alone, `rows` what the report held. */
  report: { json: Latency; csv: Latency; sqlMs: Latency; rows: number; jsonBytes: number; csvBytes: number };
  httpReport?: { json: Latency; csv: Latency; jsonBytes: number; csvBytes: number; status: number[] } | undefined;
}

export function latency(samples: number[]): Latency {
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

/** mulberry32: the same triples on every run. */
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

const CATEGORIES = ['personnel', 'procurement', 'sales', 'legal', 'finance'];

interface Triple {
  sealId: string;
  userId: string;
  category: string;
}

/**
 * Half the triples come from real grants (the grantee, a member of the granted department or a
 * holder of the granted role, and one of the grant's categories), so many are allowed and the
 * decision walks the grant it finds; the other half are uniform (mostly "no grant").
 */
async function buildTriples(
  db: import('../../src/db/schema.js').Db,
  sizes: SealsSeedSizes,
  count: number,
): Promise<{ triples: Triple[]; fromGrants: number }> {
  const random = prng(20261121);
  const pick = (n: number) => Math.floor(random() * n);
  const grantCount = sizes.seals * sizes.grantsPerSeal;
  const wanted = Math.ceil(count / 2);
  const grantIds = Array.from({ length: wanted }, () => benchId('gr', 1 + pick(grantCount)));
  const { sql } = await import('kysely');
  const grants = await sql<{
    id: string;
    sealId: string;
    type: string;
    userId: string | null;
    departmentId: string | null;
    role: string | null;
    companyPath: string | null;
    categories: string[];
  }>`
    select g.id, g.seal_id as "sealId", g.grantee_type as type, g.grantee_user_id as "userId", g.grantee_department_id as "departmentId",
      g.grantee_role as role, c.path as "companyPath", g.categories
    from seal_grants g left join companies c on c.id = g.grantee_company_id
    where g.id = any(${grantIds}::uuid[])
  `.execute(db);
  const departments = [...new Set(grants.rows.map((g) => g.departmentId).filter((d): d is string => d !== null))];
  const members = new Map<string, string>();
  if (departments.length > 0) {
    const rows = await sql<{ departmentId: string; userId: string }>`
      select distinct on (department_id) department_id as "departmentId", id as "userId" from users where department_id = any(${departments}::uuid[]) order by department_id, email
    `.execute(db);
    for (const r of rows.rows) members.set(r.departmentId, r.userId);
  }
  const holders = new Map<string, string>();
  for (const g of grants.rows.filter((r) => r.type === 'role')) {
    const key = `${g.role}|${g.companyPath}`;
    if (holders.has(key)) continue;
    const row = await sql<{ userId: string }>`
      select r.user_id as "userId" from role_assignments r join companies c on c.id = r.company_id where r.role = ${g.role} and c.path like ${`${g.companyPath}%`} order by r.user_id limit 1
    `.execute(db);
    if (row.rows[0]) holders.set(key, row.rows[0].userId);
  }
  const byId = new Map(grants.rows.map((g) => [g.id, g]));
  const triples: Triple[] = [];
  let fromGrants = 0;
  for (const id of grantIds) {
    const g = byId.get(id);
    if (!g) continue;
    const userId =
      g.type === 'user'
        ? g.userId
        : g.type === 'department'
          ? members.get(g.departmentId!)
          : holders.get(`${g.role}|${g.companyPath}`);
    if (!userId) continue;
    triples.push({ sealId: g.sealId, userId, category: g.categories[pick(g.categories.length)] ?? 'sales' });
    fromGrants++;
  }
  while (triples.length < count) {
    triples.push({
      sealId: benchId('s', 1 + pick(sizes.seals)),
      userId: benchId('u', 1 + pick(sizes.users)),
      category: CATEGORIES[pick(CATEGORIES.length)]!,
    });
  }
  for (let i = triples.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [triples[i], triples[j]] = [triples[j]!, triples[i]!];
  }
  return { triples: triples.slice(0, count), fromGrants: Math.min(fromGrants, count) };
}

/** User + system CPU of a process on this machine, µs (/proc/<pid>/stat); null when it is not here. */
function processCpuMicros(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000; // USER_HZ 100
  } catch {
    return null;
  }
}

function httpGet(
  agent: Agent,
  baseUrl: string,
  path: string,
  token: string,
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${baseUrl}${path}`,
      { agent, headers: { authorization: `Bearer ${token}` }, timeout: 30_000 },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within 30 s: ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const settings = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as MeasureSettings;
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const [{ openDatabase }, policy, reports, reportRepo] = await Promise.all([
    built<DatabaseModule>('db/database.js'),
    built<UsePolicy>('modules/grants/seal-use.policy.js'),
    built<ReportService>('modules/grants/permission-report.service.js'),
    built<ReportRepository>('modules/grants/permission-report.repository.js'),
  ]);
  // One connection, so the decisions are served by one PostgreSQL backend whose CPU can be read.
  const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, poolSize: 1 });
  const { facts } = settings;
  const out: Partial<MeasureOutput> = {};
  try {
    const { triples, fromGrants } = await buildTriples(
      database.db,
      settings.sizes,
      settings.warmup + settings.decisions,
    );
    // The decision as the API makes it: one call, on a pooled connection, at "now". Every tenth
    // call is followed by a `select 1`, the round trip with nothing to plan or read.
    const { sql } = await import('kysely');
    const backendPid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(database.db)).rows[0]!.pid;
    const outcomes: Record<string, number> = {};
    const samples: number[] = [];
    const reference: number[] = [];
    let cpuBefore = { client: process.cpuUsage(), backend: processCpuMicros(backendPid), machine: machineTicks() };
    for (const [i, t] of triples.entries()) {
      if (i === settings.warmup)
        cpuBefore = { client: process.cpuUsage(), backend: processCpuMicros(backendPid), machine: machineTicks() };
      const started = performance.now();
      const decision = await policy.decideSealUse(database.db, {
        groupId: facts.groupId,
        sealId: t.sealId,
        userId: t.userId,
        category: t.category,
        at: new Date(),
      });
      const micros = (performance.now() - started) * 1000;
      if (i % 10 === 0) {
        const before = performance.now();
        await sql`select 1`.execute(database.db);
        if (i >= settings.warmup) reference.push((performance.now() - before) * 1000);
      }
      if (i < settings.warmup) continue;
      samples.push(micros);
      const key = decision.allowed ? `allowed (${decision.grant.granteeType} grant)` : decision.reason;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    const client = process.cpuUsage(cpuBefore.client);
    const backendAfter = processCpuMicros(backendPid);
    const machineAfter = machineTicks();
    // Per decision; the interleaved select 1 (one per ten decisions) is counted in, a few per cent.
    const calls = samples.length;
    out.decision = { ...latency(samples), outcomes, fromGrants };
    out.reference = latency(reference);
    out.cpu = {
      clientMicros: (client.user + client.system) / calls,
      backendMicros:
        backendAfter !== null && cpuBefore.backend !== null ? (backendAfter - cpuBefore.backend) / calls : null,
      machineBusyPercent:
        machineAfter && cpuBefore.machine
          ? ((machineAfter.busy - cpuBefore.machine.busy) / (machineAfter.total - cpuBefore.machine.total)) * 100
          : null,
    };

    // The permission report of the large subsidiary, as the API's handler calls it.
    const ctx = { db: database.db, now: () => new Date() } as unknown as AppContext;
    const actor: Actor = {
      principal: {
        kind: 'user',
        id: facts.adminId,
        name: 'bench',
        groupId: facts.groupId,
        companyId: facts.hqId,
        companyPath: facts.hqPath,
        sessionId: null,
        roles: [{ role: 'seal_admin', companyId: facts.hqId, companyPath: facts.hqPath }],
        keyGrants: [],
      },
      ip: null,
      userAgent: null,
      requestId: null,
    };
    const json: number[] = [];
    const csv: number[] = [];
    const sqlMs: number[] = [];
    let rows = 0;
    let jsonBytes = 0;
    let csvBytes = 0;
    for (let run = 0; run <= settings.reportRuns; run++) {
      let started = performance.now();
      const report = await reports.permissionReport(ctx, actor, { under: facts.largeCompanyId });
      const body = JSON.stringify(report);
      const jsonMs = performance.now() - started;
      started = performance.now();
      const text = reports.toCsv((await reports.permissionReport(ctx, actor, { under: facts.largeCompanyId })).rows);
      const csvMs = performance.now() - started;
      started = performance.now();
      await reportRepo.findGrantCoverage(database.db, { groupId: facts.groupId, under: [facts.largeCompanyPath] });
      const queryMs = performance.now() - started;
      if (run === 0) continue; // warm-up
      json.push(jsonMs);
      csv.push(csvMs);
      sqlMs.push(queryMs);
      rows = report.rows.length;
      jsonBytes = Buffer.byteLength(body);
      csvBytes = Buffer.byteLength(text);
    }
    out.report = { json: latency(json), csv: latency(csv), sqlMs: latency(sqlMs), rows, jsonBytes, csvBytes };

    if (settings.http) {
      const { baseUrl, token } = settings.http;
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const statuses: Record<string, number> = {};
      const httpSamples: number[] = [];
      const httpTriples = triples.slice(0, settings.warmup + settings.http.decisions);
      for (const [i, t] of httpTriples.entries()) {
        const path = `/api/v1/seal-use/decision?sealId=${t.sealId}&userId=${t.userId}&category=${t.category}`;
        const started = performance.now();
        const answer = await httpGet(agent, baseUrl, path, token);
        const micros = (performance.now() - started) * 1000;
        if (i < settings.warmup) continue;
        httpSamples.push(micros);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      }
      out.httpDecision = { ...latency(httpSamples), statuses };
      const hJson: number[] = [];
      const hCsv: number[] = [];
      const status: number[] = [];
      let hJsonBytes = 0;
      let hCsvBytes = 0;
      for (let run = 0; run <= settings.reportRuns; run++) {
        let started = performance.now();
        const a = await httpGet(
          agent,
          baseUrl,
          `/api/v1/reports/seal-permissions?under=${facts.largeCompanyId}`,
          token,
        );
        const aMs = performance.now() - started;
        started = performance.now();
        const b = await httpGet(
          agent,
          baseUrl,
          `/api/v1/reports/seal-permissions?under=${facts.largeCompanyId}&format=csv`,
          token,
        );
        const bMs = performance.now() - started;
        status.push(a.status, b.status);
        if (run === 0) continue;
        hJson.push(aMs);
        hCsv.push(bMs);
        hJsonBytes = a.bytes;
        hCsvBytes = b.bytes;
      }
      out.httpReport = {
        json: latency(hJson),
        csv: latency(hCsv),
        jsonBytes: hJsonBytes,
        csvBytes: hCsvBytes,
        status: [...new Set(status)],
      };
      agent.destroy();
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`measure-seals: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
