import { CompiledQuery } from 'kysely';
import type { Db } from './schema.js';
import { escapeLike } from './scope.js';

/**
 * A statement written as text with its values beside it: `add(value)` keeps the value and
 * returns its placeholder. For the few hot reads that build their JSON in the database, where
 * composing the statement through the query builder would cost more than running it.
 */
export class Statement {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /** `column like 'root%' or …` over company paths: the caller's subtrees (none: false). */
  withinPaths(column: string, roots: string[]): string {
    if (roots.length === 0) return 'false';
    return `(${roots.map((root) => `${column} like ${this.add(`${escapeLike(root)}%`)}`).join(' or ')})`;
  }
}

/** A timestamp as JSON writes a JavaScript Date (UTC, milliseconds): what every other response carries. */
export function isoTimestamp(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** A page already serialised by the database, with the keyset of its last row. */
export interface JsonPage<Key> {
  /** The JSON array of the page's items, as text. */
  items: string;
  count: number;
  last: Key | null;
}

/** Runs a statement that answers one row: `items` (json text), `count`, and the last row's key columns. */
export async function readJsonPage<Key>(db: Db, statement: Statement, text: string, key: (row: Record<string, unknown>) => Key): Promise<JsonPage<Key>> {
  const { rows } = await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, statement.values));
  const row = rows[0];
  const count = Number(row?.count ?? 0);
  return { items: typeof row?.items === 'string' ? row.items : '[]', count, last: row && count > 0 ? key(row) : null };
}
