// Child process: sets up the contracts benchmark in the demo group the way `sigil demo` seeds
// people — the built repositories and services (dist/), in one transaction, one shared password
// hash, an audit event for everything created — so the audit chain stays whole:
//
//   a company under the head company with an electronic contract seal (its impression drawn as
//   POST /seal-images/generate draws it) kept by a custodian; per client a stamper (an employee
//   holding a grant for the category) and a second signer (an employee, who signs as a person);
//   a clerk holding a grant too, for the signing batches; and bearer sessions, inserted directly
//   (no scrypt sign-in, no login rate limit).
//
// The sessions' tokens are made by the bench; this process receives only their SHA-256 hashes
// (what the sessions table stores), in the JSON file of settings named by the first argument. Reads
// DATABASE_URL (PostgreSQL only) and SIGIL_DATA_DIR (the blob store the server will use);
// prints the ids it created as one JSON line.
//
//   node --import tsx bench/lib/seed-contracts.ts SETTINGS.json
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ROOT } from './server.js';

type DatabaseModule = typeof import('../../src/db/database.js');
type ConfigModule = typeof import('../../src/server/config.js');
type BlobStoreModule = typeof import('../../src/blobs/create-blob-store.js');
type BlobService = typeof import('../../src/blobs/blob.service.js');
type RenderModule = typeof import('../../src/seal-image/render.js');
type SpecModule = typeof import('../../src/seal-image/spec.js');
type AuthRepository = typeof import('../../src/modules/auth/auth.repository.js');
type UserRepository = typeof import('../../src/modules/users/user.repository.js');
type CompanyRepository = typeof import('../../src/modules/companies/company.repository.js');
type RoleRepository = typeof import('../../src/modules/roles/role.repository.js');
type SealService = typeof import('../../src/modules/seals/seal.service.js');
type GrantRepository = typeof import('../../src/modules/grants/grant.repository.js');
type AuditService = typeof import('../../src/modules/audit/audit.service.js');
type Secrets = typeof import('../../src/lib/secrets.js');
type Ids = typeof import('../../src/lib/ids.js');

const built = <T>(path: string): Promise<T> => import(pathToFileURL(join(ROOT, 'dist', path)).href) as Promise<T>;

/** The demo's system administrator and security auditor (`sigil demo`). */
const ANCHOR_EMAIL = 'sysadmin@demo.sigil.local';
const AUDITOR_EMAIL = 'auditor@demo.sigil.local';

/** What to seed: the company's name, the grants' category, and the token hashes of the sessions to insert. */
export interface ContractSeedSettings {
  companyName: string;
  category: string;
  /** One stamper and one second signer per client, the clerk, the auditor. */
  sessions: { stampers: string[]; persons: string[]; clerk: string; auditor: string };
}

export interface ContractSeedOutput {
  groupId: string;
  companyId: string;
  sealId: string;
  sealImageSha256: string;
  custodianId: string;
  stamperIds: string[];
  personIds: string[];
  clerkId: string;
  seconds: number;
}

async function main(): Promise<void> {
  const settingsFile = process.argv[2];
  if (!settingsFile) throw new Error('usage: seed-contracts.ts SETTINGS.json');
  const {
    companyName,
    category,
    sessions: hashes,
  } = JSON.parse(readFileSync(settingsFile, 'utf8')) as ContractSeedSettings;
  if (hashes.stampers.length !== hashes.persons.length || hashes.stampers.length < 1)
    throw new Error('expected as many stamper as second-signer sessions, at least one');
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is not set (the contracts bench runs on PostgreSQL)');

  const [
    { openDatabase },
    { parseConfig },
    { createBlobStore },
    blobs,
    render,
    spec,
    auth,
    users,
    companies,
    roles,
    sealService,
    grants,
    audit,
    secrets,
    ids,
  ] = await Promise.all([
    built<DatabaseModule>('db/database.js'),
    built<ConfigModule>('server/config.js'),
    built<BlobStoreModule>('blobs/create-blob-store.js'),
    built<BlobService>('blobs/blob.service.js'),
    built<RenderModule>('seal-image/render.js'),
    built<SpecModule>('seal-image/spec.js'),
    built<AuthRepository>('modules/auth/auth.repository.js'),
    built<UserRepository>('modules/users/user.repository.js'),
    built<CompanyRepository>('modules/companies/company.repository.js'),
    built<RoleRepository>('modules/roles/role.repository.js'),
    built<SealService>('modules/seals/seal.service.js'),
    built<GrantRepository>('modules/grants/grant.repository.js'),
    built<AuditService>('modules/audit/audit.service.js'),
    built<Secrets>('lib/secrets.js'),
    built<Ids>('lib/ids.js'),
  ]);
  const started = performance.now();
  const config = parseConfig(process.env);
  const store = createBlobStore(config);
  // The impression as POST /seal-images/generate draws a round contract seal, at its default resolution.
  const impression = await render.renderSealPng(
    spec.checkSealImageSpec({ shape: 'round', company: companyName, type: '合同专用章' }),
  );
  const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, poolSize: 2 });
  try {
    const anchor = await auth.findLoginUser(database.db, { email: ANCHOR_EMAIL }, { lock: false });
    const auditor = await auth.findLoginUser(database.db, { email: AUDITOR_EMAIL }, { lock: false });
    if (!anchor || !auditor) throw new Error(`${ANCHOR_EMAIL} or ${AUDITOR_EMAIL} not found: run sigil demo first`);
    const groupId = anchor.groupId;
    const root = await companies.findRootCompany(database.db, groupId);
    if (!root) throw new Error('the demo group has no head company');
    const passwordHash = await secrets.hashPassword(`bench-${ids.newId()}`);
    const actor = { system: 'bench-seed' };
    const now = new Date();
    const expiresAt = new Date(now.getTime() + 6 * 3_600_000);

    const out = await database.db.transaction().execute(async (trx) => {
      const record = (event: Parameters<AuditService['recordAudit']>[1]['event']) =>
        audit.recordAudit(trx, { groupId, actor, at: now, event });

      const companyId = ids.newId();
      const company = { name: companyName, code: 'BENCH-CONTRACTS' };
      await companies.insertCompany(trx, {
        id: companyId,
        groupId,
        parentId: root.id,
        ...company,
        path: `${root.path}${companyId}/`,
        depth: root.depth + 1,
      });
      await record({
        action: 'company.created',
        target: { type: 'company', id: companyId },
        companyId,
        changes: { ...company, parentId: root.id },
      });

      const person = async (email: string, name: string) => {
        const id = ids.newId();
        await users.insertUser(trx, {
          id,
          groupId,
          companyId,
          departmentId: null,
          email,
          name,
          phone: null,
          locale: 'zh-CN',
          passwordHash,
        });
        await record({
          action: 'user.created',
          target: { type: 'user', id },
          companyId,
          changes: { email, name, companyId, departmentId: null },
        });
        const assignmentId = ids.newId();
        await roles.insertAssignment(trx, {
          id: assignmentId,
          groupId,
          userId: id,
          role: 'employee',
          companyId,
          createdBy: null,
        });
        await record({
          action: 'role.assigned',
          target: { type: 'role_assignment', id: assignmentId },
          companyId,
          changes: { assignmentId, role: 'employee', companyId },
        });
        return id;
      };
      const custodianId = await person('bench.seal.keeper@bench.sigil.local', '压测印章保管人');
      const stamperIds: string[] = [];
      const personIds: string[] = [];
      for (let i = 1; i <= hashes.stampers.length; i++) {
        const n = String(i).padStart(3, '0');
        stamperIds.push(await person(`bench.stamper.${n}@bench.sigil.local`, `压测用印人${n}`));
        personIds.push(await person(`bench.signer.${n}@bench.sigil.local`, `压测签署人${n}`));
      }
      const clerkId = await person('bench.clerk@bench.sigil.local', '压测批量签署人');

      const image = await blobs.storeBlob(trx, store, {
        groupId,
        bytes: impression.png,
        mediaType: 'image/png',
        originalName: 'BENCH-CONTRACT-SEAL.png',
        createdBy: null,
        at: now,
      });
      const sealId = await sealService.insertSealWithCustodians(trx, {
        groupId,
        actor,
        seal: {
          companyId,
          code: 'BENCH-CONTRACT-E1',
          name: `${companyName}合同专用章（电子）`,
          kind: 'electronic',
          type: 'contract',
          status: 'active',
          image: { sha256: image.sha256, mediaType: 'image/png' },
        },
        custodianIds: [custodianId],
        at: now,
      });
      const validFrom = new Date(now.getTime() - 60_000);
      for (const userId of [...stamperIds, clerkId]) {
        const grantId = ids.newId();
        await grants.insertGrant(trx, {
          id: grantId,
          groupId,
          sealId,
          granteeType: 'user',
          granteeUserId: userId,
          granteeDepartmentId: null,
          granteeRole: null,
          granteeCompanyId: null,
          categories: [category],
          validFrom,
          validUntil: null,
          maxUses: null,
          createdBy: null,
        });
        await record({
          action: 'seal.grant_created',
          target: { type: 'seal', id: sealId },
          companyId,
          changes: {
            grantId,
            grantee: { type: 'user', id: userId, role: null },
            categories: [category],
            validFrom: validFrom.toISOString(),
            validUntil: null,
            maxUses: null,
          },
        });
      }

      const session = (userId: string, tokenHash: string) =>
        auth.insertSession(trx, {
          id: ids.newId(),
          groupId,
          userId,
          tokenHash,
          mfaPending: false,
          ip: null,
          userAgent: 'sigil-bench',
          expiresAt,
        });
      for (const [i, hash] of hashes.stampers.entries()) await session(stamperIds[i]!, hash);
      for (const [i, hash] of hashes.persons.entries()) await session(personIds[i]!, hash);
      await session(clerkId, hashes.clerk);
      await session(auditor.id, hashes.auditor);

      return {
        groupId,
        companyId,
        sealId,
        sealImageSha256: image.sha256,
        custodianId,
        stamperIds,
        personIds,
        clerkId,
      };
    });
    const result: ContractSeedOutput = { ...out, seconds: (performance.now() - started) / 1000 };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`seed-contracts: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
