// What a signer fills in besides signing (a date, a text, a tick): checked by the field's type,
// then drawn on the page beside the signature, which covers it, so the values a contract shows
// are the values its signer signed.
import { AppError } from '../../server/errors.js';
import { missingGlyphs } from '../../seal-image/font.js';
import { MAX_FIELD_TEXT, renderFieldValuePng, type FieldValue } from '../../seal-image/field-value.js';
import type { StampAppearance } from '../../signing/index.js';
import type { FieldRecord } from './contract.repository.js';

export const VALUE_FIELDS = new Set(['date', 'text', 'checkbox']);

/** The box a value placed by keyword gets (points), centred on the keyword like a seal. */
const KEYWORD_BOX: Record<string, [number, number]> = { date: [110, 18], text: [180, 18], checkbox: [14, 14] };

function refuse(field: FieldRecord, message: string): AppError {
  const name = field.label ?? field.id;
  return new AppError('validation_failed', `The field ${name} ${message}.`, {
    errors: [{ field: 'body.fields', message: `${name} ${message}` }],
  });
}

/** The value as the field's type reads it; refuses a malformed one, naming the field. */
export function readFieldValue(field: FieldRecord, raw: string): FieldValue {
  if (field.type === 'checkbox') {
    if (raw !== 'true' && raw !== 'false') throw refuse(field, 'takes "true" or "false"');
    return { type: 'checkbox', checked: raw === 'true' };
  }
  if (field.type === 'date') {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
    const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
    if (!date || date.toISOString().slice(0, 10) !== raw) throw refuse(field, 'takes a date as YYYY-MM-DD');
    return { type: 'date', text: raw };
  }
  if ([...raw].length > MAX_FIELD_TEXT) throw refuse(field, `takes at most ${MAX_FIELD_TEXT} characters`);
  const missing = missingGlyphs(raw);
  if (missing.length) throw refuse(field, `uses characters the font cannot draw: ${missing.join(' ')}`);
  return { type: 'text', text: raw };
}

/** Checks every value against its field before anything is signed. */
export function checkFieldValues(fields: FieldRecord[], values: Map<string, string>): void {
  for (const field of fields) {
    const raw = values.get(field.id);
    if (raw !== undefined) readFieldValue(field, raw);
  }
}

/** Each value drawn for its field: the stamps the signer's (first) signature carries. */
export async function valueStamps(
  fields: FieldRecord[],
  values: Map<string, string>,
  signerName: string,
): Promise<StampAppearance[]> {
  const stamps: StampAppearance[] = [];
  for (const field of fields) {
    const raw = values.get(field.id);
    if (raw === undefined || !VALUE_FIELDS.has(field.type)) continue;
    const value = readFieldValue(field, raw);
    const size = field.rect ? ([field.rect[2], field.rect[3]] as [number, number]) : KEYWORD_BOX[field.type]!;
    stamps.push({
      image: await renderFieldValuePng(value, size[0], size[1]),
      at: field.rect
        ? { page: field.page ?? 1, rect: field.rect }
        : { keyword: field.keyword!, size, ...(field.page ? { page: field.page } : {}) },
      label: `${field.label ?? field.type} filled in by ${signerName}`,
    });
  }
  return stamps;
}
