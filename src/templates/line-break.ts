// Line breaking for Chinese text, done here rather than by PDFKit so that the rules are ours,
// stated and tested: a line may break between any two Chinese characters; never before closing
// punctuation (，。、；：？！）」』】》), which instead takes the character before it onto the next
// line (推出, "pushing out", as CLREQ describes); never after opening punctuation （「『【《 or a
// currency sign; never inside a run of Latin letters and digits (an ID number, an account, a
// figure), which breaks only at a space, or by character when it is wider than a whole line;
// never inside —— or …… .
// PDFKit's own wrapper (the `linebreak` package, UAX #14) was tried first and does keep ，and 。
// off the start of a line, but it cuts a piece wider than the space left by character with no
// regard for the rules, it justifies only by widening spaces (Chinese text has none), and it
// measures each line's prefixes through a cache that keeps every one of them; and the pages here
// need lines known in advance (a heading kept with what follows, a table row moved whole).

/**
 * May not start a line (GB/T 15834-2011 标点符号用法 §5.1.3, CLREQ 行首禁则): pause and end marks,
 * the second half of brackets and quotation marks, connecting and separating marks (～ － ·), and
 * units that belong to the figure before them. —— and …… may start a line; they may not be split.
 */
const NO_LINE_START = new Set([
  ...'，。、；：？！）」』】》〉〕〗〙〛］｝”’·・－～％‰℃°′″々〻ーゝゞヽヾぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ',
  ...',.;:?!)]}%',
]);
/** May not end a line (CLREQ 行尾禁则): opening brackets and quotation marks, currency signs. */
const NO_LINE_END = new Set([...'（「『【《〈〔〖〘〚［｛“‘¥￥$£€', ...'([{']);
/** Characters set on a grid (Han, kana, full-width forms, CJK punctuation): a line may break on either side. */
const IDEOGRAPHIC =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3000-\u303f\uff00-\uffef\u2014\u2026\u3200-\u33ff]/u;
/** Pairs that are one mark and never part: —— and …… */
const INSEPARABLE = new Set(['——', '……']);

const isSpace = (c: string) => c === ' ';
/** A letter, digit or other mark of running Latin text: these stick to each other. */
const isLatin = (c: string) => !isSpace(c) && !IDEOGRAPHIC.test(c);

/** Whether a line may break between `before` and `after` (two adjacent characters). */
export function canBreakBetween(before: string, after: string): boolean {
  if (isSpace(after)) return false;
  if (NO_LINE_START.has(after)) return false;
  if (NO_LINE_END.has(before)) return false;
  if (isSpace(before)) return true;
  if (INSEPARABLE.has(before + after)) return false;
  if (isLatin(before) && isLatin(after)) return false;
  return true;
}

/** The text cut at every break opportunity: pieces that are never split unless wider than a line. */
export function breakPieces(text: string): string[] {
  const chars = Array.from(text);
  const pieces: string[] = [];
  let piece = '';
  /** The last character before any spaces: an opening mark then spaces still may not end a line. */
  let ink = '';
  chars.forEach((c, i) => {
    if (i > 0 && canBreakBetween(chars[i - 1]!, c) && !NO_LINE_END.has(ink)) {
      pieces.push(piece);
      piece = '';
    }
    piece += c;
    if (!isSpace(c)) ink = c;
  });
  if (piece) pieces.push(piece);
  return pieces;
}

export interface WrappedLine {
  text: string;
  /** Width of `text` as measured. */
  width: number;
  /** The width it was set in (the first line's is narrower by the indent). */
  available: number;
  /** The paragraph's last line: set as it is, not spread to the full width. */
  last: boolean;
}

export interface WrapOptions {
  width: number;
  /** Taken from the first line's width (a paragraph's first-line indent). */
  firstLineIndent?: number;
  /**
   * Width of a string in the font and size the text will be set in. It is asked about pieces and
   * single characters only, never about every prefix of a line: a font engine that caches what it
   * measures would otherwise keep a copy of each.
   */
  measure: (text: string) => number;
}

/** Slack for rounding in the widths (points): a line this much too wide still fits. */
const TOLERANCE = 0.01;

/** Splits `text` (one paragraph, no line breaks) into lines no wider than the width, greedily. */
export function wrapText(text: string, options: WrapOptions): WrappedLine[] {
  const { width, measure } = options;
  const lines: WrappedLine[] = [];
  let line = '';
  /** Width of `line`, and of `line` without its trailing spaces. */
  let lineWidth = 0;
  let inkWidth = 0;
  let available = width - (options.firstLineIndent ?? 0);
  const emit = () => {
    lines.push({ text: line.trimEnd(), width: inkWidth, available, last: false });
    line = '';
    lineWidth = inkWidth = 0;
    available = width;
  };
  const add = (piece: string, pieceWidth: number, pieceInk: number) => {
    line += piece;
    inkWidth = lineWidth + pieceInk;
    lineWidth += pieceWidth;
  };
  const pending = breakPieces(text);
  for (let i = 0; i < pending.length; i++) {
    const piece = pending[i]!;
    const ink = piece.trimEnd();
    const pieceInk = ink === '' ? 0 : measure(ink);
    const pieceWidth = ink === piece ? pieceInk : measure(piece);
    if (ink === '' || lineWidth + pieceInk <= available + TOLERANCE) {
      add(piece, pieceWidth, pieceInk);
      continue;
    }
    if (line.trim() !== '') {
      emit();
      i--; // the piece again, on the new line
      continue;
    }
    // Wider than a whole line by itself: cut it by character, keeping the rules at the cut.
    const chars = Array.from(piece);
    const widths = chars.map(measure);
    let take = 0;
    let taken = lineWidth;
    while (take < chars.length && taken + widths[take]! <= available + TOLERANCE) taken += widths[take++]!;
    const inkBefore = (end: number) => chars.slice(0, end).findLast((c) => !isSpace(c)) ?? '';
    while (take > 1 && (NO_LINE_START.has(chars[take]!) || NO_LINE_END.has(inkBefore(take)))) take--;
    take = Math.max(1, take);
    const head = chars.slice(0, take).join('');
    const headWidth = widths.slice(0, take).reduce((sum, w) => sum + w, 0);
    add(head, headWidth, head.trimEnd() === head ? headWidth : measure(head.trimEnd()));
    if (take < chars.length) {
      emit();
      pending.splice(i + 1, 0, chars.slice(take).join(''));
    }
  }
  if (line.trimEnd() !== '' || lines.length === 0) emit();
  lines[lines.length - 1]!.last = true;
  return lines;
}
