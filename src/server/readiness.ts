/**
 * What this process still has to finish before it may be sent traffic. A load balancer (or a
 * test) polling /readyz must not see 200 while start-up work it depends on is still running:
 * the demo seed, for one, whose printed logins do not work until it has committed.
 */
export class Readiness {
  private readonly pending = new Map<symbol, string>();

  /** Marks `what` as unfinished; the returned function marks it done (calling it twice is harmless). */
  hold(what: string): () => void {
    const key = Symbol(what);
    this.pending.set(key, what);
    return () => {
      this.pending.delete(key);
    };
  }

  /** The start-up work still running, by name; empty when ready. */
  waitingFor(): string[] {
    return [...this.pending.values()];
  }
}
