import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';

/** Vite names every built asset after its content (`index-CdeE8887.js`): a new build is a new URL. */
const HASHED_ASSET = /\/assets\/[^/]+-[\w-]{8,}\.[a-z0-9]+(\.(br|gz))?$/i;
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html (and every deep link answered with it) is checked each time: it names the current assets. */
export const REVALIDATE = 'no-cache';

/**
 * Security headers on every answer (helmet). The console runs under a strict Content-Security-
 * Policy: its own scripts and styles only (Vite emits no inline script), images also from `data:`
 * (the favicon, seal images in verification reports) and `blob:` (uploaded images previewed), no
 * plugins, never framed (approval pages must not be clickjacked: frame-ancestors 'none' and
 * X-Frame-Options DENY). pdf.js runs under it unchanged: its worker is a script of this origin
 * and it is told to compile no WebAssembly (the signing page loads the JavaScript editions of its
 * image decoders from /pdfjs/ instead), so neither blob: workers nor 'wasm-unsafe-eval' are
 * allowed. HSTS only when people reach Sigil over https (SIGIL_PUBLIC_URL): sent
 * over plain http it would be ignored at best, and lock a mistyped deployment out at worst.
 */
export async function registerSecurityHeaders(app: FastifyInstance, publicUrl: string | undefined): Promise<void> {
  const isHttps = publicUrl?.startsWith('https://') ?? false;
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(isHttps ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    frameguard: { action: 'deny' },
    hsts: isHttps ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/**
 * Pages built beside the console as entries of their own (web/<file>, listed in web/vite.config.ts),
 * which load none of the console's code: each answers its path and every path under it, under the
 * same headers as the console. Anything else that is not a file is the console's (errors.ts).
 */
export const STANDALONE_PAGES: ReadonlyArray<{ path: string; file: string }> = [
  // Verification without an account: the page a printed verification code will lead to.
  { path: '/verify', file: 'verify.html' },
  // The outside signer's page: the link sent by SMS or e-mail is /sign/<token>.
  { path: '/sign', file: 'sign.html' },
];

/**
 * The built console (web/dist): hashed assets cached for a year, index.html revalidated, the
 * brotli and gzip files written at build time sent to clients that take them (nothing is
 * compressed per request), and source maps never served even if a build leaves one behind.
 */
export async function registerConsole(app: FastifyInstance, consoleDir: string | undefined): Promise<void> {
  if (!consoleDir || !existsSync(join(consoleDir, 'index.html'))) return;
  await app.register(fastifyStatic, {
    root: consoleDir,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    preCompressed: true,
    cacheControl: false,
    // Dotfiles (the build's .vite/manifest.json) are not globbed; refused here too should that change.
    allowedPath: (pathName) => !pathName.endsWith('.map') && !pathName.startsWith('/.vite/'),
    setHeaders: (reply, path) => {
      reply.header('cache-control', HASHED_ASSET.test(path) ? IMMUTABLE : REVALIDATE);
    },
  });
  for (const page of STANDALONE_PAGES) {
    if (!existsSync(join(consoleDir, page.file))) continue;
    // Sent like index.html: revalidated, and as its .br or .gz when the client takes one.
    const send = (_request: unknown, reply: FastifyReply) => reply.sendFile(page.file);
    app.get(page.path, { schema: { hide: true } }, send);
    app.get(`${page.path}/*`, { schema: { hide: true } }, send);
  }
}
