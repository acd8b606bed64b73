import { presentedKeyDigest } from './service-key-format.js';

/** What a request's Authorization header presents. */
export interface PresentedKey {
  /** The bearer token, if the header is `Bearer <token>`. */
  readonly token: string | undefined;
  /** Its digest when it is shaped like a service key (what the key cache is keyed by). */
  readonly digest: string | undefined;
}

const NOTHING: PresentedKey = { token: undefined, digest: undefined };

/**
 * The key a connection presents, parsed and hashed once per connection
 * rather than once per request: a keep-alive client (every HTTP client
 * library's default) sends the same header on every request, and the parse
 * and SHA-256 were about 2 µs of a token read (npm run bench). A header that
 * differs from the last one on its connection (a gateway pooling connections
 * for several services) is parsed afresh: the memo is used only when the
 * header is the same string, so one key never answers for another. It is
 * kept by the socket object (WeakMap) and goes with the connection; it holds
 * what that connection sends anyway.
 */
export class PresentedKeys {
  private readonly byConnection = new WeakMap<object, { header: string; key: PresentedKey }>();

  /** `connection`: the request's socket (none, e.g. an injected request: nothing is kept). */
  of(connection: object | null | undefined, header: string | undefined): PresentedKey {
    if (header === undefined) return NOTHING;
    const memo = connection ? this.byConnection.get(connection) : undefined;
    if (memo !== undefined && memo.header === header) return memo.key;
    const token = bearer(header);
    const key = { token, digest: token === undefined ? undefined : presentedKeyDigest(token) };
    if (connection) this.byConnection.set(connection, { header, key });
    return key;
  }
}

function bearer(header: string): string | undefined {
  const match = header.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}
