/**
 * What each kind of notification says, in each language a user may choose. To add a kind:
 * add its parameters to `NotificationParams` and its texts to `templates`; the compiler
 * refuses a kind without both languages. Texts are rendered once, in the recipient's
 * language, when the notification is made.
 */
export type Locale = 'zh-CN' | 'en';

interface ApplicationRef {
  applicationId: string;
  /** The seals the application is for, by name. */
  sealNames: string[];
}

export interface NotificationParams {
  /** An approver has a new task. */
  'approval.task_assigned': ApplicationRef & { applicantName: string; reason: string };
  /** An approver's task is still waiting. */
  'approval.reminder': ApplicationRef & { applicantName: string; waitingHours: number };
  /** A task was escalated to this approver because the previous one did not act in time. */
  'approval.escalated': ApplicationRef & {
    applicantName: string;
    fromApproverName: string | null;
    waitingHours: number;
  };
  /** The applicant's application was approved. */
  'application.approved': ApplicationRef & { approverName: string | null };
  /** The applicant's application was rejected. */
  'application.rejected': ApplicationRef & { approverName: string; comment: string | null };
  /** The applicant's pending application was closed: its seal was suspended, reported lost or destroyed. */
  'application.closed': ApplicationRef & { step: 'suspend' | 'report_loss' | 'destroy' };
  /** The recipient is copied on an application. */
  'application.cc': ApplicationRef & { applicantName: string; reason: string };
  /** An approver transferred the task to the recipient. */
  'application.transferred': ApplicationRef & {
    applicantName: string;
    fromApproverName: string;
    comment: string | null;
  };
  /** The recipient is to sign a contract (their turn came). */
  'contract.signature_requested': { title: string };
  /** The recipient is to approve a contract before later signers see it. */
  'contract.approval_requested': { title: string };
  /** Every participant has signed. */
  'contract.completed': { title: string };
  /** A participant refused to sign. */
  'contract.rejected': { title: string; reason: string };
  /** The recipient is copied on a contract just sent. */
  'contract.cc': { title: string; companyName: string };
  /** A contract the recipient is to receive is signed by everyone. */
  'contract.received': { title: string };
  /** Signing did not end by the deadline. */
  'contract.expired': { title: string };
  /** A signed contract lapses soon. */
  'contract.lapsing': { title: string; expiresOn: string };
  /** Reconciling a smart seal's synced log found discrepancies (issue 16); `critical` counts the tampering kind. */
  'device.findings': { sealName: string; serial: string; count: number; critical: number; kinds: string[] };
  /** A sync brought stamps a smart seal logged offline (issue 16 §9); times are ISO 8601 (UTC). */
  'device.records_arrived': { sealName: string; serial: string; stamps: number; firstAt: string; lastAt: string };
}

export type NotificationKind = keyof NotificationParams;

export interface RenderedMessage {
  /** Inbox title and e-mail subject. */
  title: string;
  /** Inbox text and e-mail body. */
  body: string;
  /** The text message: short, one line. */
  sms: string;
}

type Template<K extends NotificationKind> = (params: NotificationParams[K]) => RenderedMessage;

const seals = {
  'zh-CN': (names: string[]) => names.map((n) => `「${n}」`).join('、'),
  en: (names: string[]) => names.map((n) => `"${n}"`).join(', '),
};

const templates: { [K in NotificationKind]: Record<Locale, Template<K>> } = {
  'approval.task_assigned': {
    'zh-CN': (p) => ({
      title: `待您审批：${p.applicantName}申请使用${seals['zh-CN'](p.sealNames)}`,
      body: `${p.applicantName}申请使用${seals['zh-CN'](p.sealNames)}。\n用印事由：${p.reason}\n请及时审批。`,
      sms: `${p.applicantName}申请使用${seals['zh-CN'](p.sealNames)}，待您审批。`,
    }),
    en: (p) => ({
      title: `Approval needed: ${p.applicantName} asks to use ${seals.en(p.sealNames)}`,
      body: `${p.applicantName} asks to use ${seals.en(p.sealNames)}.\nReason: ${p.reason}\nPlease review the application.`,
      sms: `${p.applicantName} asks to use ${seals.en(p.sealNames)}; your approval is needed.`,
    }),
  },
  'approval.reminder': {
    'zh-CN': (p) => ({
      title: `催办：${p.applicantName}的用印申请已等待${p.waitingHours}小时`,
      body: `${p.applicantName}申请使用${seals['zh-CN'](p.sealNames)}，已等待您审批${p.waitingHours}小时。`,
      sms: `催办：${p.applicantName}的用印申请已等待您审批${p.waitingHours}小时。`,
    }),
    en: (p) => ({
      title: `Reminder: ${p.applicantName}'s application has waited ${p.waitingHours} h`,
      body: `${p.applicantName}'s application to use ${seals.en(p.sealNames)} has been waiting for your approval for ${p.waitingHours} hours.`,
      sms: `Reminder: ${p.applicantName}'s seal application has waited ${p.waitingHours} h for you.`,
    }),
  },
  'approval.escalated': {
    'zh-CN': (p) => ({
      title: `升级审批：${p.applicantName}申请使用${seals['zh-CN'](p.sealNames)}`,
      body: `${p.fromApproverName ? `${p.fromApproverName}` : '原审批人'}${p.waitingHours}小时内未处理，${p.applicantName}的用印申请（${seals['zh-CN'](p.sealNames)}）已转由您审批。`,
      sms: `${p.applicantName}的用印申请已升级至您审批。`,
    }),
    en: (p) => ({
      title: `Escalated to you: ${p.applicantName} asks to use ${seals.en(p.sealNames)}`,
      body: `${p.fromApproverName ?? 'The approver'} did not act within ${p.waitingHours} hours, so ${p.applicantName}'s application to use ${seals.en(p.sealNames)} now waits for you.`,
      sms: `${p.applicantName}'s seal application was escalated to you.`,
    }),
  },
  'application.approved': {
    'zh-CN': (p) => ({
      title: `您的用印申请已通过：${seals['zh-CN'](p.sealNames)}`,
      body: `您申请使用${seals['zh-CN'](p.sealNames)}的申请已${p.approverName ? `由${p.approverName}` : ''}审批通过。`,
      sms: `您使用${seals['zh-CN'](p.sealNames)}的申请已通过。`,
    }),
    en: (p) => ({
      title: `Approved: your application to use ${seals.en(p.sealNames)}`,
      body: `Your application to use ${seals.en(p.sealNames)} was approved${p.approverName ? ` by ${p.approverName}` : ''}.`,
      sms: `Your application to use ${seals.en(p.sealNames)} was approved.`,
    }),
  },
  'application.rejected': {
    'zh-CN': (p) => ({
      title: `您的用印申请被驳回：${seals['zh-CN'](p.sealNames)}`,
      body: `${p.approverName}驳回了您使用${seals['zh-CN'](p.sealNames)}的申请。${p.comment ? `\n意见：${p.comment}` : ''}`,
      sms: `${p.approverName}驳回了您使用${seals['zh-CN'](p.sealNames)}的申请。`,
    }),
    en: (p) => ({
      title: `Rejected: your application to use ${seals.en(p.sealNames)}`,
      body: `${p.approverName} rejected your application to use ${seals.en(p.sealNames)}.${p.comment ? `\nComment: ${p.comment}` : ''}`,
      sms: `${p.approverName} rejected your application to use ${seals.en(p.sealNames)}.`,
    }),
  },
  'application.closed': {
    'zh-CN': (p) => {
      const what = { suspend: '已停用', report_loss: '已挂失', destroy: '已销毁' }[p.step];
      return {
        title: `您的用印申请已关闭：${seals['zh-CN'](p.sealNames)}${what}`,
        body: `${seals['zh-CN'](p.sealNames)}${what}，您尚在审批中的用印申请已自动关闭，不能再被批准。如仍需用印，请改用其他印章重新申请。`,
        sms: `${seals['zh-CN'](p.sealNames)}${what}，您的用印申请已关闭。`,
      };
    },
    en: (p) => {
      const what = { suspend: 'was suspended', report_loss: 'was reported lost', destroy: 'was destroyed' }[p.step];
      return {
        title: `Closed: your application to use ${seals.en(p.sealNames)}`,
        body: `${seals.en(p.sealNames)} ${what}, so your application waiting for approval was closed and can no longer be approved. Apply again with another seal if you still need one.`,
        sms: `${seals.en(p.sealNames)} ${what}; your application to use it was closed.`,
      };
    },
  },
  'application.cc': {
    'zh-CN': (p) => ({
      title: `抄送：${p.applicantName}申请使用${seals['zh-CN'](p.sealNames)}`,
      body: `${p.applicantName}申请使用${seals['zh-CN'](p.sealNames)}，抄送给您知悉。\n用印事由：${p.reason}`,
      sms: `抄送：${p.applicantName}申请使用${seals['zh-CN'](p.sealNames)}。`,
    }),
    en: (p) => ({
      title: `For your information: ${p.applicantName} asks to use ${seals.en(p.sealNames)}`,
      body: `${p.applicantName} asks to use ${seals.en(p.sealNames)}; you are copied.\nReason: ${p.reason}`,
      sms: `FYI: ${p.applicantName} asks to use ${seals.en(p.sealNames)}.`,
    }),
  },
  'application.transferred': {
    'zh-CN': (p) => ({
      title: `转交审批：${p.applicantName}申请使用${seals['zh-CN'](p.sealNames)}`,
      body: `${p.fromApproverName}将${p.applicantName}的用印申请（${seals['zh-CN'](p.sealNames)}）转交给您审批。${p.comment ? `\n说明：${p.comment}` : ''}`,
      sms: `${p.fromApproverName}将一份用印申请转交给您审批。`,
    }),
    en: (p) => ({
      title: `Transferred to you: ${p.applicantName} asks to use ${seals.en(p.sealNames)}`,
      body: `${p.fromApproverName} transferred ${p.applicantName}'s application to use ${seals.en(p.sealNames)} to you for approval.${p.comment ? `\nNote: ${p.comment}` : ''}`,
      sms: `${p.fromApproverName} transferred a seal application to you for approval.`,
    }),
  },
  'contract.signature_requested': {
    'zh-CN': (p) => ({
      title: `待您签署：《${p.title}》`,
      body: `《${p.title}》已轮到您签署，请及时处理。`,
      sms: `《${p.title}》待您签署。`,
    }),
    en: (p) => ({
      title: `To sign: "${p.title}"`,
      body: `It is your turn to sign "${p.title}".`,
      sms: `"${p.title}" is waiting for your signature.`,
    }),
  },
  'contract.approval_requested': {
    'zh-CN': (p) => ({
      title: `待您审核：《${p.title}》`,
      body: `《${p.title}》需要您审核通过后，后续签署方才能签署。`,
      sms: `《${p.title}》待您审核。`,
    }),
    en: (p) => ({
      title: `To approve: "${p.title}"`,
      body: `"${p.title}" needs your approval before the next signers can sign.`,
      sms: `"${p.title}" is waiting for your approval.`,
    }),
  },
  'contract.completed': {
    'zh-CN': (p) => ({
      title: `已完成签署：《${p.title}》`,
      body: `《${p.title}》各方均已签署完成。`,
      sms: `《${p.title}》已签署完成。`,
    }),
    en: (p) => ({
      title: `Signed by everyone: "${p.title}"`,
      body: `Every participant has signed "${p.title}".`,
      sms: `"${p.title}" is signed by everyone.`,
    }),
  },
  'contract.rejected': {
    'zh-CN': (p) => ({
      title: `已拒签：《${p.title}》`,
      body: `《${p.title}》被拒签。\n原因：${p.reason}`,
      sms: `《${p.title}》被拒签。`,
    }),
    en: (p) => ({
      title: `Refused: "${p.title}"`,
      body: `"${p.title}" was refused.\nReason: ${p.reason}`,
      sms: `"${p.title}" was refused.`,
    }),
  },
  'contract.cc': {
    'zh-CN': (p) => ({
      title: `抄送：《${p.title}》`,
      body: `${p.companyName} 发起的《${p.title}》已抄送给您，现已开始签署。`,
      sms: `《${p.title}》已抄送给您。`,
    }),
    en: (p) => ({
      title: `Copied: "${p.title}"`,
      body: `${p.companyName} sent "${p.title}" for signing and copied you.`,
      sms: `You are copied on "${p.title}".`,
    }),
  },
  'contract.received': {
    'zh-CN': (p) => ({
      title: `请查收：《${p.title}》`,
      body: `《${p.title}》已签署完成，您可以查看并下载。`,
      sms: `《${p.title}》已签署完成，请查收。`,
    }),
    en: (p) => ({
      title: `For you: "${p.title}"`,
      body: `"${p.title}" is signed by everyone; you can read and download it.`,
      sms: `"${p.title}" is signed; it is yours to download.`,
    }),
  },
  'contract.expired': {
    'zh-CN': (p) => ({
      title: `已过期：《${p.title}》`,
      body: `《${p.title}》未在截止时间前签署完成，已过期。`,
      sms: `《${p.title}》已过签署截止时间。`,
    }),
    en: (p) => ({
      title: `Expired: "${p.title}"`,
      body: `"${p.title}" was not signed by everyone before its deadline.`,
      sms: `"${p.title}" passed its signing deadline.`,
    }),
  },
  'contract.lapsing': {
    'zh-CN': (p) => ({
      title: `即将到期：《${p.title}》`,
      body: `《${p.title}》将于 ${p.expiresOn} 到期，请及时续签或归档。`,
      sms: `《${p.title}》将于 ${p.expiresOn} 到期。`,
    }),
    en: (p) => ({
      title: `Lapses soon: "${p.title}"`,
      body: `"${p.title}" lapses on ${p.expiresOn}; renew or file it.`,
      sms: `"${p.title}" lapses on ${p.expiresOn}.`,
    }),
  },
  'device.findings': {
    'zh-CN': (p) => ({
      title: `${p.critical > 0 ? '【严重】' : ''}智能印章「${p.sealName}」用印记录发现 ${p.count} 项异常`,
      body: `智能印章 ${p.serial}（${p.sealName}）同步的用印记录经核对发现 ${p.count} 项异常${p.critical > 0 ? `，其中 ${p.critical} 项严重（可能被篡改或未经授权用印）` : ''}：${p.kinds.join('、')}。请及时核查。`,
      sms: `智能印章「${p.sealName}」发现 ${p.count} 项用印异常${p.critical > 0 ? `（${p.critical} 项严重）` : ''}，请核查。`,
    }),
    en: (p) => ({
      title: `${p.critical > 0 ? '[Critical] ' : ''}${p.count} discrepancy(ies) in the log of smart seal "${p.sealName}"`,
      body: `Reconciling the log synced from smart seal ${p.serial} ("${p.sealName}") found ${p.count} discrepancy(ies)${p.critical > 0 ? `, ${p.critical} of them critical (tampering or a use without a valid ticket)` : ''}: ${p.kinds.join(', ')}. Please review them.`,
      sms: `Smart seal "${p.sealName}": ${p.count} discrepancy(ies)${p.critical > 0 ? `, ${p.critical} critical` : ''}; please review.`,
    }),
  },
  'device.records_arrived': {
    'zh-CN': (p) => ({
      title: `智能印章「${p.sealName}」同步了 ${p.stamps} 条离线用印记录`,
      body: `智能印章 ${p.serial}（${p.sealName}）同步了 ${p.stamps} 条离线用印记录，用印时间 ${p.firstAt} 至 ${p.lastAt}（UTC）。请在用印记录中查看。`,
      sms: `智能印章「${p.sealName}」新增 ${p.stamps} 条离线用印记录。`,
    }),
    en: (p) => ({
      title: `${p.stamps} offline stamp record(s) arrived from smart seal "${p.sealName}"`,
      body: `Smart seal ${p.serial} ("${p.sealName}") synced ${p.stamps} stamp record(s) made offline between ${p.firstAt} and ${p.lastAt} (UTC). See them in the usage records.`,
      sms: `Smart seal "${p.sealName}": ${p.stamps} new offline stamp record(s).`,
    }),
  },
};

export const notificationKinds = Object.keys(templates) as NotificationKind[];

export function renderNotification<K extends NotificationKind>(
  kind: K,
  locale: Locale,
  params: NotificationParams[K],
): RenderedMessage {
  const template = templates[kind][locale] as Template<K>;
  return template(params);
}

/** The line that points from a mail or text message to the console, in the recipient's language. */
export function linkLine(locale: Locale, url: string): string {
  return locale === 'zh-CN' ? `查看详情：${url}` : `Open: ${url}`;
}

/** The last line of every mail. */
export function mailFooter(locale: Locale): string {
  return locale === 'zh-CN'
    ? '此邮件由 Sigil 印章管理平台自动发送，请勿直接回复。'
    : 'Sent automatically by Sigil, the seal management platform. Please do not reply.';
}
