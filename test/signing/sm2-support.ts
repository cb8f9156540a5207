// An SM2 test PKI made with Sigil's own CA functions (root → group issuing CA → seal maker, seal
// and person certificates), for the seal and seal-signature tests, and `openssl pkeyutl` as the
// independent check of an SM2 signature with the standard ID.
import { randomBytes, type KeyObject } from 'node:crypto';
import {
  createIssuingCa,
  createRootCa,
  generateKey,
  issuePersonCertificate,
  issueSealCertificate,
} from '../../src/signing/ca.js';
import { createKeySigner, withCertificate, type KeySigner, type Signer } from '../../src/signing/signer.js';
import { derToPem } from '../../src/signing/x509.js';
import { run, type tempDir } from './support.js';

export interface Sm2TestPki {
  root: Buffer;
  ca: Buffer;
  caSigner: KeySigner;
  /** The seal maker (制章者): a certificate the group CA issued to make seals, with its SM2 key. */
  maker: Signer;
  /** Signers allowed to use the seal: the seal's own certificate and a person's. */
  sealHolder: Signer;
  person: Signer;
  /** A person not on any seal's list, and the private key (for openssl to sign with). */
  outsider: Signer;
  outsiderKey: KeyObject;
}

export async function sm2TestPki(): Promise<Sm2TestPki> {
  const rootKey = createKeySigner(await generateKey('SM2'));
  const caSigner = createKeySigner(await generateKey('SM2'));
  const root = await createRootCa({ signer: rootKey, subject: { commonName: 'Sigil SM2 Test Root', country: 'CN' } });
  const ca = await createIssuingCa({
    issuer: { signer: rootKey, certificate: root },
    subject: { commonName: '测试集团 SM2 CA', organization: '测试集团' },
    publicKey: caSigner.publicKey,
  });
  const issuer = { signer: caSigner, certificate: ca };
  const keys = new Map<string, KeyObject>();
  const make = async (kind: 'seal' | 'person', commonName: string, organization: string): Promise<Signer> => {
    const keyObject = await generateKey('SM2');
    keys.set(commonName, keyObject);
    const key = createKeySigner(keyObject);
    const subject = { commonName, organization };
    const cert =
      kind === 'seal'
        ? await issueSealCertificate({ issuer, subject, publicKey: key.publicKey })
        : await issuePersonCertificate({ issuer, subject, publicKey: key.publicKey });
    return withCertificate(key, cert, [ca, root]);
  };
  return {
    root,
    ca,
    caSigner,
    maker: await make('seal', '测试集团电子印章制作', '测试集团'),
    sealHolder: await make('seal', '测试有限公司合同专用章', '测试有限公司'),
    person: await make('person', '张三', '测试有限公司'),
    outsider: await make('person', '李四', '另一公司'),
    outsiderKey: keys.get('李四')!,
  };
}

/** `openssl pkeyutl -verify` of an SM2 signature by the key of `certificate`, ID 1234567812345678. */
export function opensslSm2Verifies(
  tmp: ReturnType<typeof tempDir>,
  certificate: Buffer,
  data: Buffer,
  signature: Buffer,
): boolean {
  const name = `v-${randomBytes(6).toString('hex')}`;
  const pub = tmp.file(`${name}.pub.pem`);
  run('openssl', ['x509', '-in', tmp.file(`${name}.crt.pem`, derToPem(certificate)), '-pubkey', '-noout', '-out', pub]);
  const result = run(
    'openssl',
    [
      'pkeyutl',
      '-verify',
      '-pubin',
      '-inkey',
      pub,
      '-rawin',
      '-digest',
      'sm3',
      '-pkeyopt',
      'distid:1234567812345678',
      '-in',
      tmp.file(`${name}.data`, data),
      '-sigfile',
      tmp.file(`${name}.sig`, signature),
    ],
    { allowFailure: true },
  );
  return result.status === 0 && /Signature Verified Successfully/.test(result.out);
}
