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

/** A page already serialised by the database, and its last item (for the next page's keyset). */
export interface JsonPage {
  /** The JSON array of the page's items, as text. */
  items: string;
  count: number;
  last: Record<string, unknown> | null;
}

/** Where each item of a page begins: every item's first key is `id` (a string value cannot hold this unescaped). */
const ITEM_START = '{"id":';

/**
 * Runs a statement that answers one row: `items`, the page as JSON text (`json_agg` of rows whose
 * first column is `id`), and `count`. The last item alone is parsed, for the cursor: ordering the
 * page again in the database to pick its last key cost a fifth of the statement.
 */
export async function readJsonPage(db: Db, statement: Statement, text: string): Promise<JsonPage> {
  const { rows } = await db.executeQuery<{ items: string | null; count: number | string }>(
    CompiledQuery.raw(text, statement.values),
  );
  const items = rows[0]?.items ?? '[]';
  const count = Number(rows[0]?.count ?? 0);
  const start = items.lastIndexOf(ITEM_START);
  const last =
    count > 0 && start >= 0
      ? (JSON.parse(items.slice(start, items.lastIndexOf(']'))) as Record<string, unknown>)
      : null;
  return { items, count, last };
}
