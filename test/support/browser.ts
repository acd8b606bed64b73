/**
 * A minimal browser for driving OAuth redirects in tests: follows redirects
 * by hand (so each hop can be inspected) and keeps cookies per host and path,
 * ignoring ports as browsers do.
 */
interface StoredCookie {
  value: string;
  path: string;
  expires?: number;
}

export interface Hop {
  url: string;
  status: number;
  location?: string;
  /** The answer's x-request-id (the broker's hops have one; audit rows name it). */
  requestId?: string;
}

export class TestBrowser {
  private readonly jar = new Map<string, Map<string, StoredCookie>>();

  /** Cookies visible to `url`, by name. */
  cookiesFor(url: string): Record<string, string> {
    const target = new URL(url);
    const host = this.jar.get(target.hostname) ?? new Map<string, StoredCookie>();
    const now = Date.now();
    const out: Record<string, string> = {};
    for (const [name, cookie] of host) {
      if (cookie.expires !== undefined && cookie.expires <= now) continue;
      if (target.pathname.startsWith(cookie.path)) out[name] = cookie.value;
    }
    return out;
  }

  clearCookies(): void {
    this.jar.clear();
  }

  async get(url: string): Promise<Response> {
    const cookie = Object.entries(this.cookiesFor(url))
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) },
    });
    this.store(url, response.headers.getSetCookie());
    return response;
  }

  /** Follows redirects until a non-redirect answer or until `stopAt` matches a Location. */
  async navigate(
    start: string,
    stopAt?: (url: URL) => boolean,
    maxHops = 20,
  ): Promise<{ hops: Hop[]; final: Response; url: string }> {
    const hops: Hop[] = [];
    let url = start;
    for (let i = 0; i < maxHops; i += 1) {
      if (stopAt?.(new URL(url)) && i > 0) {
        return { hops, final: new Response(null, { status: 204 }), url };
      }
      const response = await this.get(url);
      const location = response.headers.get('location') ?? undefined;
      const requestId = response.headers.get('x-request-id') ?? undefined;
      hops.push({ url, status: response.status, location, requestId });
      if (response.status < 300 || response.status >= 400 || !location) {
        return { hops, final: response, url };
      }
      await response.arrayBuffer();
      url = new URL(location, url).href;
    }
    throw new Error(`too many redirects from ${start}`);
  }

  private store(url: string, setCookies: string[]): void {
    const { hostname } = new URL(url);
    const host = this.jar.get(hostname) ?? new Map<string, StoredCookie>();
    this.jar.set(hostname, host);
    for (const header of setCookies) {
      const [pair, ...attributes] = header.split(';').map((part) => part.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const cookie: StoredCookie = { value, path: '/' };
      for (const attribute of attributes) {
        const [key, val] = attribute.split('=');
        const lower = key!.toLowerCase();
        if (lower === 'path' && val) cookie.path = val;
        if (lower === 'max-age' && val !== undefined)
          cookie.expires = Date.now() + Number(val) * 1000;
        if (lower === 'expires' && val && cookie.expires === undefined)
          cookie.expires = Date.parse(val);
      }
      if (cookie.expires !== undefined && cookie.expires <= Date.now()) host.delete(name);
      else host.set(name, cookie);
    }
  }
}
