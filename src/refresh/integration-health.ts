import { Injectable, Logger } from '@nestjs/common';
import { ProviderError, UnavailableError } from '../common/errors/app-error.js';
import { Metrics } from '../infra/metrics/metrics.js';
import { RedisService } from '../infra/redis/redis.service.js';
import type { Integration } from '../integrations/integration.js';
import { IntegrationEventsRepository } from './integration-events.repository.js';

const FIRST_HOLD_MS = 30_000;
const MAX_HOLD_MS = 15 * 60_000;
/** How long one replica's probe call has before another may try. */
const PROBE_MS = 15_000;
/** The rejected state outlives any hold; it only marks "recovery is news". */
const STATE_TTL_MS = 7 * 86_400_000;

/**
 * The provider refused an integration's own client credentials
 * (`invalid_client`, `unauthorized_client`: a rotated secret, a suspended
 * app). That is the operator's to fix, not any user's grant: connections
 * stay `active`, and the whole integration backs off (30 s doubling to
 * 15 min, shared by all replicas in Redis), so thousands of connections do
 * not each hammer the provider with a doomed refresh. After each hold one
 * caller probes; when the provider accepts the client again, every
 * connection serves tokens with no reconnect. The operator hears of it
 * once per episode: an error log, a metric, and one event per integration.
 */
@Injectable()
export class IntegrationHealth {
  private readonly logger = new Logger(IntegrationHealth.name);

  constructor(
    private readonly redis: RedisService,
    private readonly events: IntegrationEventsRepository,
    private readonly metrics: Metrics,
  ) {}

  /** Before a token endpoint call: a 503 while the integration is held; one probe at a time after. */
  async beforeCall(integration: Integration): Promise<void> {
    const { client } = this.redis;
    const [rejected, holdMs] = await Promise.all([
      client.exists(this.rejectedKey(integration)),
      client.pttl(this.holdKey(integration)),
    ]);
    if (!rejected) return;
    if (holdMs > 0) throw held(holdMs);
    const probe = await client.set(this.holdKey(integration), 'probe', 'PX', PROBE_MS, 'NX');
    if (probe !== 'OK') throw held(PROBE_MS);
  }

  /** The provider rejected the client: hold the integration; returns the error the caller gets. */
  async clientRejected(integration: Integration, error: ProviderError): Promise<UnavailableError> {
    const { client } = this.redis;
    const episode = await client.incr(this.rejectedKey(integration));
    await client.pexpire(this.rejectedKey(integration), STATE_TTL_MS);
    const holdMs = Math.min(FIRST_HOLD_MS * 2 ** Math.min(episode - 1, 10), MAX_HOLD_MS);
    await client.set(this.holdKey(integration), 'held', 'PX', holdMs);
    this.metrics.clientRejections.inc({ integration: integration.key });
    const detail = {
      integration: integration.key,
      providerStatus: error.detail.providerStatus,
      providerError: error.detail.providerError,
      retryInSeconds: Math.ceil(holdMs / 1000),
    };
    if (episode === 1) {
      this.logger.error({
        ...detail,
        msg: 'the provider rejects this integration client credentials; check clientId and clientSecret',
      });
      await this.events.record('integration.client_rejected', integration.key, {
        providerError: error.detail.providerError ?? 'unknown',
      });
    } else {
      this.logger.warn({ ...detail, attempt: episode, msg: 'client credentials still rejected' });
    }
    return held(holdMs);
  }

  /** A token endpoint call succeeded: if the integration was rejected, it has recovered. */
  async succeeded(integration: Integration): Promise<void> {
    const { client } = this.redis;
    if ((await client.del(this.rejectedKey(integration))) === 0) return;
    await client.del(this.holdKey(integration));
    this.logger.log({ integration: integration.key, msg: 'the provider accepts the client again' });
    await this.events.record('integration.recovered', integration.key);
  }

  /** Whether the integration is inside a hold (the proactive sweep leaves it alone). */
  async isHeld(integrationKey: string): Promise<boolean> {
    return (await this.redis.client.pttl(this.redis.key('integration-hold', integrationKey))) > 0;
  }

  private rejectedKey(integration: Integration): string {
    return this.redis.key('integration-rejected', integration.key);
  }

  private holdKey(integration: Integration): string {
    return this.redis.key('integration-hold', integration.key);
  }
}

function held(ms: number): UnavailableError {
  return new UnavailableError(
    'integration_client_rejected',
    "The provider rejects this integration's client credentials; the operator must fix them. The connection is kept and needs no reconnect.",
    { retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) },
  );
}
