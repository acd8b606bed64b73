import type { ConnectOutcome } from './connect-outcome.js';

/** The app's return URL with the outcome appended: `connection_id=…` or `error=…`. */
export function resultRedirectUrl(returnTo: string, outcome: ConnectOutcome): string {
  const url = new URL(returnTo);
  url.hash = '';
  url.searchParams.delete('connection_id');
  url.searchParams.delete('error');
  if (outcome.connectionId) url.searchParams.set('connection_id', outcome.connectionId);
  if (outcome.error) url.searchParams.set('error', outcome.error);
  return url.href;
}
