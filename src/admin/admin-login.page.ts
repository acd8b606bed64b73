const escape = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const MESSAGES: Record<string, string> = {
  invalid_key: 'That is not an active service key.',
  not_manage: 'That key does not have the "manage" action.',
  signed_out: 'Signed out.',
};

/** The dashboard's sign-in form: no script, posts to itself. */
export function adminLoginPage(next: string, notice?: string): string {
  const message = notice ? MESSAGES[notice] : undefined;
  return `<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Token Broker — queue dashboard</title>
<style>
body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#1d2433;background:#f6f7fb}
main{max-width:26rem;margin:4rem auto;background:#fff;border:1px solid #e3e6ee;border-radius:12px;padding:1.5rem}
h1{font-size:1.2rem;margin:0 0 .5rem}p{color:#5b6475}
input{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #e3e6ee;border-radius:8px;font:14px ui-monospace,monospace}
button{margin-top:1rem;padding:.55rem 1rem;border:0;border-radius:8px;background:#3b5bdb;color:#fff;font:inherit;font-weight:600}
.notice{color:#c92a2a}
</style>
<main>
<h1>Queue dashboard</h1>
<p>Sign in with a service key that has the <code>manage</code> action
(<code>npm run cli -- keys create --name ops --action manage</code>). The key is checked, not stored:
the session lasts 8 hours and ends when the key is revoked.</p>
${message ? `<p class="notice">${escape(message)}</p>` : ''}
<form method="post" action="/admin/login">
<label>Service key <input name="serviceKey" type="password" autocomplete="off" required autofocus></label>
<input type="hidden" name="next" value="${escape(next)}">
<button type="submit">Open the dashboard</button>
</form>
</main></html>`;
}
