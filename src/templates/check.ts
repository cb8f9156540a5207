// The two checks: is a template well formed (checkTemplate), and do values fit it (checkValues).
// Both take what a caller sent as it is (JSON, so any shape), list every problem with where it is,
// and never throw; an empty list means the renderer will accept it.
import { characterProblem } from './characters.js';
import { bodyLines, parseBody, VARIABLE_NAME, type Block } from './markup.js';
import { TEMPLATE_LIMITS, type ScalarType, type TemplateProblem, type TemplateSource } from './template.types.js';
import { readScalar } from './values.js';

const SCALAR_TYPES: readonly string[] = ['text', 'date', 'amount', 'number'] satisfies ScalarType[];
/** Beyond this many, the rest are counted rather than listed: a body full of `{{` must not make a list as long. */
const MAX_PROBLEMS = 100;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const NAME_RULE = 'a letter or _ followed by up to 63 letters, digits or _';

/** A key as a caller sent it, cut short for a problem's field and message (keys are not bounded by anything). */
const shortKey = (key: string) => (key.length > 64 ? `${key.slice(0, 64)}…` : key);

function capped(problems: TemplateProblem[], field: string): TemplateProblem[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  return [
    ...problems.slice(0, MAX_PROBLEMS),
    {
      code: 'too_many',
      field,
      message: `${problems.length - MAX_PROBLEMS} more problems are not listed; fix these first`,
    },
  ];
}

/** Edit distance, to suggest the declared name a misspelt `{{amout}}` meant. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * ` (did you mean amount?)`, or nothing. Not looked for once the list is full: a body or values
 * object with thousands of unknown names must not cost thousands of comparisons with each name.
 */
function suggestion(name: string, declared: Iterable<string>, problems: TemplateProblem[]): string {
  if (problems.length >= MAX_PROBLEMS || name.length > 64) return '';
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of declared) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function checkLabel(label: unknown, field: string, problems: TemplateProblem[], limit: number): void {
  if (typeof label !== 'string' || label.trim() === '') {
    problems.push({ code: 'bad_label', field, message: 'must be a non-empty text' });
    return;
  }
  if ([...label].length > limit)
    problems.push({ code: 'too_long', field, message: `must be at most ${limit} characters` });
  const chars = characterProblem(label);
  if (chars) problems.push({ code: 'bad_character', field, message: chars.message });
}

function checkName(name: unknown, field: string, seen: Set<string>, what: string, problems: TemplateProblem[]): void {
  if (typeof name !== 'string' || !VARIABLE_NAME.test(name)) {
    problems.push({
      code: 'bad_name',
      field,
      message: `${typeof name === 'string' ? JSON.stringify(name) : 'the name'} is not a ${what} name: ${NAME_RULE}`,
    });
    return;
  }
  if (seen.has(name)) problems.push({ code: 'duplicate', field, message: `${name} is declared twice` });
  seen.add(name);
}

/** A declared variable as the checks and the renderer use it: a label always a string, `required` resolved. */
export type Declared = (
  | { name: string; label: string; type: ScalarType }
  | { name: string; label: string; type: 'table'; columns: Array<{ name: string; label: string; type: ScalarType }> }
) & { required: boolean; index: number };

/**
 * The declared variables whose name and type are well formed, by name (the first of duplicates),
 * with their place in the list. A bad label or column is checkTemplate's to report; here it is
 * made harmless, so that one mistake is not reported again as every use of the variable.
 */
export function declaredVariables(source: unknown): Map<string, Declared> {
  const out = new Map<string, Declared>();
  if (!isObject(source) || !Array.isArray(source.variables)) return out;
  (source.variables.slice(0, TEMPLATE_LIMITS.variables) as unknown[]).forEach((v, index) => {
    if (!isObject(v) || typeof v.name !== 'string' || !VARIABLE_NAME.test(v.name) || out.has(v.name)) return;
    const common = {
      name: v.name,
      label: typeof v.label === 'string' && v.label.trim() !== '' ? v.label : v.name,
      required: v.required !== false,
      index,
    };
    if (v.type === 'table') {
      const columns = (Array.isArray(v.columns) ? (v.columns as unknown[]) : [])
        .slice(0, TEMPLATE_LIMITS.columns)
        .filter((c): c is Record<string, unknown> & { name: string } => isObject(c) && typeof c.name === 'string')
        .filter((c) => VARIABLE_NAME.test(c.name) && (c.type === undefined || SCALAR_TYPES.includes(c.type as string)))
        .map((c) => ({
          name: c.name,
          label: typeof c.label === 'string' ? c.label : c.name,
          type: (c.type ?? 'text') as ScalarType,
        }));
      out.set(v.name, { ...common, type: 'table', columns });
    } else if (SCALAR_TYPES.includes(v.type as string)) out.set(v.name, { ...common, type: v.type as ScalarType });
  });
  return out;
}

/** Checks the declarations; false when there are none to check the body's uses against. */
function checkVariables(variables: unknown, problems: TemplateProblem[]): boolean {
  if (!Array.isArray(variables)) {
    problems.push({ code: 'bad_type', field: 'variables', message: 'must be a list of variables' });
    return false;
  }
  if (variables.length > TEMPLATE_LIMITS.variables) {
    problems.push({
      code: 'too_many',
      field: 'variables',
      message: `declares ${variables.length} variables; at most ${TEMPLATE_LIMITS.variables}`,
    });
    return false;
  }
  const names = new Set<string>();
  (variables as unknown[]).forEach((v, i) => {
    const at = `variables[${i}]`;
    if (!isObject(v)) {
      problems.push({ code: 'bad_type', field: at, message: 'must be an object with name, label and type' });
      return;
    }
    checkName(v.name, `${at}.name`, names, 'variable', problems);
    checkLabel(v.label, `${at}.label`, problems, TEMPLATE_LIMITS.labelChars);
    if (v.required !== undefined && typeof v.required !== 'boolean')
      problems.push({ code: 'bad_type', field: `${at}.required`, message: 'must be true or false' });
    if (v.type === 'table') {
      if (!Array.isArray(v.columns) || v.columns.length === 0) {
        problems.push({ code: 'missing', field: `${at}.columns`, message: 'a table needs at least one column' });
        return;
      }
      if (v.columns.length > TEMPLATE_LIMITS.columns) {
        problems.push({
          code: 'too_many',
          field: `${at}.columns`,
          message: `has ${v.columns.length} columns; at most ${TEMPLATE_LIMITS.columns} fit across an A4 page`,
        });
        return;
      }
      const columns = new Set<string>();
      (v.columns as unknown[]).forEach((c, j) => {
        const cat = `${at}.columns[${j}]`;
        if (!isObject(c)) {
          problems.push({ code: 'bad_type', field: cat, message: 'must be an object with name and label' });
          return;
        }
        checkName(c.name, `${cat}.name`, columns, 'column', problems);
        checkLabel(c.label, `${cat}.label`, problems, TEMPLATE_LIMITS.columnLabelChars);
        if (c.type !== undefined && !SCALAR_TYPES.includes(c.type as string))
          problems.push({
            code: 'bad_type',
            field: `${cat}.type`,
            message: `must be one of ${SCALAR_TYPES.join(', ')}`,
          });
      });
    } else if (!SCALAR_TYPES.includes(v.type as string)) {
      problems.push({
        code: 'bad_type',
        field: `${at}.type`,
        message: `must be one of ${[...SCALAR_TYPES, 'table'].join(', ')}`,
      });
    }
  });
  return true;
}

/** Every use of a variable in the body against what is declared, and every declared variable the body never uses. */
function checkReferences(blocks: Block[], declared: Map<string, Declared>, problems: TemplateProblem[]): void {
  const used = new Set<string>();
  for (const block of blocks) {
    if (block.kind === 'table') {
      used.add(block.name);
      const v = declared.get(block.name);
      if (!v)
        problems.push({
          code: 'unknown_variable',
          field: 'body',
          line: block.line,
          column: block.column,
          message: `{{#table ${block.name}}} uses a variable that is not declared${suggestion(block.name, declared.keys(), problems)}`,
        });
      else if (v.type !== 'table')
        problems.push({
          code: 'not_a_table',
          field: 'body',
          line: block.line,
          column: block.column,
          message: `{{#table ${block.name}}}: ${block.name} is a ${v.type}, not a table; write {{${block.name}}}`,
        });
      continue;
    }
    if (!('content' in block)) continue;
    for (const piece of block.content) {
      if (piece.kind !== 'variable') continue;
      used.add(piece.name);
      const v = declared.get(piece.name);
      if (!v)
        problems.push({
          code: 'unknown_variable',
          field: 'body',
          line: block.line,
          column: piece.column,
          message: `{{${piece.name}}} is not declared${suggestion(piece.name, declared.keys(), problems)}`,
        });
      else if (v.type === 'table')
        problems.push({
          code: 'table_inline',
          field: 'body',
          line: block.line,
          column: piece.column,
          message: `{{${piece.name}}} is a table: put {{#table ${piece.name}}} alone on a line`,
        });
    }
  }
  for (const [name, v] of declared)
    if (!used.has(name))
      problems.push({
        code: 'unused_variable',
        field: `variables[${v.index}].name`,
        message: `${name} is declared but the body never uses it`,
      });
}

/** Every problem of a template; an empty list means it is well formed. */
export function checkTemplate(source: TemplateSource): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const input: unknown = source;
  if (!isObject(input))
    return [{ code: 'bad_type', field: '', message: 'a template is an object with title, variables and body' }];
  const { title, body } = input;
  if (typeof title !== 'string' || title.trim() === '')
    problems.push({ code: 'missing', field: 'title', message: 'must be a non-empty text' });
  else {
    if ([...title].length > TEMPLATE_LIMITS.titleChars)
      problems.push({
        code: 'too_long',
        field: 'title',
        message: `must be at most ${TEMPLATE_LIMITS.titleChars} characters`,
      });
    const chars = characterProblem(title);
    if (chars) problems.push({ code: 'bad_character', field: 'title', message: chars.message });
  }
  const declarationsRead = checkVariables(input.variables, problems);
  if (typeof body !== 'string' || body.trim() === '') {
    problems.push({ code: 'missing', field: 'body', message: 'must be a non-empty text' });
    return capped(problems, 'body');
  }
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > TEMPLATE_LIMITS.bodyBytes) {
    // Not parsed: the limit is what bounds the work of everything below.
    problems.push({
      code: 'too_long',
      field: 'body',
      message: `is ${bytes} bytes; at most ${TEMPLATE_LIMITS.bodyBytes} (200 KB)`,
    });
    return capped(problems, 'body');
  }
  bodyLines(body).forEach((line, index) => {
    const chars = characterProblem(line, '\t');
    if (chars)
      problems.push({
        code: 'bad_character',
        field: 'body',
        line: index + 1,
        column: chars.index + 1,
        message: chars.message,
      });
  });
  const parsed = parseBody(body);
  problems.push(...parsed.problems);
  if (declarationsRead) checkReferences(parsed.blocks, declaredVariables(input), problems);
  return capped(problems, 'body');
}

/** How many characters each declared variable prints, to bound the whole filled-in document. */
function renderedSize(blocks: Block[], printed: Map<string, number>): number {
  let total = 0;
  for (const block of blocks) {
    if (block.kind === 'table') total += printed.get(block.name) ?? 0;
    else if ('content' in block)
      for (const piece of block.content)
        total += piece.kind === 'text' ? piece.text.length : (printed.get(piece.name) ?? 0);
  }
  return total;
}

/**
 * Every problem of `values` for `source`: a required value missing, a value of the wrong type or
 * format, a key no variable declares, a text or table over its limit, a filled-in document over
 * its limit. Variables the template declares badly are skipped (checkTemplate reports them).
 */
export function checkValues(source: TemplateSource, values: Record<string, unknown>): TemplateProblem[] {
  const input: unknown = values;
  if (!isObject(input))
    return [{ code: 'bad_type', field: 'values', message: 'must be an object of values by variable name' }];
  const declared = declaredVariables(source);
  const problems: TemplateProblem[] = [];
  const printed = new Map<string, number>();
  for (const key of Object.keys(input)) {
    if (!declared.has(key))
      problems.push({
        code: 'unknown_key',
        field: `values.${shortKey(key)}`,
        message: `the template declares no variable ${JSON.stringify(shortKey(key))}${suggestion(key, declared.keys(), problems)}`,
      });
  }
  for (const [name, variable] of declared) {
    const field = `values.${name}`;
    // Own properties only: a variable named `constructor` must not read Object.prototype's.
    const value = Object.hasOwn(input, name) ? input[name] : undefined;
    const { required } = variable;
    if (variable.type !== 'table') {
      const reading = readScalar(variable.type, value, TEMPLATE_LIMITS.textChars);
      if (!reading.ok) problems.push({ code: reading.code, field, message: reading.message });
      else if (reading.absent) {
        if (required) problems.push({ code: 'missing', field, message: `${variable.label} is required` });
      } else printed.set(name, reading.inline.length);
      continue;
    }
    if (value === undefined || value === null) {
      if (required)
        problems.push({ code: 'missing', field, message: `${variable.label} is required: at least one row` });
      continue;
    }
    if (!Array.isArray(value)) {
      problems.push({
        code: 'bad_type',
        field,
        message: 'must be a list of rows, each an object keyed by column name',
      });
      continue;
    }
    if (value.length > TEMPLATE_LIMITS.rows) {
      problems.push({ code: 'too_many', field, message: `has ${value.length} rows; at most ${TEMPLATE_LIMITS.rows}` });
      continue;
    }
    if (value.length === 0 && required) {
      problems.push({ code: 'missing', field, message: `${variable.label} is required: at least one row` });
      continue;
    }
    const columns = new Map(variable.columns.map((c) => [c.name, c]));
    let size = variable.columns.reduce((sum, c) => sum + c.label.length, 0);
    (value as unknown[]).forEach((row, i) => {
      const at = `${field}[${i}]`;
      if (!isObject(row)) {
        problems.push({ code: 'bad_type', field: at, message: 'must be an object keyed by column name' });
        return;
      }
      for (const key of Object.keys(row))
        if (!columns.has(key))
          problems.push({
            code: 'unknown_key',
            field: `${at}.${shortKey(key)}`,
            message: `the table has no column ${JSON.stringify(shortKey(key))}${suggestion(key, columns.keys(), problems)}`,
          });
      for (const [column, spec] of columns) {
        const reading = readScalar(
          spec.type,
          Object.hasOwn(row, column) ? row[column] : undefined,
          TEMPLATE_LIMITS.cellChars,
        );
        if (!reading.ok) problems.push({ code: reading.code, field: `${at}.${column}`, message: reading.message });
        else if (!reading.absent) size += reading.cell.length;
      }
    });
    printed.set(name, size);
  }
  const body: unknown = isObject(source) ? source.body : undefined;
  if (problems.length === 0 && typeof body === 'string' && Buffer.byteLength(body) <= TEMPLATE_LIMITS.bodyBytes) {
    const size = renderedSize(parseBody(body).blocks, printed);
    if (size > TEMPLATE_LIMITS.renderedChars)
      problems.push({
        code: 'too_long',
        field: 'values',
        message: `the filled-in document would have ${size} characters; at most ${TEMPLATE_LIMITS.renderedChars}`,
      });
  }
  return capped(problems, 'values');
}
