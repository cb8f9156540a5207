// Preloaded into the server under test (`node --import <this file> bin/sigil.js serve`) by
// benchmarks that report SQL statements per operation. Counts every statement the server sends
// through `pg` (BEGIN and COMMIT included, a BEGIN sent with the statement after it too), by its first word; on SIGUSR2 it writes the counts
// so far to <SIGIL_DATA_DIR>/bench-sql-count.json. Plain JavaScript: the server runs without tsx.
// It costs a regular expression per statement, nothing else; PostgreSQL servers without
// pg_stat_statements preloaded cannot count statements themselves.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

const counts = { total: 0, byVerb: {} };
const query = pg.Client.prototype.query;

const count = (text) => {
  counts.total += 1;
  const verb = (/^\s*\(?\s*([a-z_]+)/i.exec(text)?.[1] ?? '?').toLowerCase();
  counts.byVerb[verb] = (counts.byVerb[verb] ?? 0) + 1;
};

pg.Client.prototype.query = function countedQuery(config, values, callback) {
  const text = typeof config === 'string' ? config : config?.text;
  if (typeof text === 'string') {
    // A BEGIN the server sends with the transaction's first statement (src/db/database.ts).
    if (typeof config?.leading === 'string') count(config.leading);
    count(text);
  }
  return query.call(this, config, values, callback);
};

process.on('SIGUSR2', () => {
  writeFileSync(join(process.env.SIGIL_DATA_DIR ?? '.', 'bench-sql-count.json'), JSON.stringify(counts));
});
