// Characters a contract must not carry: invisible ones (a right-to-left override or a zero-width
// space changes what a reader sees or what a keyword search finds without showing itself) and ones
// the bundled font cannot draw (a party's name printed as an empty box is not a party's name).
import { readFileSync } from 'node:fs';
import { cjkFontPath, readFontMetrics, type FontMetrics } from '../seal-image/font.js';

/** Controls, format characters (bidi overrides, zero-width joiners and spaces, BOM), private use, lone surrogates. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029]/u;

let metrics: FontMetrics | undefined;

/** The body font's metrics (Regular; the Bold used for headings covers the same characters), read once per process. */
function bodyFontMetrics(): FontMetrics {
  metrics ??= readFontMetrics(readFileSync(cjkFontPath('Regular')));
  return metrics;
}

/**
 * What is wrong with the characters of `text`, or null: the first invisible or control character
 * (with its code point, since it cannot be shown), else those the font cannot draw, each once.
 * `allowed` are characters the caller handles itself (line breaks and tabs in a body).
 */
export function characterProblem(text: string, allowed = ''): { message: string; index: number } | null {
  let index = 0;
  const missing: string[] = [];
  let firstMissing = -1;
  for (const char of text) {
    if (!allowed.includes(char)) {
      const code = char.codePointAt(0)!;
      if (INVISIBLE.test(char))
        return {
          index,
          message: `contains the invisible or control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`,
        };
      if (bodyFontMetrics().glyphOf(code) === 0 && !missing.includes(char)) {
        if (firstMissing < 0) firstMissing = index;
        if (missing.length < 10) missing.push(char);
      }
    }
    index += char.length;
  }
  if (missing.length)
    return { index: firstMissing, message: `contains ${missing.join(' ')}, which the document font cannot draw` };
  return null;
}
