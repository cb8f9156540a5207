import pg from 'pg';
import type { Resources } from './resources.js';

export const DEFAULT_POSTGRES_URL = 'postgres://sigil:sigil@127.0.0.1:5432/sigil';
const BENCH_DATABASE = 'sigil_bench';

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
