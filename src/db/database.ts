import { mkdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import { PGliteDialect } from './pglite-dialect.js';
import { lockDataDir } from './data-dir-lock.js';
import type { Database, Db } from './schema.js';

export type DatabaseKind = 'pglite' | 'postgres';

export interface OpenDatabaseOptions {
  /** A PostgreSQL server; when absent the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** Where PGlite keeps its files; absent means in memory. */
  dataDir?: string | undefined;
  /** A PGlite data directory dump to start from (tests start from a migrated template). */
  loadDataDir?: Blob | undefined;
  poolSize?: number;
  /**
   * How V8 compiles PGlite's WebAssembly. `optimizing` lets hot functions move up to TurboFan:
   * about 20 % more queries per second, but each of those compiles runs on a V8 worker thread
   * whose glibc pool keeps what it used (50–90 MB of resident memory that never comes back).
   * `baseline` keeps every function on Liftoff. The setting is process-wide (V8 flags are), and
   * applies to WebAssembly compiled after the database opens. Absent leaves V8's default.
   */
  pgliteCompiler?: 'baseline' | 'optimizing';
}

export interface DatabaseHandle {
  db: Db;
  kind: DatabaseKind;
  /** The PGlite instance, when embedded (for dumps in tests). */
  pglite?: PGlite;
  close(): Promise<void>;
}

const INT8 = 20;

/**
 * node-postgres, loaded only for a PostgreSQL server (the embedded database never needs it), with
 * int8 (counts, sequence numbers) read as numbers as on PGlite; they stay far below 2^53.
 */
async function loadPg(): Promise<typeof pg> {
  const { default: driver } = await import('pg');
  driver.types.setTypeParser(INT8, (value) => Number(value));
  return driver;
}

/** At most this many statements are kept prepared on one connection; later ones run unnamed. */
const PREPARED_PER_CONNECTION = 500;
/** Texts run once on a connection, remembered until they run again; forgotten all at once past this many. */
const SEEN_PER_CONNECTION = 2_000;

/**
 * The server no longer holds the statement as it was prepared: it was deallocated (DISCARD, a
 * pooler in between), or a migration changed the columns it returns.
 */
const isStalePrepared = (error: unknown) => {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === '26000' ||
    (code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change result type'))
  );
};

/**
 * Gives every parameterised statement that runs a second time a name on this connection, so
 * PostgreSQL parses it once instead of at every execution (Kysely sends the same text for the
 * same query shape) and may keep its plan: PostgreSQL's own plan cache decides, keeping
 * per-execution plans where a generic one would cost more (a prefix search on a company path).
 * A text run once (a list of a length never seen before) is not named, so such texts cannot use
 * up the names. A statement the server no longer holds fails that once, and the next run
 * prepares it anew under another name. Plain statements (BEGIN, COMMIT) stay as they are.
 */
function prepareStatementsOn(client: pg.PoolClient): void {
  const names = new Map<string, string>();
  const seen = new Set<string>();
  let next = 0;
  const query = client.query.bind(client) as (config: pg.QueryConfig, values?: unknown[]) => Promise<pg.QueryResult>;
  const prepared = (text: unknown, values: unknown) => {
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0) return undefined;
    let name = names.get(text);
    if (name === undefined) {
      if (names.size >= PREPARED_PER_CONNECTION) return undefined;
      if (!seen.has(text)) {
        if (seen.size >= SEEN_PER_CONNECTION) seen.clear();
        seen.add(text);
        return undefined;
      }
      seen.delete(text);
      name = `sigil_${next++}`;
      names.set(text, name);
    }
    const named = name;
    return query({ name: named, text, values }).catch((error: unknown) => {
      if (isStalePrepared(error) && names.get(text) === named) {
        names.delete(text);
        seen.add(text);
      }
      throw error;
    });
  };
  const original = client.query;
  client.query = function namedQuery(this: pg.PoolClient, ...args: unknown[]) {
    return (
      (args.length <= 2 ? prepared(args[0], args[1]) : undefined) ??
      (original as (...a: unknown[]) => unknown).apply(this, args)
    );
  } as typeof client.query;
}

const serverUrls = new WeakMap<Db, string>();

/**
 * The PostgreSQL server a database handle opened by `openDatabase` talks to, for work that needs
 * connections of its own (COPY streams on worker threads); undefined for PGlite and for others.
 */
export function postgresUrlOf(db: Db): string | undefined {
  return serverUrls.get(db);
}

const closers = new WeakMap<Db, Array<() => Promise<void>>>();

/** Runs `close` when the handle of `db` closes, before its pool does (a PostgreSQL handle). */
export function onDatabaseClose(db: Db, close: () => Promise<void>): void {
  closers.set(db, [...(closers.get(db) ?? []), close]);
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    const driver = await loadPg();
    const pool = new driver.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    pool.on('connect', prepareStatementsOn);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    serverUrls.set(db, options.databaseUrl);
    return {
      db,
      kind: 'postgres',
      close: async () => {
        for (const close of closers.get(db) ?? []) await close();
        await db.destroy();
      },
    };
  }
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const unlock = options.dataDir ? lockDataDir(options.dataDir) : () => undefined;
  if (options.pgliteCompiler)
    setFlagsFromString(options.pgliteCompiler === 'baseline' ? '--liftoff-only' : '--no-liftoff-only');
  const pglite = new PGlite({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    parsers: { [INT8]: (value: string) => Number(value) },
    // The embedded database is one process among the server's, and PGlite touches all of its
    // shared memory at start: each MB of buffer pool is a MB of the server's resident memory.
    // So the pool is small (PostgreSQL's default is 128 MB) and the file system cache does the rest.
    // It has one connection: 10 (3 reserved for superusers) instead of 100 saves another 2 MB.
    postgresqlconf: ['shared_buffers=8MB', 'wal_buffers=1MB', 'max_connections=10'],
  });
  try {
    await pglite.waitReady;
  } catch (error) {
    unlock();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    pglite,
    close: async () => {
      await db.destroy();
      unlock();
    },
  };
}

export async function isDatabaseReachable(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a bulk load leaves to do: the planner's statistics (PostgreSQL never analyses very small
 * tables by itself) and the visibility map (or autovacuum does it under the first load).
 */
export async function vacuumAnalyze(db: Db): Promise<void> {
  await sql`vacuum analyze`.execute(db);
}
