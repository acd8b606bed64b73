import type { ScopeMatching } from '../providers/provider-definition.js';

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
