import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type DatabaseHandle } from '../db/database.js';
import { DataDirInUseError } from '../db/data-dir-lock.js';
import { migrateToLatest } from '../db/migrate.js';
import { seedDemo, type DemoLogins } from '../demo/index.js';
import { buildApp, type App } from './app.js';
import { ConfigError, loadMasterKey, type Config } from './config.js';
import { wireModules } from './wiring.js';
import type { AppContext } from './context.js';
import { createBlobStore } from '../blobs/create-blob-store.js';
import type { JobRunner } from '../jobs/job.runner.js';
import { createMailer } from '../transports/mailer.js';
import { createSmsGateway } from '../transports/sms-gateway.js';
import { createJobRunner } from './jobs.js';
import { listenForChanges } from '../db/changes-listener.js';
import { invalidatePrincipals } from '../modules/access/index.js';
import { OUTBOX_CHANNEL, OutboxReader } from '../outbox/outbox.js';
import { createKeyVault } from '../signing/index.js';
import { AuditSealer } from '../modules/audit/index.js';
import { Readiness } from './readiness.js';

/** The console as built by `npm run build:web`, relative to this file in src/ and in dist/. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

export interface Runtime {
  app: App;
  ctx: AppContext;
  database: DatabaseHandle;
  /** Started unless SIGIL_JOBS_ENABLED=false. */
  jobs: JobRunner;
  /** Start-up work that /readyz waits for (the demo seed, when asked for). */
  readiness: Readiness;
  close(): Promise<void>;
}

export async function openRuntime(
  config: Config,
  warn: (message: string) => void,
): Promise<{ ctx: AppContext; database: DatabaseHandle }> {
  const masterKey = loadMasterKey(config, warn);
  // The token is first used on the first key; a module path that does not exist is a start-up error instead.
  if (config.pki.pkcs11 && !existsSync(config.pki.pkcs11.library))
    throw new ConfigError([`SIGIL_PKCS11_MODULE: ${config.pki.pkcs11.library} does not exist`]);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: join(config.dataDir, 'pglite'),
    poolSize: config.databasePoolSize,
    pgliteCompiler: config.pgliteCompiler,
  }).catch((error: unknown) => {
    throw error instanceof DataDirInUseError
      ? new ConfigError([`SIGIL_DATA_DIR: the embedded database in ${error.message}`])
      : error;
  });
  try {
    await migrateToLatest(database.db);
  } catch (error) {
    await database.close();
    throw error;
  }
  wireModules();
  const ctx: AppContext = {
    db: database.db,
    dbKind: database.kind,
    config,
    masterKey,
    now: () => new Date(),
    blobs: createBlobStore(config),
    mailer: createMailer(config),
    sms: createSmsGateway(config),
    keys: createKeyVault(config.pki, masterKey),
  };
  return { ctx, database };
}

/** Opens the database, applies migrations and builds the app: everything `sigil serve` needs but the port. */
export async function startRuntime(config: Config, warn: (message: string) => void): Promise<Runtime> {
  const { ctx, database } = await openRuntime(config, warn);
  const readiness = new Readiness();
  const app = await buildApp(
    { ...ctx, config: { ...config, consoleDir: config.consoleDir ?? DEFAULT_CONSOLE_DIR } },
    { readiness },
  );
  // What changes tell the platform, read after their commit: a resignation or a revoked role
  // anywhere drops this process's cached principals.
  const outbox = new OutboxReader(
    ctx.db,
    { 'principals.changed': () => invalidatePrincipals() },
    { onError: (error, topic) => app.log.error({ err: error, topic }, 'outbox consumer failed') },
  );
  await outbox.start();
  const wake = () => void outbox.wake();
  const changes = config.databaseUrl
    ? listenForChanges({
        databaseUrl: config.databaseUrl,
        channel: OUTBOX_CHANNEL,
        onChange: wake,
        onError: (error) => app.log.warn({ err: error }, 'outbox listener lost its connection; reconnecting'),
      })
    : await listenInProcess(database, wake);
  const jobs = createJobRunner(ctx, { logger: app.log.child({ component: 'jobs' }) });
  if (config.jobs.enabled) jobs.start();
  const sealer = new AuditSealer(ctx.db, app.log.child({ component: 'audit-sealer' }), undefined, ctx);
  sealer.start();
  return {
    app,
    ctx,
    database,
    jobs,
    readiness,
    async close() {
      // Jobs first: a job in hand finishes (or is abandoned to its lease) while the database is still open.
      await jobs.stop();
      // What was committed gets linked before the database closes.
      await sealer.stop();
      await sealer.sealAll({ final: true });
      await changes.close();
      await outbox.stop();
      await app.close();
      await ctx.mailer.close();
      ctx.keys.close();
      await database.close();
    },
  };
}

const LOGINS_FILE = 'demo-logins.txt';

/** Seeds the demo group if absent and returns its logins; the password is kept (0600) in the data directory. */
export async function ensureDemo(ctx: AppContext): Promise<DemoLogins & { file: string }> {
  const file = join(ctx.config.dataDir, LOGINS_FILE);
  const result = await seedDemo(ctx);
  if (result.created && result.password) {
    writeFileSync(file, `${result.password}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return { ...result, file };
  }
  const password = existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
  return { ...result, password, file };
}

export function formatLogins(logins: DemoLogins & { file: string }, baseUrl: string): string {
  const lines = [
    '',
    `Sigil is ready: ${baseUrl}  (API docs ${baseUrl}/api/docs)`,
    '',
    'Demo logins (every demo person shares one password):',
    ...logins.logins.map((l) => `  ${l.email.padEnd(32)} ${l.name}  — ${l.role}`),
    `  password: ${logins.password ?? `(not found: see ${logins.file})`}`,
    '',
  ];
  return lines.join('\n');
}

/** PGlite delivers a notification to its own listeners once the transaction that sent it commits. */
async function listenInProcess(database: DatabaseHandle, onChange: () => void): Promise<{ close(): Promise<void> }> {
  const unlisten = await database.pglite?.listen(OUTBOX_CHANNEL, onChange);
  return { close: async () => unlisten?.() };
}
