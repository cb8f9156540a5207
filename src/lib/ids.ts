import { randomFillSync } from 'node:crypto';

/** Random bytes for 256 ids drawn at once: one call into the system's generator per 256 ids, not per id. */
const POOL = Buffer.alloc(16 * 256);
let offset = POOL.length;

/**
 * UUID version 7 (RFC 9562): a millisecond timestamp then random bits, so new
 * rows land at the end of their indexes instead of all over them.
 */
export function newId(): string {
  if (offset === POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const bytes = Buffer.from(POOL.subarray(offset, (offset += 16)));
  const ms = Date.now();
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
