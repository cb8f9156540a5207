import { sql } from 'kysely';
import type { CertificatePurpose, Db, RevocationReasonName, Transaction } from '../../db/schema.js';
import { precompiled } from '../../db/precompiled.js';
import { type KeyReference } from '../../signing/index.js';

/** A certificate Sigil holds, with where its key lives (the key itself stays sealed or in the token). */
export interface CertificateRecord {
  id: string;
  groupId: string | null;
  purpose: CertificatePurpose;
  issuerId: string | null;
  sealId: string | null;
  userId: string | null;
  source: 'issued' | 'imported';
  serial: string;
  subject: string;
  issuer: string;
  keySpec: string;
  notBefore: Date;
  notAfter: Date;
  der: Buffer;
  /** The issuers of an imported certificate (outside CA), nearest first. */
  chain: Buffer[];
  key: KeyReference;
  keyStore: 'database' | 'pkcs11' | 'none';
  fingerprint: string;
  status: 'active' | 'revoked';
  revokedAt: Date | null;
  revocationReason: RevocationReasonName | null;
  createdAt: Date;
}

const columns = [
  'id',
  'group_id as groupId',
  'purpose',
  'issuer_id as issuerId',
  'seal_id as sealId',
  'user_id as userId',
  'source',
  'serial',
  'subject',
  'issuer',
  'key_spec as keySpec',
  'not_before as notBefore',
  'not_after as notAfter',
  'der',
  'chain',
  'key_store as keyStore',
  'sealed_key as sealedKey',
  'token_label as tokenLabel',
  'token_key_id as tokenKeyId',
  'fingerprint',
  'status',
  'revoked_at as revokedAt',
  'revocation_reason as revocationReason',
  'created_at as createdAt',
] as const;

/** A certificate as stored: its key as the columns that hold or name it, bytes as the drivers give them. */
interface CertificateRow extends Omit<CertificateRecord, 'der' | 'chain' | 'key'> {
  der: Uint8Array;
  chain: string[];
  sealedKey: string | null;
  tokenLabel: string | null;
  tokenKeyId: string | null;
}

function toRecord(row: CertificateRow): CertificateRecord {
  const { sealedKey, tokenLabel, tokenKeyId, der, chain, ...rest } = row;
  const key: KeyReference =
    row.keyStore === 'database'
      ? { store: 'database', sealed: sealedKey ?? '' }
      : { store: 'pkcs11', tokenLabel: tokenLabel ?? '', keyId: tokenKeyId ?? '' };
  // pg answers bytea as Buffer, PGlite as Uint8Array.
  return { ...rest, der: Buffer.from(der), chain: chain.map((c) => Buffer.from(c, 'base64')), key };
}

const selectCertificates = (db: Db | Transaction) => db.selectFrom('certificates').select(columns);

export async function findCertificate(db: Db | Transaction, id: string): Promise<CertificateRecord | undefined> {
  const row = await selectCertificates(db).where('id', '=', id).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

export async function findCertificateByFingerprint(
  db: Db | Transaction,
  fingerprint: string,
): Promise<CertificateRecord | undefined> {
  const row = await selectCertificates(db).where('fingerprint', '=', fingerprint).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** The deployment's active root CA, TSA or SM2 root certificate. */
export async function findDeploymentCertificate(
  db: Db | Transaction,
  purpose: 'root_ca' | 'tsa' | 'sm2_root_ca',
): Promise<CertificateRecord | undefined> {
  const row = await selectCertificates(db)
    .where('group_id', 'is', null)
    .where('purpose', '=', purpose)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

export async function findGroupCa(
  db: Db | Transaction,
  groupId: string,
  purpose: 'issuing_ca' | 'sm2_issuing_ca' | 'sm2_seal_maker' = 'issuing_ca',
): Promise<CertificateRecord | undefined> {
  const row = await selectCertificates(db)
    .where('group_id', '=', groupId)
    .where('purpose', '=', purpose)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** Issuing CAs of the deployment with these subjects (to find CRLs for a document signed by another group). */
export async function findIssuingCasBySubject(
  db: Db,
  subjects: string[],
  purpose: 'issuing_ca' | 'sm2_issuing_ca' = 'issuing_ca',
): Promise<CertificateRecord[]> {
  if (subjects.length === 0) return [];
  const rows = await selectCertificates(db)
    .where('purpose', '=', purpose)
    .where('status', '=', 'active')
    .where('subject', 'in', subjects)
    .limit(20)
    .execute();
  return rows.map(toRecord);
}

// Read at each signature (the signer's certificate): built once.
const selectActiveOfSeal = precompiled((db, where: { groupId: string; purpose: 'seal' | 'sm2_seal'; sealId: string }) =>
  selectCertificates(db)
    .where('group_id', '=', where.groupId)
    .where('status', '=', 'active')
    .where('purpose', '=', where.purpose)
    .where('seal_id', '=', where.sealId),
);
const selectActiveOfPerson = precompiled((db, where: { groupId: string; userId: string }) =>
  selectCertificates(db)
    .where('group_id', '=', where.groupId)
    .where('status', '=', 'active')
    .where('purpose', '=', 'person')
    .where('user_id', '=', where.userId),
);

/** The active certificate of a seal (its SM2 one with `sm2`) or a person. */
export async function findActiveCertificate(
  db: Db | Transaction,
  where: { groupId: string; sealId?: string; userId?: string; sm2?: boolean },
): Promise<CertificateRecord | undefined> {
  const { groupId, sealId, userId } = where;
  const [row] = sealId
    ? await selectActiveOfSeal(db, { groupId, purpose: where.sm2 ? 'sm2_seal' : 'seal', sealId })
    : userId
      ? await selectActiveOfPerson(db, { groupId, userId })
      : [];
  return row ? toRecord(row) : undefined;
}

/** The newest certificate of a seal or a person, whatever its status (the file card shows a revoked one as revoked). */
export async function findLatestCertificate(
  db: Db | Transaction,
  where: { groupId: string; sealId?: string; userId?: string },
): Promise<CertificateRecord | undefined> {
  let query = selectCertificates(db).where('group_id', '=', where.groupId);
  if (where.sealId) query = query.where('purpose', '=', 'seal').where('seal_id', '=', where.sealId);
  else if (where.userId) query = query.where('purpose', '=', 'person').where('user_id', '=', where.userId);
  else return undefined;
  const row = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** A certificate to store: the record without what the database sets (status, revocation, time) or derives (key store), seal, person and chain optional. */
export type NewCertificate = Omit<
  CertificateRecord,
  'sealId' | 'userId' | 'chain' | 'keyStore' | 'status' | 'revokedAt' | 'revocationReason' | 'createdAt' | 'key'
> & {
  sealId?: string | null;
  userId?: string | null;
  chain?: Buffer[];
  /** Null for a one-time (event) certificate: its key signed once in memory and was never kept. */
  key: KeyReference | null;
};

export async function insertCertificate(trx: Transaction, row: NewCertificate): Promise<void> {
  await trx
    .insertInto('certificates')
    .values({
      id: row.id,
      group_id: row.groupId,
      purpose: row.purpose,
      issuer_id: row.issuerId,
      seal_id: row.sealId ?? null,
      user_id: row.userId ?? null,
      source: row.source,
      serial: row.serial,
      subject: row.subject,
      issuer: row.issuer,
      key_spec: row.keySpec,
      not_before: row.notBefore,
      not_after: row.notAfter,
      der: row.der,
      chain: JSON.stringify((row.chain ?? []).map((c) => c.toString('base64'))),
      key_store: row.key?.store ?? 'none',
      sealed_key: row.key?.store === 'database' ? row.key.sealed : null,
      token_label: row.key?.store === 'pkcs11' ? row.key.tokenLabel : null,
      token_key_id: row.key?.store === 'pkcs11' ? row.key.keyId : null,
      fingerprint: row.fingerprint,
      revoked_at: null,
      revocation_reason: null,
    })
    .execute();
}

/**
 * Serialises creators of one deployment-wide or group-wide object (the root, the TSA, a group's
 * CA) across server processes: a transaction-scoped advisory lock, released at commit.
 */
export async function lockNamed(trx: Transaction, name: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${name}))`.execute(trx);
}

// The statement of `lockCertificateForUse`, built once.
const selectCertificateForUse = precompiled((trx, where: { id: string }) =>
  trx
    .selectFrom('certificates')
    .select(['status', 'not_before as notBefore', 'not_after as notAfter', 'revocation_reason as revocationReason'])
    .where('id', '=', where.id)
    .forShare(),
);

/** A certificate's status under a share lock: revocation (an update) waits for the signature that holds it. */
export async function lockCertificateForUse(
  trx: Transaction,
  id: string,
): Promise<
  | { status: 'active' | 'revoked'; notBefore: Date; notAfter: Date; revocationReason: RevocationReasonName | null }
  | undefined
> {
  return (await selectCertificateForUse(trx, { id }))[0];
}

/**
 * Revokes the certificates of a seal or a person: the active ones, and (unless `reason` is itself
 * a hold) those on hold, whose reason becomes final. A hold keeps its original date: the
 * certificate has not been usable since then.
 */
export async function revokeCertificates(
  trx: Transaction,
  where: { groupId: string; sealId?: string; userId?: string },
  change: { reason: RevocationReasonName; at: Date },
): Promise<Array<{ id: string; issuerId: string | null; serial: string }>> {
  let query = trx
    .updateTable('certificates')
    .set((eb) => ({
      status: 'revoked' as const,
      revoked_at: eb.fn.coalesce('revoked_at', eb.val(change.at)),
      revocation_reason: change.reason,
    }))
    .where('group_id', '=', where.groupId);
  // A seal's SM2 certificate (on its .esl) shares the fate of its other one.
  if (where.sealId) query = query.where('purpose', 'in', ['seal', 'sm2_seal']).where('seal_id', '=', where.sealId);
  else if (where.userId) query = query.where('purpose', '=', 'person').where('user_id', '=', where.userId);
  else return [];
  query =
    change.reason === 'certificateHold'
      ? query.where('status', '=', 'active')
      : query.where((eb) =>
          eb.or([
            eb('status', '=', 'active'),
            eb.and([eb('status', '=', 'revoked'), eb('revocation_reason', '=', 'certificateHold')]),
          ]),
        );
  return query.returning(['id', 'issuer_id as issuerId', 'serial']).execute();
}

export async function revokeCertificatesById(
  trx: Transaction,
  ids: string[],
  change: { reason: RevocationReasonName; at: Date },
): Promise<Array<{ id: string; issuerId: string | null; serial: string }>> {
  if (ids.length === 0) return [];
  return trx
    .updateTable('certificates')
    .set((eb) => ({
      status: 'revoked' as const,
      revoked_at: eb.fn.coalesce('revoked_at', eb.val(change.at)),
      revocation_reason: change.reason,
    }))
    .where('id', 'in', ids)
    .returning(['id', 'issuer_id as issuerId', 'serial'])
    .execute();
}

/** Lifts a hold (a suspended seal resumed): the certificate is good again and leaves the next CRL. */
export async function liftHold(
  trx: Transaction,
  where: { groupId: string; sealId: string },
): Promise<Array<{ id: string; issuerId: string | null; serial: string }>> {
  return trx
    .updateTable('certificates')
    .set({ status: 'active', revoked_at: null, revocation_reason: null })
    .where('group_id', '=', where.groupId)
    .where('purpose', 'in', ['seal', 'sm2_seal'])
    .where('seal_id', '=', where.sealId)
    .where('status', '=', 'revoked')
    .where('revocation_reason', '=', 'certificateHold')
    .returning(['id', 'issuer_id as issuerId', 'serial'])
    .execute();
}

/**
 * Marks the issuers' CRLs stale. The update takes the CA row's lock, so a CRL being made at the
 * same moment (which holds that lock) either finishes first and is then stale, or waits and sees
 * this revocation: no CRL can miss a committed revocation and still look current.
 */
export async function bumpRevocationRevision(trx: Transaction, issuerIds: string[]): Promise<void> {
  const ids = [...new Set(issuerIds)];
  if (ids.length === 0) return;
  await trx
    .updateTable('certificates')
    .set((eb) => ({ revocation_revision: eb('revocation_revision', '+', 1) }))
    .where('id', 'in', ids)
    .execute();
}

export interface CrlState {
  revision: number;
  crlNumber: number;
  crl: { der: Buffer; revision: number; thisUpdate: Date; nextUpdate: Date } | null;
}

/** The CA's revocation revision and its last CRL; `lock` takes the CA row for update (to make a new CRL). */
export async function findCrlState(
  db: Db | Transaction,
  issuerId: string,
  options: { lock?: boolean } = {},
): Promise<CrlState | undefined> {
  const query = db
    .selectFrom('certificates')
    .select(['revocation_revision as revision', 'crl_number as crlNumber'])
    .where('id', '=', issuerId);
  const ca = options.lock ? await query.forUpdate().executeTakeFirst() : await query.executeTakeFirst();
  if (!ca) return undefined;
  const crl = await db
    .selectFrom('crls')
    .select(['der', 'revision', 'this_update as thisUpdate', 'next_update as nextUpdate'])
    .where('issuer_id', '=', issuerId)
    .executeTakeFirst();
  return {
    revision: Number(ca.revision),
    crlNumber: Number(ca.crlNumber),
    crl: crl ? { ...crl, der: Buffer.from(crl.der), revision: Number(crl.revision) } : null,
  };
}

/** Every certificate the CA issued that is revoked now (holds included), for its CRL. */
export async function findRevokedBy(
  db: Db | Transaction,
  issuerId: string,
): Promise<Array<{ serial: string; revokedAt: Date; reason: RevocationReasonName | null }>> {
  const rows = await db
    .selectFrom('certificates')
    .select(['serial', 'revoked_at as revokedAt', 'revocation_reason as reason'])
    .where('issuer_id', '=', issuerId)
    .where('status', '=', 'revoked')
    .orderBy('revoked_at')
    .execute();
  return rows.map((r) => ({ serial: r.serial, revokedAt: r.revokedAt!, reason: r.reason }));
}

export async function saveCrl(
  trx: Transaction,
  row: {
    issuerId: string;
    groupId: string | null;
    crlNumber: number;
    revision: number;
    thisUpdate: Date;
    nextUpdate: Date;
    der: Buffer;
  },
): Promise<void> {
  await trx.updateTable('certificates').set({ crl_number: row.crlNumber }).where('id', '=', row.issuerId).execute();
  await trx
    .insertInto('crls')
    .values({
      issuer_id: row.issuerId,
      group_id: row.groupId,
      crl_number: row.crlNumber,
      revision: row.revision,
      this_update: row.thisUpdate,
      next_update: row.nextUpdate,
      der: row.der,
    })
    .onConflict((oc) =>
      oc.column('issuer_id').doUpdateSet({
        crl_number: row.crlNumber,
        revision: row.revision,
        this_update: row.thisUpdate,
        next_update: row.nextUpdate,
        der: row.der,
      }),
    )
    .execute();
}

/** What a person's certificate names: their name, e-mail and company. */
export async function findPersonSubject(db: Db | Transaction, where: { groupId: string; userId: string }) {
  return db
    .selectFrom('users as u')
    .innerJoin('companies as c', 'c.id', 'u.company_id')
    .select(['u.id', 'u.name', 'u.email', 'u.status', 'u.company_id as companyId', 'c.name as companyName'])
    .where('u.group_id', '=', where.groupId)
    .where('u.id', '=', where.userId)
    .executeTakeFirst();
}

/** Locks the person's row while their certificate is issued (one active certificate per person). */
export async function lockPerson(
  trx: Transaction,
  where: { groupId: string; userId: string },
): Promise<{ status: string } | undefined> {
  return trx
    .selectFrom('users')
    .select(['status'])
    .where('group_id', '=', where.groupId)
    .where('id', '=', where.userId)
    .forUpdate()
    .executeTakeFirst();
}

export async function findGroupName(db: Db | Transaction, groupId: string): Promise<string | undefined> {
  return (await db.selectFrom('groups').select('name').where('id', '=', groupId).executeTakeFirst())?.name;
}

// ---------------------------------------------------------------- electronic seals (.esl)

export interface ElectronicSealRecord {
  id: string;
  groupId: string;
  sealId: string;
  makerId: string;
  certificateId: string;
  esId: string;
  imageSha256: string;
  der: Buffer;
  sha256: string;
  validStart: Date;
  validEnd: Date;
  createdAt: Date;
}

const eslColumns = [
  'id',
  'group_id as groupId',
  'seal_id as sealId',
  'maker_id as makerId',
  'certificate_id as certificateId',
  'es_id as esId',
  'image_sha256 as imageSha256',
  'der',
  'sha256',
  'valid_start as validStart',
  'valid_end as validEnd',
  'created_at as createdAt',
] as const;

/** The seal's .esl in force, if one was issued. */
export async function findCurrentEsl(
  db: Db | Transaction,
  where: { groupId: string; sealId: string },
): Promise<ElectronicSealRecord | undefined> {
  const row = await db
    .selectFrom('electronic_seals')
    .select(eslColumns)
    .where('group_id', '=', where.groupId)
    .where('seal_id', '=', where.sealId)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return row ? { ...row, der: Buffer.from(row.der) } : undefined;
}

/** Puts a new .esl in force for its seal, the previous one superseded (the caller holds the seal's lock). */
export async function insertEsl(trx: Transaction, row: Omit<ElectronicSealRecord, 'createdAt'>): Promise<void> {
  await trx
    .updateTable('electronic_seals')
    .set({ status: 'superseded' })
    .where('group_id', '=', row.groupId)
    .where('seal_id', '=', row.sealId)
    .where('status', '=', 'active')
    .execute();
  await trx
    .insertInto('electronic_seals')
    .values({
      id: row.id,
      group_id: row.groupId,
      seal_id: row.sealId,
      maker_id: row.makerId,
      certificate_id: row.certificateId,
      es_id: row.esId,
      image_sha256: row.imageSha256,
      der: row.der,
      sha256: row.sha256,
      valid_start: row.validStart,
      valid_end: row.validEnd,
    })
    .execute();
}
