import { ProviderError } from '../common/errors/app-error.js';
import type { IdTokenClaims } from './token-result.js';

const CLOCK_TOLERANCE_SECONDS = 30;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The claims of an ID token an OAuth2 (not discovered) provider returned
 * from its token endpoint. The issuer may be a template: Microsoft's
 * multi-tenant `https://login.microsoftonline.com/{tenantid}/v2.0` is
 * matched with the token's own `tid`, which must then be a tenant GUID
 * (Microsoft's "validate the issuer" rules). The audience must be our client
 * and the token unexpired. The signature is not checked: OpenID Connect
 * Core §3.1.3.7 lets TLS to the token endpoint stand in for it.
 */
export function checkIdToken(
  idToken: string,
  expected: { issuer: string; clientId: string; now: Date },
): IdTokenClaims {
  const claims = decodePayload(idToken);
  const tid = typeof claims.tid === 'string' ? claims.tid : undefined;
  if (expected.issuer.includes('{tenantid}') && (!tid || !GUID.test(tid)))
    throw invalid('the ID token has no tenant id');
  const issuer = expected.issuer.replace('{tenantid}', tid ?? '');
  if (claims.iss !== issuer) throw invalid('the ID token has another issuer');
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audience.includes(expected.clientId)) throw invalid('the ID token is for another client');
  const now = expected.now.getTime() / 1000;
  if (typeof claims.exp !== 'number' || claims.exp + CLOCK_TOLERANCE_SECONDS < now)
    throw invalid('the ID token has expired');
  if (typeof claims.sub !== 'string' || !claims.sub) throw invalid('the ID token has no subject');
  return stringClaims(claims) as IdTokenClaims;
}

/** The claims worth keeping: strings only (identity, never tokens). */
export function stringClaims(claims: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(claims).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}

function decodePayload(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1];
  try {
    const parsed: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw invalid('the ID token is not a JWT');
}

function invalid(why: string): ProviderError {
  return new ProviderError(
    'provider_response_invalid',
    `The provider's answer failed validation: ${why}`,
    {
      transient: false,
    },
  );
}
