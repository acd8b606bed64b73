import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { type Caller, canSeeTenant, canUseIntegration } from '../auth/caller.js';
// Recognised by log redaction and by the guard.
import { CONNECT_SESSION_TOKEN_PREFIX } from '../auth/service-key.guard.js';
import { NotFoundError, PermissionError, ValidationError } from '../common/errors/app-error.js';
import { randomToken, sha256Hex } from '../common/random.js';
import { AppConfig } from '../config/app-config.js';
import { Clock } from '../infra/clock/clock.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { connectUrlFor } from './connect-urls.js';
import { ConnectSessionsRepository } from './connect-sessions.repository.js';
import { isAllowedReturnUrl } from './return-url.js';

export interface CreateConnectSessionInput {
  integration: string;
  tenantId: string;
  endUserId?: string;
  returnTo?: string;
  scopes?: string[];
}

export interface CreatedConnectSession {
  id: string;
  token: string;
  connectUrl: string;
  expiresAt: Date;
}

export function hashSessionToken(token: string): string {
  return sha256Hex(token);
}

@Injectable()
export class ConnectSessionsService {
  constructor(
    private readonly config: AppConfig,
    private readonly integrations: IntegrationRegistry,
    private readonly sessions: ConnectSessionsRepository,
    private readonly clock: Clock,
  ) {}

  async create(caller: Caller, input: CreateConnectSessionInput): Promise<CreatedConnectSession> {
    if (!canSeeTenant(caller, input.tenantId)) {
      throw new PermissionError(
        'tenant_not_granted',
        `This service key is not granted tenant "${input.tenantId}"`,
      );
    }
    if (!canUseIntegration(caller, input.integration)) {
      throw new PermissionError(
        'integration_not_granted',
        `This service key is not granted integration "${input.integration}"`,
      );
    }
    const integration = this.integrations.get(input.integration);
    if (!integration) {
      throw new NotFoundError(
        'integration_not_found',
        `No integration "${input.integration}" is configured`,
      );
    }
    if (integration.requireFinalize && input.endUserId === undefined) {
      throw new ValidationError(
        'end_user_required',
        `Integration "${input.integration}" requires finalize: give the endUserId it will be checked against`,
      );
    }
    if (
      input.returnTo !== undefined &&
      !isAllowedReturnUrl(input.returnTo, this.config.allowedReturnUrls)
    ) {
      throw new ValidationError(
        'return_url_not_allowed',
        'returnTo does not match ALLOWED_RETURN_URLS',
      );
    }
    const token = `${CONNECT_SESSION_TOKEN_PREFIX}${randomToken(32)}`;
    const id = randomUUID();
    const expiresAt = new Date(
      this.clock.now().getTime() + this.config.connect.sessionTtlSeconds * 1000,
    );
    await this.sessions.create({
      id,
      tokenHash: hashSessionToken(token),
      tenantId: input.tenantId,
      integrationKey: input.integration,
      endUserId: input.endUserId,
      returnTo: input.returnTo,
      scopes: [...new Set(input.scopes ?? [])],
      serviceKeyId: caller.keyId,
      expiresAt,
    });
    return { id, token, connectUrl: connectUrlFor(this.config, token), expiresAt };
  }
}
