import { createHmac } from 'node:crypto';

const STANDARD_SECRET_PREFIX = 'whsec_';

/**
 * The HMAC key of a WEBHOOK_SECRET. A Standard Webhooks secret
 * (`whsec_<base64>`) is used as its decoded bytes, as the standard's
 * verifier libraries do; any other secret as its UTF-8 bytes.
 */
export function webhookSigningKey(secret: string): Uint8Array {
  if (secret.startsWith(STANDARD_SECRET_PREFIX)) {
    return Buffer.from(secret.slice(STANDARD_SECRET_PREFIX.length), 'base64');
  }
  return Buffer.from(secret, 'utf8');
}

/**
 * Signs a webhook the Standard Webhooks way (https://www.standardwebhooks.com):
 * HMAC-SHA256 over `id.timestamp.body`, base64, as `v1,<signature>`.
 * Receivers check it with a constant-time compare and refuse timestamps far
 * from their clock.
 */
export function signWebhook(
  key: Uint8Array,
  message: { id: string; timestampSeconds: number; body: string },
): string {
  const signed = `${message.id}.${message.timestampSeconds}.${message.body}`;
  return `v1,${createHmac('sha256', key).update(signed).digest('base64')}`;
}
