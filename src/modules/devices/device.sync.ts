// Sync and reconciliation (docs/device-protocol.md §8–§9): a batch of device events relayed by a
// phone is checked (payload, device, signature), stored once per device and sequence, and its
// meaning reconciled against what the platform knows — the chain, gaps, forks, the order, the
// device clock, each stamp against its ticket's allowance and window, photos per use, the
// geofence. Each discrepancy is a finding, raised once, audited, and sent at once to the seal's
// custodians and administrators, as are new stamps (offline operations); the answer carries a
// directive the server signed: the acknowledged sequence, the revoked tickets, the remote lock.
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import {
  distanceMetres,
  eventHash,
  LIMITS,
  parseEvent,
  ProtocolError,
  sha256Hex,
  ZERO_HASH,
  type DeviceEvent,
  type Directive,
  type SignedMessage,
} from '../../devices/protocol.js';
import type { Actor } from '../access/index.js';
import { countTicketUses } from '../approvals/index.js';
import { recordAudit } from '../audit/index.js';
import { channelsOff, notify } from '../notifications/index.js';
import { findSeal } from '../seals/index.js';
import { ensureTicketKey, signWithTicketKey } from './device-key.js';
import * as repo from './device.repository.js';
import { getRelayedDevice } from './device.service.js';
import { findSealAdministrators } from './usage.repository.js';
import { SignatureVerifyPool } from '../../devices/verify-pool.js';

/** Device signatures of large batches are verified on worker threads, beside the event loop. */
const signatures = new SignatureVerifyPool();

/** A device clock this far ahead of the server's is flagged. */
const CLOCK_AHEAD_MS = LIMITS.clockToleranceSeconds * 1000;

type Severity = repo.NewFinding['severity'];
type Finding = Omit<repo.NewFinding, 'id' | 'groupId' | 'deviceId' | 'sealId' | 'at'>;

/** Refusals of a ticket that mean someone tried a ticket that is not genuine or not theirs. */
const SUSPICIOUS_REFUSALS = new Set([
  'bad_signature',
  'unknown_key',
  'other_device',
  'replayed',
  'revoked',
  'malformed',
]);

export async function syncDevice(ctx: AppContext, actor: Actor, input: { serial: string; events: SignedMessage[] }) {
  const { principal } = actor;
  const device = await getRelayedDevice(ctx, actor, { serial: input.serial });
  const key = await ensureTicketKey(ctx);
  const receivedAt = ctx.now();

  // Payload, device and signature first, outside the transaction: each a finding of its own when bad.
  const findings: Finding[] = [];
  const valid: Array<{ event: DeviceEvent; message: SignedMessage; hash: string; position: number }> = [];
  const candidates: Array<{ event: DeviceEvent; message: SignedMessage; hash: string; position: number }> = [];
  for (const [position, message] of input.events.entries()) {
    let event: DeviceEvent;
    try {
      event = parseEvent(message);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      findings.push(
        finding('malformed_event', 'high', `An event in the batch is unreadable: ${error.message}.`, {
          key: `malformed:${sha256Hex(message.payload)}`,
        }),
      );
      continue;
    }
    const hash = eventHash(message);
    if (event.dev !== device.serial) {
      findings.push(
        finding('wrong_device', 'critical', `Event ${event.seq} names device ${event.dev}, not ${device.serial}.`, {
          seq: event.seq,
          key: `wrong_device:${hash}`,
        }),
      );
      continue;
    }
    candidates.push({ event, message, hash, position });
  }
  const signed = await signatures.verify(
    'event',
    candidates.map((c) => c.message),
    device.publicKey,
  );
  for (const [i, candidate] of candidates.entries()) {
    const { event, hash } = candidate;
    if (!signed[i]) {
      findings.push(
        finding(
          'signature_invalid',
          'critical',
          `Event ${event.seq} is not signed by the device key: changed or forged after the device wrote it.`,
          {
            seq: event.seq,
            key: `signature:${event.seq}:${hash}`,
          },
        ),
      );
      continue;
    }
    valid.push(candidate);
  }
  // The protocol sends a device's events in ascending order; another order is a relay out of step or a hand in the log.
  const seqs = valid.map((v) => v.event.seq);
  if (seqs.some((s, i) => i > 0 && s <= seqs[i - 1]!))
    findings.push(
      finding(
        'reordered',
        'medium',
        `The batch carries events out of sequence order (${seqs.slice(0, 20).join(', ')}${seqs.length > 20 ? ', …' : ''}).`,
        {
          key: `reordered:${sha256Hex(seqs.join(','))}`,
        },
      ),
    );
  valid.sort((a, b) => a.event.seq - b.event.seq || a.position - b.position);

  const outcome = await ctx.db.transaction().execute(async (trx) => {
    // The device's row lock: two syncs of one device (two phones, a retry) reconcile one after the other.
    const locked = await repo.findDevice(trx, { groupId: principal.groupId, id: device.id }, { lock: true });
    if (!locked) throw new Error('the device disappeared during its sync');
    const neighbours = new Set<number>();
    for (const v of valid)
      for (const s of [v.event.seq - 1, v.event.seq, v.event.seq + 1]) if (s >= 1) neighbours.add(s);
    const stored = new Map(
      (await repo.findEventsAt(trx, { deviceId: device.id, seqs: [...neighbours] })).map((e) => [e.seq, e]),
    );

    // Who keeps the seal: its custodians and the seal administrators over its company; read once, when someone is told.
    let kept: Promise<{ seal: Awaited<ReturnType<typeof findSeal>>; custodians: string[]; administrators: string[] }>;
    const keepers = () =>
      (kept ??= (async () => {
        const seal = await findSeal(trx, { groupId: principal.groupId, id: device.sealId });
        const administrators = await findSealAdministrators(trx, {
          groupId: principal.groupId,
          companyPath: device.companyPath,
        });
        return { seal, custodians: seal?.custodians.map((c) => c.userId) ?? [], administrators };
      })());

    let duplicates = 0;
    const fresh = new Map<number, { event: DeviceEvent; message: SignedMessage; hash: string }>();
    for (const v of valid) {
      const held = stored.get(v.event.seq) ?? fresh.get(v.event.seq);
      if (held) {
        if (held.hash === v.hash) duplicates += 1;
        else
          findings.push(
            finding(
              'fork',
              'critical',
              `Two different events claim sequence ${v.event.seq}: the log was forked (the first one received is kept).`,
              {
                seq: v.event.seq,
                ticketId: v.event.tid,
                key: `fork:${v.event.seq}:${v.hash}`,
              },
            ),
          );
        continue;
      }
      fresh.set(v.event.seq, v);
    }

    // The chain, and the clock along it, around every new event.
    const hashAt = (seq: number) => fresh.get(seq)?.hash ?? stored.get(seq)?.hash;
    const timeAt = (seq: number) => fresh.get(seq)?.event.t ?? stored.get(seq)?.deviceTime.getTime();
    for (const { event, hash } of fresh.values()) {
      const before = event.seq === 1 ? ZERO_HASH : hashAt(event.seq - 1);
      if (before !== undefined && before !== event.prev)
        findings.push(
          finding(
            'chain_broken',
            'critical',
            `Event ${event.seq} does not follow event ${event.seq - 1}: an event between them was changed, dropped or replaced.`,
            {
              seq: event.seq,
              ticketId: event.tid,
              key: `chain:${event.seq}`,
            },
          ),
        );
      const after = stored.get(event.seq + 1);
      if (after && after.prevHash !== hash)
        findings.push(
          finding(
            'chain_broken',
            'critical',
            `Event ${event.seq + 1} does not follow event ${event.seq}: an event between them was changed, dropped or replaced.`,
            {
              seq: event.seq + 1,
              key: `chain:${event.seq + 1}`,
            },
          ),
        );
      const previousTime = timeAt(event.seq - 1);
      if (previousTime !== undefined && event.t < previousTime)
        findings.push(
          finding(
            'clock_regression',
            'medium',
            `Event ${event.seq}'s device time is earlier than event ${event.seq - 1}'s: the device clock went back.`,
            {
              seq: event.seq,
              key: `clock_regression:${event.seq}`,
            },
          ),
        );
      if (event.t > receivedAt.getTime() + CLOCK_AHEAD_MS)
        findings.push(
          finding(
            'clock_ahead',
            'medium',
            `Event ${event.seq} is dated ${new Date(event.t).toISOString()}, later than the server's clock when it arrived.`,
            {
              seq: event.seq,
              key: `clock_ahead:${event.seq}`,
            },
          ),
        );
    }

    // What the new events mean, against the tickets the server issued.
    const events = [...fresh.values()].map((f) => f.event);
    const ticketIds = [...new Set(events.map((e) => e.tid).filter((t): t is string => t !== null))];
    const tickets = new Map(
      (await repo.findTickets(trx, { groupId: principal.groupId, deviceId: device.id, ids: ticketIds })).map((t) => [
        t.id,
        t,
      ]),
    );
    const counted = new Map<string, number>();
    const ended: string[] = [];
    for (const e of events) {
      const ticket = e.tid ? tickets.get(e.tid) : undefined;
      const on = { seq: e.seq, ticketId: ticket?.id ?? null, applicationId: ticket?.applicationId ?? null };
      if (e.type === 'stamp') {
        if (!ticket) {
          findings.push(
            finding(
              'stamp_without_ticket',
              'critical',
              e.tid
                ? `Stamp at event ${e.seq} names ticket ${e.tid}, which the platform never issued for this device.`
                : `Stamp at event ${e.seq} was made with no ticket: the seal was used while locked (tampering).`,
              { ...on, key: `stamp:${e.seq}` },
            ),
          );
          continue;
        }
        if (ticket.mode === 'maintenance') {
          findings.push(
            finding(
              'stamp_during_maintenance',
              'critical',
              `Stamp at event ${e.seq} was made during a maintenance unlock, which allows no stamp.`,
              { ...on, key: `stamp:${e.seq}` },
            ),
          );
          continue;
        }
        const t = e.t;
        if (t < ticket.notBefore.getTime() - CLOCK_AHEAD_MS || t > ticket.notAfter.getTime())
          findings.push(
            finding(
              'stamp_outside_window',
              'critical',
              `Stamp at event ${e.seq} is dated ${new Date(t).toISOString()}, outside its ticket's window.`,
              { ...on, key: `window:${e.seq}` },
            ),
          );
        const n = (counted.get(ticket.id) ?? 0) + 1;
        counted.set(ticket.id, n);
        if (ticket.stampsCounted + n > ticket.uses)
          findings.push(
            finding(
              'stamp_over_allowance',
              'critical',
              `Stamp at event ${e.seq} is use ${ticket.stampsCounted + n} of a ticket allowing ${ticket.uses}.`,
              { ...on, key: `over:${e.seq}` },
            ),
          );
        if (ticket.revokedAt && t > ticket.revokedAt.getTime())
          findings.push(
            finding(
              'stamp_after_revocation',
              'medium',
              `Stamp at event ${e.seq} was made after the ticket was revoked, before the device learnt of it.`,
              { ...on, key: `after_revocation:${e.seq}` },
            ),
          );
        const fence = locked.geofence;
        if (fence) {
          if (!e.loc)
            findings.push(
              finding(
                'location_missing',
                'medium',
                `Stamp at event ${e.seq} carries no location, but the seal may be used only within its geofence.`,
                { ...on, key: `location:${e.seq}` },
              ),
            );
          else {
            const away = distanceMetres(fence, e.loc);
            if (away > fence.r + e.loc.acc)
              findings.push(
                finding(
                  'outside_geofence',
                  'high',
                  `Stamp at event ${e.seq} was made ${Math.round(away)} m from the permitted place (radius ${fence.r} m).`,
                  { ...on, key: `geofence:${e.seq}` },
                ),
              );
          }
        }
      } else if (e.type === 'end' && ticket) ended.push(ticket.id);
      else if (e.type === 'tamper')
        findings.push(
          finding('tamper', 'high', `The device reported tampering at event ${e.seq}.`, {
            ...on,
            key: `tamper:${e.seq}`,
          }),
        );
      else if (e.type === 'lid_open' && !ticket)
        findings.push(
          finding('opened_without_ticket', 'high', `The device was opened at event ${e.seq} with no ticket open.`, {
            ...on,
            key: `lid:${e.seq}`,
          }),
        );
      else if (e.type === 'refused' && e.why && SUSPICIOUS_REFUSALS.has(e.why))
        findings.push(
          finding('ticket_refused', 'medium', `The device refused a ticket at event ${e.seq} (${e.why}).`, {
            ...on,
            key: `refused:${e.seq}`,
          }),
        );
      else if (e.type === 'qr_lost' && ticket)
        findings.push(
          finding('qr_lost', 'low', `The QR code left the camera's view at event ${e.seq}; the device locked.`, {
            ...on,
            key: `qr:${e.seq}`,
          }),
        );
      else if (e.type === 'low_battery')
        findings.push(
          finding('low_battery', 'low', `The device's battery ran low at event ${e.seq}.`, {
            ...on,
            key: `battery:${e.seq}`,
          }),
        );
    }

    await repo.insertEvents(
      trx,
      [...fresh.values()].map(({ event, message, hash }) => ({
        groupId: principal.groupId,
        deviceId: device.id,
        seq: event.seq,
        type: event.type,
        deviceTime: new Date(event.t),
        ticketId: event.tid,
        useNo: event.use,
        why: event.why,
        lat: event.loc?.lat ?? null,
        lon: event.loc?.lon ?? null,
        accuracy: event.loc?.acc ?? null,
        photoSha256: event.photo,
        prevHash: event.prev,
        hash,
        payload: message.payload,
        signature: message.sig,
        receivedAt,
      })),
    );
    // New offline operations: the seal's custodians and administrators hear of them at once (issue 16 §9).
    const newStamps = events.filter((e) => e.type === 'stamp');
    if (newStamps.length > 0) {
      const { seal, custodians, administrators } = await keepers();
      // The person relaying knows what they stamped; everyone else who keeps the seal is told.
      const recipients = [...new Set([...custodians, ...administrators])].filter(
        (id) => principal.kind !== 'user' || id !== principal.id,
      );
      const times = newStamps.map((e) => e.t);
      if (recipients.length > 0)
        await notify(trx, {
          groupId: principal.groupId,
          userIds: recipients,
          kind: 'device.records_arrived',
          params: {
            sealName: seal?.name ?? device.sealName,
            serial: device.serial,
            stamps: newStamps.length,
            firstAt: new Date(Math.min(...times)).toISOString().slice(0, 16).replace('T', ' '),
            lastAt: new Date(Math.max(...times)).toISOString().slice(0, 16).replace('T', ' '),
          },
          link: `/seal-usage?sealId=${device.sealId}`,
          channels: ['inbox'],
          at: receivedAt,
        });
    }
    for (const [ticketId, n] of counted) {
      const ticket = tickets.get(ticketId)!;
      const allowed = Math.max(0, Math.min(n, ticket.uses - ticket.stampsCounted));
      await repo.addStampsCounted(trx, ticketId, n);
      if (ticket.authorizationId && allowed > 0)
        await countTicketUses(trx, { id: ticket.authorizationId, uses: allowed });
    }

    // Photos per use, once a ticket's session has ended (its photos precede its `end` event).
    for (const ticketId of ended) {
      const ticket = tickets.get(ticketId)!;
      if (ticket.photosPerUse === 0) continue;
      const ofTicket = await repo.findStampsAndPhotos(trx, { deviceId: device.id, ticketId });
      const stamps = ofTicket.filter((e) => e.type === 'stamp' && e.useNo !== null);
      for (const stamp of stamps) {
        const photos = ofTicket.filter((e) => e.type === 'photo' && e.useNo === stamp.useNo).length;
        if (photos < ticket.photosPerUse)
          findings.push(
            finding(
              'photo_missing',
              'medium',
              `Use ${stamp.useNo} of ticket ${ticketId} has ${photos} of ${ticket.photosPerUse} photo(s).`,
              {
                seq: stamp.seq,
                ticketId,
                applicationId: ticket.applicationId,
                key: `photo:${ticketId}:${stamp.useNo}`,
              },
            ),
          );
      }
    }

    // The acknowledgement: the contiguous end; anything stored beyond it leaves a gap.
    let acknowledged = locked.acknowledgedSeq;
    const above = await repo.findSeqsAfter(trx, { deviceId: device.id, afterSeq: acknowledged });
    for (const s of above) {
      if (s !== acknowledged + 1) break;
      acknowledged = s;
    }
    // Only a device with open findings can have a gap to resolve.
    if (locked.openFindings > 0 && acknowledged > locked.acknowledgedSeq)
      await repo.resolveGaps(trx, { deviceId: device.id, upToSeq: acknowledged, at: receivedAt });
    const next = above.find((s) => s > acknowledged);
    if (next !== undefined)
      findings.push(
        finding(
          'gap',
          'high',
          `Events ${acknowledged + 1}–${next - 1} are missing: dropped from the log or not relayed yet.`,
          {
            seq: acknowledged + 1,
            key: `gap:${acknowledged + 1}:${next - 1}`,
          },
        ),
      );

    // A finding raised by an earlier sync of the same events is not raised again (one per device and key).
    const once = [...new Map(findings.map((f) => [f.dedupeKey, f])).values()];
    const rows = once.map((f) => ({
      ...f,
      id: newId(),
      groupId: principal.groupId,
      deviceId: device.id,
      sealId: device.sealId,
      at: receivedAt,
    }));
    const inserted = new Set(await repo.insertFindings(trx, rows));
    const newFindings = rows.filter((r) => inserted.has(r.id));
    if (newFindings.length > 0) {
      await recordAudit(trx, {
        groupId: principal.groupId,
        actor,
        at: receivedAt,
        event: {
          action: 'device.findings_raised',
          target: { type: 'device', id: device.id },
          companyId: device.companyId,
          changes: { findings: newFindings.map((f) => ({ id: f.id, kind: f.kind, severity: f.severity, seq: f.seq })) },
        },
      });
      const { seal, custodians, administrators } = await keepers();
      const told = [...new Set([...custodians, ...administrators])];
      if (told.length > 0)
        await notify(trx, {
          groupId: principal.groupId,
          userIds: told,
          kind: 'device.findings',
          params: {
            sealName: seal?.name ?? device.sealName,
            serial: device.serial,
            count: newFindings.length,
            critical: newFindings.filter((f) => f.severity === 'critical').length,
            kinds: [...new Set(newFindings.map((f) => f.kind))],
          },
          link: `/devices/${device.id}`,
          // Tampering cannot wait for someone to open the console: e-mail and SMS too, where the server sends them.
          channels: newFindings.some((f) => f.severity === 'critical') ? ['inbox', 'email', 'sms'] : ['inbox'],
          off: channelsOff(ctx),
          at: receivedAt,
        });
    }

    const directiveSeq = await repo.advanceDevice(trx, device.id, { acknowledgedSeq: acknowledged, at: receivedAt });
    const revoke = await repo.findRevokedTicketIds(trx, {
      deviceId: device.id,
      at: receivedAt,
      limit: LIMITS.revocationsPerDirective,
    });
    const directive: Directive = {
      v: 1,
      typ: 'directive',
      dev: device.serial,
      seq: directiveSeq,
      revoke,
      lock: locked.remoteLocked,
      ack: acknowledged,
      iat: Math.floor(receivedAt.getTime() / 1000),
      kid: key.keyId,
    };
    return { acknowledged, received: fresh.size, duplicates, findings: newFindings.length, directive };
  });
  return { ...outcome, directive: await signWithTicketKey(ctx, key, 'directive', outcome.directive) };
}

function finding(
  kind: string,
  severity: Severity,
  detail: string,
  at: { key: string; seq?: number | null; ticketId?: string | null; applicationId?: string | null },
): Finding {
  return {
    kind,
    severity,
    detail,
    dedupeKey: at.key,
    seq: at.seq ?? null,
    ticketId: at.ticketId ?? null,
    applicationId: at.applicationId ?? null,
  };
}
