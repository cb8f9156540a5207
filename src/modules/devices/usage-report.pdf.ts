// A usage report (用印报告) as PDF: the totals, two bar charts drawn with PDFKit's vector shapes
// (uses per day and per seal, electronic and physical side by side) and the breakdown tables.
// Noto Sans SC from `@embedpdf/fonts-sc` is embedded as a subset with a ToUnicode map, as the seal
// file card does (src/modules/seal-cards/seal-card.pdf.ts), so the Chinese names are real text.
import PDFDocument from 'pdfkit';
import { loadDocumentFonts } from '../../seal-image/font.js';
import type { UsageReport } from './usage.schema.js';

const COLOURS = { electronic: '#2f6fdb', physical: '#d9822b', axis: '#888888', grid: '#dddddd', text: '#000000' };
const periodName = { week: '周报', month: '月报' } as const;
/** The seal chart shows the seals used most; the table below lists them all (up to TABLE_ROWS). */
const CHART_SEALS = 12;
const TABLE_ROWS = 200;
const FONT_SIZE = 8;

interface Bar {
  label: string;
  electronic: number;
  physical: number;
}

/** A round step for the value axis: 1, 2 or 5 times a power of ten, about four gridlines. */
function niceStep(max: number): number {
  if (max <= 4) return 1;
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

function legend(doc: PDFKit.PDFDocument, x: number, y: number) {
  doc.rect(x, y, 8, 8).fill(COLOURS.electronic);
  doc
    .fillColor(COLOURS.text)
    .font('regular')
    .fontSize(FONT_SIZE)
    .text('电子签章 Electronic', x + 12, y, { lineBreak: false });
  doc.rect(x + 110, y, 8, 8).fill(COLOURS.physical);
  doc.fillColor(COLOURS.text).text('实物用印 Physical', x + 122, y, { lineBreak: false });
}

/** Vertical grouped bars (one pair per label) in the box at (x, y) of width × height. */
function columnChart(
  doc: PDFKit.PDFDocument,
  box: { x: number; y: number; width: number; height: number },
  bars: Bar[],
) {
  const axisLeft = box.x + 28;
  const plotWidth = box.width - 30;
  const plotTop = box.y + 14;
  const plotHeight = box.height - 40;
  const base = plotTop + plotHeight;
  const max = Math.max(1, ...bars.map((b) => Math.max(b.electronic, b.physical)));
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  legend(doc, axisLeft, box.y);
  doc.font('regular').fontSize(6.5);
  for (let v = 0; v <= top; v += step) {
    const y = base - (v / top) * plotHeight;
    doc
      .moveTo(axisLeft, y)
      .lineTo(axisLeft + plotWidth, y)
      .lineWidth(0.4)
      .stroke(v === 0 ? COLOURS.axis : COLOURS.grid);
    doc.fillColor(COLOURS.text).text(String(v), box.x, y - 3, { width: 24, align: 'right', lineBreak: false });
  }
  const slot = plotWidth / Math.max(1, bars.length);
  const barWidth = Math.max(1, Math.min(14, (slot - 4) / 2));
  // Labels are thinned out when there are many (a month's days): every n-th is written.
  const every = Math.max(1, Math.ceil(bars.length / 16));
  bars.forEach((b, i) => {
    const x = axisLeft + i * slot + (slot - 2 * barWidth) / 2;
    const he = (b.electronic / top) * plotHeight;
    const hp = (b.physical / top) * plotHeight;
    if (he > 0) doc.rect(x, base - he, barWidth, he).fill(COLOURS.electronic);
    if (hp > 0) doc.rect(x + barWidth, base - hp, barWidth, hp).fill(COLOURS.physical);
    if (i % every === 0)
      doc
        .fillColor(COLOURS.text)
        .fontSize(6)
        .text(b.label, axisLeft + i * slot - 10, base + 3, {
          width: slot * every + 20 > 60 ? 60 : slot + 20,
          align: 'center',
          lineBreak: false,
        });
  });
  doc.fillColor(COLOURS.text);
}

/** Horizontal grouped bars, one pair per label, for names too long to stand under a column. */
function barChart(doc: PDFKit.PDFDocument, box: { x: number; y: number; width: number }, bars: Bar[]): number {
  const labelWidth = 130;
  const plotLeft = box.x + labelWidth + 6;
  const plotWidth = box.width - labelWidth - 40;
  const rowHeight = 16;
  const max = Math.max(1, ...bars.map((b) => Math.max(b.electronic, b.physical)));
  legend(doc, plotLeft, box.y);
  let y = box.y + 16;
  doc.font('regular').fontSize(FONT_SIZE);
  for (const b of bars) {
    doc
      .fillColor(COLOURS.text)
      .text(b.label, box.x, y + 3, { width: labelWidth, align: 'right', lineBreak: false, ellipsis: true });
    const we = (b.electronic / max) * plotWidth;
    const wp = (b.physical / max) * plotWidth;
    if (we > 0) doc.rect(plotLeft, y, we, 6).fill(COLOURS.electronic);
    if (wp > 0) doc.rect(plotLeft, y + 7, wp, 6).fill(COLOURS.physical);
    doc
      .fillColor(COLOURS.text)
      .fontSize(6.5)
      .text(`${b.electronic} / ${b.physical}`, plotLeft + Math.max(we, wp) + 4, y + 3, { lineBreak: false })
      .fontSize(FONT_SIZE);
    y += rowHeight;
  }
  doc
    .moveTo(plotLeft, box.y + 14)
    .lineTo(plotLeft, y)
    .lineWidth(0.4)
    .stroke(COLOURS.axis);
  doc.fillColor(COLOURS.text);
  return y;
}

/** A plain table: a bold header, then rows; a new page (with the header again) when the page is full. */
function table(doc: PDFKit.PDFDocument, headers: string[], weights: number[], rows: string[][]) {
  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;
  const sum = weights.reduce((a, b) => a + b, 0);
  const widths = weights.map((w) => (w / sum) * width);
  const rowHeight = 13;
  const bottom = () => doc.page.height - doc.page.margins.bottom;
  const drawRow = (cells: string[], bold: boolean) => {
    if (doc.y + rowHeight > bottom()) doc.addPage();
    const y = doc.y;
    let x = left;
    doc
      .font(bold ? 'bold' : 'regular')
      .fontSize(FONT_SIZE)
      .fillColor(COLOURS.text);
    cells.forEach((cell, i) => {
      doc.text(cell, x + 2, y + 2, {
        width: widths[i]! - 4,
        lineBreak: false,
        ellipsis: true,
        align: i === 0 ? 'left' : i >= cells.length - 3 ? 'right' : 'left',
      });
      x += widths[i]!;
    });
    doc
      .moveTo(left, y + rowHeight)
      .lineTo(left + width, y + rowHeight)
      .lineWidth(0.3)
      .stroke(COLOURS.grid);
    doc.x = left;
    doc.y = y + rowHeight;
  };
  drawRow(headers, true);
  for (const r of rows.slice(0, TABLE_ROWS)) drawRow(r, false);
  if (rows.length > TABLE_ROWS)
    drawRow([`…（共 ${rows.length} 行，其余见 XLSX / CSV）`, '', '', '', ''].slice(0, headers.length), false);
  doc.moveDown(0.8);
}

function heading(doc: PDFKit.PDFDocument, text: string, need = 60) {
  if (doc.y + need > doc.page.height - doc.page.margins.bottom) doc.addPage();
  doc.x = doc.page.margins.left;
  doc.font('bold').fontSize(12).fillColor(COLOURS.text).text(text).moveDown(0.3);
}

/** Draws the report; the Chinese names and the totals are text a reader can search and copy. */
export async function renderUsageReportPdf(report: UsageReport): Promise<Buffer> {
  const { regular, bold } = await loadDocumentFonts();
  const title = `用印${periodName[report.period]} ${report.from} – ${report.to}`;
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: 48, bottom: 48, left: 40, right: 40 },
    lang: 'zh-CN',
    displayTitle: true,
    info: { Title: title, Creator: 'Sigil', CreationDate: report.generatedAt },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  doc.registerFont('regular', regular);
  doc.registerFont('bold', bold);
  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;

  doc.font('bold').fontSize(18).text(title);
  doc
    .font('regular')
    .fontSize(9)
    .fillColor('#555555')
    .text(`Seal usage report (${report.period}), ${report.timeZone}. 公司 Company: ${report.companyName ?? '全部 All'}`)
    .text(`生成于 Generated ${report.generatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`)
    .fillColor(COLOURS.text)
    .moveDown(0.6);

  heading(doc, '合计 Totals');
  table(
    doc,
    ['', '电子签章 Electronic', '实物用印 Physical', '合计 Total'],
    [3, 2, 2, 2],
    [['用印次数 Uses', String(report.totals.electronic), String(report.totals.physical), String(report.totals.total)]],
  );

  heading(doc, '按日 By day', 200);
  const chartTop = doc.y;
  columnChart(
    doc,
    { x: left, y: chartTop, width, height: 170 },
    report.byDay.map((d) => ({ label: d.date.slice(5), electronic: d.electronic, physical: d.physical })),
  );
  doc.x = left;
  doc.y = chartTop + 180;

  const topSeals = report.bySeal.slice(0, CHART_SEALS);
  if (topSeals.length > 0) {
    heading(
      doc,
      `按印章 By seal${report.bySeal.length > CHART_SEALS ? `（用印最多的 ${CHART_SEALS} 枚）` : ''}`,
      40 + 16 * topSeals.length,
    );
    const end = barChart(
      doc,
      { x: left, y: doc.y, width },
      topSeals.map((s) => ({ label: s.sealName, electronic: s.electronic, physical: s.physical })),
    );
    doc.x = left;
    doc.y = end + 10;
  }

  const countCells = (c: { electronic: number; physical: number; total: number }) => [
    String(c.electronic),
    String(c.physical),
    String(c.total),
  ];
  const countHeaders = ['电子 Electronic', '实物 Physical', '合计 Total'];
  heading(doc, '印章明细 Seals');
  table(
    doc,
    ['印章 Seal', '公司 Company', ...countHeaders],
    [4, 4, 2, 2, 2],
    report.bySeal.map((s) => [s.sealName, s.companyName, ...countCells(s)]),
  );
  heading(doc, '公司明细 Companies');
  table(
    doc,
    ['公司 Company', ...countHeaders],
    [6, 2, 2, 2],
    report.byCompany.map((c) => [c.companyName, ...countCells(c)]),
  );
  heading(doc, '人员明细 People');
  table(
    doc,
    ['人员 Person', ...countHeaders],
    [6, 2, 2, 2],
    report.byPerson.map((p) => [p.userName, ...countCells(p)]),
  );
  if (report.totals.total === 0) doc.font('regular').fontSize(9).text('本期无用印记录。No use in this period.');

  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
