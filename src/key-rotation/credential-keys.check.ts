import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigError } from '../config/config-error.js';
import { TokenCipher } from '../crypto/token-cipher.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { ParkedGrants } from '../parked-grants/parked-grants.service.js';
import { RevocationService } from '../revocation/revocation.service.js';

/**
 * Refuses to start when the configured keys cannot read what is stored: a
 * removed key or a wrong key would otherwise surface later, one failing
 * token request at a time.
 */
@Injectable()
export class CredentialKeysCheck implements OnModuleInit {
  constructor(
    @Inject(ConnectionStore)
    private readonly repository: Pick<ConnectionStore, 'credentialKeySamples' | 'canOpen'>,
    @Inject(RevocationService) private readonly revocations: Pick<RevocationService, 'keyIds'>,
    @Inject(ParkedGrants) private readonly pendingGrants: Pick<ParkedGrants, 'keyIds'>,
    private readonly cipher: TokenCipher,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const { keyId, connectionId } of await this.repository.credentialKeySamples()) {
      if (!this.cipher.hasKey(keyId)) {
        throw new ConfigError(
          `ENCRYPTION_KEYS: stored credentials use key "${keyId}", which is not configured`,
        );
      }
      if (!(await this.repository.canOpen(connectionId))) {
        throw new ConfigError(
          `ENCRYPTION_KEYS: key "${keyId}" does not decrypt the stored credentials`,
        );
      }
    }
    const waiting = [
      ...(await this.revocations.keyIds()).map((keyId) => ['tokens awaiting revocation', keyId]),
      ...(await this.pendingGrants.keyIds()).map((keyId) => ['grants awaiting finalize', keyId]),
    ];
    for (const [what, keyId] of waiting) {
      if (!this.cipher.hasKey(keyId!)) {
        throw new ConfigError(
          `ENCRYPTION_KEYS: ${what} use key "${keyId}", which is not configured`,
        );
      }
    }
  }
}
