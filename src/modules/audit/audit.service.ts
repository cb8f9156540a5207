import type { RawBuilder } from 'kysely';
import { canonicalJson } from '../../lib/canonical-json.js';
import { newId } from '../../lib/ids.js';
import { sha256Hex } from '../../lib/secrets.js';
import type { Db, Transaction } from '../../db/schema.js';
import type { Actor } from '../auth/principal.js';
import { auditEventSchemas, type AuditAction, type AuditEvent } from './audit.events.js';
import {
  appendEvents,
  appendEventsStatement,
  findHead,
  findInlineChainPage,
  findLinkPage,
  findUnlinkedEvent,
  GENESIS_HASH,
  notifyChange,
  sealPending,
  type AuditRow,
  type PendingAuditEvent,
} from './audit.repository.js';
import { invalidatePrincipals } from '../auth/principal-cache.js';

/** Who an event is attributed to when no request is behind it (CLI, seeding, jobs). */
export interface SystemActor {
  system: string;
}

export type AuditActor = Actor | SystemActor;

function isSystem(actor: AuditActor): actor is SystemActor {
  return 'system' in actor;
}

/** Chain version 1: the hash covers everything in the row but the hash itself (the server linked the rows). */
function hashRowV1(row: AuditRow): string {
  // Canonical JSON sorts the keys: the place in the chain joins what the event says.
  return sha256Hex(canonicalJson({ groupId: row.group_id, seq: row.seq, ...saidBy(row), prevHash: row.prev_hash }));
}

/** What a stored event says: every field but the group and its place in the chain, as the server hashed it. */
function saidBy(row: AuditRow): Omit<PendingAuditEvent, 'contentHash'> {
  return {
    id: row.id,
    occurredAt: row.occurred_at.toISOString(),
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorName: row.actor_name,
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    companyId: row.company_id,
    changes: row.changes,
  };
}

/** Chain version 2: what an event says, without its place in the chain (the database links it). */
function contentHash(groupId: string, event: Omit<PendingAuditEvent, 'contentHash'>): string {
  return sha256Hex(canonicalJson({ groupId, ...event }));
}

/** The link of chain versions 2 and 3, as `sigil_audit_append` (2) and `sigil_audit_seal` (3) compute it. */
function linkHash(prevHash: string, seq: number, content: string): string {
  return sha256Hex(`${prevHash}:${seq}:${content}`);
}

/** The hash a row linked in itself must carry, by the chain version it was written under (null: not such a row). */
function expectedHash(row: AuditRow): string | null {
  if (row.chain_version === 1) return hashRowV1(row);
  if (row.chain_version !== 2 || row.prev_hash === null) return null;
  return linkHash(row.prev_hash, row.seq, contentHash(row.group_id, saidBy(row)));
}

/**
 * Appends one event to the group's hash chain inside the caller's transaction,
 * so the change and its record commit or roll back together.
 */
export async function recordAudit(
  trx: Transaction,
  options: { groupId: string; actor: AuditActor; event: AuditEvent; at?: Date },
): Promise<void> {
  await recordAudits(trx, {
    groupId: options.groupId,
    actor: options.actor,
    events: [options.event],
    ...(options.at ? { at: options.at } : {}),
  });
}

/**
 * Appends several events of one transaction at once, in one statement; the sealer links them
 * into the group's chain once the transaction has committed.
 */
export async function recordAudits(
  trx: Transaction,
  options: { groupId: string; actor: AuditActor; events: AuditEvent[]; at?: Date },
): Promise<void> {
  const { groupId, events } = options;
  if (events.length === 0) return;
  await appendEvents(trx, groupId, pendingEvents(options));
  // A change to who someone is or what they may do drops cached principals now, and other
  // processes drop theirs when this transaction commits. Seal, flow and application events
  // never change a principal, so they leave the cache alone.
  if (events.some((e) => changesPrincipals(e.action))) {
    invalidatePrincipals();
    await notifyChange(trx, groupId);
  }
}

/**
 * The same append as the statement that carries a transaction's other writes (`WriteBatch.run`):
 * the events are written once every other write of the statement ran (and its guard held).
 * For events that change no principal (applications, seals, flows).
 */
export function auditAppendStatement(options: {
  groupId: string;
  actor: AuditActor;
  events: AuditEvent[];
  at?: Date;
}): (afterWrites: RawBuilder<boolean>) => RawBuilder<unknown> {
  const changing = options.events.find((e) => changesPrincipals(e.action));
  if (changing)
    throw new Error(`auditAppendStatement: ${changing.action} changes a principal; record it with recordAudits`);
  const events = pendingEvents(options);
  return (afterWrites) => appendEventsStatement(options.groupId, events, afterWrites);
}

/** Events checked against their schemas (a malformed event is a bug, never a silent record) and hashed as what they say. */
function pendingEvents(options: {
  groupId: string;
  actor: AuditActor;
  events: AuditEvent[];
  at?: Date;
}): PendingAuditEvent[] {
  const { groupId, actor } = options;
  const at = (options.at ?? new Date()).toISOString();
  return options.events.map((event): PendingAuditEvent => {
    const changes = auditEventSchemas[event.action].parse(event.changes) as Record<string, unknown>;
    const said = {
      id: newId(),
      occurredAt: at,
      actorType: isSystem(actor) ? ('system' as const) : actor.principal.kind,
      actorId: isSystem(actor) ? null : actor.principal.id,
      actorName: isSystem(actor) ? actor.system : actor.principal.name,
      ip: isSystem(actor) ? null : actor.ip,
      userAgent: isSystem(actor) ? null : actor.userAgent,
      requestId: isSystem(actor) ? null : actor.requestId,
      action: event.action,
      targetType: event.target.type,
      targetId: event.target.id,
      companyId: event.companyId,
      changes,
    };
    return { ...said, contentHash: contentHash(groupId, said) };
  });
}

/** Actions that can change a session, a person's status or roles, an API key, or a company's place in the tree. */
const PRINCIPAL_PREFIXES = ['user.', 'role.', 'auth.', 'session.', 'api_key.', 'company.', 'group.'];

export function changesPrincipals(action: AuditAction): boolean {
  return PRINCIPAL_PREFIXES.some((prefix) => action.startsWith(prefix));
}

export type ChainProblem = 'altered' | 'inserted' | 'missing';

export interface ChainReport {
  intact: boolean;
  /** Events whose link was checked. */
  checked: number;
  /** Places in the group's chain. */
  headSeq: number;
  /**
   * The first problem found, walking from the first place of the chain. `seq` is the event's
   * (`seq` in the log) when the problem concerns an event, else the first place missing.
   */
  firstProblem: { kind: ChainProblem; seq: number; eventId: string | null; detail: string } | null;
}

/**
 * Seals what is pending, then walks the group's chain from the start. The first places hold
 * events linked in their own row (versions 1 and 2): a row whose hash does not match its content
 * was altered; a gap means rows are missing; a row that does not link to its predecessor, or lies
 * beyond the head, was inserted. The places after them are links to version 3 events: a link to
 * no event means the event is missing; an event that does not match its link was altered; a gap
 * in the places or a head beyond the last link means links are missing. Last, a version 3 event
 * that no link names and that is not waiting for the sealer was inserted around the server.
 */
export async function verifyChain(db: Db, groupId: string): Promise<ChainReport> {
  await sealPending(db, groupId, { wait: true });
  const head = (await findHead(db, groupId)) ?? { seq: 0, hash: GENESIS_HASH };
  let expectedSeq = 1;
  let previousHash = GENESIS_HASH;
  let checked = 0;
  const fail = (kind: ChainProblem, seq: number, eventId: string | null, detail: string): ChainReport => ({
    intact: false,
    checked,
    headSeq: head.seq,
    firstProblem: { kind, seq, eventId, detail },
  });
  for (;;) {
    const page = await findInlineChainPage(db, groupId, expectedSeq - 1, 1000);
    if (page.length === 0) break;
    for (const row of page) {
      if (row.seq > head.seq)
        return fail('inserted', row.seq, row.id, `event ${row.seq} lies beyond the chain head ${head.seq}`);
      if (row.seq !== expectedSeq)
        return fail('missing', expectedSeq, null, `events ${expectedSeq}..${row.seq - 1} are missing`);
      const expected = expectedHash(row);
      if (expected === null || expected !== row.hash)
        return fail('altered', row.seq, row.id, `event ${row.seq} does not match its hash`);
      if (row.prev_hash !== previousHash) {
        return fail('inserted', row.seq, row.id, `event ${row.seq} does not link to event ${row.seq - 1}`);
      }
      previousHash = expected;
      expectedSeq += 1;
      checked += 1;
    }
  }
  // Links made after the head was read (a server's sealer at work meanwhile) are left for the next verification.
  for (let place = expectedSeq; place <= head.seq;) {
    const links = await findLinkPage(db, groupId, place - 1, 1000);
    const inReach = links.filter((link) => link.place <= head.seq);
    if (inReach.length === 0) break;
    for (const link of inReach) {
      if (link.place !== place)
        return fail('missing', place, null, `places ${place}..${link.place - 1} of the chain are missing`);
      if (link.prevHash !== previousHash)
        return fail(
          'inserted',
          link.eventSeq,
          link.event?.id ?? null,
          `the link of event ${link.eventSeq} (place ${place}) does not follow place ${place - 1}`,
        );
      const { event } = link;
      if (!event)
        return fail('missing', link.eventSeq, null, `event ${link.eventSeq} (place ${place} of the chain) is missing`);
      if (
        event.chain_version !== 3 ||
        linkHash(previousHash, place, contentHash(groupId, saidBy(event))) !== link.hash
      ) {
        return fail(
          'altered',
          event.seq,
          event.id,
          `event ${event.seq} does not match its hash (place ${place} of the chain)`,
        );
      }
      previousHash = link.hash;
      place += 1;
      checked += 1;
    }
    expectedSeq = place;
  }
  if (expectedSeq - 1 < head.seq)
    return fail('missing', expectedSeq, null, `places ${expectedSeq}..${head.seq} of the chain are missing`);
  if (head.seq > 0 && previousHash !== head.hash)
    return fail('altered', head.seq, null, 'the last place does not match the chain head');
  const unlinked = await findUnlinkedEvent(db, groupId);
  if (unlinked) return fail('inserted', unlinked.seq, unlinked.id, `event ${unlinked.seq} is in no place of the chain`);
  return { intact: true, checked, headSeq: head.seq, firstProblem: null };
}

/** Re-validates a stored row against its event schema; a row that fails is reported, not hidden. */
export function parseStoredChanges(row: AuditRow): { valid: boolean; changes: Record<string, unknown> } {
  const schema = auditEventSchemas[row.action as AuditAction];
  if (!schema) return { valid: false, changes: row.changes };
  const parsed = schema.safeParse(row.changes);
  return parsed.success
    ? { valid: true, changes: parsed.data as Record<string, unknown> }
    : { valid: false, changes: row.changes };
}
