import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Locale } from '../api';
import { messages, type MessageKey } from './messages';

/** The page's words and dates in the signer's language. */
export interface Text {
  locale: Locale;
  t(key: MessageKey, vars?: Record<string, string | number>): string;
  /** An ISO 8601 time in the signer's format and zone; the text as it is when it is not one. */
  date(iso: string): string;
}

export function makeText(locale: Locale): Text {
  const table = messages[locale];
  const format = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  return {
    locale,
    t: (key, vars) =>
      table[key].replace(/\{(\w+)\}/g, (whole, name: string) => (vars && name in vars ? String(vars[name]) : whole)),
    date: (iso) => {
      const date = new Date(iso);
      return Number.isNaN(date.getTime()) ? iso : format.format(date);
    },
  };
}

export const TextContext = createContext<Text | null>(null);

export function useText(): Text {
  const text = useContext(TextContext);
  if (!text) throw new Error('useText outside the TextContext provider');
  return text;
}
