// What a contract template is, what is wrong with one, and the limits that keep checking and
// rendering one bounded in time and memory whatever a caller sends.

/** Kinds of a single value: free text, a calendar date, an amount of money (人民币) or a number. */
export type ScalarType = 'text' | 'date' | 'amount' | 'number';

export interface ScalarVariable {
  /** ASCII identifier used in the body as `{{name}}`. */
  name: string;
  /** What a person filling in the template is asked for, e.g. 乙方姓名. */
  label: string;
  type: ScalarType;
  /** Default true: a contract with a blank party or amount is rarely meant. */
  required?: boolean;
}

export interface TableColumn {
  name: string;
  label: string;
  /**
   * Default `text`. A typed column is checked like a variable of that type, and numbers and amounts
   * are set right-aligned (amounts as `1,280.00`, without the words, which would not fit a cell).
   */
  type?: ScalarType;
}

export interface TableVariable {
  name: string;
  label: string;
  type: 'table';
  columns: TableColumn[];
  /** Default true: at least one row. */
  required?: boolean;
}

export type TemplateVariable = ScalarVariable | TableVariable;

export interface TemplateSource {
  /** The document's title (劳动合同), also its PDF title. */
  title: string;
  variables: TemplateVariable[];
  /** The text in Sigil's small line-based markup (see markup.ts). */
  body: string;
}

/** Values by variable name: strings for text, dates and amounts; a number or decimal string for numbers; rows for tables. */
export type TemplateValues = Record<string, unknown>;

export type TemplateProblemCode =
  | 'missing'
  | 'too_long'
  | 'too_many'
  | 'bad_name'
  | 'duplicate'
  | 'bad_type'
  | 'bad_label'
  | 'unknown_variable'
  | 'unused_variable'
  | 'table_inline'
  | 'not_a_table'
  | 'bad_directive'
  | 'unbalanced_braces'
  | 'bad_character'
  | 'bad_format'
  | 'unknown_key'
  | 'seal_keyword';

export interface TemplateProblem {
  code: TemplateProblemCode;
  /**
   * Where, as a path: `title`, `body`, `variables[2].name`, `variables[1].columns[0].label`,
   * `values.salary`, `values.goods[3].price`. Shaped like the API's field problems, so a route can
   * answer with them after prefixing `body.`.
   */
  field: string;
  /** For the body: 1-based line, and column in UTF-16 code units (what an editor's cursor counts). */
  line?: number;
  column?: number;
  message: string;
}

export const TEMPLATE_LIMITS = {
  /** UTF-8 bytes of the body. */
  bodyBytes: 200 * 1024,
  titleChars: 100,
  variables: 200,
  labelChars: 100,
  columns: 12,
  /** A column's label heads every page of its table: short enough to stay a few lines in a narrow column. */
  columnLabelChars: 20,
  textChars: 2000,
  cellChars: 500,
  rows: 500,
  /**
   * Characters of the filled-in document, counting each use of a value: a 2,000-character value
   * used 3,000 times in a 200 KB body would otherwise make a 6-million-character document. About
   * what 200 full pages hold.
   */
  renderedChars: 250_000,
  /**
   * Pages of the rendered PDF. Characters alone do not bound the work: a table of twelve narrow
   * columns sets two characters a line, and each line is a drawing operation.
   */
  pages: 200,
} as const;

/** Thrown by `renderTemplate` when the template or the values fail their check; carries every problem. */
export class TemplateError extends Error {
  constructor(
    readonly kind: 'template' | 'values',
    readonly problems: TemplateProblem[],
  ) {
    const subject = kind === 'template' ? 'The template has' : 'The values have';
    const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    const shown = problems
      .slice(0, 3)
      .map((p) => `${p.field}${p.line ? ` (line ${p.line})` : ''} ${p.message}`)
      .join('; ');
    super(`${subject} ${count}: ${shown}${problems.length > 3 ? '; …' : ''}`);
    this.name = 'TemplateError';
  }
}
