import { Secret } from '../common/secret.js';

export interface EncryptionKey {
  id: string;
  key: Secret<Uint8Array>;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;

/**
 * Parses `kid:base64key[,kid:base64key…]`. The first key encrypts; all
 * decrypt. Throws a message that names the entry but never echoes key material.
 */
export function parseEncryptionKeys(raw: string): EncryptionKey[] {
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('at least one key is required');
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    if (!KEY_ID.test(id)) {
      throw new Error(
        `entry ${index + 1} must look like "kid:base64key" (kid: 1-32 of A-Z a-z 0-9 _ -)`,
      );
    }
    if (seen.has(id)) throw new Error(`key id "${id}" appears twice`);
    seen.add(id);
    const encoded = entry.slice(colon + 1);
    const key = Buffer.from(encoded, 'base64');
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded) || key.length !== KEY_BYTES) {
      throw new Error(
        `key "${id}" must be ${KEY_BYTES} random bytes in base64 (e.g. \`openssl rand -base64 32\`)`,
      );
    }
    return { id, key: new Secret(new Uint8Array(key)) };
  });
}
