import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../src/modules/audit/audit.service.js';
import { DEMO_LEGAL_REVIEW_ABOVE_USES } from '../src/demo/demo-seals.seed.js';
import { seedDemo, type DemoLogins } from '../src/demo/demo.seed.js';
import { client, createWorld, type World } from './support/world.js';

/**
 * The demo group as someone trying Sigil meets it: signing in with the printed logins, they
 * find seals with impressions, may apply at once and have tasks and applications waiting.
 */
let world: World;
let seeded: DemoLogins;
const tokens = new Map<string, string>();

/** Signs in through the API with the printed password, as a person trying the demo would. */
async function as(login: string) {
  const email = `${login}@demo.sigil.local`;
  if (!tokens.has(email)) {
    const signedIn = await client(world).post('/api/v1/auth/sign-in', { email, password: seeded.password });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    tokens.set(email, signedIn.body.token as string);
  }
  return client(world, tokens.get(email));
}

const pendingTasks = async (login: string) =>
  (await (await as(login)).get('/api/v1/tasks?status=pending')).body.items as Array<{
    id: string;
    applicationId: string;
    applicantName: string;
    sealNames: string[];
    purpose: string;
  }>;

beforeAll(async () => {
  world = await createWorld();
  seeded = await seedDemo(world.ctx, { password: 'Demo-test-password' });
});
afterAll(() => world.close());

describe('the demo group', () => {
  // How long seeding takes is a bench figure (platform: "sigil demo"), not a test's.
  it('is seeded once, with an intact audit chain', async () => {
    expect(seeded.created).toBe(true);
    expect((await seedDemo(world.ctx)).created).toBe(false);
    const group = await world.db.selectFrom('groups').select('id').where('slug', '=', 'demo').executeTakeFirstOrThrow();
    expect(await verifyChain(world.db, group.id)).toMatchObject({ intact: true });
    expect(seeded.logins.map((l) => l.email)).toEqual(
      expect.arrayContaining([
        'employee@demo.sigil.local',
        'legal.head@demo.sigil.local',
        'sealadmin@demo.sigil.local',
      ]),
    );
  });

  it('has seals in every company, each kept by its seal administrator and showing its impression', async () => {
    const hq = await as('sealadmin');
    const library = (await hq.get('/api/v1/seals?limit=100')).body.items as Array<{
      id: string;
      code: string;
      companyName: string;
      type: string;
      kind: string;
      status: string;
      imageSha256: string | null;
      custodians: Array<{ name: string }>;
    }>;
    expect(library.length).toBeGreaterThanOrEqual(12);
    expect(new Set(library.map((s) => s.companyName)).size).toBe(5);
    expect(new Set(library.map((s) => s.type))).toEqual(
      new Set(['official', 'contract', 'finance', 'legal_representative']),
    );
    expect(new Set(library.map((s) => s.kind))).toEqual(new Set(['electronic', 'physical']));
    expect(library.every((s) => s.status === 'active' && s.imageSha256 !== null && s.custodians.length === 1)).toBe(
      true,
    );
    const official = library.find((s) => s.code === 'HQ-GZ-01')!;
    expect(official.custodians).toEqual([expect.objectContaining({ name: '李秀英' })]);
    const image = await hq.get(`/api/v1/seal-images/${official.imageSha256}`);
    expect(image.status).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    // A subsidiary's seal administrator sees the seals of that company only.
    const trade = (await (await as('trade.seal')).get('/api/v1/seals?limit=100')).body.items as Array<{
      companyName: string;
    }>;
    expect(new Set(trade.map((s) => s.companyName))).toEqual(new Set(['华夏国际贸易有限公司']));
  });

  it('has grants to a person, a department and a role, and the flows at the head company', async () => {
    const grants = await world.db.selectFrom('seal_grants').select(['grantee_type']).execute();
    expect(new Set(grants.map((g) => g.grantee_type))).toEqual(new Set(['user', 'department', 'role']));
    const flows = (await (await as('sealadmin')).get('/api/v1/flows')).body.items as Array<{
      purpose: string;
      companyId: string;
      definition: { levels: Array<{ name: string; condition?: { minUses?: number } }> };
    }>;
    expect(flows.map((f) => f.purpose).sort()).toEqual(['lifecycle', 'seal_use']);
    const sealUse = flows.find((f) => f.purpose === 'seal_use')!;
    expect(sealUse.definition.levels.map((l) => l.condition?.minUses ?? null)).toEqual([
      null,
      DEMO_LEGAL_REVIEW_ABOVE_USES,
      null,
    ]);
    // The employee may use the HQ contract seal (own grant) and the official seal (their department's).
    const mine = (await (await as('employee')).get('/api/v1/me/seals')).body.items as Array<{ code: string }>;
    expect(mine.map((s) => s.code).sort()).toEqual(['HQ-GZ-01', 'HQ-HT-01']);
    // Through the role grant the Shenzhen subsidiary's staff may use the parent's contract seal.
    expect(
      ((await (await as('sz.delivery1')).get('/api/v1/me/seals')).body.items as Array<{ code: string }>).map(
        (s) => s.code,
      ),
    ).toEqual(['TECH-HT-01']);
    // No grant reaches a seal's own keeper, strays beyond its company or function, or has run out.
    const report = (await (await as('sealadmin')).get('/api/v1/reports/seal-permissions')).body;
    expect(report.summary).toMatchObject({ custodian_user: 0, beyond_company: 0, beyond_function: 0, expired: 0 });
  });

  it('gives the employee applications in two states and the approvers tasks waiting', async () => {
    const mine = (await (await as('employee')).get('/api/v1/applications')).body.items as Array<{
      id: string;
      status: string;
    }>;
    expect(mine.map((a) => a.status).sort()).toEqual(['approved', 'pending']);
    const approved = (
      await (await as('employee')).get(`/api/v1/applications/${mine.find((a) => a.status === 'approved')!.id}`)
    ).body;
    expect(approved.authorizations).toEqual([
      expect.objectContaining({ kind: 'ticket', usesTotal: 1, usesConsumed: 0, revokedAt: null }),
    ]);
    expect(approved.tasks.map((t: { assigneeName: string; status: string }) => [t.assigneeName, t.status])).toEqual([
      ['杨帆', 'approved'],
      ['李秀英', 'approved'],
    ]);
    expect((await pendingTasks('legal.head')).map((t) => t.applicantName)).toEqual(['刘洋']);
    // Waiting at the last level: the custodian's inbox.
    expect((await pendingTasks('tech.seal')).map((t) => [t.applicantName, t.sealNames])).toEqual([
      ['马超', ['华夏科技有限公司合同专用章']],
    ]);
    // A production waits for the HQ seal administrators, who see the impression asked for.
    const production = (await pendingTasks('sealadmin')).find((t) => t.purpose === 'lifecycle')!;
    expect(production.sealNames).toEqual(['华夏国际贸易有限公司发票专用章']);
    const detail = (await (await as('sealadmin')).get(`/api/v1/applications/${production.applicationId}`)).body;
    expect((await (await as('sealadmin')).get(`/api/v1/seal-images/${detail.payload.imageSha256}`)).status).toBe(200);
  });

  it('lets an employee apply for seal use at once; the department head gets the task, and many uses add the HQ legal head', async () => {
    const employee = await as('english');
    const usable = (await employee.get('/api/v1/me/seals?category=legal')).body.items as Array<{
      id: string;
      code: string;
    }>;
    const official = usable.find((s) => s.code === 'HQ-GZ-01')!;
    const preview = await employee.post('/api/v1/applications/preview', {
      sealIds: [official.id],
      category: 'legal',
      uses: 2,
    });
    expect(preview.status).toBe(200);
    expect(
      preview.body.levels.map((l: { approvers: Array<{ name: string }> }) => l.approvers.map((a) => a.name)),
    ).toEqual([['杨帆'], ['李秀英']]);
    const many = await employee.post('/api/v1/applications/preview', {
      sealIds: [official.id],
      category: 'legal',
      uses: DEMO_LEGAL_REVIEW_ABOVE_USES + 1,
    });
    expect(many.body.levels.map((l: { name: string }) => l.name)).toEqual([
      '部门负责人审批',
      '集团法务负责人审批',
      '印章管理员审核',
    ]);

    const applied = await employee.post('/api/v1/applications', {
      sealIds: [official.id],
      category: 'legal',
      reason: 'Filing a defence with the court',
      uses: 2,
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    const task = (await pendingTasks('legal.head')).find((t) => t.applicationId === applied.body.id);
    expect(task).toMatchObject({ applicantName: 'Emily Carter', sealNames: ['华夏控股集团有限公司公章'] });
    const decided = await (await as('legal.head')).post(`/api/v1/tasks/${task!.id}/approve`, {});
    expect(decided.body).toMatchObject({ status: 'pending', currentLevel: 1 });
    expect((await pendingTasks('sealadmin')).some((t) => t.applicationId === applied.body.id)).toBe(true);
  });

  it('lets a subsidiary seal administrator apply for a lifecycle step that HQ approves', async () => {
    const keeper = await as('tech.seal');
    const seal = ((await keeper.get('/api/v1/seals?q=TECH-CW-01')).body.items as Array<{ id: string }>)[0]!;
    const preview = await keeper.post(`/api/v1/seals/${seal.id}/lifecycle-applications/preview`, { action: 'suspend' });
    expect(preview.status).toBe(200);
    expect(preview.body.levels[0].approvers.map((a: { name: string }) => a.name).sort()).toEqual(
      ['李秀英', '钱晓东'].sort(),
    );
    // The HQ seal administrator's own step goes to the other one.
    const hq = await as('sealadmin');
    const own = ((await hq.get('/api/v1/seals?q=HQ-CW-01')).body.items as Array<{ id: string }>)[0]!;
    const ownPreview = await hq.post(`/api/v1/seals/${own.id}/lifecycle-applications/preview`, { action: 'suspend' });
    expect(ownPreview.body.levels[0].approvers.map((a: { name: string }) => a.name)).toEqual(['钱晓东']);
  });
});
