import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'provider-edge-process.mjs');

export interface EdgeArrival {
  at: number;
  method: string;
  path: string;
  query: string;
  /** What the edge answered: its own 429, or the upstream's status. */
  status: number;
  retryAfter?: string;
}

/**
 * A provider-style rate limit (429 past `requests` arrivals in a fixed window
 * of `perMs`) enforced by a process of its own in front of `upstream`: see
 * provider-edge.mjs for why it is not in the test process.
 */
export class ProviderEdge {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(
    upstream: string,
    limit: { requests: number; perMs: number },
  ): Promise<ProviderEdge> {
    const child = spawn(
      process.execPath,
      [script, upstream, String(limit.requests), String(limit.perMs)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const port = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening (\d+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`provider edge exited (${code})`)));
    });
    return new ProviderEdge(child, `http://127.0.0.1:${port}`);
  }

  /** Arrivals since `since` (ms), in order, and the edge's worst event-loop pause. */
  async arrivals(since = 0): Promise<{ arrivals: EdgeArrival[]; lagMaxMs: number }> {
    const response = await fetch(`${this.url}/__edge/arrivals`);
    const body = (await response.json()) as { arrivals: EdgeArrival[]; lagMaxMs: number };
    return { ...body, arrivals: body.arrivals.filter((a) => a.at >= since) };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** Arrivals in each whole second, from the first arrival's second to the last's. */
export function perSecond(times: number[]): number[] {
  if (!times.length) return [];
  const seconds = times.map((t) => Math.floor(t / 1000));
  const first = Math.min(...seconds);
  const counts = new Array<number>(Math.max(...seconds) - first + 1).fill(0);
  for (const second of seconds) counts[second - first]! += 1;
  return counts;
}

/** The most events in any window of `ms` (any start, not just whole seconds). */
export function busiestWindow(times: number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i += 1) {
    while (sorted[i]! - sorted[j]! >= ms) j += 1;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
