import { describe, expect, it } from '@jest/globals';
import { signWebhook } from './webhook-signature.js';

describe('signWebhook', () => {
  // Computed independently: printf 'evt_1.1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec-test-secret-0123' -binary | base64
  it('matches an HMAC-SHA256 computed outside the code', () => {
    expect(
      signWebhook('whsec-test-secret-0123', {
        id: 'evt_1',
        timestampSeconds: 1_700_000_000,
        body: '{"a":1}',
      }),
    ).toBe(`v1,${EXPECTED}`);
  });

  it('changes with any part of the message', () => {
    const base = { id: '1', timestampSeconds: 1, body: '{}' };
    const signature = signWebhook('s'.repeat(16), base);
    expect(signWebhook('s'.repeat(16), { ...base, id: '2' })).not.toBe(signature);
    expect(signWebhook('s'.repeat(16), { ...base, timestampSeconds: 2 })).not.toBe(signature);
    expect(signWebhook('s'.repeat(16), { ...base, body: '{ }' })).not.toBe(signature);
    expect(signWebhook('t'.repeat(16), base)).not.toBe(signature);
  });
});

const EXPECTED = '+/gfZY23+uS5O7qpPQYVYWKMiL+VpNwGba6aYpE7b10=';
