import { Migrator, sql, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { Db } from './schema.js';
import * as foundation from './migrations/20261121T1000-foundation.js';
import * as jobsBlobsNotifications from './migrations/20261121T1200-jobs-blobs-notifications.js';
import * as seals from './migrations/20261121T1300-seals.js';
import * as approvals from './migrations/20261121T1400-approvals.js';
import * as userNameIndex from './migrations/20261121T1500-user-name-index.js';
import * as applicationDocuments from './migrations/20261121T1600-application-documents.js';
import * as pkiSignatures from './migrations/20261121T1700-pki-signatures.js';
import * as sealScale from './migrations/20261121T1800-seal-scale.js';
import * as auditAppend from './migrations/20261121T1900-audit-append.js';
import * as auditSealer from './migrations/20261121T2000-audit-sealer.js';
import * as auditAppendCached from './migrations/20261121T2100-audit-append-cached.js';
import * as auditSealSet from './migrations/20261121T2200-audit-seal-set.js';
import * as auditMerkle from './migrations/20261206T1000-audit-merkle.js';
import * as blobUploads from './migrations/20261206T1100-blob-uploads.js';
import * as applicationClosed from './migrations/20261206T1110-application-closed.js';
import * as sodChange from './migrations/20261206T1120-sod-change.js';
import * as passwordChange from './migrations/20261206T1130-password-change.js';
import * as signInThrottles from './migrations/20261206T1200-sign-in-throttles.js';
import * as auditTiles from './migrations/20261207T1000-audit-tiles.js';
import * as outbox from './migrations/20261207T1100-outbox.js';
import * as contracts from './migrations/20261207T1200-contracts.js';
import * as signatureOutputs from './migrations/20261207T1300-signature-outputs.js';
import * as webhooks from './migrations/20261207T1400-webhooks.js';
import * as signatureBatches from './migrations/20261207T1500-signature-batches.js';
import * as serviceAccounts from './migrations/20261208T0900-service-accounts.js';
import * as devices from './migrations/20261208T1000-devices.js';
import * as deviceUsage from './migrations/20261208T1100-device-usage.js';
import * as auditVersionIndexes from './migrations/20261208T1110-audit-version-indexes.js';
import * as contractExtras from './migrations/20261209T0900-contract-extras.js';
import * as sm2Seals from './migrations/20261209T0910-sm2-seals.js';
import * as auditSealLookup from './migrations/20261210T0900-audit-seal-lookup.js';
import * as auditLinksGroupKey from './migrations/20261210T0910-audit-links-group-key.js';

/**
 * Migrations are listed here, not discovered on disk, so the same list runs from
 * TypeScript in tests and from the compiled build. Names sort by their timestamp.
 */
const migrations: Record<string, Migration> = {
  '20261121T1000-foundation': foundation,
  '20261121T1200-jobs-blobs-notifications': jobsBlobsNotifications,
  '20261121T1300-seals': seals,
  '20261121T1400-approvals': approvals,
  '20261121T1500-user-name-index': userNameIndex,
  '20261121T1600-application-documents': applicationDocuments,
  '20261121T1700-pki-signatures': pkiSignatures,
  '20261121T1800-seal-scale': sealScale,
  '20261121T1900-audit-append': auditAppend,
  '20261121T2000-audit-sealer': auditSealer,
  '20261121T2100-audit-append-cached': auditAppendCached,
  '20261121T2200-audit-seal-set': auditSealSet,
  '20261206T1000-audit-merkle': auditMerkle,
  '20261206T1100-blob-uploads': blobUploads,
  '20261206T1110-application-closed': applicationClosed,
  '20261206T1120-sod-change': sodChange,
  '20261206T1130-password-change': passwordChange,
  '20261206T1200-sign-in-throttles': signInThrottles,
  '20261207T1000-audit-tiles': auditTiles,
  '20261207T1100-outbox': outbox,
  '20261207T1200-contracts': contracts,
  '20261207T1300-signature-outputs': signatureOutputs,
  '20261207T1400-webhooks': webhooks,
  '20261207T1500-signature-batches': signatureBatches,
  '20261208T0900-service-accounts': serviceAccounts,
  '20261208T1000-devices': devices,
  '20261208T1100-device-usage': deviceUsage,
  '20261208T1110-audit-version-indexes': auditVersionIndexes,
  '20261209T0900-contract-extras': contractExtras,
  '20261209T0910-sm2-seals': sm2Seals,
  '20261210T0900-audit-seal-lookup': auditSealLookup,
  '20261210T0910-audit-links-group-key': auditLinksGroupKey,
};

class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

const MIGRATION_TABLE = 'sigil_migrations';

function migrator(db: Db): Migrator {
  return new Migrator({
    db,
    provider: new StaticMigrationProvider(),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: 'sigil_migrations_lock',
  });
}

/**
 * Whether the database has applied exactly this build's migrations, in order (by time applied,
 * as Kysely's migrator reads them): the usual start, answered with two small queries. Kysely's
 * migrator would first look for its tables by introspecting every column of every table, twice,
 * on every start; on PGlite that much catalog work makes V8 optimise ~100 more of PostgreSQL's
 * WebAssembly functions, and the memory those compilations used stays with the process.
 * Anything else (no table yet, pending, unknown or reordered migrations) goes to the migrator.
 */
async function isUpToDate(db: Db): Promise<boolean> {
  const { rows: table } = await sql<{
    found: boolean;
  }>`select to_regclass(${MIGRATION_TABLE}) is not null as found`.execute(db);
  if (!table[0]?.found) return false;
  const { rows: applied } = await sql<{
    name: string;
  }>`select name from ${sql.table(MIGRATION_TABLE)} order by "timestamp", name`.execute(db);
  const known = migrationNames();
  return applied.length === known.length && applied.every((row, i) => row.name === known[i]);
}

function check(result: MigrationResultSet): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${String(result.error)}`, {
      cause: result.error,
    });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Applies every pending migration; returns the names applied. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  if (await isUpToDate(db)) return [];
  return check(await migrator(db).migrateToLatest());
}

/** Reverts the latest migration; returns its name. */
export async function migrateDown(db: Db): Promise<string[]> {
  return check(await migrator(db).migrateDown());
}

/** The names of every migration this build knows, in order (the bench compares them with a cached database's). */
export function migrationNames(): string[] {
  return Object.keys(migrations).sort();
}
