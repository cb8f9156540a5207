// SM2 certificates and CRLs made by openssl (never by the code under test), signed SM2-with-SM3
// with the standard distinguishing ID, and `openssl verify -vfyopt distid:…` for the independent
// verdict on a chain. OpenSSL 3 signs SM2 with an empty ID unless told, so every command says it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './support.js';

export const DISTID = 'distid:1234567812345678';

export interface Sm2Cert {
  name: string;
  der: Buffer;
  certFile: string;
  keyFile: string;
}

export const SM2_CA_EXT = ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign'];
export const SM2_SIGNER_EXT = [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature, nonRepudiation',
  'extendedKeyUsage = emailProtection, 1.3.6.1.5.5.7.3.36',
];

export const stamp = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/** A small SM2 CA kit over the openssl command line, in a directory of its own. */
export class OpensslSm2Pki {
  private serial = 0x2000;
  constructor(private readonly dir: string) {}

  private path(name: string): string {
    return join(this.dir, name);
  }

  newKey(name: string): string {
    const file = this.path(`${name}.key`);
    run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', file]);
    return file;
  }

  private load(name: string, keyFile: string): Sm2Cert {
    const certFile = this.path(`${name}.pem`);
    const derFile = this.path(`${name}.der`);
    run('openssl', ['x509', '-in', certFile, '-outform', 'DER', '-out', derFile]);
    return { name, der: readFileSync(derFile), certFile, keyFile };
  }

  root(name: string, subject: string): Sm2Cert {
    const keyFile = this.newKey(name);
    const config = this.path(`${name}.cnf`);
    writeFileSync(
      config,
      `[req]\ndistinguished_name = dn\nx509_extensions = ext\n[dn]\n[ext]\nsubjectKeyIdentifier = hash\n${SM2_CA_EXT.join('\n')}\n`,
    );
    run('openssl', [
      'req',
      '-x509',
      '-new',
      '-utf8',
      '-key',
      keyFile,
      '-subj',
      subject,
      '-days',
      '3650',
      '-sm3',
      '-sigopt',
      DISTID,
      '-config',
      config,
      '-set_serial',
      String(this.serial++),
      '-out',
      this.path(`${name}.pem`),
    ]);
    return this.load(name, keyFile);
  }

  /**
   * A certificate issued with `openssl ca` by `issuer` (dates chosen); `distid: null` signs it
   * with OpenSSL's empty default ID, as a careless CA would.
   */
  issue(
    name: string,
    options: {
      issuer: Sm2Cert;
      subject: string;
      extensions: string[];
      startDate?: string;
      endDate?: string;
      distid?: string | null;
      /** Leave out authorityKeyIdentifier, so an issuer is found by its name alone. */
      withoutAuthorityKeyId?: boolean;
    },
  ): Sm2Cert {
    const keyFile = this.newKey(name);
    const csr = this.path(`${name}.csr`);
    const reqConfig = this.path('req.cnf');
    writeFileSync(reqConfig, '[req]\ndistinguished_name = dn\n[dn]\n');
    run('openssl', [
      'req',
      '-new',
      '-utf8',
      '-key',
      keyFile,
      '-subj',
      options.subject,
      '-sm3',
      '-sigopt',
      DISTID,
      '-config',
      reqConfig,
      '-out',
      csr,
    ]);
    const ext = this.path(`${name}.ext`);
    writeFileSync(
      ext,
      `[ext]\nsubjectKeyIdentifier = hash\n${options.withoutAuthorityKeyId ? '' : 'authorityKeyIdentifier = keyid\n'}${options.extensions.join('\n')}\n`,
    );
    const distid = options.distid === undefined ? DISTID : options.distid;
    run('openssl', [
      'ca',
      '-batch',
      '-notext',
      '-preserveDN',
      '-utf8',
      '-config',
      this.caConfig(options.issuer),
      '-cert',
      options.issuer.certFile,
      '-keyfile',
      options.issuer.keyFile,
      '-in',
      csr,
      '-out',
      this.path(`${name}.pem`),
      '-extfile',
      ext,
      '-extensions',
      'ext',
      '-startdate',
      options.startDate ?? stamp(Date.now() - 3_600_000),
      '-enddate',
      options.endDate ?? stamp(Date.now() + 365 * 86_400_000),
      '-md',
      'sm3',
      '-vfyopt',
      DISTID,
      ...(distid ? ['-sigopt', distid] : []),
    ]);
    return this.load(name, keyFile);
  }

  /**
   * `openssl verify` with the standard ID, link by link. OpenSSL 3.0 applies `-vfyopt distid` to
   * the certificate it is asked about only, so an intermediate's own SM2 signature fails with
   * "certificate signature failure" whatever it is; each link is therefore checked on its own:
   * the first under the root, each next one under its issuer as a (partial-chain) anchor, whose
   * validity openssl still checks. `chain` is the path from the root's child down to the leaf.
   */
  verify(root: Sm2Cert | string, chain: Array<Sm2Cert | string>): { ok: boolean; out: string } {
    const file = (c: Sm2Cert | string) => (typeof c === 'string' ? c : c.certFile);
    let out = '';
    for (let i = 0; i < chain.length; i++) {
      const issuer = i === 0 ? root : chain[i - 1]!;
      const args = ['verify', '-vfyopt', DISTID, ...(i === 0 ? [] : ['-partial_chain']), '-CAfile', file(issuer)];
      const result = run('openssl', [...args, file(chain[i]!)], { allowFailure: true });
      out += result.out;
      if (result.status !== 0) return { ok: false, out };
    }
    return { ok: true, out };
  }

  private caConfig(issuer: Sm2Cert): string {
    const dir = this.path(`ca-${issuer.name}`);
    const file = join(dir, 'ca.cnf');
    try {
      readFileSync(file);
      return file;
    } catch {
      // first use of this issuer
    }
    mkdirSync(join(dir, 'new'), { recursive: true });
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'index.txt.attr'), 'unique_subject = no\n');
    writeFileSync(join(dir, 'serial'), `${(this.serial++).toString(16).padStart(4, '0')}\n`);
    writeFileSync(
      file,
      [
        '[ca]',
        'default_ca = ca_default',
        '[ca_default]',
        `dir = ${dir}`,
        'database = $dir/index.txt',
        'new_certs_dir = $dir/new',
        'serial = $dir/serial',
        'policy = policy_any',
        'default_md = sm3',
        'email_in_dn = no',
        '[policy_any]',
        'countryName = optional',
        'organizationName = optional',
        'commonName = supplied',
        '',
      ].join('\n'),
    );
    return file;
  }
}
