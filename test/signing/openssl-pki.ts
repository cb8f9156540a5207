// Certificates, chains and CRLs made by openssl, never by the code under test: the attack chains
// of the path-validation tests, and `openssl verify` for the independent verdict on each.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { run } from './support.js';

export interface OpensslCert {
  name: string;
  pem: string;
  der: Buffer;
  keyFile: string;
  certFile: string;
  key: ReturnType<typeof createPrivateKey>;
}

export interface OpensslCrl {
  der: Buffer;
  pemFile: string;
}

export interface IssueOptions {
  issuer: OpensslCert;
  subject: string;
  /** Extension lines for the certificate, in openssl's x509v3 config syntax. */
  extensions: string[];
  key?: string;
  /** YYYYMMDDHHMMSSZ */
  startDate?: string;
  endDate?: string;
  md?: 'sha256' | 'sha1';
}

const CA_EXT = ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign'];
/** What Sigil's seal and person certificates carry, so a chain differs from a good one in one point only. */
export const SIGNER_EXT = [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature, nonRepudiation',
  'extendedKeyUsage = emailProtection, 1.3.6.1.5.5.7.3.36',
];
export const TSA_EXT = [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature',
  'extendedKeyUsage = critical, timeStamping',
];
export { CA_EXT };

/** A small CA kit over the openssl command line, in a directory of its own. */
export class OpensslPki {
  private serial = 0x1000;

  constructor(private readonly dir: string) {}

  private path(name: string): string {
    return join(this.dir, name);
  }

  newKey(name: string, spec = 'rsa:2048'): string {
    const file = this.path(`${name}.key`);
    const [alg, size] = spec.split(':');
    if (alg === 'ec')
      run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${size}`, '-out', file]);
    else run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${size}`, '-out', file]);
    return file;
  }

  private load(name: string, keyFile: string): OpensslCert {
    const certFile = this.path(`${name}.pem`);
    const pem = readFileSync(certFile, 'utf8');
    const derFile = this.path(`${name}.der`);
    run('openssl', ['x509', '-in', certFile, '-outform', 'DER', '-out', derFile]);
    return {
      name,
      pem,
      der: readFileSync(derFile),
      keyFile,
      certFile,
      key: createPrivateKey(readFileSync(keyFile)),
    };
  }

  /** A self-signed root (v3, CA). */
  root(name: string, subject: string, extensions: string[] = CA_EXT, keySpec?: string): OpensslCert {
    const keyFile = this.newKey(name, keySpec);
    const config = this.path(`${name}.cnf`);
    writeFileSync(
      config,
      `[req]\ndistinguished_name = dn\nx509_extensions = ext\n[dn]\n[ext]\nsubjectKeyIdentifier = hash\n${extensions.join('\n')}\n`,
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
      '-sha256',
      '-config',
      config,
      '-set_serial',
      String(this.serial++),
      '-out',
      this.path(`${name}.pem`),
    ]);
    return this.load(name, keyFile);
  }

  private minimalReqConfig(): string {
    const file = this.path('req.cnf');
    writeFileSync(file, '[req]\ndistinguished_name = dn\n[dn]\n');
    return file;
  }

  /** A certificate issued with `openssl ca` (so dates and digests can be chosen). */
  issue(name: string, options: IssueOptions): OpensslCert {
    const keyFile = options.key ?? this.newKey(name);
    const csr = this.path(`${name}.csr`);
    run('openssl', [
      'req',
      '-new',
      '-utf8',
      '-key',
      keyFile,
      '-subj',
      options.subject,
      '-config',
      this.minimalReqConfig(),
      '-out',
      csr,
    ]);
    const ext = this.path(`${name}.ext`);
    writeFileSync(
      ext,
      `[ext]\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n${options.extensions.join('\n')}\n`,
    );
    const ca = this.caConfig(options.issuer);
    const start = options.startDate ?? this.stamp(Date.now() - 3_600_000);
    const end = options.endDate ?? this.stamp(Date.now() + 365 * 86_400_000);
    run('openssl', [
      'ca',
      '-batch',
      '-notext',
      '-preserveDN',
      '-config',
      ca,
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
      start,
      '-enddate',
      end,
      '-md',
      options.md ?? 'sha256',
    ]);
    return this.load(name, keyFile);
  }

  /** Revokes `subjects` in the issuer's database and writes its CRL (DER); optionally signed by another key. */
  crl(issuer: OpensslCert, revoked: OpensslCert[]): OpensslCrl {
    const ca = this.caConfig(issuer);
    for (const cert of revoked)
      run('openssl', [
        'ca',
        '-config',
        ca,
        '-cert',
        issuer.certFile,
        '-keyfile',
        issuer.keyFile,
        '-revoke',
        cert.certFile,
        '-crl_reason',
        'keyCompromise',
      ]);
    const pem = this.path(`${issuer.name}-${Date.now()}-crl.pem`);
    run('openssl', [
      'ca',
      '-config',
      ca,
      '-gencrl',
      '-cert',
      issuer.certFile,
      '-keyfile',
      issuer.keyFile,
      '-out',
      pem,
      '-crldays',
      '30',
    ]);
    const der = `${pem}.der`;
    run('openssl', ['crl', '-in', pem, '-outform', 'DER', '-out', der]);
    return { der: readFileSync(der), pemFile: pem };
  }

  private stamp(ms: number): string {
    return new Date(ms)
      .toISOString()
      .replace(/[-:T]/g, '')
      .replace(/\.\d+Z$/, 'Z');
  }

  /** One `openssl ca` database per issuer. */
  private caConfig(issuer: OpensslCert): string {
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
    writeFileSync(join(dir, 'crlnumber'), '01\n');
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
        'crlnumber = $dir/crlnumber',
        'default_md = sha256',
        'default_crl_days = 30',
        'policy = policy_any',
        'unique_subject = no',
        'copy_extensions = none',
        '[policy_any]',
        'commonName = supplied',
        'organizationName = optional',
        'countryName = optional',
        '',
      ].join('\n'),
    );
    return file;
  }

  /** `openssl verify` of `leaf` against `root`, with `untrusted` intermediates and CRLs; its verdict. */
  verify(
    root: OpensslCert,
    leaf: OpensslCert,
    untrusted: OpensslCert[] = [],
    options: { crls?: OpensslCrl[]; purpose?: string; authLevel?: number; policyCheck?: boolean } = {},
  ): { ok: boolean; out: string } {
    const args = ['verify', '-CAfile', root.certFile];
    if (untrusted.length) {
      const bundle = this.path(`untrusted-${leaf.name}.pem`);
      writeFileSync(bundle, untrusted.map((c) => c.pem).join(''));
      args.push('-untrusted', bundle);
    }
    for (const crl of options.crls ?? []) args.push('-CRLfile', crl.pemFile);
    if (options.crls?.length) args.push('-crl_check_all');
    if (options.purpose) args.push('-purpose', options.purpose);
    if (options.authLevel !== undefined) args.push('-auth_level', String(options.authLevel));
    // RFC 5280's user-initial-policy-set is any-policy, as in Sigil's validator; openssl's default is empty.
    if (options.policyCheck) args.push('-policy_check', '-policy', '2.5.29.32.0');
    args.push(leaf.certFile);
    const result = run('openssl', args, { allowFailure: true });
    return { ok: result.status === 0 && /: OK\s*$/m.test(result.out), out: result.out };
  }
}
