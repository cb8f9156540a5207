import { sql } from 'kysely';
import { precompiled } from '../../db/precompiled.js';
import type { Db, SealStatus, Transaction } from '../../db/schema.js';

export interface SignatureRecord {
  id: string;
  companyId: string;
  companyPath: string;
  userId: string;
  userName: string;
  sealId: string | null;
  sealName: string | null;
  certificateId: string;
  certificateSerial: string;
  authorizationId: string | null;
  grantId: string | null;
  category: string | null;
  level: 'B-B' | 'B-T' | 'B-LT' | 'B-LTA';
  fieldName: string;
  reason: string | null;
  documentName: string | null;
  inputSha256: string;
  outputSha256: string;
  originalSha256: string;
  signedAt: Date;
}

function selectSignatures(db: Db | Transaction) {
  return db
    .selectFrom('signatures as g')
    .innerJoin('companies as c', 'c.id', 'g.company_id')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .innerJoin('certificates as x', 'x.id', 'g.certificate_id')
    .leftJoin('seals as s', 's.id', 'g.seal_id')
    .select([
      'g.id',
      'g.company_id as companyId',
      'c.path as companyPath',
      'g.user_id as userId',
      'u.name as userName',
      'g.seal_id as sealId',
      's.name as sealName',
      'g.certificate_id as certificateId',
      'x.serial as certificateSerial',
      'g.authorization_id as authorizationId',
      'g.grant_id as grantId',
      'g.category',
      'g.level',
      'g.field_name as fieldName',
      'g.reason',
      'g.document_name as documentName',
      'g.input_sha256 as inputSha256',
      'g.output_sha256 as outputSha256',
      'g.original_sha256 as originalSha256',
      'g.signed_at as signedAt',
    ]);
}

export async function findSignature(
  db: Db | Transaction,
  where: { groupId: string; id: string },
): Promise<SignatureRecord | undefined> {
  return selectSignatures(db).where('g.group_id', '=', where.groupId).where('g.id', '=', where.id).executeTakeFirst();
}

/** The signatures whose output is this file: how the archive knows a signed document. */
export async function findSignaturesByOutput(
  db: Db | Transaction,
  where: { groupId: string; sha256: string },
): Promise<SignatureRecord[]> {
  return selectSignatures(db)
    .where('g.group_id', '=', where.groupId)
    .where('g.output_sha256', '=', where.sha256)
    .orderBy('g.signed_at')
    .limit(20)
    .execute();
}

/** Every signature of the chain that started from this document, oldest first (a chain is a few stamps; 200 bounds a runaway one). */
export async function findSignaturesByOriginal(
  db: Db | Transaction,
  where: { groupId: string; originalSha256: string },
): Promise<SignatureRecord[]> {
  return selectSignatures(db)
    .where('g.group_id', '=', where.groupId)
    .where('g.original_sha256', '=', where.originalSha256)
    .orderBy('g.signed_at')
    .orderBy('g.id')
    .limit(200)
    .execute();
}

/**
 * Signatures over chains that started from any of these originals, except those made under the
 * given authorizations: what was stamped on an application's documents outside that application.
 * Newest first; `limit` bounds the answer (the caller asks one more to know there are more).
 */
export async function findSignaturesOfOriginalsOutside(
  db: Db,
  where: { groupId: string; originalSha256s: string[]; authorizationIds: string[]; limit: number },
): Promise<SignatureRecord[]> {
  if (where.originalSha256s.length === 0) return [];
  let query = selectSignatures(db)
    .where('g.group_id', '=', where.groupId)
    .where('g.original_sha256', 'in', where.originalSha256s);
  const own = where.authorizationIds;
  if (own.length > 0)
    query = query.where((eb) => eb.or([eb('g.authorization_id', 'is', null), eb('g.authorization_id', 'not in', own)]));
  return query.orderBy('g.signed_at', 'desc').orderBy('g.id', 'desc').limit(where.limit).execute();
}

/** A file the platform made by signing, as the file itself shows it: no group, person or record ids. */
export interface PlatformOutput {
  /** When the platform made this exact file (its newest signature). */
  signedAt: Date;
  /** The platform's signatures the file carries, oldest first, each by its certificate's names. */
  signatures: Array<{ signedAt: Date; subject: string; issuer: string; level: SignatureRecord['level'] }>;
}

/** Signatures a chain can have before the walk stops (a chain is a few stamps; this bounds a runaway one). */
const CHAIN_LIMIT = 200;

/**
 * Whether any group's signing produced this exact file, and the platform's signatures in it: the
 * signature whose output it is, then the one whose output was that signature's input, and so on
 * back to the uploaded original (every earlier signature of the chain is an earlier revision of
 * the file). Across groups, for the public lookup; `signatures_output_sha256` serves the first step.
 */
export async function findPlatformOutput(db: Db, sha256: string): Promise<PlatformOutput | undefined> {
  const { rows } = await sql<{ signed_at: Date; subject: string; issuer: string; level: SignatureRecord['level'] }>`
    with recursive chain as (
      (select group_id, input_sha256, certificate_id, level, signed_at, 1 as depth
         from signatures where output_sha256 = ${sha256} order by signed_at limit 1)
      union all
      select s.group_id, s.input_sha256, s.certificate_id, s.level, s.signed_at, chain.depth + 1
        from chain join signatures s on s.group_id = chain.group_id and s.output_sha256 = chain.input_sha256
       where chain.depth < ${CHAIN_LIMIT}
    )
    select chain.signed_at, x.subject, x.issuer, chain.level
      from chain join certificates x on x.id = chain.certificate_id
     order by chain.depth desc`.execute(db);
  const newest = rows.at(-1);
  if (!newest) return undefined;
  return {
    signedAt: newest.signed_at,
    signatures: rows.map((r) => ({ signedAt: r.signed_at, subject: r.subject, issuer: r.issuer, level: r.level })),
  };
}

/**
 * The documents chains of signatures started from, for those of these files that are signed
 * outputs (by hash of the output). One statement for a batch's documents.
 */
export async function findOriginals(
  db: Db | Transaction,
  where: { groupId: string; sha256s: readonly string[] },
): Promise<Map<string, string>> {
  if (where.sha256s.length === 0) return new Map();
  const rows = await db
    .selectFrom('signatures')
    .select(['output_sha256 as output', 'original_sha256 as original'])
    .distinctOn('output_sha256')
    .where('group_id', '=', where.groupId)
    .where('output_sha256', 'in', [...where.sha256s])
    .execute();
  return new Map(rows.map((r) => [r.output, r.original]));
}

/** Whether the person signed anything in the chain that started from this document (`sha256`, the original). */
export async function hasSignedChain(
  db: Db | Transaction,
  where: { groupId: string; sha256: string; userId: string },
): Promise<boolean> {
  const row = await db
    .selectFrom('signatures')
    .select('id')
    .where('group_id', '=', where.groupId)
    .where('original_sha256', '=', where.sha256)
    .where('user_id', '=', where.userId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

// The statement of `lockSealForUse`, built once.
const selectSealForUse = precompiled((trx, where: { groupId: string; sealId: string }) =>
  trx
    .selectFrom('seals')
    .select('status')
    .where('group_id', '=', where.groupId)
    .where('id', '=', where.sealId)
    .forShare(),
);

/**
 * The seal's status under a share lock for the length of the signing transaction: signatures
 * of one seal run side by side, while a lifecycle step (which locks the row for update) waits
 * for them, or they wait for it and then see its new status.
 */
export async function lockSealForUse(
  trx: Transaction,
  where: { groupId: string; sealId: string },
): Promise<{ status: SealStatus } | undefined> {
  return (await selectSealForUse(trx, where))[0];
}

/** A new signature: the record without what is read through its references (company path, names, serial), with its group. */
export type NewSignature = Omit<SignatureRecord, 'companyPath' | 'userName' | 'sealName' | 'certificateSerial'> & {
  groupId: string;
};

export async function insertSignature(trx: Transaction, row: NewSignature): Promise<void> {
  await signatureInsert(trx, row).execute();
}

/** The insert, not yet run, for a statement of the caller's (`WriteBatch`). */
export function signatureInsert(trx: Db | Transaction, row: NewSignature) {
  return signaturesInsert(trx, [row]);
}

/** The insert of several signatures, not yet run (for a `WriteBatch`: a batch's group commit). */
export function signaturesInsert(trx: Db | Transaction, rows: readonly NewSignature[]) {
  return trx.insertInto('signatures').values(
    rows.map((row) => ({
      id: row.id,
      group_id: row.groupId,
      company_id: row.companyId,
      user_id: row.userId,
      seal_id: row.sealId,
      certificate_id: row.certificateId,
      authorization_id: row.authorizationId,
      grant_id: row.grantId,
      category: row.category,
      level: row.level,
      field_name: row.fieldName,
      reason: row.reason,
      document_name: row.documentName,
      input_sha256: row.inputSha256,
      output_sha256: row.outputSha256,
      original_sha256: row.originalSha256,
      signed_at: row.signedAt,
    })),
  );
}

/** The person's company (a personal signature is recorded under it). */
export async function findUserCompany(
  db: Db | Transaction,
  where: { groupId: string; userId: string },
): Promise<{ companyId: string; status: string } | undefined> {
  return db
    .selectFrom('users')
    .select(['company_id as companyId', 'status'])
    .where('group_id', '=', where.groupId)
    .where('id', '=', where.userId)
    .executeTakeFirst();
}
