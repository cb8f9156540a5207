import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';

/**
 * A migrated database that outlives its connections, for restart tests: `open()` may be
 * called again after the previous handle closed, and finds everything that was committed.
 * PGlite keeps its files in a temp directory; PostgreSQL gets a database of its own.
 */
export async function openReopenableDatabase(): Promise<{
  open(): Promise<DatabaseHandle & { url?: string }>;
  dispose(): Promise<void>;
  /** PGlite: the data directory `sigil --data` takes (the database is its `pglite/`). */
  dataDir?: string;
}> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const name = `sigil_r_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${name} template ${inject('pgTemplate')}`);
    const target = new URL(url);
    target.pathname = `/${name}`;
    return {
      open: async () => ({
        ...(await openDatabase({ databaseUrl: target.toString(), poolSize: 5 })),
        url: target.toString(),
      }),
      async dispose() {
        await admin.query(`drop database if exists ${name}`);
        await admin.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'sigil-restart-'));
  const dataDir = join(dir, 'pglite');
  let first = true;
  return {
    dataDir: dir,
    async open() {
      // The first start unpacks the migrated template into the directory; later ones open what is there.
      const loadDataDir = first ? new Blob([readFileSync(inject('pgliteTemplate'))]) : undefined;
      first = false;
      return openDatabase({ dataDir, loadDataDir });
    },
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
