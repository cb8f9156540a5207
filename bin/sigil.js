#!/usr/bin/env node
// The `sigil` command. It runs the compiled build (npm run build).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('sigil: not built yet; run `npm run build` (npm start does it for you)\n');
  process.exit(2);
}
const { main } = await import(entry.href);
const status = await main(process.argv);
// serve keeps running; every other command ends with its status.
if (process.argv[2] !== 'serve' || status !== 0) process.exit(status);
