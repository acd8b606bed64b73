import type { ScopeMatching } from '../providers/provider-definition.js';
import type { Integration } from './integration.js';

/**
 * The form a scope is compared in: its alias resolved (`email` →
 * `https://www.googleapis.com/auth/userinfo.email`), a default resource
 * prefix removed (`https://graph.microsoft.com/User.Read` → `User.Read`),
 * lower-cased where the provider's names are case-insensitive.
 */
export function canonicalScope(scope: string, matching: ScopeMatching): string {
  let out = matching.aliases[scope] ?? scope;
  const prefix = matching.stripPrefixes.find((p) => out.toLowerCase().startsWith(p.toLowerCase()));
  if (prefix) out = out.slice(prefix.length);
  return matching.caseInsensitive ? out.toLowerCase() : out;
}

/**
 * Required scopes the grant lacks. Some providers never list certain
 * requested scopes as granted (`offline_access`, `openid` at Microsoft):
 * the catalogue names them, and they are not held against the grant.
 */
export function missingScopes(integration: Integration, granted: readonly string[]): string[] {
  const { neverEchoedScopes, scopeMatching } = integration.tokenResponse;
  const canonical = (scope: string) => canonicalScope(scope, scopeMatching);
  const never = new Set(neverEchoedScopes.map(canonical));
  const have = new Set(granted.map(canonical));
  return integration.requiredScopes.filter(
    (scope) =>
      !never.has(canonical(scope)) &&
      !scopeMatching.neverEchoedSuffixes.some((suffix) => scope.endsWith(suffix)) &&
      !have.has(canonical(scope)),
  );
}
