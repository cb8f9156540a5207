import { CompiledQuery, type Compilable } from 'kysely';
import type { Db, Transaction } from './schema.js';

const SENTINEL = '\u0001sigil-value:';

/**
 * A read whose shape never changes, built by the query builder once and then only bound: on the
 * busiest paths building and compiling a wide query (nested JSON arrays, long select lists) cost
 * more server time than PostgreSQL spent running it. `build` must use its values only as values
 * (compared, not concatenated, never branched on); the first call checks that each one reached
 * the statement as a parameter of its own and throws otherwise.
 */
export function precompiled<V extends Record<string, unknown>, R>(
  build: (db: Db | Transaction, values: V) => Compilable<R>,
): (db: Db | Transaction, values: V) => Promise<R[]> {
  let compiled: { sql: string; slots: Array<{ key: keyof V & string } | { constant: unknown }> } | undefined;
  return async (db, values) => {
    compiled ??= compile(db, values);
    const parameters = compiled.slots.map((slot) => ('key' in slot ? values[slot.key] : slot.constant));
    const result = await db.executeQuery<R>(CompiledQuery.raw(compiled.sql, parameters));
    return result.rows;
  };

  function compile(db: Db | Transaction, example: V) {
    const keys = Object.keys(example) as Array<keyof V & string>;
    const stand = Object.fromEntries(keys.map((key) => [key, `${SENTINEL}${key}`])) as unknown as V;
    const query = build(db, stand).compile();
    if (query.sql.includes(SENTINEL))
      throw new Error(`precompiled: a value was written into the statement's text: ${query.sql}`);
    const slots = query.parameters.map((parameter) => {
      if (typeof parameter !== 'string' || !parameter.includes(SENTINEL)) return { constant: parameter };
      const key = keys.find((k) => parameter === `${SENTINEL}${k}`);
      if (key === undefined)
        throw new Error(`precompiled: a value was made part of another: ${JSON.stringify(parameter)}`);
      return { key };
    });
    const unused = keys.filter((key) => !slots.some((slot) => 'key' in slot && slot.key === key));
    if (unused.length > 0) throw new Error(`precompiled: ${unused.join(', ')} never reached the statement`);
    return { sql: query.sql, slots };
  }
}
