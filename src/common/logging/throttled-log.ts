/**
 * Logs the first occurrence of an ongoing condition (an outage) at once,
 * then at most once per interval with how many were suppressed: an outage
 * is a few lines, not one stack trace per request or retry.
 */
export class ThrottledLog {
  private last = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(private readonly intervalMs = 30_000) {}

  /** Calls `log` with the number suppressed since the last line, or not at all. */
  maybe(log: (suppressed: number) => void, now = Date.now()): void {
    if (now - this.last < this.intervalMs) {
      this.suppressed += 1;
      return;
    }
    const suppressed = this.suppressed;
    this.last = now;
    this.suppressed = 0;
    log(suppressed);
  }
}
