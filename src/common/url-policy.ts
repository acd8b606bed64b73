const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * Provider URLs must be https. Plain http is accepted only for loopback hosts
 * and only when explicitly allowed (tests and the demo sandbox).
 */
export function providerUrlProblem(
  raw: string,
  allowInsecureLoopback: boolean,
): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && allowInsecureLoopback && isLoopbackUrl(url)) return undefined;
  if (url.protocol === 'http:' && isLoopbackUrl(url)) {
    return 'must be https (http is allowed for loopback hosts only with ALLOW_INSECURE_LOOPBACK_PROVIDERS=true)';
  }
  return 'must be https';
}

/**
 * Whether `url` may receive a token as an API host named by a provider's
 * answer (Salesforce `instance_url`, Pipedrive `api_domain`): https on a host
 * matching one of `patterns` (`*.salesforce.com` is any subdomain, a plain
 * name is exact), or loopback when explicitly allowed (tests, demo).
 */
export function apiHostProblem(
  url: URL,
  patterns: readonly string[],
  allowInsecureLoopback: boolean,
): string | undefined {
  if (url.username || url.password) return 'carries credentials';
  // Tests and the demo only: 127.0.0.1 and localhost, nothing else (not even other loopback addresses).
  const testHost = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
  if (allowInsecureLoopback && testHost && /^https?:$/.test(url.protocol)) return undefined;
  if (url.protocol !== 'https:') return `${url.origin} is not https`;
  const host = url.hostname.toLowerCase();
  return hostMatches(host, patterns) ? undefined : `${host} is not one of ${patterns.join(', ')}`;
}

/** `*.salesforce.com` matches any subdomain (not the bare domain); a plain name matches itself. */
export function hostMatches(host: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) =>
    pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern,
  );
}
