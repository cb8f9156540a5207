import { describe, expect, it } from 'vitest';
import { ExtensionPoint } from './extension-point.js';

describe('an extension point', () => {
  it('refuses to be read before it is filled, rather than answering with nothing', () => {
    const point = new ExtensionPoint<() => void>('test.unfilled');
    expect(() => point.all()).toThrow(/test\.unfilled is used before wireModules/);
    expect(() => point.get('x')).toThrow(/before wireModules/);
  });

  it('gives what it was filled with, in order, and nothing for a key nobody provides', () => {
    const point = new ExtensionPoint<number>('test.filled');
    point.fill({ first: 1, second: 2 });
    expect(point.all()).toEqual([1, 2]);
    expect(point.get('second')).toBe(2);
    expect(point.get('third')).toBeUndefined();
  });

  it('may be filled again with the same entries, but never with others (no module swaps a duty out later)', () => {
    const revoke = async () => {};
    const point = new ExtensionPoint<() => Promise<void>>('test.refill');
    point.fill({ revoke });
    expect(() => point.fill({ revoke })).not.toThrow();
    expect(() => point.fill({ revoke: async () => {} })).toThrow(/already filled with other entries/);
    expect(() => point.fill({})).toThrow(/already filled/);
    expect(() => point.fill({ revoke, more: async () => {} })).toThrow(/already filled/);
    expect(point.all()).toEqual([revoke]);
  });

  it('answers whether any entry says yes, asking no further once one has, and no when none does', async () => {
    const asked: string[] = [];
    const point = new ExtensionPoint<{ name: string; yes: boolean }>('test.any');
    point.fill({ a: { name: 'a', yes: false }, b: { name: 'b', yes: true }, c: { name: 'c', yes: true } });
    const ask = async (entry: { name: string; yes: boolean }) => (asked.push(entry.name), entry.yes);
    expect(await point.anyOf(ask)).toBe(true);
    expect(asked).toEqual(['a', 'b']);
    const none = new ExtensionPoint<{ name: string; yes: boolean }>('test.none');
    none.fill({ a: { name: 'a', yes: false } });
    expect(await none.anyOf(ask)).toBe(false);
    await expect(new ExtensionPoint<boolean>('test.unfilled').anyOf(async (x) => x)).rejects.toThrow(
      /before wireModules/,
    );
  });
});
