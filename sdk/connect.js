// Token Broker: the "Connect CRM" button's side of the flow, for your frontend.
// A dependency-free ES module, served by the broker at /sdk/connect.js (MIT).
//
//   import { connect } from 'https://broker.example.com/sdk/connect.js';
//
//   button.onclick = async () => {
//     // Your backend calls POST /v1/connect-sessions with its service key and
//     // hands the browser { id, token, connectUrl, expiresAt }, never the key.
//     const popup = openConnectWindow(); // optional: open before any await (popup blockers)
//     const session = await fetch('/api/connect-session', { method: 'POST' }).then((r) => r.json());
//     const result = await connect(session, { mode: 'popup', popup });
//     // The default (requireFinalize): hand { connectSessionId, finalizeToken } to your
//     // backend, which calls POST /v1/connect-sessions/:id/finalize for its logged-in
//     // user; only then is there a connection.
//     if (result.status === 'awaiting_finalize') await postToYourBackend('/api/finalize', result);
//   };
//
// Results: { status: 'awaiting_finalize', connectSessionId, finalizeToken? } (requireFinalize, the default)
//          { status: 'completed', connectionId } (requireFinalize: false)
//          { status: 'failed', error }   a fixed code such as access_denied
//          { status: 'expired' } | { status: 'cancelled' }
//
// In a popup the result arrives by postMessage from the broker's result page.
// Providers that send Cross-Origin-Opener-Policy cut the popup off from this
// page, so the session's status is also polled (GET /v1/connect-sessions/:id
// with the session's own token), and whichever answers first wins.

const RESULT_MESSAGE = 'token-broker:connect-result';
const FINAL = new Set(['completed', 'awaiting_finalize', 'failed', 'expired']);
// A flow started just before the session expired may take the flow's lifetime to come back.
const FLOW_GRACE_MS = 10 * 60 * 1000;

/** Opens an empty popup now, inside the click handler, for connect() to navigate later. */
export function openConnectWindow(name = 'token-broker-connect') {
  const width = 520;
  const height = 720;
  const left = Math.max(0, (window.screenX ?? 0) + (window.outerWidth - width) / 2);
  const top = Math.max(0, (window.screenY ?? 0) + (window.outerHeight - height) / 2);
  return window.open(
    'about:blank',
    name,
    `popup=yes,width=${width},height=${height},left=${left},top=${top}`,
  );
}

/**
 * Runs the connect flow of one session. mode 'redirect' leaves this page
 * (read the result on your return page with readRedirectResult); mode
 * 'popup' (the default) resolves with the result. Options: popup (a window
 * from openConnectWindow), signal (an AbortSignal), pollIntervalMs (1500),
 * fallbackToRedirect (when the popup is blocked and the session has a returnTo).
 */
export function connect(session, options = {}) {
  if (!session || typeof session.connectUrl !== 'string' || typeof session.id !== 'string') {
    throw new TypeError(
      'connect(session): pass the { id, token, connectUrl } of POST /v1/connect-sessions',
    );
  }
  if (options.mode === 'redirect') {
    window.location.assign(session.connectUrl);
    return new Promise(() => {});
  }
  const popup = options.popup && !options.popup.closed ? options.popup : openConnectWindow();
  if (!popup) {
    // Only when the session was made with a returnTo: else the flow would end on the result page.
    if (options.fallbackToRedirect) {
      window.location.assign(session.connectUrl);
      return new Promise(() => {});
    }
    return Promise.resolve({ status: 'failed', error: 'popup_blocked' });
  }
  popup.location.href = session.connectUrl;
  return waitForResult(session, popup, options);
}

function waitForResult(session, popup, options) {
  const brokerOrigin = new URL(session.connectUrl).origin;
  const interval = options.pollIntervalMs ?? 1500;
  const deadline =
    Date.parse(session.expiresAt ?? '') + FLOW_GRACE_MS || Date.now() + 40 * 60 * 1000;
  return new Promise((resolve) => {
    let timer;
    const finish = (result) => {
      window.removeEventListener('message', onMessage);
      options.signal?.removeEventListener('abort', onAbort);
      clearTimeout(timer);
      try {
        popup.close();
      } catch {
        // A severed popup cannot be closed from here; the result page closes itself.
      }
      resolve(result);
    };
    const onMessage = (event) => {
      if (event.origin !== brokerOrigin || event.data?.type !== RESULT_MESSAGE) return;
      finish(fromMessage(event.data, session.id));
    };
    const onAbort = () => finish({ status: 'cancelled' });
    const poll = async () => {
      if (Date.now() > deadline) return finish({ status: 'expired' });
      const status = await fetchStatus(brokerOrigin, session).catch(() => undefined);
      if (status && FINAL.has(status.status)) return finish(fromStatus(status));
      timer = setTimeout(poll, interval);
    };
    window.addEventListener('message', onMessage);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) return onAbort();
    timer = setTimeout(poll, interval);
  });
}

async function fetchStatus(brokerOrigin, session) {
  if (!session.token) return undefined;
  const response = await fetch(
    `${brokerOrigin}/v1/connect-sessions/${encodeURIComponent(session.id)}`,
    {
      headers: { authorization: `Bearer ${session.token}` },
      credentials: 'omit',
      cache: 'no-store',
    },
  );
  return response.ok ? response.json() : undefined;
}

function fromMessage(data, sessionId) {
  if (data.connectionId) return { status: 'completed', connectionId: data.connectionId };
  if (data.finalizeToken) {
    return {
      status: 'awaiting_finalize',
      connectSessionId: data.connectSessionId ?? sessionId,
      finalizeToken: data.finalizeToken,
    };
  }
  return { status: 'failed', error: data.error ?? 'unknown_error' };
}

function fromStatus(status) {
  switch (status.status) {
    case 'completed':
      return { status: 'completed', connectionId: status.connectionId };
    case 'awaiting_finalize':
      // The finalize token only travels in the result page's message or redirect.
      return { status: 'awaiting_finalize', connectSessionId: status.id };
    case 'failed':
      return { status: 'failed', error: status.error };
    default:
      return { status: 'expired' };
  }
}

/**
 * The result on your return page after mode 'redirect' (returnTo gets
 * connection_id, error, or finalize and connect_session_id), or null.
 * Pass { clear: true } to drop them from the address bar.
 */
export function readRedirectResult(href = window.location.href, { clear = false } = {}) {
  const url = new URL(href);
  const params = url.searchParams;
  let result = null;
  if (params.get('connection_id')) {
    result = { status: 'completed', connectionId: params.get('connection_id') };
  } else if (params.get('finalize')) {
    result = {
      status: 'awaiting_finalize',
      connectSessionId: params.get('connect_session_id'),
      finalizeToken: params.get('finalize'),
    };
  } else if (params.get('error')) {
    result = { status: 'failed', error: params.get('error') };
  }
  if (clear && result) {
    for (const name of ['connection_id', 'finalize', 'connect_session_id', 'error'])
      params.delete(name);
    window.history.replaceState(window.history.state, '', url.href);
  }
  return result;
}
