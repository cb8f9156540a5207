import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/** Smaller files gain nothing from compression that is worth a second request header. */
const COMPRESS_FROM_BYTES = 1024;
const COMPRESSIBLE = /\.(js|css|html|svg|json|txt)$/;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * Writes `.br` (quality 11) and `.gz` (level 9) beside every text asset once, at build time, for
 * the server to send as they are: compressing per request would cost CPU on every load (see
 * `npm run bench console`), and the strongest settings are affordable only once.
 */
function precompress(): Plugin {
  return {
    name: 'sigil-precompress',
    apply: 'build',
    writeBundle(options) {
      const outDir = options.dir!;
      for (const file of filesUnder(outDir)) {
        if (!COMPRESSIBLE.test(file)) continue;
        const bytes = readFileSync(file);
        if (bytes.length < COMPRESS_FROM_BYTES) continue;
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(bytes, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
              [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
            },
          }),
        );
        writeFileSync(`${file}.gz`, gzipSync(bytes, { level: 9 }));
      }
    },
  };
}

/**
 * The files pdf.js fetches by name rather than imports, for the signing page (web/src/sign/pdf.ts):
 * the CMaps of fonts that are not embedded (common in Chinese PDFs), the standard fonts, and the
 * JavaScript editions of its JBIG2, CCITT and JPEG 2000 decoders, with their licences. Copied under
 * /pdfjs/<version>/, so a new pdf.js never meets the files of an old one.
 */
function pdfjsData(): Plugin {
  const from = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
  const version = (JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as { version: string }).version;
  const prefix = `pdfjs/${version}/`;
  const pick = (dir: string, wanted: RegExp) =>
    readdirSync(join(from, dir))
      .filter((name) => wanted.test(name))
      .map((name) => `${dir}/${name}`);
  const files = () => [
    ...pick('cmaps', /\.bcmap$|^LICENSE/),
    ...pick('standard_fonts', /\.(pfb|ttf)$|^LICENSE/),
    ...pick('wasm', /_nowasm_fallback\.js$|^LICENSE_(PDFJS_)?(JBIG2|OPENJPEG)$/),
  ];
  return {
    name: 'sigil-pdfjs-data',
    generateBundle() {
      for (const file of files())
        this.emitFile({ type: 'asset', fileName: `${prefix}${file}`, source: readFileSync(join(from, file)) });
    },
    configureServer(server) {
      const known = new Set(files());
      server.middlewares.use(`/${prefix}`, (request, response, next) => {
        const file = (request.url ?? '').replace(/^\//, '').split('?')[0]!;
        if (!known.has(file)) return next();
        response.setHeader('content-type', file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream');
        response.end(readFileSync(join(from, file)));
      });
    },
  };
}

/**
 * The phone view as an installable offline web app (issue 16 §9): writes /sw.js from
 * web/src/pwa/sw.js with the build's id and the files to keep (index.html, the console's entry and
 * the chunks the phone view loads, with their styles: not pdf.js, the designer or the signing
 * pages), the web manifest and its icon. All three sit at the root, unhashed, so the server sends
 * them revalidated (no-cache), as it does index.html: a new build's worker is seen at once.
 */
function serviceWorker(): Plugin {
  const template = join(root, 'src/pwa/sw.js');
  /** The modules whose chunks (and their static imports) the phone view needs offline. */
  const wanted = [
    '/src/SignedIn.tsx',
    '/src/features/devices/PhonePage.tsx',
    '/src/i18n/messages.en.ts',
    '/src/i18n/messages.zh-CN.ts',
    '/src/features/devices/i18n/en.ts',
    '/src/features/devices/i18n/zh-CN.ts',
  ];
  return {
    name: 'sigil-service-worker',
    apply: 'build',
    enforce: 'post',
    transformIndexHtml: {
      order: 'post',
      handler: (_html, context) =>
        context.filename.endsWith('index.html')
          ? [{ tag: 'link', attrs: { rel: 'manifest', href: '/manifest.webmanifest' }, injectTo: 'head' }]
          : [],
    },
    generateBundle(_options, bundle) {
      const keep = new Set<string>();
      const seen = new Set<string>();
      const add = (fileName: string) => {
        const chunk = bundle[fileName];
        if (!chunk || seen.has(fileName)) return;
        seen.add(fileName);
        if (chunk.type !== 'chunk') return void keep.add(fileName);
        // A chunk of styles only (devices.css shared by two pages) is written as its CSS alone:
        // its empty script is dropped from the bundle after this hook runs, and must not be listed.
        if (chunk.code.trim() !== '') keep.add(fileName);
        const meta = (chunk as { viteMetadata?: { importedCss?: Set<string>; importedAssets?: Set<string> } })
          .viteMetadata;
        for (const css of meta?.importedCss ?? []) keep.add(css);
        for (const imported of chunk.imports) add(imported);
      };
      for (const [fileName, chunk] of Object.entries(bundle)) {
        if (chunk.type !== 'chunk') continue;
        const isConsole = chunk.isEntry && (chunk.facadeModuleId ?? '').endsWith('/index.html');
        if (isConsole || chunk.moduleIds.some((id) => wanted.some((w) => id.endsWith(w)))) add(fileName);
      }
      const files = ['/index.html', ...[...keep].sort().map((f) => `/${f}`)];
      const build = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 16);
      const source = readFileSync(template, 'utf8')
        .replace("'__SIGIL_BUILD__'", JSON.stringify(build))
        .replace('__SIGIL_PRECACHE__', JSON.stringify(files));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
      this.emitFile({
        type: 'asset',
        fileName: 'manifest.webmanifest',
        source: JSON.stringify(
          {
            name: 'Sigil 印章管控',
            short_name: 'Sigil',
            description: 'Seal control: stamp with the smart seal, offline too',
            start_url: '/applications',
            scope: '/',
            display: 'standalone',
            background_color: '#ffffff',
            theme_color: '#b3261e',
            icons: [{ src: '/sigil-icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
          },
          null,
          2,
        ),
      });
      this.emitFile({
        type: 'asset',
        fileName: 'sigil-icon.svg',
        source:
          "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 40 40'><rect width='40' height='40' rx='8' fill='#fff'/><circle cx='20' cy='20' r='15.5' fill='none' stroke='#b3261e' stroke-width='3'/><path d='M20 11.5l2.35 4.9 5.35.7-3.9 3.7 1 5.3L20 23.5l-4.8 2.6 1-5.3-3.9-3.7 5.35-.7z' fill='#b3261e'/></svg>",
      });
    },
  };
}

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The HTML entries: the console (index.html) and the pages beside it, each with its own script
 * (web/src/<page>/main.tsx) that imports none of the console's code. The server answers each
 * page's path with its file (STANDALONE_PAGES in src/server/plugins/web.ts), and each has a
 * script budget of its own (test/browser/console-budget.test.ts).
 */
const entries = {
  index: join(root, 'index.html'),
  verify: join(root, 'verify.html'),
  sign: join(root, 'sign.html'),
};

export default defineConfig({
  root,
  // The pages written with Preact are no React files: React's Fast Refresh stays out of them.
  plugins: [
    react({ exclude: [/\/src\/(verify|sign)\//, /\/node_modules\//] }),
    pdfjsData(),
    serviceWorker(),
    precompress(),
  ],
  // pdf.js starts its worker as a module (web/src/sign/pdf.ts, web/src/features/contracts/pdf-render.ts).
  worker: { format: 'es' },
  // No source maps: the served bundle points at none, and none is there to be fetched (the server
  // refuses *.map as well). Debug with `vite` (the dev server) instead.
  // The manifest (dist/.vite, never served) tells the bench and the budget test what each screen loads.
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    manifest: true,
    rolldownOptions: { input: entries },
  },
  server: { proxy: { '/api': 'http://localhost:8080' } },
});
