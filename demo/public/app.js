// The demo page: plain JavaScript, no build step. It talks only to its own
// backend (/api/…), which holds the service key and calls the broker, and it
// imports the broker's frontend snippet for the "Connect CRM" button.

const $ = (id) => document.getElementById(id);
const state = { connection: null, latestRunId: null, latestRunStatus: null, contactsFor: null };

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

function notice(message, isError = false) {
  const element = $('notice');
  element.textContent = message;
  element.classList.toggle('error', isError);
  element.hidden = !message;
}

function errorText(answer) {
  const error = answer.body?.error;
  return error ? `${error.code}: ${error.message}` : `HTTP ${answer.status}`;
}

const config = await (await fetch('/api/config')).json();
const { connect, openConnectWindow, readRedirectResult } = await import(
  `${config.brokerPublicUrl}/sdk/connect.js`
);

/** What the connect flow ended with, from the popup's message or the redirect's query. */
async function handleResult(result) {
  if (!result) return;
  if (result.status === 'awaiting_finalize') {
    if (!result.finalizeToken) {
      return notice('The grant waits for finalize, but its token did not reach this page.', true);
    }
    const done = await api('POST', `/api/connect-sessions/${result.connectSessionId}/finalize`, {
      finalizeToken: result.finalizeToken,
    });
    if (done.status !== 200) return notice(`Finalize failed: ${errorText(done)}`, true);
    notice('Connected. The broker now holds the tokens; press "Sync now" to pull the contacts.');
  } else if (result.status === 'completed') {
    notice('Connected. The broker now holds the tokens; press "Sync now" to pull the contacts.');
  } else if (result.status === 'failed') {
    notice(`The connection was not made: ${result.error}`, true);
  } else {
    notice(`The connect session ended: ${result.status}`, true);
  }
  await refresh();
}

async function startConnect(mode) {
  notice('');
  // The popup opens inside the click, before any await, so that no blocker stops it.
  const popup = mode === 'popup' ? openConnectWindow() : undefined;
  const session = await api('POST', '/api/connect-sessions', {
    mode,
    returnTo: `${location.origin}/`,
  });
  if (session.status !== 201) {
    popup?.close();
    return notice(`Could not start: ${errorText(session)}`, true);
  }
  if (mode === 'redirect') return connect(session.body, { mode: 'redirect' });
  notice('Waiting for the CRM… (sign in and press "Allow" in the popup)');
  await handleResult(await connect(session.body, { mode: 'popup', popup }));
}

function formatDuration(ms) {
  if (ms <= 0) return 'now';
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const mm = String(m).padStart(h ? 2 : 1, '0');
  return `${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '—');

function renderCountdowns() {
  const c = state.connection;
  if (!c) return;
  const now = Date.now();
  if (c.status === 'active' && c.expiresAt) {
    const left = Date.parse(c.expiresAt) - now;
    $('expiry').innerHTML =
      `expires in <span class="countdown">${formatDuration(left)}</span> <span class="muted">(${time(c.expiresAt)})</span>`;
  } else {
    $('expiry').textContent = c.status === 'active' ? '—' : 'not usable until the user reconnects';
  }
  if (c.nextRefreshAt) {
    const left = Date.parse(c.nextRefreshAt) - now;
    $('next-refresh').innerHTML =
      left > 0
        ? `in <span class="countdown">${formatDuration(left)}</span> <span class="muted">(at the first sweep after ${time(c.nextRefreshAt)})</span>`
        : '<span class="countdown">due: the next sweep (every minute) refreshes it</span>';
  } else {
    $('next-refresh').textContent = '—';
  }
}

function renderConnection(c) {
  state.connection = c;
  $('disconnected').hidden = !!c;
  $('connected').hidden = !c;
  if (!c) return;
  $('status').textContent = c.status;
  $('status').className = `badge ${c.status}`;
  const who = c.account.name
    ? `${c.account.name} · ${c.account.email ?? c.account.id}`
    : c.account.id;
  $('account').textContent = who;
  $('scopes').innerHTML = '';
  for (const scope of c.scopes) {
    const chip = document.createElement('span');
    chip.className = 'chip';
    chip.textContent = scope;
    $('scopes').append(chip);
  }
  $('last-refreshed').textContent = c.lastRefreshedAt
    ? new Date(c.lastRefreshedAt).toLocaleString()
    : '—';
  $('connection-id').textContent = c.id;
  const active = c.status === 'active';
  $('reauth-hint').hidden = c.status !== 'needs_reauth';
  $('reconnect').hidden = active;
  $('sync-now').hidden = !active;
  $('refresh-now').hidden = !active;
  renderCountdowns();
}

function renderRuns(runs) {
  $('sync-empty').hidden = runs.length > 0;
  $('sync-latest').hidden = runs.length === 0;
  const latest = runs[0];
  if (!latest) return;
  $('sync-status').textContent = latest.status;
  $('sync-status').className = `badge ${latest.status}`;
  const counts = `${latest.recordsFetched} fetched · ${latest.recordsUpserted} upserted · ${latest.recordsDeleted} deleted · ${latest.pages} pages`;
  $('sync-summary').textContent = latest.error ? `${counts} · ${latest.error.code}` : counts;
  const finished = ['succeeded', 'failed', 'cancelled'].includes(latest.status);
  $('sync-bar').style.width = finished ? '100%' : `${Math.min(95, 10 + latest.pages * 20)}%`;
  $('runs').innerHTML = '';
  for (const run of runs) {
    const row = document.createElement('tr');
    for (const value of [
      run.id.slice(0, 8),
      run.full ? 'full' : 'incremental',
      run.status,
      run.recordsFetched,
      run.recordsUpserted,
      run.recordsDeleted,
      time(run.finishedAt),
    ]) {
      const cell = document.createElement('td');
      cell.textContent = String(value);
      row.append(cell);
    }
    $('runs').append(row);
  }
}

function renderContacts(records) {
  const live = records.filter((r) => !r.deletedAt);
  $('contacts-count').textContent = live.length ? `(${live.length})` : '';
  const body = $('contacts').querySelector('tbody');
  body.innerHTML = '';
  for (const record of live) {
    const f = record.fields ?? record.data;
    const row = document.createElement('tr');
    for (const value of [f.name, f.email, f.company, f.title, time(record.modifiedAt)]) {
      const cell = document.createElement('td');
      cell.textContent = value ?? '';
      row.append(cell);
    }
    body.append(row);
  }
}

function renderCalls(calls) {
  const list = $('calls');
  list.innerHTML = '';
  for (const call of calls) {
    const item = document.createElement('li');
    for (const [value, cls] of [
      [time(call.at), ''],
      [call.method, ''],
      [call.path, ''],
      [call.status, `s${String(call.status)[0]}`],
      [`${call.ms} ms`, 'muted'],
    ]) {
      const span = document.createElement('span');
      span.textContent = String(value);
      if (cls) span.className = cls;
      item.append(span);
    }
    list.append(item);
  }
}

async function refresh() {
  const { body } = await api('GET', '/api/connection');
  const c = body?.connection ?? null;
  renderConnection(c);
  if (c) {
    const runs = (await api('GET', `/api/connection/${c.id}/syncs`)).body?.data ?? [];
    renderRuns(runs);
    const latest = runs[0];
    const changed =
      latest && (latest.id !== state.latestRunId || latest.status !== state.latestRunStatus);
    if (changed || state.contactsFor !== c.id) {
      state.latestRunId = latest?.id ?? null;
      state.latestRunStatus = latest?.status ?? null;
      state.contactsFor = c.id;
      renderContacts((await api('GET', `/api/connection/${c.id}/contacts`)).body?.data ?? []);
    }
  } else {
    renderRuns([]);
    renderContacts([]);
    state.contactsFor = null;
  }
  renderCalls((await api('GET', '/api/calls')).body?.calls ?? []);
}

function busy(button, action) {
  return async () => {
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      notice(String(error), true);
    } finally {
      button.disabled = false;
    }
  };
}

$('connect-popup').addEventListener(
  'click',
  busy($('connect-popup'), () => startConnect('popup')),
);
$('connect-redirect').addEventListener(
  'click',
  busy($('connect-redirect'), () => startConnect('redirect')),
);
$('reconnect').addEventListener(
  'click',
  busy($('reconnect'), () => startConnect('popup')),
);
$('sync-now').addEventListener(
  'click',
  busy($('sync-now'), async () => {
    const answer = await api('POST', `/api/connection/${state.connection.id}/syncs`);
    notice(
      answer.status === 202
        ? 'Sync queued: a BullMQ job pages through the CRM.'
        : `Sync refused: ${errorText(answer)}`,
      answer.status !== 202,
    );
    await refresh();
  }),
);
$('refresh-now').addEventListener(
  'click',
  busy($('refresh-now'), async () => {
    const answer = await api('POST', `/api/connection/${state.connection.id}/refresh`);
    notice(
      answer.status === 200
        ? 'Refreshed: a new access token, and the old one is no longer handed out.'
        : `Refresh refused: ${errorText(answer)}`,
      answer.status !== 200,
    );
    await refresh();
  }),
);
$('disconnect').addEventListener(
  'click',
  busy($('disconnect'), async () => {
    const answer = await api('DELETE', `/api/connection/${state.connection.id}`);
    notice(
      answer.status === 204
        ? 'Disconnected: the grant is revoked at the CRM and the credentials are deleted.'
        : `Disconnect failed: ${errorText(answer)}`,
      answer.status !== 204,
    );
    await refresh();
  }),
);
$('revoke-at-crm').addEventListener(
  'click',
  busy($('revoke-at-crm'), async () => {
    const answer = await api('POST', `/api/connection/${state.connection.id}/revoke-at-crm`);
    notice(
      answer.status === 409
        ? `The CRM refused the refresh token: the connection needs the user again (${answer.body.error.code}).`
        : `The broker answered ${answer.status}.`,
      answer.status !== 409,
    );
    await refresh();
  }),
);

await handleResult(readRedirectResult(location.href, { clear: true }));
await refresh();
setInterval(renderCountdowns, 1000);
setInterval(() => refresh().catch(() => {}), 2000);
