import { generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { b64url, fromB64url, isValidSignature, signMessage, softwareSigner, type SignedMessage } from './protocol.js';
import { SignatureVerifyPool } from './verify-pool.js';

const ours = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const spki = ours.publicKey.export({ format: 'der', type: 'spki' });
const pool = new SignatureVerifyPool(2);
afterAll(() => pool.close());

async function events(count: number, key = ours.privateKey): Promise<SignedMessage[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      signMessage('event', { seq: i + 1, n: 'x'.repeat(i % 7) }, softwareSigner(key)),
    ),
  );
}

describe('device signatures verified on worker threads', () => {
  it('finds exactly the forged, changed and malformed ones in a large batch, as the inline check does', async () => {
    const batch = await events(200);
    const [foreign] = await events(1, other.privateKey);
    const changed = fromB64url(batch[10]!.payload);
    changed[changed.length - 2]! ^= 1;
    batch[10] = { ...batch[10]!, payload: b64url(changed) };
    batch[50] = { ...batch[50]!, sig: foreign!.sig };
    batch[99] = { ...batch[99]!, sig: batch[99]!.sig.slice(0, -4) };
    batch[150] = { ...batch[150]!, sig: '*not base64*' };
    batch[199] = foreign!;
    const verdicts = await pool.verify('event', batch, spki);
    const bad = verdicts.flatMap((ok, i) => (ok ? [] : [i]));
    expect(bad).toEqual([10, 50, 99, 150, 199]);
    expect(verdicts).toEqual(batch.map((m) => isValidSignature('event', m, ours.publicKey)));
  });

  it('refuses a signature made for another kind of message', async () => {
    const tickets = await Promise.all(
      Array.from({ length: 40 }, (_, i) => signMessage('ticket', { seq: i }, softwareSigner(ours.privateKey))),
    );
    expect(new Set(await pool.verify('event', tickets, spki))).toEqual(new Set([false]));
  });

  it('checks small batches on the calling thread with the same verdicts', async () => {
    const batch = await events(5);
    batch[2] = { ...batch[2]!, sig: batch[3]!.sig };
    expect(await pool.verify('event', batch, spki)).toEqual([true, true, false, true, true]);
  });
});
