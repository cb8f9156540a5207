import { sql } from 'kysely';
import type { Db, Transaction } from '../../db/schema.js';
import { inScope } from '../../db/scope.js';

// All SQL of the devices module. Bigint columns come back as text from PostgreSQL: they are
// turned into numbers here (sequences stay far below 2^53).

// ---------------------------------------------------------------- the ticket key

export interface TicketKeyRecord {
  id: string;
  keyId: string;
  publicKey: Buffer;
  reference: unknown;
}

export async function findActiveTicketKey(db: Db | Transaction): Promise<TicketKeyRecord | undefined> {
  const row = await db
    .selectFrom('device_ticket_keys')
    .select(['id', 'key_id as keyId', 'public_key as publicKey', 'reference'])
    .where('active', '=', true)
    .executeTakeFirst();
  return row && { ...row, publicKey: Buffer.from(row.publicKey) };
}

export async function insertTicketKey(
  trx: Transaction,
  row: { id: string; keyId: string; publicKey: Buffer; reference: unknown; at: Date },
): Promise<void> {
  await trx
    .insertInto('device_ticket_keys')
    .values({
      id: row.id,
      key_id: row.keyId,
      public_key: row.publicKey,
      reference: JSON.stringify(row.reference),
      active: true,
      created_at: row.at,
    })
    .execute();
}

/** Serialises the creators of the deployment's ticket key across processes. */
export async function lockNamed(trx: Transaction, name: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${name}))`.execute(trx);
}

// ---------------------------------------------------------------- devices

export interface DeviceRecord {
  id: string;
  groupId: string;
  companyId: string;
  companyPath: string;
  sealId: string;
  sealName: string;
  serial: string;
  publicKey: Buffer;
  geofence: { lat: number; lon: number; r: number } | null;
  status: 'active' | 'retired';
  remoteLocked: boolean;
  directiveSeq: number;
  acknowledgedSeq: number;
  lastSyncedAt: Date | null;
  registeredBy: string;
  createdAt: Date;
  openFindings: number;
}

function selectDevices(db: Db | Transaction) {
  return db
    .selectFrom('devices as d')
    .innerJoin('companies as c', 'c.id', 'd.company_id')
    .innerJoin('seals as s', 's.id', 'd.seal_id')
    .select((eb) => [
      'd.id',
      'd.group_id as groupId',
      'd.company_id as companyId',
      'c.path as companyPath',
      'd.seal_id as sealId',
      's.name as sealName',
      'd.serial',
      'd.public_key as publicKey',
      'd.geofence',
      'd.status',
      'd.remote_locked as remoteLocked',
      'd.directive_seq as directiveSeq',
      'd.acknowledged_seq as acknowledgedSeq',
      'd.last_synced_at as lastSyncedAt',
      'd.registered_by as registeredBy',
      'd.created_at as createdAt',
      eb
        .selectFrom('device_findings as f')
        .select((f) => f.fn.countAll<string>().as('n'))
        .whereRef('f.device_id', '=', 'd.id')
        .where('f.resolved_at', 'is', null)
        .as('openFindings'),
    ]);
}

type DeviceRow = Awaited<ReturnType<ReturnType<typeof selectDevices>['executeTakeFirstOrThrow']>>;

function toDevice(row: DeviceRow): DeviceRecord {
  return {
    ...row,
    publicKey: Buffer.from(row.publicKey),
    geofence: (row.geofence as DeviceRecord['geofence']) ?? null,
    directiveSeq: Number(row.directiveSeq),
    acknowledgedSeq: Number(row.acknowledgedSeq),
    openFindings: Number(row.openFindings ?? 0),
  };
}

export async function findDevices(
  db: Db,
  filter: { groupId: string; scope: string[]; sealId?: string | undefined },
): Promise<DeviceRecord[]> {
  let query = selectDevices(db)
    .where('d.group_id', '=', filter.groupId)
    .where((eb) => inScope(eb, 'c.path', filter.scope));
  if (filter.sealId) query = query.where('d.seal_id', '=', filter.sealId);
  const rows = await query.orderBy('d.created_at', 'desc').orderBy('d.id', 'desc').limit(1000).execute();
  return rows.map(toDevice);
}

/** One device of the group (by id or serial); `lock` holds its row until the transaction ends (syncs of one device queue up). */
export async function findDevice(
  db: Db | Transaction,
  where: { groupId: string; id?: string; serial?: string },
  options: { lock?: boolean } = {},
): Promise<DeviceRecord | undefined> {
  let query = selectDevices(db).where('d.group_id', '=', where.groupId);
  if (where.id !== undefined) query = query.where('d.id', '=', where.id);
  if (where.serial !== undefined) query = query.where('d.serial', '=', where.serial);
  const row = await (options.lock ? query.forUpdate('d') : query).executeTakeFirst();
  return row && toDevice(row);
}

export async function isSerialTaken(db: Db | Transaction, serial: string): Promise<boolean> {
  const row = await db.selectFrom('devices').select('id').where('serial', '=', serial).executeTakeFirst();
  return row !== undefined;
}

export async function findActiveDeviceOfSeal(db: Db | Transaction, where: { groupId: string; sealId: string }) {
  const row = await selectDevices(db)
    .where('d.group_id', '=', where.groupId)
    .where('d.seal_id', '=', where.sealId)
    .where('d.status', '=', 'active')
    .executeTakeFirst();
  return row && toDevice(row);
}

export async function insertDevice(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    companyId: string;
    sealId: string;
    serial: string;
    publicKey: Buffer;
    geofence: unknown;
    registeredBy: string;
    at: Date;
  },
): Promise<void> {
  await trx
    .insertInto('devices')
    .values({
      id: row.id,
      group_id: row.groupId,
      company_id: row.companyId,
      seal_id: row.sealId,
      serial: row.serial,
      public_key: row.publicKey,
      geofence: row.geofence === null ? null : JSON.stringify(row.geofence),
      status: 'active',
      last_synced_at: null,
      registered_by: row.registeredBy,
      created_at: row.at,
    })
    .execute();
}

export async function setRemoteLock(trx: Transaction, id: string, locked: boolean): Promise<void> {
  await trx.updateTable('devices').set({ remote_locked: locked }).where('id', '=', id).execute();
}

/** The next directive's sequence, the acknowledgement and the sync's time, in one statement. */
export async function advanceDevice(
  trx: Transaction,
  id: string,
  change: { acknowledgedSeq: number; at: Date },
): Promise<number> {
  const row = await trx
    .updateTable('devices')
    .set((eb) => ({
      directive_seq: eb('directive_seq', '+', 1),
      acknowledged_seq: change.acknowledgedSeq,
      last_synced_at: change.at,
    }))
    .where('id', '=', id)
    .returning('directive_seq')
    .executeTakeFirstOrThrow();
  return Number(row.directive_seq);
}

// ---------------------------------------------------------------- tickets

export interface TicketRecord {
  id: string;
  deviceId: string;
  sealId: string;
  mode: 'use' | 'maintenance';
  authorizationId: string | null;
  applicationId: string | null;
  holderId: string;
  uses: number;
  notBefore: Date;
  notAfter: Date;
  photoMode: 'auto' | 'manual';
  photosPerUse: number;
  payload: string;
  signature: string;
  stampsCounted: number;
  /** The ticket's own revocation, or its authorization's (the approver revoked the remaining uses). */
  revokedAt: Date | null;
  createdAt: Date;
}

function selectTickets(db: Db | Transaction) {
  return db
    .selectFrom('device_tickets as t')
    .leftJoin('authorizations as z', 'z.id', 't.authorization_id')
    .select((eb) => [
      't.id',
      't.device_id as deviceId',
      't.seal_id as sealId',
      't.mode',
      't.authorization_id as authorizationId',
      't.application_id as applicationId',
      't.holder_id as holderId',
      't.uses',
      't.not_before as notBefore',
      't.not_after as notAfter',
      't.photo_mode as photoMode',
      't.photos_per_use as photosPerUse',
      't.payload',
      't.signature',
      't.stamps_counted as stampsCounted',
      eb.fn.coalesce('t.revoked_at', 'z.revoked_at').as('revokedAt'),
      't.created_at as createdAt',
    ]);
}

export async function findUseTicket(
  db: Db | Transaction,
  where: { groupId: string; authorizationId: string; deviceId: string },
): Promise<TicketRecord | undefined> {
  return selectTickets(db)
    .where('t.group_id', '=', where.groupId)
    .where('t.authorization_id', '=', where.authorizationId)
    .where('t.device_id', '=', where.deviceId)
    .where('t.mode', '=', 'use')
    .executeTakeFirst();
}

export async function findTickets(
  db: Db | Transaction,
  where: { groupId: string; deviceId?: string; ids?: string[]; applicationId?: string },
): Promise<TicketRecord[]> {
  if (where.ids && where.ids.length === 0) return [];
  let query = selectTickets(db).where('t.group_id', '=', where.groupId);
  if (where.deviceId) query = query.where('t.device_id', '=', where.deviceId);
  if (where.ids) query = query.where('t.id', 'in', where.ids);
  if (where.applicationId) query = query.where('t.application_id', '=', where.applicationId);
  return query.orderBy('t.created_at').limit(1000).execute();
}

/** Tickets of the device the platform has revoked and whose window is still open: what a directive tells it. */
export async function findRevokedTicketIds(
  db: Db | Transaction,
  where: { deviceId: string; at: Date; limit: number },
): Promise<string[]> {
  const rows = await db
    .selectFrom('device_tickets as t')
    .leftJoin('authorizations as z', 'z.id', 't.authorization_id')
    .select('t.id')
    .where('t.device_id', '=', where.deviceId)
    .where('t.not_after', '>', where.at)
    .where((eb) => eb.or([eb('t.revoked_at', 'is not', null), eb('z.revoked_at', 'is not', null)]))
    .orderBy('t.created_at', 'desc')
    .limit(where.limit)
    .execute();
  return rows.map((r) => r.id);
}

export async function insertTicket(
  trx: Transaction,
  row: {
    id: string;
    groupId: string;
    deviceId: string;
    sealId: string;
    mode: 'use' | 'maintenance';
    authorizationId: string | null;
    applicationId: string | null;
    holderId: string;
    uses: number;
    notBefore: Date;
    notAfter: Date;
    photoMode: 'auto' | 'manual';
    photosPerUse: number;
    geofence: unknown;
    payload: string;
    signature: string;
    at: Date;
  },
): Promise<void> {
  await trx
    .insertInto('device_tickets')
    .values({
      id: row.id,
      group_id: row.groupId,
      device_id: row.deviceId,
      seal_id: row.sealId,
      mode: row.mode,
      authorization_id: row.authorizationId,
      application_id: row.applicationId,
      holder_id: row.holderId,
      uses: row.uses,
      not_before: row.notBefore,
      not_after: row.notAfter,
      photo_mode: row.photoMode,
      photos_per_use: row.photosPerUse,
      geofence: row.geofence === null ? null : JSON.stringify(row.geofence),
      payload: row.payload,
      signature: row.signature,
      revoked_at: null,
      created_at: row.at,
    })
    .execute();
}

export async function addStampsCounted(trx: Transaction, id: string, count: number): Promise<void> {
  await trx
    .updateTable('device_tickets')
    .set((eb) => ({ stamps_counted: eb('stamps_counted', '+', count) }))
    .where('id', '=', id)
    .execute();
}

/** Whether the person holds (or held) a ticket for the device: the phone that relays for it. */
export async function holdsTicketFor(db: Db | Transaction, where: { deviceId: string; userId: string }) {
  const row = await db
    .selectFrom('device_tickets')
    .select('id')
    .where('device_id', '=', where.deviceId)
    .where('holder_id', '=', where.userId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

// ---------------------------------------------------------------- events

export interface StoredEvent {
  seq: number;
  type: string;
  deviceTime: Date;
  ticketId: string | null;
  useNo: number | null;
  why: string | null;
  lat: number | null;
  lon: number | null;
  accuracy: number | null;
  photoSha256: string | null;
  prevHash: string;
  hash: string;
}

const eventColumns = [
  'seq',
  'type',
  'device_time as deviceTime',
  'ticket_id as ticketId',
  'use_no as useNo',
  'why',
  'lat',
  'lon',
  'accuracy',
  'photo_sha256 as photoSha256',
  'prev_hash as prevHash',
  'hash',
] as const;

export async function findEventsAt(
  trx: Transaction,
  where: { deviceId: string; seqs: number[] },
): Promise<StoredEvent[]> {
  if (where.seqs.length === 0) return [];
  const rows = await trx
    .selectFrom('device_events')
    .select(eventColumns)
    .where('device_id', '=', where.deviceId)
    .where('seq', 'in', where.seqs)
    .execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

export async function findEvents(
  db: Db | Transaction,
  where: { deviceId: string; afterSeq?: number; ticketIds?: string[]; limit: number },
): Promise<StoredEvent[]> {
  if (where.ticketIds && where.ticketIds.length === 0) return [];
  let query = db.selectFrom('device_events').select(eventColumns).where('device_id', '=', where.deviceId);
  if (where.afterSeq !== undefined) query = query.where('seq', '>', where.afterSeq);
  if (where.ticketIds) query = query.where('ticket_id', 'in', where.ticketIds);
  const rows = await query.orderBy('seq').limit(where.limit).execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/** A ticket's stamps and photos on one device, only what counting photos per use needs. */
export async function findStampsAndPhotos(
  db: Db | Transaction,
  where: { deviceId: string; ticketId: string },
): Promise<Array<{ seq: number; type: string; useNo: number | null }>> {
  const rows = await db
    .selectFrom('device_events')
    .select(['seq', 'type', 'use_no as useNo'])
    .where('device_id', '=', where.deviceId)
    .where('ticket_id', '=', where.ticketId)
    .where('type', 'in', ['stamp', 'photo'])
    .orderBy('seq')
    .limit(20_000)
    .execute();
  return rows.map((r) => ({ seq: Number(r.seq), type: r.type, useNo: r.useNo }));
}

export async function insertEvents(
  trx: Transaction,
  rows: Array<
    StoredEvent & { groupId: string; deviceId: string; payload: string; signature: string; receivedAt: Date }
  >,
): Promise<void> {
  if (rows.length === 0) return;
  const first = rows[0]!;
  if (rows.some((r) => r.groupId !== first.groupId || r.deviceId !== first.deviceId))
    throw new Error('insertEvents: the events of one device at a time');
  // One column of values per array: a sync of a hundred events binds 17 parameters, not 1,700.
  const column = <T>(pick: (r: (typeof rows)[number]) => T) => rows.map(pick);
  await sql`
    insert into device_events (group_id, device_id, seq, type, device_time, ticket_id, use_no, why, lat, lon,
      accuracy, photo_sha256, prev_hash, hash, payload, signature, received_at)
    select ${first.groupId}::uuid, ${first.deviceId}::uuid, e.seq, e.type, e.device_time, e.ticket_id, e.use_no,
      e.why, e.lat, e.lon, e.accuracy, e.photo_sha256, e.prev_hash, e.hash, e.payload, e.signature,
      ${first.receivedAt}::timestamptz
    from unnest(
      ${column((r) => r.seq)}::bigint[], ${column((r) => r.type)}::text[],
      ${column((r) => r.deviceTime.toISOString())}::timestamptz[], ${column((r) => r.ticketId)}::uuid[],
      ${column((r) => r.useNo)}::integer[], ${column((r) => r.why)}::text[], ${column((r) => r.lat)}::integer[],
      ${column((r) => r.lon)}::integer[], ${column((r) => r.accuracy)}::integer[],
      ${column((r) => r.photoSha256)}::text[], ${column((r) => r.prevHash)}::text[], ${column((r) => r.hash)}::text[],
      ${column((r) => r.payload)}::text[], ${column((r) => r.signature)}::text[]
    ) as e(seq, type, device_time, ticket_id, use_no, why, lat, lon, accuracy, photo_sha256, prev_hash, hash,
      payload, signature)
  `.execute(trx);
}

/** The stored sequences above `afterSeq`, ascending (to find the contiguous end and the gaps). */
export async function findSeqsAfter(
  trx: Transaction,
  where: { deviceId: string; afterSeq: number },
): Promise<number[]> {
  const rows = await trx
    .selectFrom('device_events')
    .select('seq')
    .where('device_id', '=', where.deviceId)
    .where('seq', '>', where.afterSeq)
    .orderBy('seq')
    .limit(100_000)
    .execute();
  return rows.map((r) => Number(r.seq));
}

export async function hasPhotoEvent(db: Db | Transaction, where: { deviceId: string; sha256: string }) {
  const row = await db
    .selectFrom('device_events')
    .select(['ticket_id as ticketId'])
    .where('device_id', '=', where.deviceId)
    .where('photo_sha256', '=', where.sha256)
    .where('type', '=', 'photo')
    .executeTakeFirst();
  return row;
}

// ---------------------------------------------------------------- photos

export async function insertPhoto(
  trx: Transaction,
  row: {
    groupId: string;
    deviceId: string;
    sha256: string;
    mediaType: string;
    size: number;
    uploadedBy: string;
    at: Date;
  },
): Promise<boolean> {
  const result = await trx
    .insertInto('device_photos')
    .values({
      group_id: row.groupId,
      device_id: row.deviceId,
      sha256: row.sha256,
      media_type: row.mediaType,
      size: row.size,
      uploaded_by: row.uploadedBy,
      created_at: row.at,
    })
    .onConflict((oc) => oc.columns(['device_id', 'sha256']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function findPhotos(db: Db | Transaction, where: { deviceId: string; sha256s: string[] }) {
  if (where.sha256s.length === 0) return [];
  return db
    .selectFrom('device_photos')
    .select(['sha256', 'media_type as mediaType', 'size'])
    .where('device_id', '=', where.deviceId)
    .where('sha256', 'in', where.sha256s)
    .execute();
}

// ---------------------------------------------------------------- findings

export interface NewFinding {
  id: string;
  groupId: string;
  deviceId: string;
  sealId: string;
  applicationId: string | null;
  ticketId: string | null;
  seq: number | null;
  kind: string;
  severity: 'critical' | 'high' | 'medium' | 'low';
  detail: string;
  dedupeKey: string;
  at: Date;
}

/** Inserts the findings not already recorded (same device and key); returns the ids of those inserted. */
export async function insertFindings(trx: Transaction, rows: NewFinding[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const inserted = await trx
    .insertInto('device_findings')
    .values(
      rows.map((r) => ({
        id: r.id,
        group_id: r.groupId,
        device_id: r.deviceId,
        seal_id: r.sealId,
        application_id: r.applicationId,
        ticket_id: r.ticketId,
        seq: r.seq,
        kind: r.kind,
        severity: r.severity,
        detail: r.detail,
        dedupe_key: r.dedupeKey,
        created_at: r.at,
        resolved_at: null,
      })),
    )
    .onConflict((oc) => oc.columns(['device_id', 'dedupe_key']).doNothing())
    .returning('id')
    .execute();
  return inserted.map((r) => r.id);
}

/** Gaps filled by a later batch: their findings are resolved. */
export async function resolveGaps(trx: Transaction, where: { deviceId: string; upToSeq: number; at: Date }) {
  await trx
    .updateTable('device_findings')
    .set({ resolved_at: where.at })
    .where('device_id', '=', where.deviceId)
    .where('kind', '=', 'gap')
    .where('resolved_at', 'is', null)
    .where('seq', '<=', where.upToSeq)
    .execute();
}

export interface FindingRecord {
  id: string;
  deviceId: string;
  serial: string;
  sealId: string;
  applicationId: string | null;
  ticketId: string | null;
  seq: number | null;
  kind: string;
  severity: string;
  detail: string;
  createdAt: Date;
  resolvedAt: Date | null;
}

export async function findFindings(
  db: Db,
  filter: {
    groupId: string;
    scope: string[];
    deviceId?: string | undefined;
    sealId?: string | undefined;
    applicationId?: string | undefined;
    limit: number;
  },
): Promise<FindingRecord[]> {
  let query = db
    .selectFrom('device_findings as f')
    .innerJoin('devices as d', 'd.id', 'f.device_id')
    .innerJoin('companies as c', 'c.id', 'd.company_id')
    .select([
      'f.id',
      'f.device_id as deviceId',
      'd.serial',
      'f.seal_id as sealId',
      'f.application_id as applicationId',
      'f.ticket_id as ticketId',
      'f.seq',
      'f.kind',
      'f.severity',
      'f.detail',
      'f.created_at as createdAt',
      'f.resolved_at as resolvedAt',
    ])
    .where('f.group_id', '=', filter.groupId)
    .where((eb) => inScope(eb, 'c.path', filter.scope));
  if (filter.deviceId) query = query.where('f.device_id', '=', filter.deviceId);
  if (filter.sealId) query = query.where('f.seal_id', '=', filter.sealId);
  if (filter.applicationId) query = query.where('f.application_id', '=', filter.applicationId);
  const rows = await query.orderBy('f.created_at', 'desc').orderBy('f.id', 'desc').limit(filter.limit).execute();
  return rows.map((r) => ({ ...r, seq: r.seq === null ? null : Number(r.seq) }));
}

export async function findFindingsOfApplication(db: Db, where: { groupId: string; applicationId: string }) {
  const rows = await db
    .selectFrom('device_findings')
    .select([
      'id',
      'kind',
      'severity',
      'detail',
      'seq',
      'ticket_id as ticketId',
      'created_at as createdAt',
      'resolved_at as resolvedAt',
    ])
    .where('group_id', '=', where.groupId)
    .where('application_id', '=', where.applicationId)
    .orderBy('created_at')
    .limit(1000)
    .execute();
  return rows.map((r) => ({ ...r, seq: r.seq === null ? null : Number(r.seq) }));
}
