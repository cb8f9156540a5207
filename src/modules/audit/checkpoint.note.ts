// Checkpoints as text, in the manner of C2SP's tlog-checkpoint and signed-note: a body of lines
// (origin, tree size, root hash in base64, then an extension line with the time), a blank line,
// and a signature line `— <key name> <base64(4-byte key hint || signature)>`. The signature is
// ECDSA P-256 with SHA-256 over the body's bytes, DER-encoded, so that
// `openssl dgst -sha256 -verify log.pem -signature sig.der body.txt` checks it.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

export const LOG_KEY_NAME = 'sigil-audit-log';
export const LOG_KEY_ALGORITHM = 'ECDSA-P256-SHA256';
const SIGNATURE_PREFIX = '— ';

/** What a checkpoint states: the group's tree had `treeSize` leaves and this root at `signedAt`. */
export interface CheckpointStatement {
  groupId: string;
  treeSize: number;
  rootHash: Buffer;
  signedAt: Date;
}

export interface ParsedCheckpoint extends CheckpointStatement {
  origin: string;
  body: string;
  signatures: Array<{ name: string; keyHint: Buffer; signature: Buffer }>;
}

export class CheckpointFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointFormatError';
  }
}

/** Names the group's log in the first line, so a checkpoint of one group never stands for another's. */
export function originOf(groupId: string): string {
  return `sigil/audit/${groupId}`;
}

/** The key id: lower-case hex SHA-256 of the public key's SubjectPublicKeyInfo (DER). Its first 4 bytes are the hint in signature lines. */
export function keyIdOf(spki: Buffer): string {
  return createHash('sha256').update(spki).digest('hex');
}

/** The signed bytes: every body line ends with a newline. */
export function checkpointBody(statement: CheckpointStatement): string {
  return [
    originOf(statement.groupId),
    String(statement.treeSize),
    statement.rootHash.toString('base64'),
    `timestamp ${statement.signedAt.toISOString()}`,
    '',
  ].join('\n');
}

export function checkpointNote(statement: CheckpointStatement & { keyId: string; signature: Buffer }): string {
  const payload = Buffer.concat([Buffer.from(statement.keyId.slice(0, 8), 'hex'), statement.signature]);
  return `${checkpointBody(statement)}\n${SIGNATURE_PREFIX}${LOG_KEY_NAME} ${payload.toString('base64')}\n`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Reads a checkpoint note; anything but the format (extra lines, a bad number, no signature) is refused by name. */
export function parseCheckpoint(text: string): ParsedCheckpoint {
  const split = text.indexOf('\n\n');
  if (split < 0) throw new CheckpointFormatError('no blank line between the checkpoint body and its signatures');
  const body = text.slice(0, split + 1);
  const lines = body.slice(0, -1).split('\n');
  if (lines.length !== 4)
    throw new CheckpointFormatError(`the body has ${lines.length} lines; expected origin, size, root and timestamp`);
  const [origin, size, root, time] = lines as [string, string, string, string];
  const groupId = origin.startsWith('sigil/audit/') ? origin.slice('sigil/audit/'.length) : '';
  if (!UUID.test(groupId)) throw new CheckpointFormatError(`the origin line is not sigil/audit/<group id>: ${origin}`);
  if (!/^(0|[1-9]\d{0,15})$/.test(size)) throw new CheckpointFormatError(`the tree size is not a number: ${size}`);
  const rootHash = BASE64.test(root) ? Buffer.from(root, 'base64') : Buffer.alloc(0);
  if (rootHash.length !== 32) throw new CheckpointFormatError('the root hash is not 32 bytes of base64');
  const stamp = /^timestamp (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)$/.exec(time);
  const signedAt = stamp ? new Date(stamp[1]!) : new Date(Number.NaN);
  if (Number.isNaN(signedAt.getTime()))
    throw new CheckpointFormatError(`the timestamp line is not an ISO 8601 time: ${time}`);
  const rest = text.slice(split + 2);
  if (!rest.endsWith('\n')) throw new CheckpointFormatError('the last signature line does not end with a newline');
  const signatures = rest
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const match = /^— (\S+) (\S+)$/.exec(line);
      const payload = match && BASE64.test(match[2]!) ? Buffer.from(match[2]!, 'base64') : Buffer.alloc(0);
      if (!match || payload.length < 5) throw new CheckpointFormatError(`not a signature line: ${line}`);
      return { name: match[1]!, keyHint: payload.subarray(0, 4), signature: payload.subarray(4) };
    });
  return { origin, groupId, treeSize: Number(size), rootHash, signedAt, body, signatures };
}

/** A public key from PEM (SubjectPublicKeyInfo) or DER; throws CheckpointFormatError when it is neither. */
export function readPublicKey(input: string | Buffer): { key: KeyObject; keyId: string } {
  try {
    const key =
      typeof input === 'string'
        ? createPublicKey({ key: input, format: 'pem' })
        : createPublicKey({ key: input, format: 'der', type: 'spki' });
    const spki = key.export({ format: 'der', type: 'spki' });
    return { key, keyId: keyIdOf(spki) };
  } catch {
    throw new CheckpointFormatError('the public key is not a PEM or DER SubjectPublicKeyInfo');
  }
}

/** Whether `signature` (ECDSA, DER) over the body verifies under `key`; a malformed signature does not. */
export function isValidSignature(body: string, signature: Buffer, key: KeyObject): boolean {
  try {
    return verify('sha256', Buffer.from(body, 'utf8'), key, signature);
  } catch {
    return false;
  }
}

/** Whether one of the note's signatures, by the log key's name and hint, verifies under `key`. */
export function isSignedBy(checkpoint: ParsedCheckpoint, key: { key: KeyObject; keyId: string }): boolean {
  const hint = Buffer.from(key.keyId.slice(0, 8), 'hex');
  return checkpoint.signatures.some(
    (s) => s.name === LOG_KEY_NAME && s.keyHint.equals(hint) && isValidSignature(checkpoint.body, s.signature, key.key),
  );
}
