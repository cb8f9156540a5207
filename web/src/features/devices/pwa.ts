import { useEffect, useState } from 'react';

/**
 * The phone view as an installable offline web app: the service worker (/sw.js, written by the
 * build from web/src/pwa/sw.js with the list of files the phone view needs) keeps the console's
 * shell so that the view opens without a connection. It is registered when the phone view is first
 * opened, not for every console page: nobody else pays for the files it keeps.
 */
export function registerServiceWorker(): void {
  // Only the built console has /sw.js; the dev server (vite) has no such file.
  if (!('serviceWorker' in navigator) || !import.meta.env.PROD || !window.isSecureContext) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
}

/** Whether the browser believes it is online, kept current by its `online` and `offline` events. */
export function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    window.addEventListener('online', up);
    window.addEventListener('offline', down);
    return () => {
      window.removeEventListener('online', up);
      window.removeEventListener('offline', down);
    };
  }, []);
  return online;
}
