// How each chain version hashes an event, as pure functions: what an event says (the bytes that
// are hashed) and the link that puts it at its place. Versions 1 to 3 hash the server's canonical
// JSON; version 4 the database's rendering (`sigil_audit_said`), which the database computes.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../lib/canonical-json.js';
import type { AuditRow, PendingAuditEvent } from './audit.repository.js';

/** The hash before a chain's first place. */
export const GENESIS_HASH = '0'.repeat(64);

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** What a stored event says: every field but the group and its place in the chain, as the server hashed it (versions 1 to 3). */
export function saidBy(row: AuditRow): PendingAuditEvent {
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

/**
 * The bytes an event's hash covers. Version 1: the whole row with its place and predecessor (its
 * hash is their SHA-256). Versions 2 and 3: what the event says, without its place (its content
 * hash is their SHA-256). Version 4 is rendered by the database, never here.
 */
export function saidText(row: AuditRow): string {
  // Canonical JSON sorts the keys: the place in the chain joins what the event says.
  if (row.chain_version === 1)
    return canonicalJson({ groupId: row.group_id, seq: row.seq, ...saidBy(row), prevHash: row.prev_hash });
  return canonicalJson({ groupId: row.group_id, ...saidBy(row) });
}

/** The link of chain versions 2 to 4, as `sigil_audit_append` (2) and `sigil_audit_seal` (3, 4) compute it. */
export function linkHash(prevHash: string, place: number, content: string): string {
  return sha256Hex(`${prevHash}:${place}:${content}`);
}

/** The hash a row linked in itself must carry, by the chain version it was written under (null: not such a row). */
export function expectedInlineHash(row: AuditRow): string | null {
  if (row.chain_version === 1) return sha256Hex(saidText(row));
  if (row.chain_version !== 2 || row.prev_hash === null) return null;
  return linkHash(row.prev_hash, row.seq, sha256Hex(saidText(row)));
}

/** Whether a version 3 event still says what the server hashed when it wrote it. */
export function hasOwnContentHash(row: AuditRow): boolean {
  return row.chain_version === 3 && row.content_hash === sha256Hex(saidText(row));
}
