// What a seal image may say: one check shared by the API and the command line, so both refuse
// the same input with the same words.
import { AppError, type FieldProblem } from '../server/errors.js';
import { missingGlyphs } from './font.js';
import { SEAL_SHAPES, SIZE_LIMITS_MM, TEXT_LIMITS, textWidth, type SealImageSpec } from './seal-svg.js';

export const COLOR_PATTERN = /^#[0-9a-fA-F]{6}$/;

/** NFC, trimmed, runs of white space as one space: what is drawn is what was meant. */
export function normaliseSealText(text: string): string {
  return text.normalize('NFC').trim().replace(/\s+/g, ' ');
}

type TextField = keyof typeof TEXT_LIMITS;
const aSeal = (shape: string) => `${shape === 'oval' ? 'an' : 'a'} ${shape} seal`;
const usedBy: Record<TextField, ReadonlyArray<SealImageSpec['shape']>> = {
  company: ['round', 'oval'],
  type: ['round', 'oval'],
  code: ['round', 'oval'],
  name: ['square'],
};

/**
 * The spec with its texts normalised, or `validation_failed` naming every field that is wrong:
 * a missing company name or person's name, text a shape does not use, text too long to fit,
 * a character the seal font cannot draw, a colour or size out of range.
 * `prefix` is prepended to field names (`body.` for the API, `--` for the command line).
 */
export function checkSealImageSpec(input: SealImageSpec, prefix = ''): SealImageSpec {
  const problems: FieldProblem[] = [];
  const field = (name: string) =>
    prefix === '--' ? `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : `${prefix}${name}`;
  if (!(SEAL_SHAPES as readonly string[]).includes(input.shape))
    problems.push({ field: field('shape'), message: `must be one of ${SEAL_SHAPES.join(', ')}` });
  const out: SealImageSpec = { shape: input.shape };
  for (const name of Object.keys(TEXT_LIMITS) as TextField[]) {
    const raw = input[name];
    if (raw === undefined) continue;
    const text = normaliseSealText(raw);
    if (text === '') continue;
    if (!usedBy[name].includes(input.shape)) {
      problems.push({
        field: field(name),
        message: `is not used by ${aSeal(input.shape)} (only by ${usedBy[name].join(' and ')})`,
      });
      continue;
    }
    const width = textWidth(text);
    if (width > TEXT_LIMITS[name])
      problems.push({
        field: field(name),
        message: `is too long to fit: at most ${TEXT_LIMITS[name]} Chinese characters, a letter or digit counting 0.6 (it has ${width})`,
      });
    else if (/\p{Cc}|\p{Cf}|\p{Co}|\p{Cs}/u.test(text))
      problems.push({ field: field(name), message: 'must not contain control or invisible characters' });
    else {
      const missing = missingGlyphs(text);
      if (missing.length)
        problems.push({
          field: field(name),
          message: `contains ${missing.join(' ')}, which the seal font cannot draw`,
        });
    }
    out[name] = text;
  }
  if ((input.shape === 'round' || input.shape === 'oval') && !out.company)
    problems.push({ field: field('company'), message: `is required for ${aSeal(input.shape)}` });
  if (input.shape === 'square' && !out.name)
    problems.push({ field: field('name'), message: 'is required for a square seal' });
  if (input.color !== undefined) {
    if (COLOR_PATTERN.test(input.color)) out.color = input.color.toLowerCase();
    else problems.push({ field: field('color'), message: 'must be a colour as #rrggbb, e.g. #d32f2f' });
  }
  if (input.sizeMm !== undefined) {
    if (Number.isFinite(input.sizeMm) && input.sizeMm >= SIZE_LIMITS_MM.min && input.sizeMm <= SIZE_LIMITS_MM.max)
      out.sizeMm = input.sizeMm;
    else
      problems.push({
        field: field('sizeMm'),
        message: `must be a number of millimetres from ${SIZE_LIMITS_MM.min} to ${SIZE_LIMITS_MM.max}`,
      });
  }
  if (input.star !== undefined) {
    if (input.star && input.shape !== 'round')
      problems.push({ field: field('star'), message: 'only a round seal has a star' });
    out.star = input.star;
  }
  if (problems.length)
    throw new AppError(
      'validation_failed',
      `The seal image cannot be made: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}.`,
      { errors: problems },
    );
  return out;
}
