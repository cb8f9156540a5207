// Contract templates: versioned per company (a new version never changes a contract made from an
// older one), usable by the company and the companies below it, managed by holders of
// `templates.manage`; a contract made from one renders and stores its PDF at creation.
import type { Transaction } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, notFound } from '../../server/errors.js';
import { storeBlob } from '../../blobs/blob.service.js';
import {
  TemplateError,
  checkTemplate,
  renderTemplate,
  seedTemplates,
  type TemplateProblem,
  type TemplateSource,
  type TemplateValues,
} from '../../templates/index.js';
import { isWithin, requireUser, scopeOf, type Actor, type Principal } from '../access/index.js';
import { recordAudit, type AuditActor } from '../audit/index.js';
import { findCompany } from '../companies/index.js';
import * as repo from './template.repository.js';

function managesOver(principal: Principal, companyPath: string): boolean {
  try {
    return isWithin(scopeOf(principal, 'templates.manage'), companyPath);
  } catch {
    return false;
  }
}

/** A template of the caller's company or one above it, or under what they manage; else not found. */
function canUse(principal: Principal, template: repo.TemplateRecord): boolean {
  return (
    (principal.companyPath !== null && principal.companyPath.startsWith(template.companyPath)) ||
    managesOver(principal, template.companyPath)
  );
}

export function templateInvalid(error: TemplateError, prefix: string): AppError {
  return new AppError('template_invalid', error.message, {
    problems: error.problems.map((p: TemplateProblem) => ({ ...p, field: `${prefix}${p.field}` })),
  });
}

function assertValid(source: TemplateSource): void {
  const problems = checkTemplate(source);
  if (problems.length) throw templateInvalid(new TemplateError('template', problems), 'body.source.');
}

async function getUsableTemplate(ctx: AppContext, actor: Actor, id: string) {
  const template = await repo.findTemplate(ctx.db, { groupId: actor.principal.groupId, id });
  if (!template || !canUse(actor.principal, template)) throw notFound('template_not_found', id);
  return template;
}

function view(template: repo.TemplateRecord) {
  const { companyPath: _path, groupId: _group, ...rest } = template;
  return rest;
}

export async function listTemplates(ctx: AppContext, actor: Actor) {
  const { principal } = actor;
  let under: string[] = [];
  try {
    under = scopeOf(principal, 'templates.manage');
  } catch {
    under = [];
  }
  const rows = await repo.findTemplates(ctx.db, {
    groupId: principal.groupId,
    ancestorsOf: principal.companyPath,
    under,
  });
  return rows.map(view);
}

export async function getTemplate(ctx: AppContext, actor: Actor, id: string, version?: number) {
  const template = await getUsableTemplate(ctx, actor, id);
  const found = await repo.findVersion(ctx.db, { templateId: id, version: version ?? template.latestVersion });
  if (!found) throw notFound('template_not_found', `${id} v${version}`);
  return {
    ...view(template),
    version: found.version,
    source: found.source as TemplateSource,
    versions: await repo.findVersions(ctx.db, id),
  };
}

/** Inserts a template and its first version; the seeding of a new group uses it too. */
export async function insertTemplateWithSource(
  trx: Transaction,
  q: {
    groupId: string;
    companyId: string;
    name: string;
    category: string;
    source: TemplateSource;
    createdBy: string;
    actor: AuditActor;
    at: Date;
  },
): Promise<string> {
  const id = newId();
  await repo.insertTemplate(trx, { id, ...q });
  await repo.insertVersion(trx, {
    id: newId(),
    groupId: q.groupId,
    templateId: id,
    version: 1,
    source: q.source,
    createdBy: q.createdBy,
    at: q.at,
  });
  await recordAudit(trx, {
    groupId: q.groupId,
    actor: q.actor,
    at: q.at,
    event: {
      action: 'template.created',
      target: { type: 'template', id },
      companyId: q.companyId,
      changes: { templateId: id, name: q.name, category: q.category },
    },
  });
  return id;
}

export async function createTemplate(
  ctx: AppContext,
  actor: Actor,
  input: { companyId?: string | undefined; name: string; category: string; source: TemplateSource },
) {
  const { principal } = actor;
  const userId = requireUser(principal);
  const companyId = input.companyId ?? principal.companyId;
  const company = companyId ? await findCompany(ctx.db, { groupId: principal.groupId, id: companyId }) : undefined;
  if (!company || !companyId) throw notFound('company_not_found', companyId ?? '');
  if (!managesOver(principal, company.path))
    throw new AppError('forbidden', 'Managing templates needs the templates.manage permission over the company.');
  assertValid(input.source);
  if (await repo.isTemplateNameTaken(ctx.db, { groupId: principal.groupId, companyId, name: input.name }))
    throw new AppError('validation_failed', `The company already has a template named ${input.name}.`, {
      errors: [{ field: 'body.name', message: 'is taken by another template of the company' }],
    });
  const id = await ctx.db.transaction().execute((trx) =>
    insertTemplateWithSource(trx, {
      groupId: principal.groupId,
      companyId,
      name: input.name,
      category: input.category,
      source: input.source,
      createdBy: userId,
      actor,
      at: ctx.now(),
    }),
  );
  return getTemplate(ctx, actor, id);
}

export async function addTemplateVersion(ctx: AppContext, actor: Actor, id: string, source: TemplateSource) {
  const userId = requireUser(actor.principal);
  const template = await getUsableTemplate(ctx, actor, id);
  if (!managesOver(actor.principal, template.companyPath))
    throw new AppError('forbidden', 'Managing templates needs the templates.manage permission over the company.');
  assertValid(source);
  await ctx.db.transaction().execute(async (trx) => {
    const locked = await repo.lockTemplate(trx, id);
    if (!locked) throw notFound('template_not_found', id);
    const version = locked.latestVersion + 1;
    const now = ctx.now();
    await repo.insertVersion(trx, {
      id: newId(),
      groupId: template.groupId,
      templateId: id,
      version,
      source,
      createdBy: userId,
      at: now,
    });
    await recordAudit(trx, {
      groupId: template.groupId,
      actor,
      at: now,
      event: {
        action: 'template.version_added',
        target: { type: 'template', id },
        companyId: template.companyId,
        changes: { templateId: id, version },
      },
    });
  });
  return getTemplate(ctx, actor, id);
}

/** Renders a version with values: for a preview, or to store as a new contract's PDF. */
export async function renderVersion(
  ctx: AppContext,
  actor: Actor,
  q: { templateId: string; version?: number | undefined; values: TemplateValues },
) {
  const template = await getTemplate(ctx, actor, q.templateId, q.version);
  try {
    const rendered = await renderTemplate(template.source, q.values, { now: ctx.now() });
    return { template, pdf: rendered.pdf, pages: rendered.pages };
  } catch (error) {
    if (error instanceof TemplateError) throw templateInvalid(error, error.kind === 'values' ? 'body.' : 'template.');
    throw error;
  }
}

/** Renders and stores a template's PDF as the caller's upload, for a contract to be made from. */
export async function storeRendered(
  ctx: AppContext,
  actor: Actor,
  q: { templateId: string; version?: number | undefined; values: TemplateValues; name: string },
) {
  const userId = requireUser(actor.principal);
  const { template, pdf } = await renderVersion(ctx, actor, q);
  const versionId = template.versions.find((v) => v.version === template.version)!.id;
  const blob = await ctx.db.transaction().execute((trx) =>
    storeBlob(trx, ctx.blobs, {
      groupId: actor.principal.groupId,
      bytes: pdf,
      mediaType: 'application/pdf',
      originalName: `${q.name}.pdf`,
      createdBy: userId,
      at: ctx.now(),
    }),
  );
  return { sha256: blob.sha256, versionId, category: template.category };
}

/** The three templates a new group starts with, under its head company (in the group's creating transaction). */
export async function seedGroupTemplates(
  trx: Transaction,
  q: { groupId: string; companyId: string; createdBy: string; actor: AuditActor; at: Date },
): Promise<void> {
  const categories = { 'labour-contract': 'personnel', 'purchase-contract': 'procurement', nda: 'legal' } as const;
  for (const seed of seedTemplates)
    await insertTemplateWithSource(trx, {
      ...q,
      name: seed.source.title,
      category: categories[seed.key],
      source: seed.source,
    });
}
