/**
 * Minimal HTML pages for the browser side of the connect flow. Every dynamic
 * value is escaped; scripts run only with the per-response CSP nonce.
 */

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe to embed inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
}

function page(title: string, body: string, script = '', nonce = ''): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .25rem}</style>',
    `</head><body>${body}`,
    script ? `<script nonce="${escapeHtml(nonce)}">${script}</script>` : '',
    '</body></html>',
  ].join('');
}

export function renderErrorPage(code: string, message: string, requestId: string): string {
  return page(
    'Something went wrong',
    `<h1>Something went wrong</h1><p>${escapeHtml(message)}</p><p>Code <code>${escapeHtml(code)}</code>, request <code>${escapeHtml(requestId)}</code>.</p>`,
  );
}

export interface ConnectResultMessage {
  type: 'token-broker:connect-result';
  connectionId?: string;
  /** requireFinalize: what the app's backend passes to finalize. */
  finalizeToken?: string;
  connectSessionId?: string;
  error?: string;
}

/**
 * The end of a connect flow without a return URL: tells the opener (when the
 * flow ran in a popup) by postMessage, restricted to the allowed origins.
 */
export function renderConnectResultPage(
  result: ConnectResultMessage,
  allowedOrigins: readonly string[],
  nonce: string,
): string {
  const ok = !result.error;
  const body = ok
    ? '<h1>Connected</h1><p>You can close this window.</p>'
    : `<h1>Connection failed</h1><p>Code <code>${escapeHtml(result.error!)}</code>. You can close this window and try again.</p>`;
  const script = `(function(){var r=${scriptJson(result)};var o=${scriptJson(allowedOrigins)};if(window.opener){o.forEach(function(x){try{window.opener.postMessage(r,x)}catch(e){}});window.close();}})();`;
  return page(ok ? 'Connected' : 'Connection failed', body, script, nonce);
}
