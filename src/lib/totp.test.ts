import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, matchTotp, totpCode } from './totp.js';

// RFC 6238 appendix B (SHA-1): the seed is the ASCII string "12345678901234567890".
const seed = Buffer.from('12345678901234567890');
const secret = base32Encode(seed);

describe('TOTP (RFC 6238)', () => {
  it.each([
    [59, '287082'],
    [1111111109, '081804'],
    [1111111111, '050471'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ])('at %i s gives %s', (seconds, code) => {
    expect(totpCode(secret, new Date(seconds * 1000))).toBe(code);
  });

  it('matches RFC 4226 HOTP vectors', () => {
    expect([0, 1, 2, 9].map((c) => hotp(seed, c))).toEqual(['755224', '287082', '359152', '520489']);
  });

  it('accepts one step of drift, and returns the step it matched', () => {
    const at = new Date(1234567890 * 1000);
    const previous = totpCode(secret, new Date(at.getTime() - 30_000));
    expect(matchTotp(secret, previous, at)).toBe(Math.floor(1234567890 / 30) - 1);
    expect(matchTotp(secret, totpCode(secret, new Date(at.getTime() - 90_000)), at)).toBeNull();
    expect(matchTotp(secret, 'abcdef', at)).toBeNull();
  });

  it('round-trips base32', () => {
    expect(base32Decode(secret)).toEqual(seed);
    expect(() => base32Decode('1!')).toThrow(/invalid base32/);
  });
});
