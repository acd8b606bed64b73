import { RecencyMap } from '../common/recency-map.js';
import type { Caller } from './caller.js';

export interface ServiceKeyCacheLimits {
  /** A verified key is trusted this long without asking the database again. */
  knownTtlMs: number;
  /** An unknown (or revoked) key is refused this long without asking again. */
  unknownTtlMs: number;
  maxKnown: number;
  maxUnknown: number;
}

/**
 * Revocations are broadcast (Redis pub/sub) and evict a key at once on every
 * replica; the TTL is only the fallback for a broadcast that was missed
 * (Redis down at the time), so it stays short.
 */
export const DEFAULT_CACHE_LIMITS: ServiceKeyCacheLimits = {
  knownTtlMs: 30_000,
  unknownTtlMs: 60_000,
  maxKnown: 1_000,
  maxUnknown: 10_000,
};

/**
 * What this replica knows about presented keys, by hash: the token hot path
 * pays no query per request, and a caller repeating a bad key pays none
 * either. Both maps are bounded (RecencyMap: an entry not used lately goes
 * first).
 */
export class ServiceKeyCache {
  private readonly known: RecencyMap<string, { caller: Caller; until: number }>;
  private readonly unknown: RecencyMap<string, number>;

  constructor(private readonly limits: ServiceKeyCacheLimits = DEFAULT_CACHE_LIMITS) {
    this.known = new RecencyMap(limits.maxKnown);
    this.unknown = new RecencyMap(limits.maxUnknown);
  }

  /** The caller of a verified key, 'unknown' for a key known to be bad, undefined: ask the database. */
  lookup(hash: string, now: number): Caller | 'unknown' | undefined {
    const known = this.known.get(hash);
    if (known) {
      if (known.until > now) return known.caller;
      this.known.delete(hash);
    }
    const unknownUntil = this.unknown.get(hash);
    if (unknownUntil !== undefined) {
      if (unknownUntil > now) return 'unknown';
      this.unknown.delete(hash);
    }
    return undefined;
  }

  rememberKnown(hash: string, caller: Caller, now: number): void {
    this.unknown.delete(hash);
    this.known.set(hash, { caller, until: now + this.limits.knownTtlMs });
  }

  rememberUnknown(hash: string, now: number): void {
    this.known.delete(hash);
    this.unknown.set(hash, now + this.limits.unknownTtlMs);
  }

  /** Drops a (revoked) key by id; true when this replica had it. */
  forgetKey(keyId: string): boolean {
    let found = false;
    for (const [hash, entry] of [...this.known.entries()]) {
      if (entry.caller.keyId === keyId) {
        this.known.delete(hash);
        found = true;
      }
    }
    return found;
  }

  /** Forgets every verified key (a revocation broadcast may have been missed). */
  forgetAllKnown(): void {
    this.known.clear();
  }
}
