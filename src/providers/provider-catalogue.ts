import { ConfigError } from '../config/config-error.js';
import { builtInProviders } from './catalogue/index.js';
import {
  type ProviderDefinition,
  type ProviderDefinitionInput,
  providerDefinitionSchema,
} from './provider-definition.js';

/**
 * Read-only lookup over the built-in providers, each validated when the
 * catalogue is built: a definition with a missing field or a non-https URL
 * stops the start with a message naming the provider and the field.
 */
export class ProviderCatalogue {
  private readonly byName: ReadonlyMap<string, ProviderDefinition>;

  constructor(providers: readonly ProviderDefinitionInput[] = builtInProviders) {
    this.byName = new Map(
      providers.map((input) => {
        const provider = validateProvider(input);
        return [provider.name, provider];
      }),
    );
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

export function validateProvider(input: ProviderDefinitionInput): ProviderDefinition {
  const parsed = providerDefinitionSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.map(String).join('.');
  throw new ConfigError(
    `provider "${String((input as { name?: unknown }).name)}": ${where ? `${where}: ` : ''}${issue.message}`,
  );
}
