import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent, fetch } from 'undici';
import { type BrokerProcess, spawnBrokerProcess, waitForLog } from '../support/broker-process.js';
import { freePort } from '../support/demo-process.js';
import { type Scenario, startScenario } from '../support/scenario.js';

const CALLERS = 128;

/** What a caller saw: a status, or the error code of a request that got no answer. */
function outcomeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).name;
}

/**
 * SIGTERM while 128 keep-alive callers read tokens from a real broker
 * process: readiness turns 503 first, every request that reached the broker
 * is answered, keep-alive connections end cleanly (no reset), and only then
 * does the listener refuse new connections.
 */
describe('SIGTERM under load', () => {
  let s: Scenario;
  let broker: BrokerProcess;
  let url: string;
  let key: string;
  let connectionId: string;

  beforeAll(async () => {
    s = await startScenario();
    key = await s.cliCreateKey(['--name', 'shutdown']);
    connectionId = await s.connectOk(key, { tenantId: 'tenant-shutdown' });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    broker = spawnBrokerProcess(s.brokerSetup, {
      PORT: String(port),
      ROLE: 'api',
      SHUTDOWN_DRAIN_SECONDS: '1',
    });
    await waitForLog(broker, /token broker listening/);
    for (let i = 0; i < 100; i += 1) {
      const ok = await fetch(`${url}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 60_000);

  afterAll(async () => {
    broker?.child.kill('SIGKILL');
    await broker?.exited;
    await s?.stop();
  });

  it('readiness 503 before the listener closes; every request answered; no reset', async () => {
    const agent = new Agent({ keepAliveTimeout: 30_000, connections: CALLERS });
    const outcomes: Record<string, number> = {};
    const count = (what: string) => (outcomes[what] = (outcomes[what] ?? 0) + 1);
    let refusedAt: number | undefined;
    let readinessDownAt: number | undefined;
    let stop = false;

    const caller = async () => {
      while (!stop) {
        try {
          const response = await fetch(`${url}/v1/connections/${connectionId}/token`, {
            headers: { authorization: `Bearer ${key}` },
            dispatcher: agent,
          });
          await response.arrayBuffer();
          count(String(response.status));
        } catch (error) {
          const code = outcomeOf(error);
          count(code);
          // Never a tight loop of failures: let timers and I/O run.
          await new Promise((resolve) => setImmediate(resolve));
          // The listener is closed: a caller (or its balancer) goes elsewhere.
          if (code === 'ECONNREFUSED') {
            refusedAt ??= Date.now();
            return;
          }
        }
      }
    };
    const readiness = async () => {
      while (!stop && readinessDownAt === undefined) {
        try {
          const response = await fetch(`${url}/health/ready`, { dispatcher: agent });
          await response.arrayBuffer();
          if (response.status === 503) readinessDownAt = Date.now();
        } catch {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    const callers = Array.from({ length: CALLERS }, caller);
    const probe = readiness();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const sent = Date.now();
    broker.child.kill('SIGTERM');
    const exited = await Promise.race([
      broker.exited.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 20_000)),
    ]);
    const exitedAfter = Date.now() - sent;
    stop = true;
    if (!exited) process.stdout.write(`broker did not exit:\n${broker.logs.text().slice(-3000)}\n`);
    await Promise.all([...callers, probe]);
    await agent.close();

    process.stdout.write(
      `SIGTERM under load (${CALLERS} keep-alive callers): ${JSON.stringify(outcomes)}; ` +
        `readiness 503 after ${readinessDownAt! - sent} ms, refused after ${refusedAt! - sent} ms, exited after ${exitedAfter} ms\n`,
    );
    expect(broker.child.signalCode).toBe('SIGTERM');
    expect(outcomes['200']).toBeGreaterThan(CALLERS);
    // Answered, or refused at connect once the listener is closed: nothing else.
    expect(Object.keys(outcomes).filter((o) => o !== '200' && o !== 'ECONNREFUSED')).toEqual([]);
    expect(readinessDownAt).toBeDefined();
    expect(refusedAt).toBeDefined();
    expect(readinessDownAt!).toBeLessThan(refusedAt!);
    expect(exitedAfter).toBeLessThan(10_000);
  }, 60_000);
});
