// Contract templates: the checks, 大写金额, Chinese line breaking, and the rendered PDF as tools we
// did not write see it: qpdf (structure), pdffonts (the font embedded as a subset), pdfinfo (page
// count, dates, no JavaScript), pdftotext (the text as a reader copies it), and the keyword search
// that places seals (src/signing/pdf/text.ts).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDocument } from '../src/signing/pdf/parser.js';
import { findKeyword } from '../src/signing/pdf/text.js';
import {
  TEMPLATE_LIMITS,
  TemplateError,
  amountInWords,
  checkTemplate,
  checkValues,
  formatAmount,
  parseAmount,
  renderTemplate,
  seedTemplates,
  type TemplateProblem,
  type TemplateSource,
  type TemplateValues,
} from '../src/templates/index.js';
import { breakPieces, canBreakBetween, wrapText } from '../src/templates/line-break.js';
import { requireTool, run, tempDir } from './signing/support.js';

const tmp = tempDir('sigil-templates-');
const NOW = new Date('2026-01-05T08:00:00Z');

beforeAll(() => {
  for (const tool of ['qpdf', 'pdftotext', 'pdffonts', 'pdfinfo']) requireTool(tool);
});
afterAll(() => tmp.remove());

const seed = (key: string) => seedTemplates.find((s) => s.key === key)!;

let fileCount = 0;
function save(pdf: Buffer): string {
  return tmp.file(`doc-${++fileCount}.pdf`, pdf);
}

/** The text of the whole document, or of one page, as `pdftotext -layout` lays it out. */
function pdfText(file: string, page?: number): string {
  const pages = page ? ['-f', String(page), '-l', String(page)] : [];
  return run('pdftotext', ['-layout', '-enc', 'UTF-8', ...pages, file, '-']).out;
}

/** The same without any white space: what was printed, wherever the lines broke. */
const squeezed = (text: string) => text.replace(/\s+/g, '');

function pdfInfo(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of run('pdfinfo', ['-isodates', file]).out.split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function expectSound(file: string): void {
  expect(run('qpdf', ['--check', file]).out).toContain('No syntax or stream encoding errors');
}

/** A paragraph of `n` Chinese characters, different from one place to the next so that a lost or repeated run shows. */
function hanText(n: number, offset = 0): string {
  const source = '甲乙双方应当按照本合同约定的时间地点和方式履行各自义务不得擅自变更或者解除合同';
  return Array.from({ length: n }, (_, i) => source[(i + offset) % source.length]).join('');
}

function template(body: string, variables: TemplateSource['variables'] = []): TemplateSource {
  return { title: '测试', variables, body };
}

const codes = (problems: TemplateProblem[]) => problems.map((p) => p.code);

describe('大写金额', () => {
  const cases: Array<[string, string]> = [
    ['0', '零元整'],
    ['0.00', '零元整'],
    ['0.5', '伍角整'],
    ['0.05', '伍分'],
    ['0.55', '伍角伍分'],
    ['1', '壹元整'],
    ['1.01', '壹元零壹分'],
    ['10', '壹拾元整'],
    ['11', '壹拾壹元整'],
    ['20.2', '贰拾元贰角整'],
    ['101', '壹佰零壹元整'],
    ['110', '壹佰壹拾元整'],
    ['200.10', '贰佰元壹角整'],
    ['325.04', '叁佰贰拾伍元零肆分'],
    ['1010.05', '壹仟零壹拾元零伍分'],
    ['1680.32', '壹仟陆佰捌拾元叁角贰分'],
    ['16409.02', '壹万陆仟肆佰零玖元零贰分'],
    ['100000.00', '壹拾万元整'],
    ['107000.53', '壹拾万柒仟元伍角叁分'],
    ['128000.50', '壹拾贰万捌仟元伍角整'],
    ['1001000', '壹佰万壹仟元整'],
    ['1000100', '壹佰万零壹佰元整'],
    ['10000001', '壹仟万零壹元整'],
    ['100000000', '壹亿元整'],
    ['100001000', '壹亿零壹仟元整'],
    ['100010000', '壹亿零壹万元整'],
    ['100100100', '壹亿零壹拾万零壹佰元整'],
    ['1000000010', '壹拾亿零壹拾元整'],
    ['60000000000', '陆佰亿元整'],
    ['999999999999.99', '玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分'],
  ];
  it.each(cases)('writes %s as %s', (figures, words) => {
    expect(amountInWords(parseAmount(figures)!)).toBe(words);
  });

  /** An independent reading of capitals back into fen, for the round trip below. */
  function readCapitals(words: string): bigint {
    const digits = '零壹贰叁肆伍陆柒捌玖';
    const places: Record<string, bigint> = { 拾: 10n, 佰: 100n, 仟: 1000n };
    const [integer = '', decimals = ''] = words.includes('元') ? words.split('元') : ['', words];
    let total = 0n;
    let section = 0n;
    let digit = 0n;
    for (const c of integer) {
      if (digits.includes(c)) digit = BigInt(digits.indexOf(c));
      else if (places[c]) {
        section += digit * places[c];
        digit = 0n;
      } else if (c === '万' || c === '亿') {
        total += (section + digit) * (c === '万' ? 10_000n : 100_000_000n);
        section = digit = 0n;
      } else throw new Error(`unexpected ${c} in ${words}`);
    }
    total += section + digit;
    let fen = total * 100n;
    const jiao = /([壹贰叁肆伍陆柒捌玖])角/.exec(decimals);
    const cents = /([壹贰叁肆伍陆柒捌玖])分/.exec(decimals);
    if (jiao) fen += BigInt(digits.indexOf(jiao[1]!)) * 10n;
    if (cents) fen += BigInt(digits.indexOf(cents[1]!));
    return fen;
  }

  it('reads back to the same amount, with one 零 at most for each gap and 壹 before every leading 拾', () => {
    let seedValue = 20260105;
    const random = () => {
      seedValue = (seedValue * 1103515245 + 12345) % 2 ** 31;
      return seedValue / 2 ** 31;
    };
    const amounts: string[] = [];
    for (let n = 0; n <= 20_000; n += 7) amounts.push(`${n}.${n % 100}`.replace(/\.(\d)$/, '.0$1'));
    for (let i = 0; i < 3000; i++) {
      // Sparse digits: zeros in every position are what the rules are about.
      const length = 1 + Math.floor(random() * 12);
      let digits = String(1 + Math.floor(random() * 9));
      for (let d = 1; d < length; d++) digits += random() < 0.6 ? '0' : String(Math.floor(random() * 10));
      amounts.push(`${digits}.${Math.floor(random() * 10)}${random() < 0.5 ? 0 : Math.floor(random() * 10)}`);
    }
    for (const figures of amounts) {
      const words = amountInWords(parseAmount(figures)!);
      const [yuan, fen = '00'] = figures.split('.');
      expect(readCapitals(words), `${figures} → ${words}`).toBe(BigInt(yuan!) * 100n + BigInt(fen.padEnd(2, '0')));
      if (words !== '零元整') expect(words).not.toMatch(/零零|零[万亿元角分整]|^零/);
      expect(words).not.toMatch(/(^|[万亿零])拾/);
      expect(words).toMatch(/(整|分)$/);
      if (/[1-9]0$/.test(figures) || /\.[1-9]$/.test(figures)) expect(words).toMatch(/角整$/);
    }
  });

  it('prints figures with separators and the words in brackets', () => {
    expect(formatAmount(parseAmount('128000.50')!)).toBe('¥128,000.50（人民币壹拾贰万捌仟元伍角整）');
    expect(formatAmount(parseAmount('0.5')!)).toBe('¥0.50（人民币伍角整）');
    expect(formatAmount(parseAmount('1234567')!)).toBe('¥1,234,567.00（人民币壹佰贰拾叁万肆仟伍佰陆拾柒元整）');
  });

  it('reads only plain decimal strings with at most two places', () => {
    for (const bad of ['', '-1', '1.234', '1,000', '01', '1e3', ' 1', '1.', '.5', '1000000000000', '١٢'])
      expect(parseAmount(bad), bad).toBeNull();
  });
});

describe('Chinese line breaking', () => {
  /** A Chinese character or full-width mark is 1 wide, anything else 0.5. */
  const measure = (s: string) =>
    Array.from(s).reduce((w, c) => w + (/[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef“”‘’—…]/.test(c) ? 1 : 0.5), 0);
  const NO_START = '，。、；：？！）」』】》”’';
  const NO_END = '（「『【《“‘';

  it('keeps closing marks off the start of a line by pushing the character before them down', () => {
    const lines = wrapText('一二三四五六七八九十，一二三四五六七八九十。', { width: 10, measure });
    expect(lines.map((l) => l.text)).toEqual(['一二三四五六七八九', '十，一二三四五六七八', '九十。']);
    expect(lines.map((l) => l.last)).toEqual([false, false, true]);
  });

  it('keeps opening marks off the end of a line, and a quotation on the line of its first character', () => {
    const lines = wrapText('一二三四五六七八九《合同法》', { width: 10, measure });
    expect(lines.map((l) => l.text)).toEqual(['一二三四五六七八九', '《合同法》']);
  });

  it('never splits a run of figures or Latin letters, nor —— or ……', () => {
    expect(breakPieces('身份证110101199003071234号')).toEqual(['身', '份', '证', '110101199003071234', '号']);
    expect(breakPieces('甲——乙……丙')).toEqual(['甲', '——', '乙', '……', '丙']);
    expect(canBreakBetween('1', '2')).toBe(false);
    expect(canBreakBetween('甲', '乙')).toBe(true);
    expect(canBreakBetween('¥', '1')).toBe(false);
  });

  it('indents the first line, breaks at spaces between words, and cuts a run wider than a line by character', () => {
    const indented = wrapText('一二三四五六七八九十', { width: 6, firstLineIndent: 2, measure });
    expect(indented.map((l) => [l.text, l.available])).toEqual([
      ['一二三四', 4],
      ['五六七八九十', 6],
    ]);
    expect(wrapText('Sigil seals contracts', { width: 5, measure }).map((l) => l.text)).toEqual([
      'Sigil',
      'seals',
      'contracts',
    ]);
    const cut = wrapText(`${'8'.repeat(30)}，后`, { width: 5, measure });
    expect(cut.map((l) => l.text)).toEqual(['8888888888', '8888888888', '888888888', '8，后']);
  });

  it('holds the rules on random text at random widths, losing and repeating nothing', () => {
    let state = 7;
    const random = () => {
      state = (state * 48271) % 2147483647;
      return state / 2147483647;
    };
    const alphabet = [...'甲乙丙丁合同约定', ...NO_START, ...NO_END, 'AB', '12', ' ', '——', '……'];
    for (let round = 0; round < 400; round++) {
      let text = '';
      const length = 5 + Math.floor(random() * 80);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      text = text.trim();
      if (!text) continue;
      const width = 3 + Math.floor(random() * 20);
      const lines = wrapText(text, { width, firstLineIndent: random() < 0.5 ? 2 : 0, measure });
      expect(
        lines
          .map((l) => l.text)
          .join('')
          .replace(/ /g, ''),
      ).toBe(text.replace(/ /g, ''));
      const chars = lines.map((l) => Array.from(l.text));
      lines.forEach((line, i) => {
        expect(line.width, `${JSON.stringify(text)} at ${width}`).toBeLessThanOrEqual(line.available + 0.01);
        // Only where a line has room for a single character may a cut break a rule: it must still make progress.
        if (i > 0 && chars[i - 1]!.length > 1) expect(NO_START, JSON.stringify(lines)).not.toContain(chars[i]![0]);
        if (i < lines.length - 1 && chars[i]!.length > 1)
          expect(NO_END, JSON.stringify(lines)).not.toContain(chars[i]!.at(-1));
      });
    }
  });
});

describe('checkTemplate', () => {
  const amountVariable = { name: 'amount', label: '金额', type: 'amount' as const };

  it('finds nothing wrong with the seed templates, which sign off with keyword lines', () => {
    expect(seedTemplates.map((s) => s.key)).toEqual(['labour-contract', 'purchase-contract', 'nda']);
    for (const s of seedTemplates) {
      expect(checkTemplate(s.source), s.key).toEqual([]);
      expect(s.source.body).toMatch(/^甲方（盖章）：/m);
      expect(s.source.body).toMatch(/^(乙方（签字）|乙方（盖章）)：/m);
      expect(s.source.body).toMatch(/^日期：/m);
    }
  });

  it('names an undeclared variable with its line and column, and suggests the declared one', () => {
    const problems = checkTemplate(template('# 标题\n总价：{{amount}}\n大写：{{amout}}', [amountVariable]));
    expect(problems).toEqual([
      {
        code: 'unknown_variable',
        field: 'body',
        line: 3,
        column: 4,
        message: '{{amout}} is not declared (did you mean amount?)',
      },
    ]);
  });

  it('refuses bad and duplicate variable names, labels and types', () => {
    const problems = checkTemplate(
      template('{{ok}}', [
        { name: 'ok', label: '好', type: 'text' },
        { name: '1st', label: '一', type: 'text' },
        { name: 'has-dash', label: '二', type: 'text' },
        { name: 'a'.repeat(65), label: '三', type: 'text' },
        { name: '名字', label: '四', type: 'text' },
        { name: 'ok', label: '重复', type: 'text' },
        { name: 'blank', label: ' ', type: 'text' },
        { name: 'money', label: '钱', type: 'currency' as 'text' },
      ]),
    );
    expect(problems.map((p) => [p.code, p.field])).toEqual([
      ['bad_name', 'variables[1].name'],
      ['bad_name', 'variables[2].name'],
      ['bad_name', 'variables[3].name'],
      ['bad_name', 'variables[4].name'],
      ['duplicate', 'variables[5].name'],
      ['bad_label', 'variables[6].label'],
      ['bad_type', 'variables[7].type'],
      ['unused_variable', 'variables[6].name'],
    ]);
  });

  it('refuses a table used inline, a non-table in {{#table}}, and a table directive that is not alone', () => {
    const goods = { name: 'goods', label: '货物', type: 'table' as const, columns: [{ name: 'n', label: '名称' }] };
    const problems = checkTemplate(
      template('清单：{{goods}}\n{{#table amount}}\n{{#table goods}}\n见 {{#table goods}} 下表\n{{#table missing}}', [
        goods,
        amountVariable,
      ]),
    );
    expect(problems.map((p) => [p.code, p.line, p.column])).toEqual([
      ['bad_directive', 4, 3],
      ['table_inline', 1, 4],
      ['not_a_table', 2, 10],
      ['unknown_variable', 5, 10],
    ]);
    expect(problems[0]!.message).toBe('{{#table goods}} must stand alone on its line');
  });

  it('checks table columns', () => {
    const problems = checkTemplate(
      template('{{#table a}}\n{{#table b}}\n{{#table c}}', [
        { name: 'a', label: '甲', type: 'table', columns: [] },
        {
          name: 'b',
          label: '乙',
          type: 'table',
          columns: [
            { name: 'x', label: '一' },
            { name: 'x', label: '二' },
            { name: 'y', label: '' },
            { name: 'z', label: '三', type: 'table' as 'text' },
          ],
        },
        {
          name: 'c',
          label: '丙',
          type: 'table',
          columns: Array.from({ length: 13 }, (_, i) => ({ name: `c${i}`, label: `列${i}` })),
        },
      ]),
    );
    expect(problems.map((p) => [p.code, p.field])).toEqual([
      ['missing', 'variables[0].columns'],
      ['duplicate', 'variables[1].columns[1].name'],
      ['bad_label', 'variables[1].columns[2].label'],
      ['bad_type', 'variables[1].columns[3].type'],
      ['too_many', 'variables[2].columns'],
    ]);
  });

  it('reports braces that do not pair up, and markup it does not know', () => {
    const problems = checkTemplate(
      template('甲方：{{name\n乙方：name}}\n{{#if name}}\n{{}}\n{{ {{name}}\n{{#table a b}}', []),
    );
    expect(problems.map((p) => [p.code, p.line, p.column])).toEqual([
      ['unbalanced_braces', 1, 4],
      ['unbalanced_braces', 2, 8],
      ['bad_directive', 3, 1],
      ['bad_name', 4, 1],
      ['unbalanced_braces', 5, 1],
      ['bad_directive', 6, 1],
      ['unknown_variable', 5, 4],
    ]);
    expect(problems[5]!.message).toBe('{{#table a b}} must name one table variable: {{#table name}}');
  });

  it('refuses a body over 200 KB without reading it further', () => {
    const body = '{{'.repeat(TEMPLATE_LIMITS.bodyBytes / 2 + 1);
    expect(checkTemplate(template(body))).toEqual([
      {
        code: 'too_long',
        field: 'body',
        message: `is ${TEMPLATE_LIMITS.bodyBytes + 2} bytes; at most 204800 (200 KB)`,
      },
    ]);
    // 200 KB of Chinese is 68,266 characters: the limit is bytes, not characters.
    expect(codes(checkTemplate(template('甲'.repeat(68_267))))).toEqual(['too_long']);
    expect(checkTemplate(template('甲'.repeat(68_266)))).toEqual([]);
  });

  it('refuses more than 200 variables', () => {
    const variables = Array.from({ length: 201 }, (_, i) => ({
      name: `v${i}`,
      label: `变量${i}`,
      type: 'text' as const,
    }));
    const body = variables.map((v) => `{{${v.name}}}`).join('\n');
    expect(checkTemplate(template(body, variables))).toEqual([
      { code: 'too_many', field: 'variables', message: 'declares 201 variables; at most 200' },
    ]);
    expect(checkTemplate(template(body, variables.slice(0, 200))).map((p) => p.code)).toEqual(
      Array(1).fill('unknown_variable'),
    );
  });

  it('refuses invisible characters and characters the font cannot draw, saying where', () => {
    const problems = checkTemplate(template('第一行\n甲方\u202e：公司\n乙方：𠀀𠀁', []));
    expect(problems).toEqual([
      {
        code: 'bad_character',
        field: 'body',
        line: 2,
        column: 3,
        message: 'contains the invisible or control character U+202E',
      },
      {
        code: 'bad_character',
        field: 'body',
        line: 3,
        column: 4,
        message: 'contains 𠀀 𠀁, which the document font cannot draw',
      },
    ]);
    expect(codes(checkTemplate({ ...template('正文'), title: '劳动\u200b合同' }))).toEqual(['bad_character']);
  });

  it('refuses an empty body or title, and a template that is not one', () => {
    expect(codes(checkTemplate({ title: ' ', variables: [], body: ' \n ' }))).toEqual(['missing', 'missing']);
    expect(codes(checkTemplate(null as unknown as TemplateSource))).toEqual(['bad_type']);
    expect(codes(checkTemplate({ title: 'x', variables: 'x', body: 5 } as unknown as TemplateSource))).toEqual([
      'bad_type',
      'missing',
    ]);
  });

  it('lists at most 100 problems and counts the rest', () => {
    const problems = checkTemplate(template('{{\n'.repeat(150)));
    expect(problems).toHaveLength(101);
    expect(problems[100]).toEqual({
      code: 'too_many',
      field: 'body',
      message: '50 more problems are not listed; fix these first',
    });
  });
});

describe('checkValues', () => {
  const labour = seed('labour-contract');
  const purchase = seed('purchase-contract');
  const without = (values: TemplateValues, key: string) =>
    Object.fromEntries(Object.entries(values).filter(([k]) => k !== key));
  const one = (source: TemplateSource, values: TemplateValues) => {
    const problems = checkValues(source, values);
    expect(problems, JSON.stringify(problems)).toHaveLength(1);
    return problems[0]!;
  };

  it('accepts the examples of the seed templates', () => {
    for (const s of seedTemplates) expect(checkValues(s.source, s.example), s.key).toEqual([]);
  });

  it('asks for required values, and lets optional ones be left out or empty', () => {
    expect(one(labour.source, without(labour.example, 'employee'))).toEqual({
      code: 'missing',
      field: 'values.employee',
      message: '乙方（劳动者）姓名 is required',
    });
    expect(one(labour.source, { ...labour.example, employee: '   ' }).code).toBe('missing');
    expect(checkValues(labour.source, without(labour.example, 'signDate'))).toEqual([]);
    expect(checkValues(labour.source, { ...labour.example, employeeAddress: '', signDate: null })).toEqual([]);
  });

  it('refuses dates that do not exist or are not YYYY-MM-DD', () => {
    expect(one(labour.source, { ...labour.example, endDate: '2026-02-30' })).toEqual({
      code: 'bad_format',
      field: 'values.endDate',
      message: 'is not a date: 2026-02 has 28 days',
    });
    expect(checkValues(labour.source, { ...labour.example, endDate: '2028-02-29' })).toEqual([]);
    for (const bad of [
      '2027-02-29',
      '2026-13-01',
      '2026-00-10',
      '2026-2-3',
      '26-02-03',
      '1899-12-31',
      '2026-02-03T00:00',
    ])
      expect(one(labour.source, { ...labour.example, endDate: bad }).code, bad).toBe('bad_format');
    expect(one(labour.source, { ...labour.example, endDate: 20260203 }).code).toBe('bad_type');
  });

  it('refuses amounts with three decimals, negative, with separators, too large, or given as a number', () => {
    const salary = (value: unknown) => one(labour.source, { ...labour.example, salary: value });
    expect(salary('128000.505')).toEqual({
      code: 'bad_format',
      field: 'values.salary',
      message: 'has more than 2 decimal places (分 is the smallest unit)',
    });
    expect(salary('-5.00')).toEqual({ code: 'bad_format', field: 'values.salary', message: 'must not be negative' });
    expect(salary('1,000.00').code).toBe('bad_format');
    expect(salary('1000000000000').message).toBe('is too large: at most 999999999999.99 (below 1 万亿)');
    expect(salary(128000.5).code).toBe('bad_type');
    expect(salary('¥100').code).toBe('bad_format');
  });

  it('refuses a text of 10,000 characters, naming the limit', () => {
    expect(one(labour.source, { ...labour.example, position: '经'.repeat(10_000) })).toEqual({
      code: 'too_long',
      field: 'values.position',
      message: 'is 10000 characters long; at most 2000',
    });
    expect(checkValues(labour.source, { ...labour.example, position: '经'.repeat(2000) })).toEqual([]);
    expect(one(labour.source, { ...labour.example, position: 42 }).code).toBe('bad_type');
  });

  it('refuses numbers in exponent notation or not finite', () => {
    for (const bad of [1e21, Number.NaN, Infinity, '1e3', '三', '1.1234567'])
      expect(one(labour.source, { ...labour.example, probationMonths: bad }).code, String(bad)).toBe('bad_format');
    expect(checkValues(labour.source, { ...labour.example, probationMonths: '6' })).toEqual([]);
  });

  it('refuses keys the template does not declare, and table cells of columns it does not have', () => {
    expect(one(labour.source, { ...labour.example, salaryy: '1.00' })).toEqual({
      code: 'unknown_key',
      field: 'values.salaryy',
      message: 'the template declares no variable "salaryy" (did you mean salary?)',
    });
    const goods = [{ name: '螺丝', spec: 'M3', quantity: 1, unitPrice: '1.00', amount: '1.00', colour: '银' }];
    expect(one(purchase.source, { ...purchase.example, goods })).toEqual({
      code: 'unknown_key',
      field: 'values.goods[0].colour',
      message: 'the table has no column "colour"',
    });
  });

  it('checks each cell by its column type, and the rows of a table', () => {
    const row = { name: '螺丝', spec: 'M3', quantity: 1, unitPrice: '1.00', amount: '1.00' };
    expect(one(purchase.source, { ...purchase.example, goods: [row, { ...row, unitPrice: '1.001' }] }).field).toBe(
      'values.goods[1].unitPrice',
    );
    expect(one(purchase.source, { ...purchase.example, goods: [row, 'row'] })).toMatchObject({
      code: 'bad_type',
      field: 'values.goods[1]',
    });
    expect(one(purchase.source, { ...purchase.example, goods: [] }).code).toBe('missing');
    expect(one(purchase.source, { ...purchase.example, goods: { 0: row } }).code).toBe('bad_type');
    expect(one(purchase.source, { ...purchase.example, goods: Array(501).fill(row) })).toEqual({
      code: 'too_many',
      field: 'values.goods',
      message: 'has 501 rows; at most 500',
    });
    expect(one(purchase.source, { ...purchase.example, goods: [{ ...row, spec: '规'.repeat(501) }] }).code).toBe(
      'too_long',
    );
  });

  it('reads only the values object’s own keys: a variable named constructor is missing, not a function', () => {
    const source = template('{{constructor}}{{toString}}', [
      { name: 'constructor', label: '构造', type: 'text' },
      { name: 'toString', label: '字符串', type: 'text' },
    ]);
    expect(codes(checkValues(source, {}))).toEqual(['missing', 'missing']);
    const parsed = JSON.parse('{"__proto__": "x", "constructor": "甲", "toString": "乙"}') as TemplateValues;
    expect(checkValues(source, parsed)).toEqual([
      { code: 'unknown_key', field: 'values.__proto__', message: 'the template declares no variable "__proto__"' },
    ]);
  });

  it('refuses a value holding a seal placeholder, which would draw the seal onto it by keyword search', () => {
    for (const bad of ['甲方（盖章）', '华夏公司 ( 签字 )', '（法定代表人签章）', '（签字或盖章）'])
      expect(one(labour.source, { ...labour.example, employee: bad }).code, bad).toBe('seal_keyword');
    expect(checkValues(labour.source, { ...labour.example, employee: '张三（已盖章确认）之子' })).toHaveLength(1);
    expect(checkValues(labour.source, { ...labour.example, position: '盖章管理专员' })).toEqual([]);
  });

  it('refuses invisible characters and characters the font cannot draw in values', () => {
    expect(one(labour.source, { ...labour.example, employee: '张\u202e三' })).toEqual({
      code: 'bad_character',
      field: 'values.employee',
      message: 'contains the invisible or control character U+202E',
    });
    expect(one(labour.source, { ...labour.example, employee: '张\n三' }).code).toBe('bad_character');
    expect(one(labour.source, { ...labour.example, employee: '张😀' }).message).toBe(
      'contains 😀, which the document font cannot draw',
    );
  });

  it('refuses values that would multiply into a document over the limit', () => {
    const source = template(Array(300).fill('{{x}}').join('\n'), [{ name: 'x', label: 'x', type: 'text' }]);
    expect(one(source, { x: '长'.repeat(2000) })).toEqual({
      code: 'too_long',
      field: 'values',
      message: 'the filled-in document would have 600000 characters; at most 250000',
    });
    expect(checkValues(source, { x: '长'.repeat(800) })).toEqual([]);
    const goods = seed('purchase-contract');
    const row = { name: '长'.repeat(500), spec: '长'.repeat(500) };
    expect(one(goods.source, { ...goods.example, goods: Array(500).fill(row) })).toMatchObject({
      code: 'too_long',
      field: 'values',
    });
  });

  it('refuses values that are not an object', () => {
    expect(codes(checkValues(labour.source, [] as unknown as TemplateValues))).toEqual(['bad_type']);
  });
});

describe('renderTemplate', () => {
  const rendered = new Map<string, { file: string; pages: number; text: string }>();

  beforeAll(async () => {
    for (const s of seedTemplates) {
      const { pdf, pages } = await renderTemplate(s.source, s.example, { now: NOW });
      const file = save(pdf);
      rendered.set(s.key, { file, pages, text: pdfText(file) });
    }
  });

  it('renders each seed template as Chinese text with the values filled in and amounts in words', () => {
    const labour = squeezed(rendered.get('labour-contract')!.text);
    for (const expected of [
      '劳动合同',
      '甲方（用人单位）：华夏贸易有限公司',
      '居民身份证号码：110101199003071234',
      '自2026年1月1日起至2028年12月31日止。其中试用期为3个月',
      '担任销售经理岗位工作',
      '乙方月工资为¥18,000.00（人民币壹万捌仟元整）',
      '试用期月工资为¥15,000.00（人民币壹万伍仟元整）',
      '每月10日前',
      '第九条劳动争议处理',
      '乙方（签字）：张三丰',
    ])
      expect(labour).toContain(expected);
    const purchase = squeezed(rendered.get('purchase-contract')!.text);
    for (const expected of [
      '合同编号：HX-CG-2026-0017',
      '本合同总价为¥128,006.00（人民币壹拾贰万捌仟零陆元整）',
      '乙方应于2026年3月15日前将货物运抵',
      '质量保证期为24个月',
      '激光测距仪',
      '3,000.50',
      '36,006.00',
    ])
      expect(purchase).toContain(expected);
    const nda = squeezed(rendered.get('nda')!.text);
    for (const expected of ['保密协议', '远望信息技术有限公司', '持续3年', '违约金¥500,000.00（人民币伍拾万元整）'])
      expect(nda).toContain(expected);
  });

  it('writes files qpdf accepts, with the font embedded as a subset, the page count pdfinfo counts, and dates from now', () => {
    for (const [key, { file, pages }] of rendered) {
      expectSound(file);
      const fonts = run('pdffonts', [file])
        .out.split('\n')
        .slice(2)
        .filter((l) => l.trim());
      expect(fonts.length, key).toBeGreaterThan(0);
      for (const line of fonts) {
        expect(line).toMatch(/^[A-Z]{6}\+NotoSansHans-(Regular|Bold)\s+CID Type 0C\s+Identity-H\s+yes yes yes/);
      }
      const info = pdfInfo(file);
      expect(Number(info.Pages), key).toBe(pages);
      expect(info['Page size']).toContain('(A4)');
      expect(info.CreationDate).toBe('2026-01-05T08:00:00Z');
      expect(info.JavaScript).toBe('no');
      for (let page = 1; page <= pages; page++)
        expect(squeezed(pdfText(file, page))).toContain(`第${page}页共${pages}页`);
    }
  });

  it('keeps the signature keywords whole on one line, where the seal placement finds them on the last page', () => {
    for (const [key, { file, pages, text }] of rendered) {
      const doc = PdfDocument.load(readFileSync(file));
      for (const keyword of ['甲方（盖章）：', '日期：']) {
        const match = findKeyword(doc, keyword, pages);
        expect(match, `${key}: ${keyword}`).not.toBeNull();
      }
      expect(text.split('\n').some((l) => l.trim().startsWith('甲方（盖章）：'))).toBe(true);
    }
    expect(
      findKeyword(PdfDocument.load(readFileSync(rendered.get('labour-contract')!.file)), '乙方（签字）：'),
    ).not.toBeNull();
  });

  it('gives the same bytes for the same input and now, and other bytes for another now', async () => {
    const s = seed('purchase-contract');
    const one = await renderTemplate(s.source, s.example, { now: NOW });
    const two = await renderTemplate(s.source, s.example, { now: NOW });
    expect(one.pdf.equals(two.pdf)).toBe(true);
    expect(one.pdf.equals(readFileSync(rendered.get('purchase-contract')!.file))).toBe(true);
    const later = await renderTemplate(s.source, s.example, { now: new Date('2026-01-06T08:00:00Z') });
    expect(later.pdf.equals(one.pdf)).toBe(false);
  });

  it('wraps a long paragraph and flows it onto the next pages', async () => {
    const { pdf, pages } = await renderTemplate(
      template(`# 长段落\n开头标记${hanText(3000)}结尾标记`),
      {},
      { now: NOW },
    );
    const file = save(pdf);
    expectSound(file);
    expect(pages).toBe(3);
    expect(squeezed(pdfText(file, 1))).toContain(`开头标记${hanText(40)}`);
    expect(squeezed(pdfText(file, 1))).not.toContain('结尾标记');
    expect(squeezed(pdfText(file, 3))).toContain('结尾标记');
    expect(squeezed(pdfText(file)).replace(/第\d页共3页/g, '')).toBe(`长段落开头标记${hanText(3000)}结尾标记`);
  });

  it('never begins a line with a closing mark: the character before it moves down with it', async () => {
    // The first line holds 34 characters (36 less the indent of two): each mark below falls 35th.
    const marks = ['，', '。', '、', '；', '）', '」', '》', '”'];
    const paragraphs = marks.map((mark, i) => `${hanText(34, i)}${mark}${hanText(20, i + 7)}`);
    const { pdf } = await renderTemplate(template(paragraphs.join('\n')), {}, { now: NOW });
    const file = save(pdf);
    const lines = pdfText(file)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('第'));
    expect(lines).toHaveLength(2 * marks.length);
    for (const line of lines) expect('，。、；）」》”').not.toContain(line[0]);
    marks.forEach((mark, i) => {
      // Pushed out, not squeezed in: 33 characters stay, the 34th opens the next line with its mark.
      expect(lines[2 * i]).toBe(hanText(33, i));
      expect(lines[2 * i + 1]!.slice(0, 2)).toBe(`${hanText(34, i).at(-1)}${mark}`);
    });
  });

  it('spans a table of 120 rows over pages, repeating its header row on each, each row whole on one page', async () => {
    const s = seed('purchase-contract');
    const goods = Array.from({ length: 120 }, (_, i) => ({
      name: `货物${String(i + 1).padStart(3, '0')}`,
      spec: `型号X-${i + 1}`,
      quantity: i + 1,
      unitPrice: '10.00',
      amount: `${(i + 1) * 10}.00`,
    }));
    const { pdf, pages } = await renderTemplate(s.source, { ...s.example, goods }, { now: NOW });
    const file = save(pdf);
    expectSound(file);
    const seen: string[] = [];
    let tablePages = 0;
    for (let page = 1; page <= pages; page++) {
      const lines = pdfText(file, page).split('\n');
      const rows = lines.filter((l) => /货物\d{3}/.test(l));
      if (rows.length === 0) continue;
      tablePages++;
      const header = lines.find((l) => l.includes('单价（元）'));
      expect(header, `page ${page}`).toBeDefined();
      for (const label of ['名称', '规格', '数量', '单价（元）', '金额（元）']) expect(header).toContain(label);
      for (const row of rows) {
        const n = Number(/货物(\d{3})/.exec(row)![1]);
        seen.push(`货物${String(n).padStart(3, '0')}`);
        // The whole row on one line of one page: name, type, quantity and amount together.
        expect(squeezed(row)).toContain(
          `货物${String(n).padStart(3, '0')}型号X-${n}${n}10.00${(n * 10).toLocaleString('en-US')}.00`,
        );
      }
    }
    expect(tablePages).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual(goods.map((g) => g.name));
  });

  it('cuts a row taller than a page across pages by lines, losing nothing', async () => {
    const columns = Array.from({ length: 12 }, (_, i) => ({ name: `c${i}`, label: `第${i + 1}列` }));
    const fill = '壹贰叁肆伍陆柒捌玖拾佰仟';
    const source = template('# 宽表\n{{#table t}}\n表后文字', [{ name: 't', label: '表', type: 'table', columns }]);
    const row = Object.fromEntries(columns.map((c, i) => [c.name, fill[i]!.repeat(500)]));
    const { pdf, pages } = await renderTemplate(source, { t: [row, { c0: '末行' }] }, { now: NOW });
    const file = save(pdf);
    expectSound(file);
    expect(pages).toBeGreaterThanOrEqual(3);
    const text = pdfText(file);
    for (const c of fill) expect(text.split(c).length - 1, c).toBe(500);
    // The header row opens every page the table covers.
    for (let page = 1; page <= pages; page++) expect(pdfText(file, page)).toContain('第1列');
    expect(squeezed(pdfText(file, pages))).toContain('末行');
    expect(squeezed(pdfText(file, pages))).toContain('表后文字');
  });

  it('keeps a section heading with the text after it rather than alone at the foot of a page', async () => {
    // 31 lines of 21 points leave 46 points: room for the heading, not for it and two lines after it.
    const body = [...Array.from({ length: 31 }, (_, i) => `第${i + 1}行`), '## 第二条 标题', hanText(100)].join('\n');
    const { pdf, pages } = await renderTemplate(template(body), {}, { now: NOW });
    const file = save(pdf);
    expect(pages).toBe(2);
    expect(squeezed(pdfText(file, 1))).toContain('第31行');
    expect(squeezed(pdfText(file, 1))).not.toContain('第二条');
    expect(squeezed(pdfText(file, 2))).toMatch(/^第二条标题/);
  });

  it('moves a signature block whole to the next page rather than leaving 甲方（盖章） alone at the foot', async () => {
    // A paragraph of 31 lines, a gap: room is left for one line, not for the block's three.
    const body = [hanText(34 + 30 * 36), '', '甲方（盖章）：华夏贸易有限公司', '法定代表人（签字）：', '日期：'].join(
      '\n',
    );
    const { pdf, pages } = await renderTemplate(template(body), {}, { now: NOW });
    const file = save(pdf);
    expect(pages).toBe(2);
    expect(squeezed(pdfText(file, 1))).not.toContain('甲方（盖章）');
    expect(squeezed(pdfText(file, 2))).toMatch(/^甲方（盖章）：华夏贸易有限公司法定代表人（签字）：日期：/);
    expect(findKeyword(PdfDocument.load(pdf), '甲方（盖章）：')?.page).toBe(2);
  });

  it('carries at least two lines of a paragraph to the next page, never one', async () => {
    // 24 lines leave room for 9 of a 10-line paragraph: 8 stay, 2 go.
    const filler = Array.from({ length: 24 }, (_, i) => `第${i + 1}行`);
    const { pdf } = await renderTemplate(template([...filler, hanText(34 + 9 * 36)].join('\n')), {}, { now: NOW });
    const file = save(pdf);
    const bodyLines = (page: number) =>
      pdfText(file, page)
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !/^第\d+页共/.test(l) && !/^第\d+行$/.test(l));
    expect(bodyLines(1)).toHaveLength(8);
    expect(bodyLines(2)).toHaveLength(2);
  });

  it('refuses, before drawing anything, a document that would run over 200 pages', async () => {
    // Twelve narrow columns set two or three characters a line: few characters, many pages.
    const columns = Array.from({ length: 12 }, (_, i) => ({ name: `c${i}`, label: `列${i + 1}` }));
    const source = template('{{#table t}}', [{ name: 't', label: '表', type: 'table', columns }]);
    const row = Object.fromEntries(columns.map((c) => [c.name, hanText(40)]));
    const values = { t: Array(500).fill(row) };
    expect(checkValues(source, values)).toEqual([]);
    const refused = await renderTemplate(source, values).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TemplateError);
    expect((refused as TemplateError).problems).toEqual([
      { code: 'too_long', field: 'values', message: 'the filled-in document would run to more than 200 pages' },
    ]);
    const { pages } = await renderTemplate(source, { t: values.t.slice(0, 20) }, { now: NOW });
    expect(pages).toBeLessThan(200);
  });

  it('prints HTML, script and markup in values literally, and never expands {{…}} inside a value', async () => {
    const source = template('# 附加条款\n备注：{{note}}\n其他：{{other}}\n- {{other}}', [
      { name: 'note', label: '备注', type: 'text' },
      { name: 'other', label: '其他', type: 'text' },
    ]);
    const note = '<script>alert("x")</script> {{other}} ) Tj ET /JS (app.alert(1)) \\ # 假标题 ---';
    const { pdf } = await renderTemplate(source, { note, other: '真实内容' }, { now: NOW });
    const file = save(pdf);
    expectSound(file);
    expect(pdfInfo(file).JavaScript).toBe('no');
    const text = pdfText(file);
    expect(squeezed(text)).toContain(`备注：${squeezed(note)}其他：真实内容•真实内容`);
    expect(text.split('真实内容').length - 1).toBe(2);
  });

  it('prints a blank to fill in for an optional value left out', async () => {
    const s = seed('labour-contract');
    const { pdf } = await renderTemplate(s.source, { ...s.example, signDate: undefined }, { now: NOW });
    const text = pdfText(save(pdf));
    expect(text).toMatch(/日期：＿{6}/);
  });

  it('throws a TemplateError with every problem for a bad template or bad values, drawing nothing', async () => {
    const bad = template('{{amout}}', [{ name: 'amount', label: '金额', type: 'amount' }]);
    const refused = await renderTemplate(bad, {}).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TemplateError);
    expect((refused as TemplateError).kind).toBe('template');
    expect(codes((refused as TemplateError).problems)).toEqual(['unknown_variable', 'unused_variable']);
    const s = seed('labour-contract');
    const values = await renderTemplate(s.source, { ...s.example, salary: '-1', endDate: '2026-02-30' }).catch(
      (e: unknown) => e,
    );
    expect(values).toBeInstanceOf(TemplateError);
    expect((values as TemplateError).kind).toBe('values');
    expect((values as TemplateError).problems.map((p) => p.field)).toEqual(['values.endDate', 'values.salary']);
    expect((values as TemplateError).message).toContain('values.endDate is not a date');
  });
});
