import type { Db } from '../db/schema.js';
import type { DatabaseKind } from '../db/database.js';
import type { MasterKey } from '../lib/secrets.js';
import type { Config } from './config.js';

/** What services need from the running app; built once in `buildApp`. */
export interface AppContext {
  db: Db;
  dbKind: DatabaseKind;
  config: Config;
  masterKey: MasterKey;
  /** The clock, replaceable in tests (lock-out expiry, TOTP steps). */
  now: () => Date;
}
