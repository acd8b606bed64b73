import { apiHostProblem } from '../common/url-policy.js';
import { ApiHostRefusedError } from './api-base.js';
import type { Integration } from './integration.js';

/**
 * The accounts server of a connection's data centre (Zoho): named in the
 * authorization redirect, kept as a token extra, and checked against the
 * provider's accounts hosts every time before a code, refresh token or
 * client secret is sent there. Undefined: the integration's own token URL.
 */
export function tokenHostFromCallback(
  integration: Integration,
  params: URLSearchParams,
  allowInsecureLoopback: boolean,
): string | undefined {
  const rule = integration.tokenHostFromCallback;
  if (!rule) return undefined;
  const named = params.get(rule.param);
  // Absent: the user is in the data centre the flow started in.
  return named ? checked(named, rule.allowedHosts, allowInsecureLoopback) : undefined;
}

export function storedTokenHost(
  integration: Integration,
  extras: Readonly<Record<string, string>>,
  allowInsecureLoopback: boolean,
): string | undefined {
  const rule = integration.tokenHostFromCallback;
  const stored = rule && extras[rule.extra];
  return stored ? checked(stored, rule.allowedHosts, allowInsecureLoopback) : undefined;
}

function checked(raw: string, allowedHosts: readonly string[], insecure: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiHostRefusedError('the accounts server is not a URL');
  }
  const problem = apiHostProblem(url, allowedHosts, insecure);
  if (problem) throw new ApiHostRefusedError(`the accounts server is refused: ${problem}`);
  return url.origin;
}

/** `url` moved onto `host` (same path and query): the token URL of another data centre. */
export function onHost(url: string | undefined, host: string | undefined): string | undefined {
  if (!url || !host) return url;
  const moved = new URL(url);
  const target = new URL(host);
  moved.protocol = target.protocol;
  moved.host = target.host;
  return moved.href;
}
