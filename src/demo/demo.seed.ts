import { randomBytes } from 'node:crypto';
import { vacuumAnalyze } from '../db/database.js';
import type { Role, Transaction } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import { hashPassword } from '../lib/secrets.js';
import type { AppContext } from '../server/context.js';
import { recordAudit, type SystemActor } from '../modules/audit/index.js';
import { insertCompany } from '../modules/companies/index.js';
import { insertDepartment, updateDepartment } from '../modules/users/index.js';
import { findGroupBySlug } from '../modules/groups/index.js';
import { createGroup } from '../modules/group-setup/index.js';
import { insertAssignment } from '../modules/roles/index.js';
import { insertUser, updateUser } from '../modules/users/index.js';
import { DEMO_LEGAL_REVIEW_ABOVE_USES, drawDemoImages, seedDemoSeals } from './demo-seals.seed.js';

export const DEMO_SLUG = 'demo';
const actor: SystemActor = { system: 'demo-seed' };

interface CompanySeed {
  key: string;
  parent: string | null;
  name: string;
  code: string;
  departments: string[];
}

const companies: CompanySeed[] = [
  {
    key: 'hq',
    parent: null,
    name: '华夏控股集团有限公司',
    code: 'HQ',
    departments: ['办公室', '财务部', '法务部', '人力资源部', '审计部'],
  },
  {
    key: 'tech',
    parent: 'hq',
    name: '华夏科技有限公司',
    code: 'TECH',
    departments: ['综合管理部', '研发部', '销售部'],
  },
  {
    key: 'tech-sz',
    parent: 'tech',
    name: '华夏科技（深圳）有限公司',
    code: 'TECH-SZ',
    departments: ['综合管理部', '交付部'],
  },
  {
    key: 'trade',
    parent: 'hq',
    name: '华夏国际贸易有限公司',
    code: 'TRADE',
    departments: ['综合管理部', '采购部', '财务部'],
  },
  {
    key: 'build',
    parent: 'hq',
    name: '华夏建设工程有限公司',
    code: 'BUILD',
    departments: ['综合管理部', '工程部', '合同部'],
  },
];

interface UserSeed {
  email: string;
  name: string;
  company: string;
  department: string;
  roles: Role[];
  head?: boolean;
  locale?: 'zh-CN' | 'en';
}

/** About thirty people across every role; the first of each role, and those with something waiting, are printed as logins. */
const people: UserSeed[] = [
  {
    email: 'sysadmin@demo.sigil.local',
    name: '王建国',
    company: 'hq',
    department: '办公室',
    roles: ['system_admin', 'employee'],
    head: true,
  },
  {
    email: 'sealadmin@demo.sigil.local',
    name: '李秀英',
    company: 'hq',
    department: '办公室',
    roles: ['seal_admin', 'employee'],
  },
  {
    email: 'sealadmin2@demo.sigil.local',
    name: '钱晓东',
    company: 'hq',
    department: '办公室',
    roles: ['seal_admin', 'employee'],
  },
  {
    email: 'auditor@demo.sigil.local',
    name: '张伟',
    company: 'hq',
    department: '审计部',
    roles: ['security_auditor', 'employee'],
    head: true,
  },
  { email: 'employee@demo.sigil.local', name: '刘洋', company: 'hq', department: '法务部', roles: ['employee'] },
  { email: 'cfo@demo.sigil.local', name: '陈静', company: 'hq', department: '财务部', roles: ['employee'], head: true },
  {
    email: 'legal.head@demo.sigil.local',
    name: '杨帆',
    company: 'hq',
    department: '法务部',
    roles: ['employee'],
    head: true,
  },
  // Stands beside the head at the HQ legal review, so a review of the legal department's own use
  // goes to someone other than the head who approved it as department head (one level each).
  {
    email: 'legal.deputy@demo.sigil.local',
    name: '孙丽',
    company: 'hq',
    department: '法务部',
    roles: ['employee'],
  },
  {
    email: 'hr.head@demo.sigil.local',
    name: '赵敏',
    company: 'hq',
    department: '人力资源部',
    roles: ['employee'],
    head: true,
  },
  { email: 'finance1@demo.sigil.local', name: '黄磊', company: 'hq', department: '财务部', roles: ['employee'] },
  {
    email: 'english@demo.sigil.local',
    name: 'Emily Carter',
    company: 'hq',
    department: '法务部',
    roles: ['employee'],
    locale: 'en',
  },
  {
    email: 'tech.admin@demo.sigil.local',
    name: '周杰',
    company: 'tech',
    department: '综合管理部',
    roles: ['system_admin', 'employee'],
    head: true,
  },
  {
    email: 'tech.seal@demo.sigil.local',
    name: '吴芳',
    company: 'tech',
    department: '综合管理部',
    roles: ['seal_admin', 'employee'],
  },
  {
    email: 'tech.rd.head@demo.sigil.local',
    name: '徐明',
    company: 'tech',
    department: '研发部',
    roles: ['employee'],
    head: true,
  },
  {
    email: 'tech.sales.head@demo.sigil.local',
    name: '孙丽',
    company: 'tech',
    department: '销售部',
    roles: ['employee'],
    head: true,
  },
  { email: 'tech.sales1@demo.sigil.local', name: '马超', company: 'tech', department: '销售部', roles: ['employee'] },
  { email: 'tech.rd1@demo.sigil.local', name: '朱婷', company: 'tech', department: '研发部', roles: ['employee'] },
  {
    email: 'sz.admin@demo.sigil.local',
    name: '胡斌',
    company: 'tech-sz',
    department: '综合管理部',
    roles: ['system_admin', 'employee'],
    head: true,
  },
  {
    email: 'sz.seal@demo.sigil.local',
    name: '郭燕',
    company: 'tech-sz',
    department: '综合管理部',
    roles: ['seal_admin', 'employee'],
  },
  {
    email: 'sz.delivery.head@demo.sigil.local',
    name: '何平',
    company: 'tech-sz',
    department: '交付部',
    roles: ['employee'],
    head: true,
  },
  {
    email: 'sz.delivery1@demo.sigil.local',
    name: '林峰',
    company: 'tech-sz',
    department: '交付部',
    roles: ['employee'],
  },
  {
    email: 'trade.admin@demo.sigil.local',
    name: '高翔',
    company: 'trade',
    department: '综合管理部',
    roles: ['system_admin', 'employee'],
    head: true,
  },
  {
    email: 'trade.seal@demo.sigil.local',
    name: '罗琳',
    company: 'trade',
    department: '综合管理部',
    roles: ['seal_admin', 'employee'],
  },
  {
    email: 'trade.auditor@demo.sigil.local',
    name: '梁宇',
    company: 'trade',
    department: '财务部',
    roles: ['security_auditor', 'employee'],
  },
  {
    email: 'trade.buy.head@demo.sigil.local',
    name: '宋佳',
    company: 'trade',
    department: '采购部',
    roles: ['employee'],
    head: true,
  },
  { email: 'trade.buy1@demo.sigil.local', name: '郑凯', company: 'trade', department: '采购部', roles: ['employee'] },
  {
    email: 'trade.fin.head@demo.sigil.local',
    name: '谢娜',
    company: 'trade',
    department: '财务部',
    roles: ['employee'],
    head: true,
  },
  {
    email: 'build.admin@demo.sigil.local',
    name: '韩冰',
    company: 'build',
    department: '综合管理部',
    roles: ['system_admin', 'employee'],
    head: true,
  },
  {
    email: 'build.seal@demo.sigil.local',
    name: '唐宁',
    company: 'build',
    department: '综合管理部',
    roles: ['seal_admin', 'employee'],
  },
  {
    email: 'build.eng.head@demo.sigil.local',
    name: '冯刚',
    company: 'build',
    department: '工程部',
    roles: ['employee'],
    head: true,
  },
  {
    email: 'build.contract.head@demo.sigil.local',
    name: '董雪',
    company: 'build',
    department: '合同部',
    roles: ['employee'],
    head: true,
  },
  { email: 'build.eng1@demo.sigil.local', name: '曹阳', company: 'build', department: '工程部', roles: ['employee'] },
  { email: 'resigned@demo.sigil.local', name: '袁浩', company: 'build', department: '工程部', roles: [] },
];

export interface DemoLogins {
  created: boolean;
  password: string | null;
  logins: Array<{ email: string; name: string; role: string }>;
}

function loginsOf(): DemoLogins['logins'] {
  const picks: Array<[string, string]> = [
    ['sysadmin@demo.sigil.local', 'system administrator (HQ)'],
    [
      'sealadmin@demo.sigil.local',
      'seal administrator (HQ): keeps the HQ seals; approves their use and every lifecycle step',
    ],
    ['auditor@demo.sigil.local', 'security auditor (HQ)'],
    ['employee@demo.sigil.local', 'employee (HQ legal): may use the HQ contract and official seals; has applications'],
    [
      'legal.head@demo.sigil.local',
      `head of HQ legal: approves the department's seal use, and (with the deputy, 孙丽) any above ${DEMO_LEGAL_REVIEW_ABOVE_USES} uses`,
    ],
    ['tech.sales1@demo.sigil.local', 'employee (华夏科技 sales): may use the 华夏科技 contract seal'],
    ['tech.seal@demo.sigil.local', 'seal administrator (华夏科技): keeps its seals; approves their use'],
    ['tech.admin@demo.sigil.local', 'system administrator (华夏科技 subtree)'],
    ['trade.admin@demo.sigil.local', 'system administrator (华夏国际贸易)'],
  ];
  return picks.map(([email, role]) => ({ email, role, name: people.find((p) => p.email === email)?.name ?? email }));
}

/**
 * Seeds the demo group once; running it again changes nothing. Every demo person
 * shares one password, generated here and never stored in the repository. Besides the
 * organisation: seals with their impressions, grants, flows and applications (demo-seals.seed.ts).
 */
export async function seedDemo(ctx: AppContext, options: { password?: string } = {}): Promise<DemoLogins> {
  const { db } = ctx;
  if (await findGroupBySlug(db, DEMO_SLUG)) return { created: false, password: null, logins: loginsOf() };
  const password = options.password ?? `Demo-${randomBytes(6).toString('base64url')}`;
  const passwordHash = await hashPassword(password);
  const images = await drawDemoImages(new Map(companies.map((c) => [c.key, c.name])));
  const admin = people[0]!;
  const hq = companies[0]!;
  const {
    groupId,
    companyId: hqId,
    adminId,
  } = await createGroup(
    db,
    {
      name: '华夏控股集团 (Demo Group)',
      slug: DEMO_SLUG,
      headCompany: { name: hq.name, code: hq.code },
      // The demo's logins stay usable as printed, so it can be tried at once (the password is random per installation).
      admin: { email: admin.email, name: admin.name, password, mustChangePassword: false },
    },
    actor,
  );
  await db.transaction().execute(async (trx) => {
    const companyIds = new Map<string, { id: string; path: string; depth: number; name: string }>([
      ['hq', { id: hqId, path: `/${hqId}/`, depth: 0, name: hq.name }],
    ]);
    for (const company of companies.slice(1)) {
      const parent = companyIds.get(company.parent!)!;
      const id = newId();
      const path = `${parent.path}${id}/`;
      await insertCompany(trx, {
        id,
        groupId,
        parentId: parent.id,
        name: company.name,
        code: company.code,
        path,
        depth: parent.depth + 1,
      });
      await recordAudit(trx, {
        groupId,
        actor,
        event: {
          action: 'company.created',
          target: { type: 'company', id },
          companyId: id,
          changes: { name: company.name, code: company.code, parentId: parent.id },
        },
      });
      companyIds.set(company.key, { id, path, depth: parent.depth + 1, name: company.name });
    }
    const departmentIds = new Map<string, string>();
    const userIds = new Map<string, { id: string; name: string }>();
    for (const company of companies) {
      const companyId = companyIds.get(company.key)!.id;
      for (const name of company.departments) {
        const id = newId();
        await insertDepartment(trx, { id, groupId, companyId, name, headUserId: null });
        await recordAudit(trx, {
          groupId,
          actor,
          event: {
            action: 'department.created',
            target: { type: 'department', id },
            companyId,
            changes: { name, companyId, headUserId: null },
          },
        });
        departmentIds.set(`${company.key}/${name}`, id);
      }
    }
    for (const person of people) {
      const companyId = companyIds.get(person.company)!.id;
      const departmentId = departmentIds.get(`${person.company}/${person.department}`)!;
      const userId = person === admin ? adminId : newId();
      userIds.set(person.email, { id: userId, name: person.name });
      if (person === admin) {
        await updateUser(trx, userId, { department_id: departmentId, password_hash: passwordHash });
      } else {
        await insertUser(trx, {
          id: userId,
          groupId,
          companyId,
          departmentId,
          email: person.email,
          name: person.name,
          phone: null,
          locale: person.locale ?? 'zh-CN',
          passwordHash,
        });
        await recordAudit(trx, {
          groupId,
          actor,
          event: {
            action: 'user.created',
            target: { type: 'user', id: userId },
            companyId,
            changes: { email: person.email, name: person.name, companyId, departmentId },
          },
        });
      }
      for (const role of person.roles) {
        if (person === admin && role === 'system_admin') continue;
        await assign(trx, { groupId, userId, role, companyId });
      }
      if (person.head) {
        await updateDepartment(trx, departmentId, { head_user_id: userId });
        await recordAudit(trx, {
          groupId,
          actor,
          event: {
            action: 'department.updated',
            target: { type: 'department', id: departmentId },
            companyId,
            changes: { from: { headUserId: null }, to: { headUserId: userId } },
          },
        });
      }
      if (person.email.startsWith('resigned@')) {
        await updateUser(trx, userId, { status: 'resigned', status_changed_at: new Date() });
        await recordAudit(trx, {
          groupId,
          actor,
          event: {
            action: 'user.status_changed',
            target: { type: 'user', id: userId },
            companyId,
            changes: { from: 'active', to: 'resigned', reason: '离职 (demo)', sessionsEnded: 0 },
          },
        });
      }
    }
    await seedDemoSeals(ctx, trx, {
      org: { groupId, companies: companyIds, departments: departmentIds, users: userIds },
      images,
      actor,
      at: ctx.now(),
    });
  });
  // As after any bulk load: statistics, so the first requests are planned on what is there (autovacuum
  // would analyse the bigger tables within a minute, tables this small never), and the visibility map.
  await vacuumAnalyze(db);
  return { created: true, password, logins: loginsOf() };
}

async function assign(trx: Transaction, row: { groupId: string; userId: string; role: Role; companyId: string }) {
  const id = newId();
  await insertAssignment(trx, { id, ...row, createdBy: null });
  await recordAudit(trx, {
    groupId: row.groupId,
    actor,
    event: {
      action: 'role.assigned',
      target: { type: 'role_assignment', id },
      companyId: row.companyId,
      changes: { assignmentId: id, role: row.role, companyId: row.companyId },
    },
  });
}
