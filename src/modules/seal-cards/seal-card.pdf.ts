// The seal file card (档案卡) as a PDF: no database, no HTTP — the service hands it everything.
// PDFKit lays out and paginates the text and embeds the Noto Sans SC font that ships with
// `@embedpdf/fonts-sc` as a subset (only the glyphs used), with a ToUnicode map, so the Chinese
// text is real text: it can be selected, searched and extracted. (pdf-lib with @pdf-lib/fontkit
// was tried first: its subset of this CFF-based OpenType font is one that poppler rejects.)
import PDFDocument from 'pdfkit';
import type { Locale } from '../notifications/index.js';
import { loadDocumentFonts } from '../../seal-image/font.js';
import type { SealRecord } from '../seals/index.js';
import type { GrantRecord } from '../grants/index.js';
import type { SealApplicationRecord } from './seal-card.repository.js';

export type CardLanguage = Locale;

export interface CardEvent {
  seq: number;
  occurredAt: Date;
  action: string;
  actorName: string | null;
  changes: Record<string, unknown>;
}

/** A list as shown: the newest `items`, and how many there are in all (more than shown: the card says so). */
export interface Shown<T> {
  items: T[];
  total: number;
}

export interface SealCardDocument {
  seal: SealRecord;
  /** The impression as PNG; `missing` says why it could not be shown. */
  image: { png: Buffer } | { missing: string } | null;
  grants: Shown<GrantRecord>;
  events: Shown<CardEvent>;
  lifecycle: Shown<SealApplicationRecord>;
  uses: Shown<SealApplicationRecord>;
  generatedAt: Date;
  generatedBy: string;
}

type Labels = typeof zh;

const zh = {
  title: '印章档案卡',
  subtitle: 'Seal file card',
  generated: (at: string, by: string) => `生成于 ${at}，生成人：${by}`,
  page: (n: number, of: number) => `第 ${n} / ${of} 页`,
  attributes: '基本信息',
  image: '印模',
  noImage: '未登记印模',
  imageMissing: (why: string) => `印模无法读取：${why}`,
  fields: {
    name: '印章名称',
    code: '印章编号',
    company: '所属公司',
    kind: '印章形态',
    type: '印章类型',
    status: '状态',
    custodians: '保管人',
    needsCustodian: '待指定保管人',
    producedAt: '启用时间',
    statusChangedAt: '状态变更时间',
    createdAt: '登记时间',
    description: '说明',
    activeGrants: '有效授权数',
    imageSha256: '印模 SHA-256',
    certificate: '数字证书',
    id: '系统编号',
  },
  yes: '是',
  no: '否',
  none: '无',
  kinds: { electronic: '电子印章', physical: '实物印章', ukey: 'UKey 印章', mobile: '移动印章' } as Record<
    string,
    string
  >,
  types: {
    official: '公章',
    contract: '合同专用章',
    finance: '财务专用章',
    invoice: '发票专用章',
    hr: '人事章',
    legal_representative: '法定代表人章',
    custom: '自定义',
  } as Record<string, string>,
  statuses: { pending: '待启用', active: '启用', suspended: '停用', lost: '挂失', destroyed: '已销毁' } as Record<
    string,
    string
  >,
  certificate: (c: NonNullable<SealRecord['certificate']>) =>
    `${c.subject}；序列号 ${c.serialNumber}；${c.status === 'active' ? '有效' : `已吊销（${c.revocationReason ?? ''}）`}；有效期至 ${stamp(c.notAfter)}`,
  grants: '使用授权',
  grantColumns: ['被授权人', '业务类别', '有效期', '次数（已用/上限）', '状态', '授权时间'],
  granteeTypes: { user: '人员', department: '部门', role: '角色' } as Record<string, string>,
  grantStates: { active: '有效', revoked: '已撤销', expired: '已失效', future: '未生效', usedUp: '次数用尽' },
  unlimited: '不限',
  forever: '长期',
  categories: { personnel: '人事', procurement: '采购', sales: '销售', legal: '法务', finance: '财务' } as Record<
    string,
    string
  >,
  roles: {
    system_admin: '系统管理员',
    seal_admin: '印章管理员',
    security_auditor: '安全审计员',
    employee: '员工',
  } as Record<string, string>,
  lifecycle: '生命周期',
  lifecycleColumns: ['申请时间', '事项', '申请人', '事由', '状态', '完成时间'],
  lifecycleActions: {
    produce: '制作',
    change: '变更',
    transfer: '移交',
    suspend: '停用',
    resume: '恢复启用',
    report_loss: '挂失',
    destroy: '销毁',
  } as Record<string, string>,
  applicationStatuses: { pending: '审批中', approved: '已批准', rejected: '已驳回', withdrawn: '已撤回' } as Record<
    string,
    string
  >,
  uses: '用印记录',
  useColumns: ['申请时间', '申请人', '业务类别', '事由', '申请次数', '已用/批准', '状态'],
  history: '操作记录（审计日志）',
  historyColumns: ['序号', '时间', '操作', '操作人', '内容'],
  actions: {
    'seal.created': '登记印章',
    'seal.custodian_needed': '保管人离职，待指定保管人',
    'seal.lifecycle_applied': '生命周期事项生效',
    'seal.grant_created': '新增授权',
    'seal.grant_revoked': '撤销授权',
    'document.signed': '电子用印',
    'pki.certificate_issued': '签发证书',
    'pki.certificate_imported': '导入证书',
    'pki.certificate_revoked': '吊销证书',
    'pki.certificate_reinstated': '恢复证书',
    'pki.esl_issued': '签发电子印章文件',
  } as Record<string, string>,
  empty: '（无）',
  shownOf: (shown: number, total: number) =>
    `共 ${total.toLocaleString('en-US')} 条，仅列出最近 ${shown.toLocaleString('en-US')} 条。`,
  fullRecord: (where: string) => `完整记录请查询：${where}`,
  system: '系统',
  timeNote: '时间均为 UTC。',
};

const en: Labels = {
  title: 'Seal file card',
  subtitle: '印章档案卡',
  generated: (at, by) => `Generated ${at} by ${by}`,
  page: (n, of) => `Page ${n} of ${of}`,
  attributes: 'Attributes',
  image: 'Impression',
  noImage: 'No impression on record',
  imageMissing: (why) => `The impression cannot be read: ${why}`,
  fields: {
    name: 'Name',
    code: 'Code',
    company: 'Company',
    kind: 'Kind',
    type: 'Type',
    status: 'Status',
    custodians: 'Custodians',
    needsCustodian: 'Needs a custodian',
    producedAt: 'In use since',
    statusChangedAt: 'Status changed',
    createdAt: 'Recorded',
    description: 'Description',
    activeGrants: 'Live grants',
    imageSha256: 'Impression SHA-256',
    certificate: 'Certificate',
    id: 'Id',
  },
  yes: 'yes',
  no: 'no',
  none: 'none',
  kinds: { electronic: 'electronic', physical: 'physical (smart seal)', ukey: 'UKey', mobile: 'mobile' },
  types: {
    official: 'official seal',
    contract: 'contract seal',
    finance: 'finance seal',
    invoice: 'invoice seal',
    hr: 'HR seal',
    legal_representative: 'legal representative seal',
    custom: 'custom',
  },
  statuses: {
    pending: 'pending',
    active: 'active',
    suspended: 'suspended',
    lost: 'reported lost',
    destroyed: 'destroyed',
  },
  certificate: (c) =>
    `${c.subject}; serial ${c.serialNumber}; ${c.status === 'active' ? 'valid' : `revoked (${c.revocationReason ?? ''})`}; until ${stamp(c.notAfter)}`,
  grants: 'Grants',
  grantColumns: ['Grantee', 'Categories', 'Valid', 'Uses (used/limit)', 'State', 'Granted'],
  granteeTypes: { user: 'person', department: 'department', role: 'role' },
  grantStates: { active: 'live', revoked: 'revoked', expired: 'expired', future: 'not yet valid', usedUp: 'used up' },
  unlimited: 'no limit',
  forever: 'open-ended',
  categories: {
    personnel: 'personnel',
    procurement: 'procurement',
    sales: 'sales',
    legal: 'legal',
    finance: 'finance',
  },
  roles: {
    system_admin: 'system administrator',
    seal_admin: 'seal administrator',
    security_auditor: 'security auditor',
    employee: 'employee',
  },
  lifecycle: 'Lifecycle',
  lifecycleColumns: ['Applied', 'Step', 'Applicant', 'Reason', 'Status', 'Decided'],
  lifecycleActions: {
    produce: 'production',
    change: 'change',
    transfer: 'transfer',
    suspend: 'suspension',
    resume: 'resumption',
    report_loss: 'loss report',
    destroy: 'destruction',
  },
  applicationStatuses: { pending: 'pending', approved: 'approved', rejected: 'rejected', withdrawn: 'withdrawn' },
  uses: 'Uses',
  useColumns: ['Applied', 'Applicant', 'Category', 'Reason', 'Uses asked', 'Used/approved', 'Status'],
  history: 'History (audit log)',
  historyColumns: ['Seq', 'Time', 'Event', 'By', 'Details'],
  actions: {
    'seal.created': 'seal recorded',
    'seal.custodian_needed': 'custodian left; a new one is needed',
    'seal.lifecycle_applied': 'lifecycle step took effect',
    'seal.grant_created': 'grant created',
    'seal.grant_revoked': 'grant revoked',
    'document.signed': 'document sealed',
    'pki.certificate_issued': 'certificate issued',
    'pki.certificate_imported': 'certificate imported',
    'pki.certificate_revoked': 'certificate revoked',
    'pki.certificate_reinstated': 'certificate reinstated',
    'pki.esl_issued': 'electronic seal file issued',
  },
  empty: '(none)',
  shownOf: (shown, total) =>
    `${total.toLocaleString('en-US')} in all; the latest ${shown.toLocaleString('en-US')} are listed.`,
  fullRecord: (where) => `The full record: ${where}`,
  system: 'system',
  timeNote: 'All times are UTC.',
};

const LABELS: Record<CardLanguage, Labels> = { 'zh-CN': zh, en };

/** A cell never holds more than this many characters, so one row never outgrows a page. */
const MAX_CELL = 400;
const FONT_SIZE = 8;
const PADDING = 3;
/** Rows laid out between two turns of the event loop: a long card does not stall other requests. */
const ROWS_PER_TURN = 40;

function stamp(date: Date | string | null | undefined): string {
  if (!date) return '';
  return new Date(date).toISOString().slice(0, 16).replace('T', ' ');
}

const clip = (text: string) => (text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text);

function categoryText(l: Labels, categories: string[]): string {
  return categories
    .map((c) => (c.startsWith('custom:') ? c.slice('custom:'.length) : (l.categories[c] ?? c)))
    .join('、');
}

function grantState(l: Labels, g: GrantRecord, now: Date): string {
  if (g.revokedAt)
    return `${l.grantStates.revoked} ${stamp(g.revokedAt)}${g.revokeReason ? `（${g.revokeReason}）` : ''}`;
  if (new Date(g.validFrom) > now) return l.grantStates.future;
  if (g.validUntil && new Date(g.validUntil) <= now) return l.grantStates.expired;
  if (g.maxUses !== null && g.usedCount >= g.maxUses) return l.grantStates.usedUp;
  return l.grantStates.active;
}

function granteeText(l: Labels, g: GrantRecord): string {
  const type = l.granteeTypes[g.granteeType] ?? g.granteeType;
  if (g.granteeType === 'role')
    return `${type}：${l.roles[g.granteeRole ?? ''] ?? g.granteeRole ?? ''} @ ${g.granteeName ?? ''}`;
  return `${type}：${g.granteeName ?? g.granteeUserId ?? g.granteeDepartmentId ?? ''}`;
}

/** A change set as "key: value; …", nested values as compact JSON. */
function changesText(changes: Record<string, unknown>): string {
  return Object.entries(changes)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('; ');
}

interface Column {
  header: string;
  /** Share of the page width. */
  weight: number;
}

class CardWriter {
  readonly doc: PDFKit.PDFDocument;
  private rowsSinceTurn = 0;

  constructor(
    private readonly l: Labels,
    info: { title: string; lang: CardLanguage; at: Date },
  ) {
    this.doc = new PDFDocument({
      size: 'A4',
      margins: { top: 48, bottom: 48, left: 40, right: 40 },
      bufferPages: true,
      lang: info.lang,
      displayTitle: true,
      info: { Title: info.title, Creator: 'Sigil', CreationDate: info.at },
    });
  }

  get width(): number {
    return this.doc.page.width - this.doc.page.margins.left - this.doc.page.margins.right;
  }

  private get bottom(): number {
    return this.doc.page.height - this.doc.page.margins.bottom;
  }

  heading(text: string): void {
    if (this.doc.y + 60 > this.bottom) this.doc.addPage();
    this.doc
      .moveDown(0.8)
      .font('bold')
      .fontSize(12)
      .fillColor('#000')
      .text(text, this.doc.page.margins.left, this.doc.y, { width: this.width });
    this.doc.moveDown(0.3);
  }

  note(text: string): void {
    this.doc
      .font('regular')
      .fontSize(FONT_SIZE)
      .fillColor('#555')
      .text(text, this.doc.page.margins.left, this.doc.y, { width: this.width })
      .fillColor('#000');
  }

  /** A table that breaks across pages, repeating its header; each row as tall as its tallest cell. */
  async table(columns: Column[], rows: string[][]): Promise<void> {
    const total = columns.reduce((sum, c) => sum + c.weight, 0);
    const widths = columns.map((c) => (c.weight / total) * this.width);
    const drawRow = (cells: string[], header: boolean) => {
      const doc = this.doc;
      doc.font(header ? 'bold' : 'regular').fontSize(FONT_SIZE);
      const heights = cells.map((text, i) => doc.heightOfString(text || ' ', { width: widths[i]! - 2 * PADDING }));
      const height = Math.max(...heights) + 2 * PADDING;
      if (doc.y + height > this.bottom) {
        doc.addPage();
        if (!header)
          drawRow(
            columns.map((c) => c.header),
            true,
          );
        doc.font(header ? 'bold' : 'regular').fontSize(FONT_SIZE);
      }
      const top = doc.y;
      let x = doc.page.margins.left;
      if (header) doc.rect(x, top, this.width, height).fill('#eeeeee').fillColor('#000');
      cells.forEach((text, i) => {
        doc.text(text, x + PADDING, top + PADDING, { width: widths[i]! - 2 * PADDING, lineBreak: true });
        x += widths[i]!;
      });
      doc
        .moveTo(doc.page.margins.left, top + height)
        .lineTo(doc.page.margins.left + this.width, top + height)
        .lineWidth(0.3)
        .strokeColor('#bbbbbb')
        .stroke();
      doc.x = doc.page.margins.left;
      doc.y = top + height;
    };
    drawRow(
      columns.map((c) => c.header),
      true,
    );
    if (rows.length === 0) {
      this.note(this.l.empty);
      return;
    }
    for (const row of rows) {
      drawRow(
        row.map((cell) => clip(cell)),
        false,
      );
      if (++this.rowsSinceTurn >= ROWS_PER_TURN) {
        this.rowsSinceTurn = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Page numbers, the seal's code and the generation time at the foot of every page. */
  footers(text: (page: number, of: number) => string): void {
    const range = this.doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      this.doc.switchToPage(i);
      const { margins } = this.doc.page;
      // Written below the bottom margin: lift the margin so PDFKit does not start a new page.
      const bottom = margins.bottom;
      this.doc.page.margins.bottom = 0;
      this.doc
        .font('regular')
        .fontSize(7)
        .fillColor('#777')
        .text(text(i + 1, range.count), margins.left, this.doc.page.height - bottom + 16, {
          width: this.width,
          align: 'center',
          lineBreak: false,
        });
      this.doc.page.margins.bottom = bottom;
    }
  }
}

/**
 * Draws the card: attributes and impression, grants, lifecycle, uses and the audit history,
 * each a table that runs over as many pages as it needs. The lists arrive already capped by
 * the service; where one was cut, the card says how many there are and where to read them all.
 */
export async function renderSealCardPdf(card: SealCardDocument, lang: CardLanguage): Promise<Buffer> {
  const l = LABELS[lang];
  const { seal } = card;
  const { regular, bold } = await loadDocumentFonts();
  const w = new CardWriter(l, { title: `${l.title} ${seal.name} (${seal.code})`, lang, at: card.generatedAt });
  const { doc } = w;
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  doc.registerFont('regular', regular);
  doc.registerFont('bold', bold);

  doc.font('bold').fontSize(18).text(l.title);
  doc.font('regular').fontSize(9).fillColor('#555').text(l.subtitle).fillColor('#000').moveDown(0.3);
  doc.font('bold').fontSize(14).text(seal.name).moveDown(0.2);
  w.note(`${l.generated(stamp(card.generatedAt), card.generatedBy)}  ${l.timeNote}`);

  w.heading(l.attributes);
  const imageSize = 120;
  const top = doc.y;
  const attributes: Array<[string, string]> = [
    [l.fields.name, seal.name],
    [l.fields.code, seal.code],
    [l.fields.company, seal.companyName],
    [l.fields.kind, l.kinds[seal.kind] ?? seal.kind],
    [
      l.fields.type,
      seal.type === 'custom' && seal.customType
        ? `${l.types.custom}：${seal.customType}`
        : (l.types[seal.type] ?? seal.type),
    ],
    [l.fields.status, l.statuses[seal.status] ?? seal.status],
    [l.fields.custodians, seal.custodians.map((c) => c.name).join('、') || l.none],
    [l.fields.needsCustodian, seal.needsCustodian ? l.yes : l.no],
    [l.fields.producedAt, stamp(seal.producedAt)],
    [l.fields.statusChangedAt, stamp(seal.statusChangedAt)],
    [l.fields.createdAt, stamp(seal.createdAt)],
    [l.fields.activeGrants, String(seal.activeGrants)],
    [l.fields.description, seal.description ?? ''],
    [l.fields.imageSha256, seal.imageSha256 ?? l.none],
    ...(seal.certificate ? [[l.fields.certificate, l.certificate(seal.certificate)] as [string, string]] : []),
    [l.fields.id, seal.id],
  ];
  const labelWidth = 90;
  const valueWidth = w.width - labelWidth - imageSize - 16;
  for (const [label, value] of attributes) {
    const y = doc.y;
    doc.font('bold').fontSize(9).text(label, doc.page.margins.left, y, { width: labelWidth });
    const afterLabel = doc.y;
    doc
      .font('regular')
      .fontSize(9)
      .text(value || '—', doc.page.margins.left + labelWidth, y, { width: valueWidth });
    doc.y = Math.max(doc.y, afterLabel) + 2;
  }
  const afterAttributes = doc.y;
  const imageX = doc.page.margins.left + w.width - imageSize;
  doc.font('bold').fontSize(9).text(l.image, imageX, top, { width: imageSize, align: 'center' });
  if (card.image && 'png' in card.image) {
    doc.image(card.image.png, imageX, top + 14, { fit: [imageSize, imageSize], align: 'center', valign: 'center' });
  } else {
    doc
      .rect(imageX, top + 14, imageSize, imageSize)
      .lineWidth(0.5)
      .strokeColor('#bbbbbb')
      .stroke();
    doc
      .font('regular')
      .fontSize(8)
      .fillColor('#777')
      .text(card.image ? l.imageMissing(card.image.missing) : l.noImage, imageX + 6, top + 14 + imageSize / 2 - 8, {
        width: imageSize - 12,
        align: 'center',
      })
      .fillColor('#000');
  }
  doc.x = doc.page.margins.left;
  doc.y = Math.max(afterAttributes, top + imageSize + 20);

  const now = card.generatedAt;
  const cut = (shown: Shown<unknown>, where: string) => {
    if (shown.total > shown.items.length)
      w.note(`${l.shownOf(shown.items.length, shown.total)} ${l.fullRecord(where)}`);
  };

  w.heading(`${l.grants} (${card.grants.total.toLocaleString('en-US')})`);
  cut(card.grants, `GET /api/v1/seals/${seal.id}/grants?includeRevoked=true`);
  await w.table(
    l.grantColumns.map((header, i) => ({ header, weight: [3, 2, 2.4, 1.3, 1.8, 1.4][i]! })),
    card.grants.items.map((g) => [
      granteeText(l, g),
      categoryText(l, g.categories),
      `${stamp(g.validFrom)} – ${g.validUntil ? stamp(g.validUntil) : l.forever}`,
      `${g.usedCount} / ${g.maxUses ?? l.unlimited}`,
      grantState(l, g, now),
      stamp(g.createdAt),
    ]),
  );

  w.heading(`${l.lifecycle} (${card.lifecycle.total.toLocaleString('en-US')})`);
  cut(card.lifecycle, '/api/v1/applications');
  await w.table(
    l.lifecycleColumns.map((header, i) => ({ header, weight: [1.4, 1.2, 1.3, 3.5, 1, 1.4][i]! })),
    card.lifecycle.items.map((a) => [
      stamp(a.createdAt),
      l.lifecycleActions[a.lifecycleAction ?? ''] ?? a.lifecycleAction ?? '',
      a.applicantName,
      a.reason,
      l.applicationStatuses[a.status] ?? a.status,
      stamp(a.decidedAt),
    ]),
  );

  w.heading(`${l.uses} (${card.uses.total.toLocaleString('en-US')})`);
  cut(card.uses, '/api/v1/applications');
  await w.table(
    l.useColumns.map((header, i) => ({ header, weight: [1.4, 1.3, 1.1, 3.2, 0.9, 1.1, 1][i]! })),
    card.uses.items.map((a) => [
      stamp(a.createdAt),
      a.applicantName,
      categoryText(l, a.category ? [a.category] : []),
      a.reason,
      String(a.uses),
      a.usesGranted === null
        ? ''
        : `${a.usesConsumed ?? 0} / ${a.usesGranted}${a.authorizationRevoked ? ` (${l.grantStates.revoked})` : ''}`,
      l.applicationStatuses[a.status] ?? a.status,
    ]),
  );

  w.heading(`${l.history} (${card.events.total.toLocaleString('en-US')})`);
  cut(card.events, `GET /api/v1/audit-events?targetId=${seal.id}`);
  await w.table(
    l.historyColumns.map((header, i) => ({ header, weight: [0.6, 1.4, 1.8, 1.2, 5][i]! })),
    card.events.items.map((e) => [
      String(e.seq),
      stamp(e.occurredAt),
      l.actions[e.action] ? `${l.actions[e.action]}\n${e.action}` : e.action,
      e.actorName ?? l.system,
      changesText(e.changes),
    ]),
  );

  w.footers((page, of) => `${l.title} · ${seal.code} · ${stamp(card.generatedAt)} UTC · ${l.page(page, of)}`);
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
