// What the OFD tests share: the ofdrw fixtures, packages made or altered by Python's zipfile (not
// by the fflate code under test), BouncyCastle as an independent check of SES signatures,
// `openssl dgst -sm3` as an independent digest, and a seal-signature provider for our own signing.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sm2 } from 'sm-crypto-v2';
import type { SealSignatureProvider, SealSignatureVerifier } from '../../src/ofd/index.js';
import { requireTool, run, sealPng, tempDir } from '../signing/support.js';

export const FIXTURES = join(import.meta.dirname, '../fixtures/ofd');
export const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));

export interface ZipJob {
  input?: Buffer;
  set?: Record<string, Buffer | string>;
  delete?: string[];
  flip?: Record<string, number>;
  raw?: Array<{ name: string; data: Buffer | string; declared?: number; level?: number }>;
}

/** A zip made or altered by Python's zipfile (test/ofd/zip-tool.py). */
export function pythonZip(tmp: ReturnType<typeof tempDir>, job: ZipJob): Buffer {
  const id = Math.random().toString(36).slice(2);
  const input = job.input ? tmp.file(`in-${id}.zip`, job.input) : null;
  const output = tmp.file(`out-${id}.zip`);
  const b64 = (d: Buffer | string) => Buffer.from(d).toString('base64');
  const spec = {
    input,
    output,
    set: Object.fromEntries(Object.entries(job.set ?? {}).map(([k, v]) => [k, b64(v)])),
    delete: job.delete ?? [],
    flip: job.flip ?? {},
    raw: (job.raw ?? []).map((r) => ({ ...r, data: b64(r.data), declared: r.declared ?? null })),
  };
  execFileSync('python3', [join(import.meta.dirname, 'zip-tool.py')], { input: JSON.stringify(spec) });
  return readFileSync(output);
}

/** The files of a zip as Python's zipfile reads them. */
export function pythonUnzip(tmp: ReturnType<typeof tempDir>, zip: Buffer): Map<string, Buffer> {
  const path = tmp.file(`read-${Math.random().toString(36).slice(2)}.zip`, zip);
  const out = execFileSync('python3', [
    '-c',
    'import base64,json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({i.filename: base64.b64encode(z.read(i)).decode() for i in z.infolist() if not i.is_dir()}))',
    path,
  ]).toString();
  return new Map(
    Object.entries(JSON.parse(out) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  );
}

/** `openssl dgst -sm3` of bytes, base64, as Signature.xml writes a CheckValue. */
export function opensslSm3(tmp: ReturnType<typeof tempDir>, data: Buffer): string {
  const path = tmp.file(`d-${Math.random().toString(36).slice(2)}`, data);
  return execFileSync('openssl', ['dgst', '-sm3', '-binary', path]).toString('base64');
}

const BC = ['/usr/share/java/bcprov.jar', '/usr/share/java/bcutil.jar', '/usr/share/java/bcpkix.jar'];

/** Compiles test/ofd/OfdSesCheck.java once into `tmp` and returns a function running it. */
export function bouncyCastleSesCheck(
  tmp: ReturnType<typeof tempDir>,
): (signatureXml: Buffer, signedValue: Buffer) => { valid: boolean; out: string } {
  requireTool('javac');
  for (const jar of BC)
    if (!existsSync(jar))
      throw new Error(`${jar} is missing: apt-get install libbcprov-java libbcpkix-java libbcutil-java`);
  const classpath = BC.join(':');
  run('javac', ['-d', tmp.dir, '-cp', classpath, join(import.meta.dirname, 'OfdSesCheck.java')]);
  return (signatureXml, signedValue) => {
    const result = run(
      'java',
      [
        '-cp',
        `${tmp.dir}:${classpath}`,
        'OfdSesCheck',
        tmp.file('sig.xml', signatureXml),
        tmp.file('value.dat', signedValue),
      ],
      { allowFailure: true },
    );
    return { valid: result.status === 0 && result.out.startsWith('VALID'), out: result.out.trim() };
  };
}

/**
 * A seal-signature provider for testing the OFD layer on its own: the signed value is a plain SM2
 * signature (sm-crypto-v2, ID 1234567812345678) over the Signature.xml bytes, made with a key of
 * this test, and the seal file is ofdrw's UserV4.esl (for its picture). It is real cryptography,
 * not a GB/T 38540 SES_Signature: that one comes from the signing engine.
 */
export function rawSm2Provider(): { provider: SealSignatureProvider; verifier: SealSignatureVerifier } {
  const keys = sm2.generateKeyPairHex();
  const provider: SealSignatureProvider = {
    type: 'Seal',
    signatureMethod: '1.2.156.10197.1.501',
    seal: fixture('UserV4.esl'),
    provider: { name: 'Sigil test', company: 'Sigil', version: '0' },
    sign: ({ data }) =>
      Promise.resolve(Buffer.from(sm2.doSignature(data, keys.privateKey, { hash: true, der: true }), 'hex')),
  };
  const verifier: SealSignatureVerifier = {
    verify: ({ signedValue, data }) =>
      Promise.resolve(
        sm2.doVerifySignature(data, Buffer.from(signedValue).toString('hex'), keys.publicKey, { hash: true, der: true })
          ? { status: 'valid' }
          : { status: 'invalid', reason: 'the SM2 signature over Signature.xml does not verify' },
      ),
  };
  return { provider, verifier };
}

export { requireTool, run, sealPng, tempDir };
