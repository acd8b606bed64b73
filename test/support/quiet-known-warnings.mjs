// oidc-provider (the sandbox authorization server) warns at import that it
// prefers Node 22; this project runs on Node 20 by requirement and the
// sandbox works there. Only that one line is dropped; every other warning
// still reaches the output.
const warn = console.warn.bind(console);
console.warn = (...args) => {
  if (
    typeof args[0] === 'string' &&
    args[0].startsWith('oidc-provider WARNING: Unsupported runtime')
  )
    return;
  warn(...args);
};
