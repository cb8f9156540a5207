// The deployment's device-ticket key (docs/device-protocol.md §2): made on first need by the key
// vault (sealed under the master key, or generated inside the PKCS#11 token), never a default.
// Every device pins its public half at provisioning; it signs tickets and directives.
import { newId } from '../../lib/ids.js';
import type { AppContext } from '../../server/context.js';
import { type KeyReference, type KeySigner, type KeyVault } from '../../signing/index.js';
import { derToP1363, keyIdOf, signMessage, type MessageKind, type SignedMessage } from '../../devices/protocol.js';
import * as repo from './device.repository.js';

type KeyContext = Pick<AppContext, 'db' | 'keys' | 'now'>;

const keyName = (id: string) => `device-ticket:${id}`;

/** The active key per database, once read: every sync signs a directive with it (rotation restarts the processes). */
const activeKeys = new WeakMap<object, repo.TicketKeyRecord>();

export async function ensureTicketKey(ctx: KeyContext): Promise<repo.TicketKeyRecord> {
  const cached = activeKeys.get(ctx.db);
  if (cached) return cached;
  const found = await repo.findActiveTicketKey(ctx.db);
  if (found) {
    activeKeys.set(ctx.db, found);
    return found;
  }
  await ctx.db.transaction().execute(async (trx) => {
    // Two processes making the first key at once: one waits for the other and then finds it.
    await repo.lockNamed(trx, 'sigil:devices:ticket-key');
    if (await repo.findActiveTicketKey(trx)) return;
    const id = newId();
    const { reference, signer } = await ctx.keys.generate('ECDSA-P256', keyName(id));
    await repo.insertTicketKey(trx, {
      id,
      keyId: keyIdOf(signer.publicKey),
      publicKey: signer.publicKey,
      reference,
      at: ctx.now(),
    });
  });
  const key = await repo.findActiveTicketKey(ctx.db);
  if (!key) throw new Error('the device-ticket key was created but cannot be read back');
  return key;
}

const openSigners = new WeakMap<KeyVault, Map<string, Promise<KeySigner>>>();

function signerOf(ctx: KeyContext, key: repo.TicketKeyRecord): Promise<KeySigner> {
  let byKey = openSigners.get(ctx.keys);
  if (!byKey) openSigners.set(ctx.keys, (byKey = new Map()));
  let signer = byKey.get(key.keyId);
  if (!signer) {
    signer = ctx.keys.open(key.reference as KeyReference, keyName(key.id));
    signer.catch(() => byKey.delete(key.keyId));
    byKey.set(key.keyId, signer);
  }
  return signer;
}

/** Signs a ticket or a directive with the active key; `body` names the key by its id already. */
export async function signWithTicketKey(
  ctx: KeyContext,
  key: repo.TicketKeyRecord,
  kind: MessageKind,
  body: object,
): Promise<SignedMessage> {
  const signer = await signerOf(ctx, key);
  return signMessage(kind, body, async (data) => derToP1363(await signer.sign(data, 'SHA-256')));
}
