import { Controller, Get } from '@nestjs/common';
import { RequireService } from '../auth/auth.decorators.js';
import type { Caller } from '../auth/caller.js';
import { canUseIntegration } from '../auth/caller.js';
import { CurrentCaller } from '../auth/current-caller.decorator.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { ProviderCatalogue } from '../providers/provider-catalogue.js';
import { providerView } from './provider.view.js';
import type { IntegrationDto } from './responses.schema.js';

/** What can be connected: the built-in providers and this deployment's integrations. No secrets. */
@Controller('v1')
export class CatalogueController {
  constructor(
    private readonly providers: ProviderCatalogue,
    private readonly integrations: IntegrationRegistry,
  ) {}

  @Get('providers')
  @RequireService()
  listProviders() {
    return { data: this.providers.list().map(providerView) };
  }

  @Get('integrations')
  @RequireService()
  listIntegrations(@CurrentCaller() caller: Caller) {
    return {
      data: this.integrations
        .list()
        .filter((i) => canUseIntegration(caller, i.key))
        .map((i): IntegrationDto => ({
          key: i.key,
          provider: i.provider.name,
          scopes: [...i.scopes],
          requiredScopes: [...i.requiredScopes],
          requireFinalize: i.requireFinalize,
          models: Object.keys(i.api?.models ?? {}),
        })),
    };
  }
}
