import { isIPv4, isIPv6 } from 'node:net';

export interface FailedAttemptsLimits {
  /** Failures one address may make in a window before it is refused. */
  maxFailures: number;
  windowMs: number;
  /** Addresses tracked at once; past it the oldest window is dropped. */
  maxAddresses: number;
}

export const DEFAULT_FAILED_ATTEMPTS_LIMITS: FailedAttemptsLimits = {
  maxFailures: 20,
  windowMs: 60_000,
  maxAddresses: 10_000,
};

/**
 * Counts invalid service keys per client address on this replica (memory,
 * not Redis: authentication must keep working when Redis is down). A fixed
 * window opens at an address's first failure; past `maxFailures` in it, the
 * address is refused until the window ends, before any hashing or query.
 * IPv6 addresses count per /64, the block one host usually holds.
 */
export class FailedAttemptsLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(private readonly limits: FailedAttemptsLimits = DEFAULT_FAILED_ATTEMPTS_LIMITS) {}

  /** Seconds the address must wait, or undefined when it may try. */
  retryAfterSeconds(address: string, now: number): number | undefined {
    const window = this.windows.get(addressKey(address));
    if (!window || window.failures < this.limits.maxFailures) return undefined;
    const remaining = window.start + this.limits.windowMs - now;
    return remaining > 0 ? Math.ceil(remaining / 1000) : undefined;
  }

  recordFailure(address: string, now: number): void {
    const key = addressKey(address);
    const window = this.windows.get(key);
    if (window && window.start + this.limits.windowMs > now) {
      window.failures += 1;
      return;
    }
    // Re-inserted, so the map stays ordered by window start and the oldest go first.
    this.windows.delete(key);
    this.windows.set(key, { start: now, failures: 1 });
    this.prune(now);
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) {
      const expired = window.start + this.limits.windowMs <= now;
      if (!expired && this.windows.size <= this.limits.maxAddresses) return;
      this.windows.delete(key);
    }
  }
}

/** The unit counted: an IPv4 address (also when IPv4-mapped), or an IPv6 /64. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return mapped;
  if (isIPv4(address) || !isIPv6(address)) return address;
  const [head = '', tail] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
