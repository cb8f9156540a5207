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
});
