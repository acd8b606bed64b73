import type { ProviderDefinition } from '../providers/provider-definition.js';
import type { IntegrationBudget } from './integration.js';
import type { IntegrationEntry } from './integrations-file.schema.js';

/**
 * The integration's own `rateLimit` and `maxConcurrency` over its API's
 * known limits (the variant's, for `api: { variant }`); the API's header
 * style stays, so its answers still teach the budget.
 */
export function resolveBudget(
  provider: ProviderDefinition,
  entry: IntegrationEntry,
): IntegrationBudget | undefined {
  const variant = entry.api?.variant;
  const known = (variant ? provider.apiVariants[variant] : provider.api)?.rateLimit;
  const budget: IntegrationBudget = {
    rate: entry.rateLimit ?? (known && { requests: known.requests, perSeconds: known.perSeconds }),
    maxConcurrency: entry.maxConcurrency ?? known?.maxConcurrency,
    headers: known?.headers,
  };
  return budget.rate || budget.maxConcurrency || budget.headers ? budget : undefined;
}
