import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { sha256Hex } from '../common/random.js';
import { RedisService } from '../infra/redis/redis.service.js';

const flowStateSchema = z.object({
  sessionId: z.string(),
  tenantId: z.string(),
  integrationKey: z.string(),
  endUserId: z.string().optional(),
  returnTo: z.string().optional(),
  scopes: z.array(z.string()),
  codeVerifier: z.string(),
  nonce: z.string().optional(),
  /** SHA-256 of the secret in the browser's flow cookie. */
  bindingHash: z.string(),
  /** The key that made the connect session: the connect's audit row names it (absent in flows started before it was kept). */
  serviceKeyId: z.string().optional(),
  /** A reconnect: the connection, and the account the grant must be for. */
  reconnect: z.object({ connectionId: z.string(), accountId: z.string() }).optional(),
});

export type FlowState = z.infer<typeof flowStateSchema>;

/**
 * Server-side state of one authorization request, keyed by a hash of its
 * `state` parameter (a Redis dump does not reveal usable states). Consuming
 * is one GETDEL, so a state works once even across replicas.
 */
@Injectable()
export class FlowStateStore {
  constructor(private readonly redis: RedisService) {}

  async save(state: string, flow: FlowState, ttlSeconds: number): Promise<void> {
    await this.redis.client.set(this.key(state), JSON.stringify(flow), 'EX', ttlSeconds);
  }

  /** Best effort: an orphaned state is useless without its browser's cookie, and expires. */
  async discard(state: string): Promise<void> {
    await this.redis.client.del(this.key(state)).catch(() => undefined);
  }

  async consume(state: string): Promise<FlowState | undefined> {
    const raw = await this.redis.client.getdel(this.key(state));
    if (!raw) return undefined;
    const parsed = flowStateSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  private key(state: string): string {
    return this.redis.key('flow', sha256Hex(state));
  }
}

/** The flow cookie's name: derived from the state, so parallel flows in one browser do not collide. */
export function flowCookieName(state: string): string {
  return `tb_flow_${sha256Hex(`cookie:${state}`).slice(0, 16)}`;
}
