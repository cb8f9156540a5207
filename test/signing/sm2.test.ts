// SM2 with the standard user ID and SM3 (GB/T 32918.2, GB/T 32905, GB/T 35276): Sigil's signatures
// are checked by `openssl pkeyutl -verify … -pkeyopt distid:1234567812345678`, and openssl's
// signatures by Sigil's verifier, on good and changed data, in both directions.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../src/signing/ca.js';
import { createSoftwareVault } from '../../src/signing/key-vault.js';
import { createKeySigner, signatureAlgorithmId, type KeySigner } from '../../src/signing/signer.js';
import { SM2_DEFAULT_ID, sm2PointOf, sm2Z, verifySm2 } from '../../src/signing/sm2.js';
import { derToPem, signatureSchemeOf } from '../../src/signing/x509.js';
import { createPrivateKey } from 'node:crypto';
import { requireTool, run, tempDir } from './support.js';

let tmp: ReturnType<typeof tempDir>;
let signer: KeySigner;
let pubFile: string;

beforeAll(async () => {
  requireTool('openssl');
  tmp = tempDir('sigil-sm2-');
  signer = createKeySigner(await generateKey('SM2'));
  pubFile = tmp.file('pub.pem', derToPem(signer.publicKey, 'PUBLIC KEY'));
});
afterAll(() => tmp?.remove());

/** openssl's verdict on an SM2 signature over `data`, with the standard ID unless told otherwise. */
function opensslVerifies(
  data: Buffer,
  signature: Buffer,
  options: { distid?: string | null; pubFile?: string } = {},
): boolean {
  const name = randomBytes(6).toString('hex');
  const distid = options.distid === undefined ? SM2_DEFAULT_ID : options.distid;
  const args = ['pkeyutl', '-verify', '-pubin', '-inkey', options.pubFile ?? pubFile, '-rawin', '-digest', 'sm3'];
  if (distid !== null) args.push('-pkeyopt', `distid:${distid}`);
  args.push('-in', tmp.file(`${name}.data`, data), '-sigfile', tmp.file(`${name}.sig`, signature));
  const result = run('openssl', args, { allowFailure: true });
  return result.status === 0 && /Signature Verified Successfully/.test(result.out);
}

describe('SM3 and SM2', () => {
  it('hashes the GB/T 32905 test vector with SM3', () => {
    expect(createHash('sm3').update('abc').digest('hex')).toBe(
      '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0',
    );
  });

  it('computes Z from the standard ID as GB/T 32918.5 Annex A does', () => {
    // Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) written out with the curve's published parameters.
    const point = sm2PointOf(signer.publicKey)!;
    const a = 'FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC';
    const b = '28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93';
    const gx = '32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7';
    const gy = 'BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0';
    const id = Buffer.from(SM2_DEFAULT_ID);
    const entl = Buffer.from([0, id.length * 8]);
    const expected = createHash('sm3')
      .update(Buffer.concat([entl, id, Buffer.from(a + b + gx + gy, 'hex'), point.subarray(1)]))
      .digest();
    expect(sm2Z(point).equals(expected)).toBe(true);
  });

  it('signs so that openssl with distid:1234567812345678 verifies, and refuses changed data', async () => {
    const data = Buffer.from('电子印章 — seal data ' + randomBytes(8).toString('hex'));
    const signature = await signer.sign(data, 'SM3');
    expect(signature[0]).toBe(0x30); // DER SEQUENCE { r, s }
    expect(verifySm2(signer.publicKey, data, signature)).toBe(true);
    expect(opensslVerifies(data, signature)).toBe(true);

    const changed = Buffer.from(data);
    changed[3]! ^= 0x01;
    expect(verifySm2(signer.publicKey, changed, signature)).toBe(false);
    expect(opensslVerifies(changed, signature)).toBe(false);
    // The ID is part of what is signed: openssl with the empty default ID refuses it too.
    expect(opensslVerifies(data, signature, { distid: null })).toBe(false);
    expect(verifySm2(signer.publicKey, data, signature, 'another-user-id')).toBe(false);
  });

  it('verifies what openssl signed with the standard ID, and refuses what it signed with another', async () => {
    const keyFile = tmp.file('openssl.key');
    run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', keyFile]);
    const spkiFile = tmp.file('openssl.spki');
    run('openssl', ['pkey', '-in', keyFile, '-pubout', '-outform', 'DER', '-out', spkiFile]);
    const spki = readFileSync(spkiFile);
    const data = tmp.file('msg', Buffer.from('signed by openssl'));
    const sign = (distid: string) => {
      const out = tmp.file(`sig-${distid.length}`);
      run('openssl', [
        'pkeyutl',
        '-sign',
        '-inkey',
        keyFile,
        '-rawin',
        '-digest',
        'sm3',
        '-pkeyopt',
        `distid:${distid}`,
        '-in',
        data,
        '-out',
        out,
      ]);
      return readFileSync(out);
    };
    const good = sign(SM2_DEFAULT_ID);
    expect(verifySm2(spki, readFileSync(data), good)).toBe(true);
    expect(verifySm2(spki, Buffer.from('signed by someone else'), good)).toBe(false);
    expect(verifySm2(spki, readFileSync(data), sign('alice@example.cn'))).toBe(false);

    // openssl's own PKCS#8 becomes a Sigil signer whose signatures openssl verifies.
    const imported = createKeySigner(createPrivateKey(readFileSync(keyFile)));
    expect(imported.keyType).toBe('SM2');
    expect(imported.publicKey.equals(spki)).toBe(true);
    const message = Buffer.from('signed by Sigil with a key openssl made');
    const signature = await imported.sign(message, 'SM3');
    const opensslPub = tmp.file('openssl-pub.pem', derToPem(spki, 'PUBLIC KEY'));
    expect(opensslVerifies(message, signature, { pubFile: opensslPub })).toBe(true);
    expect(opensslVerifies(Buffer.from('another message'), signature, { pubFile: opensslPub })).toBe(false);
  });

  it('refuses signature values that are not DER or lie outside [1, n − 1]', async () => {
    const data = Buffer.from('range');
    const signature = await signer.sign(data, 'SM3');
    expect(verifySm2(signer.publicKey, data, signature)).toBe(true);
    const n = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123');
    const derInt = (v: bigint) => {
      let hex = v.toString(16);
      if (hex.length % 2) hex = `0${hex}`;
      if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
      return Buffer.concat([Buffer.from([0x02, hex.length / 2]), Buffer.from(hex, 'hex')]);
    };
    const seq = (...parts: Buffer[]) => {
      const body = Buffer.concat(parts);
      return Buffer.concat([Buffer.from([0x30, body.length]), body]);
    };
    // r + n is the same residue: a verifier that reduces modulo n would accept it.
    const r = BigInt(`0x${signature.subarray(4, 4 + signature[3]!).toString('hex')}`);
    const sStart = 4 + signature[3]!;
    const sBytes = signature.subarray(sStart + 2, sStart + 2 + signature[sStart + 1]!);
    const s = BigInt(`0x${sBytes.toString('hex')}`);
    expect(verifySm2(signer.publicKey, data, seq(derInt(r), derInt(s)))).toBe(true);
    expect(verifySm2(signer.publicKey, data, seq(derInt(r + n), derInt(s)))).toBe(false);
    expect(verifySm2(signer.publicKey, data, seq(derInt(0n), derInt(s)))).toBe(false);
    expect(verifySm2(signer.publicKey, data, seq(derInt(r), derInt(n)))).toBe(false);
    // A padded INTEGER (BER, not DER) is another byte string for the same signature.
    const padded = Buffer.concat([Buffer.from([0x02, sBytes.length + 1, 0x00]), sBytes]);
    expect(verifySm2(signer.publicKey, data, seq(derInt(r), padded))).toBe(false);
    expect(verifySm2(signer.publicKey, data, signature.subarray(0, 10))).toBe(false);
    expect(verifySm2(signer.publicKey, data, Buffer.alloc(0))).toBe(false);
    expect(verifySm2(signer.publicKey, data, Buffer.alloc(4096, 0x30))).toBe(false);
  });

  it('signs with SM3 only, and names SM2-with-SM3 for its signatures', async () => {
    await expect(signer.sign(Buffer.from('x'), 'SHA-256')).rejects.toThrow(/SM2 keys sign with SM3/);
    const rsa = createKeySigner(await generateKey('ECDSA-P256'));
    await expect(rsa.sign(Buffer.from('x'), 'SM3')).rejects.toThrow(/do not sign with SM3/);
    const id = signatureAlgorithmId(signer, 'SM3');
    expect(id.toString('hex')).toBe('300a06082a811ccf55018375');
    expect(signatureSchemeOf(id)).toMatchObject({ name: 'SM2-with-SM3', key: 'SM2', hash: 'SM3' });
    expect(() => signatureAlgorithmId(signer, 'SHA-256')).toThrow(/SM2 keys sign with SM3/);
  });

  it('refuses an SM2 public key that is not on the curve', () => {
    const bad = Buffer.from(signer.publicKey);
    bad[bad.length - 1]! ^= 0x01;
    expect(sm2PointOf(bad)).toBeNull();
    expect(verifySm2(bad, Buffer.from('x'), Buffer.from('3000', 'hex'))).toBe(false);
  });

  it('keeps SM2 keys sealed as PKCS#8 in the key vault, and opens them to sign', async () => {
    const vault = createSoftwareVault(randomBytes(32));
    const { reference, signer: fresh } = await vault.generate('SM2', 'seal:test');
    expect(reference.store).toBe('database');
    const reopened = await vault.open(reference, 'seal:test');
    expect(reopened.keyType).toBe('SM2');
    expect(reopened.publicKey.equals(fresh.publicKey)).toBe(true);
    const data = Buffer.from('vault');
    const signature = await reopened.sign(data, 'SM3');
    expect(verifySm2(fresh.publicKey, data, signature)).toBe(true);
    // Sealed to its owner: the same sealed key under another name does not open.
    await expect(vault.open(reference, 'seal:other')).rejects.toThrow(/cannot be opened/);
  });
});
