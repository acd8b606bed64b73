import type { Integration } from './integration.js';

/** The integrations configured for this deployment, by key. */
export class IntegrationRegistry {
  private readonly byKey: ReadonlyMap<string, Integration>;

  constructor(integrations: readonly Integration[]) {
    this.byKey = new Map(integrations.map((integration) => [integration.key, integration]));
  }

  get(key: string): Integration | undefined {
    return this.byKey.get(key);
  }

  list(): Integration[] {
    return [...this.byKey.values()];
  }
}
