import { RecencyMap } from '../common/recency-map.js';
import type { Connection } from './connection.js';

/** A connection as stored: its row and its credential still sealed (never plaintext). */
export interface SealedConnection {
  connection: Connection;
  credential?: { keyId: string; ciphertext: Uint8Array; version: number };
}

interface Entry {
  value: SealedConnection;
  expiresAt: number;
}

/**
 * A bounded cache of sealed connections with a TTL, for the token read
 * (RecencyMap: an entry not used lately goes first). It holds only what the
 * database holds (ciphertext), so a process dump shows no more than a
 * database dump; tokens are decrypted per request.
 *
 * `generation` closes the read-through race: a miss takes a ticket before
 * its query, and its answer is stored only if nothing was invalidated (or
 * the cache dropped) meanwhile. Otherwise a row read just before another
 * replica's write could be cached after that write's invalidation arrived.
 */
export class SealedConnectionCache {
  private readonly entries: RecencyMap<string, Entry>;
  private generation = 0;
  private enabled = false;

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = new RecencyMap(maxEntries);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether reads may be served from here (configured, and the invalidation channel live). */
  get active(): boolean {
    return this.enabled && this.maxEntries > 0;
  }

  /** Turned on when the invalidation channel is live, off (and emptied) when it is not. */
  setEnabled(enabled: boolean): void {
    this.clear();
    this.enabled = enabled;
  }

  get(id: string): SealedConnection | undefined {
    if (!this.active) return undefined;
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return entry.value;
    this.entries.delete(id);
    return undefined;
  }

  /** The entry as it is, without touching its recency (diagnostics and tests). */
  peek(id: string): SealedConnection | undefined {
    return this.entries.peek(id)?.value;
  }

  ticket(): number {
    return this.generation;
  }

  /** Stores what a miss read, unless something was invalidated since its ticket. */
  put(id: string, value: SealedConnection, ticket: number): void {
    if (!this.active || ticket !== this.generation) return;
    this.entries.set(id, { value, expiresAt: this.now() + this.ttlMs });
  }

  evict(id: string): void {
    this.generation += 1;
    this.entries.delete(id);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }
}
