// The body markup, line by line:
//   `# 标题`             the document's title, centred
//   `## 第一条 合同期限`   a section (clause) heading
//   `- 文字`             a list item
//   `{{#table goods}}`   alone on its line: the table variable `goods`
//   `---`                a page break
//   a blank line         a gap between paragraphs (each blank line adds half a line)
//   any other line       a paragraph, its first line indented by two characters
// Inside a line, `{{name}}` is a variable (spaces inside the braces are allowed). Each source line
// is a paragraph of its own: Chinese authors type a paragraph as one line and expect Enter to start
// a new one (and a signature block is a run of short lines that must stay lines).
// Values are substituted into the parsed segments, never into the source text, so a value holding
// `{{other}}` or `# ` is printed as it is.
import type { TemplateProblem } from './template.types.js';

export const VARIABLE_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;

export type Inline = { kind: 'text'; text: string } | { kind: 'variable'; name: string; column: number };

export type Block =
  | { kind: 'title' | 'heading' | 'paragraph' | 'item'; line: number; content: Inline[] }
  | { kind: 'table'; line: number; name: string; column: number }
  | { kind: 'pageBreak'; line: number }
  | { kind: 'gap'; line: number };

const TABLE_DIRECTIVE = /^\{\{\s*#table\s+([^\s{}]*)\s*\}\}$/;

/** Splits the body into lines the way every editor does: \r\n, \n or a lone \r ends a line. */
export function bodyLines(body: string): string[] {
  return body.split(/\r\n|\n|\r/);
}

/** The body's blocks, and what in its markup is malformed (names are checked against the declared variables elsewhere). */
export function parseBody(body: string): { blocks: Block[]; problems: TemplateProblem[] } {
  const blocks: Block[] = [];
  const problems: TemplateProblem[] = [];
  bodyLines(body).forEach((raw, index) => {
    const line = index + 1;
    const source = raw.replace(/\t/g, ' ');
    const trimmed = source.trim();
    if (trimmed === '') {
      blocks.push({ kind: 'gap', line });
      return;
    }
    if (trimmed === '---') {
      blocks.push({ kind: 'pageBreak', line });
      return;
    }
    const table = TABLE_DIRECTIVE.exec(trimmed);
    if (table) {
      const name = table[1]!;
      const column = source.indexOf(name, source.indexOf('#table') + 6) + 1;
      if (!VARIABLE_NAME.test(name))
        problems.push({
          code: 'bad_name',
          field: 'body',
          line,
          column,
          message: `{{#table ${name}}} does not name a variable: a name is a letter or _ followed by up to 63 letters, digits or _`,
        });
      else blocks.push({ kind: 'table', line, name, column });
      return;
    }
    let kind: 'title' | 'heading' | 'item' | 'paragraph' = 'paragraph';
    let start = source.length - source.trimStart().length;
    if (trimmed.startsWith('# ')) kind = 'title';
    else if (trimmed.startsWith('## ')) kind = 'heading';
    else if (trimmed.startsWith('- ')) kind = 'item';
    if (kind !== 'paragraph') start += kind === 'heading' ? 3 : 2;
    const content = parseInline(source, start, line, problems);
    blocks.push({ kind, line, content });
  });
  return { blocks, problems };
}

/** Text and `{{name}}` references in `source` from `start`; braces that do not pair up are reported. */
function parseInline(source: string, start: number, line: number, problems: TemplateProblem[]): Inline[] {
  const out: Inline[] = [];
  let text = '';
  let at = start;
  const problem = (code: TemplateProblem['code'], column: number, message: string) =>
    problems.push({ code, field: 'body', line, column, message });
  while (at < source.length) {
    const open = source.indexOf('{{', at);
    const close = source.indexOf('}}', at);
    if (close >= 0 && (open < 0 || close < open)) {
      problem('unbalanced_braces', close + 1, '}} closes nothing: there is no {{ before it on this line');
      text += source.slice(at, close + 2);
      at = close + 2;
      continue;
    }
    if (open < 0) {
      text += source.slice(at);
      break;
    }
    text += source.slice(at, open);
    const end = source.indexOf('}}', open + 2);
    const nested = source.indexOf('{{', open + 2);
    if (end < 0 || (nested >= 0 && nested < end)) {
      problem('unbalanced_braces', open + 1, '{{ is not closed by }} on the same line');
      text += '{{';
      at = open + 2;
      continue;
    }
    const inner = source.slice(open + 2, end).trim();
    const column = open + 1;
    if (inner.startsWith('#') || inner.startsWith('/')) {
      const directive = inner.split(/\s+/)[0]!;
      const alone = source.slice(0, open).trim() === '' && source.slice(end + 2).trim() === '';
      problem(
        'bad_directive',
        column,
        directive !== '#table'
          ? `{{${inner}}} is not markup Sigil knows: a value is {{name}} and a table is {{#table name}} alone on its line`
          : alone
            ? `{{${inner}}} must name one table variable: {{#table name}}`
            : `{{${inner}}} must stand alone on its line`,
      );
    } else if (!VARIABLE_NAME.test(inner)) {
      problem(
        'bad_name',
        column,
        `{{${inner}}} does not name a variable: a name is a letter or _ followed by up to 63 letters, digits or _`,
      );
    } else {
      if (text) out.push({ kind: 'text', text });
      text = '';
      out.push({ kind: 'variable', name: inner, column });
    }
    at = end + 2;
  }
  if (text) out.push({ kind: 'text', text: text.trimEnd() });
  return out.filter((c) => c.kind === 'variable' || c.text !== '');
}
