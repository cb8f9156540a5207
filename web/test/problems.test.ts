// Server problems in the reader's language (issue 13, item 10): the console words each problem
// from its code and the parameters the server declares for it (src/server/errors.ts,
// `problemParams`), never showing the English `detail` to a Chinese reader.
import { describe, expect, it } from 'vitest';
import { errorCodes, problemParams } from '../../src/server/error-codes.js';
import { makeI18n } from '../src/i18n/index';
import en from '../src/i18n/messages.en';
import zh from '../src/i18n/messages.zh-CN';
import type { Problem } from '../src/api/index';

const chinese = makeI18n('zh-CN', zh, () => {});
const english = makeI18n('en', en, () => {});
const problem = (code: Problem['code'], detail: string, params: Record<string, unknown> = {}): Problem => ({
  status: 409,
  code,
  detail,
  ...params,
});

describe('problems in the reader’s language', () => {
  it('words every server code in Chinese, using only the parameters the server declares for it', () => {
    for (const code of errorCodes) {
      const template = zh.problems[code];
      expect(template, code).toBeTruthy();
      const used = [...template!.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared: readonly string[] = (problemParams as Record<string, readonly string[]>)[code] ?? [];
      expect(
        used.filter((name) => !declared.includes(name!)),
        `${code} uses a parameter the server does not send`,
      ).toEqual([]);
    }
  });

  it('names no parameter like a field of the problem itself (a `code` parameter once hid the code)', () => {
    const own = ['type', 'title', 'status', 'detail', 'code', 'instance', 'requestId', 'errors'];
    const names = Object.values(problemParams as Record<string, readonly string[]>).flat();
    expect(names.filter((name) => own.includes(name))).toEqual([]);
  });

  it('fills the parameters: a seal and its status in Chinese words, times in the reader’s format, no English', () => {
    const text = chinese.problemText(
      problem('seal_not_usable', 'Contract seal is suspended; it cannot be used.', {
        sealName: '合同专用章',
        sealStatus: 'suspended',
      }),
    );
    expect(text).toBe('印章“合同专用章”当前状态为“已停用”，不能进行此操作。');
    const expired = chinese.problemText(
      problem('certificate_expired', 'The certificate … is valid from … to …, not now.', {
        notBefore: '2025-01-01T00:00:00.000Z',
        notAfter: '2026-01-01T00:00:00.000Z',
      }),
    );
    expect(expired).not.toMatch(/T00:00|Z\b|certificate/);
    expect(expired).toMatch(/2025.*2026/);
    expect(chinese.problemText(problem('rate_limited', 'Too many…', { retryAfterSeconds: 42 }))).toBe(
      '操作过于频繁，请在 42 秒后重试。',
    );
  });

  it('falls back to the server’s sentence when a parameter is missing, never showing a placeholder', () => {
    const text = chinese.problemText(problem('email_taken', 'Someone already signs in with a@b.c.'));
    expect(text).toBe('Someone already signs in with a@b.c.');
    expect(text).not.toContain('{');
  });

  it('gives English readers the server’s own sentence, which names everything', () => {
    expect(
      english.problemText(problem('email_taken', 'Someone already signs in with a@b.c.', { email: 'a@b.c' })),
    ).toBe('Someone already signs in with a@b.c.');
  });
});
