import { sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type {
  ContractFieldType,
  ContractStatus,
  Db,
  ParticipantKind,
  ParticipantRole,
  ParticipantStatus,
  Transaction,
  UserStatus,
} from '../../db/schema.js';
import { escapeLike } from '../../db/scope.js';
import { precompiled } from '../../db/precompiled.js';

export interface ContractRecord {
  id: string;
  groupId: string;
  companyId: string;
  companyName: string;
  companyPath: string;
  title: string;
  category: string;
  number: string | null;
  effectiveOn: string | null;
  expiresOn: string | null;
  status: ContractStatus;
  sourceSha256: string;
  currentSha256: string;
  currentStep: number;
  deadline: Date | null;
  remindEveryDays: number | null;
  createdBy: string;
  createdAt: Date;
  sentAt: Date | null;
  endedAt: Date | null;
  endReason: string | null;
  /** A void agreement: the completed contract it voids when it completes. */
  voidOf: string | null;
  requireSecondFactor: boolean;
  identityCheck: 'real_name' | 'face' | null;
}

export interface ParticipantRecord {
  id: string;
  /** A company participant's seal impression (to preview where it lands). */
  sealImageSha256: string | null;
  contractId: string;
  position: number;
  step: number;
  role: ParticipantRole;
  kind: ParticipantKind;
  companyId: string | null;
  sealId: string | null;
  userId: string | null;
  name: string;
  orgName: string | null;
  phone: string | null;
  email: string | null;
  status: ParticipantStatus;
  actedAt: Date | null;
  reason: string | null;
}

export interface FieldRecord {
  id: string;
  participantId: string;
  type: ContractFieldType;
  page: number | null;
  rect: [number, number, number, number] | null;
  keyword: string | null;
  label: string | null;
  required: boolean;
  value: string | null;
}

const selectContracts = (db: Db | Transaction) =>
  db
    .selectFrom('contracts as k')
    .innerJoin('companies as c', 'c.id', 'k.company_id')
    .select([
      'k.id',
      'k.group_id as groupId',
      'k.company_id as companyId',
      'c.name as companyName',
      'c.path as companyPath',
      'k.title',
      'k.category',
      'k.number',
      sql<string | null>`to_char(k.effective_on, 'YYYY-MM-DD')`.as('effectiveOn'),
      sql<string | null>`to_char(k.expires_on, 'YYYY-MM-DD')`.as('expiresOn'),
      'k.status',
      'k.source_sha256 as sourceSha256',
      'k.current_sha256 as currentSha256',
      'k.current_step as currentStep',
      'k.deadline',
      'k.remind_every_days as remindEveryDays',
      'k.created_by as createdBy',
      'k.created_at as createdAt',
      'k.sent_at as sentAt',
      'k.ended_at as endedAt',
      'k.end_reason as endReason',
      'k.void_of as voidOf',
      'k.require_second_factor as requireSecondFactor',
      'k.identity_check as identityCheck',
    ]);

export async function findContract(
  db: Db | Transaction,
  where: { groupId: string; id: string },
): Promise<ContractRecord | undefined> {
  return selectContracts(db).where('k.group_id', '=', where.groupId).where('k.id', '=', where.id).executeTakeFirst();
}

/** The statement of `lockContract`, built once. */
const selectLockedContract = precompiled((trx, where: { groupId: string; id: string }) =>
  trx
    .selectFrom('contracts')
    .select([
      'status',
      'current_step as currentStep',
      'current_sha256 as currentSha256',
      'remind_every_days as remindEveryDays',
      'last_reminded_at as lastRemindedAt',
    ])
    .where('group_id', '=', where.groupId)
    .where('id', '=', where.id)
    .forUpdate(),
);

/**
 * The contract row under an update lock for the length of the caller's transaction: every step
 * of the flow (send, sign, approve, reject, void) takes it first, so two signers finishing the
 * same step at once cannot both open the next one, and a void cannot slip between a signer's
 * check and their signature.
 */
export async function lockContract(
  trx: Transaction,
  where: { groupId: string; id: string },
): Promise<
  | {
      status: ContractStatus;
      currentStep: number;
      currentSha256: string;
      remindEveryDays: number | null;
      lastRemindedAt: Date | null;
    }
  | undefined
> {
  return (await selectLockedContract(trx, where))[0];
}

export type NewContract = {
  id: string;
  groupId: string;
  companyId: string;
  title: string;
  category: string;
  number: string | null;
  effectiveOn: string | null;
  expiresOn: string | null;
  sourceSha256: string;
  templateVersionId: string | null;
  values: unknown;
  deadline: Date | null;
  remindEveryDays: number | null;
  createdBy: string;
  at: Date;
  voidOf?: string | null;
  requireSecondFactor?: boolean;
  identityCheck?: 'real_name' | 'face' | null;
};

export async function insertContract(trx: Transaction, row: NewContract): Promise<void> {
  await contractInsert(trx, row).execute();
}

/** The insert, not yet run, for a statement of the caller's (`WriteBatch`). */
export function contractInsert(db: Db | Transaction, row: NewContract) {
  return db.insertInto('contracts').values({
    id: row.id,
    group_id: row.groupId,
    company_id: row.companyId,
    title: row.title,
    category: row.category,
    number: row.number,
    effective_on: row.effectiveOn,
    expires_on: row.expiresOn,
    status: 'draft',
    source_sha256: row.sourceSha256,
    current_sha256: row.sourceSha256,
    template_version_id: row.templateVersionId,
    values: row.values === null ? null : JSON.stringify(row.values),
    deadline: row.deadline,
    remind_every_days: row.remindEveryDays,
    last_reminded_at: null,
    created_by: row.createdBy,
    created_at: row.at,
    sent_at: null,
    ended_at: null,
    end_reason: null,
    void_of: row.voidOf ?? null,
    require_second_factor: row.requireSecondFactor ?? false,
    identity_check: row.identityCheck ?? null,
  });
}

export async function isContractNumberTaken(db: Db | Transaction, groupId: string, number: string): Promise<boolean> {
  const row = await db
    .selectFrom('contracts')
    .select('id')
    .where('group_id', '=', groupId)
    .where('number', '=', number)
    .executeTakeFirst();
  return row !== undefined;
}

export type NewParticipant = Omit<
  ParticipantRecord,
  'contractId' | 'status' | 'actedAt' | 'reason' | 'sealImageSha256'
>;

export async function insertParticipants(
  trx: Transaction,
  groupId: string,
  contractId: string,
  rows: NewParticipant[],
): Promise<void> {
  await participantsInsert(trx, groupId, contractId, rows).execute();
}

/** The insert, not yet run, for a statement of the caller's (`WriteBatch`). */
export function participantsInsert(db: Db | Transaction, groupId: string, contractId: string, rows: NewParticipant[]) {
  return db.insertInto('contract_participants').values(
    rows.map((p) => ({
      id: p.id,
      group_id: groupId,
      contract_id: contractId,
      position: p.position,
      step: p.step,
      role: p.role,
      kind: p.kind,
      company_id: p.companyId,
      seal_id: p.sealId,
      user_id: p.userId,
      name: p.name,
      org_name: p.orgName,
      phone: p.phone,
      email: p.email,
      status: 'waiting' as const,
      acted_at: null,
      acted_by: null,
      reason: null,
      consent_at: null,
      identity: null,
    })),
  );
}

export async function insertFields(
  trx: Transaction,
  groupId: string,
  contractId: string,
  rows: Array<Omit<FieldRecord, 'value'>>,
): Promise<void> {
  await fieldsInsert(trx, groupId, contractId, rows)?.execute();
}

/** The insert, not yet run, for a statement of the caller's (`WriteBatch`); none for no fields. */
export function fieldsInsert(
  db: Db | Transaction,
  groupId: string,
  contractId: string,
  rows: Array<Omit<FieldRecord, 'value'>>,
) {
  if (rows.length === 0) return null;
  return db.insertInto('contract_fields').values(
    rows.map((f) => ({
      id: f.id,
      group_id: groupId,
      contract_id: contractId,
      participant_id: f.participantId,
      type: f.type,
      page: f.page,
      rect: f.rect ? JSON.stringify(f.rect) : null,
      keyword: f.keyword,
      label: f.label,
      required: f.required,
      value: null,
      filled_at: null,
    })),
  );
}

/** A participant's columns (`contract_participants as p`, its seal `s` joined for the impression). */
const PARTICIPANT_COLUMNS = [
  'p.id',
  'p.contract_id as contractId',
  'p.position',
  'p.step',
  'p.role',
  'p.kind',
  'p.company_id as companyId',
  'p.seal_id as sealId',
  's.image_sha256 as sealImageSha256',
  'p.user_id as userId',
  'p.name',
  'p.org_name as orgName',
  'p.phone',
  'p.email',
  'p.status',
  'p.acted_at as actedAt',
  'p.reason',
] as const;

export async function findParticipants(db: Db | Transaction, contractId: string): Promise<ParticipantRecord[]> {
  return db
    .selectFrom('contract_participants as p')
    .leftJoin('seals as s', 's.id', 'p.seal_id')
    .select(PARTICIPANT_COLUMNS)
    .where('p.contract_id', '=', contractId)
    .orderBy('p.position')
    .execute();
}

/**
 * A contract with its participants and fields in one statement (each request of the flow reads
 * them at its start and answers with them at its end): one round trip instead of three.
 */
const selectContractWithParts = precompiled((db, where: { groupId: string; id: string }) =>
  selectContracts(db)
    .select((eb) => [
      jsonArrayFrom(
        eb
          .selectFrom('contract_participants as p')
          .leftJoin('seals as s', 's.id', 'p.seal_id')
          .select(PARTICIPANT_COLUMNS)
          .whereRef('p.contract_id', '=', 'k.id')
          .orderBy('p.position'),
      ).as('participants'),
      jsonArrayFrom(
        eb
          .selectFrom('contract_fields as f')
          .select([
            'f.id',
            'f.participant_id as participantId',
            'f.type',
            'f.page',
            'f.rect',
            'f.keyword',
            'f.label',
            'f.required',
            'f.value',
          ])
          .whereRef('f.contract_id', '=', 'k.id')
          .orderBy('f.id'),
      ).as('fields'),
      // The name its PDF was uploaded under, which each signature's record and copy carry.
      eb
        .selectFrom('blobs as b')
        .select('b.original_name')
        .whereRef('b.group_id', '=', 'k.group_id')
        .whereRef('b.sha256', '=', 'k.source_sha256')
        .as('sourceName'),
    ])
    .where('k.group_id', '=', where.groupId)
    .where('k.id', '=', where.id),
);

export async function findContractWithParts(
  db: Db | Transaction,
  where: { groupId: string; id: string },
): Promise<
  | { contract: ContractRecord; participants: ParticipantRecord[]; fields: FieldRecord[]; sourceName: string | null }
  | undefined
> {
  const [row] = await selectContractWithParts(db, { groupId: where.groupId, id: where.id });
  if (!row) return undefined;
  const { participants, fields, sourceName, ...contract } = row;
  // Read as JSON: the one date of a participant back from text.
  type JsonParticipant = Omit<ParticipantRecord, 'actedAt'> & { actedAt: string | null };
  return {
    contract,
    participants: (participants as unknown as JsonParticipant[]).map((p) => ({
      ...p,
      actedAt: p.actedAt === null ? null : new Date(p.actedAt),
    })),
    fields: fields as unknown as FieldRecord[],
    sourceName: sourceName ?? null,
  };
}

/** A participant's person, as notices need them (see notifications' Recipient). */
export interface ParticipantPerson {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  locale: 'zh-CN' | 'en';
  status: UserStatus;
}

/**
 * The participants with the people of the group among them, read under the contract's lock by
 * the step that opens next: whom it tells needs no read of its own.
 */
const selectParticipantsWithPeople = precompiled((trx, where: { contractId: string }) =>
  trx
    .selectFrom('contract_participants as p')
    .leftJoin('seals as s', 's.id', 'p.seal_id')
    .leftJoin('users as u', (join) => join.onRef('u.id', '=', 'p.user_id').onRef('u.group_id', '=', 'p.group_id'))
    .select([
      ...PARTICIPANT_COLUMNS,
      'u.name as personName',
      'u.email as personEmail',
      'u.phone as personPhone',
      'u.locale as personLocale',
      'u.status as personStatus',
    ])
    .where('p.contract_id', '=', where.contractId)
    .orderBy('p.position'),
);

export async function findParticipantsWithPeople(
  trx: Transaction,
  contractId: string,
): Promise<{ participants: ParticipantRecord[]; people: ParticipantPerson[] }> {
  const rows = await selectParticipantsWithPeople(trx, { contractId });
  const people = new Map<string, ParticipantPerson>();
  const participants = rows.map(({ personName, personEmail, personPhone, personLocale, personStatus, ...p }) => {
    if (p.userId && personName !== null && personEmail !== null && personLocale !== null && personStatus !== null)
      people.set(p.userId, {
        id: p.userId,
        name: personName,
        email: personEmail,
        phone: personPhone,
        locale: personLocale,
        status: personStatus,
      });
    return p;
  });
  return { participants, people: [...people.values()] };
}

export async function findFields(db: Db | Transaction, contractId: string): Promise<FieldRecord[]> {
  const rows = await db
    .selectFrom('contract_fields')
    .select(['id', 'participant_id as participantId', 'type', 'page', 'rect', 'keyword', 'label', 'required', 'value'])
    .where('contract_id', '=', contractId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ ...r, rect: r.rect as FieldRecord['rect'] }));
}

export type ContractPatch = Partial<{
  status: ContractStatus;
  currentStep: number;
  currentSha256: string;
  sentAt: Date;
  endedAt: Date;
  endReason: string;
}>;

export async function updateContract(trx: Transaction, id: string, patch: ContractPatch): Promise<void> {
  await contractWrite(trx, id, patch).execute();
}

/** The update, not yet run, for a statement of the caller's (`WriteBatch`). */
export function contractWrite(trx: Db | Transaction, id: string, patch: ContractPatch) {
  return trx
    .updateTable('contracts')
    .set({
      ...(patch.status !== undefined ? { status: patch.status } : {}),
      ...(patch.currentStep !== undefined ? { current_step: patch.currentStep } : {}),
      ...(patch.currentSha256 !== undefined ? { current_sha256: patch.currentSha256 } : {}),
      ...(patch.sentAt !== undefined ? { sent_at: patch.sentAt } : {}),
      ...(patch.endedAt !== undefined ? { ended_at: patch.endedAt } : {}),
      ...(patch.endReason !== undefined ? { end_reason: patch.endReason } : {}),
    })
    .where('id', '=', id);
}

export interface ParticipantPatch {
  status: ParticipantStatus;
  actedAt?: Date;
  actedBy?: string | null;
  reason?: string;
  consentAt?: Date;
  identity?: unknown;
}

export async function updateParticipant(trx: Transaction, id: string, patch: ParticipantPatch): Promise<void> {
  await participantWrite(trx, id, patch).execute();
}

/** The update, not yet run, for a statement of the caller's (`WriteBatch`). */
export function participantWrite(trx: Db | Transaction, id: string, patch: ParticipantPatch) {
  return trx
    .updateTable('contract_participants')
    .set({
      status: patch.status,
      ...(patch.actedAt !== undefined ? { acted_at: patch.actedAt } : {}),
      ...(patch.actedBy !== undefined ? { acted_by: patch.actedBy } : {}),
      ...(patch.reason !== undefined ? { reason: patch.reason } : {}),
      ...(patch.consentAt !== undefined ? { consent_at: patch.consentAt } : {}),
      ...(patch.identity !== undefined ? { identity: JSON.stringify(patch.identity) } : {}),
    })
    .where('id', '=', id);
}

export async function fillField(trx: Transaction, id: string, value: string, at: Date): Promise<void> {
  await fieldFillWrite(trx, id, value, at).execute();
}

export function fieldFillWrite(trx: Db | Transaction, id: string, value: string, at: Date) {
  return trx.updateTable('contract_fields').set({ value, filled_at: at }).where('id', '=', id);
}

export type ContractSignatureRow = {
  id: string;
  groupId: string;
  contractId: string;
  participantId: string;
  signatureId: string | null;
  certificateId: string;
  fieldName: string;
  inputSha256: string;
  outputSha256: string;
  signedAt: Date;
};

export async function insertContractSignature(trx: Transaction, row: ContractSignatureRow): Promise<void> {
  await contractSignatureWrite(trx, row).execute();
}

/** The insert, not yet run, for a statement of the caller's (`WriteBatch`). */
export function contractSignatureWrite(trx: Db | Transaction, row: ContractSignatureRow) {
  return trx.insertInto('contract_signatures').values({
    id: row.id,
    group_id: row.groupId,
    contract_id: row.contractId,
    participant_id: row.participantId,
    signature_id: row.signatureId,
    certificate_id: row.certificateId,
    field_name: row.fieldName,
    input_sha256: row.inputSha256,
    output_sha256: row.outputSha256,
    signed_at: row.signedAt,
  });
}

export interface ContractListFilter {
  groupId: string;
  /** Company subtrees the caller reads every contract of. */
  scope: string[];
  /** The caller: contracts they created or take part in, wherever they are. */
  userId: string | null;
  status?: ContractStatus | undefined;
  q?: string | undefined;
  category?: string | undefined;
  /** A party's name or organisation, any part of it. */
  party?: string | undefined;
  /** The contract number's beginning. */
  number?: string | undefined;
  /** Inclusive day ranges (YYYY-MM-DD) on the contract's own dates. */
  effectiveOn?: DayRange | undefined;
  expiresOn?: DayRange | undefined;
  /** Completed contracts whose completion falls in this range of instants (inclusive). */
  completedAt?: { from?: Date | undefined; to?: Date | undefined } | undefined;
  limit: number;
}

export interface DayRange {
  from?: string | undefined;
  to?: string | undefined;
}

export async function findContracts(db: Db, filter: ContractListFilter): Promise<ContractRecord[]> {
  let query = selectContracts(db)
    .where('k.group_id', '=', filter.groupId)
    .where((eb) =>
      eb.or([
        ...filter.scope.map((root) => eb('c.path', 'like', `${escapeLike(root)}%`)),
        ...(filter.userId
          ? [
              eb('k.created_by', '=', filter.userId),
              eb.exists(
                eb
                  .selectFrom('contract_participants as p')
                  .select('p.id')
                  .whereRef('p.contract_id', '=', 'k.id')
                  .where('p.user_id', '=', filter.userId),
              ),
            ]
          : []),
      ]),
    );
  if (filter.status) query = query.where('k.status', '=', filter.status);
  if (filter.q) {
    const like = `%${escapeLike(filter.q)}%`;
    query = query.where((eb) =>
      eb.or([
        eb('k.title', 'like', like),
        eb('k.number', 'like', like),
        eb.exists(
          eb
            .selectFrom('contract_participants as p')
            .select('p.id')
            .whereRef('p.contract_id', '=', 'k.id')
            .where((pb) => pb.or([pb('p.name', 'like', like), pb('p.org_name', 'like', like)])),
        ),
      ]),
    );
  }
  if (filter.category) query = query.where('k.category', '=', filter.category);
  if (filter.number) query = query.where('k.number', 'ilike', `${escapeLike(filter.number)}%`);
  if (filter.party) {
    const like = `%${escapeLike(filter.party)}%`;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('contract_participants as p')
          .select('p.id')
          .whereRef('p.contract_id', '=', 'k.id')
          .where((pb) => pb.or([pb('p.name', 'ilike', like), pb('p.org_name', 'ilike', like)])),
      ),
    );
  }
  const { effectiveOn, expiresOn, completedAt } = filter;
  if (effectiveOn?.from) query = query.where('k.effective_on', '>=', effectiveOn.from);
  if (effectiveOn?.to) query = query.where('k.effective_on', '<=', effectiveOn.to);
  if (expiresOn?.from) query = query.where('k.expires_on', '>=', expiresOn.from);
  if (expiresOn?.to) query = query.where('k.expires_on', '<=', expiresOn.to);
  // ended_at is also set by a rejection, a void or an expiry: only a completion counts here.
  if (completedAt?.from || completedAt?.to) query = query.where('k.status', '=', 'completed');
  if (completedAt?.from) query = query.where('k.ended_at', '>=', completedAt.from);
  if (completedAt?.to) query = query.where('k.ended_at', '<=', completedAt.to);
  return query.orderBy('k.created_at', 'desc').orderBy('k.id', 'desc').limit(filter.limit).execute();
}

// ---------------------------------------------------------------- who may read a contract's PDFs

/** Whether the person created or takes part in a contract made from this PDF (its source). */
export async function isPartyToContractOf(
  db: Db | Transaction,
  where: { groupId: string; sha256: string; userId: string },
): Promise<boolean> {
  const row = await db
    .selectFrom('contracts as k')
    .select('k.id')
    .where('k.group_id', '=', where.groupId)
    .where('k.source_sha256', '=', where.sha256)
    .where((eb) =>
      eb.or([
        eb('k.created_by', '=', where.userId),
        eb.exists(
          eb
            .selectFrom('contract_participants as p')
            .select('p.id')
            .whereRef('p.contract_id', '=', 'k.id')
            .where('p.user_id', '=', where.userId),
        ),
      ]),
    )
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** The source PDFs of the contracts whose signatures produced these files (by hash of the file). */
export async function findContractSources(
  db: Db | Transaction,
  where: { groupId: string; sha256s: readonly string[] },
): Promise<Map<string, string>> {
  if (where.sha256s.length === 0) return new Map();
  const rows = await db
    .selectFrom('contract_signatures as s')
    .innerJoin('contracts as k', 'k.id', 's.contract_id')
    .select(['s.output_sha256 as output', 'k.source_sha256 as source'])
    .distinctOn('s.output_sha256')
    .where('s.group_id', '=', where.groupId)
    .where('s.output_sha256', 'in', [...where.sha256s])
    .execute();
  const found = new Map<string, string>();
  for (const row of rows) if (row.output) found.set(row.output, row.source);
  return found;
}

// ---------------------------------------------------------------- links for outside signers

export interface LinkRecord {
  id: string;
  groupId: string;
  contractId: string;
  participantId: string;
  expiresAt: Date;
  usedAt: Date | null;
  sessionExpiresAt: Date | null;
  codeHash: string | null;
  codeExpiresAt: Date | null;
  codeSentAt: Date | null;
  codesSent: number;
  failedAttempts: number;
  lockedAt: Date | null;
  purpose: 'sign' | 'download';
}

const selectLinks = (db: Db | Transaction) =>
  db
    .selectFrom('contract_links')
    .select([
      'id',
      'group_id as groupId',
      'contract_id as contractId',
      'participant_id as participantId',
      'expires_at as expiresAt',
      'used_at as usedAt',
      'session_expires_at as sessionExpiresAt',
      'code_hash as codeHash',
      'code_expires_at as codeExpiresAt',
      'code_sent_at as codeSentAt',
      'codes_sent as codesSent',
      'failed_attempts as failedAttempts',
      'locked_at as lockedAt',
      'purpose',
    ]);

export async function insertLink(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    contractId: string;
    participantId: string;
    tokenHash: string;
    expiresAt: Date;
    purpose?: 'sign' | 'download';
  },
): Promise<void> {
  await trx
    .insertInto('contract_links')
    .values({
      id: row.id,
      group_id: row.groupId,
      contract_id: row.contractId,
      participant_id: row.participantId,
      token_hash: row.tokenHash,
      expires_at: row.expiresAt,
      used_at: null,
      session_hash: null,
      session_expires_at: null,
      code_hash: null,
      code_expires_at: null,
      code_sent_at: null,
      locked_at: null,
      purpose: row.purpose ?? 'sign',
    })
    .execute();
}

/** A link by its token's hash, locked for update when a transaction asks (attempts are counted under it). */
export async function findLinkByToken(db: Db | Transaction, tokenHash: string): Promise<LinkRecord | undefined> {
  return selectLinks(db).where('token_hash', '=', tokenHash).executeTakeFirst();
}

export async function lockLink(trx: Transaction, id: string): Promise<LinkRecord | undefined> {
  return selectLinks(trx).where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function findLinkBySession(db: Db | Transaction, sessionHash: string): Promise<LinkRecord | undefined> {
  return selectLinks(db).where('session_hash', '=', sessionHash).executeTakeFirst();
}

export async function updateLink(
  trx: Transaction,
  id: string,
  patch: Partial<{
    usedAt: Date;
    sessionHash: string | null;
    sessionExpiresAt: Date | null;
    codeHash: string | null;
    codeExpiresAt: Date | null;
    codeSentAt: Date;
    codesSent: number;
    failedAttempts: number;
    lockedAt: Date;
  }>,
): Promise<void> {
  await trx
    .updateTable('contract_links')
    .set({
      ...(patch.usedAt !== undefined ? { used_at: patch.usedAt } : {}),
      ...(patch.sessionHash !== undefined ? { session_hash: patch.sessionHash } : {}),
      ...(patch.sessionExpiresAt !== undefined ? { session_expires_at: patch.sessionExpiresAt } : {}),
      ...(patch.codeHash !== undefined ? { code_hash: patch.codeHash } : {}),
      ...(patch.codeExpiresAt !== undefined ? { code_expires_at: patch.codeExpiresAt } : {}),
      ...(patch.codeSentAt !== undefined ? { code_sent_at: patch.codeSentAt } : {}),
      ...(patch.codesSent !== undefined ? { codes_sent: patch.codesSent } : {}),
      ...(patch.failedAttempts !== undefined ? { failed_attempts: patch.failedAttempts } : {}),
      ...(patch.lockedAt !== undefined ? { locked_at: patch.lockedAt } : {}),
    })
    .where('id', '=', id)
    .execute();
}

/** Ends every link and signing session of a contract (it ended). */
export async function closeLinks(trx: Transaction, where: { contractId: string; at: Date }): Promise<void> {
  await trx
    .updateTable('contract_links')
    .set((eb) => ({ used_at: eb.fn.coalesce('used_at', eb.val(where.at)), session_hash: null }))
    .where('contract_id', '=', where.contractId)
    .execute();
}

export async function markReminded(trx: Transaction, id: string, at: Date): Promise<void> {
  await trx.updateTable('contracts').set({ last_reminded_at: at }).where('id', '=', id).execute();
}

// ---------------------------------------------------------------- the evidence package

export interface ContractEventRow {
  seq: number;
  occurredAt: Date;
  actorType: string;
  actorName: string | null;
  ip: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  changes: unknown;
  linkHash: string | null;
}

/**
 * Every audit event about a contract: its own, the signatures made on it (their records and the
 * one-time certificates issued for its outside signers), oldest first.
 */
export async function findContractEvents(
  db: Db,
  q: { groupId: string; contractId: string; signatureIds: string[]; certificateIds: string[] },
): Promise<ContractEventRow[]> {
  return db
    .selectFrom('audit_events as e')
    .leftJoin('audit_links as l', (join) =>
      join.onRef('l.group_id', '=', 'e.group_id').onRef('l.event_seq', '=', 'e.seq'),
    )
    .select([
      'e.seq',
      'e.occurred_at as occurredAt',
      'e.actor_type as actorType',
      'e.actor_name as actorName',
      'e.ip',
      'e.action',
      'e.target_type as targetType',
      'e.target_id as targetId',
      'e.changes',
      'l.hash as linkHash',
    ])
    .where('e.group_id', '=', q.groupId)
    .where((eb) =>
      eb.or([
        eb('e.target_id', '=', q.contractId),
        ...(q.certificateIds.length ? [eb('e.target_id', 'in', q.certificateIds)] : []),
        ...(q.signatureIds.length
          ? [
              eb.and([
                eb('e.action', '=', 'document.signed'),
                eb(sql<string>`e.changes->>'signatureId'`, 'in', q.signatureIds),
              ]),
            ]
          : []),
      ]),
    )
    .orderBy('e.seq')
    .execute();
}

export async function findContractSignatures(db: Db, contractId: string) {
  return db
    .selectFrom('contract_signatures as s')
    .innerJoin('certificates as x', 'x.id', 's.certificate_id')
    .select([
      's.participant_id as participantId',
      's.signature_id as signatureId',
      's.certificate_id as certificateId',
      's.field_name as fieldName',
      's.input_sha256 as inputSha256',
      's.output_sha256 as outputSha256',
      's.signed_at as signedAt',
      'x.subject',
      'x.serial',
      'x.der',
      'x.issuer_id as issuerId',
    ])
    .where('s.contract_id', '=', contractId)
    .orderBy('s.signed_at')
    .execute();
}

/** What each participant proved and agreed to, as recorded when they did. */
export async function findParticipantEvidence(db: Db, contractId: string) {
  return db
    .selectFrom('contract_participants')
    .select(['id', 'consent_at as consentAt', 'identity', 'identity_check as identityCheck'])
    .where('contract_id', '=', contractId)
    .execute();
}

/**
 * Whether this is the impression of a seal the person is to apply (or applied) to a contract: the
 * stamper sees where and how it will land before confirming, without reading the seal library.
 */
export async function isSealImageOfContractFor(
  db: Db | Transaction,
  where: { groupId: string; sha256: string; userId: string },
): Promise<boolean> {
  const row = await db
    .selectFrom('contract_participants as p')
    .innerJoin('seals as s', 's.id', 'p.seal_id')
    .select('p.id')
    .where('p.group_id', '=', where.groupId)
    .where('p.user_id', '=', where.userId)
    .where('p.kind', '=', 'company')
    .where('s.image_sha256', '=', where.sha256)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

// ---------------------------------------------------------------- void agreements, attachments, identity checks

/** The live void agreement of a contract (draft to completed), if any. */
export async function findVoidAgreement(
  db: Db | Transaction,
  where: { groupId: string; contractId: string },
): Promise<{ id: string; status: ContractStatus; currentSha256: string; title: string } | undefined> {
  return db
    .selectFrom('contracts')
    .select(['id', 'status', 'current_sha256 as currentSha256', 'title'])
    .where('group_id', '=', where.groupId)
    .where('void_of', '=', where.contractId)
    .where('status', 'in', ['draft', 'sent', 'signing', 'completed'])
    .executeTakeFirst();
}

export interface AttachmentRecord {
  id: string;
  contractId: string;
  sha256: string;
  mediaType: 'application/pdf' | 'image/png' | 'image/jpeg';
  name: string;
  size: number;
  createdBy: string;
  createdAt: Date;
}

export async function insertAttachment(trx: Transaction, row: AttachmentRecord & { groupId: string }): Promise<void> {
  await trx
    .insertInto('contract_attachments')
    .values({
      id: row.id,
      group_id: row.groupId,
      contract_id: row.contractId,
      sha256: row.sha256,
      media_type: row.mediaType,
      name: row.name,
      size: row.size,
      created_by: row.createdBy,
      created_at: row.createdAt,
    })
    .execute();
}

export async function findAttachments(db: Db | Transaction, contractId: string): Promise<AttachmentRecord[]> {
  return db
    .selectFrom('contract_attachments')
    .select([
      'id',
      'contract_id as contractId',
      'sha256',
      'media_type as mediaType',
      'name',
      'size',
      'created_by as createdBy',
      'created_at as createdAt',
    ])
    .where('contract_id', '=', contractId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function countAttachments(trx: Transaction, contractId: string): Promise<number> {
  const row = await trx
    .selectFrom('contract_attachments')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('contract_id', '=', contractId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findIdentityCheck(db: Db | Transaction, participantId: string): Promise<unknown> {
  const row = await db
    .selectFrom('contract_participants')
    .select('identity_check as identityCheck')
    .where('id', '=', participantId)
    .executeTakeFirst();
  return row?.identityCheck ?? null;
}

export async function setIdentityCheck(trx: Transaction, participantId: string, check: unknown): Promise<void> {
  await trx
    .updateTable('contract_participants')
    .set({ identity_check: JSON.stringify(check) })
    .where('id', '=', participantId)
    .execute();
}

// ---------------------------------------------------------------- signing policies

/** The policies set on a company and its ancestors (`paths`: the company's path and each prefix). */
// Read at each contract created (whether its company asks for a second factor): built once.
const selectPolicies = precompiled((db, where: { groupId: string; companyPath: string }) =>
  db
    .selectFrom('contract_policies as p')
    .innerJoin('companies as c', 'c.id', 'p.company_id')
    .select(['p.company_id as companyId', 'c.name as companyName', 'p.require_second_factor as requireSecondFactor'])
    .where('p.group_id', '=', where.groupId)
    .where(sql<boolean>`${where.companyPath} like c.path || '%'`)
    .orderBy(sql`length(c.path)`, 'desc'),
);

export async function findPolicies(
  db: Db | Transaction,
  where: { groupId: string; companyPath: string },
): Promise<Array<{ companyId: string; companyName: string; requireSecondFactor: boolean }>> {
  return selectPolicies(db, where);
}

export async function upsertPolicy(
  trx: Transaction,
  row: { companyId: string; groupId: string; requireSecondFactor: boolean; updatedBy: string; at: Date },
): Promise<void> {
  await trx
    .insertInto('contract_policies')
    .values({
      company_id: row.companyId,
      group_id: row.groupId,
      require_second_factor: row.requireSecondFactor,
      updated_by: row.updatedBy,
      updated_at: row.at,
    })
    .onConflict((oc) =>
      oc.column('company_id').doUpdateSet({
        require_second_factor: row.requireSecondFactor,
        updated_by: row.updatedBy,
        updated_at: row.at,
      }),
    )
    .execute();
}
