import { createHash } from 'node:crypto';
import { canonicalJson } from '../../lib/canonical-json.js';
import { newId } from '../../lib/ids.js';
import type { Db, Transaction } from '../../db/schema.js';
import type { Actor } from '../auth/principal.js';
import { auditEventSchemas, type AuditAction, type AuditEvent } from './audit.events.js';
import { findChainPage, findHead, GENESIS_HASH, insertEvents, lockHead, notifyChange, type AuditRow } from './audit.repository.js';
import { invalidatePrincipals } from '../auth/principal-cache.js';

/** Who an event is attributed to when no request is behind it (CLI, seeding, jobs). */
export interface SystemActor {
  system: string;
}

export type AuditActor = Actor | SystemActor;

function isSystem(actor: AuditActor): actor is SystemActor {
  return 'system' in actor;
}

/** The fields a hash covers: everything in the row but the hash itself. */
function hashRow(row: Omit<AuditRow, 'hash'>): string {
  const covered = {
    groupId: row.group_id,
    seq: row.seq,
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
    prevHash: row.prev_hash,
  };
  return createHash('sha256').update(canonicalJson(covered)).digest('hex');
}

/**
 * Appends one event to the group's hash chain inside the caller's transaction,
 * so the change and its record commit or roll back together.
 */
export async function recordAudit(
  trx: Transaction,
  options: { groupId: string; actor: AuditActor; event: AuditEvent; at?: Date },
): Promise<void> {
  await recordAudits(trx, { groupId: options.groupId, actor: options.actor, events: [options.event], ...(options.at ? { at: options.at } : {}) });
}

/**
 * Appends several events of one transaction at once: one lock of the chain head, one
 * insert, one head update. Busy paths collect their events and write them last, so the
 * group-wide head lock is held for the tail of the transaction only.
 */
export async function recordAudits(trx: Transaction, options: { groupId: string; actor: AuditActor; events: AuditEvent[]; at?: Date }): Promise<void> {
  const { groupId, actor, events } = options;
  if (events.length === 0) return;
  // Validate before writing: a malformed event is a bug, never a silent record.
  const validated = events.map((event) => ({ event, changes: auditEventSchemas[event.action].parse(event.changes) as Record<string, unknown> }));
  const head = await lockHead(trx, groupId);
  const at = options.at ?? new Date();
  let previous = head;
  const rows: AuditRow[] = [];
  for (const { event, changes } of validated) {
    const base: Omit<AuditRow, 'hash'> = {
      group_id: groupId,
      seq: previous.seq + 1,
      id: newId(),
      occurred_at: at,
      actor_type: isSystem(actor) ? 'system' : actor.principal.kind,
      actor_id: isSystem(actor) ? null : actor.principal.id,
      actor_name: isSystem(actor) ? actor.system : actor.principal.name,
      ip: isSystem(actor) ? null : actor.ip,
      user_agent: isSystem(actor) ? null : actor.userAgent,
      request_id: isSystem(actor) ? null : actor.requestId,
      action: event.action,
      target_type: event.target.type,
      target_id: event.target.id,
      company_id: event.companyId,
      changes,
      prev_hash: previous.hash,
    };
    const row = { ...base, hash: hashRow(base) };
    rows.push(row);
    previous = { seq: row.seq, hash: row.hash };
  }
  await insertEvents(trx, rows);
  // A change to who someone is or what they may do drops cached principals now, and other
  // processes drop theirs when this transaction commits. Seal, flow and application events
  // never change a principal, so they leave the cache alone.
  if (events.some((e) => changesPrincipals(e.action))) {
    invalidatePrincipals();
    await notifyChange(trx, groupId);
  }
}

/** Actions that can change a session, a person's status or roles, an API key, or a company's place in the tree. */
const PRINCIPAL_PREFIXES = ['user.', 'role.', 'auth.', 'session.', 'api_key.', 'company.', 'group.'];

export function changesPrincipals(action: AuditAction): boolean {
  return PRINCIPAL_PREFIXES.some((prefix) => action.startsWith(prefix));
}

export type ChainProblem = 'altered' | 'inserted' | 'missing';

export interface ChainReport {
  intact: boolean;
  checked: number;
  headSeq: number;
  /** The first problem found, walking from the first event. */
  firstProblem: { kind: ChainProblem; seq: number; eventId: string | null; detail: string } | null;
}

/**
 * Walks a group's chain from the start: a row whose hash does not match its content
 * was altered; a gap in the sequence or a head beyond the last row means rows are
 * missing; a row that does not link to its predecessor, or lies beyond the head, was inserted.
 */
export async function verifyChain(db: Db, groupId: string): Promise<ChainReport> {
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
    const page = await findChainPage(db, groupId, expectedSeq - 1, 1000);
    if (page.length === 0) break;
    for (const row of page) {
      if (row.seq > head.seq) return fail('inserted', row.seq, row.id, `event ${row.seq} lies beyond the chain head ${head.seq}`);
      if (row.seq !== expectedSeq) return fail('missing', expectedSeq, null, `events ${expectedSeq}..${row.seq - 1} are missing`);
      const { hash, ...rest } = row;
      if (hashRow(rest) !== hash) return fail('altered', row.seq, row.id, `event ${row.seq} does not match its hash`);
      if (row.prev_hash !== previousHash) {
        return fail('inserted', row.seq, row.id, `event ${row.seq} does not link to event ${row.seq - 1}`);
      }
      previousHash = hash;
      expectedSeq += 1;
      checked += 1;
    }
  }
  if (expectedSeq - 1 < head.seq) return fail('missing', expectedSeq, null, `events ${expectedSeq}..${head.seq} are missing`);
  if (head.seq > 0 && previousHash !== head.hash) return fail('altered', head.seq, null, 'the last event does not match the chain head');
  return { intact: true, checked, headSeq: head.seq, firstProblem: null };
}

/** Re-validates a stored row against its event schema; a row that fails is reported, not hidden. */
export function parseStoredChanges(row: AuditRow): { valid: boolean; changes: Record<string, unknown> } {
  const schema = auditEventSchemas[row.action as AuditAction];
  if (!schema) return { valid: false, changes: row.changes };
  const parsed = schema.safeParse(row.changes);
  return parsed.success ? { valid: true, changes: parsed.data as Record<string, unknown> } : { valid: false, changes: row.changes };
}
