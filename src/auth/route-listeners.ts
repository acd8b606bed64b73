import type { Listener } from '../common/http/listeners.js';
import type { AccessRule } from './auth.decorators.js';

/**
 * Which listeners serve a route when INTERNAL_PORT splits them (with one
 * listener, every route answers there). Service routes are internal: a
 * service key never has to cross the listener that faces browsers and
 * providers. The connect session's status is on both, because the browser
 * polls it with the session's own token (on the public listener that token
 * is the only credential it takes). Public routes answer on both unless
 * pinned with `@ServedOn`; a route on the wrong listener is a 404.
 */
export function listenersOf(rule: AccessRule, pinned: Listener | undefined): readonly Listener[] {
  if (pinned) return [pinned];
  if (rule.type === 'public') return ['public', 'internal'];
  return rule.orConnectSessionToken ? ['public', 'internal'] : ['internal'];
}
