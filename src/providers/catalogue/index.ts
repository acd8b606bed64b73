import type { ProviderDefinitionInput } from '../provider-definition.js';
import { hubspotProvider } from './hubspot.provider.js';
import { oauth2Provider } from './oauth2.provider.js';
import { oidcProvider } from './oidc.provider.js';
import { pipedriveProvider } from './pipedrive.provider.js';

/** The built-in catalogue, one file per provider. */
export const builtInProviders: readonly ProviderDefinitionInput[] = [
  hubspotProvider,
  pipedriveProvider,
  oauth2Provider,
  oidcProvider,
];
