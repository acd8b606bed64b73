import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module.js';
import { OAuthModule } from '../oauth/oauth.module.js';
import { ParkedGrantsModule } from '../parked-grants/parked-grants.module.js';
import { RevocationModule } from '../revocation/revocation.module.js';
import { ConnectFlowService } from './connect-flow.service.js';
import { ConnectGrants } from './connect-grants.service.js';
import { ConnectSessionStatusService } from './connect-session-status.service.js';
import { ConnectSessionsController } from './connect-sessions.controller.js';
import { ConnectSessionsModule } from './connect-sessions.module.js';
import { ConnectController } from './connect.controller.js';
import { SdkController } from './sdk.controller.js';
import { FinalizeService } from './finalize.service.js';
import { FlowStateStore } from './flow-state.store.js';
import { OAuthCallbackService } from './oauth-callback.service.js';
import { RequireFinalizeCheck } from './require-finalize.check.js';

@Module({
  imports: [
    ConnectionsModule,
    ConnectSessionsModule,
    OAuthModule,
    ParkedGrantsModule,
    RevocationModule,
  ],
  controllers: [ConnectSessionsController, ConnectController, SdkController],
  providers: [
    ConnectFlowService,
    FlowStateStore,
    OAuthCallbackService,
    ConnectGrants,
    FinalizeService,
    ConnectSessionStatusService,
    RequireFinalizeCheck,
  ],
})
export class ConnectModule {}
