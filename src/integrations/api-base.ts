import { ProviderError } from '../common/errors/app-error.js';
import { apiHostProblem } from '../common/url-policy.js';
import type { IntegrationApi } from './integration.js';

/**
 * The API base URL of one connection (no trailing slash): the integration's fixed one, or the
 * connection's own from a token extra (Salesforce `instanceUrl`, Pipedrive
 * `apiDomain`), whose host is checked against the provider's allowed hosts
 * before any token is sent there. A token response can therefore never
 * point the broker, with a bearer token, at a host of its choosing.
 */
export function resolveApiBase(
  api: IntegrationApi,
  extras: Readonly<Record<string, string>>,
  allowInsecureLoopback: boolean,
): string {
  if (api.baseUrl) return withoutTrailingSlash(api.baseUrl);
  const name = api.baseUrlFromExtra!;
  const raw = extras[name];
  if (!raw) throw hostRefused(`the connection has no "${name}" to call its API at`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw hostRefused(`"${name}" is not a URL`);
  }
  const problem = apiHostProblem(url, api.allowedHosts, allowInsecureLoopback);
  if (problem) throw hostRefused(`"${name}" is refused: ${problem}`);
  // Only the origin: a path or query in a provider's answer is not ours to follow.
  return url.origin;
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** A token answer named an API host the provider's definition does not allow; nothing was sent there. */
export class ApiHostRefusedError extends ProviderError {
  constructor(why: string) {
    super('api_host_not_allowed', `The API host is not allowed: ${why}`, { transient: false });
  }
}

function hostRefused(why: string): ApiHostRefusedError {
  return new ApiHostRefusedError(why);
}
