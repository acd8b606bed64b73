import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of this process. One registry per application (not
 * prom-client's global one), so several brokers in one process (tests) do
 * not collide. Labels never carry tenant ids, tokens or URLs with queries.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Histogram({
    name: 'tb_http_request_duration_seconds',
    help: 'HTTP requests by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly refreshes = new Counter({
    name: 'tb_token_refreshes_total',
    help: 'Refresh attempts at providers by integration and outcome',
    labelNames: ['integration', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly clientRejections = new Counter({
    name: 'tb_integration_client_rejections_total',
    help: 'Token endpoint answers rejecting an integration client credentials (invalid_client)',
    labelNames: ['integration'] as const,
    registers: [this.registry],
  });

  readonly syncRuns = new Counter({
    name: 'tb_sync_runs_total',
    help: 'Finished sync runs by model and status',
    labelNames: ['model', 'status'] as const,
    registers: [this.registry],
  });

  readonly syncRecords = new Counter({
    name: 'tb_sync_records_total',
    help: 'Records fetched by sync runs, by model',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'tb_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered, retry, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly sweepRuns = new Counter({
    name: 'tb_sweep_runs_total',
    help: 'Background sweep runs by sweep and outcome (ok, failed, skipped: the previous run was still going, or another replica holds the lease)',
    labelNames: ['sweep', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly sweepDuration = new Histogram({
    name: 'tb_sweep_duration_seconds',
    help: 'How long each sweep run took',
    labelNames: ['sweep'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
    registers: [this.registry],
  });

  readonly rateBudget = new Counter({
    name: 'tb_rate_budget_decisions_total',
    help: 'Rate budget decisions before provider API requests, by integration and outcome (granted, waited, refused; concurrency_waited, concurrency_refused; redis_unavailable: let through)',
    labelNames: ['integration', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly proxyRequests = new Counter({
    name: 'tb_proxy_requests_total',
    help: 'API proxy requests by integration, method and status (the provider answer, or ours when none came)',
    labelNames: ['integration', 'method', 'status'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tb_' });
  }
}
