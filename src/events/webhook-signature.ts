import { createHmac } from 'node:crypto';

/**
 * Signs a webhook the Standard Webhooks way (https://www.standardwebhooks.com):
 * HMAC-SHA256 over `id.timestamp.body`, base64, as `v1,<signature>`. The
 * key is WEBHOOK_SECRET's UTF-8 bytes. Receivers check the signature with a
 * constant-time compare and refuse timestamps far from their clock.
 */
export function signWebhook(
  secret: string,
  message: { id: string; timestampSeconds: number; body: string },
): string {
  const signed = `${message.id}.${message.timestampSeconds}.${message.body}`;
  return `v1,${createHmac('sha256', secret).update(signed).digest('base64')}`;
}
