import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { killChild, type Resources } from './resources.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SIGIL_BIN = join(ROOT, 'bin', 'sigil.js');
export const BENCH_OUT = join(ROOT, '.bench');
const LOG_DIR = join(BENCH_OUT, 'logs');

/** Where the server under test keeps its state. */
export interface Target {
  dataDir: string;
  /** PostgreSQL database for the server; absent means the embedded PGlite. */
  databaseUrl?: string | undefined;
  /** Settings the server under test runs with (SIGIL_* names), beyond the defaults. */
  settings?: Record<string, string>;
}

/**
 * The environment of every `sigil` child: the bench's own, minus anything that would
 * change what is measured (an inherited DATABASE_URL, SIGIL_* settings — an unknown
 * SIGIL_* variable even stops the server), plus the target.
 */
export function sigilEnv(target: Target, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      key.startsWith('SIGIL_') ||
      key.startsWith('DATABASE_') ||
      key === 'PORT' ||
      key === 'HOST' ||
      key === 'LOG_LEVEL' ||
      key === 'NODE_OPTIONS'
    )
      continue;
    env[key] = value;
  }
  env.SIGIL_DATA_DIR = target.dataDir;
  env.LOG_LEVEL = 'warn';
  env.HOST = '127.0.0.1';
  if (target.databaseUrl) env.DATABASE_URL = target.databaseUrl;
  return { ...env, ...target.settings, ...extra };
}

/** A port nobody listens on right now, on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function logStream(label: string) {
  mkdirSync(LOG_DIR, { recursive: true });
  const file = join(LOG_DIR, `${label}.log`);
  return { file, stream: createWriteStream(file) };
}

/** Runs a `sigil` command to completion (bounded), failing with its output on a non-zero status. */
export async function runSigil(
  resources: Resources,
  label: string,
  args: string[],
  target: Target,
  timeoutMs = 120_000,
): Promise<string> {
  return runNode(resources, label, [SIGIL_BIN, ...args], target, timeoutMs);
}

/** Runs `node <args>` with the target's environment to completion (bounded); returns its stdout, fails with its output. */
export async function runNode(
  resources: Resources,
  label: string,
  args: string[],
  target: Target,
  timeoutMs = 120_000,
): Promise<string> {
  const { file, stream } = logStream(label);
  const child = resources.child(
    spawn(process.execPath, args, { cwd: ROOT, env: sigilEnv(target), stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let stdout = '';
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    output += chunk.toString();
    stream.write(chunk);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stream.write(chunk);
  });
  const timer = setTimeout(() => void killChild(child, 2_000), timeoutMs);
  // 'close' comes after 'exit' once stdout and stderr are drained.
  const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  clearTimeout(timer);
  stream.end();
  if (status !== 0)
    throw new Error(
      `${label} ended with status ${status ?? `killed (after ${timeoutMs / 1000} s?)`}; see ${file}\n${output.slice(-2000)}`,
    );
  return stdout;
}

export interface RunningServer {
  pid: number;
  baseUrl: string;
  /** From spawn until GET /readyz first answered 200. */
  readySeconds: number;
  logFile: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `sigil serve` on a free loopback port and waits (bounded) for /readyz to answer 200.
 * `nodeArgs` go to the server's node (e.g. --cpu-prof); BENCH_SERVER_NODE_ARGS adds more.
 */
export async function startServer(
  resources: Resources,
  label: string,
  target: Target,
  options: { timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<RunningServer> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const { file, stream } = logStream(label);
  const extraArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const args = [...extraArgs, ...(options.nodeArgs ?? []), SIGIL_BIN, 'serve', '--port', String(port)];

  const started = performance.now();
  const child = resources.child(
    spawn(process.execPath, args, { cwd: ROOT, env: sigilEnv(target), stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  child.stdout!.pipe(stream, { end: false });
  child.stderr!.pipe(stream, { end: false });
  let exitStatus: string | null = null;
  child.once('exit', (code, signal) => {
    exitStatus = signal ?? String(code);
  });

  const closed = new Promise<void>((resolve) =>
    child.once('close', () => {
      stream.end();
      resolve();
    }),
  );
  const stop = async () => {
    await killChild(child);
    await closed;
  };

  try {
    const readySeconds = await waitReady(baseUrl, started, timeoutMs, () => exitStatus);
    return { pid: child.pid!, baseUrl, readySeconds, logFile: file, child, stop };
  } catch (error) {
    await stop();
    const log = readFileSync(file, 'utf8').slice(-2000);
    throw new Error(`${label}: ${error instanceof Error ? error.message : String(error)}; log ${file}:\n${log}`);
  }
}

async function waitReady(
  baseUrl: string,
  started: number,
  timeoutMs: number,
  exited: () => string | null,
): Promise<number> {
  const deadline = started + timeoutMs;
  let last = 'no answer';
  while (performance.now() < deadline) {
    const status = exited();
    if (status !== null) throw new Error(`the server exited (${status}) before it was ready`);
    try {
      const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return (performance.now() - started) / 1000;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`not ready within ${timeoutMs / 1000} s (last: ${last})`);
}

/** Resident set size of a process, from /proc/<pid>/status, in MB (MiB). Null where /proc is absent. */
export function rssMegabytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. Null where /proc is absent. */
export function cpuSeconds(pid: number): number | null {
  const split = cpuSplit(pid);
  return split === null ? null : split.user + split.system;
}

/** User and system CPU seconds a process has used so far (/proc/<pid>/stat), or null where there is no /proc. */
export function cpuSplit(pid: number): { user: number; system: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    // USER_HZ is 100 on Linux
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
  } catch {
    return null;
  }
}

/** Busy and total CPU ticks of the whole machine (/proc/stat), or null where there is no /proc. */
export function machineTicks(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * How busy the whole machine is over `ms` (percent of all CPUs), from /proc/stat. Sampled while
 * nothing of the bench runs, it is other people's load, which the figures would share the CPUs with.
 */
export async function machineBusyPercent(ms = 1_000): Promise<number | null> {
  const before = machineTicks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = machineTicks();
  if (!before || !after || after.total === before.total) return null;
  return ((after.busy - before.busy) / (after.total - before.total)) * 100;
}
