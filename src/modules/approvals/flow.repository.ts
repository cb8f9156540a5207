import type { Db, FlowPurpose, Transaction } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';

export interface FlowRecord {
  id: string;
  companyId: string;
  companyPath: string;
  purpose: FlowPurpose;
  category: string | null;
  sealId: string | null;
  name: string;
  version: number;
  versionId: string;
  status: 'active' | 'archived';
  definition: unknown;
  createdAt: Date;
}

function selectFlows(db: Db | Transaction) {
  return db
    .selectFrom('flows as f')
    .innerJoin('companies as c', 'c.id', 'f.company_id')
    .innerJoin('flow_versions as v', (join) =>
      join.onRef('v.flow_id', '=', 'f.id').onRef('v.version', '=', 'f.current_version'),
    )
    .select([
      'f.id',
      'f.company_id as companyId',
      'c.path as companyPath',
      'f.purpose',
      'f.category',
      'f.seal_id as sealId',
      'f.name',
      'f.current_version as version',
      'v.id as versionId',
      'f.status',
      'v.definition',
      'f.created_at as createdAt',
    ]);
}

/** The purposes of flows people manage; a group's separation-of-duties flow is built in, fixed, and not among them. */
export type ManagedFlowPurpose = Exclude<FlowPurpose, 'sod_change'>;
const managedPurposes: ManagedFlowPurpose[] = ['seal_use', 'lifecycle'];

/** A flow people manage (see `ManagedFlowPurpose`). */
export type ManagedFlowRecord = FlowRecord & { purpose: ManagedFlowPurpose };

function selectManagedFlows(db: Db | Transaction) {
  return selectFlows(db).where('f.purpose', 'in', managedPurposes).$narrowType<{ purpose: ManagedFlowPurpose }>();
}

export async function findFlow(
  db: Db | Transaction,
  where: { groupId: string; id: string; scope?: string[] },
  options: { lock?: boolean } = {},
): Promise<ManagedFlowRecord | undefined> {
  let query = selectManagedFlows(db).where('f.group_id', '=', where.groupId).where('f.id', '=', where.id);
  if (where.scope) {
    const scope = where.scope;
    query = query.where((eb) => inScope(eb, 'c.path', scope));
  }
  return options.lock ? query.forUpdate('f').executeTakeFirst() : query.executeTakeFirst();
}

export async function findFlows(
  db: Db,
  filter: { groupId: string; scope: string[]; companyId?: string | undefined; includeArchived: boolean },
): Promise<ManagedFlowRecord[]> {
  let query = selectManagedFlows(db)
    .where('f.group_id', '=', filter.groupId)
    .where((eb) => inScope(eb, 'c.path', filter.scope));
  if (filter.companyId) query = query.where('f.company_id', '=', filter.companyId);
  if (!filter.includeArchived) query = query.where('f.status', '=', 'active');
  return query.orderBy('c.path').orderBy('f.name').limit(2000).execute();
}

/**
 * The flows that could serve an application: bound to the seal, or owned by a company
 * on the path from the seal's company to the head company. The service picks the nearest.
 */
export async function findCandidateFlows(
  db: Db | Transaction,
  q: { groupId: string; purpose: FlowPurpose; sealIds: string[]; companyIds: string[] },
): Promise<FlowRecord[]> {
  return selectFlows(db)
    .where('f.group_id', '=', q.groupId)
    .where('f.purpose', '=', q.purpose)
    .where('f.status', '=', 'active')
    .where((eb) =>
      eb.or([
        ...(q.sealIds.length > 0 ? [eb('f.seal_id', 'in', q.sealIds)] : []),
        eb.and([eb('f.seal_id', 'is', null), eb('f.company_id', 'in', q.companyIds)]),
      ]),
    )
    .execute();
}

export async function insertFlow(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    companyId: string;
    purpose: FlowPurpose;
    category: string | null;
    sealId: string | null;
    name: string;
    createdBy: string | null;
  },
) {
  await trx
    .insertInto('flows')
    .values({
      id: row.id,
      group_id: row.groupId,
      company_id: row.companyId,
      purpose: row.purpose,
      category: row.category,
      seal_id: row.sealId,
      name: row.name,
      current_version: 1,
      created_by: row.createdBy,
    })
    .execute();
}

export async function insertFlowVersion(
  trx: Transaction,
  row: { id: string; groupId: string; flowId: string; version: number; definition: unknown; createdBy: string | null },
) {
  await trx
    .insertInto('flow_versions')
    .values({
      id: row.id,
      group_id: row.groupId,
      flow_id: row.flowId,
      version: row.version,
      definition: JSON.stringify(row.definition),
      created_by: row.createdBy,
    })
    .execute();
}

export async function updateFlow(
  trx: Transaction,
  id: string,
  patch: { name?: string; current_version?: number; status?: 'active' | 'archived' },
) {
  await trx.updateTable('flows').set(patch).where('id', '=', id).execute();
}

export async function findFlowVersion(db: Db | Transaction, groupId: string, versionId: string) {
  return db
    .selectFrom('flow_versions')
    .select(['id', 'flow_id as flowId', 'version', 'definition'])
    .where('group_id', '=', groupId)
    .where('id', '=', versionId)
    .executeTakeFirst();
}
