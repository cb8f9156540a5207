// Child process: the approval load. CONCURRENCY clients, each with its own bearer sessions of the
// two approvers (the department head for level 1, the seal's custodian for level 2), take pending
// tasks from the approvers' inboxes (GET /api/v1/tasks?status=pending) and approve them
// (POST /api/v1/tasks/:id/approve) until no task is left. Every RACE_EVERY-th task is queued
// twice, back to back, so two clients approve it at the same moment: exactly one may get 200,
// the other must get 409 task_already_decided.
//
// Runs one round per line of stdin: its settings (with the tokens) as JSON; prints that round's
// outcome as one line of JSON on stdout, then waits for the next line (a warm-up round, then the
// measured one, in one process whose own code is compiled by then). Ends when stdin ends.
// Loopback only; each round is bounded by a deadline and a cap on requests.
//
//   node --import tsx bench/lib/approve-load.ts < settings.jsonl
//
// HTTP goes through undici's Pool rather than node:http: the load generator shares the machine
// with the server and PostgreSQL, and undici spends less CPU per request.
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';

export interface ApproveLoadSettings {
  baseUrl: string;
  concurrency: number;
  /** One per client: client i approves level-1 tasks with headTokens[i], level-2 tasks with custodianTokens[i]. */
  headTokens: string[];
  custodianTokens: string[];
  /** Transitions expected in all (applications × levels): the load stops when every task was answered. */
  expectedTransitions: number;
  /** Every this-many-th task is approved by two clients at once. 0: no races. */
  raceEvery: number;
  /** Inbox page size (the route's maximum is 200). */
  pageSize: number;
  deadlineSeconds: number;
  requestTimeoutMs: number;
}

export interface TaskOutcome {
  id: string;
  applicationId: string;
  level: number;
  raced: boolean;
  ok: number;
  conflict: number;
  other: number;
}

export interface ApproveLoadResult {
  /** From the first inbox request to the last approve answer. */
  seconds: number;
  approveCalls: number;
  ok: number;
  conflicts: number;
  /** Answers other than 200 and 409 task_already_decided, by status (0 = no answer / broken connection). */
  otherStatuses: Record<string, number>;
  errorSamples: string[];
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  okLatencyMs: { p50: number; p99: number };
  listCalls: number;
  listLatencyMs: { p50: number; max: number };
  tasks: TaskOutcome[];
  stoppedBy: 'done' | 'deadline' | 'request cap';
  /** CPU this process used (user + system), in seconds. */
  cpuSeconds: number;
}

interface Entry {
  outcome: TaskOutcome;
  approver: 'head' | 'custodian';
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  let pool: { origin: string; connections: number; pool: Pool } | undefined;
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const settings = JSON.parse(line) as ApproveLoadSettings;
    const base = new URL(settings.baseUrl);
    if (base.hostname !== '127.0.0.1') throw new Error(`load goes to 127.0.0.1 only, not ${base.hostname}`);
    // One keep-alive connection per client (plus one spare for a client's inbox request), kept from round to round.
    const connections = settings.concurrency + 1;
    if (pool?.origin !== base.origin || pool.connections !== connections) {
      await pool?.pool.close();
      pool = { origin: base.origin, connections, pool: new Pool(base.origin, { connections, pipelining: 1 }) };
    }
    const result = await round(settings, pool.pool);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  await pool?.pool.close();
}

async function round(settings: ApproveLoadSettings, pool: Pool): Promise<ApproveLoadResult> {
  const { concurrency } = settings;
  if (settings.headTokens.length < concurrency || settings.custodianTokens.length < concurrency)
    throw new Error('one head and one custodian session per client are needed');

  const call = async (
    method: 'GET' | 'POST',
    path: string,
    token: string,
    body?: string,
  ): Promise<{ status: number; body: string }> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const answer = await pool.request({
        path,
        method,
        headers,
        body,
        headersTimeout: settings.requestTimeoutMs,
        bodyTimeout: settings.requestTimeoutMs,
      });
      return { status: answer.statusCode, body: await answer.body.text() };
    } catch (error) {
      return { status: 0, body: String(error) };
    }
  };

  const tokens = { head: settings.headTokens, custodian: settings.custodianTokens };
  const queue: Entry[] = [];
  const seen = new Map<string, TaskOutcome>();
  const latencies: number[] = [];
  const okLatencies: number[] = [];
  const listLatencies: number[] = [];
  const otherStatuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  let approveCalls = 0;
  let ok = 0;
  let conflicts = 0;
  let inFlight = 0;
  let uniqueTasks = 0;
  let lastAnswer = 0;
  let refilling: Promise<void> | null = null;
  let lastRefillAt = 0;
  let done = false;
  let stoppedBy: ApproveLoadResult['stoppedBy'] = 'done';
  // Generous: every transition, its racing twin, and inbox reads; a stuck run stops here.
  const requestCap = settings.expectedTransitions * 3 + 10_000;
  const fail = (what: string, status: number, body: string) => {
    otherStatuses[String(status)] = (otherStatuses[String(status)] ?? 0) + 1;
    if (errorSamples.length < 10) errorSamples.push(`${what}: ${status || 'no answer'} ${body.slice(0, 300)}`);
  };

  /** Reads both inboxes (as client `client`), queueing the tasks not seen before; a racing task twice. */
  const refill = async (client: number) => {
    lastRefillAt = performance.now();
    const quiet = inFlight === 0 && queue.length === 0;
    let added = 0;
    for (const approver of ['custodian', 'head'] as const) {
      const started = performance.now();
      const answer = await call(
        'GET',
        `/api/v1/tasks?status=pending&limit=${settings.pageSize}`,
        tokens[approver][client]!,
      );
      listLatencies.push(performance.now() - started);
      if (answer.status !== 200) {
        fail(`GET /api/v1/tasks as ${approver}`, answer.status, answer.body);
        continue;
      }
      const { items } = JSON.parse(answer.body) as {
        items: Array<{ id: string; applicationId: string; level: number }>;
      };
      for (const item of items) {
        if (seen.has(item.id)) continue;
        uniqueTasks += 1;
        const raced = settings.raceEvery > 0 && uniqueTasks % settings.raceEvery === 0;
        const outcome: TaskOutcome = {
          id: item.id,
          applicationId: item.applicationId,
          level: item.level,
          raced,
          ok: 0,
          conflict: 0,
          other: 0,
        };
        seen.set(item.id, outcome);
        queue.push({ outcome, approver });
        if (raced) queue.push({ outcome, approver });
        added += 1;
      }
    }
    // Nothing was being approved while both inboxes were read, and they held nothing new: finished.
    if (quiet && added === 0 && queue.length === 0 && inFlight === 0) done = true;
  };

  const approve = async (client: number, entry: Entry) => {
    inFlight += 1;
    approveCalls += 1;
    const started = performance.now();
    const answer = await call(
      'POST',
      `/api/v1/tasks/${entry.outcome.id}/approve`,
      tokens[entry.approver][client]!,
      '{}',
    );
    const ms = performance.now() - started;
    inFlight -= 1;
    lastAnswer = performance.now();
    latencies.push(ms);
    if (answer.status === 200) {
      ok += 1;
      entry.outcome.ok += 1;
      okLatencies.push(ms);
    } else if (answer.status === 409 && answer.body.includes('task_already_decided')) {
      conflicts += 1;
      entry.outcome.conflict += 1;
    } else {
      entry.outcome.other += 1;
      fail(`POST /api/v1/tasks/${entry.outcome.id}/approve`, answer.status, answer.body);
    }
  };

  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + settings.deadlineSeconds * 1000;
  const client = async (index: number) => {
    while (!done) {
      if (performance.now() > deadline) {
        stoppedBy = 'deadline';
        done = true;
        break;
      }
      if (approveCalls + listLatencies.length >= requestCap) {
        stoppedBy = 'request cap';
        done = true;
        break;
      }
      // Low on work: this client reads the inboxes (one reader at a time, at most every 20 ms unless idle).
      const idle = queue.length === 0 && inFlight === 0;
      if (!refilling && queue.length < concurrency && (idle || performance.now() - lastRefillAt > 20)) {
        refilling = refill(index).finally(() => (refilling = null));
        await refilling;
        continue;
      }
      const entry = queue.shift();
      if (entry) {
        await approve(index, entry);
        continue;
      }
      // Nothing queued: wait for the inbox read under way, or for the approvals in flight to open level 2.
      if (refilling) await refilling;
      else await sleep(2);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => client(i)));

  const sorted = [...latencies].sort((a, b) => a - b);
  const sortedOk = [...okLatencies].sort((a, b) => a - b);
  const sortedList = [...listLatencies].sort((a, b) => a - b);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    seconds: ((lastAnswer || performance.now()) - started) / 1000,
    approveCalls,
    ok,
    conflicts,
    otherStatuses,
    errorSamples,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? 0,
    },
    okLatencyMs: { p50: percentile(sortedOk, 50), p99: percentile(sortedOk, 99) },
    listCalls: listLatencies.length,
    listLatencyMs: { p50: percentile(sortedList, 50), max: sortedList.at(-1) ?? 0 },
    tasks: [...seen.values()],
    stoppedBy,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`approve-load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
