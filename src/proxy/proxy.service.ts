import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.js';
import type { Caller } from '../auth/caller.js';
import { AppError, ConflictError, ValidationError } from '../common/errors/app-error.js';
import { statusOfKind } from '../common/errors/error-status.js';
import { AppConfig } from '../config/app-config.js';
import type { Connection } from '../connections/connection.js';
import { Clock } from '../infra/clock/clock.js';
import type { StreamedAnswer } from '../infra/http/provider-http.js';
import { Metrics } from '../infra/metrics/metrics.js';
import { resolveApiBase } from '../integrations/api-base.js';
import type { Integration, IntegrationApi } from '../integrations/integration.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { parsePreferWait, withoutWaitPreference } from '../rate-limit/prefer-wait.js';
import { budgetExhausted, RateBudgets } from '../rate-limit/rate-budgets.service.js';
import {
  type RejectedTokenOutcome,
  RejectedTokenService,
} from '../refresh/rejected-token.service.js';
import { TokenService, type WorkerTokens } from '../refresh/token.service.js';
import { callerHeaders, type OutgoingBody, outgoingBody } from './proxy-body.js';
import {
  forwardedRequestHeaders,
  passedBackHeaders,
  TOKEN_REFRESH_HEADER,
  tokenRefreshHeaderValue,
} from './proxy-headers.js';
import { type ProxyTarget, proxyTargetOf } from './proxy-path.js';
import { assertRouteScopes } from './proxy-route-scopes.js';
import { ProxyUpstreamClient } from './proxy-upstream.client.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Sending these twice has the effect of sending them once (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
/**
 * A body that may have to be sent again after a 401 is kept in memory up to
 * this size; a larger one is streamed once and its 401 is passed back.
 */
const REPLAY_BUFFER_BYTES = 1024 * 1024;

export interface ProxyCall {
  method: string;
  /** The request as received: its raw target, headers and unread body. */
  raw: IncomingMessage;
  /** Aborted when the caller goes away. */
  signal: AbortSignal;
}

export interface ProxyAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: StreamedAnswer['body'];
}

/**
 * The API proxy: a service calls the provider's API through the broker, which
 * adds the connection's access token, so the service never holds one. The
 * path may not leave the connection's API base URL, nor reach a declared
 * route whose scopes the grant lacks; a 401 is reported as a rejected token
 * (one shared refresh per cooldown) and answered with one retry when
 * sending the request again is safe; a 429 goes back as it came, with its
 * Retry-After.
 */
@Injectable()
export class ProxyService {
  constructor(
    private readonly tokens: TokenService,
    private readonly rejectedTokens: RejectedTokenService,
    private readonly integrations: IntegrationRegistry,
    private readonly upstream: ProxyUpstreamClient,
    private readonly audit: AuditLog,
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly budgets: RateBudgets,
  ) {}

  async forward(caller: Caller, connectionId: string, call: ProxyCall): Promise<ProxyAnswer> {
    // Checked before anything is looked up: a refused path sends nothing anywhere.
    if (!METHODS.has(call.method)) {
      throw new ValidationError(
        'proxy_method_not_allowed',
        `The proxy does not forward ${call.method}`,
      );
    }
    const target = proxyTargetOf(call.raw.url ?? '', connectionId);
    const incoming = callerHeaders(call.raw);
    const headers = forwardedRequestHeaders(incoming);
    // `Prefer: wait=<s>`: how long the caller lets the broker wait for the rate budget (capped).
    const budgetWaitMs = parsePreferWait(incoming.prefer);
    if (headers.prefer !== undefined) {
      const kept = withoutWaitPreference(headers.prefer);
      if (kept) headers.prefer = kept;
      else delete headers.prefer;
    }
    // Authorised as a token read would be (404 for another tenant's, 409 needs_reauth), and
    // renewed if about to expire; the token itself never leaves the broker.
    const { connection, ...tokens } = await this.tokens.forCaller(caller, connectionId);
    const integration = this.integrations.get(connection.integrationKey);
    const api = integration?.api;
    if (!integration || !api || (!api.baseUrl && !api.baseUrlFromExtra)) {
      throw new ConflictError(
        'proxy_not_supported',
        `Integration "${connection.integrationKey}" has no API base URL to proxy to`,
      );
    }
    const started = { caller, connection, integration, target, method: call.method };
    try {
      assertRouteScopes(integration, connection, call.method, target);
      const answer = await this.exchange(
        { connection, integration, waitMs: budgetWaitMs },
        api,
        target,
        call,
        headers,
        incoming,
        { caller, tokens },
      );
      this.record(started, answer.status, answer.retried, answer.tokenRefresh);
      const passedBack = passedBackHeaders(answer.headers);
      if (answer.tokenRefresh)
        passedBack[TOKEN_REFRESH_HEADER] = tokenRefreshHeaderValue(answer.tokenRefresh);
      return { status: answer.status, headers: passedBack, body: answer.body };
    } catch (error) {
      this.record(started, statusOfFailure(error), false);
      throw error;
    }
  }

  /**
   * Tokens, body, the request; after a 401, the token is reported as
   * rejected (RejectedTokenService: the same rules as `token/rejected`)
   * and the request sent once more with its replacement, if there is one
   * and sending again is safe.
   */
  private async exchange(
    budget: ProxyBudget,
    api: IntegrationApi,
    target: ProxyTarget,
    call: ProxyCall,
    headers: Record<string, string>,
    incoming: IncomingMessage['headers'],
    start: { caller: Caller; tokens: WorkerTokens },
  ): Promise<ExchangeAnswer> {
    const { connection } = budget;
    const { caller } = start;
    let auth = start.tokens;
    const wantReplay = IDEMPOTENT.has(call.method) || incoming['idempotency-key'] !== undefined;
    const body = await outgoingBody(call.raw, {
      wantReplay,
      replayBytes: REPLAY_BUFFER_BYTES,
      maxBytes: this.config.proxy.maxBodyBytes,
    });
    const send = () => this.sendOnce(budget, api, auth, target, call, headers, body);
    const first = await send();
    if (first.status !== 401) return { ...first, retried: false };
    const replayable = wantReplay && body.kind !== 'streamed';
    let settled: RejectedTokenOutcome;
    try {
      settled = await this.rejectedTokens.replaceForProxy(connection.id, auth.tokens.accessToken, {
        trigger: 'proxy_rejected',
        serviceKeyId: caller.keyId,
        requestId: caller.requestId,
      });
    } catch (error) {
      // The grant is dead (409) or the provider down: the caller gets that,
      // except where the request would not have been sent again anyway.
      if (!replayable) return { ...first, retried: false };
      first.body.resume();
      throw error;
    }
    const tokenRefresh = settled.outcome;
    // Cooling down: the refused token is itself a replacement, refused again
    // (a revoked app, a scope the provider wants): no refresh, no retry, the
    // provider's 401 goes back, so callers cannot drive a refresh storm.
    if (settled.outcome === 'cooling_down' || !replayable)
      return { ...first, retried: false, tokenRefresh };
    first.body.resume();
    auth = settled;
    return { ...(await send()), retried: true, tokenRefresh };
  }

  /** One request inside the connection's rate budget (shared with syncs), which learns from the answer. */
  private async sendOnce(
    budget: ProxyBudget,
    api: IntegrationApi,
    auth: WorkerTokens,
    target: ProxyTarget,
    call: ProxyCall,
    headers: Record<string, string>,
    body: OutgoingBody,
  ): Promise<StreamedAnswer> {
    // Resolved (and its host checked) for every request: a refresh may move the connection's API host.
    const base = resolveApiBase(
      api,
      auth.tokens.extras,
      this.config.allowInsecureLoopbackProviders,
    );
    const url = urlBelow(base, target);
    const { connection, integration, waitMs } = budget;
    const admission = await this.budgets.admit(connection.id, integration, { waitMs });
    if (!admission.granted) throw budgetExhausted(admission.retryAfterMs);
    let answer: StreamedAnswer;
    try {
      answer = await this.upstream.send({
        url,
        method: call.method,
        headers,
        authorization: `${api.authorizationScheme ?? auth.tokens.tokenType} ${auth.tokens.accessToken}`,
        body,
        signal: call.signal,
      });
    } catch (error) {
      await admission.release();
      throw error;
    }
    // The concurrency slot is held until the answer's body is done (read, or dropped).
    answer.body.once('close', () => void admission.release());
    await this.budgets.learn(connection.id, integration, answer.status, answer.headers);
    return answer;
  }

  /** Counted and audited once per proxied call: who, which connection, which endpoint, what came back; never a body, header or query value. */
  private record(
    started: {
      caller: Caller;
      connection: Connection;
      integration: Integration;
      target: ProxyTarget;
      method: string;
    },
    status: number,
    retried: boolean,
    tokenRefresh?: RejectedTokenOutcome['outcome'],
  ): void {
    const { caller, connection, integration, target, method } = started;
    this.metrics.proxyRequests.inc({ integration: integration.key, method, status });
    // In the background: the call has happened, and holding its answer for the row would not undo it.
    this.audit.recordInBackground({
      at: this.clock.now(),
      action: 'proxy.request',
      connectionId: connection.id,
      tenantId: connection.tenantId,
      serviceKeyId: caller.keyId,
      requestId: caller.requestId,
      detail: {
        method,
        route: target.routeForm,
        status,
        retried,
        ...(tokenRefresh && { tokenRefresh }),
      },
    });
  }
}

type ExchangeAnswer = StreamedAnswer & {
  retried: boolean;
  /** What the broker did about the first request's 401, if it met one. */
  tokenRefresh?: RejectedTokenOutcome['outcome'];
};

/** Whose rate budget a proxied call spends, and how long its caller lets it wait (`Prefer: wait`). */
interface ProxyBudget {
  connection: Connection;
  integration: Integration;
  waitMs: number;
}

/** The status the caller gets for a failure (the exception filter's mapping: kinds, and Fastify's own 4xx such as 413). */
function statusOfFailure(error: unknown): number {
  if (error instanceof AppError) return statusOfKind[error.kind];
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}

/**
 * The provider URL: the path appended to the base URL. Checked again
 * once parsed (the path's own rules already refuse what could move it).
 */
function urlBelow(base: string, target: ProxyTarget): URL {
  const baseUrl = new URL(`${base}/`);
  const url = new URL(`${base}${target.path}${target.query ? `?${target.query}` : ''}`);
  if (url.origin !== baseUrl.origin || !url.pathname.startsWith(baseUrl.pathname)) {
    throw new ValidationError('proxy_path_invalid', 'The proxied path leaves the API base URL');
  }
  return url;
}
