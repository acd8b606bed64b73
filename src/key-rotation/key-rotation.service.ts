import { Injectable, Logger } from '@nestjs/common';
import { DecryptionError } from '../crypto/token-cipher.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { CredentialSealer } from '../crypto/credential-sealer.js';
import { KeyRotationRepository, type StaleSealed } from './key-rotation.repository.js';

const BATCH = 200;

export interface RotationResult {
  reencrypted: number;
  /** Rows that changed under us (a refresh wrote them with the active key first). */
  superseded: number;
  /** Rows no configured key opens; left as they are, and logged. */
  unreadable: number;
}

/**
 * Moves every stored ciphertext to the active key (the first of
 * ENCRYPTION_KEYS), so an old key can be removed from the ring. Safe beside
 * live refreshes: each row is replaced by compare-and-set, never blindly.
 */
@Injectable()
export class KeyRotationService {
  private readonly logger = new Logger(KeyRotationService.name);

  constructor(
    private readonly repository: KeyRotationRepository,
    private readonly sealer: CredentialSealer,
    private readonly connections: ConnectionStore,
  ) {}

  /** Whether anything is stored under a key other than the active one. */
  pending(): Promise<boolean> {
    return this.repository.anyStale(this.sealer.activeKeyId);
  }

  /** Rotates until nothing is left under an old key, or `stop` aborts (between batches). */
  async rotateAll(stop?: AbortSignal): Promise<RotationResult & { complete: boolean }> {
    const result: RotationResult = { reencrypted: 0, superseded: 0, unreadable: 0 };
    const active = this.sealer.activeKeyId;
    const complete =
      (await this.drain(
        (skip) => this.repository.staleCredentials(active, BATCH, skip),
        (row, sealed) => this.replaceCredential(row, sealed),
        result,
        stop,
      )) &&
      (await this.drain(
        (skip) => this.repository.staleRevocations(active, BATCH, skip),
        (row, sealed) => this.repository.replaceRevocation(row, sealed),
        result,
        stop,
      )) &&
      (await this.drain(
        (skip) => this.repository.stalePendingGrants(active, BATCH, skip),
        (row, sealed) => this.repository.replacePendingGrant(row, sealed),
        result,
        stop,
      ));
    if (result.reencrypted || result.unreadable) {
      this.logger.log({ ...result, keyId: active, complete, msg: 'credentials re-encrypted' });
    }
    return { ...result, complete };
  }

  /**
   * A re-sealed credential: replicas' caches hold the old ciphertext, which
   * stops opening once its key leaves the ring, so they drop it now.
   */
  private async replaceCredential(
    row: StaleSealed,
    sealed: ReturnType<CredentialSealer['reseal']>,
  ): Promise<boolean> {
    const replaced = await this.repository.replaceCredential(row, sealed);
    if (replaced) await this.connections.invalidate(row.id);
    return replaced;
  }

  private async drain(
    next: (skip: readonly string[]) => Promise<StaleSealed[]>,
    replace: (row: StaleSealed, sealed: ReturnType<CredentialSealer['reseal']>) => Promise<boolean>,
    result: RotationResult,
    stop?: AbortSignal,
  ): Promise<boolean> {
    const unreadable: string[] = [];
    for (;;) {
      if (stop?.aborted) return false;
      const rows = await next(unreadable);
      if (!rows.length) return true;
      for (const row of rows) {
        let sealed;
        try {
          sealed = this.sealer.reseal(row, row.owner);
        } catch (error) {
          if (!(error instanceof DecryptionError)) throw error;
          unreadable.push(row.id);
          result.unreadable += 1;
          this.logger.error({ id: row.id, keyId: row.keyId, msg: 'stored ciphertext unreadable' });
          continue;
        }
        if (await replace(row, sealed)) result.reencrypted += 1;
        else result.superseded += 1;
      }
    }
  }
}
