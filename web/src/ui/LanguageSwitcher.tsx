import type { Locale } from '../api';
import { useI18n } from '../i18n';

const choices: Array<{ locale: Locale; key: 'lang.zh' | 'lang.en'; testId: string }> = [
  { locale: 'zh-CN', key: 'lang.zh', testId: 'lang-zh' },
  { locale: 'en', key: 'lang.en', testId: 'lang-en' },
];

/** 中文 / English, as a two-button toggle; the choice is remembered (and saved to the profile). */
export function LanguageSwitcher() {
  const { t, locale, setLocale } = useI18n();
  return (
    <div className="lang-switch" role="group" aria-label={t('lang.label')}>
      {choices.map((c) => (
        <button
          key={c.locale}
          type="button"
          lang={c.locale}
          className={locale === c.locale ? 'active' : undefined}
          aria-pressed={locale === c.locale}
          onClick={() => setLocale(c.locale)}
          data-testid={c.testId}
        >
          {t(c.key)}
        </button>
      ))}
    </div>
  );
}
