/**
 * Log redaction. Every log record passes through here before it is written,
 * so a secret handed to the logger by mistake (a token in an object, a code
 * in a URL, a bearer header in an error message) is replaced, not printed.
 */

export const REDACTED = '[redacted]';

/** Keys whose values are secrets wherever they appear (compared case-insensitively, ignoring - and _). */
const SECRET_KEYS = new Set(
  [
    'accessToken',
    'refreshToken',
    'idToken',
    'token',
    'code',
    'codeVerifier',
    'clientSecret',
    'secret',
    'password',
    'authorization',
    'cookie',
    'setCookie',
    'apiKey',
    'state',
    'nonce',
    'session',
    'finalizeToken',
    'encryptionKeys',
    'ciphertext',
    'assertion',
  ].map(normaliseKey),
);

/** key=value pairs in URLs, form bodies and messages. */
const SECRET_PARAM = new RegExp(
  String.raw`\b(access_token|refresh_token|id_token|code|code_verifier|client_secret|state|nonce|session|token|finalize|assertion|password)=([^&\s"'<>]+)`,
  'gi',
);
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const JSON_SECRET = new RegExp(
  String.raw`"(access_token|refresh_token|id_token|code|code_verifier|client_secret|accessToken|refreshToken|idToken|clientSecret|token|finalizeToken)"\s*:\s*"[^"]*"`,
  'g',
);
/** Our own credential formats, recognisable wherever they end up. */
const OWN_SECRET = /\b(tbk|tbcs|tbfz|tbad)_[A-Za-z0-9_-]{16,}/g;

function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(normaliseKey(key));
}

export function scrubString(value: string): string {
  return value
    .replace(SECRET_PARAM, (_m, name: string) => `${name}=${REDACTED}`)
    .replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(JSON_SECRET, (_m, name: string) => `"${name}":"${REDACTED}"`)
    .replace(OWN_SECRET, (_m, prefix: string) => `${prefix}_${REDACTED}`);
}

/** A deep copy of `value` with secret keys replaced and strings scrubbed. */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8 || seen.has(value)) return '[truncated]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
  if (value instanceof Error) return redactError(value, depth, seen);
  if (value instanceof Date) return value;
  if (value instanceof URL) return scrubString(value.href);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] =
      isSecretKey(key) && item !== undefined && item !== null
        ? REDACTED
        : redact(item, depth + 1, seen);
  }
  return out;
}

function redactError(error: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const plain: Record<string, unknown> = {
    type: error.name,
    message: scrubString(error.message),
    stack: error.stack ? scrubString(error.stack) : undefined,
  };
  const { code, status, error: oauthError } = error as Error & Record<string, unknown>;
  // Not `code`: that key is redacted everywhere, as OAuth authorization codes travel under it.
  if (typeof code === 'string' || typeof code === 'number') plain.errorCode = code;
  if (typeof status === 'number') plain.status = status;
  if (typeof oauthError === 'string') plain.error = scrubString(oauthError);
  if (error.cause !== undefined) plain.cause = redact(error.cause, depth + 1, seen);
  return plain;
}
