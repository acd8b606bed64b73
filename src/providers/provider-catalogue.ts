import { builtInProviders } from './catalogue/index.js';
import type { ProviderDefinition } from './provider-definition.js';

/** Read-only lookup over the built-in providers. */
export class ProviderCatalogue {
  private readonly byName: ReadonlyMap<string, ProviderDefinition>;

  constructor(providers: readonly ProviderDefinition[] = builtInProviders) {
    this.byName = new Map(providers.map((provider) => [provider.name, provider]));
  }

  get(name: string): ProviderDefinition | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  list(): ProviderDefinition[] {
    return [...this.byName.values()];
  }
}
