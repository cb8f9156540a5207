// Child process: sets up the approval benchmark in the demo group the way `sigil demo` seeds
// people — the built repositories and services (dist/), in one transaction, one shared
// password hash, an audit event for everything created — so the audit chain stays whole:
//
//   a company under the head company, one department with a head, APPLICANTS people in it;
//   a seal kept by a custodian; a grant (category sales) for every applicant; a two-level
//   seal-use flow for sales (level 1 the department head, level 2 the seal's custodian);
//   and bearer sessions, inserted directly (no scrypt sign-in, no login rate limit).
//
// The sessions' tokens are made by the bench; this process receives only their SHA-256
// hashes (what the sessions table stores), in a JSON file named by the second argument.
// Reads DATABASE_URL (PostgreSQL only); prints the ids it created as one JSON line.
//
//   node --import tsx bench/lib/seed-approvals.ts APPLICANTS SESSIONS.json
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ROOT } from './server.js';

type DatabaseModule = typeof import('../../src/db/database.js');
type AuthRepository = typeof import('../../src/modules/auth/auth.repository.js');
type UserRepository = typeof import('../../src/modules/users/user.repository.js');
type CompanyRepository = typeof import('../../src/modules/companies/company.repository.js');
type DepartmentRepository = typeof import('../../src/modules/users/department.repository.js');
type RoleRepository = typeof import('../../src/modules/roles/role.repository.js');
type SealService = typeof import('../../src/modules/seals/seal.service.js');
type GrantRepository = typeof import('../../src/modules/grants/grant.repository.js');
type FlowRepository = typeof import('../../src/modules/approvals/flow.repository.js');
type FlowSchema = typeof import('../../src/modules/approvals/flow.schema.js');
type AuditService = typeof import('../../src/modules/audit/audit.service.js');
type Secrets = typeof import('../../src/lib/secrets.js');
type Ids = typeof import('../../src/lib/ids.js');

const built = <T>(path: string): Promise<T> => import(pathToFileURL(join(ROOT, 'dist', path)).href) as Promise<T>;

/** The demo's system administrator and security auditor (`sigil demo`). */
const ANCHOR_EMAIL = 'sysadmin@demo.sigil.local';
const AUDITOR_EMAIL = 'auditor@demo.sigil.local';
const BENCH_CATEGORY = 'sales';

/** Token hashes of the sessions to insert, per person (what `seed-approvals` reads). */
export interface SessionHashes {
  head: string[];
  custodian: string[];
  /** One per applicant, in order. */
  applicants: string[];
  auditor: string;
}

export interface SeedOutput {
  groupId: string;
  companyId: string;
  departmentId: string;
  sealId: string;
  flowId: string;
  headId: string;
  custodianId: string;
  applicantIds: string[];
  seconds: number;
}

async function main(): Promise<void> {
  const applicants = Number(process.argv[2]);
  const hashesFile = process.argv[3];
  if (!Number.isInteger(applicants) || applicants < 1 || !hashesFile)
    throw new Error('usage: seed-approvals.ts APPLICANTS SESSIONS.json');
  const hashes = JSON.parse(readFileSync(hashesFile, 'utf8')) as SessionHashes;
  if (hashes.applicants.length !== applicants)
    throw new Error(`expected ${applicants} applicant session hashes, got ${hashes.applicants.length}`);
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is not set (the approvals bench runs on PostgreSQL)');

  const [
    { openDatabase },
    auth,
    users,
    companies,
    departments,
    roles,
    sealService,
    grants,
    flows,
    flowSchema,
    audit,
    secrets,
    ids,
  ] = await Promise.all([
    built<DatabaseModule>('db/database.js'),
    built<AuthRepository>('modules/auth/auth.repository.js'),
    built<UserRepository>('modules/users/user.repository.js'),
    built<CompanyRepository>('modules/companies/company.repository.js'),
    built<DepartmentRepository>('modules/users/department.repository.js'),
    built<RoleRepository>('modules/roles/role.repository.js'),
    built<SealService>('modules/seals/seal.service.js'),
    built<GrantRepository>('modules/grants/grant.repository.js'),
    built<FlowRepository>('modules/approvals/flow.repository.js'),
    built<FlowSchema>('modules/approvals/flow.schema.js'),
    built<AuditService>('modules/audit/audit.service.js'),
    built<Secrets>('lib/secrets.js'),
    built<Ids>('lib/ids.js'),
  ]);
  const started = performance.now();
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
    const definition = flowSchema.flowDefinition.parse({
      levels: [
        { name: '部门负责人审批', mode: 'any', approvers: [{ type: 'department_head' }] },
        { name: '印章保管人审批', mode: 'any', approvers: [{ type: 'custodian' }] },
      ],
      cc: [],
    });

    const out = await database.db.transaction().execute(async (trx) => {
      const record = (event: Parameters<AuditService['recordAudit']>[1]['event']) =>
        audit.recordAudit(trx, { groupId, actor, at: now, event });

      const companyId = ids.newId();
      const company = { name: '华夏审批压测有限公司', code: 'BENCH-APPROVALS' };
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

      const departmentId = ids.newId();
      await departments.insertDepartment(trx, {
        id: departmentId,
        groupId,
        companyId,
        name: '销售部',
        headUserId: null,
      });
      await record({
        action: 'department.created',
        target: { type: 'department', id: departmentId },
        companyId,
        changes: { name: '销售部', companyId, headUserId: null },
      });

      const person = async (email: string, name: string, departmentOf: string | null) => {
        const id = ids.newId();
        await users.insertUser(trx, {
          id,
          groupId,
          companyId,
          departmentId: departmentOf,
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
          changes: { email, name, companyId, departmentId: departmentOf },
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
      const headId = await person('bench.head@bench.sigil.local', '压测部门负责人', departmentId);
      await departments.updateDepartment(trx, departmentId, { head_user_id: headId });
      await record({
        action: 'department.updated',
        target: { type: 'department', id: departmentId },
        companyId,
        changes: { from: { headUserId: null }, to: { headUserId: headId } },
      });
      const custodianId = await person('bench.custodian@bench.sigil.local', '压测印章保管人', null);
      const applicantIds: string[] = [];
      for (let i = 1; i <= applicants; i++) {
        const n = String(i).padStart(3, '0');
        applicantIds.push(await person(`bench.applicant.${n}@bench.sigil.local`, `压测申请人${n}`, departmentId));
      }

      const sealId = await sealService.insertSealWithCustodians(trx, {
        groupId,
        actor,
        seal: {
          companyId,
          code: 'BENCH-CONTRACT-1',
          name: '华夏审批压测有限公司合同专用章',
          kind: 'physical',
          type: 'contract',
          status: 'active',
        },
        custodianIds: [custodianId],
        at: now,
      });
      const validFrom = new Date(now.getTime() - 60_000);
      for (const userId of applicantIds) {
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
          categories: [BENCH_CATEGORY],
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
            categories: [BENCH_CATEGORY],
            validFrom: validFrom.toISOString(),
            validUntil: null,
            maxUses: null,
          },
        });
      }

      const flowId = ids.newId();
      const flowName = '合同用印两级审批（压测）';
      await flows.insertFlow(trx, {
        id: flowId,
        groupId,
        companyId,
        purpose: 'seal_use',
        category: BENCH_CATEGORY,
        sealId: null,
        name: flowName,
        createdBy: null,
      });
      await flows.insertFlowVersion(trx, { id: ids.newId(), groupId, flowId, version: 1, definition, createdBy: null });
      await record({
        action: 'flow.created',
        target: { type: 'flow', id: flowId },
        companyId,
        changes: { name: flowName, purpose: 'seal_use', category: BENCH_CATEGORY, sealId: null, version: 1 },
      });

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
      for (const hash of hashes.head) await session(headId, hash);
      for (const hash of hashes.custodian) await session(custodianId, hash);
      for (const [i, hash] of hashes.applicants.entries()) await session(applicantIds[i]!, hash);
      await session(auditor.id, hashes.auditor);

      return { groupId, companyId, departmentId, sealId, flowId, headId, custodianId, applicantIds };
    });
    const result: SeedOutput = { ...out, seconds: (performance.now() - started) / 1000 };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`seed-approvals: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
