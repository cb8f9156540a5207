// `sigil device simulate` in process: the patent's story told as it goes, with the tampering
// variant flagged critical, and a usage error for --url without what it needs.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  return { out: () => out.join(''), err: () => err.join('') };
}

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

describe('sigil device simulate', () => {
  it('tells the story: unlock, three stamps with photos, the fourth refused, synced, reviewed; a forced stamp is critical', async () => {
    const io = capture();
    const status = await main([
      'node',
      'sigil',
      'device',
      'simulate',
      '--uses',
      '3',
      '--offline-days',
      '1',
      '--tamper',
    ]);
    vi.restoreAllMocks();
    expect(io.err()).toBe('');
    expect(status).toBe(0);
    const text = io.out();
    expect(text).toContain('unlocked, 3 use(s) left');
    expect(text.match(/: stamp \d, /g)).toEqual([': stamp 1, ', ': stamp 2, ', ': stamp 3, ']);
    expect(text).toContain('the seal stays locked (locked)');
    expect(text).toContain('phone: holding');
    expect(text).toContain("approver's review: 3 stamp(s) of 3 approved");
    expect(text).toMatch(/\[critical\] stamp_without_ticket/);
  }, 120_000);

  it('refuses --url without a token, an authorization, a serial and a key (exit 2)', async () => {
    const io = capture();
    const status = await main(['node', 'sigil', 'device', 'simulate', '--url', 'http://127.0.0.1:9']);
    vi.restoreAllMocks();
    expect(status).toBe(2);
    expect(io.err()).toContain('--url needs --token, --authorization, --serial and --key');
  });
});
