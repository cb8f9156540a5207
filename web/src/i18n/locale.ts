import type { Locale } from '../api';

/**
 * The language a visitor reads, chosen once and kept in this browser: shared by the console and
 * the pages built beside it (web/src/verify), so a choice made on one holds on the others. A leaf
 * module: the standalone pages import it without any of the console's code.
 */
const LOCALE_KEY = 'sigil.locale';

// Storage may be refused (a private window, a locked-down phone): the choice then lasts the visit.
export function storedLocale(): Locale | null {
  try {
    const value = localStorage.getItem(LOCALE_KEY);
    return value === 'en' || value === 'zh-CN' ? value : null;
  } catch {
    return null;
  }
}

export function storeLocale(locale: Locale): void {
  try {
    localStorage.setItem(LOCALE_KEY, locale);
  } catch {
    // kept for this visit only
  }
}

/** Chinese for a browser that asks for any Chinese, English otherwise. */
export function browserLocale(): Locale {
  const languages = navigator.languages?.length ? navigator.languages : [navigator.language];
  return languages.some((l) => l?.toLowerCase().startsWith('zh')) ? 'zh-CN' : 'en';
}
