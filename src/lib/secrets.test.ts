import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, openSecret, sealSecret, verifyPassword } from './secrets.js';
import { canonicalJson } from './canonical-json.js';
import { isUuid, newId } from './ids.js';

describe('secrets', () => {
  it('hashes passwords with scrypt and a salt, and verifies them', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$15\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('wrong horse', a)).toBe(false);
    expect(await verifyPassword('correct horse', 'md5$whatever')).toBe(false);
  });

  it('seals with AES-256-GCM bound to its purpose; tampering or another purpose fails', () => {
    const key = randomBytes(32);
    const sealed = sealSecret(key, 'JBSWY3DPEHPK3PXP', 'user.totp_secret');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(openSecret(key, sealed, 'user.totp_secret').toString()).toBe('JBSWY3DPEHPK3PXP');
    expect(() => openSecret(key, sealed, 'seal.private_key')).toThrow();
    expect(() => openSecret(randomBytes(32), sealed, 'user.totp_secret')).toThrow();
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => openSecret(key, `v1.${raw.toString('base64')}`, 'user.totp_secret')).toThrow();
  });
});

describe('canonical JSON and ids', () => {
  it('gives the same text whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('makes time-ordered version 7 UUIDs', () => {
    const ids = Array.from({ length: 50 }, () => newId());
    expect(ids.every(isUuid)).toBe(true);
    expect(ids[0]![14]).toBe('7');
    expect(new Set(ids).size).toBe(50);
  });
});
