import type { Resources } from './lib/resources.js';
import type { Result } from './report.js';

export interface SuiteContext {
  /** Child processes, temp dirs and databases; the runner releases them after the suite, even on error. */
  resources: Resources;
  /** Progress for the person watching (stderr, so stdout holds only the report). */
  log(message: string): void;
  /** A line to print under the suite's table (set-up, caveats). */
  note(message: string): void;
}

/**
 * A benchmark suite: measures, and returns its figures. A suite that cannot measure a figure
 * returns it with value null and a note; a figure taken while requests failed is `invalid`.
 */
export interface Suite {
  name: string;
  title: string;
  run(ctx: SuiteContext): Promise<Result[]>;
}
