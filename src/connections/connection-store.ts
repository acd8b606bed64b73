import { Injectable } from '@nestjs/common';
import { ConnectionCache } from './connection-cache.js';
import { ConnectionSweepsRepository } from './connection-sweeps.repository.js';
import { ConnectionsRepository } from './connections.repository.js';
import { CredentialsRepository } from './credentials.repository.js';

export type { WalkCursor, WalkRow } from './connection-sweeps.repository.js';

type Args<K extends keyof ConnectionsRepository> = Parameters<ConnectionsRepository[K]>;
type SweepArgs<K extends keyof ConnectionSweepsRepository> = Parameters<
  ConnectionSweepsRepository[K]
>;
type CredentialArgs<K extends keyof CredentialsRepository> = Parameters<CredentialsRepository[K]>;

/**
 * The connections module's façade for other features (refresh, connect,
 * sync, key rotation): what they may read and write of a connection, without
 * its repository. Callers with a service key go through ConnectionsService.
 */
@Injectable()
export class ConnectionStore {
  constructor(
    private readonly repository: ConnectionsRepository,
    private readonly sweeps: ConnectionSweepsRepository,
    private readonly cache: ConnectionCache,
  ) {}

  readonly findById = (...args: Args<'findById'>) => this.repository.findById(...args);
  /** The connection, its decrypted tokens and their version, in one query (never cached). */
  readonly findWithTokens = (...args: Args<'findWithTokens'>) =>
    this.repository.findWithTokens(...args);
  /**
   * The token hot path: the same, from the cache of sealed connections when
   * it can (see ConnectionCache). Anything needing a refresh must go on to
   * RefreshService, which reads `findWithTokens`.
   */
  readonly findWithTokensCached = (...args: Args<'findWithTokensCached'>) =>
    this.repository.findWithTokensCached(...args);
  /** The token read's variant: sealed, to `open` only when what it needs is not derived yet. */
  readonly findSealedCached = (...args: Args<'findSealedCached'>) =>
    this.repository.findSealedCached(...args);
  readonly open = (...args: Args<'open'>) => this.repository.open(...args);
  /** Whether token reads are served from the cache now (what they derive may be kept with it). */
  readonly cachesReads = () => this.cache.live;
  /** For writes outside this module's repositories (key rotation's re-seal), after they commit. */
  readonly invalidate = (connectionId: string) => this.cache.invalidate(connectionId);
  readonly saveGrant = (...args: Args<'saveGrant'>) => this.repository.saveGrant(...args);
  readonly markNeedsReauth = (...args: Args<'markNeedsReauth'>) =>
    this.repository.markNeedsReauth(...args);
  /** The sweeps' keyset walks (refresh due by expiry or idleness, schedule changes). */
  readonly dueByExpiry = (...args: SweepArgs<'dueByExpiry'>) => this.sweeps.dueByExpiry(...args);
  readonly dueByIdle = (...args: SweepArgs<'dueByIdle'>) => this.sweeps.dueByIdle(...args);
  readonly changedSince = (...args: SweepArgs<'changedSince'>) => this.sweeps.changedSince(...args);
  readonly activeIdsPage = (...args: SweepArgs<'activeIdsPage'>) =>
    this.sweeps.activeIdsPage(...args);
  readonly activeAmong = (...args: SweepArgs<'activeAmong'>) => this.sweeps.activeAmong(...args);
  readonly credentialKeySamples = () => this.repository.credentialKeySamples();
  readonly canOpen = (...args: Args<'canOpen'>) => this.repository.canOpen(...args);
}

/**
 * The refresh protocol's writes (fence, compare-and-set, failure record):
 * the one feature that changes stored credentials besides connect.
 */
@Injectable()
export class CredentialStore {
  constructor(private readonly credentials: CredentialsRepository) {}

  readonly claimFence = (...args: CredentialArgs<'claimFence'>) =>
    this.credentials.claimFence(...args);
  readonly releaseFence = (...args: CredentialArgs<'releaseFence'>) =>
    this.credentials.releaseFence(...args);
  readonly replaceTokens = (...args: CredentialArgs<'replaceTokens'>) =>
    this.credentials.replaceTokens(...args);
  readonly recordRefreshFailure = (...args: CredentialArgs<'recordRefreshFailure'>) =>
    this.credentials.recordRefreshFailure(...args);
}
