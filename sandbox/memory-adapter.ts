import type { Adapter, AdapterPayload } from 'oidc-provider';

/**
 * oidc-provider's storage, in memory. Its built-in one works the same but
 * warns on every start; this one is ours, and the sandbox is one process.
 */
const stores = new Map<string, Map<string, { payload: AdapterPayload; expiresAt?: number }>>();
const grants = new Map<string, Set<string>>();

export class MemoryAdapter implements Adapter {
  private readonly store: Map<string, { payload: AdapterPayload; expiresAt?: number }>;

  constructor(private readonly name: string) {
    this.store = stores.get(name) ?? new Map();
    stores.set(name, this.store);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    this.store.set(id, {
      payload,
      expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
    });
    if (payload.grantId) {
      const ids = grants.get(payload.grantId) ?? new Set<string>();
      ids.add(`${this.name}:${id}`);
      grants.set(payload.grantId, ids);
    }
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const entry = this.store.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.store.delete(id);
      return undefined;
    }
    return entry.payload;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return [...this.store.values()].find((e) => e.payload.userCode === userCode)?.payload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return [...this.store.values()].find((e) => e.payload.uid === uid)?.payload;
  }

  async consume(id: string): Promise<void> {
    const entry = this.store.get(id);
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.delete(id);
  }

  /** Forgets every access token (as if all had expired), keeping grants and refresh tokens. */
  static clearAccessTokens(): void {
    stores.get('AccessToken')?.clear();
  }

  /** Destroys every grant and everything issued under it. */
  static async revokeAll(): Promise<void> {
    for (const grantId of [...grants.keys()])
      await new MemoryAdapter('Grant').revokeByGrantId(grantId);
    stores.get('Grant')?.clear();
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of grants.get(grantId) ?? []) {
      const separator = key.indexOf(':');
      stores.get(key.slice(0, separator))?.delete(key.slice(separator + 1));
    }
    grants.delete(grantId);
  }
}
