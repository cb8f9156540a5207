// Smart seal devices on the platform side (issue 16): the registry, the tickets the server signs,
// the remote lock, the custodian's maintenance unlock, photos of stamped paper, and the records
// an application's approvers review. Reconciling synced logs is `device.sync.ts`.
import { createHash, randomBytes } from 'node:crypto';
import { assertMediaType } from '../../blobs/sniff.js';
import { storeBlob, readGroupBlob } from '../../blobs/blob.service.js';
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { AppError, forbidden, notFound } from '../../server/errors.js';
import { b64url, keyIdOf, LIMITS, ProtocolError, readP256PublicKey, type Ticket } from '../../devices/protocol.js';
import { isWithin, requireUser, scopeOf, type Actor, type Permission } from '../access/index.js';
import { findAuthorizationForUse, getApplication } from '../approvals/index.js';
import { recordAudit } from '../audit/index.js';
import { findSeal, isCustodian } from '../seals/index.js';
import { ensureTicketKey, signWithTicketKey } from './device-key.js';
import * as repo from './device.repository.js';

/** How long a use ticket stays valid: long enough for a week offline, short enough to bound a lost phone. */
export const TICKET_LIFETIME_SECONDS = 7 * 24 * 3600;
/** A maintenance unlock lasts an hour. */
export const MAINTENANCE_LIFETIME_SECONDS = 3600;
/** Tickets start a little in the past: a device clock a few minutes slow still accepts a fresh one. */
const BACKDATE_SECONDS = LIMITS.clockToleranceSeconds;
/** Photos of stamped paper: JPEG or PNG, at most 10 MB each. */
export const PHOTO_MAX_BYTES = 10 * 1024 * 1024;

function scopeOrNothing(actor: Actor, permission: Permission): string[] {
  try {
    return scopeOf(actor.principal, permission);
  } catch {
    return [];
  }
}

export function present(device: repo.DeviceRecord) {
  return {
    id: device.id,
    serial: device.serial,
    sealId: device.sealId,
    sealName: device.sealName,
    companyId: device.companyId,
    keyId: keyIdOf(device.publicKey),
    geofence: device.geofence,
    status: device.status,
    remoteLocked: device.remoteLocked,
    acknowledgedSeq: device.acknowledgedSeq,
    lastSyncedAt: device.lastSyncedAt,
    openFindings: device.openFindings,
    createdAt: device.createdAt,
  };
}

/** A device within the caller's scope for `permission`, or not found (another company's device is not told apart from none). */
async function getDeviceRecord(ctx: AppContext, actor: Actor, deviceId: string, permission: Permission) {
  const device = await repo.findDevice(ctx.db, { groupId: actor.principal.groupId, id: deviceId });
  if (!device || !isWithin(scopeOrNothing(actor, permission), device.companyPath))
    throw notFound('device_not_found', deviceId);
  return device;
}

/**
 * The device a phone relays for: its holder of a ticket, the seal's custodian, or a reader of
 * seals over its company. Anyone else is told no such device exists, as for an unknown serial.
 */
export async function getRelayedDevice(ctx: AppContext, actor: Actor, where: { serial?: string; id?: string }) {
  const { principal } = actor;
  const device = await repo.findDevice(ctx.db, { groupId: principal.groupId, ...where });
  const what = where.serial ?? where.id ?? '';
  if (!device) throw notFound('device_not_found', what);
  if (isWithin(scopeOrNothing(actor, 'seals.read'), device.companyPath)) return device;
  if (principal.kind === 'user') {
    if (await repo.holdsTicketFor(ctx.db, { deviceId: device.id, userId: principal.id })) return device;
    if (await isCustodian(ctx.db, device.sealId, principal.id)) return device;
  }
  throw notFound('device_not_found', what);
}

export async function getTicketKey(ctx: AppContext) {
  const key = await ensureTicketKey(ctx);
  return { keyId: key.keyId, algorithm: 'ECDSA-P256-SHA256' as const, publicKey: key.publicKey.toString('base64') };
}

export async function listDevices(ctx: AppContext, actor: Actor, query: { sealId?: string | undefined }) {
  const rows = await repo.findDevices(ctx.db, {
    groupId: actor.principal.groupId,
    scope: scopeOf(actor.principal, 'seals.read'),
    sealId: query.sealId,
  });
  return rows.map(present);
}

export async function getDevice(ctx: AppContext, actor: Actor, deviceId: string) {
  return present(await getDeviceRecord(ctx, actor, deviceId, 'seals.read'));
}

/** Registers a device's key made on the device and binds it to one physical seal (a seal administrator over it). */
export async function registerDevice(
  ctx: AppContext,
  actor: Actor,
  input: { serial: string; sealId: string; publicKey: string; geofence: Ticket['geo'] },
) {
  const { principal } = actor;
  const registeredBy = requireUser(principal);
  const seal = await findSeal(ctx.db, {
    groupId: principal.groupId,
    id: input.sealId,
    scope: scopeOf(principal, 'seals.manage'),
  });
  if (!seal) throw notFound('seal_not_found', input.sealId);
  if (seal.kind !== 'physical')
    throw new AppError(
      'seal_not_physical',
      `${seal.name} is a ${seal.kind} seal; only a physical seal sits in a device.`,
    );
  const spki = /^[A-Za-z0-9+/]+={0,2}$/.test(input.publicKey)
    ? Buffer.from(input.publicKey, 'base64')
    : Buffer.alloc(0);
  try {
    readP256PublicKey(spki);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    throw new AppError('device_key_invalid', `The device key is refused: ${error.message}.`, {
      errors: [{ field: 'body.publicKey', message: error.message }],
    });
  }
  const id = newId();
  const at = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    // Serial and seal are checked under one named lock, so two registrations at once cannot both pass.
    await repo.lockNamed(trx, 'sigil:devices:register');
    if (await repo.isSerialTaken(trx, input.serial))
      throw new AppError('device_serial_taken', `A device with serial ${input.serial} is already registered.`);
    if (await repo.findActiveDeviceOfSeal(trx, { groupId: principal.groupId, sealId: seal.id }))
      throw new AppError('seal_has_device', `${seal.name} is already bound to an active device.`);
    await repo.insertDevice(trx, {
      id,
      groupId: principal.groupId,
      companyId: seal.companyId,
      sealId: seal.id,
      serial: input.serial,
      publicKey: spki,
      geofence: input.geofence,
      registeredBy,
      at,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at,
      event: {
        action: 'device.registered',
        target: { type: 'device', id },
        companyId: seal.companyId,
        changes: { serial: input.serial, sealId: seal.id, keyId: keyIdOf(spki) },
      },
    });
  });
  return getDevice(ctx, actor, id);
}

function presentTicket(ticket: repo.TicketRecord, serial: string) {
  return {
    id: ticket.id,
    deviceId: ticket.deviceId,
    serial,
    mode: ticket.mode,
    uses: ticket.uses,
    notBefore: ticket.notBefore,
    notAfter: ticket.notAfter,
    photoMode: ticket.photoMode,
    photosPerUse: ticket.photosPerUse,
    ticket: { payload: ticket.payload, sig: ticket.signature },
  };
}

async function signTicket(
  ctx: AppContext,
  actor: Actor,
  input: {
    device: repo.DeviceRecord;
    mode: 'use' | 'maintenance';
    authorizationId: string | null;
    applicationId: string | null;
    holderId: string;
    uses: number;
    lifetimeSeconds: number;
    photoMode: 'auto' | 'manual';
    photosPerUse: number;
  },
) {
  const { principal } = actor;
  const key = await ensureTicketKey(ctx);
  const at = ctx.now();
  const now = Math.floor(at.getTime() / 1000);
  const body: Ticket = {
    v: 1,
    typ: 'ticket',
    mode: input.mode,
    tid: newId(),
    dev: input.device.serial,
    seal: input.device.sealId,
    app: input.applicationId,
    who: input.holderId,
    uses: input.uses,
    nbf: now - BACKDATE_SECONDS,
    exp: now + input.lifetimeSeconds,
    photo: input.photoMode,
    ppu: input.photosPerUse,
    geo: input.device.geofence,
    nonce: b64url(randomBytes(16)),
    iat: now,
    kid: key.keyId,
  };
  const signed = await signWithTicketKey(ctx, key, 'ticket', body);
  return ctx.db.transaction().execute(async (trx) => {
    if (input.authorizationId) {
      // One live ticket per authorization and device: a second fetch at once waits here and gets the first.
      await repo.lockNamed(trx, `sigil:device-ticket:${input.authorizationId}`);
      const existing = await repo.findUseTicket(trx, {
        groupId: principal.groupId,
        authorizationId: input.authorizationId,
        deviceId: input.device.id,
      });
      if (existing) return existing;
    }
    await repo.insertTicket(trx, {
      id: body.tid,
      groupId: principal.groupId,
      deviceId: input.device.id,
      sealId: input.device.sealId,
      mode: input.mode,
      authorizationId: input.authorizationId,
      applicationId: input.applicationId,
      holderId: input.holderId,
      uses: input.uses,
      notBefore: new Date(body.nbf * 1000),
      notAfter: new Date(body.exp * 1000),
      photoMode: input.photoMode,
      photosPerUse: input.photosPerUse,
      geofence: body.geo,
      payload: signed.payload,
      signature: signed.sig,
      at,
    });
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at,
      event: {
        action: 'device.ticket_issued',
        target: { type: 'device', id: input.device.id },
        companyId: input.device.companyId,
        changes: {
          ticketId: body.tid,
          mode: input.mode,
          authorizationId: input.authorizationId,
          uses: input.uses,
          notAfter: new Date(body.exp * 1000).toISOString(),
        },
      },
    });
    const [stored] = await repo.findTickets(trx, { groupId: principal.groupId, ids: [body.tid] });
    if (!stored) throw new Error('a device ticket was stored but cannot be read back');
    return stored;
  });
}

/**
 * The applicant fetches the signed ticket of an approved physical seal's authorization, for the
 * device bound to that seal. Asked again, the same ticket comes back: one live ticket per
 * authorization and device, carrying the uses left when it was first issued.
 */
export async function issueTicket(
  ctx: AppContext,
  actor: Actor,
  input: { authorizationId: string; photoMode: 'auto' | 'manual' },
) {
  const { principal } = actor;
  const userId = requireUser(principal);
  const authorization = await findAuthorizationForUse(ctx.db, {
    groupId: principal.groupId,
    id: input.authorizationId,
  });
  if (!authorization) throw notFound('authorization_not_found', input.authorizationId);
  // Only the applicant it was given to fetches the ticket; to anyone else it is as if it did not exist.
  if (authorization.holderId !== userId) throw notFound('authorization_not_found', input.authorizationId);
  if (authorization.kind !== 'ticket')
    throw new AppError('ticket_not_issuable', 'The authorization is for electronic documents, not a physical seal.');
  if (authorization.revokedAt)
    throw new AppError('authorization_revoked', 'The remaining uses of this authorization were revoked.');
  const device = await repo.findActiveDeviceOfSeal(ctx.db, {
    groupId: principal.groupId,
    sealId: authorization.sealId,
  });
  if (!device)
    throw new AppError('seal_has_no_device', 'No smart seal device is bound to the seal of this authorization.');
  const existing = await repo.findUseTicket(ctx.db, {
    groupId: principal.groupId,
    authorizationId: authorization.id,
    deviceId: device.id,
  });
  if (existing) return presentTicket(existing, device.serial);
  if (authorization.usesConsumed >= authorization.usesTotal)
    throw new AppError('authorization_exhausted', 'Every approved use of this authorization has been made.');
  const application = await getApplication(ctx, actor, authorization.applicationId);
  const ticket = await signTicket(ctx, actor, {
    device,
    mode: 'use',
    authorizationId: authorization.id,
    applicationId: authorization.applicationId,
    holderId: userId,
    uses: authorization.usesTotal - authorization.usesConsumed,
    lifetimeSeconds: TICKET_LIFETIME_SECONDS,
    photoMode: input.photoMode,
    photosPerUse: application.photosPerUse,
  });
  return presentTicket(ticket, device.serial);
}

/** The custodian opens the device to clean or re-ink the seal: the body unlocks, the stamp stays pinned (§6.4). */
export async function issueMaintenanceTicket(ctx: AppContext, actor: Actor, deviceId: string) {
  const { principal } = actor;
  const userId = requireUser(principal);
  const device = await getRelayedDevice(ctx, actor, { id: deviceId });
  if (!(await isCustodian(ctx.db, device.sealId, userId)))
    throw forbidden('Only a custodian of the seal may open its device for maintenance.');
  const ticket = await signTicket(ctx, actor, {
    device,
    mode: 'maintenance',
    authorizationId: null,
    applicationId: null,
    holderId: userId,
    uses: 0,
    lifetimeSeconds: MAINTENANCE_LIFETIME_SECONDS,
    photoMode: 'auto',
    photosPerUse: 0,
  });
  return presentTicket(ticket, device.serial);
}

/** Locks the device from afar (or releases it): the next directive relayed to it says so. */
export async function setRemoteLock(ctx: AppContext, actor: Actor, deviceId: string, locked: boolean) {
  const { principal } = actor;
  const device = await getDeviceRecord(ctx, actor, deviceId, 'seals.manage');
  await ctx.db.transaction().execute(async (trx) => {
    const current = await repo.findDevice(trx, { groupId: principal.groupId, id: device.id }, { lock: true });
    if (!current || current.remoteLocked === locked) return;
    const at = ctx.now();
    await repo.setRemoteLock(trx, device.id, locked);
    await recordAudit(trx, {
      groupId: principal.groupId,
      actor,
      at,
      event: {
        action: 'device.remote_lock_changed',
        target: { type: 'device', id: device.id },
        companyId: device.companyId,
        changes: { locked },
      },
    });
  });
  return getDevice(ctx, actor, deviceId);
}

/**
 * A photo of stamped paper, uploaded by the phone after the events that name it: sniffed (JPEG or
 * PNG), bounded, stored once by its SHA-256 and kept for good. A photo no synced event names is refused.
 */
export async function uploadPhoto(
  ctx: AppContext,
  actor: Actor,
  input: { deviceId: string; bytes: unknown; claimedType: string | undefined },
) {
  const { principal } = actor;
  const uploadedBy = requireUser(principal);
  const device = await getRelayedDevice(ctx, actor, { id: input.deviceId });
  const bytes = input.bytes;
  if (!Buffer.isBuffer(bytes) || bytes.length === 0)
    throw new AppError('validation_failed', 'Send the photo itself as the request body (image/jpeg or image/png).', {
      errors: [{ field: 'body', message: 'is not an image' }],
    });
  if (bytes.length > PHOTO_MAX_BYTES)
    throw new AppError('image_too_large', `The photo has ${bytes.length} bytes; at most ${PHOTO_MAX_BYTES}.`);
  const mediaType = assertMediaType(bytes, {
    accepted: ['image/jpeg', 'image/png'],
    claimed: input.claimedType,
    field: 'body',
  });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (!(await repo.hasPhotoEvent(ctx.db, { deviceId: device.id, sha256 })))
    throw new AppError(
      'photo_not_in_log',
      `No synced event of device ${device.serial} names a photo with SHA-256 ${sha256}; sync the device's events first.`,
    );
  const at = ctx.now();
  const stored = await ctx.db.transaction().execute(async (trx) => {
    await storeBlob(trx, ctx.blobs, {
      groupId: principal.groupId,
      bytes: bytes,
      mediaType,
      originalName: `${sha256}.${mediaType === 'image/png' ? 'png' : 'jpg'}`,
      createdBy: uploadedBy,
      at,
    });
    return repo.insertPhoto(trx, {
      groupId: principal.groupId,
      deviceId: device.id,
      sha256,
      mediaType,
      size: bytes.length,
      uploadedBy,
      at,
    });
  });
  return { sha256, mediaType, size: bytes.length, stored };
}

/** A stored photo: for readers of the device's seal, and for whoever may see the application it was taken for. */
export async function readPhoto(ctx: AppContext, actor: Actor, where: { deviceId: string; sha256: string }) {
  const { principal } = actor;
  const device = await repo.findDevice(ctx.db, { groupId: principal.groupId, id: where.deviceId });
  if (!device) throw notFound('device_not_found', where.deviceId);
  const [photo] = await repo.findPhotos(ctx.db, { deviceId: device.id, sha256s: [where.sha256] });
  const event = photo && (await repo.hasPhotoEvent(ctx.db, { deviceId: device.id, sha256: where.sha256 }));
  if (!photo || !event)
    throw new AppError('blob_not_found', `Device ${where.deviceId} holds no photo ${where.sha256}.`);
  if (!isWithin(scopeOrNothing(actor, 'seals.read'), device.companyPath)) {
    const [ticket] = event.ticketId
      ? await repo.findTickets(ctx.db, { groupId: principal.groupId, ids: [event.ticketId] })
      : [];
    if (!ticket?.applicationId) throw notFound('device_not_found', where.deviceId);
    // Throws not-found unless the caller may see the application (applicant, approvers, CC, seal readers).
    await getApplication(ctx, actor, ticket.applicationId);
  }
  const { bytes } = await readGroupBlob(ctx.db, ctx.blobs, { groupId: principal.groupId, sha256: where.sha256 });
  return { bytes, mediaType: photo.mediaType };
}

function presentEvent(e: repo.StoredEvent) {
  return {
    seq: e.seq,
    type: e.type,
    deviceTime: e.deviceTime,
    ticketId: e.ticketId,
    use: e.useNo,
    why: e.why,
    location:
      e.lat !== null && e.lon !== null ? { lat: e.lat / 1e6, lon: e.lon / 1e6, accuracy: e.accuracy ?? 0 } : null,
    photoSha256: e.photoSha256,
    hash: e.hash,
  };
}

export async function listEvents(
  ctx: AppContext,
  actor: Actor,
  deviceId: string,
  query: { afterSeq: number; limit: number },
) {
  const device = await getDeviceRecord(ctx, actor, deviceId, 'seals.read');
  const rows = await repo.findEvents(ctx.db, { deviceId: device.id, afterSeq: query.afterSeq, limit: query.limit });
  return { items: rows.map(presentEvent) };
}

export async function listFindings(
  ctx: AppContext,
  actor: Actor,
  query: {
    deviceId?: string | undefined;
    sealId?: string | undefined;
    applicationId?: string | undefined;
    limit: number;
  },
) {
  const items = await repo.findFindings(ctx.db, {
    groupId: actor.principal.groupId,
    scope: scopeOf(actor.principal, 'seals.read'),
    ...query,
  });
  return { items: items.map((f) => ({ ...f, severity: f.severity as 'critical' | 'high' | 'medium' | 'low' })) };
}

interface StampRecord {
  ticketId: string;
  deviceId: string;
  serial: string;
  use: number | null;
  deviceTime: Date;
  holderId: string;
  location: { lat: number; lon: number; accuracy: number } | null;
  photos: Array<{ sha256: string; uploaded: boolean }>;
}

/**
 * What the approver and CC review per application (patent step 36): each stamp with who, where
 * and when, its photos (and whether they arrived), and the findings about the application.
 */
export async function getApplicationRecords(ctx: AppContext, actor: Actor, applicationId: string) {
  const { principal } = actor;
  const application = await getApplication(ctx, actor, applicationId);
  const tickets = await repo.findTickets(ctx.db, { groupId: principal.groupId, applicationId });
  const stamps: StampRecord[] = [];
  for (const deviceId of new Set(tickets.map((t) => t.deviceId))) {
    const device = await repo.findDevice(ctx.db, { groupId: principal.groupId, id: deviceId });
    if (!device) continue;
    const ofDevice = tickets.filter((t) => t.deviceId === deviceId);
    const events = await repo.findEvents(ctx.db, { deviceId, ticketIds: ofDevice.map((t) => t.id), limit: 10_000 });
    const photoHashes = events.filter((e) => e.type === 'photo' && e.photoSha256).map((e) => e.photoSha256!);
    const uploaded = new Set((await repo.findPhotos(ctx.db, { deviceId, sha256s: photoHashes })).map((p) => p.sha256));
    for (const e of events) {
      if (e.type !== 'stamp') continue;
      const ticket = ofDevice.find((t) => t.id === e.ticketId)!;
      const photos = events
        .filter((p) => p.type === 'photo' && p.ticketId === e.ticketId && p.useNo === e.useNo && p.photoSha256)
        .map((p) => ({ sha256: p.photoSha256!, uploaded: uploaded.has(p.photoSha256!) }));
      stamps.push({
        ticketId: ticket.id,
        deviceId: device.id,
        serial: device.serial,
        use: e.useNo,
        deviceTime: e.deviceTime,
        holderId: ticket.holderId,
        location: presentEvent(e).location,
        photos,
      });
    }
  }
  const findings = await repo.findFindingsOfApplication(ctx.db, { groupId: principal.groupId, applicationId });
  return { applicationId, usesApproved: application.uses, stamps, findings };
}
