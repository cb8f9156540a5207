import { createContext, useContext } from 'react';
import type { Locale, Problem } from '../api';
import type { Dictionary, MessageKey } from './dictionary';

export type { MessageKey };

/**
 * The console's languages: each language's strings are a chunk of their own (messages.*.ts),
 * fetched when the language is first used, so nobody downloads the language they do not read.
 */
const loaders: Record<Locale, () => Promise<{ default: Dictionary }>> = {
  en: () => import('./messages.en'),
  'zh-CN': () => import('./messages.zh-CN'),
};

const loaded = new Map<Locale, Promise<Dictionary>>();

/** The strings of a language, fetched once. */
export function loadDictionary(locale: Locale): Promise<Dictionary> {
  let dictionary = loaded.get(locale);
  if (!dictionary) {
    dictionary = loaders[locale]().then((module) => module.default);
    // A failed fetch (offline, a new deployment) is tried again next time.
    dictionary.catch(() => loaded.delete(locale));
    loaded.set(locale, dictionary);
  }
  return dictionary;
}

/** The server's field messages (English) mapped to dictionary keys, so Chinese users read Chinese. */
const fieldMessageKeys: Record<string, MessageKey> = {
  'is required': 'field.required',
  'must not be empty': 'field.notEmpty',
  'must be an e-mail address': 'field.email',
  'must be at least 10 characters': 'field.minPassword',
  'must be 1–40 letters, digits, dot, dash or underscore, starting with a letter or digit': 'field.code',
  'must be the 6-digit code from your authenticator': 'field.totp',
  'must be a phone number of 5–20 digits': 'field.phone',
  'must name at least one seal': 'field.chooseSeal',
  'must be a whole number': 'field.wholeNumber',
  'must be at least 1': 'field.atLeast1',
  'must be at most 1000': 'field.atMost1000',
  'must be personnel, procurement, sales, legal, finance or custom:<name>': 'field.category',
  'must be later than startsAt': 'field.laterThanStart',
  'must be later than validFrom': 'field.laterThanStart',
  'must lie in the future': 'field.futureDate',
  'must be 1–40 letters, digits, dot, dash or underscore': 'field.sealCode',
  'is taken': 'field.taken',
  'must name at least one custodian': 'field.chooseCustodian',
  'must name at least one business category': 'field.chooseCategory',
  'must not contain control or invisible characters': 'field.invisible',
  'is required for a round seal': 'field.requiredForShape',
  'is required for an oval seal': 'field.requiredForShape',
  'is required for a square seal': 'field.requiredForShape',
  'must be a number': 'field.number',
  'must be greater than 0': 'field.greaterThan0',
  'must be at least 1 (pages count from 1)': 'field.pageFrom1',
  'must name at least two pages': 'field.twoPages',
  'is required when signing under a grant': 'field.categoryForGrant',
  'must differ from the current password': 'field.differentPassword',
  'or an e-mail is required: the invitation and the code go there': 'contract.needContact',
  'must include at least one signer': 'contract.needSigner',
  'must not be before effectiveOn': 'contract.expiresBeforeEffective',
};

/** Server field messages that carry a value (a length, a name, characters), matched by their shape. */
const fieldMessagePatterns: Array<[RegExp, MessageKey, string[]]> = [
  [
    /^is too long to fit: at most ([\d.]+) Chinese characters, a letter or digit counting 0\.6 \(it has ([\d.]+)\)$/,
    'field.tooLongSeal',
    ['max', 'has'],
  ],
  [/^contains (.+), which the seal font cannot draw$/, 'field.missingGlyphs', ['chars']],
  [/^(.+) is not a seal administrator of that company, so cannot keep its seals$/, 'field.notCustodian', ['name']],
  [
    /^(.+) (?:decided|approves) level (\d+) \((.*)\) of this application; one person decides one level$/,
    'field.otherLevel',
    ['name', 'n', 'level'],
  ],
  [
    /^(.+) already holds a task at level (\d+) \((.*)\) of this application$/,
    'field.holdsTask',
    ['name', 'n', 'level'],
  ],
];

export type Vars = Record<string, string | number>;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function fill(template: string, vars?: Vars): string {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export interface I18n {
  locale: Locale;
  setLocale(locale: Locale): void;
  t(key: MessageKey, vars?: Vars): string;
  /** A dynamic key (role, status, action…): its translation, or `fallback` when unknown. */
  tx(key: string, fallback: string): string;
  /** A problem's message in this language, worded from its code and parameters. */
  problemText(problem: Problem): string;
  /** A server field message in this language. */
  fieldText(message: string): string;
  formatDate(value: string | Date, withTime?: boolean): string;
}

export function makeI18n(locale: Locale, dictionary: Dictionary, setLocale: (locale: Locale) => void): I18n {
  const { messages, problems } = dictionary;
  /** A problem's parameter as the reader reads it: a time in their format, a seal's status in their words. */
  const wordOf = (name: string, value: unknown): string => {
    if (typeof value === 'string' && ISO_TIME.test(value)) return dateTimeFormat.format(new Date(value));
    if (name === 'sealStatus' && typeof value === 'string' && `sealStatus.${value}` in messages)
      return messages[`sealStatus.${value}` as MessageKey];
    if (Array.isArray(value)) return value.map(String).join(locale === 'zh-CN' ? '、' : ', ');
    return String(value);
  };
  const translate = (key: MessageKey, vars?: Vars) => fill(messages[key] ?? key, vars);
  const dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
  const dateTimeFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' });
  return {
    locale,
    setLocale,
    t: translate,
    tx: (key, fallback) => (key in messages ? translate(key as MessageKey) : fallback),
    problemText: (problem) => {
      const template = problems[problem.code];
      if (!template) return problem.detail;
      let complete = true;
      const text = template.replace(/\{(\w+)\}/g, (_whole, name: string) => {
        const value = problem[name];
        if (value === undefined || value === null) complete = false;
        return wordOf(name, value);
      });
      // A parameter the server did not send (an older server): its own sentence says more than a gap.
      return complete ? text : problem.detail;
    },
    fieldText: (message) => {
      const key = fieldMessageKeys[message];
      if (key) return translate(key);
      for (const [pattern, patternKey, names] of fieldMessagePatterns) {
        const match = pattern.exec(message);
        if (match) return translate(patternKey, Object.fromEntries(names.map((name, i) => [name, match[i + 1] ?? ''])));
      }
      return message;
    },
    formatDate: (value, withTime = true) => {
      const date = typeof value === 'string' ? new Date(value) : value;
      return Number.isNaN(date.getTime()) ? String(value) : (withTime ? dateTimeFormat : dateFormat).format(date);
    },
  };
}

export { browserLocale, storedLocale, storeLocale } from './locale';

export const I18nContext = createContext<I18n | null>(null);

export function useI18n(): I18n {
  const i18n = useContext(I18nContext);
  if (!i18n) throw new Error('useI18n outside the I18nContext provider');
  return i18n;
}

/** Helpers for the words that come from the server as codes. */
export function roleName(i18n: I18n, role: string): string {
  return i18n.tx(`role.${role}`, role);
}

export function statusName(i18n: I18n, status: string): string {
  return i18n.tx(`status.${status}`, status);
}

export function actionName(i18n: I18n, action: string): string {
  return i18n.tx(`action.${action}`, action);
}

/** 人事、采购、销售、法务、财务, or the name of a `custom:<name>` category. */
export function categoryName(i18n: I18n, category: string | null | undefined): string {
  if (!category) return i18n.t('category.all');
  if (category.startsWith('custom:')) return category.slice('custom:'.length);
  return i18n.tx(`category.${category}`, category);
}

/** Several names as one phrase: 张三、李四 in Chinese, "Zhang San, Li Si" in English. */
export function listOf(i18n: I18n, items: string[]): string {
  return items.join(i18n.locale === 'zh-CN' ? '、' : ', ');
}

export function sealKindName(i18n: I18n, kind: string): string {
  return i18n.tx(`sealKind.${kind}`, kind);
}

export function sealTypeName(i18n: I18n, type: string): string {
  return i18n.tx(`sealType.${type}`, type);
}
