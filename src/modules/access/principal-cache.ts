import type { Principal } from './principal.js';

/**
 * Every change to a principal in this process moves the epoch as it is recorded, and every
 * process moves it again when it reads the change from the outbox after the commit (a
 * principal read in between, from before the commit, is then dropped). A cached principal is
 * good only while the epoch it was read under holds, so a resigned person, a revoked role or an
 * ended session is refused on the very next request here, and within the notification's
 * latency everywhere else.
 */
let epoch = 0;

export function invalidatePrincipals(): void {
  epoch += 1;
}

interface Entry {
  value: { principal: Principal; mfaPending: boolean; passwordChangeRequired: boolean };
  epoch: number;
  /** The earlier of the cache lifetime and the session's or key's own expiry. */
  until: number;
}

export class PrincipalCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: { ttlMs: number; maxEntries: number }) {}

  /** The epoch to pass to `set` for a value about to be read from the database. */
  currentEpoch(): number {
    return epoch;
  }

  get(tokenHash: string, now: Date): Entry['value'] | undefined {
    const entry = this.entries.get(tokenHash);
    if (!entry) return undefined;
    if (entry.epoch !== epoch || entry.until <= now.getTime()) {
      this.entries.delete(tokenHash);
      return undefined;
    }
    return entry.value;
  }

  set(
    tokenHash: string,
    value: Entry['value'],
    options: { readUnderEpoch: number; now: Date; expiresAt: Date | null },
  ): void {
    // A value read while the epoch moved may already be stale: do not keep it.
    if (options.readUnderEpoch !== epoch) return;
    if (this.entries.size >= this.options.maxEntries) this.entries.clear();
    const ttlEnd = options.now.getTime() + this.options.ttlMs;
    this.entries.set(tokenHash, { value, epoch, until: Math.min(ttlEnd, options.expiresAt?.getTime() ?? ttlEnd) });
  }
}
