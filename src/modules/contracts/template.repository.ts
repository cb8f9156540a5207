import { sql } from 'kysely';
import type { Db, Transaction } from '../../db/schema.js';
import { escapeLike } from '../../db/scope.js';

export interface TemplateRecord {
  id: string;
  groupId: string;
  companyId: string;
  companyName: string;
  companyPath: string;
  name: string;
  category: string;
  latestVersion: number;
  createdBy: string;
  createdAt: Date;
}

const selectTemplates = (db: Db | Transaction) =>
  db
    .selectFrom('templates as t')
    .innerJoin('companies as c', 'c.id', 't.company_id')
    .select([
      't.id',
      't.group_id as groupId',
      't.company_id as companyId',
      'c.name as companyName',
      'c.path as companyPath',
      't.name',
      't.category',
      't.latest_version as latestVersion',
      't.created_by as createdBy',
      't.created_at as createdAt',
    ])
    .where('t.archived_at', 'is', null);

export async function findTemplate(db: Db | Transaction, where: { groupId: string; id: string }) {
  return selectTemplates(db).where('t.group_id', '=', where.groupId).where('t.id', '=', where.id).executeTakeFirst();
}

/** Templates of the companies on these paths (a company's own and those of the companies above it), or under these roots. */
export async function findTemplates(
  db: Db,
  q: { groupId: string; ancestorsOf: string | null; under: string[] },
): Promise<TemplateRecord[]> {
  return selectTemplates(db)
    .where('t.group_id', '=', q.groupId)
    .where((eb) =>
      eb.or([
        ...(q.ancestorsOf ? [sql<boolean>`${q.ancestorsOf} like c.path || '%'`] : []),
        ...q.under.map((root) => eb('c.path', 'like', `${escapeLike(root)}%`)),
      ]),
    )
    .orderBy('t.name')
    .execute();
}

export async function isTemplateNameTaken(
  db: Db | Transaction,
  q: { groupId: string; companyId: string; name: string },
): Promise<boolean> {
  const row = await db
    .selectFrom('templates')
    .select('id')
    .where('group_id', '=', q.groupId)
    .where('company_id', '=', q.companyId)
    .where('name', '=', q.name)
    .where('archived_at', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}

export async function insertTemplate(
  trx: Transaction,
  row: { id: string; groupId: string; companyId: string; name: string; category: string; createdBy: string; at: Date },
): Promise<void> {
  await trx
    .insertInto('templates')
    .values({
      id: row.id,
      group_id: row.groupId,
      company_id: row.companyId,
      name: row.name,
      category: row.category,
      latest_version: 1,
      created_by: row.createdBy,
      created_at: row.at,
      archived_at: null,
    })
    .execute();
}

/** The template row under lock, so two editors cannot both make version n + 1. */
export async function lockTemplate(trx: Transaction, id: string): Promise<{ latestVersion: number } | undefined> {
  return trx
    .selectFrom('templates')
    .select('latest_version as latestVersion')
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

export async function insertVersion(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    templateId: string;
    version: number;
    source: unknown;
    createdBy: string;
    at: Date;
  },
): Promise<void> {
  await trx
    .insertInto('template_versions')
    .values({
      id: row.id,
      group_id: row.groupId,
      template_id: row.templateId,
      version: row.version,
      source: JSON.stringify(row.source),
      created_by: row.createdBy,
      created_at: row.at,
    })
    .execute();
  await trx.updateTable('templates').set({ latest_version: row.version }).where('id', '=', row.templateId).execute();
}

export async function findVersion(db: Db | Transaction, where: { templateId: string; version: number }) {
  return db
    .selectFrom('template_versions')
    .select(['id', 'version', 'source', 'created_at as createdAt', 'created_by as createdBy'])
    .where('template_id', '=', where.templateId)
    .where('version', '=', where.version)
    .executeTakeFirst();
}

export async function findVersions(db: Db, templateId: string) {
  return db
    .selectFrom('template_versions')
    .select(['id', 'version', 'created_at as createdAt', 'created_by as createdBy'])
    .where('template_id', '=', templateId)
    .orderBy('version', 'desc')
    .execute();
}
