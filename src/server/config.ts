import { chmodSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { MasterKey } from '../lib/secrets.js';

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const keySpecs = ['RSA-2048', 'RSA-3072', 'ECDSA-P256'] as const;

const base64Key = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)');

/** What Sigil reads from its environment. Every key is listed in docs/configuration.md. */
const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  SIGIL_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  SIGIL_PGLITE_COMPILER: z
    .enum(['baseline', 'optimizing'], { message: 'must be baseline or optimizing' })
    .default('baseline'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SIGIL_MASTER_KEY: base64Key.optional(),
  SIGIL_SESSION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(12),
  SIGIL_SIGNIN_FREE_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  SIGIL_SIGNIN_ACCOUNT_ATTEMPTS: z.coerce.number().int().min(1).max(100_000).default(50),
  SIGIL_SIGNIN_MAX_DELAY_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
  SIGIL_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(1024 * 1024),
  SIGIL_LOGIN_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(100000).default(30),
  SIGIL_PUBLIC_VERIFY_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(100000).default(10),
  SIGIL_PUBLIC_SIGNING_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(100000).default(60),
  SIGIL_IDENTITY_PROVIDER: z.string().trim().min(1).max(100).optional(),
  SIGIL_TRUST_PROXY: boolish.default(false),
  SIGIL_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SIGIL_CONSOLE_DIR: z.string().min(1).optional(),
  SIGIL_PUBLIC_URL: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).optional(),
  SIGIL_JOBS_ENABLED: boolish.default(true),
  SIGIL_JOBS_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(1000),
  SIGIL_JOBS_BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  // Longer than any handler's timeout (at most 60 s), or a slow job could be taken over while it runs.
  SIGIL_JOBS_LEASE_SECONDS: z.coerce.number().int().min(120).max(86_400).default(300),
  SIGIL_BLOB_STORE: z.enum(['dir'], { message: 'must be dir (an S3-compatible store is planned)' }).default('dir'),
  SIGIL_BLOB_DIR: z.string().min(1).optional(),
  SIGIL_BLOB_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(2 * 1024 * 1024 * 1024)
    .default(50 * 1024 * 1024),
  SIGIL_MAILER: z.enum(['smtp', 'none'], { message: 'must be smtp or none' }).default('none'),
  SIGIL_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^/]+/, 'must be an smtp:// or smtps:// URL')
    .optional(),
  SIGIL_MAIL_FROM: z.string().trim().min(3).max(320).optional(),
  SIGIL_SMS: z.enum(['none', 'file', 'http'], { message: 'must be none, file or http' }).default('none'),
  SIGIL_SMS_URL: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).optional(),
  SIGIL_SMS_TOKEN: z.string().min(8, 'must be at least 8 characters').optional(),
  SIGIL_SMS_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  SIGIL_SIGNER: z.enum(['software', 'pkcs11'], { message: 'must be software or pkcs11' }).default('software'),
  SIGIL_PKCS11_MODULE: z.string().regex(/^\//, 'must be the absolute path of a PKCS#11 module (.so)').optional(),
  SIGIL_PKCS11_TOKEN_LABEL: z
    .string()
    .trim()
    .min(1)
    .max(32, 'must be at most 32 characters (a PKCS#11 token label)')
    .optional(),
  SIGIL_PKCS11_PIN: z.string().min(4, 'must be at least 4 characters').max(255).optional(),
  SIGIL_CA_KEY_SPEC: z.enum(keySpecs, { message: `must be one of ${keySpecs.join(', ')}` }).default('RSA-3072'),
  SIGIL_KEY_SPEC: z.enum(keySpecs, { message: `must be one of ${keySpecs.join(', ')}` }).default('RSA-2048'),
  SIGIL_TSA_URLS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.url({ protocol: /^https?$/, message: 'each must be an http:// or https:// URL' }))
        .min(1, 'must list at least one URL'),
    )
    .optional(),
  SIGIL_TSA_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  // Webhooks to private, loopback and link-local addresses: off, so an endpoint cannot reach the inside network.
  SIGIL_WEBHOOKS_ALLOW_PRIVATE: boolish.default(false),
  SIGIL_AUDIT_DIR: z.string().min(1).optional(),
  SIGIL_AUDIT_CHECKPOINT_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 3600)
    .default(60),
});

/**
 * Settings that only mean something together: a channel chosen without its address is a
 * start-up error, and so is an address given for a channel that is not chosen (it would be
 * silently ignored).
 */
function crossCheck(e: z.infer<typeof environmentSchema>): string[] {
  const problems: string[] = [];
  if (e.SIGIL_MAILER === 'smtp') {
    if (!e.SIGIL_SMTP_URL) problems.push('SIGIL_SMTP_URL: required when SIGIL_MAILER=smtp');
    if (!e.SIGIL_MAIL_FROM) problems.push('SIGIL_MAIL_FROM: required when SIGIL_MAILER=smtp');
  } else if (e.SIGIL_SMTP_URL) {
    problems.push('SIGIL_SMTP_URL: set, but SIGIL_MAILER is none; set SIGIL_MAILER=smtp to send mail');
  }
  if (e.SIGIL_SMS === 'http') {
    if (!e.SIGIL_SMS_URL) problems.push('SIGIL_SMS_URL: required when SIGIL_SMS=http');
    if (!e.SIGIL_SMS_TOKEN) problems.push('SIGIL_SMS_TOKEN: required when SIGIL_SMS=http');
  } else if (e.SIGIL_SMS_URL) {
    problems.push(`SIGIL_SMS_URL: set, but SIGIL_SMS is ${e.SIGIL_SMS}; set SIGIL_SMS=http to use the gateway`);
  }
  const pkcs11 = {
    SIGIL_PKCS11_MODULE: e.SIGIL_PKCS11_MODULE,
    SIGIL_PKCS11_TOKEN_LABEL: e.SIGIL_PKCS11_TOKEN_LABEL,
    SIGIL_PKCS11_PIN: e.SIGIL_PKCS11_PIN,
  };
  for (const [key, value] of Object.entries(pkcs11)) {
    if (e.SIGIL_SIGNER === 'pkcs11' && !value) problems.push(`${key}: required when SIGIL_SIGNER=pkcs11`);
    if (e.SIGIL_SIGNER !== 'pkcs11' && value)
      problems.push(`${key}: set, but SIGIL_SIGNER is software; set SIGIL_SIGNER=pkcs11 to keep keys in the token`);
  }
  return problems;
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** How V8 compiles the embedded database's WebAssembly (see DatabaseOptions.pgliteCompiler). */
  pgliteCompiler: 'baseline' | 'optimizing';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Explicit key from the environment; when absent the data directory's key file is used. */
  masterKey: MasterKey | undefined;
  sessionTtlHours: number;
  /**
   * Failed sign-ins slow down, never lock: after `freeAttempts` failures for one address from one
   * client, each further attempt from that client waits twice as long as the one before (from 1 s
   * up to `maxDelayMinutes`); after `accountAttempts` failures for the address from all clients,
   * so do clients it has not signed in from before.
   */
  signIn: { freeAttempts: number; accountAttempts: number; maxDelayMinutes: number };
  bodyLimitBytes: number;
  loginRatePerMinute: number;
  /** Public verifications (an upload or a look-up by hash, each counted apart) per client address per minute. */
  publicVerifyRatePerMinute: number;
  /** Requests per client address per minute to each route of the outside signer's pages. */
  publicSigningRatePerMinute: number;
  /**
   * The identity provider (real-name, face) outside signers of a contract asking for one pass, by
   * the name it was registered under; none is built in, and by default none is configured.
   */
  identityProvider: string | null;
  trustProxy: boolean;
  /** Bearer token a Prometheus scraper presents for /metrics; absent means loopback scrapers only. */
  metricsToken: string | undefined;
  /** Built console to serve; absent means none is served. */
  consoleDir: string | undefined;
  /** Where people reach this server, for links in e-mail and SMS; absent means messages carry no link. */
  publicUrl: string | undefined;
  jobs: { enabled: boolean; pollMs: number; batchSize: number; leaseSeconds: number };
  blobs: { store: 'dir'; dir: string; maxBytes: number };
  mail: { mailer: 'smtp' | 'none'; smtpUrl: string | undefined; from: string | undefined };
  sms: {
    gateway: 'none' | 'file' | 'http';
    url: string | undefined;
    token: string | undefined;
    timeoutMs: number;
    outboxFile: string;
  };
  /**
   * Keys and time-stamps: new CA, seal and person keys are sealed in the database (software) or
   * generated in a PKCS#11 token; B-T and above ask the external TSAs in order, or the built-in one.
   */
  pki: {
    signer: 'software' | 'pkcs11';
    pkcs11: { library: string; tokenLabel: string; pin: string } | undefined;
    caKeySpec: (typeof keySpecs)[number];
    keySpec: (typeof keySpecs)[number];
    tsaUrls: string[];
    tsaTimeoutMs: number;
  };
  /**
   * The audit log's checkpoints: each server appends those it signs or sees to a file per group
   * in `dir`, outside the database; a group's tree is signed again when it grew and its newest
   * checkpoint is `checkpointSeconds` old.
   */
  audit: { dir: string; checkpointSeconds: number };
  /**
   * Webhook deliveries. `allowPrivate`: endpoints may be (or resolve to) loopback, private,
   * link-local, unique-local, CGNAT or multicast addresses; off by default (server-side request forgery).
   */
  webhooks: { allowPrivate: boolean };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const KNOWN_PREFIX = 'SIGIL_';

/**
 * Reads configuration from an environment, listing every problem at once.
 * An unknown SIGIL_* variable is a problem too: a typo must not silently fall back.
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = [];
  const known = new Set(Object.keys(environmentSchema.shape));
  for (const key of Object.keys(env)) {
    if (key.startsWith(KNOWN_PREFIX) && !known.has(key)) problems.push(`${key}: unknown setting`);
  }
  const present = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => known.has(k) && v !== undefined && v !== ''),
  );
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  } else {
    problems.push(...crossCheck(parsed.data));
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.SIGIL_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    pgliteCompiler: e.SIGIL_PGLITE_COMPILER,
    logLevel: e.LOG_LEVEL,
    masterKey: e.SIGIL_MASTER_KEY ? Buffer.from(e.SIGIL_MASTER_KEY, 'base64') : undefined,
    sessionTtlHours: e.SIGIL_SESSION_TTL_HOURS,
    signIn: {
      freeAttempts: e.SIGIL_SIGNIN_FREE_ATTEMPTS,
      accountAttempts: e.SIGIL_SIGNIN_ACCOUNT_ATTEMPTS,
      maxDelayMinutes: e.SIGIL_SIGNIN_MAX_DELAY_MINUTES,
    },
    bodyLimitBytes: e.SIGIL_BODY_LIMIT_BYTES,
    loginRatePerMinute: e.SIGIL_LOGIN_RATE_PER_MINUTE,
    publicVerifyRatePerMinute: e.SIGIL_PUBLIC_VERIFY_RATE_PER_MINUTE,
    publicSigningRatePerMinute: e.SIGIL_PUBLIC_SIGNING_RATE_PER_MINUTE,
    identityProvider: e.SIGIL_IDENTITY_PROVIDER ?? null,
    trustProxy: e.SIGIL_TRUST_PROXY,
    metricsToken: e.SIGIL_METRICS_TOKEN,
    consoleDir: e.SIGIL_CONSOLE_DIR ? resolve(e.SIGIL_CONSOLE_DIR) : undefined,
    publicUrl: e.SIGIL_PUBLIC_URL?.replace(/\/+$/, ''),
    jobs: {
      enabled: e.SIGIL_JOBS_ENABLED,
      pollMs: e.SIGIL_JOBS_POLL_MS,
      batchSize: e.SIGIL_JOBS_BATCH_SIZE,
      leaseSeconds: e.SIGIL_JOBS_LEASE_SECONDS,
    },
    blobs: {
      store: e.SIGIL_BLOB_STORE,
      dir: resolve(e.SIGIL_BLOB_DIR ?? join(e.SIGIL_DATA_DIR, 'blobs')),
      maxBytes: e.SIGIL_BLOB_MAX_BYTES,
    },
    mail: { mailer: e.SIGIL_MAILER, smtpUrl: e.SIGIL_SMTP_URL, from: e.SIGIL_MAIL_FROM },
    sms: {
      gateway: e.SIGIL_SMS,
      url: e.SIGIL_SMS_URL,
      token: e.SIGIL_SMS_TOKEN,
      timeoutMs: e.SIGIL_SMS_TIMEOUT_MS,
      outboxFile: resolve(join(e.SIGIL_DATA_DIR, 'sms-outbox.jsonl')),
    },
    pki: {
      signer: e.SIGIL_SIGNER,
      pkcs11:
        e.SIGIL_SIGNER === 'pkcs11' && e.SIGIL_PKCS11_MODULE && e.SIGIL_PKCS11_TOKEN_LABEL && e.SIGIL_PKCS11_PIN
          ? { library: e.SIGIL_PKCS11_MODULE, tokenLabel: e.SIGIL_PKCS11_TOKEN_LABEL, pin: e.SIGIL_PKCS11_PIN }
          : undefined,
      caKeySpec: e.SIGIL_CA_KEY_SPEC,
      keySpec: e.SIGIL_KEY_SPEC,
      tsaUrls: e.SIGIL_TSA_URLS ?? [],
      tsaTimeoutMs: e.SIGIL_TSA_TIMEOUT_MS,
    },
    audit: {
      dir: resolve(e.SIGIL_AUDIT_DIR ?? join(e.SIGIL_DATA_DIR, 'audit')),
      checkpointSeconds: e.SIGIL_AUDIT_CHECKPOINT_SECONDS,
    },
    webhooks: { allowPrivate: e.SIGIL_WEBHOOKS_ALLOW_PRIVATE },
  };
}

export const MASTER_KEY_FILE = 'master.key';

/**
 * The master key: from the environment, or from `<data>/master.key`, which is
 * generated (mode 0600) on the first start. No key ships with Sigil.
 */
export function loadMasterKey(config: Config, warn: (message: string) => void): MasterKey {
  if (config.masterKey) return config.masterKey;
  const file = join(config.dataDir, MASTER_KEY_FILE);
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new ConfigError([`${file}: must hold 32 bytes, base64-encoded`]);
    return key;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  warn(
    `generated a new master key in ${file} (mode 0600). Back it up: without it, sealed secrets cannot be opened. In production set SIGIL_MASTER_KEY from a secret store instead.`,
  );
  return key;
}
