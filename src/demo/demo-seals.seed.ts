import { storeBlob } from '../blobs/blob.service.js';
import type { GranteeType, Role, SealKind, SealType, Transaction } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import { renderSealPng } from '../seal-image/render.js';
import type { SealImageSpec } from '../seal-image/seal-svg.js';
import { checkSealImageSpec } from '../seal-image/spec.js';
import type { AppContext } from '../server/context.js';
import { recordAudit, type SystemActor } from '../modules/audit/index.js';
import { applications } from '../modules/approvals/index.js';
import { tell } from '../modules/approvals/index.js';
import { mayNotStandIn, openLevel, planFor, type SealFacts } from '../modules/approvals/index.js';
import { insertFlow, insertFlowVersion } from '../modules/approvals/index.js';
import { flowDefinition, type FlowDefinition } from '../modules/approvals/index.js';
import type { ProductionPayload } from '../modules/seal-lifecycle/index.js';
import { insertGrant } from '../modules/grants/index.js';
import { insertSealWithCustodians } from '../modules/seals/index.js';

/**
 * The demo group's seals and what goes with them, so that someone trying the demo finds a
 * library, may apply at once and has something in the inbox: a handful of seals per company
 * with their impressions, grants to a person, a department and a role, one seal-use flow and
 * one lifecycle flow at the head company (the engine takes the nearest flow up the tree, so
 * they serve every company), and applications waiting at each level and one approved.
 */

/** Seal use above this many uses adds the HQ legal head's level. */
export const DEMO_LEGAL_REVIEW_ABOVE_USES = 10;
const DAY_MS = 86_400_000;
/** 8 px/mm: a 40 mm seal is 320 px, enough to stamp a demo document and quick to draw. */
const IMAGE_PX_PER_MM = 8;

export interface DemoOrganisation {
  groupId: string;
  companies: Map<string, { id: string; path: string; name: string }>;
  /** By `company/department name`. */
  departments: Map<string, string>;
  /** By e-mail. */
  users: Map<string, { id: string; name: string }>;
}

interface SealSeed {
  key: string;
  company: string;
  code: string;
  name: string;
  kind: SealKind;
  type: SealType;
  image: SealImageSpec;
}

/** The 13-digit code under a round seal (下弦文), per company: a made-up 防伪码. */
const antiForgery: Record<string, string> = {
  hq: '110108000012',
  tech: '110108000034',
  'tech-sz': '440305000056',
  trade: '310115000078',
  build: '110105000090',
};

function sealsOf(
  company: string,
  companyName: string,
  kinds: Partial<Record<'official' | 'contract' | 'finance', SealKind>>,
  codePrefix: string,
): SealSeed[] {
  const typeText = { official: undefined, contract: '合同专用章', finance: '财务专用章' } as const;
  const label = { official: '公章', contract: '合同专用章', finance: '财务专用章' } as const;
  const short = { official: 'GZ', contract: 'HT', finance: 'CW' } as const;
  return (Object.entries(kinds) as Array<[keyof typeof label, SealKind]>).map(([type, kind], index) => ({
    key: `${company}/${type}`,
    company,
    code: `${codePrefix}-${short[type]}-01`,
    name: `${companyName}${label[type]}`,
    kind,
    type,
    image: { shape: 'round', company: companyName, type: typeText[type], code: `${antiForgery[company]}${index + 1}` },
  }));
}

export function demoSeals(companyNames: Map<string, string>): SealSeed[] {
  const name = (key: string) => companyNames.get(key)!;
  return [
    ...sealsOf('hq', name('hq'), { official: 'physical', contract: 'electronic', finance: 'physical' }, 'HQ'),
    {
      key: 'hq/legal',
      company: 'hq',
      code: 'HQ-FR-01',
      name: '法定代表人章（陈国华）',
      kind: 'physical',
      type: 'legal_representative',
      image: { shape: 'square', name: '陈国华印' },
    },
    ...sealsOf('tech', name('tech'), { official: 'physical', contract: 'electronic', finance: 'physical' }, 'TECH'),
    ...sealsOf('tech-sz', name('tech-sz'), { official: 'physical', contract: 'electronic' }, 'TECHSZ'),
    ...sealsOf('trade', name('trade'), { official: 'physical', contract: 'electronic', finance: 'physical' }, 'TRADE'),
    ...sealsOf('build', name('build'), { official: 'physical', contract: 'physical' }, 'BUILD'),
  ];
}

/** The impression of a 发票专用章 that 华夏国际贸易 asks to have made (its production application waits at HQ). */
function invoiceSealImage(companyName: string): SealImageSpec {
  return { shape: 'oval', company: companyName, type: '发票专用章', code: '91310115MA1K4DEMO8' };
}

export interface DemoImages {
  seals: Map<string, Buffer>;
  invoice: Buffer;
}

/**
 * Every impression of the demo, drawn before the seeding transaction opens (drawing is the
 * slow part: the first characters are shaped from the font once, every later seal is paths only).
 */
export async function drawDemoImages(companyNames: Map<string, string>): Promise<DemoImages> {
  const draw = async (spec: SealImageSpec) => (await renderSealPng(checkSealImageSpec(spec), IMAGE_PX_PER_MM)).png;
  const seals = new Map<string, Buffer>();
  for (const seal of demoSeals(companyNames)) seals.set(seal.key, await draw(seal.image));
  return { seals, invoice: await draw(invoiceSealImage(companyNames.get('trade')!)) };
}

/** Seeds seals, grants, flows and applications into the organisation just made, in the caller's transaction. */
export async function seedDemoSeals(
  ctx: AppContext,
  trx: Transaction,
  q: { org: DemoOrganisation; images: DemoImages; actor: SystemActor; at: Date },
): Promise<void> {
  const { org, actor, at } = q;
  const { groupId } = org;
  const company = (key: string) => org.companies.get(key)!;
  const user = (email: string) => org.users.get(`${email}@demo.sigil.local`)!;
  const department = (key: string) => org.departments.get(key)!;
  /** Each company's seal administrator keeps its seals. */
  const keeperOf: Record<string, string> = {
    hq: 'sealadmin',
    tech: 'tech.seal',
    'tech-sz': 'sz.seal',
    trade: 'trade.seal',
    build: 'build.seal',
  };

  const storeImage = async (bytes: Buffer, fileName: string) => {
    const blob = await storeBlob(trx, ctx.blobs, {
      groupId,
      bytes,
      mediaType: 'image/png',
      originalName: fileName,
      createdBy: null,
      at,
    });
    return { sha256: blob.sha256, mediaType: 'image/png' };
  };

  const seals = new Map<string, SealFacts>();
  for (const seal of demoSeals(new Map([...org.companies].map(([key, c]) => [key, c.name])))) {
    const owner = company(seal.company);
    const image = await storeImage(q.images.seals.get(seal.key)!, `${seal.code}.png`);
    const id = await insertSealWithCustodians(trx, {
      groupId,
      actor,
      at,
      custodianIds: [user(keeperOf[seal.company]!).id],
      seal: {
        companyId: owner.id,
        code: seal.code,
        name: seal.name,
        kind: seal.kind,
        type: seal.type,
        status: 'active',
        image,
      },
    });
    seals.set(seal.key, {
      id,
      name: seal.name,
      kind: seal.kind,
      type: seal.type,
      companyId: owner.id,
      companyPath: owner.path,
      companyName: owner.name,
    });
  }

  // Grants: to a person, to a department, to a role; with and without an end date and a number of uses.
  const grant = async (
    sealKey: string,
    grantee: { type: GranteeType; userId?: string; departmentId?: string; role?: Role; companyId?: string },
    terms: { categories: string[]; days: number | null; maxUses: number | null },
  ) => {
    const id = newId();
    const seal = seals.get(sealKey)!;
    const validUntil = terms.days === null ? null : new Date(at.getTime() + terms.days * DAY_MS);
    const row = {
      granteeUserId: grantee.userId ?? null,
      granteeDepartmentId: grantee.departmentId ?? null,
      granteeRole: grantee.role ?? null,
      granteeCompanyId: grantee.companyId ?? null,
    };
    await insertGrant(trx, {
      id,
      groupId,
      sealId: seal.id,
      granteeType: grantee.type,
      ...row,
      categories: terms.categories,
      validFrom: at,
      validUntil,
      maxUses: terms.maxUses,
      createdBy: null,
    });
    await recordAudit(trx, {
      groupId,
      actor,
      at,
      event: {
        action: 'seal.grant_created',
        target: { type: 'seal', id: seal.id },
        companyId: seal.companyId,
        changes: {
          grantId: id,
          grantee: {
            type: grantee.type,
            id: row.granteeUserId ?? row.granteeDepartmentId ?? row.granteeCompanyId,
            role: row.granteeRole,
          },
          categories: terms.categories,
          validFrom: at.toISOString(),
          validUntil: validUntil?.toISOString() ?? null,
          maxUses: terms.maxUses,
        },
      },
    });
  };
  await grant(
    'hq/contract',
    { type: 'user', userId: user('employee').id },
    { categories: ['sales', 'legal'], days: 180, maxUses: 30 },
  );
  await grant(
    'hq/official',
    { type: 'department', departmentId: department('hq/法务部') },
    { categories: ['legal'], days: 365, maxUses: null },
  );
  await grant(
    'hq/finance',
    { type: 'department', departmentId: department('hq/财务部') },
    { categories: ['finance'], days: null, maxUses: null },
  );
  await grant(
    'tech/contract',
    { type: 'user', userId: user('tech.sales1').id },
    { categories: ['sales', 'legal'], days: 90, maxUses: 20 },
  );
  // The Shenzhen subsidiary's staff sign under the parent's contract seal (a role over a company below the seal's):
  // its keeper works at the parent, so nobody covered keeps the seal (a role grant on a seal of their own company would cover its keeper too).
  await grant(
    'tech/contract',
    { type: 'role', role: 'employee', companyId: company('tech-sz').id },
    { categories: ['sales', 'procurement'], days: 365, maxUses: null },
  );
  await grant(
    'trade/contract',
    { type: 'user', userId: user('trade.buy1').id },
    { categories: ['procurement', 'sales', 'legal'], days: 90, maxUses: 20 },
  );
  await grant(
    'build/contract',
    { type: 'department', departmentId: department('build/工程部') },
    { categories: ['procurement', 'sales'], days: 365, maxUses: 50 },
  );

  // Flows at the head company serve every company below it.
  const hq = company('hq');
  const flow = async (input: { purpose: 'seal_use' | 'lifecycle'; name: string; definition: FlowDefinition }) => {
    const id = newId();
    const definition = flowDefinition.parse(input.definition);
    await insertFlow(trx, {
      id,
      groupId,
      companyId: hq.id,
      purpose: input.purpose,
      category: null,
      sealId: null,
      name: input.name,
      createdBy: null,
    });
    await insertFlowVersion(trx, { id: newId(), groupId, flowId: id, version: 1, definition, createdBy: null });
    await recordAudit(trx, {
      groupId,
      actor,
      at,
      event: {
        action: 'flow.created',
        target: { type: 'flow', id },
        companyId: hq.id,
        changes: { name: input.name, purpose: input.purpose, category: null, sealId: null, version: 1 },
      },
    });
  };
  await flow({
    purpose: 'seal_use',
    name: '用印审批（集团通用）',
    definition: {
      levels: [
        { name: '部门负责人审批', mode: 'any', approvers: [{ type: 'department_head' }] },
        {
          name: '集团法务负责人审批',
          mode: 'any',
          approvers: [
            { type: 'user', userId: user('legal.head').id },
            { type: 'user', userId: user('legal.deputy').id },
          ],
          condition: { minUses: DEMO_LEGAL_REVIEW_ABOVE_USES },
        },
        { name: '印章管理员审核', mode: 'any', approvers: [{ type: 'custodian' }] },
      ],
      cc: [],
      allowSameApproverAcrossLevels: false,
    },
  });
  await flow({
    purpose: 'lifecycle',
    name: '印章生命周期审批（集团）',
    definition: {
      levels: [
        {
          name: '集团印章管理员审批',
          mode: 'any',
          approvers: [{ type: 'role', role: 'seal_admin', companyId: hq.id }],
        },
      ],
      cc: [],
      allowSameApproverAcrossLevels: false,
    },
  });

  // Applications: one waiting at its first level, one at its last, one approved, and a production at HQ.
  const submit = async (input: {
    applicant: string;
    sealKey?: string;
    category: string | null;
    uses: number;
    reason: string;
    approvedLevels: number;
    production?: { payload: ProductionPayload; company: string };
  }) => {
    const applicant = user(input.applicant);
    const seal = input.sealKey ? seals.get(input.sealKey)! : null;
    const owner = seal
      ? { id: seal.companyId, path: seal.companyPath, name: seal.companyName }
      : company(input.production!.company);
    const purpose = input.production ? ('lifecycle' as const) : ('seal_use' as const);
    const custodianIds = input.production?.payload.custodianIds;
    const { flow: resolved, plan } = await planFor(ctx, trx, {
      groupId,
      applicantId: applicant.id,
      purpose,
      category: input.category,
      uses: input.uses,
      seals: seal ? [seal] : [],
      company: owner,
      custodianIds,
    });
    const id = newId();
    await applications.insertApplication(trx, {
      id,
      groupId,
      companyId: owner.id,
      applicantId: applicant.id,
      purpose,
      category: input.category,
      lifecycleAction: input.production ? 'produce' : null,
      payload: input.production ? { ...input.production.payload } : {},
      reason: input.reason,
      uses: input.uses,
      photosPerUse: 0,
      flowVersionId: resolved.versionId,
      plan,
      idempotencyKey: null,
    });
    await applications.insertApplicationSeals(trx, groupId, id, seal ? [seal.id] : []);
    await applications.insertApplicationCc(
      trx,
      groupId,
      id,
      plan.cc.map((c) => c.id),
    );
    const target = { type: 'application', id } as const;
    await recordAudit(trx, {
      groupId,
      actor,
      at,
      event: {
        action: 'application.submitted',
        target,
        companyId: owner.id,
        changes: {
          purpose,
          category: input.category,
          sealIds: seal ? [seal.id] : [],
          uses: input.uses,
          flowVersionId: resolved.versionId,
          levels: plan.levels.length,
        },
      },
    });
    const sealNames = seal ? [seal.name] : [input.production!.payload.name];
    const application = {
      id,
      applicantId: applicant.id,
      applicantName: applicant.name,
      reason: input.reason,
      sealNames,
    };
    for (let level = 0; ; level++) {
      const tasks = await openLevel(ctx, trx, {
        groupId,
        application,
        level,
        planned: plan.levels[level]!,
        notStandingIn: mayNotStandIn(plan, [], level),
      });
      if (level >= input.approvedLevels) return;
      // The first approver of the level decides it (every demo level is any-one).
      const decider = tasks[0]!;
      await applications.decideTask(trx, decider.id, { status: 'approved', comment: '同意', at });
      await applications.cancelPendingTasks(trx, id, at, level);
      await recordAudit(trx, {
        groupId,
        actor,
        at,
        event: {
          action: 'application.task_approved',
          target,
          companyId: owner.id,
          changes: { taskId: decider.id, level, comment: '同意', onBehalfOf: decider.onBehalfOf },
        },
      });
      await recordAudit(trx, {
        groupId,
        actor,
        at,
        event: { action: 'application.level_completed', target, companyId: owner.id, changes: { level } },
      });
      if (level + 1 < plan.levels.length) {
        await applications.updateApplication(trx, id, { current_level: level + 1 });
        continue;
      }
      // The last level approved: the applicant holds the right to sign (electronic) or a ticket (physical) for the uses asked.
      const authorizationId = newId();
      await applications.insertAuthorizations(trx, [
        {
          id: authorizationId,
          groupId,
          applicationId: id,
          sealId: seal!.id,
          holderId: applicant.id,
          kind: seal!.kind === 'electronic' ? 'documents' : 'ticket',
          usesTotal: input.uses,
          createdAt: at,
        },
      ]);
      await applications.updateApplication(trx, id, { status: 'approved', decided_at: at });
      const approverName = plan.levels[level]!.approvers.find((a) => a.id === decider.assigneeId)?.name ?? null;
      await tell(ctx, trx, {
        groupId,
        userIds: [applicant.id],
        kind: 'application.approved',
        params: { applicationId: id, sealNames, approverName },
        applicationId: id,
        at,
      });
      await recordAudit(trx, {
        groupId,
        actor,
        at,
        event: {
          action: 'application.approved',
          target,
          companyId: owner.id,
          changes: { authorizationIds: [authorizationId] },
        },
      });
      return;
    }
  };
  await submit({
    applicant: 'employee',
    sealKey: 'hq/contract',
    category: 'legal',
    uses: 3,
    reason: '与北京某律师事务所签订2027年度常年法律顾问合同',
    approvedLevels: 0,
  });
  await submit({
    applicant: 'employee',
    sealKey: 'hq/official',
    category: 'legal',
    uses: 1,
    reason: '向北京市朝阳区人民法院提交起诉状及证据目录',
    approvedLevels: 2,
  });
  await submit({
    applicant: 'tech.sales1',
    sealKey: 'tech/contract',
    category: 'sales',
    uses: 2,
    reason: '与深圳某客户签订软件销售合同（一式两份）',
    approvedLevels: 1,
  });
  const trade = company('trade');
  const invoice = await storeImage(q.images.invoice, 'TRADE-FP-01.png');
  await submit({
    applicant: 'trade.seal',
    category: null,
    uses: 0,
    reason: '开具增值税专用发票需要发票专用章',
    approvedLevels: 0,
    production: {
      company: 'trade',
      payload: {
        companyId: trade.id,
        name: `${trade.name}发票专用章`,
        code: 'TRADE-FP-01',
        kind: 'physical',
        type: 'invoice',
        customType: null,
        description: null,
        custodianIds: [user('trade.seal').id],
        imageSha256: invoice.sha256,
      },
    },
  });
}
