import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { ROOT } from './server.js';
import type { Resources } from './resources.js';

const require = createRequire(import.meta.url);
const AUTOCANNON_CLI = require.resolve('autocannon/autocannon.js', { paths: [ROOT] });

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
}

export interface LoadResult {
  /** Mean of the per-second request counts. */
  requestsPerSecond: number;
  /** Completed requests in all. */
  requests: number;
  /** Requests sent, including those still unanswered when the run stopped (the server serves those too). */
  sent: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  seconds: number;
}

/** A request not answered within this long counts as failed (autocannon resets its connection). */
export const REQUEST_TIMEOUT_SECONDS = 10;

/** The subset of autocannon's JSON result read here. */
interface AutocannonJson {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
  latency: { p50: number; p99: number; max: number };
  requests: { average: number; total: number; sent: number };
}

/**
 * Drives load with autocannon in a process of its own, so the load generator never shares an
 * event loop with the bench or the server. Loopback only; bounded by duration plus a margin.
 */
export async function runLoad(resources: Resources, options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  if (url.hostname !== '127.0.0.1') throw new Error(`load goes to 127.0.0.1 only, not ${url.hostname}`);
  const args = [
    AUTOCANNON_CLI,
    '-c',
    String(options.connections),
    '-d',
    String(options.seconds),
    '-t',
    String(REQUEST_TIMEOUT_SECONDS),
    '-j',
    '-n',
  ];
  for (const [key, value] of Object.entries(options.headers ?? {})) args.push('-H', `${key}=${value}`);
  args.push(url.toString());

  const child = resources.child(spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const limitMs = (options.seconds + 30) * 1000;
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  clearTimeout(timer);
  if (status !== 0) throw new Error(`autocannon ended with status ${status ?? 'killed'}: ${stderr.slice(-1000)}`);

  let json: AutocannonJson;
  try {
    json = JSON.parse(stdout) as AutocannonJson;
  } catch {
    throw new Error(`autocannon printed no JSON result: ${stdout.slice(0, 500)} ${stderr.slice(-500)}`);
  }
  return {
    requestsPerSecond: json.requests.average,
    requests: json.requests.total,
    sent: json.requests.sent,
    latencyP50Ms: json.latency.p50,
    latencyP99Ms: json.latency.p99,
    latencyMaxMs: json.latency.max,
    non2xx: json.non2xx,
    errors: json.errors,
    timeouts: json.timeouts,
    statusCodes: Object.fromEntries(Object.entries(json.statusCodeStats).map(([code, stat]) => [code, stat.count])),
    seconds: json.duration,
  };
}
