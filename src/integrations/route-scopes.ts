import type { ProxyRoute } from '../providers/provider-definition.js';
import type { Integration } from './integration.js';
import { missingNeededScopes } from './scopes.js';

/**
 * The declared route a proxied call falls under: of the routes whose
 * `pathPrefix` holds the path on whole segments and that list the method
 * (all methods when none are listed), the longest prefix; of equally long
 * ones, the first listed (the integration's before its provider's).
 */
export function proxyRouteOf(
  routes: readonly ProxyRoute[],
  method: string,
  path: string,
): ProxyRoute | undefined {
  // HEAD is GET without the body (RFC 9110 §9.3.2): it needs what GET needs.
  const asMethod = method === 'HEAD' ? 'GET' : method;
  const called = comparable(path);
  let best: { route: ProxyRoute; length: number } | undefined;
  for (const route of routes) {
    if (route.methods && !route.methods.some((m) => m === asMethod)) continue;
    const prefix = comparable(route.pathPrefix).replace(/\/+$/, '');
    if (called !== prefix && !called.startsWith(`${prefix}/`)) continue;
    if (!best || prefix.length > best.length) best = { route, length: prefix.length };
  }
  return best?.route;
}

/**
 * Scopes a proxied call needs that the grant lacks (the same matching as the
 * models': short and URI forms, case, `anyOf` broader scopes); none for a
 * call under no declared route.
 */
export function missingRouteScopes(
  integration: Integration,
  granted: readonly string[],
  method: string,
  path: string,
): string[] {
  const route = proxyRouteOf(integration.api?.proxyRoutes ?? [], method, path);
  return route ? missingNeededScopes(integration, granted, route.scopes) : [];
}

/**
 * The path as the provider's router may read it: each segment
 * percent-decoded, without `;` parameters, lower-cased. Compared in that
 * form so that `%63ontacts`, `contacts;x=1` or `Contacts` cannot reach a
 * declared route around its check; a looser match only refuses more.
 */
function comparable(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      const bare = segment.split(';')[0]!;
      try {
        return decodeURIComponent(bare);
      } catch {
        return bare;
      }
    })
    .join('/')
    .toLowerCase();
}
