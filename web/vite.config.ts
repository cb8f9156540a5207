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
  plugins: [react({ exclude: [/\/src\/(verify|sign)\//, /\/node_modules\//] }), pdfjsData(), precompress()],
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
