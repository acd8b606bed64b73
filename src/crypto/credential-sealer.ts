import { Injectable } from '@nestjs/common';
import { UnavailableError } from '../common/errors/app-error.js';
import { DecryptionError, type Sealed, TokenCipher } from './token-cipher.js';
import type { Tokens, TokenSet } from './token-set.js';
import { decodeTokenSet, encodeTokenSet, MalformedTokenSetError } from './token-set.codec.js';

export interface CredentialOwner {
  id: string;
  tenantId: string;
}

/**
 * The encryption boundary: token sets become ciphertext bound to their
 * connection here and nowhere else. Repositories (connections, parked grants,
 * pending revocations) use it on the way to and from storage; everything
 * above them only ever sees TokenSet.
 */
@Injectable()
export class CredentialSealer {
  constructor(private readonly cipher: TokenCipher) {}

  seal(tokens: Tokens, owner: CredentialOwner): Sealed {
    return this.cipher.seal(encodeTokenSet(tokens), {
      tenantId: owner.tenantId,
      connectionId: owner.id,
    });
  }

  open(sealed: { keyId: string; ciphertext: Uint8Array }, owner: CredentialOwner): TokenSet {
    try {
      return decodeTokenSet(
        this.cipher.open(sealed, { tenantId: owner.tenantId, connectionId: owner.id }),
      );
    } catch (error) {
      if (error instanceof DecryptionError || error instanceof MalformedTokenSetError) {
        throw new UnavailableError(
          'credentials_unreadable',
          'The stored credentials of this connection cannot be decrypted',
          { cause: error },
        );
      }
      throw error;
    }
  }

  get activeKeyId(): string {
    return this.cipher.activeKeyId;
  }

  /** The same tokens sealed under the active key (key rotation); throws DecryptionError. */
  reseal(sealed: { keyId: string; ciphertext: Uint8Array }, owner: CredentialOwner): Sealed {
    const binding = { tenantId: owner.tenantId, connectionId: owner.id };
    return this.cipher.seal(this.cipher.open(sealed, binding), binding);
  }
}
