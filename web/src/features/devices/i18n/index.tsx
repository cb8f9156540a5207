import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import type { Locale } from '../../../api';
import { useI18n, type Vars } from '../../../i18n';
import { Loading } from '../../../ui/PageHeader';
import type { DevicesKey } from './en';

export type { DevicesKey };

/**
 * The smart seal pages' own words, per language a chunk fetched with those pages (the console's
 * dictionaries are part of everybody's first screen, and its script budget has no room for words
 * only custodians and stamping employees read). Used like `t`: `d('phone.usesLeft', { total })`.
 */
export type DevicesText = ((key: DevicesKey, vars?: Vars) => string) & {
  /** A dynamic key (a finding's kind, an event's type): its words, or `fallback` when unknown. */
  tx(key: string, fallback: string): string;
};

const loaders: Record<Locale, () => Promise<Record<DevicesKey, string>>> = {
  en: () => import('./en').then((m) => m.devicesEn),
  'zh-CN': () => import('./zh-CN').then((m) => m.devicesZh),
};
const loaded = new Map<Locale, Promise<Record<DevicesKey, string>>>();

function load(locale: Locale): Promise<Record<DevicesKey, string>> {
  let table = loaded.get(locale);
  if (!table) {
    table = loaders[locale]();
    // A failed fetch (offline before the chunk was kept, a new deployment) is tried again next time.
    table.catch(() => loaded.delete(locale));
    loaded.set(locale, table);
  }
  return table;
}

function makeText(table: Record<DevicesKey, string>): DevicesText {
  const fill = (template: string, vars?: Vars) =>
    vars
      ? template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole))
      : template;
  const d = ((key: DevicesKey, vars?: Vars) => fill(table[key] ?? key, vars)) as DevicesText;
  d.tx = (key, fallback) => (key in table ? fill(table[key as DevicesKey]) : fallback);
  return d;
}

const DevicesTextContext = createContext<DevicesText | null>(null);

/** Renders its children once the words of the reader's language are here. */
export function DevicesTextProvider({ children }: { children: ReactNode }) {
  const { locale, t } = useI18n();
  const [state, setState] = useState<{ locale: Locale; text: DevicesText } | null>(null);
  const [failed, setFailed] = useState(false);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    setFailed(false);
    load(locale).then(
      (table) => current && setState({ locale, text: makeText(table) }),
      () => current && setFailed(true),
    );
    return () => {
      current = false;
    };
  }, [locale, attempt]);
  if (!state)
    return failed ? (
      <button type="button" className="button" onClick={() => setAttempt((n) => n + 1)}>
        {t('common.retry')}
      </button>
    ) : (
      <Loading />
    );
  return <DevicesTextContext.Provider value={state.text}>{children}</DevicesTextContext.Provider>;
}

export function useDevicesText(): DevicesText {
  const text = useContext(DevicesTextContext);
  if (!text) throw new Error('useDevicesText outside a DevicesTextProvider');
  return text;
}
