// Where the platform's private keys live: sealed in the database (AES-256-GCM under the master key)
// or inside a PKCS#11 token. The database keeps only a `KeyReference`; the vault turns it back
// into a KeySigner, so the CA, the TSA and the document signer never see which store holds a key.
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { SigningError } from './errors.js';
import { openSecret, sealSecret, type MasterKey } from '../lib/secrets.js';
import { generateKey, type KeySpec } from './ca.js';
import { generatePkcs11KeyPair, openPkcs11KeySigner, type Pkcs11KeySigner } from './pkcs11-signer.js';
import { createKeySigner, type KeySigner } from './signer.js';

/** What a database row stores about a key: the sealed PKCS#8, or where the token keeps it. */
export type KeyReference =
  { store: 'database'; sealed: string } | { store: 'pkcs11'; tokenLabel: string; keyId: string };

export interface KeyVault {
  /** Where `generate` puts new keys. */
  readonly store: 'database' | 'pkcs11';
  /**
   * A new key. `name` binds it to its owner: the sealing context (so a sealed key copied to
   * another row does not open) and the token label.
   */
  generate(spec: KeySpec, name: string): Promise<{ reference: KeyReference; signer: KeySigner }>;
  /** Keeps a key that arrived from outside (a PKCS#12 import): always sealed in the database. */
  keep(key: KeyObject, name: string): KeyReference;
  open(reference: KeyReference, name: string): Promise<KeySigner>;
  close(): void;
}

export interface Pkcs11VaultOptions {
  library: string;
  tokenLabel: string;
  pin: string;
}

const context = (name: string) => `sigil-key:${name}`;

function sealKey(masterKey: MasterKey, key: KeyObject, name: string): KeyReference {
  return {
    store: 'database',
    sealed: sealSecret(masterKey, key.export({ format: 'der', type: 'pkcs8' }), context(name)),
  };
}

function openSealed(masterKey: MasterKey, sealed: string, name: string): KeySigner {
  let pkcs8: Buffer;
  try {
    pkcs8 = openSecret(masterKey, sealed, context(name));
  } catch {
    // A different master key, or a sealed value moved to another row: an operator problem.
    throw new SigningError(
      'signer_unavailable',
      'A private key sealed in the database cannot be opened with this master key.',
    );
  }
  return createKeySigner(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
}

/** Opened keys a vault keeps, by their sealed form: a seal's or person's key signs again and again. */
const OPENED_KEPT = 256;

/**
 * Opens sealed keys once per process: unsealing and importing a PKCS#8 (and exporting its public
 * half) cost more than the signature it then makes. Keyed by the sealed text and its name, so a
 * key opens only under the context it was sealed with, as `openSealed` checks; a vault is made
 * for one master key, so the cache is the vault's own.
 */
function openedKeys(masterKey: MasterKey): (sealed: string, name: string) => KeySigner {
  const kept = new Map<string, KeySigner>();
  return (sealed, name) => {
    const key = `${name}\n${sealed}`;
    let signer = kept.get(key);
    if (signer) {
      // Most recently used last, so the first is the one to drop.
      kept.delete(key);
      kept.set(key, signer);
      return signer;
    }
    signer = openSealed(masterKey, sealed, name);
    if (kept.size >= OPENED_KEPT) kept.delete(kept.keys().next().value!);
    kept.set(key, signer);
    return signer;
  };
}

/** Keys generated in this process and sealed under the master key (the default, SIGIL_SIGNER=software). */
export function createSoftwareVault(masterKey: MasterKey): KeyVault {
  const openKept = openedKeys(masterKey);
  return {
    store: 'database',
    async generate(spec, name) {
      const key = await generateKey(spec);
      return { reference: sealKey(masterKey, key, name), signer: createKeySigner(key) };
    },
    keep: (key, name) => sealKey(masterKey, key, name),
    async open(reference, name) {
      if (reference.store !== 'database')
        throw new SigningError(
          'signer_unavailable',
          `The key lives in the PKCS#11 token ${reference.tokenLabel}, but SIGIL_SIGNER is software.`,
        );
      return openKept(reference.sealed, name);
    },
    close() {},
  };
}

/**
 * New keys generated inside a PKCS#11 token (SIGIL_SIGNER=pkcs11); keys sealed in the database
 * before the switch, and imported ones, still open. One session per key, kept open: closing one
 * with C_Logout would log out the others, so sessions end together in `close`.
 */
export function createPkcs11Vault(options: Pkcs11VaultOptions, masterKey: MasterKey): KeyVault {
  const open = new Map<string, Promise<Pkcs11KeySigner>>();
  const openKept = openedKeys(masterKey);
  const token = { library: options.library, tokenLabel: options.tokenLabel, pin: options.pin };
  const openToken = (keyId: string): Promise<Pkcs11KeySigner> => {
    let signer = open.get(keyId);
    if (!signer) {
      signer = Promise.resolve().then(() => openPkcs11KeySigner({ ...token, keyId }));
      // A failed open is not cached: the token may be back on the next try.
      signer.catch(() => open.delete(keyId));
      open.set(keyId, signer);
    }
    return signer;
  };
  return {
    store: 'pkcs11',
    async generate(spec, name) {
      // PKCS#11 has no standard SM2 mechanism (SoftHSM2 has none): saying so beats a key kept elsewhere.
      if (spec === 'SM2')
        throw new SigningError(
          'signer_unavailable',
          'SM2 keys cannot be generated in the PKCS#11 token; use SIGIL_SIGNER=software for SM2 seals.',
        );
      const id = randomBytes(16);
      await generatePkcs11KeyPair({ ...token, spec, label: `sigil:${name}`, id });
      const keyId = id.toString('hex');
      return { reference: { store: 'pkcs11', tokenLabel: options.tokenLabel, keyId }, signer: await openToken(keyId) };
    },
    keep: (key, name) => sealKey(masterKey, key, name),
    async open(reference, name) {
      if (reference.store === 'database') return openKept(reference.sealed, name);
      if (reference.tokenLabel !== options.tokenLabel)
        throw new SigningError(
          'signer_unavailable',
          `The key lives in the PKCS#11 token ${reference.tokenLabel}, not in ${options.tokenLabel}.`,
        );
      return openToken(reference.keyId);
    },
    close() {
      for (const signer of open.values()) {
        void signer.then(
          (s) => {
            try {
              s.close();
            } catch {
              // the token went away; nothing is left to close
            }
          },
          () => undefined,
        );
      }
      open.clear();
    },
  };
}

/** The vault SIGIL_SIGNER chooses. */
export function createKeyVault(
  options: { signer: 'software' | 'pkcs11'; pkcs11: Pkcs11VaultOptions | undefined },
  masterKey: MasterKey,
): KeyVault {
  if (options.signer === 'software') return createSoftwareVault(masterKey);
  if (!options.pkcs11)
    throw new SigningError('signer_unavailable', 'SIGIL_SIGNER=pkcs11 needs the module, token label and PIN.');
  return createPkcs11Vault(options.pkcs11, masterKey);
}
