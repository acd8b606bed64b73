import type { ProviderDefinitionInput } from '../provider-definition.js';
import { googleProvider } from './google.provider.js';
import { hubspotProvider } from './hubspot.provider.js';
import { microsoftProvider } from './microsoft.provider.js';
import { oauth2Provider } from './oauth2.provider.js';
import { oidcProvider } from './oidc.provider.js';
import { pipedriveProvider } from './pipedrive.provider.js';
import { salesforceProvider } from './salesforce.provider.js';
import { zohoProvider } from './zoho.provider.js';

/** The built-in catalogue, one file per provider. */
export const builtInProviders: readonly ProviderDefinitionInput[] = [
  hubspotProvider,
  salesforceProvider,
  pipedriveProvider,
  zohoProvider,
  microsoftProvider,
  googleProvider,
  oauth2Provider,
  oidcProvider,
];
