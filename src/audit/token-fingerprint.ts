import { createHmac, hkdfSync } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';

/** HKDF info: a fingerprint key can never collide with another use of the encryption key. */
const LABEL = 'token-broker audit token fingerprint v1';

/**
 * A keyed HMAC-SHA256 of an access token for the audit trail: equal tokens
 * give equal fingerprints, so a leaked token can be traced to the reads
 * that handed it out, but the trail never holds the token, and without the
 * key a fingerprint cannot be checked against guesses. The key is derived
 * (HKDF-SHA256) from the active encryption key and named in the value
 * (`<key id>:<base64url>`), so fingerprints made before a key rotation stay
 * checkable with the old key while it is in ENCRYPTION_KEYS.
 */
@Injectable()
export class TokenFingerprint {
  private readonly keyId: string;
  private readonly key: Buffer;

  constructor(config: AppConfig) {
    const active = config.encryptionKeys[0]!;
    this.keyId = active.id;
    this.key = Buffer.from(hkdfSync('sha256', active.key.reveal(), Buffer.alloc(0), LABEL, 32));
  }

  of(accessToken: string): string {
    return `${this.keyId}:${createHmac('sha256', this.key).update(accessToken).digest('base64url')}`;
  }
}
