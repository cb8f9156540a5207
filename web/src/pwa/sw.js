// The console's service worker (issue 16 §9: the phone view works offline). Written into the build
// as /sw.js by web/vite.config.ts (serviceWorker()), which fills in the build's id and the files
// the phone view needs; it is registered by the phone view (web/src/features/devices/pwa.ts).
//
// What it does, and does not:
// - keeps the shell: index.html and the scripts and styles the console and the phone view load, so
//   the view opens with no connection;
// - pages (navigations) go to the network first, and fall back to the kept index.html offline: a
//   new deployment is seen at once when online;
// - hashed assets (/assets/*, named after their content) are answered from the cache, and kept as
//   they are fetched;
// - never touches the API (/api/): its answers depend on the session, and the phone's own queue
//   (IndexedDB) is what carries data across a lost connection.
const BUILD = '__SIGIL_BUILD__';
const PRECACHE = __SIGIL_PRECACHE__;
const CACHE = `sigil-shell-${BUILD}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(names.filter((n) => n.startsWith('sigil-shell-') && n !== CACHE).map((n) => caches.delete(n))),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (request.mode === 'navigate') {
    // The standalone pages (/verify, /sign) are their own documents: only the console falls back.
    const standalone = ['/verify', '/sign'].some((p) => url.pathname === p || url.pathname.startsWith(`${p}/`));
    event.respondWith(
      fetch(request).catch(() =>
        standalone ? Response.error() : caches.match('/index.html').then((kept) => kept || Response.error()),
      ),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/')) {
    event.respondWith(
      caches.open(CACHE).then((cache) =>
        cache.match(request).then(
          (kept) =>
            kept ||
            fetch(request).then((response) => {
              if (response.ok) cache.put(request, response.clone());
              return response;
            }),
        ),
      ),
    );
  }
});
