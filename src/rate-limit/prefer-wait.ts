/** The longest a proxy caller may ask to wait for the budget (`Prefer: wait`). */
export const MAX_PREFER_WAIT_MS = 10_000;

/**
 * How long the caller is willing to wait, in ms, from `Prefer: wait=<seconds>`
 * (RFC 7240 §4.3), capped; 0 without one (answer at once). Preferences are
 * comma-separated, parameters after `;`; an unreadable value is ignored, as
 * RFC 7240 §2 asks of preferences a server does not understand.
 */
export function parsePreferWait(
  header: string | readonly string[] | undefined,
  capMs = MAX_PREFER_WAIT_MS,
): number {
  const values = typeof header === 'string' ? [header] : (header ?? []);
  for (const preference of values.flatMap((value) => value.split(','))) {
    const [token] = preference.split(';');
    const match = /^\s*wait\s*=\s*"?(\d{1,9})"?\s*$/i.exec(token ?? '');
    if (match) return Math.min(Number(match[1]) * 1000, capMs);
  }
  return 0;
}

/** A refusal's wait as a Retry-After value: whole seconds, rounded up, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * The Prefer header without its `wait` preference (the broker's to act on,
 * not the provider's); other preferences (OData's `odata.maxpagesize`) go on.
 */
export function withoutWaitPreference(header: string): string | undefined {
  const kept = header
    .split(',')
    .filter((preference) => !/^\s*wait\s*=/i.test(preference))
    .map((preference) => preference.trim())
    .filter(Boolean);
  return kept.length ? kept.join(', ') : undefined;
}
