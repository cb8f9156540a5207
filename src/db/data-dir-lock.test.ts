import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir } from './data-dir-lock.js';

describe('embedded database directory lock', () => {
  it('refuses a second opener while the first holds it, and lets go on release', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigil-lock-'));
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'sigil.lock'), 'utf8').trim()).toBe(String(process.pid));
    expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    expect(() => lockDataDir(dir)).toThrow(`is in use by process ${process.pid}`);
    release();
    expect(existsSync(join(dir, 'sigil.lock'))).toBe(false);
    lockDataDir(dir)();
  });

  it('takes over a lock left by a process that is gone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigil-lock-'));
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'sigil.lock'), `${gone.stdout}\n`);
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'sigil.lock'), 'utf8').trim()).toBe(String(process.pid));
    release();
  });
});
