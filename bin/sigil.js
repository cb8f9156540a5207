#!/usr/bin/env node
// The `sigil` command. It runs the compiled build (npm run build).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('sigil: not built yet; run `npm run build` (npm start does it for you)\n');
  process.exit(2);
}
const { runCommandLine } = await import(entry.href);
// Sets the exit status and ends the command once its output is written (serve keeps running).
await runCommandLine(process.argv);
