import { Module } from '@nestjs/common';
import { AccountLookupClient } from './account-lookup.client.js';
import { OAuthConfigurations } from './oauth-configurations.js';
import { OAuthClient } from './oauth.client.js';

@Module({
  providers: [OAuthConfigurations, OAuthClient, AccountLookupClient],
  exports: [OAuthClient, AccountLookupClient],
})
export class OAuthModule {}
