// One value as given by a caller (JSON, so anything), checked against its declared type and turned
// into the text the document prints: the same function serves the check and the renderer, so what
// passes the check is exactly what is printed.
import { formatAmount, formatAmountFigures, parseAmount } from './amount.js';
import { characterProblem } from './characters.js';
import type { ScalarType, TemplateProblemCode } from './template.types.js';

export type ScalarReading =
  | { ok: true; absent: true }
  | { ok: true; absent: false; inline: string; cell: string }
  | { ok: false; code: TemplateProblemCode; message: string };

/** Years a contract date may fall in: a typo of 0026 or 20266 is refused rather than printed. */
const YEARS = { min: 1900, max: 2199 };
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Plain decimal notation: no exponent, no separators, at most 15 integer digits and 6 decimals. */
const NUMBER_PATTERN = /^-?(0|[1-9]\d{0,14})(\.\d{1,6})?$/;

/**
 * A placeholder a seal or signature is placed on by keyword search, e.g. （盖章） or (签字):
 * a value holding one would draw the seal onto the filled-in text instead of the signature block.
 */
const SEAL_PLACEHOLDER = /\([^()]*(盖章|签字|签章|签名|签署|印章)[^()]*\)/;

export function holdsSealPlaceholder(text: string): boolean {
  return SEAL_PLACEHOLDER.test(text.normalize('NFKC').replace(/\s+/g, ''));
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysIn(year: number, month: number): number {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

const bad = (code: TemplateProblemCode, message: string): ScalarReading => ({ ok: false, code, message });

/** `2026年12月7日` for `2026-12-07`. */
export function formatDate(year: number, month: number, day: number): string {
  return `${year}年${month}月${day}日`;
}

/**
 * Reads one value of `type`. Absent is undefined, null, or a string of only white space (what an
 * empty form field sends); whether absence is allowed is the caller's to decide.
 */
export function readScalar(type: ScalarType, value: unknown, maxChars: number): ScalarReading {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === ''))
    return { ok: true, absent: true };
  switch (type) {
    case 'text': {
      if (typeof value !== 'string') return bad('bad_type', 'must be text (a string)');
      const length = [...value].length;
      if (length > maxChars) return bad('too_long', `is ${length} characters long; at most ${maxChars}`);
      const chars = characterProblem(value);
      if (chars) return bad('bad_character', chars.message);
      if (holdsSealPlaceholder(value))
        return bad(
          'seal_keyword',
          'must not contain a seal or signature placeholder such as （盖章） or （签字）: a seal placed by keyword search would land on this value',
        );
      return { ok: true, absent: false, inline: value, cell: value };
    }
    case 'date': {
      if (typeof value !== 'string') return bad('bad_type', 'must be a date as a string YYYY-MM-DD, e.g. 2026-12-07');
      const match = DATE_PATTERN.exec(value);
      if (!match) return bad('bad_format', 'must be a date as YYYY-MM-DD, e.g. 2026-12-07');
      const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
      if (year < YEARS.min || year > YEARS.max)
        return bad('bad_format', `must be a date in the years ${YEARS.min} to ${YEARS.max}`);
      if (month < 1 || month > 12) return bad('bad_format', `is not a date: there is no month ${month}`);
      if (day < 1 || day > daysIn(year, month))
        return bad('bad_format', `is not a date: ${year}-${match[2]} has ${daysIn(year, month)} days`);
      const text = formatDate(year, month, day);
      return { ok: true, absent: false, inline: text, cell: text };
    }
    case 'amount': {
      if (typeof value !== 'string')
        return bad(
          'bad_type',
          'must be an amount as a decimal string, e.g. "128000.50" (a string, so that nothing is rounded)',
        );
      if (value.startsWith('-')) return bad('bad_format', 'must not be negative');
      if (/^\d+\.\d{3,}$/.test(value))
        return bad('bad_format', 'has more than 2 decimal places (分 is the smallest unit)');
      if (/^\d{13,}(\.\d*)?$/.test(value.replace(/^0+(?=\d)/, '')))
        return bad('bad_format', 'is too large: at most 999999999999.99 (below 1 万亿)');
      const amount = parseAmount(value);
      if (!amount)
        return bad(
          'bad_format',
          'must be an amount in yuan such as 128000.50: digits, at most 2 decimals, no separators',
        );
      return { ok: true, absent: false, inline: formatAmount(amount), cell: formatAmountFigures(amount) };
    }
    case 'number': {
      let text: string;
      if (typeof value === 'number') {
        if (!Number.isFinite(value)) return bad('bad_format', 'must be a finite number');
        text = String(value);
      } else if (typeof value === 'string') text = value;
      else return bad('bad_type', 'must be a number');
      if (!NUMBER_PATTERN.test(text))
        return bad(
          'bad_format',
          'must be a number in plain decimal notation, e.g. 3 or 12.5 (at most 15 digits before the point and 6 after)',
        );
      return { ok: true, absent: false, inline: text, cell: text };
    }
  }
}
