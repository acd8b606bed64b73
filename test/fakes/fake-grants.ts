import { createHash, randomBytes } from 'node:crypto';

/** One end user's authorization of the app, at a fake provider. */
export interface FakeGrant {
  id: string;
  account: string;
  scopes: string[];
  revoked: boolean;
}

interface PendingCode {
  grant: FakeGrant;
  redirectUri: string;
  codeChallenge?: string;
}

/**
 * The OAuth state of a fake provider: authorization codes, access and
 * refresh tokens (what the provider would keep in its own database), and
 * counters a contract test asserts on. Every secret it hands out is
 * remembered, for the tests that prove none reached a log.
 */
export class FakeGrants {
  readonly issued = new Set<string>();
  readonly counters = { codeExchanges: 0, refreshes: 0, revocations: 0, staleRefreshTokens: 0 };
  private readonly codes = new Map<string, PendingCode>();
  private readonly access = new Map<string, { grant: FakeGrant; expiresAt: number }>();
  private readonly refresh = new Map<string, FakeGrant>();

  constructor(private readonly format: { access: () => string; refresh: () => string }) {}

  issueCode(grant: Omit<FakeGrant, 'id' | 'revoked'>, redirectUri: string, codeChallenge?: string) {
    const code = randomBytes(16).toString('hex');
    this.issued.add(code);
    this.codes.set(code, {
      grant: { ...grant, id: randomBytes(6).toString('hex'), revoked: false },
      redirectUri,
      codeChallenge,
    });
    return code;
  }

  /** The grant of a code, once (codes are single use), if the redirect and PKCE verifier match. */
  redeem(code: string, redirectUri: string | null, verifier: string | null): FakeGrant | undefined {
    const pending = this.codes.get(code);
    this.codes.delete(code);
    if (!pending || pending.redirectUri !== redirectUri) return undefined;
    if (pending.codeChallenge) {
      const challenge = verifier && createHash('sha256').update(verifier).digest('base64url');
      if (challenge !== pending.codeChallenge) return undefined;
    }
    this.counters.codeExchanges += 1;
    return pending.grant;
  }

  issueAccess(grant: FakeGrant, lifetimeSeconds: number): string {
    const token = this.format.access();
    this.issued.add(token);
    this.access.set(token, { grant, expiresAt: Date.now() + lifetimeSeconds * 1000 });
    return token;
  }

  issueRefresh(grant: FakeGrant): string {
    const token = this.format.refresh();
    this.issued.add(token);
    this.refresh.set(token, grant);
    return token;
  }

  /** The live grant of a refresh token; a rotated (dropped) one counts as stale reuse. */
  grantOfRefresh(token: string): FakeGrant | undefined {
    const grant = this.refresh.get(token);
    if (!grant && this.issued.has(token)) this.counters.staleRefreshTokens += 1;
    return grant && !grant.revoked ? grant : undefined;
  }

  /** Rotation: the old refresh token stops working. */
  dropRefresh(token: string): void {
    this.refresh.delete(token);
  }

  /** The grant an access token speaks for; `expired` when it has run out. */
  verify(token: string | undefined): { grant: FakeGrant } | 'expired' | undefined {
    const entry = token ? this.access.get(token) : undefined;
    if (!entry || entry.grant.revoked) return undefined;
    return entry.expiresAt <= Date.now() ? 'expired' : { grant: entry.grant };
  }

  /** Every access token stops working at once (the provider ended the sessions). */
  expireAccessTokens(): void {
    for (const entry of this.access.values()) entry.expiresAt = 0;
  }

  revoke(token: string): boolean {
    const grant = this.refresh.get(token) ?? this.access.get(token)?.grant;
    if (!grant) return false;
    grant.revoked = true;
    this.counters.revocations += 1;
    return true;
  }

  /** Ends every grant of the account a token belongs to (an app uninstalled). */
  revokeAccount(token: string): boolean {
    const grant = this.refresh.get(token) ?? this.access.get(token)?.grant;
    if (!grant) return false;
    for (const other of [
      ...this.refresh.values(),
      ...[...this.access.values()].map((e) => e.grant),
    ]) {
      if (other.account === grant.account) other.revoked = true;
    }
    this.counters.revocations += 1;
    return true;
  }

  /** Grants revoked so far, by account. */
  revokedAccounts(): string[] {
    const out = new Set<string>();
    for (const grant of this.refresh.values()) if (grant.revoked) out.add(grant.account);
    return [...out];
  }
}

/** `Basic base64(id:secret)` (RFC 6749 §2.3.1), decoded; undefined when absent or malformed. */
export function basicCredentials(
  header: string | undefined,
): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return {
    id: decodeURIComponent(decoded.slice(0, colon)),
    secret: decodeURIComponent(decoded.slice(colon + 1)),
  };
}
