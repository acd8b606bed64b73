import type { ConnectOutcome } from './connect-outcome.js';

/**
 * The app's return URL with the outcome appended: `connection_id=…`,
 * `finalize=…&connect_session_id=…` (requireFinalize), or `error=…`.
 */
export function resultRedirectUrl(returnTo: string, outcome: ConnectOutcome): string {
  const url = new URL(returnTo);
  url.hash = '';
  url.searchParams.delete('connection_id');
  url.searchParams.delete('error');
  url.searchParams.delete('finalize');
  url.searchParams.delete('connect_session_id');
  if (outcome.connectionId) url.searchParams.set('connection_id', outcome.connectionId);
  if (outcome.finalize) {
    url.searchParams.set('finalize', outcome.finalize.token);
    url.searchParams.set('connect_session_id', outcome.finalize.sessionId);
  }
  if (outcome.error) url.searchParams.set('error', outcome.error);
  return url.href;
}
