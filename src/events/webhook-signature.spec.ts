import { describe, expect, it } from '@jest/globals';
import { signWebhook, webhookSigningKey } from './webhook-signature.js';

describe('signWebhook', () => {
  // Computed independently: printf 'evt_1.1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec-test-secret-0123' -binary | base64
  it('matches an HMAC-SHA256 computed outside the code', () => {
    expect(
      signWebhook(webhookSigningKey('whsec-test-secret-0123'), {
        id: 'evt_1',
        timestampSeconds: 1_700_000_000,
        body: '{"a":1}',
      }),
    ).toBe(`v1,${EXPECTED}`);
  });

  it('changes with any part of the message', () => {
    const base = { id: '1', timestampSeconds: 1, body: '{}' };
    const key = webhookSigningKey('s'.repeat(16));
    const signature = signWebhook(key, base);
    expect(signWebhook(key, { ...base, id: '2' })).not.toBe(signature);
    expect(signWebhook(key, { ...base, timestampSeconds: 2 })).not.toBe(signature);
    expect(signWebhook(key, { ...base, body: '{ }' })).not.toBe(signature);
    expect(signWebhook(webhookSigningKey('t'.repeat(16)), base)).not.toBe(signature);
  });

  it('uses a Standard Webhooks secret (whsec_<base64>) as its decoded bytes, like the standard libraries', () => {
    const bytes = Buffer.from('0123456789abcdef0123456789abcdef');
    expect(Buffer.from(webhookSigningKey(`whsec_${bytes.toString('base64')}`))).toEqual(bytes);
    expect(Buffer.from(webhookSigningKey('plain-secret-0123'))).toEqual(
      Buffer.from('plain-secret-0123'),
    );
  });
});

const EXPECTED = '+/gfZY23+uS5O7qpPQYVYWKMiL+VpNwGba6aYpE7b10=';
