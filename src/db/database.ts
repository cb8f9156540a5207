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
 * The BEGIN of a transaction, sent with the transaction's first statement: one write and one
 * round trip instead of two. Kysely awaits BEGIN before its first statement, so BEGIN is answered
 * at once and kept back (`owed`); the statement then goes out after BEGIN's Parse, Bind and
 * Execute, with its own messages and a single Sync. Should BEGIN fail, PostgreSQL skips everything up to that
 * Sync: the statement never runs outside the transaction. BEGIN's answers (ParseComplete,
 * BindComplete, CommandComplete) are taken here; the rest goes to the statement's own query.
 */
class AfterBegin {
  /** For the bench's statement counter: what was sent ahead of `text`. */
  readonly leading = 'begin';
  private begun = false;

  constructor(private readonly statement: pg.Query & PgQueryInternals) {}

  // The client reads these of its active query: the name as BEGIN's ParseComplete arrives would
  // mark the statement parsed before it is.
  get name(): string | undefined {
    return this.begun ? this.statement.name : undefined;
  }
  get text(): string {
    return this.statement.text;
  }
  get _result(): unknown {
    return this.statement._result;
  }

  submit(connection: PgConnection): Error | null {
    connection.stream.cork();
    try {
      connection.parse({ text: 'begin', name: '', types: [] });
      connection.bind({ portal: '', statement: '', values: [] });
      connection.execute({ portal: '', rows: 0 });
      return this.statement.submit(connection);
    } finally {
      connection.stream.uncork();
    }
  }

  handleCommandComplete(message: unknown, connection: PgConnection): void {
    if (!this.begun) {
      this.begun = true;
      return;
    }
    this.statement.handleCommandComplete(message, connection);
  }
  handleError(error: unknown, connection: PgConnection): void {
    // BEGIN failed, and the statement was skipped with it: its Parse (if any) never ran.
    if (!this.begun && this.statement.name) delete connection.submittedNamedStatements[this.statement.name];
    this.statement.handleError(error, connection);
  }
  handleRowDescription(message: unknown): void {
    this.statement.handleRowDescription(message);
  }
  handleDataRow(message: unknown): void {
    this.statement.handleDataRow(message);
  }
  handleEmptyQuery(connection: PgConnection): void {
    this.statement.handleEmptyQuery(connection);
  }
  handlePortalSuspended(connection: PgConnection): void {
    this.statement.handlePortalSuspended(connection);
  }
  handleCopyInResponse(connection: PgConnection): void {
    this.statement.handleCopyInResponse(connection);
  }
  handleCopyData(message: unknown, connection: PgConnection): void {
    this.statement.handleCopyData(message, connection);
  }
  handleReadyForQuery(connection: PgConnection): void {
    this.statement.handleReadyForQuery(connection);
  }
}

/** What `AfterBegin` uses of node-postgres' connection and query, which its types do not declare. */
interface PgConnection {
  stream: { cork(): void; uncork(): void };
  submittedNamedStatements: Record<string, string>;
  parse(message: { text: string; name: string; types: unknown[] }): void;
  bind(message: { portal: string; statement: string; values: unknown[] }): void;
  execute(message: { portal: string; rows: number }): void;
}
interface PgQueryInternals {
  name?: string;
  text: string;
  _result: unknown;
  submit(connection: PgConnection): Error | null;
  handleCommandComplete(message: unknown, connection: PgConnection): void;
  handleError(error: unknown, connection: PgConnection): void;
  handleRowDescription(message: unknown): void;
  handleDataRow(message: unknown): void;
  handleEmptyQuery(connection: PgConnection): void;
  handlePortalSuspended(connection: PgConnection): void;
  handleCopyInResponse(connection: PgConnection): void;
  handleCopyData(message: unknown, connection: PgConnection): void;
  handleReadyForQuery(connection: PgConnection): void;
}

const answered = (command: 'BEGIN' | 'COMMIT' | 'ROLLBACK') =>
  Promise.resolve({ command, rowCount: null, oid: 0, rows: [], fields: [] });

/** Clients whose BEGIN is kept back, to be forgotten when one goes back to the pool. */
const owedBegins = new WeakMap<pg.PoolClient, { owed: boolean }>();

/**
 * Two things for every pooled connection, in one wrapper of its `query`:
 *
 * - Every parameterised statement that runs a second time gets a name on this connection, so
 *   PostgreSQL parses it once instead of at every execution (Kysely sends the same text for the
 *   same query shape) and may keep its plan: PostgreSQL's own plan cache decides, keeping
 *   per-execution plans where a generic one would cost more (a prefix search on a company path).
 *   A text run once (a list of a length never seen before) is not named, so such texts cannot use
 *   up the names. A statement the server no longer holds fails that once, and the next run
 *   prepares it anew under another name.
 * - A transaction's BEGIN goes with its first parameterised statement (`AfterBegin`); before one
 *   without parameters (sent as a simple query, which may hold several statements) it goes on
 *   its own first. A transaction with no statement sends nothing.
 */
function tuneConnection(client: pg.PoolClient, Query: typeof pg.Query): void {
  const names = new Map<string, string>();
  const seen = new Set<string>();
  let next = 0;
  const state = { owed: false };
  owedBegins.set(client, state);
  const query = client.query.bind(client) as (config: unknown, values?: unknown[]) => Promise<pg.QueryResult>;

  const nameOf = (text: string): string | undefined => {
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
    return name;
  };

  const forgetIfStale = (text: string, name: string | undefined) => (error: unknown) => {
    if (name !== undefined && isStalePrepared(error) && names.get(text) === name) {
      names.delete(text);
      seen.add(text);
    }
    throw error;
  };

  const parameterised = (text: string, values: unknown[]): Promise<pg.QueryResult> => {
    const name = nameOf(text);
    const config = name === undefined ? { text, values } : { name, text, values };
    if (!state.owed) return query(config).catch(forgetIfStale(text, name));
    state.owed = false;
    return new Promise<pg.QueryResult>((resolve, reject) => {
      const statement = new Query(config, undefined, (error: Error | undefined, result: pg.QueryResult) =>
        error ? reject(error) : resolve(result),
      ) as pg.Query & PgQueryInternals;
      void query(new AfterBegin(statement));
    }).catch(forgetIfStale(text, name));
  };

  const original = client.query;
  client.query = function tunedQuery(this: pg.PoolClient, ...args: unknown[]) {
    const [text, values] = args;
    if (args.length <= 2 && typeof text === 'string' && (values === undefined || Array.isArray(values))) {
      if (values !== undefined && values.length > 0) return parameterised(text, values);
      const word = text.trim().toLowerCase();
      if (word === 'begin' && !state.owed) {
        state.owed = true;
        return answered('BEGIN');
      }
      if (state.owed && (word === 'commit' || word === 'rollback')) {
        state.owed = false;
        return answered(word === 'commit' ? 'COMMIT' : 'ROLLBACK');
      }
      if (state.owed) {
        state.owed = false;
        // A failed BEGIN must keep the statement from running outside a transaction.
        return query('begin').then(() => query(text, values));
      }
    } else if (state.owed) {
      // Anything else (a callback, a query object): BEGIN first, in the client's queue before it;
      // should BEGIN fail, the connection is closed before the next query is written.
      state.owed = false;
      void query({
        text: 'begin',
        callback: (error: Error | null) => {
          if (error) (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
        },
      });
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args);
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
    pool.on('connect', (client) => tuneConnection(client, driver.Query));
    // A client given back with a BEGIN still kept (no statement, no COMMIT) owes nothing to the next.
    pool.on('release', (_error, client) => {
      const state = owedBegins.get(client);
      if (state) state.owed = false;
    });
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
