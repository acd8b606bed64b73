import type { NeededScope } from '../providers/api-model.schema.js';
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
 * Whether a scope counts as held by a grant. Some providers never list
 * certain requested scopes as granted (`offline_access`, `openid` at
 * Microsoft): the catalogue names them, and they are not held against the grant.
 */
function grantCheck(integration: Integration, granted: readonly string[]) {
  const { neverEchoedScopes, scopeMatching } = integration.tokenResponse;
  const canonical = (scope: string) => canonicalScope(scope, scopeMatching);
  const never = new Set(neverEchoedScopes.map(canonical));
  const have = new Set(granted.map(canonical));
  return (scope: string) =>
    never.has(canonical(scope)) ||
    scopeMatching.neverEchoedSuffixes.some((suffix) => scope.endsWith(suffix)) ||
    have.has(canonical(scope));
}

/** Required scopes the grant lacks. */
export function missingScopes(integration: Integration, granted: readonly string[]): string[] {
  const held = grantCheck(integration, granted);
  return integration.requiredScopes.filter((scope) => !held(scope));
}

/** The models an integration syncs: `sync.models`, else every model it describes. */
export function enabledModels(integration: Integration): string[] {
  return integration.sync?.models ?? Object.keys(integration.api?.models ?? {});
}

/**
 * Scopes the models need that the grant lacks, each named once; of
 * alternatives (`anyOf`), none held, the first (the narrowest) is named.
 */
export function missingModelScopes(
  integration: Integration,
  granted: readonly string[],
  models: readonly string[] = enabledModels(integration),
): string[] {
  return missingNeededScopes(
    integration,
    granted,
    models.flatMap((model) => integration.api?.models[model]?.scopes ?? []),
  );
}

/**
 * Needed scopes (a name, or `anyOf` alternatives) the grant lacks, each
 * named once; of alternatives, none held, the first (the narrowest).
 */
export function missingNeededScopes(
  integration: Integration,
  granted: readonly string[],
  needed: readonly NeededScope[],
): string[] {
  const held = grantCheck(integration, granted);
  const missing = new Set<string>();
  for (const scope of needed) {
    const options = typeof scope === 'string' ? [scope] : scope.anyOf;
    if (!options.some(held)) missing.add(options[0]!);
  }
  return [...missing];
}

/**
 * Scopes of `before` that `after` no longer holds (a refresh that narrowed
 * the grant). One the provider never lists (`offline_access` at Microsoft
 * and Salesforce) is not lost for being absent from a refresh answer.
 */
export function lostScopes(
  integration: Integration,
  before: readonly string[],
  after: readonly string[],
): string[] {
  const held = grantCheck(integration, after);
  return before.filter((scope) => !held(scope));
}
