import type { RawBuilder } from 'kysely';
import { newId } from '../../lib/ids.js';
import type { Transaction } from '../../db/schema.js';
import type { Actor } from '../access/index.js';
import { auditEventSchemas, type AuditAction, type AuditEvent } from './audit.events.js';
import { appendOutbox } from '../../outbox/outbox.js';
import { appendEvents, appendEventsStatement, type AuditRow, type PendingAuditEvent } from './audit.repository.js';
import { invalidatePrincipals } from '../access/index.js';

export { verifyChain, type ChainReport, type ChainProblem } from './audit.verify.js';

/** Who an event is attributed to when no request is behind it (CLI, seeding, jobs). */
export interface SystemActor {
  system: string;
}

export type AuditActor = Actor | SystemActor;

function isSystem(actor: AuditActor): actor is SystemActor {
  return 'system' in actor;
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
  // A change to who someone is or what they may do drops cached principals now, and every
  // process drops them again once the transaction has committed (the outbox), so that a
  // principal read meanwhile, from before the commit, is not kept. Seal, flow and application
  // events never change a principal, so they leave the cache alone.
  const changing = events.filter((e) => changesPrincipals(e.action));
  if (changing.length > 0) {
    invalidatePrincipals();
    await appendOutbox(trx, {
      groupId,
      topic: 'principals.changed',
      payload: { actions: [...new Set(changing.map((e) => e.action))] },
    });
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
  /** An event's own `at`, when it has one, is when it happened; else `options.at`. */
  events: Array<AuditEvent & { at?: Date }>;
  at?: Date;
}): (afterWrites: RawBuilder<boolean>) => RawBuilder<unknown> {
  const changing = options.events.find((e) => changesPrincipals(e.action));
  if (changing)
    throw new Error(`auditAppendStatement: ${changing.action} changes a principal; record it with recordAudits`);
  const events = pendingEvents(options);
  return (afterWrites) => appendEventsStatement(options.groupId, events, afterWrites);
}

/** Events checked against their schemas (a malformed event is a bug, never a silent record); the sealer hashes what they say. */
function pendingEvents(options: {
  groupId: string;
  actor: AuditActor;
  events: Array<AuditEvent & { at?: Date }>;
  at?: Date;
}): PendingAuditEvent[] {
  const { actor } = options;
  const at = (options.at ?? new Date()).toISOString();
  return options.events.map((event): PendingAuditEvent => {
    const changes = auditEventSchemas[event.action].parse(event.changes) as Record<string, unknown>;
    return {
      id: newId(),
      occurredAt: event.at ? event.at.toISOString() : at,
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
  });
}

/** Actions that can change a session, a person's status or roles, an API key, or a company's place in the tree. */
const PRINCIPAL_PREFIXES = ['user.', 'role.', 'auth.', 'session.', 'api_key.', 'company.', 'group.'];

export function changesPrincipals(action: AuditAction): boolean {
  return PRINCIPAL_PREFIXES.some((prefix) => action.startsWith(prefix));
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
