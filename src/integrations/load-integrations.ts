import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { Secret } from '../common/secret.js';
import { apiHostProblem, providerUrlProblem } from '../common/url-policy.js';
import { ConfigError } from '../config/config-error.js';
import type { ProviderCatalogue } from '../providers/provider-catalogue.js';
import type { ProviderDefinition } from '../providers/provider-definition.js';
import { resolveBudget } from './integration-budget.js';
import { resolveSettings, withSettings } from './integration-settings.js';
import type { Integration, IntegrationApi } from './integration.js';
import { type IntegrationEntry, integrationsFileSchema } from './integrations-file.schema.js';
import { substituteEnv } from './substitute-env.js';

const URL_FIELDS = [
  'issuer',
  'idTokenIssuer',
  'authorizationUrl',
  'tokenUrl',
  'revocationUrl',
] as const;

export interface LoadIntegrationsOptions {
  env: NodeJS.ProcessEnv;
  catalogue: ProviderCatalogue;
  allowInsecureLoopbackProviders: boolean;
}

/** Reads, validates and resolves the integrations file; any problem names its field. */
export async function loadIntegrationsFile(
  file: string,
  options: LoadIntegrationsOptions,
): Promise<Integration[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `INTEGRATIONS_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  return parseIntegrations(text, options, `INTEGRATIONS_FILE (${file})`);
}

export function parseIntegrations(
  text: string,
  options: LoadIntegrationsOptions,
  origin = 'integrations',
): Integration[] {
  const fail = (where: string, problem: string): never => {
    throw new ConfigError(`${origin}: ${where ? `${where}: ` : ''}${problem}`);
  };
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    return fail('', `is not valid YAML or JSON (${(error as Error).message.split('\n')[0]})`);
  }
  const substituted = substituteEnv(document, options.env, fail);
  const parsed = integrationsFileSchema.safeParse(substituted);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return fail(formatPath(issue.path), issue.message);
  }
  const keys = new Set<string>();
  return parsed.data.integrations.map((entry, index) => {
    const where = `integrations[${index}]`;
    if (keys.has(entry.key)) fail(`${where}.key`, `"${entry.key}" is used twice`);
    keys.add(entry.key);
    return resolveIntegration(entry, where, options, fail);
  });
}

function resolveIntegration(
  entry: IntegrationEntry,
  where: string,
  options: LoadIntegrationsOptions,
  fail: (where: string, problem: string) => never,
): Integration {
  const provider = options.catalogue.get(entry.provider);
  if (!provider) {
    return fail(
      `${where}.provider`,
      `unknown provider "${entry.provider}" (known: ${options.catalogue.names().join(', ')})`,
    );
  }
  for (const field of provider.requiredIntegrationFields) {
    if (!entry[field]) fail(`${where}.${field}`, `is required for provider "${provider.name}"`);
  }
  const { auth, token } = provider;
  const settings = resolveSettings(provider, entry.settings, where, fail);
  const url = (value: string | undefined) => withSettings(value, settings);
  const resolved: Integration = {
    key: entry.key,
    provider,
    clientId: entry.clientId,
    clientSecret: new Secret(entry.clientSecret),
    scopes: entry.scopes,
    requiredScopes: entry.requiredScopes ?? entry.scopes,
    scopeSeparator: entry.scopeSeparator ?? auth.scopeSeparator,
    // An OAuth2 provider's `issuer` override is the issuer of its ID tokens.
    issuer: token.idTokenIssuer ? undefined : url(entry.issuer ?? auth.issuer)?.replace(/\/+$/, ''),
    idTokenIssuer: token.idTokenIssuer ? url(entry.issuer ?? token.idTokenIssuer) : undefined,
    authorizationUrl: url(entry.authorizationUrl ?? auth.authorizationUrl),
    tokenUrl: url(entry.tokenUrl ?? auth.tokenUrl),
    revocationUrl: url(entry.revocationUrl ?? auth.revocationUrl),
    revocation: provider.revocation,
    tokenEndpointAuthMethod: entry.tokenEndpointAuthMethod ?? auth.tokenEndpointAuthMethod,
    pkce: entry.pkce ?? auth.pkce,
    authorizationParams: { ...auth.authorizationParams, ...entry.authorizationParams },
    defaultTokenLifetimeSeconds:
      entry.defaultTokenLifetimeSeconds ?? auth.defaultTokenLifetimeSeconds,
    refreshTokenIdleSeconds: auth.refreshTokenIdleDays
      ? auth.refreshTokenIdleDays * 86_400
      : undefined,
    tokenHostFromCallback: auth.tokenHostFromCallback,
    tokenResponse: {
      extras: { ...token.extras, ...entry.tokenExtras },
      scopesField: token.scopesField,
      neverEchoedScopes: token.neverEchoedScopes,
      scopeMatching: token.scopeMatching,
      errors: [...(entry.tokenErrors ?? []), ...token.errors],
    },
    account: entry.account ?? provider.account,
    revokeSupersededGrants: entry.revokeSupersededGrants ?? provider.revokeSupersededGrants,
    requireFinalize: entry.requireFinalize,
    api: resolveApi(provider, entry, where, fail, options.allowInsecureLoopbackProviders),
    sync: entry.sync,
    budget: resolveBudget(provider, entry),
  };
  for (const field of URL_FIELDS) {
    const value = resolved[field];
    const problem = value && providerUrlProblem(value, options.allowInsecureLoopbackProviders);
    if (problem) fail(`${where}.${field}`, problem);
  }
  if (resolved.account.type === 'id_token') {
    const lacking = (resolved.account.requiresScopes ?? []).filter(
      (s) => !resolved.scopes.includes(s),
    );
    if (lacking.length)
      fail(
        `${where}.scopes`,
        `must include ${lacking.join(', ')} (the account is read from the ID token)`,
      );
  }
  if (resolved.account.type === 'id_token' && provider.kind !== 'oidc' && !resolved.idTokenIssuer) {
    fail(`${where}.account.type`, 'id_token needs an oidc provider');
  }
  if (resolved.account.type === 'http') {
    const { url, path } = resolved.account;
    if (!url === !path) fail(`${where}.account`, 'give exactly one of url and path');
    const problem = url && providerUrlProblem(url, options.allowInsecureLoopbackProviders);
    if (problem) fail(`${where}.account.url`, problem);
    if (path && !resolved.api) fail(`${where}.account.path`, 'needs an api to be relative to');
  }
  if (resolved.api?.baseUrl) {
    const problem = providerUrlProblem(
      resolved.api.baseUrl,
      options.allowInsecureLoopbackProviders,
    );
    if (problem) fail(`${where}.api.baseUrl`, problem);
  }
  if (
    resolved.api?.baseUrlFromExtra &&
    !(resolved.api.baseUrlFromExtra in resolved.tokenResponse.extras)
  ) {
    fail(
      `${where}.api.baseUrlFromExtra`,
      `"${resolved.api.baseUrlFromExtra}" is not a token extra (add it under tokenExtras)`,
    );
  }
  for (const [i, model] of (resolved.sync?.models ?? []).entries()) {
    if (!resolved.api?.models[model])
      fail(`${where}.sync.models[${i}]`, `model "${model}" is not described under api.models`);
  }
  const missingRequired = resolved.requiredScopes.filter((s) => !resolved.scopes.includes(s));
  if (missingRequired.length) {
    fail(
      `${where}.requiredScopes`,
      `must be a subset of scopes (not requested: ${missingRequired.join(', ')})`,
    );
  }
  return resolved;
}

/**
 * The provider's API with the integration's changes: its `baseUrl` pins the
 * host (a Salesforce My Domain, a test server), its models are added or
 * replace the provider's by name, its proxy routes come before the provider's.
 */
function resolveApi(
  provider: ProviderDefinition,
  entry: IntegrationEntry,
  where: string,
  fail: (where: string, problem: string) => never,
  allowInsecureLoopback: boolean,
): IntegrationApi | undefined {
  const override = entry.api;
  const variant = override?.variant;
  const base = variant ? provider.apiVariants[variant] : provider.api;
  if (variant && !base) {
    const known = Object.keys(provider.apiVariants).join(', ') || 'none';
    fail(
      `${where}.api.variant`,
      `"${variant}" is not an API of "${provider.name}" (known: ${known})`,
    );
  }
  if (!base && !override) return undefined;
  const models = { ...base?.models, ...override?.models };
  const fromExtra = override?.baseUrl
    ? undefined
    : (override?.baseUrlFromExtra ?? base?.baseUrlFromExtra);
  const api: IntegrationApi = {
    baseUrl: override?.baseUrl ?? (override?.baseUrlFromExtra ? undefined : base?.baseUrl),
    baseUrlFromExtra: fromExtra,
    allowedHosts: override?.allowedHosts ?? base?.allowedHosts ?? [],
    authorizationScheme: override?.authorizationScheme ?? base?.authorizationScheme,
    models,
    // The integration's first: of two equally long prefixes, the first listed wins.
    proxyRoutes: [...(override?.proxyRoutes ?? []), ...(base?.proxyRoutes ?? [])],
  };
  if (!api.baseUrl && !api.baseUrlFromExtra)
    fail(`${where}.api.baseUrl`, 'is required (or baseUrlFromExtra)');
  if (api.baseUrlFromExtra && api.allowedHosts.length === 0)
    fail(`${where}.api.allowedHosts`, 'is required with baseUrlFromExtra');
  // A host the provider leaves to the integration (a Dynamics 365 organisation) is still the provider's.
  if (base && !base.baseUrl && !base.baseUrlFromExtra && api.baseUrl) {
    const problem = apiHostProblem(new URL(api.baseUrl), base.allowedHosts, allowInsecureLoopback);
    if (problem) fail(`${where}.api.baseUrl`, problem);
  }
  return api;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    return out ? `${out}.${String(part)}` : String(part);
  }, '');
}
