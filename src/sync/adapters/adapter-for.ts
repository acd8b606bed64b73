import type { Integration } from '../../integrations/integration.js';
import { enabledModels } from '../../integrations/scopes.js';
import { RestModelAdapter } from './rest-model.adapter.js';
import type { SyncAdapter } from './sync-adapter.js';

/** The adapter that reads `model` of an integration, from its (merged) API description. */
export function adapterFor(integration: Integration, model: string): SyncAdapter | undefined {
  const description = integration.api?.models[model];
  return description ? new RestModelAdapter(description) : undefined;
}

/** The models a sync without an explicit model covers. */
export function syncedModels(integration: Integration): string[] {
  return enabledModels(integration);
}
