import { Module } from '@nestjs/common';
import { ConnectSessionsModule } from '../connect/connect-sessions.module.js';
import { ConnectionsModule } from '../connections/connections.module.js';
import { OAuthModule } from '../oauth/oauth.module.js';
import { IntegrationEventsRepository } from './integration-events.repository.js';
import { IntegrationHealth } from './integration-health.service.js';
import { IntegrationSlots } from './integration-slots.js';
import { NeedsReauth } from './needs-reauth.js';
import { RefreshPacing } from './refresh-pacing.js';
import { RefreshCooldown } from './refresh-cooldown.js';
import { RefreshFailures } from './refresh-failures.js';
import { RefreshService } from './refresh.service.js';
import { RefreshedTokens } from './refreshed-tokens.js';
import { RejectedTokenService } from './rejected-token.service.js';
import { TokenAnswers } from './token-answers.js';
import { TokenService } from './token.service.js';

@Module({
  imports: [ConnectionsModule, ConnectSessionsModule, OAuthModule],
  providers: [
    RefreshService,
    RefreshedTokens,
    RefreshFailures,
    NeedsReauth,
    TokenService,
    TokenAnswers,
    RejectedTokenService,
    RefreshCooldown,
    RefreshPacing,
    IntegrationHealth,
    IntegrationSlots,
    IntegrationEventsRepository,
  ],
  exports: [
    TokenService,
    RejectedTokenService,
    RefreshService,
    IntegrationHealth,
    IntegrationSlots,
  ],
})
export class RefreshModule {}
