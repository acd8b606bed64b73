import type { SandboxAccount } from './authorization-server.js';

const escape = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const SCOPE_LABELS: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name',
  email: 'See your email address',
  offline_access: 'Stay connected when you are away',
  'contacts.read': 'Read your contacts',
  'companies.read': 'Read your companies',
};

/** The sandbox CRM's sign-in and consent screen, as a real provider shows it (demo only). */
export function consentPage(
  uid: string,
  params: Record<string, unknown>,
  accounts: SandboxAccount[],
): string {
  const scopes = (typeof params.scope === 'string' ? params.scope : '').split(' ').filter(Boolean);
  const scopeRows = scopes
    .map(
      (scope) =>
        `<label class="scope"><input type="checkbox" name="scope" value="${escape(scope)}" checked><span>${escape(SCOPE_LABELS[scope] ?? scope)}<code>${escape(scope)}</code></span></label>`,
    )
    .join('');
  const accountOptions = accounts
    .map((a) => `<option value="${escape(a.id)}">${escape(a.name)} — ${escape(a.email)}</option>`)
    .join('');
  return `<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox CRM — allow access?</title>
<style>
:root{color-scheme:light;--ink:#1d2433;--muted:#5b6475;--line:#e3e6ee;--brand:#e8590c}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);background:#f6f7fb}
main{max-width:26rem;margin:3rem auto;background:#fff;border:1px solid var(--line);border-radius:14px;padding:1.75rem;box-shadow:0 6px 24px rgba(29,36,51,.06)}
.logo{display:flex;align-items:center;gap:.5rem;font-weight:700;color:var(--brand)}.logo b{display:inline-grid;place-items:center;width:1.8rem;height:1.8rem;border-radius:8px;background:var(--brand);color:#fff}
h1{font-size:1.25rem;margin:1rem 0 .25rem}p{margin:.25rem 0 1rem;color:var(--muted)}
select{width:100%;padding:.5rem;border:1px solid var(--line);border-radius:8px;font:inherit;margin:.25rem 0 1rem}
.scope{display:flex;gap:.6rem;align-items:flex-start;padding:.45rem 0;border-top:1px solid var(--line)}.scope span{display:flex;flex-direction:column}
code{font-size:.78rem;color:var(--muted)}.actions{display:flex;gap:.75rem;margin-top:1.25rem}
button{flex:1;padding:.65rem;border-radius:8px;font:inherit;font-weight:600;cursor:pointer;border:1px solid var(--line);background:#fff;color:var(--ink)}
button.allow{background:var(--brand);border-color:var(--brand);color:#fff}
</style>
<main>
<div class="logo"><b>S</b> Sandbox CRM</div>
<h1><span>${escape(String(params.client_id))}</span> wants to access your CRM</h1>
<p>This is the demo's stand-in for HubSpot, Salesforce or Zoho: you grant access here, and you never give your password to the app.</p>
<form method="post" action="/interaction/${escape(uid)}">
<label>Signed in as<select name="account">${accountOptions}</select></label>
<div>${scopeRows}</div>
<div class="actions"><button type="submit" name="decision" value="deny">Deny</button><button class="allow" type="submit" name="decision" value="allow">Allow</button></div>
</form>
</main></html>`;
}
