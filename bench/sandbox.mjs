// `npm run bench` refresh storm: the sandbox authorization server (the
// oidc-provider one the tests and the demo use) in its own process, run with
// `--import tsx`. Over IPC it answers { type: 'grant' } with a real grant
// (authorization code + PKCE through the headless consent, then the code
// exchange) and { type: 'counters' } with its token-endpoint counters.
import { createHash, randomBytes } from 'node:crypto';
import { startSandbox, SANDBOX_CLIENT_ID, SANDBOX_SCOPES } from '../sandbox/sandbox.ts';
import { TestBrowser } from '../test/support/browser.ts';

const redirectOrigin = 'http://127.0.0.1:9';
const redirectUri = `${redirectOrigin}/bench/callback`;
const clientSecret = process.env.SANDBOX_CLIENT_SECRET ?? 'bench-sandbox-secret';
const sandbox = await startSandbox({ redirectUris: [redirectUri], clientSecret });
const { issuer } = sandbox.auth;

async function grant() {
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL('/auth', issuer);
  for (const [name, value] of Object.entries({
    client_id: SANDBOX_CLIENT_ID,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: SANDBOX_SCOPES.join(' '),
    prompt: 'consent',
    state: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }))
    authorize.searchParams.set(name, value);
  const { url } = await new TestBrowser().navigate(
    authorize.href,
    (u) => u.origin === redirectOrigin,
  );
  const code = new URL(url).searchParams.get('code');
  if (!code) throw new Error(`no code from the sandbox: ${url}`);
  const response = await fetch(new URL('/token', issuer), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${SANDBOX_CLIENT_ID}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }),
  });
  if (response.status !== 200) throw new Error(`code exchange: ${response.status}`);
  return response.json();
}

process.on('message', (message) => {
  const answer = async () => {
    if (message.type === 'grant') return { tokens: await grant() };
    if (message.type === 'counters') {
      const byGrantType = {};
      for (const r of sandbox.auth.tokenRequests)
        byGrantType[r.grantType] = (byGrantType[r.grantType] ?? 0) + 1;
      return { counters: { ...sandbox.auth.counters }, tokenRequests: byGrantType };
    }
    throw new Error(`unknown message ${message.type}`);
  };
  answer().then(
    (body) => process.send({ id: message.id, ...body }),
    (error) => process.send({ id: message.id, error: String(error?.stack ?? error) }),
  );
});
process.on('disconnect', () => {
  void sandbox.stop().finally(() => process.exit(0));
});
process.send({ type: 'ready', issuer, clientId: SANDBOX_CLIENT_ID, clientSecret });
