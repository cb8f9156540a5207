// Child process: adds COUNT users to the demo group the way `sigil demo` seeds people (the
// repositories' insertUser and recordAudit, in one transaction, with one shared password hash),
// so a thousand users cost seconds instead of a thousand scrypt hashes through the API.
// Runs the built code (dist/), like the server under test; no server may hold the PGlite
// directory meanwhile. Reads SIGIL_DATA_DIR and DATABASE_URL; prints {"created":N,"seconds":S}.
//
//   node --import tsx bench/lib/seed-users.ts COUNT
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { ROOT } from './server.js';

type DatabaseModule = typeof import('../../src/db/database.js');
type AuthRepository = typeof import('../../src/modules/auth/auth.repository.js');
type UserRepository = typeof import('../../src/modules/users/user.repository.js');
type AuditService = typeof import('../../src/modules/audit/audit.service.js');
type Secrets = typeof import('../../src/lib/secrets.js');
type Ids = typeof import('../../src/lib/ids.js');

const built = <T>(path: string): Promise<T> => import(pathToFileURL(join(ROOT, 'dist', path)).href) as Promise<T>;

/** The demo's system administrator: the new users join the group and head company. */
const ANCHOR_EMAIL = 'sysadmin@demo.sigil.local';

async function main(): Promise<void> {
  const count = Number(process.argv[2]);
  if (!Number.isInteger(count) || count < 0) throw new Error('usage: seed-users.ts COUNT');
  const dataDir = process.env.SIGIL_DATA_DIR;
  if (!dataDir) throw new Error('SIGIL_DATA_DIR is not set');

  const [{ openDatabase }, auth, users, audit, secrets, ids] = await Promise.all([
    built<DatabaseModule>('db/database.js'),
    built<AuthRepository>('modules/auth/auth.repository.js'),
    built<UserRepository>('modules/users/user.repository.js'),
    built<AuditService>('modules/audit/audit.service.js'),
    built<Secrets>('lib/secrets.js'),
    built<Ids>('lib/ids.js'),
  ]);
  const started = performance.now();
  // The same place `sigil serve` keeps the embedded database (src/server/runtime.ts).
  const database = await openDatabase({
    databaseUrl: process.env.DATABASE_URL,
    dataDir: join(dataDir, 'pglite'),
    poolSize: 2,
  });
  try {
    const anchor = await auth.findLoginUser(database.db, { email: ANCHOR_EMAIL }, { lock: false });
    if (!anchor) throw new Error(`${ANCHOR_EMAIL} not found: run sigil demo first`);
    const passwordHash = await secrets.hashPassword(`bench-${ids.newId()}`);
    const actor = { system: 'bench-seed' };
    await database.db.transaction().execute(async (trx) => {
      for (let i = 1; i <= count; i++) {
        const n = String(i).padStart(5, '0');
        const id = ids.newId();
        const row = { email: `bench.${n}@bench.sigil.local`, name: `测试用户${n}` };
        await users.insertUser(trx, {
          id,
          groupId: anchor.groupId,
          companyId: anchor.companyId,
          departmentId: null,
          ...row,
          phone: null,
          locale: 'zh-CN',
          passwordHash,
        });
        await audit.recordAudit(trx, {
          groupId: anchor.groupId,
          actor,
          event: {
            action: 'user.created',
            target: { type: 'user', id },
            companyId: anchor.companyId,
            changes: { ...row, companyId: anchor.companyId, departmentId: null },
          },
        });
      }
    });
    // Statistics and the visibility map after the bulk load, as `sigil demo` leaves them and autovacuum would within a minute.
    await sql`vacuum analyze users`.execute(database.db);
  } finally {
    await database.close();
  }
  process.stdout.write(`${JSON.stringify({ created: count, seconds: (performance.now() - started) / 1000 })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`seed-users: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
