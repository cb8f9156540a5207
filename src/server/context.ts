import type { Db } from '../db/schema.js';
import type { DatabaseKind } from '../db/database.js';
import type { MasterKey } from '../lib/secrets.js';
import type { Config } from './config.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { Mailer } from '../transports/mailer.js';
import type { SmsGateway } from '../transports/sms-gateway.js';
import { type KeyVault } from '../signing/index.js';

/** What services need from the running app; built once in `buildApp`. */
export interface AppContext {
  db: Db;
  dbKind: DatabaseKind;
  config: Config;
  masterKey: MasterKey;
  /** The clock, replaceable in tests (lock-out expiry, TOTP steps). */
  now: () => Date;
  /** Content-addressed file storage (SIGIL_BLOB_STORE); which group owns which file is in the `blobs` table. */
  blobs: BlobStore;
  /** Outgoing mail (SIGIL_MAILER) and text messages (SIGIL_SMS); tests pass their own implementations. */
  mailer: Mailer;
  sms: SmsGateway;
  /** Private keys of the CA, the TSA, seals and people (SIGIL_SIGNER): sealed in the database or in a PKCS#11 token. */
  keys: KeyVault;
}
