import { readFileSync } from 'node:fs';
import pg from 'pg';
import { sleep, type Resources } from './resources.js';
import { cpuSeconds } from './server.js';

export const DEFAULT_POSTGRES_URL = 'postgres://sigil:sigil@127.0.0.1:5432/sigil';
/**
 * The database the runs create and drop. Engineers sharing one PostgreSQL server give each their
 * own (BENCH_DATABASE_NAME), or one's run drops the other's database mid-run.
 */
const BENCH_DATABASE = process.env.BENCH_DATABASE_NAME ?? 'sigil_bench';
if (!/^[a-z_][a-z0-9_]{0,62}$/.test(BENCH_DATABASE))
  throw new Error(`BENCH_DATABASE_NAME must be a plain lower-case identifier, not ${BENCH_DATABASE}`);

/** The server the PostgreSQL runs use: BENCH_DATABASE_URL, else DATABASE_URL, else the local default. */
export function adminUrl(): string {
  return process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || DEFAULT_POSTGRES_URL;
}

/** The URL without its password, for printing. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
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

/** Why PostgreSQL cannot be used, or null when it answers. */
export async function unreachable(url: string): Promise<string | null> {
  try {
    await withClient(url, (client) => client.query('select 1'));
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export interface BenchDatabase {
  /** For the server under test. */
  url: string;
  name: string;
  /** Transactions committed in the database so far (pg_stat_database), to count queries per request. */
  committedTransactions(): Promise<number>;
}

/**
 * A fresh, empty database on the server (dropped first if a crashed run left it),
 * dropped again when the run's resources are released. `name`: another than `sigil_bench`.
 */
export async function createBenchDatabase(
  resources: Resources,
  serverUrl: string,
  name = BENCH_DATABASE,
): Promise<BenchDatabase> {
  await withClient(serverUrl, async (client) => {
    await client.query(`drop database if exists ${name} with (force)`);
    await client.query(`create database ${name}`);
  });
  resources.defer(`drop database ${name}`, () =>
    withClient(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`)).then(
      () => undefined,
    ),
  );
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    committedTransactions: () =>
      withClient(serverUrl, async (client) => {
        // Read fresh counters, not the snapshot a previous read in this transaction cached.
        await client.query('select pg_stat_clear_snapshot()');
        const result = await client.query<{ n: string }>(
          'select xact_commit::text as n from pg_stat_database where datname = $1',
          [name],
        );
        return Number(result.rows[0]?.n ?? 0);
      }),
  };
}

/** e.g. "PostgreSQL 15.18". */
export async function serverVersion(url: string): Promise<string> {
  return withClient(url, async (client) => {
    const result = await client.query<{ v: string }>("select current_setting('server_version') as v");
    return `PostgreSQL ${(result.rows[0]?.v ?? '?').split(' ')[0]}`;
  });
}

/**
 * The CPU of the bench database's client backends (/proc, when PostgreSQL runs here), sampled every
 * 250 ms until stopped, per backend from when first seen to when last seen: the server's pool opens
 * and closes connections, and other databases' backends are not ours. Reads pg_stat_activity over
 * a connection to the server's own database, so the samples are not commits of the bench database.
 */
export async function startBackendCpu(serverUrl: string, databaseName: string) {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  await client.connect();
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const sample = async (initial: boolean) => {
    const { rows } = await client.query<{ pid: number }>(
      `select pid from pg_stat_activity where datname = $1 and backend_type = 'client backend'`,
      [databaseName],
    );
    for (const { pid } of rows) {
      const cpu = postgresCpuSeconds(pid);
      if (cpu === null) continue;
      // A backend first seen after the start did all its work since.
      if (!first.has(pid)) first.set(pid, initial ? cpu : 0);
      last.set(pid, cpu);
    }
  };
  await sample(true);
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped && i < 100_000; i++) {
      await sleep(250);
      await sample(false);
    }
  })();
  return {
    async stop(): Promise<number | null> {
      stopped = true;
      await loop.catch(() => undefined);
      for (const pid of first.keys()) {
        const cpu = postgresCpuSeconds(pid);
        if (cpu !== null) last.set(pid, cpu);
      }
      await client.end().catch(() => undefined);
      if (first.size === 0) return null;
      let seconds = 0;
      for (const [pid, end] of last) seconds += Math.max(0, end - (first.get(pid) ?? 0));
      return seconds;
    },
  };
}

/** CPU seconds of a PostgreSQL process on this machine, or null (no /proc, another process, or PostgreSQL runs elsewhere). */
function postgresCpuSeconds(pid: number): number | null {
  try {
    if (!readFileSync(`/proc/${pid}/stat`, 'utf8').includes('(postgres)')) return null;
    return cpuSeconds(pid);
  } catch {
    return null;
  }
}
