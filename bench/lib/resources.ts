import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Everything a benchmark run has to give back: child processes, temporary directories,
 * databases. Released in reverse order at the end of a suite, on error, and on Ctrl-C;
 * if the process dies anyway, `exit` still kills the children and removes the directories.
 */
export class Resources {
  private readonly children = new Set<ChildProcess>();
  private readonly dirs = new Set<string>();
  private readonly releasers: Array<{ label: string; release: () => Promise<void> }> = [];

  constructor() {
    process.once('exit', () => this.releaseSync());
  }

  /** A child process to kill if it is still running when the run ends. */
  child(child: ChildProcess): ChildProcess {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** A temporary directory to remove. */
  dir(path: string): string {
    this.dirs.add(path);
    return path;
  }

  /** Any other clean-up (dropping a database), run before children are killed and directories removed. */
  defer(label: string, release: () => Promise<void>): void {
    this.releasers.push({ label, release });
  }

  /** Releases everything; never throws, reports what it could not release. */
  async release(): Promise<void> {
    for (const child of [...this.children]) await killChild(child);
    while (this.releasers.length > 0) {
      const { label, release } = this.releasers.pop()!;
      try {
        await withTimeout(release(), 15_000, label);
      } catch (error) {
        process.stderr.write(`bench: could not ${label}: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
    this.removeDirs();
  }

  private releaseSync(): void {
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    this.removeDirs();
  }

  private removeDirs(): void {
    for (const dir of this.dirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch (error) {
        process.stderr.write(
          `bench: could not remove ${dir}: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      }
      this.dirs.delete(dir);
    }
  }
}

/** SIGTERM, then SIGKILL if the child has not exited within the grace period. Resolves once it has exited. */
export async function killChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
