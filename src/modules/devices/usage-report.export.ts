// A usage report (用印报告) as CSV and XLSX. No database, no HTTP: the service hands the report in.
import ExcelJS from 'exceljs';
import type { UsageReport } from './usage.schema.js';

const periodName = { week: '周报', month: '月报' } as const;

/** A cell a spreadsheet must not take for a formula: a leading = + - @ gets a quote (CSV injection). */
const csvCell = (value: string | number) => {
  const text = String(value);
  return /[",\r\n]/.test(text) || /^[=+\-@]/.test(text)
    ? `"${text.replace(/^([=+\-@])/, "'$1").replace(/"/g, '""')}"`
    : text;
};

/** Every line of the report: a section, a key, a name, and the counts side by side. */
function lines(report: UsageReport): Array<[string, string, string, number, number, number]> {
  return [
    [
      'total',
      `${report.from}..${report.to}`,
      report.companyName ?? '',
      report.totals.electronic,
      report.totals.physical,
      report.totals.total,
    ],
    ...report.bySeal.map((s) => ['seal', s.sealId, s.sealName, s.electronic, s.physical, s.total] as const),
    ...report.byCompany.map((c) => ['company', c.companyId, c.companyName, c.electronic, c.physical, c.total] as const),
    ...report.byPerson.map((p) => ['person', p.userId, p.userName, p.electronic, p.physical, p.total] as const),
    ...report.byDay.map((d) => ['day', d.date, d.date, d.electronic, d.physical, d.total] as const),
  ].map((l) => [...l] as [string, string, string, number, number, number]);
}

/** RFC 4180 CSV with a UTF-8 byte-order mark, so spreadsheet programs read the Chinese names. */
export function reportCsv(report: UsageReport): string {
  const rows = [['section', 'key', 'name', 'electronic', 'physical', 'total'], ...lines(report)].map((r) =>
    r.map(csvCell).join(','),
  );
  return `\ufeff${rows.join('\r\n')}\r\n`;
}

/** The workbook: a summary sheet, then one sheet per breakdown (seal, company, person, day). */
export async function reportXlsx(report: UsageReport): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.creator = 'Sigil';
  book.created = report.generatedAt;
  const counts = [
    { header: '电子签章 Electronic', key: 'electronic', width: 18 },
    { header: '实物用印 Physical', key: 'physical', width: 18 },
    { header: '合计 Total', key: 'total', width: 12 },
  ];
  const summary = book.addWorksheet('汇总 Summary');
  summary.columns = [
    { header: '项目 Item', key: 'item', width: 28 },
    { header: '内容 Value', key: 'value', width: 40 },
  ];
  summary.addRows([
    { item: '报告 Report', value: `用印${periodName[report.period]} (${report.period})` },
    { item: '期间 Period', value: `${report.from} – ${report.to} (${report.timeZone})` },
    { item: '公司 Company', value: report.companyName ?? '全部 All' },
    { item: '电子签章 Electronic', value: report.totals.electronic },
    { item: '实物用印 Physical', value: report.totals.physical },
    { item: '合计 Total', value: report.totals.total },
    { item: '生成时间 Generated', value: report.generatedAt.toISOString() },
  ]);
  const sheet = (name: string, first: Array<{ header: string; key: string; width: number }>, rows: object[]) => {
    const ws = book.addWorksheet(name);
    ws.columns = [...first, ...counts];
    ws.addRows(rows);
    ws.getRow(1).font = { bold: true };
    ws.views = [{ state: 'frozen', ySplit: 1 }];
  };
  summary.getRow(1).font = { bold: true };
  sheet(
    '按印章 By seal',
    [
      { header: '印章 Seal', key: 'sealName', width: 30 },
      { header: '公司 Company', key: 'companyName', width: 30 },
    ],
    report.bySeal,
  );
  sheet('按公司 By company', [{ header: '公司 Company', key: 'companyName', width: 30 }], report.byCompany);
  sheet('按人员 By person', [{ header: '人员 Person', key: 'userName', width: 24 }], report.byPerson);
  sheet('按日 By day', [{ header: '日期 Date', key: 'date', width: 14 }], report.byDay);
  return Buffer.from(await book.xlsx.writeBuffer());
}
