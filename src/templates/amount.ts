// Amounts of money as Chinese contracts write them: figures with separators, and the amount in
// capital numerals (大写金额), which a contract, cheque or invoice must carry so that a figure cannot
// be altered by adding a stroke. The rules followed are those of the People's Bank of China for
// filling in bills and vouchers (《正确填写票据和结算凭证的基本规定》): 壹…玖 with 拾佰仟万亿, 元角分,
// 整 after 元 or 角 when nothing smaller follows, one 零 for a run of zeros inside the number,
// 零 after 元 when 角 is zero and 分 is not.
// Amounts are decimal strings, never floating-point numbers: 0.1 + 0.2 must not reach a contract.

/** Non-negative, at most 12 integer digits (below 1 万亿, i.e. up to 9999 亿) and at most 2 decimals. */
export const AMOUNT_PATTERN = /^(0|[1-9]\d{0,11})(?:\.(\d{1,2}))?$/;

export interface Amount {
  /** Integer part, digits without leading zeros ("0" for none). */
  yuan: string;
  /** 角 and 分, 0–9 each. */
  jiao: number;
  fen: number;
}

/** The amount in a decimal string, or null when the string is not one (see AMOUNT_PATTERN). */
export function parseAmount(text: string): Amount | null {
  const match = AMOUNT_PATTERN.exec(text);
  if (!match) return null;
  const decimals = (match[2] ?? '').padEnd(2, '0');
  return { yuan: match[1]!, jiao: Number(decimals[0]), fen: Number(decimals[1]) };
}

/** `128,000.50`: separators every three digits, always two decimals. */
export function formatAmountFigures(amount: Amount): string {
  return `${amount.yuan.replace(/\B(?=(\d{3})+$)/g, ',')}.${amount.jiao}${amount.fen}`;
}

const DIGITS = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
/** Place units inside a group of four digits, highest first. */
const PLACES = ['仟', '佰', '拾', ''];
/** Units of the groups of four digits, lowest first: 元 group, 万, 亿. */
const GROUPS = ['', '万', '亿'];

/**
 * The integer part in capitals, without 元. A zero digit is read (as one 零 for a run) only when a
 * non-zero digit of the same group follows it, or when a whole group between two non-zero groups is
 * zero: 1,001,000 is 壹佰万壹仟 (the zeros end the 万 group) but 1,000,100 is 壹佰万零壹佰 and
 * 100,001,000 is 壹亿零壹仟.
 */
function integerInWords(digits: string): string {
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 4)
    groups.unshift(digits.slice(Math.max(0, end - 4), end).padStart(4, '0'));
  let out = '';
  let zero = false;
  groups.forEach((group, g) => {
    const unit = GROUPS[groups.length - 1 - g]!;
    if (group === '0000') {
      if (out) zero = true;
      return;
    }
    for (let i = 0; i < 4; i++) {
      const d = Number(group[i]);
      if (d === 0) {
        if (out && group.slice(i + 1) !== '0'.repeat(3 - i)) zero = true;
        continue;
      }
      if (zero) out += '零';
      zero = false;
      out += DIGITS[d]! + PLACES[i]!;
    }
    out += unit;
  });
  return out;
}

/** 大写金额: `壹拾贰万捌仟元伍角整`, `壹仟零壹拾元零伍分`, `伍角整`, `零元整`. */
export function amountInWords(amount: Amount): string {
  const { jiao, fen } = amount;
  const hasYuan = amount.yuan !== '0';
  if (!hasYuan && jiao === 0 && fen === 0) return '零元整';
  let out = hasYuan ? `${integerInWords(amount.yuan)}元` : '';
  if (jiao !== 0) out += `${DIGITS[jiao]}角`;
  // 零 stands for the missing 角 only between 元 and 分; an amount under one 元 starts with its first digit.
  else if (fen !== 0 && hasYuan) out += '零';
  out += fen !== 0 ? `${DIGITS[fen]}分` : '整';
  return out;
}

/** How an amount reads in running text: `¥128,000.50（人民币壹拾贰万捌仟元伍角整）`. */
export function formatAmount(amount: Amount): string {
  return `¥${formatAmountFigures(amount)}（人民币${amountInWords(amount)}）`;
}
