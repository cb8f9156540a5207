// @resvg/resvg-js is a native addon of several MB that only drawing or checking a seal image
// needs: it is loaded by the first such call instead of at server start. It is a CommonJS
// package, so it is required synchronously and the functions using it stay synchronous.
import { createRequire } from 'node:module';
import type * as ResvgModule from '@resvg/resvg-js';

let loaded: typeof ResvgModule | undefined;

export function resvg(): typeof ResvgModule {
  loaded ??= createRequire(import.meta.url)('@resvg/resvg-js') as typeof ResvgModule;
  return loaded;
}
