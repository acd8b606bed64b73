/**
 * The fetch every provider call goes through: a hard timeout, a cap on the
 * response size, and no automatic redirects (a redirect to another host
 * could carry our client credentials or tokens along).
 */
export interface GuardedFetchOptions {
  timeoutMs: number;
  maxResponseBytes: number;
}

export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export function createGuardedFetch(
  options: GuardedFetchOptions,
  base: FetchLike = fetch,
): FetchLike {
  return async (url, init) => {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const response = await base(url, { ...init, redirect: 'manual', signal });
    const body = await readLimited(response, options.maxResponseBytes);
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

async function readLimited(response: Response, limit: number): Promise<Uint8Array | null> {
  if (!response.body || response.status === 204 || response.status === 304) return null;
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body.cancel();
    throw new ResponseTooLargeError(`response exceeds ${limit} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) throw new ResponseTooLargeError(`response exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
