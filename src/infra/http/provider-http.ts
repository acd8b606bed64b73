import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { type AddressKind, addressProblem } from '../../common/address-policy.js';
import { ProviderError } from '../../common/errors/app-error.js';
import { AppConfig } from '../../config/app-config.js';
import { createGuardedFetch, type FetchLike, type GuardedFetchOptions } from './guarded-fetch.js';

/** Resolves a host name to every address it has (dns.lookup with `all: true`). */
export type ResolveAll = (
  hostname: string,
  options: dns.LookupOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

const systemResolve: ResolveAll = (hostname, options, callback) =>
  dns.lookup(hostname, { ...options, all: true }, callback);

/** A provider call was about to connect to an address that is not a provider's. */
export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError';

  constructor(
    readonly host: string,
    readonly address: string,
    readonly kind: Exclude<AddressKind, 'public'>,
  ) {
    super(`${host} resolves to ${address}, a ${kind.replace('_', '-')} address`);
  }
}

export interface ProviderFetchOptions extends GuardedFetchOptions {
  /** ALLOW_INSECURE_LOOPBACK_PROVIDERS: loopback addresses pass (tests, the demo sandbox). */
  allowLoopback: boolean;
  /** Tests map their own names to addresses; the system resolver otherwise. */
  resolve?: ResolveAll;
}

/**
 * The address policy sits in the connector, where the socket is opened, so
 * the address that was checked is the address connected to: a DNS answer
 * that changes between a check and the connect (rebinding) has no gap to
 * use. Every address a name resolves to must pass (a name with one public
 * and one private address is refused, not raced). Literal IPs never reach
 * the resolver, so they are checked before the connector runs.
 */
export function createProviderDispatcher(options: ProviderFetchOptions): Agent {
  const resolve = options.resolve ?? systemResolve;
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    resolve(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      for (const { address } of addresses) {
        const kind = addressProblem(address, options.allowLoopback);
        if (kind) return callback(new AddressRefusedError(hostname, address, kind), '');
      }
      if (lookupOptions.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first)
        return callback(
          Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }),
          '',
        );
      callback(null, first.address, first.family);
    });
  };
  const connector = buildConnector({ timeout: options.timeoutMs, lookup });
  return new Agent({
    connect: (connectOptions, callback) => {
      // undici hands IPv6 literals over without their brackets.
      const host = connectOptions.hostname;
      if (isIP(host)) {
        const kind = addressProblem(host, options.allowLoopback);
        if (kind) return callback(new AddressRefusedError(host, host, kind), null);
      }
      return connector(connectOptions, callback);
    },
  });
}

/**
 * The fetch of every provider call (token exchange, refresh, revocation,
 * discovery, JWKS, account lookup, sync API): the guarded fetch (timeout,
 * size cap, no redirects) over the address-checking dispatcher. A refused
 * address is a `provider_address_refused` error naming the host, never a
 * network failure worth retrying.
 */
export function createProviderFetch(options: ProviderFetchOptions): {
  fetch: FetchLike;
  dispatcher: Agent;
} {
  const dispatcher = createProviderDispatcher(options);
  const base: FetchLike = async (url, init) => {
    try {
      // undici's own fetch, so the dispatcher and the fetch are one version
      // (Node's global fetch bundles another copy of undici).
      // (Types only: the DOM and undici's RequestInit name the same shapes twice.)
      const undiciInit = { ...init, dispatcher } as Parameters<typeof undiciFetch>[1];
      return await undiciFetch(url, undiciInit);
    } catch (error) {
      const refused = refusedAddressIn(error);
      if (!refused) throw error;
      throw new ProviderError(
        'provider_address_refused',
        `The provider host ${new URL(url).hostname} resolves to a ${refused.kind.replace('_', '-')} address; provider calls go to public addresses only`,
        { transient: false },
        { cause: refused },
      );
    }
  };
  return { fetch: createGuardedFetch(options, base), dispatcher };
}

function refusedAddressIn(error: unknown): AddressRefusedError | undefined {
  for (let cause = error, depth = 0; cause && depth < 5; depth++) {
    if (cause instanceof AddressRefusedError) return cause;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A provider's answer whose body is still unread (see `ProviderHttp.exchange`). */
export interface StreamedAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

/** The one provider fetch of the process, with its connection pool (closed at shutdown). */
@Injectable()
export class ProviderHttp implements OnApplicationShutdown {
  readonly fetch: FetchLike;
  private readonly dispatcher: Agent;
  private readonly timeoutMs: number;

  constructor(config: AppConfig) {
    ({ fetch: this.fetch, dispatcher: this.dispatcher } = createProviderFetch({
      ...config.providerHttp,
      allowLoopback: config.allowInsecureLoopbackProviders,
    }));
    this.timeoutMs = config.providerHttp.timeoutMs;
  }

  /**
   * A streamed exchange (the API proxy) over the same dispatcher, so the
   * address policy holds: the request body is sent as it arrives and the
   * answer comes back with its body unread, for the caller to pipe or
   * discard; nothing is buffered or capped here. undici's request API
   * follows no redirect. The provider timeout bounds the wait for the
   * answer's headers and each pause in either body.
   */
  async exchange(
    url: URL,
    init: {
      method: string;
      headers: Record<string, string>;
      body?: Readable | Buffer;
      signal?: AbortSignal;
    },
  ): Promise<StreamedAnswer> {
    try {
      const answer = await this.dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: init.method,
        headers: init.headers,
        body: init.body ?? null,
        signal: init.signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      return { status: answer.statusCode, headers: answer.headers, body: answer.body };
    } catch (error) {
      const refused = refusedAddressIn(error);
      if (!refused) throw error;
      throw new ProviderError(
        'provider_address_refused',
        `The provider host ${url.hostname} resolves to a ${refused.kind.replace('_', '-')} address; provider calls go to public addresses only`,
        { transient: false },
        { cause: refused },
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.dispatcher.close();
  }
}
