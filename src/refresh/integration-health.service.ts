import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { ProviderError } from '../common/errors/app-error.js';
import { Metrics } from '../infra/metrics/metrics.js';
import { RedisService } from '../infra/redis/redis.service.js';
import type { Integration } from '../integrations/integration.js';
import { IntegrationEventsRepository } from './integration-events.repository.js';
import { RefreshHeldError } from './refresh-held.error.js';

const FIRST_HOLD_MS = 30_000;
const MAX_HOLD_MS = 15 * 60_000;
/** How long one replica's probe call has before another may try. */
const PROBE_MS = 15_000;
/** State outlives any hold; it only says "recovery is news". */
const STATE_TTL_MS = 7 * 86_400_000;

/**
 * The provider refused an integration's own client credentials
 * (`invalid_client`, `unauthorized_client`: a rotated secret, a suspended
 * app). That is the operator's to fix, not any user's grant: connections
 * stay `active`, and the integration backs off as a whole (30 s, doubling
 * with each refused probe to 15 min), shared by all replicas in Redis, so
 * thousands of connections do not each hammer the provider with a doomed
 * refresh. After each hold one caller probes.
 *
 * The hold belongs to the credentials that were refused (a fingerprint of
 * client id, secret and token URL): a replica started with a fixed secret
 * calls at once. The operator hears of an episode once, whichever replicas
 * and credentials took part: an error log, a metric, and one
 * `integration.client_rejected` event; `integration.recovered` when any
 * call is accepted again. Redis failing here never fails a refresh that
 * the provider answered.
 */
@Injectable()
export class IntegrationHealth {
  private readonly logger = new Logger(IntegrationHealth.name);
  private readonly fingerprints = new Map<string, string>();

  constructor(
    private readonly redis: RedisService,
    private readonly events: IntegrationEventsRepository,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Before a token endpoint call: a RefreshHeldError while these
   * credentials are held; after a hold, only one caller (the probe) goes.
   */
  async beforeCall(integration: Integration): Promise<{ probe: boolean }> {
    const keys = this.keys(integration);
    const { client } = this.redis;
    const [refused, holdMs] = await Promise.all([
      client.exists(keys.count),
      client.pttl(keys.hold),
    ]);
    if (!refused) return { probe: false };
    if (holdMs > 0) throw held(holdMs);
    const probe = await client.set(keys.hold, 'probe', 'PX', PROBE_MS, 'NX');
    if (probe !== 'OK') throw held(PROBE_MS);
    return { probe: true };
  }

  /**
   * The provider refused the client. Only a refused probe lengthens the
   * hold: a burst of calls already in flight when the secret was rotated
   * counts once. Returns the error the caller gets.
   */
  async rejected(
    integration: Integration,
    error: ProviderError,
    probe: boolean,
  ): Promise<RefreshHeldError> {
    try {
      const keys = this.keys(integration);
      const { client } = this.redis;
      let refusals: number;
      if (probe) {
        refusals = await client.incr(keys.count);
      } else {
        const first = await client.set(keys.count, '1', 'PX', STATE_TTL_MS, 'NX');
        if (first !== 'OK') return held(Math.max(await client.pttl(keys.hold), 1_000));
        refusals = 1;
      }
      await client.pexpire(keys.count, STATE_TTL_MS);
      const holdMs = Math.min(FIRST_HOLD_MS * 2 ** Math.min(refusals - 1, 10), MAX_HOLD_MS);
      await client.set(keys.hold, 'held', 'PX', holdMs);
      this.metrics.clientRejections.inc({ integration: integration.key });
      const detail = {
        integration: integration.key,
        providerStatus: error.detail.providerStatus,
        providerError: error.detail.providerError,
        retryInSeconds: Math.ceil(holdMs / 1000),
      };
      const episode = await client.set(keys.episode, '1', 'PX', STATE_TTL_MS, 'NX');
      if (episode === 'OK') {
        this.logger.error({
          ...detail,
          msg: 'the provider rejects this integration client credentials; check clientId and clientSecret',
        });
        await this.events.record('integration.client_rejected', integration.key, {
          providerError: error.detail.providerError ?? 'unknown',
        });
      } else {
        this.logger.warn({ ...detail, refusals, msg: 'client credentials still rejected' });
      }
      return held(holdMs);
    } catch (stateError) {
      this.logger.warn({ err: stateError, msg: 'could not record the client rejection' });
      return held(FIRST_HOLD_MS);
    }
  }

  /**
   * The provider answered and accepted the client (a success, or a refusal
   * of the grant itself): if the integration was in an episode, it is over.
   */
  async accepted(integration: Integration): Promise<void> {
    try {
      const keys = this.keys(integration);
      const results = await this.redis.client
        .multi()
        .del(keys.count, keys.hold)
        .del(keys.episode)
        .exec();
      if (results?.[1]?.[1] !== 1) return;
      this.logger.log({
        integration: integration.key,
        msg: 'the provider accepts the client again',
      });
      await this.events.record('integration.recovered', integration.key);
    } catch (stateError) {
      this.logger.warn({ err: stateError, msg: 'could not record the client recovery' });
    }
  }

  /** Whether the integration is inside a hold (the proactive sweep leaves it alone). */
  async isHeld(integration: Integration): Promise<boolean> {
    return (await this.redis.client.pttl(this.keys(integration).hold)) > 0;
  }

  private keys(integration: Integration) {
    let fingerprint = this.fingerprints.get(integration.key);
    if (!fingerprint) {
      fingerprint = createHash('sha256')
        .update(
          [
            integration.clientId,
            integration.clientSecret.reveal(),
            integration.tokenUrl ?? integration.issuer,
          ].join('\0'),
        )
        .digest('base64url')
        .slice(0, 16);
      this.fingerprints.set(integration.key, fingerprint);
    }
    return {
      episode: this.redis.key('integration-rejected', integration.key),
      count: this.redis.key('integration-refusals', integration.key, fingerprint),
      hold: this.redis.key('integration-hold', integration.key, fingerprint),
    };
  }
}

function held(ms: number): RefreshHeldError {
  return new RefreshHeldError(
    'integration_client_rejected',
    "The provider rejects this integration's client credentials; the operator must fix them. The connection is kept and needs no reconnect.",
    Math.ceil(ms / 1000),
  );
}
