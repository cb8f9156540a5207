// An imported register (台账) of contracts or payments, as CSV: read, checked line by line, and
// matched against usage records. No database here: the service hands the records in.
import { AppError, type FieldProblem } from '../../server/errors.js';
import { REGISTER_MAX_ROWS } from './usage.schema.js';

export interface RegisterRow {
  /** The line of the file (the header is line 1). */
  line: number;
  number: string;
  /** YYYY-MM-DD. */
  date: string;
  counterparty: string | null;
  amount: string | null;
}

/** Header names each column is known by, in English and Chinese (case and spaces ignored). */
const COLUMNS: Record<keyof Omit<RegisterRow, 'line'>, string[]> = {
  number: [
    'number',
    'no',
    'no.',
    'contract number',
    'contract no',
    'payment number',
    'reference',
    '编号',
    '合同编号',
    '合同号',
    '单号',
    '付款单号',
    '凭证号',
    '单据编号',
  ],
  date: ['date', 'signed on', 'paid on', '日期', '签订日期', '签约日期', '付款日期', '用印日期'],
  counterparty: ['counterparty', 'party', 'payee', '对方', '相对方', '交易对方', '对方单位', '收款方', '客户'],
  amount: ['amount', 'sum', '金额', '合同金额', '付款金额'],
};

const MAX_CELL = 200;

/** RFC 4180 fields of one text: quoted fields may hold commas, quotes ("") and line breaks. */
function readCsv(text: string): Array<{ line: number; cells: string[] }> {
  const records: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let startLine = 1;
  let i = 0;
  const endRecord = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0]!.trim() === '')) records.push({ line: startLine, cells });
    cells = [];
    cell = '';
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line += 1;
        cell += ch;
      }
      i += 1;
      continue;
    }
    if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\r' || ch === '\n') {
      if (ch === '\r' && text[i + 1] === '\n') i += 1;
      endRecord();
      line += 1;
      startLine = line;
    } else cell += ch;
    i += 1;
  }
  if (quoted)
    throw new AppError('register_invalid', `A quoted field opened on line ${startLine} never closes.`, {
      errors: [{ field: `body.line ${startLine}`, message: 'a quoted field never closes' }],
    });
  if (cell !== '' || cells.length > 0) endRecord();
  return records;
}

/** YYYY-MM-DD, YYYY/MM/DD or YYYY.MM.DD (months and days with one or two digits), a day that exists. */
function readDate(value: string): string | null {
  const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(value);
  if (!m) return null;
  const iso = `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso ? iso : null;
}

/**
 * Reads the register: UTF-8 text (a byte-order mark is dropped), a header naming at least the
 * number and date columns, at most REGISTER_MAX_ROWS rows. Every bad row is reported with its
 * line, all at once, and nothing is checked until the file is clean.
 */
export function parseRegister(bytes: unknown): RegisterRow[] {
  if (!Buffer.isBuffer(bytes) || bytes.length === 0)
    throw new AppError('register_invalid', 'Send the register itself as the request body (text/csv, UTF-8).', {
      errors: [{ field: 'body', message: 'is empty' }],
    });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AppError('register_invalid', 'The register is not UTF-8 text; save the CSV as UTF-8 and send it again.', {
      errors: [{ field: 'body', message: 'is not UTF-8 text' }],
    });
  }
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const records = readCsv(text);
  const [header, ...body] = records;
  if (!header)
    throw new AppError('register_invalid', 'The register holds no header line.', {
      errors: [{ field: 'body.line 1', message: 'no header' }],
    });
  const names = header.cells.map((c) => c.trim().toLowerCase().replace(/\s+/g, ' '));
  const at = Object.fromEntries(
    Object.entries(COLUMNS).map(([key, aliases]) => [key, names.findIndex((n) => aliases.includes(n))]),
  ) as Record<keyof typeof COLUMNS, number>;
  const missing = (['number', 'date'] as const).filter((k) => at[k] < 0);
  if (missing.length > 0)
    throw new AppError(
      'register_invalid',
      `The header on line ${header.line} names no ${missing.join(' and no ')} column (for example number,date,counterparty,amount or 编号,日期,对方,金额).`,
      { errors: missing.map((k) => ({ field: `body.line ${header.line}`, message: `no ${k} column` })) },
    );
  if (body.length > REGISTER_MAX_ROWS)
    throw new AppError(
      'register_too_large',
      `The register has ${body.length} rows; at most ${REGISTER_MAX_ROWS} are checked at once.`,
    );
  const problems: FieldProblem[] = [];
  const rows: RegisterRow[] = [];
  const cellAt = (cells: string[], i: number) => (i < 0 ? '' : (cells[i] ?? '').trim());
  for (const { line, cells } of body) {
    const field = `body.line ${line}`;
    const bad = (message: string) => problems.push({ field, message });
    if (cells.length > header.cells.length) bad(`has ${cells.length} fields; the header has ${header.cells.length}`);
    const number = cellAt(cells, at.number);
    const rawDate = cellAt(cells, at.date);
    const counterparty = cellAt(cells, at.counterparty);
    const amount = cellAt(cells, at.amount).replace(/^[¥￥]/, '');
    if (number === '') bad('the number is empty');
    else if (number.length > MAX_CELL) bad(`the number is longer than ${MAX_CELL} characters`);
    const date = readDate(rawDate);
    if (!date) bad(`the date ${JSON.stringify(rawDate.slice(0, 40))} is not a day as YYYY-MM-DD`);
    if (amount !== '' && !/^-?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,4})?$/.test(amount))
      bad(`the amount ${JSON.stringify(amount.slice(0, 40))} is not a number`);
    if (counterparty.length > MAX_CELL) bad(`the counterparty is longer than ${MAX_CELL} characters`);
    if (problems.length > 0 && problems[problems.length - 1]!.field === field) continue;
    rows.push({ line, number, date: date!, counterparty: counterparty || null, amount: amount || null });
  }
  if (problems.length > 0)
    throw new AppError(
      'register_invalid',
      `${problems.length} problem(s) in the register, the first on ${problems[0]!.field.slice('body.'.length)}: ${problems[0]!.message}.`,
      { errors: problems.slice(0, 100) },
    );
  if (rows.length === 0)
    throw new AppError('register_invalid', 'The register holds a header but no rows.', {
      errors: [{ field: 'body.line 2', message: 'no rows' }],
    });
  return rows;
}

export const REGISTER_RULE = (toleranceDays: number) =>
  `A register row answers a usage record when the row's number appears as a whole (no Latin letter or digit right before or ` +
  `after it, so HT-1 is not found in HT-12; case ignored; Chinese text around it is fine) in what the record was for — its application's reason or the name of a document applied for, or, for an ` +
  `electronic signature, the signed document's name or the signature's reason — and the record's day (Beijing time) lies ` +
  `within ${toleranceDays} day(s) of the row's date. One row may answer several records (copies stamped together).`;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const DAY_MS = 86_400_000;

/**
 * The matcher over the records: for a row, the ids of the records it answers. Records are bucketed
 * by day, so a row looks only at the days within the tolerance, and a plain substring test comes
 * before the boundary check: a 5,000-row register against 20,000 records stays quick.
 */
export function registerMatcher(records: Array<{ id: string; day: string; text: string }>, toleranceDays: number) {
  const byDay = new Map<number, Array<{ id: string; text: string }>>();
  for (const r of records) {
    const dayMs = Date.parse(`${r.day}T00:00:00Z`);
    const bucket = byDay.get(dayMs) ?? [];
    bucket.push({ id: r.id, text: r.text.toLowerCase() });
    byDay.set(dayMs, bucket);
  }
  return (row: RegisterRow): string[] => {
    const needle = row.number.toLowerCase();
    const pattern = new RegExp(`(?<![a-z0-9])${escapeRegExp(needle)}(?![a-z0-9])`);
    const dayMs = Date.parse(`${row.date}T00:00:00Z`);
    const ids: string[] = [];
    for (let d = -toleranceDays; d <= toleranceDays; d++)
      for (const r of byDay.get(dayMs + d * DAY_MS) ?? [])
        if (r.text.includes(needle) && pattern.test(r.text)) ids.push(r.id);
    return ids;
  };
}
