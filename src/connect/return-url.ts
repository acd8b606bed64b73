/**
 * Is `candidate` an allowed return URL? Its origin must equal an allowed
 * entry's origin exactly, and its path must sit under that entry's path at a
 * segment boundary (`/app` allows `/app` and `/app/x`, not `/application`).
 */
export function isAllowedReturnUrl(candidate: string, allowed: readonly URL[]): boolean {
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (url.username || url.password) return false;
  return allowed.some((entry) => {
    if (entry.origin !== url.origin) return false;
    const base = entry.pathname;
    if (base === '/' || url.pathname === base) return true;
    return url.pathname.startsWith(base.endsWith('/') ? base : `${base}/`);
  });
}
