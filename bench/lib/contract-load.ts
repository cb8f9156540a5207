// Child process: the contracts load. CLIENTS clients, each with a stamper's session (an employee
// holding a grant for the contract's category on the company's electronic seal) and a second
// signer's session, take turns through whole contracts, one after another:
//
//   POST /api/v1/contracts (a PDF uploaded beforehand; step 1 our company, sealed by the stamper,
//   step 2 the second signer as a person) → POST /contracts/:id/send → POST /contracts/:id/sign
//   as the stamper → POST /contracts/:id/sign as the second signer, whose answer says completed.
//
// Runs one round per line of stdin: its settings (with the tokens and each client's documents)
// as JSON; prints that round's outcome as one line of JSON on stdout, then waits for the next
// line (a warm-up round, then the measured one, in one process whose own code is compiled by
// then). Ends when stdin ends. Loopback only. A round starts no contract after its time is up
// (contracts under way then are finished, not counted) or once a client has used its documents.
//
//   node --import tsx bench/lib/contract-load.ts < settings.jsonl
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';

export interface ContractLoadSettings {
  baseUrl: string;
  /** Client i sends and seals with stamperTokens[i] (stamperIds[i]) and signs step 2 with personTokens[i]. */
  stamperTokens: string[];
  stamperIds: string[];
  personTokens: string[];
  personIds: string[];
  companyId: string;
  sealId: string;
  category: string;
  /** The text the company's seal is centred on. */
  keyword: string;
  /** Per client, the SHA-256 of PDFs it uploaded, one per contract. */
  documents: string[][];
  /** No contract starts after this many seconds. */
  seconds: number;
  requestTimeoutMs: number;
}

export type Step = 'create' | 'send' | 'seal' | 'sign';
const STEPS: Step[] = ['create', 'send', 'seal', 'sign'];

export interface Latency {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface ContractLoadResult {
  /** From the first request to the end of the window: the time is up, or a client had no document left. */
  windowSeconds: number;
  /** Why the window ended. */
  windowEnd: 'time' | 'documents';
  /** Contracts whose last signature was answered within the window (the figure), and after it (not counted). */
  completedInWindow: number;
  completedAfter: number;
  /** Signatures answered (200) within the window: the company's seal and the person's signature. */
  signaturesInWindow: number;
  /** Contracts begun; those that did not complete (a request failed) are counted in `failedContracts`. */
  started: number;
  failedContracts: number;
  /** Whole contract, create → last signature, ms: of those completed within the window. */
  total: Latency;
  /** Per request, ms, all of the round. */
  steps: Record<Step, Latency>;
  /** Answers other than the expected one, by status (0 = no answer / broken connection). */
  otherStatuses: Record<string, number>;
  errorSamples: string[];
  /** Every contract completed in the round, for the database check. */
  completedIds: string[];
  /** From the first request to the last answer of the round. */
  seconds: number;
  /** CPU this process used (user + system), in seconds. */
  cpuSeconds: number;
}

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

async function main(): Promise<void> {
  let pool: { origin: string; connections: number; pool: Pool } | undefined;
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const settings = JSON.parse(line) as ContractLoadSettings;
    const base = new URL(settings.baseUrl);
    if (base.hostname !== '127.0.0.1') throw new Error(`load goes to 127.0.0.1 only, not ${base.hostname}`);
    // One keep-alive connection per client, kept from round to round.
    const connections = settings.documents.length;
    if (pool?.origin !== base.origin || pool.connections !== connections) {
      await pool?.pool.close();
      pool = { origin: base.origin, connections, pool: new Pool(base.origin, { connections, pipelining: 1 }) };
    }
    const result = await round(settings, pool.pool);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  await pool?.pool.close();
}

async function round(settings: ContractLoadSettings, pool: Pool): Promise<ContractLoadResult> {
  const clients = settings.documents.length;
  for (const list of [settings.stamperTokens, settings.stamperIds, settings.personTokens, settings.personIds])
    if (list.length < clients) throw new Error('one stamper and one second signer (id and session) per client');

  const call = async (
    path: string,
    token: string,
    body: unknown,
  ): Promise<{ status: number; body: string; at: number; ms: number }> => {
    const started = performance.now();
    try {
      const answer = await pool.request({
        path,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        headersTimeout: settings.requestTimeoutMs,
        bodyTimeout: settings.requestTimeoutMs,
      });
      const text = await answer.body.text();
      const at = performance.now();
      return { status: answer.statusCode, body: text, at, ms: at - started };
    } catch (error) {
      const at = performance.now();
      return { status: 0, body: String(error), at, ms: at - started };
    }
  };

  const stepSamples: Record<Step, number[]> = { create: [], send: [], seal: [], sign: [] };
  const otherStatuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  const totals: number[] = [];
  const signatureTimes: number[] = [];
  const completions: Array<{ id: string; at: number; ms: number }> = [];
  let started = 0;
  let failedContracts = 0;
  let lastAnswer = 0;
  const fail = (what: string, status: number, body: string) => {
    otherStatuses[String(status)] = (otherStatuses[String(status)] ?? 0) + 1;
    if (errorSamples.length < 10) errorSamples.push(`${what}: ${status || 'no answer'} ${body.slice(0, 300)}`);
  };

  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + settings.seconds * 1000;
  let windowEnd = deadline;
  let windowEndReason: ContractLoadResult['windowEnd'] = 'time';

  /** One contract through its four requests; false when a request failed (the contract is left as it is). */
  const contract = async (client: number, documentSha256: string, n: number): Promise<boolean> => {
    const stamper = settings.stamperTokens[client]!;
    const person = settings.personTokens[client]!;
    const begin = performance.now();
    const step = async (name: Step, path: string, token: string, body: unknown, expect: number) => {
      const answer = await call(path, token, body);
      lastAnswer = answer.at;
      stepSamples[name].push(answer.ms);
      if (answer.status !== expect) {
        fail(`${name} ${path}`, answer.status, answer.body);
        return null;
      }
      return answer;
    };
    const created = await step(
      'create',
      '/api/v1/contracts',
      stamper,
      {
        title: `采购合同（压测）No. ${n}`,
        category: settings.category,
        documentSha256,
        participants: [
          {
            role: 'signer',
            step: 1,
            kind: 'company',
            companyId: settings.companyId,
            sealId: settings.sealId,
            userId: settings.stamperIds[client],
          },
          { role: 'signer', step: 2, kind: 'person', userId: settings.personIds[client] },
        ],
        fields: [{ participant: 0, type: 'company_seal', keyword: settings.keyword }],
      },
      201,
    );
    if (!created) return false;
    const id = (JSON.parse(created.body) as { id: string }).id;
    if (!(await step('send', `/api/v1/contracts/${id}/send`, stamper, {}, 200))) return false;
    const sealed = await step('seal', `/api/v1/contracts/${id}/sign`, stamper, {}, 200);
    if (!sealed) return false;
    signatureTimes.push(sealed.at);
    const signed = await step('sign', `/api/v1/contracts/${id}/sign`, person, {}, 200);
    if (!signed) return false;
    signatureTimes.push(signed.at);
    const status = (JSON.parse(signed.body) as { status: string }).status;
    if (status !== 'completed') {
      fail(`contract ${id} after both signatures`, 200, `status ${status}`);
      return false;
    }
    completions.push({ id, at: signed.at, ms: signed.at - begin });
    return true;
  };

  let numbered = 0;
  const client = async (index: number) => {
    const documents = settings.documents[index]!;
    for (let next = 0; ; next++) {
      if (performance.now() >= windowEnd) return;
      const documentSha256 = documents[next];
      if (documentSha256 === undefined) {
        // This client has no document left: the window closes now for everyone, so the rate is not
        // diluted by clients standing idle.
        if (performance.now() < windowEnd) {
          windowEnd = performance.now();
          windowEndReason = 'documents';
        }
        return;
      }
      started += 1;
      if (!(await contract(index, documentSha256, ++numbered))) failedContracts += 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));

  const inWindow = completions.filter((c) => c.at <= windowEnd);
  for (const c of inWindow) totals.push(c.ms);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    windowSeconds: (windowEnd - t0) / 1000,
    windowEnd: windowEndReason,
    completedInWindow: inWindow.length,
    completedAfter: completions.length - inWindow.length,
    signaturesInWindow: signatureTimes.filter((at) => at <= windowEnd).length,
    started,
    failedContracts,
    total: latency(totals),
    steps: Object.fromEntries(STEPS.map((s) => [s, latency(stepSamples[s])])) as Record<Step, Latency>,
    otherStatuses,
    errorSamples,
    completedIds: completions.map((c) => c.id),
    seconds: ((lastAnswer || performance.now()) - t0) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`contract-load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
