// Signing as the Standard Webhooks specification has it: the secret is shown as `whsec_<base64>`
// and its decoded bytes are the HMAC-SHA256 key; the signed content is `<webhook-id>.<webhook-
// timestamp>.<body>`; `webhook-signature` lists `v1,<base64 signature>` entries separated by
// spaces, so a receiver accepts a message signed by any secret it knows (the rotation overlap).
import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
/** 32 bytes: the specification asks for 24 to 64. */
const SECRET_BYTES = 32;

/** The context a secret is sealed under: a sealed secret copied to another endpoint does not open. */
export const secretContext = (endpointId: string) => `webhook-secret:${endpointId}`;

export function newSecret(): { key: Buffer; text: string } {
  const key = randomBytes(SECRET_BYTES);
  return { key, text: `${SECRET_PREFIX}${key.toString('base64')}` };
}

export function signatureHeader(keys: Buffer[], message: { id: string; timestamp: number; body: string }): string {
  const content = `${message.id}.${message.timestamp}.${message.body}`;
  return keys.map((key) => `v1,${createHmac('sha256', key).update(content).digest('base64')}`).join(' ');
}
