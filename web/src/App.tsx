import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, setUnauthorizedHandler, tokenStore, type Locale } from './api';
import { browserLocale, I18nContext, loadDictionary, makeI18n, storedLocale, storeLocale } from './i18n';
import type { Dictionary } from './i18n/dictionary';
import { navigate } from './router';
import { ToastProvider } from './ui/Toast';
import { SignInPage } from './features/auth/SignInPage';

/** Everything after signing in is a chunk of its own: the sign-in page loads only what it shows. */
const SignedIn = lazy(() => import('./SignedIn').then((m) => ({ default: m.SignedIn })));

export function App() {
  const [locale, setLocaleState] = useState<Locale>(() => storedLocale() ?? browserLocale());
  /** The strings of the language shown: the last one loaded, until the one chosen arrives. */
  const [dictionary, setDictionary] = useState<{ locale: Locale; dictionary: Dictionary } | null>(null);
  const [dictionaryFailed, setDictionaryFailed] = useState(false);
  const [token, setToken] = useState<string | null>(() => tokenStore.get());
  const [notice, setNotice] = useState<string | null>(null);
  /** A language picked on the sign-in page wins over the profile's, and is saved to it. */
  const chosenBeforeSignIn = useRef(false);

  useEffect(() => {
    let current = true;
    setDictionaryFailed(false);
    loadDictionary(locale).then(
      (loaded) => current && setDictionary({ locale, dictionary: loaded }),
      () => current && setDictionaryFailed(true),
    );
    return () => {
      current = false;
    };
  }, [locale]);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      tokenStore.clear();
      setToken(null);
      setNotice('signIn.sessionEnded');
    });
  }, []);

  const setLocale = useCallback((next: Locale) => {
    setLocaleState(next);
    storeLocale(next);
    if (tokenStore.get()) api.updateMe({ locale: next }).catch(() => undefined);
    else chosenBeforeSignIn.current = true;
  }, []);

  const localeRef = useRef(locale);
  localeRef.current = locale;
  const adoptLocale = useCallback((profileLocale: Locale) => {
    const current = localeRef.current;
    if (chosenBeforeSignIn.current) {
      if (profileLocale !== current) api.updateMe({ locale: current }).catch(() => undefined);
      return;
    }
    storeLocale(profileLocale);
    setLocaleState(profileLocale);
  }, []);

  const i18n = useMemo(
    () => (dictionary ? makeI18n(dictionary.locale, dictionary.dictionary, setLocale) : null),
    [dictionary, setLocale],
  );

  useEffect(() => {
    if (!i18n) return;
    document.documentElement.lang = i18n.locale;
    document.title = i18n.t('app.title');
  }, [i18n]);

  const signedIn = useCallback((newToken: string) => {
    tokenStore.set(newToken);
    setNotice(null);
    setToken(newToken);
  }, []);

  const signedOut = useCallback(() => {
    tokenStore.clear();
    chosenBeforeSignIn.current = false;
    setToken(null);
    navigate('/');
  }, []);

  // Before any language is loaded there are no words to show: a failure says so in both.
  if (!i18n)
    return dictionaryFailed ? (
      <div className="boot" role="alert">
        <p>无法加载界面，请检查网络后刷新。 The console could not load; check the connection and reload.</p>
      </div>
    ) : (
      <div className="boot" aria-busy="true" />
    );

  return (
    <I18nContext.Provider value={i18n}>
      <ToastProvider>
        {token ? (
          <Suspense fallback={<div className="boot" aria-busy="true" />}>
            <SignedIn key={token} onSignedOut={signedOut} adoptLocale={adoptLocale} />
          </Suspense>
        ) : (
          <SignInPage
            onSignedIn={signedIn}
            notice={notice === 'signIn.sessionEnded' ? i18n.t('signIn.sessionEnded') : null}
          />
        )}
      </ToastProvider>
    </I18nContext.Provider>
  );
}
