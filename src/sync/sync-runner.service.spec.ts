import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import type { ConnectionStore } from '../connections/connection-store.js';
import type { Clock } from '../infra/clock/clock.js';
import type { Metrics } from '../infra/metrics/metrics.js';
import { RetryLater } from '../infra/queue/job-workers.js';
import type { Integration } from '../integrations/integration.js';
import type { IntegrationRegistry } from '../integrations/integration-registry.js';
import { modelSchema } from '../providers/api-model.schema.js';
import type { TokenService, WorkerTokens } from '../refresh/token.service.js';
import { type ParsedPage, StaleCursorError } from './adapters/sync-adapter.js';
import type { PageFetcher } from './page-fetcher.js';
import type { PageResult, RecordsRepository } from './records.repository.js';
import { RunEndings } from './run-endings.js';
import type { RunContext } from './run-outcome.js';
import { type Checkpoint, ExecutionStopped, type FetchedRecord, type SyncRun } from './sync-run.js';
import type { SyncRunsRepository } from './sync-runs.repository.js';
import { SyncRunner } from './sync-runner.service.js';

/**
 * SyncRunner.pages on fakes: the page fetched ahead (while the previous one
 * is written) is written in order, never written when the run stops, and
 * finishes before the run lets go. Every fake is driven by hand: a fetch or
 * a commit settles when the test says so, and `events` records the order in
 * which the runner started and saw things.
 */

type Fetched = { page: ParsedPage; auth: WorkerTokens };

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending continuation run (the fakes answer in microtasks or not at all). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

const START = new Date('2026-12-01T10:00:00.000Z');
const record = (id: string): FetchedRecord => ({ externalId: id, data: { id }, deleted: false });
/** The provider's page at a cursor: records named after it, and the cursor of the next page. */
const providerPage = (at: string, next?: string): ParsedPage => ({
  records: [record(`${at}-1`), record(`${at}-2`)],
  ...(next ? { next: { cursor: next } } : {}),
  watermark: '2026-11-30T00:00:00.000Z',
});
const cursorOf = (checkpoint: Checkpoint | undefined) =>
  checkpoint?.done ? 'done' : (checkpoint?.cursor ?? 'start');

const integration = {
  key: 'crm',
  tokenResponse: { neverEchoedScopes: [], scopeMatching: { neverEchoedSuffixes: [] } },
  api: {
    baseUrl: 'https://api.example.com',
    allowedHosts: [],
    models: {
      contacts: modelSchema.parse({
        path: '/v1/contacts',
        itemsPath: 'data',
        idField: 'id',
        updatedAtField: 'updated_at',
        pagination: { type: 'cursor', cursorParam: 'after', nextCursorPath: 'paging.next' },
      }),
    },
  },
} as unknown as Integration;

interface Options {
  /** Answers a fetch at `position` (a cursor, or `start`). */
  provider(position: string, call: number): Promise<ParsedPage> | ParsedPage;
  /** Answers the commit of the page read at `position`; resolves by default. */
  commit?(position: string): Promise<void> | void;
  maxPages?: number;
  /** Pages committed by earlier executions. */
  pagesBefore?: number;
  checkpoint?: Checkpoint;
  /** The first token's expiry (an hour after the start by default). */
  tokenExpiresAt?: Date;
}

function harness(options: Options) {
  const events: string[] = [];
  const clock: Clock & { at: Date } = { at: START, now: () => clock.at };
  const shutdown = new AbortController();
  const committed: Array<{ position: string; next: string; records: string[] }> = [];
  const failed: string[] = [];
  let status: SyncRun['status'] = 'queued';
  let inFlight = 0;
  let fetchCalls = 0;
  let issued = 0;
  const fetched: Array<{
    position: string;
    at: Checkpoint;
    token: string;
    settled: boolean;
    listened: boolean;
  }> = [];
  const renewals: Array<{ fetchesInFlight: number }> = [];

  const run: SyncRun = {
    id: 'run-1',
    connectionId: 'conn-1',
    model: 'contacts',
    status: 'queued',
    trigger: 'manual',
    full: false,
    ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
    recordsFetched: 0,
    recordsUpserted: 0,
    recordsDeleted: 0,
    pages: options.pagesBefore ?? 0,
    executions: 0,
    attemptsMade: 0,
    createdAt: START,
  };
  const runs = {
    markRunning: async (): Promise<SyncRun> => {
      status = 'running';
      return { ...run, status, startedAt: clock.now(), executionId: 'exec-1' };
    },
    state: async () => ({ watermark: undefined }),
    markFull: async () => undefined,
    find: async (): Promise<SyncRun> => ({ ...run, status, executionId: 'exec-1' }),
    fail: async (_run: SyncRun, code: string) => {
      status = 'failed';
      failed.push(code);
    },
  } as unknown as SyncRunsRepository;
  // A page's records are named after the position it was read at.
  const positionOfPage = (page: FetchedRecord[]) => page[0]?.externalId.split('-')[0] ?? '?';
  const records = {
    commitPage: async (
      _run: SyncRun,
      page: FetchedRecord[],
      next: Checkpoint | undefined,
    ): Promise<PageResult> => {
      const position = positionOfPage(page);
      events.push(`commit ${position}`);
      await options.commit?.(position);
      committed.push({
        position,
        next: cursorOf(next),
        records: page.map((r) => r.externalId),
      });
      events.push(`committed ${position}`);
      return { upserted: page.length, deleted: 0 };
    },
    completeRun: async (done: SyncRun): Promise<SyncRun> => {
      events.push('completed');
      status = 'succeeded';
      return { ...done, status };
    },
  } as unknown as RecordsRepository;
  const connections = {
    findById: async () => ({ status: 'active', integrationKey: 'crm', scopes: [] }),
  } as unknown as ConnectionStore;
  const integrations = { get: () => integration } as unknown as IntegrationRegistry;
  const token = (expiresAt: Date): WorkerTokens => {
    issued += 1;
    return {
      tokens: { accessToken: `at-${issued}`, expiresAt },
      obtainedAt: new Date(expiresAt.getTime() - 3_600_000),
    } as unknown as WorkerTokens;
  };
  const tokens = {
    forWorker: async (): Promise<WorkerTokens> => {
      renewals.push({ fetchesInFlight: inFlight });
      const expiresAt =
        issued === 0 && options.tokenExpiresAt
          ? options.tokenExpiresAt
          : new Date(clock.now().getTime() + 3_600_000);
      const auth = token(expiresAt);
      events.push(`token ${auth.tokens.accessToken}`);
      return auth;
    },
  } as unknown as TokenService;
  const fetcher = {
    fetch: (
      _connectionId: string,
      _integration: Integration,
      _adapter: unknown,
      at: Checkpoint,
      auth: WorkerTokens,
    ): Promise<Fetched> => {
      const position = cursorOf(at);
      const entry = {
        position,
        at,
        token: auth.tokens.accessToken,
        settled: false,
        listened: false,
      };
      fetched.push(entry);
      events.push(`fetch ${position} with ${auth.tokens.accessToken}`);
      inFlight += 1;
      const answer = (async () => {
        try {
          const page = await options.provider(position, (fetchCalls += 1));
          // As the adapter does: the run's fixed `since` goes along from page to page.
          if (page.next && at.since) page.next = { since: at.since, ...page.next };
          return { page, auth };
        } finally {
          inFlight -= 1;
          entry.settled = true;
        }
      })();
      // Whether the runner listens to this answer (then/catch): a failed page fetched ahead
      // that nobody listens to is an unhandled rejection, which ends a Node process.
      const then = answer.then.bind(answer);
      answer.then = ((...args: Parameters<typeof answer.then>) => {
        entry.listened = true;
        return then(...args);
      }) as typeof answer.then;
      return answer;
    },
  } as unknown as PageFetcher;
  const metrics = {
    syncRecords: { inc: () => undefined },
    syncRuns: { inc: () => undefined },
  } as unknown as Metrics;
  const config = {
    sync: { maxPages: options.maxPages ?? 100, maxRunMinutes: 60 },
  } as unknown as AppConfig;
  const endings = new RunEndings(runs, connections, metrics, clock);
  const runner = new SyncRunner(
    config,
    runs,
    records,
    connections,
    integrations,
    tokens,
    fetcher,
    endings,
    metrics,
    clock,
  );
  const context: RunContext = { attemptsMade: 0, finalAttempt: false, shutdown: shutdown.signal };

  /** Starts the run; `state()` says whether its promise settled, and how. */
  function start() {
    let outcome: { value?: unknown; error?: unknown } | undefined;
    const promise = runner.execute(run.id, context).then(
      (value) => (outcome = { value }),
      (error: unknown) => (outcome = { error }),
    );
    return { promise, state: () => outcome };
  }

  return {
    events,
    clock,
    shutdown,
    committed,
    failed,
    fetched,
    renewals,
    start,
    /** The run's row as a cancel leaves it (the fence then refuses the commit). */
    cancel: () => void (status = 'cancelled'),
  };
}

/** A provider with pages a → b → c → (end), each answered at once. */
const threePages = (position: string): ParsedPage => {
  if (position === 'start') return providerPage('start', 'b');
  if (position === 'b') return providerPage('b', 'c');
  return providerPage(position);
};

describe('SyncRunner: the page fetched ahead', () => {
  // The runner's log lines are not what these tests are about.
  beforeAll(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterAll(() => {
    jest.restoreAllMocks();
  });

  // A page fetched ahead that fails with nobody listening is an unhandled rejection: Jest fails
  // the test that caused it (and Node would end the worker). The tests below also check that the
  // runner listens at once (`listened`), so a late listener cannot pass by luck of timing.

  it('commits pages in order, fetching page N+1 while page N is written (one page ahead, no more)', async () => {
    const writes = new Map<string, Deferred<void>>();
    const h = harness({
      provider: threePages,
      commit: (position) => {
        const write = deferred<void>();
        writes.set(position, write);
        return write.promise;
      },
    });
    const running = h.start();
    await settle();
    // The first page's write has not finished, and the second page is already asked for; not the third.
    expect(h.events).toEqual([
      'token at-1',
      'fetch start with at-1',
      'fetch b with at-1',
      'commit start',
    ]);
    expect(h.fetched.map((f) => [f.position, f.settled])).toEqual([
      ['start', true],
      ['b', true],
    ]);
    expect(running.state()).toBeUndefined();

    writes.get('start')!.resolve();
    await settle();
    expect(h.events.slice(4)).toEqual(['committed start', 'fetch c with at-1', 'commit b']);
    writes.get('b')!.resolve();
    await settle();
    writes.get('c')!.resolve();
    await running.promise;

    expect(running.state()).toEqual({ value: 'succeeded' });
    expect(h.committed).toEqual([
      { position: 'start', next: 'b', records: ['start-1', 'start-2'] },
      { position: 'b', next: 'c', records: ['b-1', 'b-2'] },
      { position: 'c', next: 'done', records: ['c-1', 'c-2'] },
    ]);
    expect(h.events.at(-1)).toBe('completed');
    expect(h.fetched.map((f) => f.position)).toEqual(['start', 'b', 'c']);
  });

  describe('a commit refused (the run was cancelled or taken over: ExecutionStopped)', () => {
    it('never commits the page fetched ahead, and settles only after that fetch did', async () => {
      const ahead = deferred<ParsedPage>();
      const h = harness({
        provider: (position) => (position === 'start' ? providerPage('start', 'b') : ahead.promise),
        commit: () => {
          h.cancel();
          throw new ExecutionStopped('run-1');
        },
      });
      const running = h.start();
      await settle();
      // The commit failed while the page ahead is still being fetched: the run waits for it.
      expect(h.fetched.map((f) => [f.position, f.settled])).toEqual([
        ['start', true],
        ['b', false],
      ]);
      expect(h.events).toContain('commit start');
      expect(running.state()).toBeUndefined();

      // It fails, and nobody will use it: no unhandled rejection.
      ahead.reject(new Error('provider 500'));
      await running.promise;
      await settle();
      // Cancelled (the fake's row is no longer running under this execution): skipped, not failed.
      expect(running.state()).toEqual({ value: 'skipped' });
      expect(h.committed).toEqual([]);
      expect(h.events.filter((e) => e.startsWith('commit'))).toEqual(['commit start']);
      expect(h.failed).toEqual([]);
    });

    it('a page fetched ahead that failed before the refusal: no unhandled rejection either', async () => {
      const write = deferred<void>();
      const h = harness({
        provider: (position) => {
          if (position === 'start') return providerPage('start', 'b');
          throw new StaleCursorError('cursor expired');
        },
        commit: () => write.promise,
      });
      const running = h.start();
      await settle();
      // Page b's fetch has failed while page a is still being written.
      expect(h.fetched.map((f) => [f.position, f.settled])).toEqual([
        ['start', true],
        ['b', true],
      ]);
      await settle();
      // Not only by luck of timing: the runner listened to the page ahead as soon as it asked for it.
      expect(h.fetched[1]?.listened).toBe(true);
      h.cancel();
      write.reject(new ExecutionStopped('run-1'));
      await running.promise;
      await settle();
      expect(running.state()).toEqual({ value: 'skipped' });
      // The failed page ahead was never looked at: no recovery, no fetch after it.
      expect(h.fetched.map((f) => f.position)).toEqual(['start', 'b']);
    });
  });

  it('a page fetched ahead that finds its position expired (StaleCursorError): the feed is read again from the restarted checkpoint', async () => {
    const since = '2026-11-01T00:00:00.000Z';
    let staleOnce = true;
    const h = harness({
      // An incremental run: a restart keeps `since` and drops the cursor.
      checkpoint: { since },
      provider: (position) => {
        if (position === 'b' && staleOnce) {
          staleOnce = false;
          throw new StaleCursorError('the query locator expired');
        }
        return threePages(position);
      },
    });
    const running = h.start();
    await running.promise;
    expect(running.state()).toEqual({ value: 'succeeded' });
    // Page a committed, b failed ahead (never committed), then a again (the restart), b, c.
    expect(h.fetched.map((f) => f.position)).toEqual(['start', 'b', 'start', 'b', 'c']);
    expect(h.committed.map((c) => [c.position, c.next])).toEqual([
      ['start', 'b'],
      ['start', 'b'],
      ['b', 'c'],
      ['c', 'done'],
    ]);
    // The restart kept the run's `since` and dropped the expired cursor.
    expect(h.fetched.map((f) => f.at)).toEqual([
      { since },
      { since, cursor: 'b' },
      { since },
      { since, cursor: 'b' },
      { since, cursor: 'c' },
    ]);
  });

  it('renews a token about to expire before a fetch starts, never while a fetch runs', async () => {
    const slow = deferred<ParsedPage>();
    // The first token has an hour of life, renewed when less than a minute is left.
    const h = harness({
      provider: (position) => (position === 'b' ? slow.promise : threePages(position)),
      tokenExpiresAt: new Date(START.getTime() + 3_600_000),
    });
    const running = h.start();
    await settle();
    // Page b is being fetched ahead with the first token, and the token expires meanwhile.
    expect(h.fetched.map((f) => [f.position, f.token, f.settled])).toEqual([
      ['start', 'at-1', true],
      ['b', 'at-1', false],
    ]);
    h.clock.at = new Date(START.getTime() + 3_600_000 - 30_000);
    await settle();
    // Page a is written; b's fetch still runs: nothing renews the token under it.
    expect(h.committed.map((c) => c.position)).toEqual(['start']);
    expect(h.renewals).toHaveLength(1);

    slow.resolve(providerPage('b', 'c'));
    await running.promise;
    expect(running.state()).toEqual({ value: 'succeeded' });
    // Renewed once b was in, before c was asked for, and c used the new token.
    expect(h.events.filter((e) => e.startsWith('token') || e.startsWith('fetch'))).toEqual([
      'token at-1',
      'fetch start with at-1',
      'fetch b with at-1',
      'token at-2',
      'fetch c with at-2',
    ]);
    expect(h.renewals).toEqual([{ fetchesInFlight: 0 }, { fetchesInFlight: 0 }]);
  });

  describe('shutdown (the worker is stopping)', () => {
    it('after a page: the job goes back to the queue (RetryLater), and the page fetched ahead is not committed', async () => {
      const ahead = deferred<ParsedPage>();
      const h = harness({
        provider: (position) => (position === 'start' ? providerPage('start', 'b') : ahead.promise),
        // The signal comes while page a is written.
        commit: () => void h.shutdown.abort(),
      });
      const running = h.start();
      await settle();
      expect(h.committed.map((c) => c.position)).toEqual(['start']);
      // Page b was asked for before the signal; the run waits for its answer before it lets go.
      expect(running.state()).toBeUndefined();
      ahead.resolve(providerPage('b', 'c'));
      await running.promise;
      const outcome = running.state();
      expect(outcome?.error).toBeInstanceOf(RetryLater);
      expect((outcome?.error as RetryLater).delayMs).toBe(0);
      expect(h.committed.map((c) => c.position)).toEqual(['start']);
      expect(h.fetched.map((f) => f.position)).toEqual(['start', 'b']);
    });

    it('signalled while a page is fetched: that page is committed, and nothing is fetched ahead', async () => {
      const first = deferred<ParsedPage>();
      const h = harness({ provider: () => first.promise });
      const running = h.start();
      await settle();
      h.shutdown.abort();
      first.resolve(providerPage('start', 'b'));
      await running.promise;
      expect(running.state()?.error).toBeInstanceOf(RetryLater);
      expect(h.fetched.map((f) => f.position)).toEqual(['start']);
      expect(h.committed.map((c) => [c.position, c.next])).toEqual([['start', 'b']]);
    });
  });

  it.each([
    { pagesBefore: 0, fetches: ['start', 'p1', 'p2'] },
    // Pages committed by an earlier execution count.
    { pagesBefore: 1, fetches: ['start', 'p1'] },
  ])(
    'the page budget (3 pages, $pagesBefore before) stops the fetching ahead: no fetch beyond it',
    async ({ pagesBefore, fetches }) => {
      // A provider whose pages never end.
      const h = harness({
        maxPages: 3,
        pagesBefore,
        // (Ending after 10, so that a runner that ignored the budget fails here instead of paging forever.)
        provider: (position, call) => providerPage(position, call < 10 ? `p${call}` : undefined),
      });
      const running = h.start();
      await running.promise;
      expect(running.state()).toEqual({ value: 'failed' });
      expect(h.failed).toEqual(['sync_page_budget_exceeded']);
      expect(h.fetched.map((f) => f.position)).toEqual(fetches);
      // Every page fetched was committed: the budget stopped the fetch, not a write.
      expect(h.committed.map((c) => c.position)).toEqual(fetches);
    },
  );
});
