import { sql } from 'kysely';
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres';
import type { Db, SealKind, SealStatus, SealType, Transaction } from '../../db/schema.js';
import { precompiled } from '../../db/precompiled.js';
import { escapeLike, inScope } from '../../db/scope.js';

export interface SealRecord {
  id: string;
  companyId: string;
  companyName: string;
  companyPath: string;
  code: string;
  name: string;
  kind: SealKind;
  type: SealType;
  customType: string | null;
  status: SealStatus;
  imageSha256: string | null;
  description: string | null;
  needsCustodian: boolean;
  producedAt: Date | null;
  statusChangedAt: Date | null;
  createdAt: Date;
  custodians: Array<{ userId: string; name: string }>;
  activeGrants: number;
  /** The seal's newest certificate (electronic seals), whatever its status; null before the first is issued. */
  certificate: SealCertificateSummary | null;
}

export interface SealCertificateSummary {
  id: string;
  serialNumber: string;
  subject: string;
  issuer: string;
  source: 'issued' | 'imported';
  keySpec: string;
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
  status: 'active' | 'revoked';
  revocationReason: string | null;
}

function selectSeals(db: Db | Transaction) {
  return db
    .selectFrom('seals as s')
    .innerJoin('companies as c', 'c.id', 's.company_id')
    .select((eb) => [
      's.id',
      's.company_id as companyId',
      'c.name as companyName',
      'c.path as companyPath',
      's.code',
      's.name',
      's.kind',
      's.type',
      's.custom_type as customType',
      's.status',
      's.image_sha256 as imageSha256',
      's.description',
      's.needs_custodian as needsCustodian',
      's.produced_at as producedAt',
      's.status_changed_at as statusChangedAt',
      's.created_at as createdAt',
      jsonArrayFrom(
        eb
          .selectFrom('seal_custodians as k')
          .innerJoin('users as u', 'u.id', 'k.user_id')
          .select(['k.user_id as userId', 'u.name'])
          .whereRef('k.seal_id', '=', 's.id')
          .orderBy('u.name'),
      ).as('custodians'),
      eb
        .selectFrom('seal_grants as g')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('g.seal_id', '=', 's.id')
        .where('g.revoked_at', 'is', null)
        .as('activeGrants'),
      jsonObjectFrom(
        eb
          .selectFrom('certificates as x')
          .select([
            'x.id',
            'x.serial as serialNumber',
            'x.subject',
            'x.issuer',
            'x.source',
            'x.key_spec as keySpec',
            'x.fingerprint',
            'x.not_before as notBefore',
            'x.not_after as notAfter',
            'x.status',
            'x.revocation_reason as revocationReason',
          ])
          .whereRef('x.seal_id', '=', 's.id')
          .where('x.purpose', '=', 'seal')
          .orderBy('x.created_at', 'desc')
          .orderBy('x.id', 'desc')
          .limit(1),
      ).as('certificate'),
    ]);
}

type CertificateJson = Omit<SealCertificateSummary, 'notBefore' | 'notAfter'> & {
  notBefore: string | Date;
  notAfter: string | Date;
};
type SealRow = Omit<SealRecord, 'activeGrants' | 'certificate'> & {
  activeGrants: number | null;
  certificate: CertificateJson | null;
};
// Dates inside a JSON sub-object arrive as text.
const normalise = (row: SealRow): SealRecord => ({
  ...row,
  activeGrants: Number(row.activeGrants ?? 0),
  certificate: row.certificate
    ? {
        ...row.certificate,
        notBefore: new Date(row.certificate.notBefore),
        notAfter: new Date(row.certificate.notAfter),
      }
    : null,
});

// Read at each signature with a seal and each contract sent with one: built once.
const selectSealById = precompiled((db, where: { groupId: string; id: string }) =>
  selectSeals(db).where('s.group_id', '=', where.groupId).where('s.id', '=', where.id),
);

export async function findSeal(
  db: Db | Transaction,
  where: { groupId: string; id: string; scope?: string[] },
): Promise<SealRecord | undefined> {
  const { scope } = where;
  const row = scope
    ? await selectSeals(db)
        .where('s.group_id', '=', where.groupId)
        .where('s.id', '=', where.id)
        .where((eb) => inScope(eb, 'c.path', scope))
        .executeTakeFirst()
    : (await selectSealById(db, { groupId: where.groupId, id: where.id }))[0];
  return row ? normalise(row) : undefined;
}

/** Locks the seal row: lifecycle steps and grants check its status under this lock. */
export async function lockSeal(
  trx: Transaction,
  groupId: string,
  id: string,
): Promise<{ name: string; status: SealStatus; companyId: string; imageSha256: string | null } | undefined> {
  return trx
    .selectFrom('seals')
    .select(['name', 'status', 'company_id as companyId', 'image_sha256 as imageSha256'])
    .where('group_id', '=', groupId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

export interface SealListFilter {
  groupId: string;
  scope: string[];
  companyId?: string | undefined;
  under?: string | undefined;
  kind?: SealKind | undefined;
  type?: SealType | undefined;
  status?: SealStatus | undefined;
  custodianId?: string | undefined;
  needsCustodian?: boolean | undefined;
  q?: string | undefined;
  after?: { path: string; code: string } | undefined;
  limit: number;
}

/** The seal library: classified by company (tree order) then type and code. */
export async function findSeals(db: Db, filter: SealListFilter): Promise<SealRecord[]> {
  let query = selectSeals(db)
    .where('s.group_id', '=', filter.groupId)
    .where((eb) => inScope(eb, 'c.path', filter.scope));
  if (filter.companyId) query = query.where('s.company_id', '=', filter.companyId);
  if (filter.under) query = query.where('c.path', 'like', `${escapeLike(filter.under)}%`);
  if (filter.kind) query = query.where('s.kind', '=', filter.kind);
  if (filter.type) query = query.where('s.type', '=', filter.type);
  if (filter.status) query = query.where('s.status', '=', filter.status);
  if (filter.needsCustodian !== undefined) query = query.where('s.needs_custodian', '=', filter.needsCustodian);
  if (filter.custodianId) {
    const custodianId = filter.custodianId;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('seal_custodians as k')
          .select('k.seal_id')
          .whereRef('k.seal_id', '=', 's.id')
          .where('k.user_id', '=', custodianId),
      ),
    );
  }
  if (filter.q) {
    const pattern = `%${escapeLike(filter.q)}%`;
    query = query.where((eb) =>
      eb.or([eb('s.name', 'ilike', pattern), eb('s.code', 'ilike', pattern), eb('c.name', 'ilike', pattern)]),
    );
  }
  if (filter.after) {
    const after = filter.after;
    query = query.where((eb) => eb(eb.refTuple('c.path', 's.code'), '>', eb.tuple(after.path, after.code)));
  }
  const rows = await query.orderBy('c.path').orderBy('s.code').limit(filter.limit).execute();
  return rows.map(normalise);
}

/** How many seals, by company, kind, type and status, over a subtree: the library at a glance. */
export async function countSeals(db: Db, filter: { groupId: string; scope: string[]; under?: string | undefined }) {
  let query = db
    .selectFrom('seals as s')
    .innerJoin('companies as c', 'c.id', 's.company_id')
    .select([
      's.company_id as companyId',
      'c.name as companyName',
      's.kind',
      's.type',
      's.status',
      sql<number>`count(*)::int`.as('count'),
    ])
    .where('s.group_id', '=', filter.groupId)
    .where((eb) => inScope(eb, 'c.path', filter.scope));
  if (filter.under) query = query.where('c.path', 'like', `${escapeLike(filter.under)}%`);
  return query
    .groupBy(['s.company_id', 'c.name', 'c.path', 's.kind', 's.type', 's.status'])
    .orderBy('c.path')
    .execute();
}

export async function insertSeal(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    companyId: string;
    code: string;
    name: string;
    kind: SealKind;
    type: SealType;
    customType: string | null;
    status: SealStatus;
    description: string | null;
    imageSha256: string | null;
    imageMediaType: string | null;
    producedAt: Date | null;
  },
): Promise<void> {
  await trx
    .insertInto('seals')
    .values({
      id: row.id,
      group_id: row.groupId,
      company_id: row.companyId,
      code: row.code,
      name: row.name,
      kind: row.kind,
      type: row.type,
      custom_type: row.customType,
      status: row.status,
      description: row.description,
      image_sha256: row.imageSha256,
      image_media_type: row.imageMediaType,
      produced_at: row.producedAt,
      status_changed_at: null,
    })
    .execute();
}

export async function insertCustodian(
  trx: Transaction,
  row: { groupId: string; sealId: string; userId: string },
): Promise<void> {
  await trx
    .insertInto('seal_custodians')
    .values({ group_id: row.groupId, seal_id: row.sealId, user_id: row.userId })
    .execute();
}

/** Seals a person keeps, locked: on resignation each is flagged for a new custodian. */
export async function flagSealsKeptBy(
  trx: Transaction,
  groupId: string,
  userId: string,
): Promise<Array<{ id: string; companyId: string }>> {
  return trx
    .updateTable('seals')
    .set({ needs_custodian: true })
    .where('group_id', '=', groupId)
    .where('id', 'in', (eb) => eb.selectFrom('seal_custodians').select('seal_id').where('user_id', '=', userId))
    .where('status', '!=', 'destroyed')
    .returning(['id', 'company_id as companyId'])
    .execute();
}

export async function isCustodian(db: Db | Transaction, sealId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('seal_custodians')
    .select('user_id')
    .where('seal_id', '=', sealId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function updateSeal(
  trx: Transaction,
  id: string,
  patch: {
    status?: SealStatus;
    name?: string;
    description?: string | null;
    company_id?: string;
    status_changed_at?: Date;
    produced_at?: Date;
    needs_custodian?: boolean;
    image_sha256?: string;
    image_media_type?: string;
  },
) {
  await trx.updateTable('seals').set(patch).where('id', '=', id).execute();
}

export async function replaceCustodians(trx: Transaction, q: { groupId: string; sealId: string; userIds: string[] }) {
  await trx.deleteFrom('seal_custodians').where('seal_id', '=', q.sealId).execute();
  for (const userId of q.userIds) await insertCustodian(trx, { groupId: q.groupId, sealId: q.sealId, userId });
}

export async function findCustodianIds(db: Db | Transaction, sealId: string): Promise<string[]> {
  return (await db.selectFrom('seal_custodians').select('user_id').where('seal_id', '=', sealId).execute()).map(
    (r) => r.user_id,
  );
}

export async function isSealCodeTaken(db: Db | Transaction, groupId: string, code: string): Promise<boolean> {
  return (
    (await db
      .selectFrom('seals')
      .select('id')
      .where('group_id', '=', groupId)
      .where('code', '=', code)
      .executeTakeFirst()) !== undefined
  );
}
