import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Integration } from '../integrations/integration.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';

export interface CrossUserLinkWarning {
  integration: string;
  msg: string;
}

/**
 * One warning per integration that turned finalize off. Without finalize
 * the callback alone stores the connection for the connect session's
 * tenant, whoever's browser completes it: a link opened by someone else
 * attaches their account to the link owner, and an attacker who sends their
 * own link to a victim receives the victim's CRM. The integrations file
 * defaults to requireFinalize: true, so a false here was written on purpose;
 * it is allowed (an app that cannot call finalize yet), but never silently.
 */
export function crossUserLinkWarnings(
  integrations: readonly Integration[],
): CrossUserLinkWarning[] {
  return integrations
    .filter((integration) => !integration.requireFinalize)
    .map((integration) => ({
      integration: integration.key,
      msg:
        `integration "${integration.key}" sets requireFinalize: false: a connect link opened by someone ` +
        `else attaches their CRM account to the link owner's tenant (an attacker can send their own link ` +
        `to a victim and receive the victim's CRM). Remove the line (finalize is the default) and have ` +
        `your backend call POST /v1/connect-sessions/:id/finalize with the logged-in user's id`,
    }));
}

/** Warns at start, once per integration, in the roles that serve the connect flow. */
@Injectable()
export class RequireFinalizeCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('Connect');

  constructor(private readonly integrations: IntegrationRegistry) {}

  onApplicationBootstrap(): void {
    for (const warning of crossUserLinkWarnings(this.integrations.list())) {
      this.logger.warn(warning);
    }
  }
}
