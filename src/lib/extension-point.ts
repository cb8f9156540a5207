/**
 * Something a lower module calls and higher modules provide: what a resignation also ends, who
 * else may read a document, what an approved application of some purpose changes. The lower
 * module declares the point; `wireModules` (src/server/wiring.ts) fills every point once, at
 * start-up, from the modules above. Reading a point before it is filled is a programming error
 * and throws: an empty list would silently skip a duty (a resigned person's certificate left valid).
 */
export class ExtensionPoint<T> {
  #entries: ReadonlyMap<string, T> | undefined;

  constructor(readonly name: string) {}

  /** Fills the point; filling it again with the same entries is allowed, with others is refused. */
  fill(entries: Record<string, T>): void {
    const next = new Map(Object.entries(entries));
    if (this.#entries) {
      const same =
        this.#entries.size === next.size && [...next].every(([key, value]) => this.#entries!.get(key) === value);
      if (!same) throw new Error(`Extension point ${this.name} is already filled with other entries`);
      return;
    }
    this.#entries = next;
  }

  /** Every entry, in the order they were given. */
  all(): T[] {
    return [...this.#filled().values()];
  }

  /** Whether any entry answers yes, asked in order until one does (who else may read a file). */
  async anyOf(ask: (entry: T) => Promise<boolean>): Promise<boolean> {
    for (const entry of this.all()) if (await ask(entry)) return true;
    return false;
  }

  /** The entry under this key, or undefined when no module provides one. */
  get(key: string): T | undefined {
    return this.#filled().get(key);
  }

  #filled(): ReadonlyMap<string, T> {
    if (!this.#entries)
      throw new Error(`Extension point ${this.name} is used before wireModules() filled it (src/server/wiring.ts)`);
    return this.#entries;
  }
}
